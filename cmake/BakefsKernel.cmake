# Building for a kernel: the compile flags of a NetBSD (rump) kernel, relocatable objects, and
# the rump kernel's rumpns_ symbol renaming.
#
#   BAKEFS_KERNEL_CODEGEN     code generation flags of kernel code, C and C++: what
#                             src-netbsd's Makefile.rump and sys/arch/*/Makefile use (no red
#                             zone, no FPU/vector registers, freestanding), PIC so that the
#                             objects also go into a shared rump component.
#   BAKEFS_KERNEL_ARCH_FLAGS  the architecture's part of the above (no red zone, no FPU/vector
#                             registers): what platform/rump/Makefile takes from the kernel's
#                             CFLAGS (${CFLAGS:M-m*}) for the core.
#   BAKEFS_KERNEL_CXX_FLAGS   the core's C++: driver/flags.mk's rules for every build and for a
#                             kernel build (no exceptions, RTTI, thread-safe statics, unwind
#                             tables or fortified libc calls), with the arch flags and -fPIC.
#   BAKEFS_KERNEL_CC_INCLUDE  the C compiler's own freestanding headers (<stddef.h>,
#                             <stdint.h>, <limits.h>), for code compiled with -nostdinc.
#
#   bakefs_shell_flags(<list-var>)             keeps "-imacros file" and the like together,
#                                              so that CMake's de-duplication of options
#                                              cannot drop the second "-imacros".
#   bakefs_relocatable(<output> <object>...)   custom command: ld -r of the objects.
#   bakefs_rump_rename(<output> <input>)       custom command: scripts/rump-rename.
include_guard(GLOBAL)

include(${CMAKE_CURRENT_LIST_DIR}/BakefsCoreFlags.cmake)

set(BAKEFS_KERNEL_ARCH_FLAGS "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
  set(BAKEFS_KERNEL_ARCH_FLAGS -mno-red-zone -mno-mmx -mno-sse -mno-avx -msoft-float)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(BAKEFS_KERNEL_ARCH_FLAGS -mgeneral-regs-only)
endif()
set(BAKEFS_KERNEL_CODEGEN -ffreestanding -fno-common -fno-strict-aliasing -fno-stack-protector
                          -fPIC ${BAKEFS_KERNEL_ARCH_FLAGS})
set(BAKEFS_KERNEL_CXX_FLAGS ${BAKEFS_KERNEL_ARCH_FLAGS} -fPIC ${BAKEFS_CORE_CXXFLAGS}
                            ${BAKEFS_CORE_KERNEL_CXXFLAGS})

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE BAKEFS_KERNEL_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT IS_DIRECTORY "${BAKEFS_KERNEL_CC_INCLUDE}")
  message(FATAL_ERROR "BakefsKernel: ${CMAKE_C_COMPILER} -print-file-name=include gave "
                      "'${BAKEFS_KERNEL_CC_INCLUDE}', not the compiler's header directory")
endif()

find_program(BAKEFS_LD NAMES ld ld.bfd REQUIRED)
set(BAKEFS_RUMP_RENAME ${CMAKE_CURRENT_LIST_DIR}/../scripts/rump-rename)

function(bakefs_shell_flags list_var)
  set(result "")
  set(pending "")
  foreach(flag IN LISTS ${list_var})
    if(pending)
      list(APPEND result "SHELL:${pending} ${flag}")
      set(pending "")
    elseif(flag MATCHES "^-(imacros|include|isystem|idirafter|iquote|I|D|U)$")
      set(pending "${flag}")
    else()
      list(APPEND result "${flag}")
    endif()
  endforeach()
  set(${list_var} "${result}" PARENT_SCOPE)
endfunction()

# ld -r: one relocatable object, the form in which the kernel (or a check) takes the code.
function(bakefs_relocatable output)
  add_custom_command(OUTPUT ${output}
                     COMMAND ${BAKEFS_LD} -r -o ${output} ${ARGN}
                     DEPENDS ${ARGN}
                     COMMAND_EXPAND_LISTS
                     COMMENT "ld -r ${output}")
endfunction()

# The renaming rumpmake applies to every object of a rump kernel component.
function(bakefs_rump_rename output input)
  add_custom_command(OUTPUT ${output}
                     COMMAND ${CMAKE_COMMAND} -E env NM=${CMAKE_NM} OBJCOPY=${CMAKE_OBJCOPY}
                             ${BAKEFS_RUMP_RENAME} ${input} ${output}
                     DEPENDS ${input} ${BAKEFS_RUMP_RENAME}
                     COMMENT "rumpns_ renaming of ${input}")
endfunction()
