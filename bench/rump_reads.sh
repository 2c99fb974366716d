#!/bin/sh
# rump_reads.sh [-d] [-c CACHE_MIB] BUILD_DIR TREE [RUNS [MKIMAGE OPTION...]]: reads inside one user-space rump
# kernel, bakefs against the rump kernel's tmpfs holding the same files (issue 10: "warm
# reads within 1.5x of tmpfs"). TREE is made into an image with mkimage's defaults (or the
# options given), bench/rump_reads.c mounts it from memory, copies it into tmpfs and times
# read-all cold (bakefs freshly mounted) and warm, and 10,000 random 4 KiB preads warm, RUNS
# times (default 5). Prints the medians and bakefs/tmpfs ratios. Nothing is asserted.
# -c sizes bakefs's block cache in MiB (default: the driver's); tmpfs holds the whole tree
# decompressed, so -c with the tree's size compares at equal memory. -d mounts the image from a
# block device (an etfs of the image file) through the kernel's buffer cache, not from memory.
#
#   BUILD_DIR  a CMake build configured with -DBAKEFS_RUMP_PREFIX (its bin/mkimage, its
#              platform/rump/librumpfs_bakefs.so, the prefix from its CMakeCache.txt)
# SPDX-License-Identifier: BSD-2-Clause
set -eu
cache=
source=memory
if [ "${1:-}" = -d ]; then source=device; BAKEFS_READS_DEVICE=1; export BAKEFS_READS_DEVICE; shift; fi
if [ "${1:-}" = -c ]; then cache=$2; shift 2; fi
[ $# -ge 2 ] || { sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd)
tree=$2
runs=${3:-5}
shift 2
[ $# -eq 0 ] || shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/rump_build.sh"
rump_build rump_reads.sh "$build"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$mkimage" -j2 --no-progress "$@" -o "$work/tree.img" "$tree" > /dev/null
${CC:-cc} -O2 -Wall -I"$prefix/include" -I"$top/platform/rump" -I"$top/tests/rump" "$here/rump_reads.c" \
  -o "$work/rump_reads" -Wl,--no-as-needed "$component/librumpfs_bakefs.so" -L"$lib" \
  -Wl,-rpath,"$component" -Wl,-rpath,"$lib" \
  -lrumpfs_tmpfs -lrumpvfs -lrump -lrumpuser -lpthread -ldl -lrt
"$work/rump_reads" "$work/tree.img" "$runs" $cache > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
grep '^rump_reads tree' "$work/log" | sed 's/^rump_reads //'
echo "$runs runs, bakefs from $source, cache ${cache:-default} MiB; $(uptime | sed 's/.*load/load/')"
. "$here/median_stats.sh"
printf '%-14s %12s %12s %8s\n' measure "bakefs s" "tmpfs s" ratio
for m in readall_cold readall_warm random4k_warm; do
  grep "^rump_reads [0-9]* $m " "$work/log" | awk '{ print $4, $5 }' > "$work/$m"
  b=$(stats "$work/$m" 1 4 | cut -d' ' -f1)
  t=$(stats "$work/$m" 2 4 | cut -d' ' -f1)
  printf '%-14s %12.4f %12.4f %8.2f\n' "$m" "$b" "$t" "$(awk -v b="$b" -v t="$t" 'BEGIN { print b / t }')"
done
