#!/bin/sh
# rumprun's `-b image.bakefs,/data` with platform/rump/rumprun/mount-blk-bakefs.patch: builds a
# librumprun_base.a whose config.c has the patch (a copy of the toolchain's archive, the
# checkout untouched), a unikernel through platform/rump/bakefs.mk (image at / with a /data
# mount point) linked with it, and boots it with rumprun's own launcher
# (`rumprun qemu -b data.bakefs,/data`): rumprun mounts the disk with mount_blk, and
# blk_boot.c checks the tree there (bytes and checksums, stat, readdir, EROFS, statvfs).
# Then the same disk is offered to a unikernel baked without the component, whose mount_blk
# must fail cleanly ("failed to mount fs type "blk""), and an ext2 disk (when mke2fs is there)
# to the first unikernel, which must still mount it as before.
#
# Usage: blk_boot.sh BAKEFS_SRC BUILD_DIR RUMPRUN_CHECKOUT RUMPRUN_TOOLCHAIN ZSTD_SRC
#   (RUMPRUN_CHECKOUT: where build-rr.sh ran; its obj-amd64-hw/rumptools/rumpmake is used)
# SPDX-License-Identifier: BSD-2-Clause
set -eu
. "$(dirname "$0")/boot_lib.sh"
rr_args "$@"
tuple=x86_64-rumprun-netbsd
baselib=$toolchain/rumprun-x86_64/lib/rumprun-hw/librumprun_base.a
for need in "$rumpmake" "$toolchain/bin/rumprun-bake" "$toolchain/bin/rumprun" "$baselib" \
  "$rr/lib/librumprun_base/config.c"; do
  [ -e "$need" ] || { echo "SKIP: no $need"; exit 77; }
done
rr_need_qemu
work=$(mktemp -d "${TMPDIR:-/tmp}/blk-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# The data disk: the tree of blk_boot.c, made on the host, padded to whole 512-byte sectors
# (a virtio disk is a number of sectors; padding after an image is allowed).
${CC:-cc} -O2 -o blkgen "$here/blk_boot.c"
./blkgen write data
"$build/bin/mkimage" --no-progress data -o data.bakefs
truncate -s %512 data.bakefs

# librumprun_base.a with the patched config.c, in a directory of its own that rumprun-bake
# searches first (-L).
mkdir -p rrlib/lib/librumprun_base
cp "$rr/lib/librumprun_base/config.c" rrlib/lib/librumprun_base/
(cd rrlib && patch -p1 -s <"$src/platform/rump/rumprun/mount-blk-bakefs.patch")
"$toolchain/bin/$tuple-gcc" -O2 -c rrlib/lib/librumprun_base/config.c -I"$rr/include" \
  -I"$rr/platform/hw/include" -o rrlib/config.o
cp "$baselib" rrlib/
(cd rrlib && "$toolchain/bin/$tuple-ar" r librumprun_base.a config.o)

# The unikernel: an image at / with the mount point, the component, the program.
mkdir -p rootfs
printf 'the root image\n' >rootfs/README
cat >Makefile <<MAKEFILE
BAKEFS_IMAGE_SOURCES := rootfs
BAKEFS_MKIMAGE_FLAGS := --mount-point /data
include $src/platform/rump/bakefs.mk
all: boot.bin plain.bin
boot: $here/blk_boot.c
	\$(RUMPRUN_CC) -O2 -o \$@ $here/blk_boot.c
boot.bin: boot \$(BAKEFS_BAKE_DEPS)
	\$(RUMPRUN_BAKE) \$(BAKEFS_BAKE_ARGS) \$(RUMPRUN_BAKE_CONFIG) \$@ boot
# without bakefs: stock bake, the patched library only
plain.bin: boot
	\$(RUMPRUN_BAKE) -m "add -L$work/rrlib" \$(RUMPRUN_BAKE_CONFIG) \$@ boot
MAKEFILE
make RUMPRUN_TOOLCHAIN="$toolchain" RUMPMAKE="$rumpmake" BAKEFS_MKIMAGE="$build/bin/mkimage" \
  BAKEFS_ZSTD_SRC="$zstd" RUMPRUN_BAKE_EXTRA="-m 'add -L$work/rrlib'" >make.log 2>&1 ||
  { tail -40 make.log; echo "FAIL: make"; exit 1; }
# plain.bin: the patched mount_blk (its "bakefs" is the only one without the component);
# boot.bin shows it by mounting the disk.
"$toolchain/bin/$tuple-nm" plain.bin | grep -q 'rumpns_bakefs' &&
  { echo "FAIL: plain.bin has the component"; exit 1; }
strings -a plain.bin | grep -qx bakefs ||
  { echo "FAIL: plain.bin was not linked with the patched librumprun_base.a"; exit 1; }

# boot KERNEL DISK: rumprun's launcher, qemu in the background (it prints qemu:PID).
boot() {
  rr_clock
  launch=$("$toolchain/bin/rumprun" qemu -M 128 -g "-vga none -no-reboot -serial file:console.log" \
    -b "$2,/data" "$1")
  echo "$launch" | grep -q '^qemu:[0-9]*$' || { echo "FAIL: rumprun qemu said: $launch"; exit 1; }
  rr_launched "${launch#qemu:}"
  rr_wait 300
}

echo "== boot.bin -b data.bakefs,/data"
boot boot.bin data.bakefs
expect "readdir /data: . .. hello.txt link random.bin sub text"
expect "/data/hello.txt: 26 bytes, fnv1a 0x9d75c75c51882998"
expect "/data/random.bin: 300000 bytes, fnv1a 0xd63c88431f86b2c8"
expect "/data/text/lorem.txt: 163840 bytes, fnv1a 0x748c879a5d88dbc1"
expect "/data/sub/deep/empty: 0 bytes, fnv1a 0xcbf29ce484222325"
expect "create /data/new: Read-only file system"
expect "open /data/hello.txt for writing: Read-only file system"
expect "unlink /data/hello.txt: Read-only file system"
expect "mkdir /data/newdir: Read-only file system"
expect "rmdir /data/text: Read-only file system"
expect "statvfs /data: bakefs, read-only"
expect "BLK OK"
cp out.log boot.log

# Without the component the type is unknown to the kernel: mount_blk fails (rumprun says so and
# stops, as it does for any disk it cannot mount), nothing panics.
echo "== plain.bin (no bakefs component) -b data.bakefs,/data"
boot plain.bin data.bakefs
grep -q 'failed to mount fs type "blk" from "/dev/ld0a" to "/data"' out.log ||
  { echo "FAIL: plain.bin did not report the failed mount"; rr_fail=1; }
grep -q '=== calling' out.log && { echo "FAIL: plain.bin ran main() without its disk"; rr_fail=1; }

# An ext2 disk still mounts through the patched mount_blk (bakefs is tried first and refuses it).
if command -v mke2fs >/dev/null 2>&1; then
  echo "== boot.bin -b ext2.img,/data"
  truncate -s 4M ext2.img
  mke2fs -q -t ext2 -d data ext2.img
  boot boot.bin ext2.img
  grep -qxF 'statvfs /data: ext2fs, writable' out.log ||
    { echo "FAIL: the ext2 disk did not mount as ext2fs"; rr_fail=1; }
  grep -qxF '/data/random.bin: 300000 bytes, fnv1a 0xd63c88431f86b2c8' out.log ||
    { echo "FAIL: the ext2 disk's files"; rr_fail=1; }
fi
cp boot.log out.log
rr_finish "blk_boot: rumprun -b mounts a bakefs disk read-only, without the component it fails cleanly"
