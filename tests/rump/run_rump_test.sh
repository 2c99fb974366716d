#!/bin/sh
# Builds librumpfs_bakefs with rumpmake, the test trees and their images, the test programs,
# and runs them against a user-space rump kernel. By hand, until CTest does it:
#
#   tests/rump/run_rump_test.sh RUMP_PREFIX MKIMAGE ZSTD_SRC WORKDIR
#
#   RUMP_PREFIX  a buildrump.sh DESTDIR (include/rump, lib/librump*.so); its obj/tooldir/rumpmake
#                is found from BAKEFS_RUMPMAKE, else RUMP_PREFIX/../obj/tooldir/rumpmake
#   MKIMAGE      the repo's mkimage
#   ZSTD_SRC     an unpacked zstd source tree (platform/rump/zstd/get-zstd-source.sh DIR)
#   WORKDIR      scratch directory (created; everything built goes there, nothing in the repo)
#
# Programs run (each must print RUMP BAKEFS OK):
#   plain           embedded image without /dev and /tmp: the union shows the rump kernel's
#   devtmp          embedded image with its own /dev and /tmp, tmpfs linked in
#   devtmp-notmpfs  the same without tmpfs: /tmp is covered by a rumpfs
#   noimage         no image linked: the boot hook mounts nothing, the test mounts a file
#                   read into memory at /mnt with struct bakefs_rump_args
#   static          plain, linked statically (the way rumprun links)
#   badimage        a damaged image linked in: the boot log says so loudly, / stays the rump
#                   kernel's, and the test mounts the good image file at /mnt instead
#   bootrecords     plain with a launch configuration and --tmpfs directories (only when
#                   MKIMAGE knows --config and --tmpfs)
# SPDX-License-Identifier: BSD-2-Clause
set -eu
if [ $# -ne 4 ]; then
  sed -n '2,21p' "$0" >&2
  exit 2
fi
rump=$(cd "$1" && pwd)
mkimage=$2
zstd_src=$3
work=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rumpmake=${BAKEFS_RUMPMAKE:-$rump/../obj/tooldir/rumpmake}
cc=${CC:-cc}

mkdir -p "$work/obj"
work=$(cd "$work" && pwd)
echo "== component: $work/obj/librumpfs_bakefs.{a,so}"
(cd "$work/obj" && for target in depend all; do
  nice "$rumpmake" -j2 -f "$top/platform/rump/Makefile" ZSTD_SRC="$zstd_src" $target || exit 1
done) > "$work/component.log" 2>&1 ||
  { tail -30 "$work/component.log"; exit 1; }

for v in plain devtmp; do
  if [ ! -d "$work/tree-$v" ]; then sh "$here/make_tree.sh" "$work/tree-$v" $v; fi
  nice "$mkimage" -j2 -o "$work/$v.img" --emit-object "$work/$v.o" "$work/tree-$v" > /dev/null
done

# A damaged copy: one byte of the superblock flipped.
cp "$work/plain.img" "$work/bad.img"
printf '\377' | dd of="$work/bad.img" bs=1 seek=40 conv=notrunc 2>/dev/null
printf '\t.section bakefs_image,"a"\n\t.balign 16\n\t.incbin "%s"\n\t.section .note.GNU-stack,"",%%progbits\n' \
  "$work/bad.img" > "$work/bad.S"
$cc -c "$work/bad.S" -o "$work/bad.o"
boot_records=no
if "$mkimage" --help 2>/dev/null | grep -q -- '--tmpfs'; then
  boot_records=yes
  printf '{"cmdline": "bakefs rump test", "hostname": "bakefs"}\n' > "$work/config.json"
  nice "$mkimage" -j2 -o "$work/boot.img" --emit-object "$work/boot.o" \
    --config "$work/config.json" --tmpfs /tmp,/var/run "$work/tree-plain" > /dev/null
fi

obj=$work/obj
build() {
  out=$1
  shift
  $cc -O2 -g -Wall -I"$rump/include" -I"$top/platform/rump" "$here/rump_test.c" -o "$work/$out" \
    -L"$obj" -L"$rump/lib" -Wl,-rpath,"$obj" -Wl,-rpath,"$rump/lib" -Wl,--no-as-needed "$@" \
    -lpthread -ldl
}
V="-lrumpvfs -lrump -lrumpuser"
build rump_test_plain "$work/plain.o" -lrumpfs_bakefs $V
build rump_test_devtmp "$work/devtmp.o" -lrumpfs_bakefs -lrumpfs_tmpfs $V
build rump_test_devtmp_notmpfs "$work/devtmp.o" -lrumpfs_bakefs $V
build rump_test_noimage -lrumpfs_bakefs $V
build rump_test_badimage "$work/bad.o" -lrumpfs_bakefs $V
[ $boot_records = no ] || build rump_test_bootrecords "$work/boot.o" -lrumpfs_bakefs -lrumpfs_tmpfs $V
# Static: whole archives, so the components' constructors are kept.
$cc -O2 -g -Wall -I"$rump/include" -I"$top/platform/rump" "$here/rump_test.c" "$work/plain.o" \
  -o "$work/rump_test_static" -Wl,--whole-archive "$obj/librumpfs_bakefs.a" \
  "$rump/lib/librumpvfs.a" "$rump/lib/librump.a" "$rump/lib/librumpuser.a" \
  -Wl,--no-whole-archive -lpthread -ldl -lrt

status=0
run() {
  name=$1
  shift
  echo "== $name"
  if "$@" > "$work/$name.log" 2>&1 && grep -q '^RUMP BAKEFS OK$' "$work/$name.log"; then
    grep -E '^(bakefs|rump_init|launch|[0-9]+ checks)' "$work/$name.log"
  else
    tail -25 "$work/$name.log"
    status=1
  fi
}
cd "$work"
run plain ./rump_test_plain tree-plain
run devtmp ./rump_test_devtmp tree-devtmp
run devtmp-notmpfs ./rump_test_devtmp_notmpfs tree-devtmp
run noimage ./rump_test_noimage tree-plain plain.img
run static ./rump_test_static tree-plain
run badimage ./rump_test_badimage tree-plain plain.img
if ! grep -q 'DID NOT MOUNT' "$work/badimage.log"; then
  echo "badimage: the boot log does not say the image did not mount"
  status=1
fi
if [ $boot_records = yes ]; then
  BAKEFS_TEST_CONFIG=$work/config.json BAKEFS_TEST_TMPFS=/tmp,/var/run \
    run bootrecords ./rump_test_bootrecords tree-plain
else
  echo "== bootrecords: skipped ($mkimage has no --config/--tmpfs)"
fi
[ $status -eq 0 ] && echo "all rump kernel tests passed"
exit $status
