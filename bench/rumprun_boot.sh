#!/bin/sh
# rumprun_boot.sh RUMPRUN_CHECKOUT BUILD_DIR WORKDIR [BOOTS]: rump_init() to main() in a
# rumprun unikernel (hw, qemu TCG), with and without the bakefs component and an image at `/`.
#
#   RUMPRUN_CHECKOUT  a rumprun checkout built with build-rr.sh hw (its rumprun/bin toolchain
#                     and obj-amd64-hw/rumptools/rumpmake)
#   BUILD_DIR         a CMake build of bakefs (its bin/mkimage; zstd's source from its
#                     CMakeCache.txt, or ZSTD_SRC=DIR)
#   WORKDIR           scratch: the component, images, unikernels, console logs
#   BOOTS             boots per unikernel, interleaved round-robin (default 11)
#
# Unikernels (bench/rumprun_boot.c, bake configuration hw_virtio):
#   none           no component (the baseline)
#   noimage        the component, no image
#   plain-stubetc  image alone at / (the default), --stub-etc, rumprun's base /etc left out
#   plain-baseetc  image alone at / without /etc: rumprun's base /etc goes into the tmpfs that
#                  covers the /etc the boot hook adds
#   union-baseetc  image with --root-mount union, no /etc, rumprun's base /etc kept
#   plain-10m      as plain-stubetc with 10 MiB of incompressible files
# For each: the median, min and max of rump_init() to main() (the guest's own clock), the
# difference of the medians to `none`, and the median of the boot hook's breakdown. Boots
# under TCG on a shared host vary a lot: read medians, and the load printed with them.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -ge 3 ] || { sed -n '2,23s/^# \{0,1\}//p' "$0" >&2; exit 2; }
rr=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
mkdir -p "$3"
work=$(cd "$3" && pwd)
boots=${4:-11}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PATH=$rr/rumprun/bin:$PATH
rumpmake=$rr/obj-amd64-hw/rumptools/rumpmake
mkimage=$build/bin/mkimage
zstd=${ZSTD_SRC:-$(sed -n 's/^BAKEFS_ZSTD_SOURCE_DIR:[A-Z]*=//p' "$build/CMakeCache.txt")}
[ -n "$zstd" ] || zstd=$build/_deps/zstd-src
for need in "$rumpmake" "$mkimage" "$rr/rumprun/bin/rumprun-bake"; do
  [ -x "$need" ] || { echo "rumprun_boot.sh: no $need" >&2; exit 2; }
done
[ -f "$zstd/lib/zstd.h" ] || { echo "rumprun_boot.sh: no zstd source at $zstd" >&2; exit 2; }

mkdir -p "$work/component"
(cd "$work/component" && for t in depend all; do
  env -u MAKEFLAGS "$rumpmake" -f "$top/platform/rump/Makefile" ZSTD_SRC="$zstd" $t || exit 1
done) > "$work/component.log" 2>&1 || { tail -20 "$work/component.log"; exit 1; }
x86_64-rumprun-netbsd-gcc -O2 -Wall -o "$work/app" "$here/rumprun_boot.c"

mkdir -p "$work/tree/srv" "$work/tree10m/data"
echo probe > "$work/tree/probe"
echo probe > "$work/tree10m/probe"
[ -f "$work/tree10m/data/f9" ] ||
  for i in 0 1 2 3 4 5 6 7 8 9; do head -c 1048576 /dev/urandom > "$work/tree10m/data/f$i"; done
img() {
  name=$1
  shift
  "$mkimage" --no-progress -o "$work/$name.img" --emit-object "$work/$name.o" "$@" > /dev/null
}
img plain-stubetc --stub-etc "$work/tree"
img plain-baseetc "$work/tree"
img union-baseetc --root-mount union "$work/tree"
img plain-10m --stub-etc "$work/tree10m"

add="-L$work/component -lrumpfs_bakefs"
bake() {
  name=$1
  shift
  rumprun-bake "$@" hw_virtio "$work/$name.bin" "$work/app" > "$work/$name.bake.log" 2>&1 ||
    { cat "$work/$name.bake.log"; exit 1; }
}
bake none
bake noimage -m "add $add"
bake plain-stubetc -m "add $add $work/plain-stubetc.o" -m "remove -lrumprunfs_base"
bake plain-baseetc -m "add $add $work/plain-baseetc.o"
bake union-baseetc -m "add $add $work/union-baseetc.o"
bake plain-10m -m "add $add $work/plain-10m.o" -m "remove -lrumprunfs_base"

# One boot: the console goes to a file; qemu is stopped once main() has returned (the guest
# halts without powering off).
boot() {
  log=$1.console
  rm -f "$log"
  qemu-system-x86_64 -accel tcg -m 256 -vga none -display none -no-reboot -net none \
    -serial file:"$log" -kernel "$1.bin" &
  qemu=$!
  n=0
  until grep -q -e '=== main() of' -e 'PANIC' "$log" 2>/dev/null || [ $n -ge 600 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  kill $qemu 2>/dev/null || true
  wait $qemu 2>/dev/null || true
}

variants="none noimage plain-stubetc plain-baseetc union-baseetc plain-10m"
for v in $variants; do : > "$work/$v.times"; done
i=0
while [ $i -lt "$boots" ]; do
  for v in $variants; do
    boot "$work/$v"
    ms=$(sed -n 's/^rumprun_boot main_ms=\([0-9.]*\) .*/\1/p' "$work/$v.console" | tr -d '\r')
    [ -n "$ms" ] || { echo "rumprun_boot.sh: $v did not reach main():"; tail -5 "$work/$v.console"; exit 1; }
    case $v in
    none | noimage) ;;
    *) grep -q 'mounted=1 probe=1' "$work/$v.console" ||
      { echo "rumprun_boot.sh: $v: the image is not / or /probe is unreadable"; exit 1; } ;;
    esac
    hook=$(tr -d '\r' < "$work/$v.console" | sed -n 's/^bakefs: boot hook \([0-9]*\) us (root record \([0-9]*\), mount \([0-9]*\), mount points \([0-9]*\), \/dev \([0-9]*\), tmpfs \([0-9]*\))$/\1 \2 \3 \4 \5 \6/p')
    echo "$ms ${hook:-- - - - - -}" >> "$work/$v.times"
  done
  i=$((i + 1))
done

. "$here/median_stats.sh"
base=$(stats "$work/none.times" 1 1 | cut -d' ' -f1)
echo "rumprun_boot: $boots boots per unikernel under qemu TCG, interleaved; $(uptime | sed 's/.*load/load/')"
printf '%-14s %-24s %7s  %s\n' unikernel "main ms (min-max)" "+ms" \
  "boot hook us: total (record, mount, points, /dev, tmpfs)"
for v in $variants; do
  set -- $(stats "$work/$v.times" 1 1)
  cost=$(awk -v a="$1" -v b="$base" 'BEGIN { printf "%+.1f", a - b }')
  hook=""
  for c in 2 3 4 5 6 7; do hook="$hook $(stats "$work/$v.times" $c 1 | cut -d' ' -f1 | sed 's/\.0$//')"; done
  printf '%-14s %-24s %7s %s\n' "$v" "$1 ($2-$3)" "$cost" "$hook"
done
