#!/bin/sh
# Boot check for rumprun's base /etc merged into the image (mkimage --base-etc, passed by
# platform/rump/bakefs.mk from the toolchain's share/rumprun/rumprunfs_base/etc): builds the
# component with rumprun's rumpmake, an image of a tree with its own /etc/hosts, and a
# unikernel through bakefs.mk (which leaves -lrumprunfs_base out of the bake by itself), with a
# second image (mkimage --mount-at /app) linked in beside the first, boots
# it under qemu (TCG, no KVM needed) and checks what NetBSD's libc finds in /etc.
#
# Usage: base_etc_boot.sh BAKEFS_SRC BUILD_DIR RUMPRUN_CHECKOUT RUMPRUN_TOOLCHAIN ZSTD_SRC
#   (RUMPRUN_CHECKOUT: where build-rr.sh ran; its obj-amd64-hw/rumptools/rumpmake is used)
# SPDX-License-Identifier: BSD-2-Clause
set -eu
. "$(dirname "$0")/boot_lib.sh"
rr_args "$@"
for need in "$rumpmake" "$toolchain/bin/rumprun-bake" \
  "$toolchain/share/rumprun/rumprunfs_base/etc/pwd.db"; do
  [ -e "$need" ] || { echo "SKIP: no $need"; exit 77; }
done
rr_need_qemu
work=$(mktemp -d "${TMPDIR:-/tmp}/base-etc-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p rootfs/etc rootfs/srv
printf '10.1.2.3\tmine\n' > rootfs/etc/hosts
printf 'hello\n' > rootfs/srv/hello.txt
# A second image, linked in beside the first and mounted at /app.
mkdir -p approot
printf 'from the app image\n' > approot/hello.txt
"$build/bin/mkimage" --no-progress approot --mount-at /app -o app.img --emit-object app.o
cat > Makefile <<MAKEFILE
BAKEFS_IMAGE_SOURCES := rootfs
include $src/platform/rump/bakefs.mk
all: boot.bin
boot: $here/base_etc_boot.c
	\$(RUMPRUN_CC) -O2 -o \$@ $here/base_etc_boot.c
boot.bin: boot \$(BAKEFS_BAKE_DEPS)
	\$(RUMPRUN_BAKE) \$(BAKEFS_BAKE_ARGS) \$(RUMPRUN_BAKE_CONFIG) \$@ boot
MAKEFILE
make RUMPRUN_TOOLCHAIN="$toolchain" RUMPMAKE="$rumpmake" BAKEFS_MKIMAGE="$build/bin/mkimage" \
  BAKEFS_ZSTD_SRC="$zstd" RUMPRUN_BAKE_EXTRA="-m 'add $work/app.o'" > make.log 2>&1 || { tail -40 make.log; echo "FAIL: make"; exit 1; }
grep -q -- "--base-etc $toolchain/share/rumprun/rumprunfs_base/etc" make.log ||
  { echo "FAIL: mkimage was not given the toolchain's base /etc"; exit 1; }
grep -q -- '-m "remove -lrumprunfs_base"' make.log ||
  { echo "FAIL: the bake keeps -lrumprunfs_base"; exit 1; }

rr_qemu boot.bin
rr_wait 300

expect "getpwnam(root): uid=0 gid=0 gecos='Charlie &' dir=/ shell=/thereisnoshell"
expect "getpwnam(daemon): uid=1 gid=1 gecos='The devil himself' dir=/ shell=/thereisnoshell"
expect "getpwnam(nosuchuser): not found"
expect "getgrgid(1): daemon"
expect "getservbyname(http/tcp): 80"
expect "getprotobyname(udp): 17"
expect "/etc/hosts: 10.1.2.3	mine"
expect "/etc: bakefs, read-only"
expect "/app/hello.txt: from the app image"
expect "/app: bakefs, read-only"
expect "create /etc/new: Read-only file system"
expect "DONE"
rr_finish "base_etc_boot: rumprun's base /etc from the image, the image's own files win, the second image at /app"
