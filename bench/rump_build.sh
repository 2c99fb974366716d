# rump_build NAME BUILD_DIR: for the rump benchmarks (sourced by rump_boot.sh and
# rump_reads.sh), what they take from a CMake build configured with -DBAKEFS_RUMP_PREFIX:
# sets prefix (the rump kernel's DESTDIR, from its CMakeCache.txt), lib (prefix/lib),
# component (the directory of librumpfs_bakefs.so) and mkimage; exits 2 naming NAME when the
# build is not configured that way or not built yet.
# SPDX-License-Identifier: BSD-2-Clause
rump_build() {
  prefix=$(sed -n 's/^BAKEFS_RUMP_PREFIX:[A-Z]*=//p' "$2/CMakeCache.txt")
  [ -n "$prefix" ] && [ -f "$prefix/include/rump/rump.h" ] ||
    { echo "$1: $2 is not configured with BAKEFS_RUMP_PREFIX" >&2; exit 2; }
  lib=$prefix/lib
  component=$2/platform/rump
  mkimage=$2/bin/mkimage
  [ -f "$component/librumpfs_bakefs.so" ] && [ -x "$mkimage" ] ||
    { echo "$1: build $2 first (mkimage, rumpfs_bakefs)" >&2; exit 2; }
}
