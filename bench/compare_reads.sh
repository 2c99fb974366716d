#!/bin/bash
# compare_reads.sh: read one tree back from a bakefs image (through the driver core, in
# process) and from squashfs and erofs images (kernel drivers, squashfuse_ll), with the same
# access patterns, and print the seconds of each pass side by side.
# SPDX-License-Identifier: BSD-2-Clause
set -eu

usage() {
	cat <<EOF
usage: $0 [-m MKIMAGE] [-R READALL] [-B BAKEFS] [-b OTHER] [-r REPEAT] [-c MIB] [-d] TREE [BLOCKSIZE]

Builds TREE at BLOCKSIZE (default 128K) with mkimage (default level), mksquashfs
(zstd, level 15) and mkfs.erofs (lz4hc), then runs bakefs-readall REPEAT times
(default 3) on each: on the bakefs image directly, and on a fresh mount of the
others (kernel squashfs and erofs need root and loop devices; squashfuse_ll
needs /dev/fuse; what cannot be mounted is left out). Prints the medians.
bakefs is read twice: with the driver's default block cache (8 MiB), and as
bakefs-cache with a cache of MIB (default 1024) MiB, which stands in for the
page cache that the kernel readers have above them; and through FUSE with the
bakefs command (bakefs mount, its default cache), as bakefs-fuse; with -b, also
through another build's bakefs command, as bakefs-fuse-b (before/after in one run).
"cold" means a fresh mount (the driver's caches are empty) while the image file
itself may sit in the page cache, unless -d (root): then bakefs-readall drops
the kernel's caches before the first pass and before extra cold passes of stat
and of the random reads (bakefs-readall --drop-caches).
EOF
	exit 2
}

script_dir=$(cd "$(dirname "$0")" && pwd)
MKIMAGE=${MKIMAGE:-}
READALL=${READALL:-}
BAKEFS=${BAKEFS:-}
REPEAT=${REPEAT:-3}
BIG_CACHE=${BIG_CACHE:-1024}
DROP=
OTHER=
while getopts "m:R:B:b:r:c:dh" opt; do
	case $opt in
	m) MKIMAGE=$OPTARG ;;
	R) READALL=$OPTARG ;;
	B) BAKEFS=$OPTARG ;;
	b) OTHER=$OPTARG ;;
	r) REPEAT=$OPTARG ;;
	c) BIG_CACHE=$OPTARG ;;
	d) DROP=--drop-caches ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
TREE=$1
BS=${2:-128K}
for candidate in "$script_dir"/../build*; do
	[ -z "$MKIMAGE" ] && [ -x "$candidate/bin/mkimage" ] && MKIMAGE=$candidate/bin/mkimage
	[ -z "$READALL" ] && [ -x "$candidate/bench/bakefs-readall" ] &&
		READALL=$candidate/bench/bakefs-readall
	[ -z "$BAKEFS" ] && [ -x "$candidate/bin/bakefs" ] && BAKEFS=$candidate/bin/bakefs
done
[ -x "$MKIMAGE" ] || { echo "$0: no mkimage binary; use -m" >&2; exit 2; }
[ -x "$READALL" ] || { echo "$0: no bakefs-readall binary; use -R" >&2; exit 2; }
[ -z "$BAKEFS" ] && BAKEFS=$(dirname "$MKIMAGE")/bakefs

work=$(mktemp -d "${TMPDIR:-/tmp}/bakefs-reads.XXXXXX")
mnt=$work/mnt
mkdir "$mnt"
cleanup() {
	if mountpoint -q "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null || umount "$mnt"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

case $BS in
*[Kk]) bs_bytes=$((${BS%?} * 1024)) ;;
*[Mm]) bs_bytes=$((${BS%?} * 1048576)) ;;
*) bs_bytes=$BS ;;
esac
"$MKIMAGE" "$TREE" -o "$work/bakefs.img" -b "$BS"
mksquashfs "$TREE" "$work/squashfs.img" -comp zstd -b "$bs_bytes" -noappend -quiet \
	-no-progress >/dev/null
mkfs.erofs -zlz4hc -C"$bs_bytes" --quiet "$work/erofs.img" "$TREE" >/dev/null

# run NAME: one readall pass over a fresh mount of NAME; appends "NAME key=value..." to results.
run() {
	local out
	case $1 in
	bakefs) out=$("$READALL" $DROP "$work/bakefs.img") ;;
	bakefs-cache) out=$("$READALL" $DROP --cache "$BIG_CACHE" "$work/bakefs.img") ;;
	squashfs | erofs)
		mount -o loop,ro -t "$1" "$work/$1.img" "$mnt" 2>/dev/null || return 0
		out=$("$READALL" $DROP --dir "$mnt")
		umount "$mnt"
		;;
	squashfuse_ll)
		squashfuse_ll "$work/squashfs.img" "$mnt" 2>/dev/null || return 0
		out=$("$READALL" $DROP --dir "$mnt")
		fusermount -u "$mnt"
		;;
	bakefs-fuse | bakefs-fuse-b)
		local command=$BAKEFS
		[ "$1" = bakefs-fuse-b ] && command=$OTHER
		[ -x "$command" ] && "$command" mount "$work/bakefs.img" "$mnt" 2>/dev/null || return 0
		out=$("$READALL" $DROP --dir "$mnt")
		fusermount3 -u "$mnt"
		;;
	esac
	echo "$1 $out" >>"$work/results"
}

for _ in $(seq "$REPEAT"); do
	for name in bakefs bakefs-cache bakefs-fuse ${OTHER:+bakefs-fuse-b} squashfs erofs squashfuse_ll; do
		run "$name"
	done
done

echo "tree: $TREE at $BS blocks; images: bakefs $(stat -c %s "$work/bakefs.img")," \
	"squashfs $(stat -c %s "$work/squashfs.img"), erofs $(stat -c %s "$work/erofs.img") bytes"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
	"medians of $REPEAT runs, seconds"
echo
awk '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] = v[$1, kv[1]] " " kv[2] }
	files[$1] = $3; bytes[$1] = $4
}
END {
	cold = drop ? " (cold / warm)" : ""
	print "| reader | files | MiB | read all, cold | read all, warm | stat all" cold " | read all, shuffled | 10k random 4 KiB" cold " |"
	print "|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		r = order[i]; split(files[r], f, "="); split(bytes[r], b, "=")
		stat = sprintf("%.3f", median(v[r, "stat"]))
		random = sprintf("%.3f", median(v[r, "random4k"]))
		if (drop) {
			stat = sprintf("%.3f / %s", median(v[r, "stat_cold"]), stat)
			random = sprintf("%.3f / %s", median(v[r, "random4k_cold"]), random)
		}
		printf "| %s | %s | %.1f | %.3f | %.3f | %s | %.3f | %s |\n", r, f[2], b[2] / 1048576,
			median(v[r, "cold"]), median(v[r, "warm"]), stat, median(v[r, "shuffled"]), random
	}
}' drop="$DROP" "$work/results"
