#!/bin/sh
# rump_boot.sh BUILD_DIR WORKDIR [RUNS [KIB...]]: rump_init() to `/` readable in a user-space
# rump kernel, for linked-in images of 100 KiB, 10 MiB and 500 MiB (or of the sizes KIB...,
# in KiB), against two baselines measured in the same run: the rump kernel alone, and with
# the bakefs component but no image.
#
#   BUILD_DIR  a CMake build configured with -DBAKEFS_RUMP_PREFIX (its bin/mkimage, its
#              platform/rump/librumpfs_bakefs.so, the prefix from its CMakeCache.txt)
#   WORKDIR    scratch (trees, images, programs; the 500 MiB tree and image need ~1.1 GB)
#   RUNS       boots per program, interleaved round-robin (default 21)
#   KIB...     image sizes in KiB (default 100 10240 512000); programs are named imgKIBk
#
# Every program is bench/rump_boot.c, linked with tmpfs as rumprun links it. For each it
# prints the median, min and max of rump_init() and of rump_init() + open + read of a file of
# the image, the image's cost over the component-without-image baseline (median against
# median) and that as a ratio, and the medians of the boot hook's own breakdown (its
# "bakefs: boot hook" line). Nothing is asserted: figures depend on the machine and its load.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -ge 2 ] || { sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
runs=${3:-21}
shift 2
[ $# -eq 0 ] || shift
sizes=${*:-100 10240 512000}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/rump_build.sh"
rump_build rump_boot.sh "$build"
cc=${CC:-cc}

# Trees: a probe file plus incompressible data (1 MiB files), so the image is as large as
# the data.
tree() {
  name=$1 kib=$2
  [ -f "$work/$name.o" ] && return 0
  rm -rf "$work/tree-$name"
  mkdir -p "$work/tree-$name/data"
  echo probe > "$work/tree-$name/probe"
  left=$kib i=0
  while [ "$left" -gt 0 ]; do
    n=$((left < 1024 ? left : 1024))
    head -c $((n * 1024)) /dev/urandom > "$work/tree-$name/data/f$i"
    left=$((left - n)) i=$((i + 1))
  done
  nice "$mkimage" -j2 --no-progress -o "$work/$name.img" --emit-object "$work/$name.o" \
    "$work/tree-$name" > /dev/null
  rm -rf "$work/tree-$name"
}
link() {
  out=$1
  shift
  # --no-as-needed first: nothing refers to the component, it registers itself.
  $cc -O2 -Wall -I"$prefix/include" "$here/rump_boot.c" -o "$work/$out" -Wl,--no-as-needed \
    "$@" -L"$lib" -Wl,-rpath,"$component" -Wl,-rpath,"$lib" \
    -lrumpfs_tmpfs -lrumpvfs -lrump -lrumpuser -lpthread -ldl -lrt
}
variants="kernel noimage"
for kib in $sizes; do
  tree img${kib}k "$kib"
  variants="$variants img${kib}k"
done
link kernel
link noimage "$component/librumpfs_bakefs.so"
for kib in $sizes; do
  link img${kib}k "$work/img${kib}k.o" "$component/librumpfs_bakefs.so"
done

for v in $variants; do : > "$work/$v.times"; done
i=0
while [ $i -lt "$runs" ]; do
  for v in $variants; do
    case $v in img*) probe=/probe ;; *) probe= ;; esac
    "$work/$v" $probe > "$work/$v.log" 2>&1 || { cat "$work/$v.log"; exit 1; }
    case $v in
    img*) grep -q 'mounted=1' "$work/$v.log" || { echo "$v: the image is not /"; exit 1; } ;;
    esac
    init=$(sed -n 's/^rump_boot init_ms=\([0-9.]*\) .*/\1/p' "$work/$v.log")
    readable=$(sed -n 's/^rump_boot .*readable_ms=\([0-9.]*\) .*/\1/p' "$work/$v.log")
    hook=$(sed -n 's/^bakefs: boot hook \([0-9]*\) us (root record \([0-9]*\), mount \([0-9]*\), mount points \([0-9]*\), \/dev \([0-9]*\), tmpfs \([0-9]*\))$/\1 \2 \3 \4 \5 \6/p' \
      "$work/$v.log")
    echo "$init $readable ${hook:-- - - - - -}" >> "$work/$v.times"
  done
  i=$((i + 1))
done

. "$here/median_stats.sh"
base=$(stats "$work/noimage.times" 2 | cut -d' ' -f1)
echo "rump_boot: $runs boots per program, interleaved; $(uptime | sed 's/.*load/load/')"
printf '%-8s %10s %10s  %-26s %9s %6s  %s\n' program image "init ms" \
  "readable ms (min-max)" "+ms" ratio "boot hook us: total (record, mount, points, /dev, tmpfs)"
for v in $variants; do
  size=-
  [ -f "$work/$v.img" ] && size=$(stat -c %s "$work/$v.img")
  set -- $(stats "$work/$v.times" 1) $(stats "$work/$v.times" 2)
  cost=$(awk -v a="$4" -v b="$base" 'BEGIN { printf "%+.3f", a - b }')
  ratio=$(awk -v a="$4" -v b="$base" 'BEGIN { printf "%.3f", a / b }')
  hook=""
  for c in 3 4 5 6 7 8; do hook="$hook $(stats "$work/$v.times" $c | cut -d' ' -f1 | sed 's/\.000$//')"; done
  printf '%-8s %10s %10s  %-26s %9s %6s %s\n' "$v" "$size" "$1" "$4 ($5-$6)" "$cost" "$ratio" \
    "$hook"
done
