#!/bin/sh
# example_makefile_test.sh SOURCE_DIR BUILD_DIR: where examples/rumprun's Makefile (through
# platform/rump/bakefs.mk) takes mkimage from, without a rumprun toolchain: only the image
# object is made (target bakefs-image, into a scratch BAKEFS_BUILD).
#   - mkimage on PATH (an installed bakefs): used;
#   - BAKEFS_CMAKE_BUILD=BUILD_DIR, mkimage not on PATH: BUILD_DIR/bin/mkimage;
#   - neither: the make fails and says how to name mkimage (it assumed ./build before).
# And rumprun's base /etc: taken from RUMPRUN_TOOLCHAIN/share/rumprun/rumprunfs_base/etc (a
# stand-in toolchain here) and merged into the image's /etc beneath the example's stub, with
# -lrumprunfs_base always left out of the bake; a clear failure without a toolchain;
# BAKEFS_BASE_ETC=DIR and BAKEFS_BASE_ETC=none.
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
# A stand-in for rumprun's toolchain: only the base /etc it installs.
tc=$work/toolchain
mkdir -p "$tc/share/rumprun/rumprunfs_base/etc"
printf 'base motd\n' > "$tc/share/rumprun/rumprunfs_base/etc/motd"
printf '127.0.0.1 base\n' > "$tc/share/rumprun/rumprunfs_base/etc/hosts"
export RUMPRUN_TOOLCHAIN="$tc"
bake_args() {
  make -s -C "$ex" "$@" --eval 'bakefs-print-args: ; @echo $(BAKEFS_BAKE_ARGS)' bakefs-print-args
}

PATH=$work/bin:$bare make -C "$ex" BAKEFS_BUILD="$work/path" bakefs-image > "$work/log" 2>&1 ||
  fail "mkimage on PATH"
[ -s "$work/path/image.o" ] || fail "mkimage on PATH: no image object"
grep -q "^mkimage rootfs" "$work/log" || fail "mkimage on PATH: not run as 'mkimage'"
cp "$work/log" "$work/path.log"

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

# The base /etc in the image, beneath the stub (the stub's hosts wins), and the bake args.
img=$work/path/image.bakefs
[ "$("$build/bin/bakefs" cat "$img" /etc/motd)" = "base motd" ] || fail "the base /etc/motd is not in the image"
"$build/bin/bakefs" cat "$img" /etc/hosts | grep -q localhost || fail "the stub's /etc/hosts did not win"
grep -q -- "--base-etc $tc/share/rumprun/rumprunfs_base/etc" "$work/path.log" || fail "mkimage was not given --base-etc"
bake_args BAKEFS_BUILD="$work/path" > "$work/log" 2>&1
grep -q -- '-m remove -lrumprunfs_base' "$work/log" || fail "the bake keeps -lrumprunfs_base"
# A source without /etc and no --stub-etc: the base /etc still goes in and the library out.
bake_args BAKEFS_BUILD="$work/path" BAKEFS_MKIMAGE_FLAGS= > "$work/log" 2>&1
grep -q -- '-m remove -lrumprunfs_base' "$work/log" || fail "without --stub-etc the bake keeps -lrumprunfs_base"

# BAKEFS_IMAGE_HAS_ETC=no does not bring the library back while the base /etc is merged.
bake_args BAKEFS_BUILD="$work/path" BAKEFS_IMAGE_HAS_ETC=no > "$work/log" 2>&1
grep -q -- '-m remove -lrumprunfs_base' "$work/log" || fail "BAKEFS_IMAGE_HAS_ETC=no kept -lrumprunfs_base"

# No toolchain (and no rumprun-bake on PATH): the make says where the base /etc was looked for.
if env -u RUMPRUN_TOOLCHAIN PATH=$work/bin:$bare make -C "$ex" BAKEFS_BUILD="$work/notc" bakefs-image \
  > "$work/log" 2>&1; then
  fail "no rumprun toolchain, yet the image was made without rumprun's /etc"
fi
grep -q "no rumprun base /etc at 'RUMPRUN_TOOLCHAIN/share/rumprun/rumprunfs_base/etc'.*BAKEFS_BASE_ETC=none" "$work/log" ||
  fail "no toolchain: the message does not say what to set"
# BAKEFS_BASE_ETC=DIR: that directory.
mkdir -p "$work/own-etc"
printf 'own\n' > "$work/own-etc/motd"
env -u RUMPRUN_TOOLCHAIN PATH=$work/bin:$bare make -C "$ex" BAKEFS_BUILD="$work/own" \
  BAKEFS_BASE_ETC="$work/own-etc" bakefs-image > "$work/log" 2>&1 || fail "BAKEFS_BASE_ETC=DIR"
[ "$("$build/bin/bakefs" cat "$work/own/image.bakefs" /etc/motd)" = "own" ] || fail "BAKEFS_BASE_ETC=DIR: not its motd"
# BAKEFS_BASE_ETC=none: nothing merged, no toolchain needed, the bake as before (the example's
# --stub-etc /etc: rumprun's library left out; without an /etc: kept).
env -u RUMPRUN_TOOLCHAIN PATH=$work/bin:$bare make -C "$ex" BAKEFS_BUILD="$work/noetc" \
  BAKEFS_BASE_ETC=none bakefs-image > "$work/log" 2>&1 || fail "BAKEFS_BASE_ETC=none"
if "$build/bin/bakefs" cat "$work/noetc/image.bakefs" /etc/motd > /dev/null 2>&1; then
  fail "BAKEFS_BASE_ETC=none: a base /etc/motd is in the image"
fi
grep -q -- "--base-etc /" "$work/log" && fail "BAKEFS_BASE_ETC=none: mkimage was given --base-etc"
bake_args BAKEFS_BASE_ETC=none > "$work/log" 2>&1
grep -q -- '-m remove -lrumprunfs_base' "$work/log" || fail "BAKEFS_BASE_ETC=none with --stub-etc: library kept"
bake_args BAKEFS_BASE_ETC=none BAKEFS_MKIMAGE_FLAGS= > "$work/log" 2>&1
grep -q -- 'rumprunfs_base' "$work/log" && fail "BAKEFS_BASE_ETC=none without /etc: library left out"
echo "example Makefile: mkimage from PATH, from BAKEFS_CMAKE_BUILD, and a clear failure;" \
  "rumprun's base /etc merged (from the toolchain or a directory, or none)"
