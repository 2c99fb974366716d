# The driver core's compile flags, the one list both builds take: platform/rump/Makefile
# includes this file (rumpmake), cmake/BakefsCoreFlags.cmake parses it (CMake: the host library
# in driver/CMakeLists.txt and the kernel build in platform/rump/). CMake reads only lines of
# the form NAME=<tab>flags: keep each variable on one line, without make expressions.
# tests/check_core_flags.cmake fails when the compile lines of the two builds drift apart.

# The kernel's rules, for every build of the core: no exceptions, RTTI, thread-safe statics
# (__cxa_guard_*), stack protector (__stack_chk_fail) or unwind tables; no malloc assumed by
# the compiler, nothing exported but the C ABI; xxhash.h without its libc calls.
BAKEFS_CORE_CXXFLAGS=	-ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-builtin-malloc -fvisibility=hidden -DXXH_NO_STDLIB

# What a kernel build adds (kernel code is compiled so): no type-based alias analysis, and no
# fortified libc calls (__memcpy_chk would escape the rump kernel's renaming).
BAKEFS_CORE_KERNEL_CXXFLAGS=	-fno-strict-aliasing -U_FORTIFY_SOURCE
