#!/bin/sh
# example_makefile_test.sh SOURCE_DIR BUILD_DIR: where examples/rumprun's Makefile (through
# platform/rump/bakefs.mk) takes mkimage from, without a rumprun toolchain: only the image
# object is made (target bakefs-image, into a scratch BAKEFS_BUILD).
#   - mkimage on PATH (an installed bakefs): used;
#   - BAKEFS_CMAKE_BUILD=BUILD_DIR, mkimage not on PATH: BUILD_DIR/bin/mkimage;
#   - neither: the make fails and says how to name mkimage (it assumed ./build before).
# SPDX-License-Identifier: BSD-2-Clause
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/example-makefile.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  cat "$work/log"
  exit 1
}
ex=$src/examples/rumprun
# A PATH without any mkimage: the system's directories only.
bare=/usr/bin:/bin
if PATH=$bare command -v mkimage > /dev/null 2>&1; then
  echo "a mkimage is installed in $bare; this test needs a PATH without one"
  exit 77
fi
mkdir "$work/bin"
ln -s "$build/bin/mkimage" "$work/bin/mkimage"

PATH=$work/bin:$bare make -C "$ex" BAKEFS_BUILD="$work/path" bakefs-image > "$work/log" 2>&1 ||
  fail "mkimage on PATH"
[ -s "$work/path/image.o" ] || fail "mkimage on PATH: no image object"
grep -q "^mkimage rootfs" "$work/log" || fail "mkimage on PATH: not run as 'mkimage'"

PATH=$bare make -C "$ex" BAKEFS_BUILD="$work/cmake" BAKEFS_CMAKE_BUILD="$build" bakefs-image \
  > "$work/log" 2>&1 || fail "BAKEFS_CMAKE_BUILD"
[ -s "$work/cmake/image.o" ] || fail "BAKEFS_CMAKE_BUILD: no image object"
grep -q "^$build/bin/mkimage rootfs" "$work/log" || fail "BAKEFS_CMAKE_BUILD: not its mkimage"

if PATH=$bare make -C "$ex" BAKEFS_BUILD="$work/none" bakefs-image > "$work/log" 2>&1; then
  fail "no mkimage anywhere, yet the make succeeded"
fi
grep -q "no mkimage program 'mkimage'.*BAKEFS_MKIMAGE" "$work/log" ||
  fail "no mkimage: the message does not say how to name one"
[ ! -e "$work/none/image.o" ] || fail "no mkimage: an image object was left"
echo "example Makefile: mkimage from PATH, from BAKEFS_CMAKE_BUILD, and a clear failure"
