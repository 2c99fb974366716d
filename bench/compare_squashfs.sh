#!/bin/bash
# compare_squashfs.sh: build one tree with mkimage and mksquashfs (and mkfs.erofs) at equal
# block sizes, and print image sizes, build times and their ratios from one run.
# SPDX-License-Identifier: BSD-2-Clause
set -eu

usage() {
	cat <<EOF
usage: $0 [-m MKIMAGE] [-B MKIMAGE] [-r REPEAT] [-l LEVEL] [-x "LEVEL..."] [-E] [-S] [-T]
          [-R READALL] [TREE [BLOCKSIZE...]]

Builds TREE (default /usr/include) at each BLOCKSIZE (default: 128K 1M) with
  mkimage      at its default zstd level (bakefs-default)
  mkimage      at -l LEVEL (bakefs-equal; default 15, mksquashfs's default zstd
               level; left out when it is mkimage's default too)
  mkimage      at each extra level of -x (bakefs-lN; default "19", "" for none)
  mksquashfs   -comp zstd -Xcompression-level LEVEL -b BLOCKSIZE -noappend
  mkfs.erofs   -zlz4hc -C BLOCKSIZE (erofs-utils has no zstd; -E leaves it out)
  mkimage -B   another mkimage at its default level (bakefs-base: say, today's layout
               against a change)
and once, not per block size:
  -S           mkimage --optimize size (bakefs-size) and mksquashfs at its best
               settings, -b 1M -Xcompression-level 22 (squashfs-best)
  -T           the solid bound: tar of the tree (sorted by name) through zstd -19 -T0
REPEAT times each (default 3), interleaved, and prints the median wall and CPU
(user + system) seconds of each build, the image sizes, and the ratios of
bakefs to squashfs. Every tool uses all cores. The machine may be shared: the
ratios of one run are what to read, and CPU seconds are less disturbed by other
load than wall seconds. MKIMAGE may also come from the environment; by default
the build directories next to this script are searched.
With -R READALL (bench/bakefs-readall), each bakefs image of the last run is read
back through the driver core, REPEAT times interleaved: the median seconds of the
cold read-all and of 2,000 random 4 KiB reads, and their ratio to bakefs-base (or
to squashfs' block size peer, bakefs-default, when there is no -B).
EOF
	exit 2
}

script_dir=$(cd "$(dirname "$0")" && pwd)
MKIMAGE=${MKIMAGE:-}
REPEAT=${REPEAT:-3}
EQUAL_LEVEL=15
EXTRA_LEVELS=${EXTRA_LEVELS-19}
EROFS=1
BASE=
SIZE_PRESET=0
SOLID=0
READALL=
while getopts "m:B:r:l:x:ESTR:h" opt; do
	case $opt in
	m) MKIMAGE=$OPTARG ;;
	B) BASE=$OPTARG ;;
	S) SIZE_PRESET=1 ;;
	T) SOLID=1 ;;
	R) READALL=$OPTARG ;;
	r) REPEAT=$OPTARG ;;
	l) EQUAL_LEVEL=$OPTARG ;;
	x) EXTRA_LEVELS=$OPTARG ;;
	E) EROFS=0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
TREE=${1:-/usr/include}
[ $# -gt 0 ] && shift
BLOCKS=${*:-128K 1M}

if [ -z "$MKIMAGE" ]; then
	for candidate in "$script_dir"/../build*/bin/mkimage; do
		[ -x "$candidate" ] && MKIMAGE=$candidate && break
	done
fi
if [ -z "$MKIMAGE" ] || [ ! -x "$MKIMAGE" ]; then
	echo "$0: no mkimage binary; use -m" >&2
	exit 2
fi
[ -d "$TREE" ] || { echo "$0: $TREE is not a directory" >&2; exit 2; }
command -v mksquashfs >/dev/null || { echo "$0: mksquashfs not found" >&2; exit 2; }
command -v mkfs.erofs >/dev/null || EROFS=0
[ -x /usr/bin/time ] || { echo "$0: needs /usr/bin/time (GNU time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bakefs-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

bytes_of() { # 128K -> 131072
	local n=${1%[KkMm]}
	case $1 in
	*[Kk]) echo $((n * 1024)) ;;
	*[Mm]) echo $((n * 1024 * 1024)) ;;
	*) echo "$n" ;;
	esac
}

default_level=$("$MKIMAGE" --help | sed -n 's/.*--level.*=\([0-9]*\).*/\1/p')
tools="bakefs-default"
[ -n "$BASE" ] && tools="$tools bakefs-base"
[ "$EQUAL_LEVEL" != "$default_level" ] && tools="$tools bakefs-equal"
for level in $EXTRA_LEVELS; do
	[ "$level" != "$default_level" ] && [ "$level" != "$EQUAL_LEVEL" ] && tools="$tools bakefs-l$level"
done
tools="$tools squashfs"
[ "$EROFS" = 1 ] && tools="$tools erofs"

# command_for TOOL BLOCK IMAGE: the build command, in the array cmd.
command_for() {
	local bs
	bs=$(bytes_of "$2")
	case $1 in
	bakefs-default) cmd=("$MKIMAGE" "$TREE" -o "$3" -b "$2") ;;
	bakefs-base) cmd=("$BASE" "$TREE" -o "$3" -b "$2") ;;
	bakefs-size) cmd=("$MKIMAGE" "$TREE" -o "$3" --optimize size) ;;
	squashfs-best) cmd=(mksquashfs "$TREE" "$3" -comp zstd -Xcompression-level 22
		-b 1048576 -noappend -quiet -no-progress) ;;
	solid) cmd=(sh -c 'tar -C "$1" --sort=name -cf - . | zstd -19 -T0 -q -c >"$2"' solid "$TREE" "$3") ;;
	bakefs-equal) cmd=("$MKIMAGE" "$TREE" -o "$3" -b "$2" -l "$EQUAL_LEVEL") ;;
	bakefs-l*) cmd=("$MKIMAGE" "$TREE" -o "$3" -b "$2" -l "${1#bakefs-l}") ;;
	squashfs) cmd=(mksquashfs "$TREE" "$3" -comp zstd -Xcompression-level "$EQUAL_LEVEL"
		-b "$bs" -noappend -quiet -no-progress) ;;
	erofs) cmd=(mkfs.erofs -zlz4hc -C"$bs" --quiet "$3" "$TREE") ;;
	esac
}

# Read the tree once so that no build pays for a cold page cache.
find "$TREE" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true

once=""
[ "$SIZE_PRESET" = 1 ] && once="bakefs-size squashfs-best"
[ "$SOLID" = 1 ] && once="$once solid"
# run_one TOOL BLOCK: one build, appended to the results.
run_one() {
	local img="$work/$1-$2.img"
	rm -f "$img"
	command_for "$1" "$2" "$img"
	/usr/bin/time -f "%e %U %S" -o "$work/time" "${cmd[@]}" >/dev/null
	read -r wall user sys <"$work/time"
	echo "$2 $1 $(stat -c %s "$img") $wall $(echo "$user + $sys" | bc)" >>"$work/results"
}
for _ in $(seq "$REPEAT"); do
	for bs in $BLOCKS; do
		for tool in $tools; do run_one "$tool" "$bs"; done
	done
	for tool in $once; do run_one "$tool" best; done
done

entries=$(find "$TREE" | wc -l)
tree_bytes=$(du -s --apparent-size -B1 "$TREE" | cut -f1)
echo "tree: $TREE, $entries entries, $(echo "scale=1; $tree_bytes / 1048576" | bc) MiB (du --apparent-size)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
	"medians of $REPEAT interleaved runs"
echo "mkimage: $MKIMAGE (default level $default_level, equal level $EQUAL_LEVEL);" \
	"$(mksquashfs -version | head -1) at zstd level $EQUAL_LEVEL"
echo
awk -v tools="$tools" -v blocks="$BLOCKS" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ key = $1 " " $2; size[key] = $3; wall[key] = wall[key] " " $4; cpu[key] = cpu[key] " " $5 }
END {
	nt = split(tools, t, " "); nb = split(blocks, b, " ")
	print "| block | builder | image bytes | image MiB | build wall s | build CPU s | size / squashfs | wall / squashfs | CPU / squashfs |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nb; i++) {
		s = b[i] " squashfs"; sw = median(wall[s]); sc = median(cpu[s])
		for (j = 1; j <= nt; j++) {
			k = b[i] " " t[j]; w = median(wall[k]); c = median(cpu[k])
			printf "| %s | %s | %d | %.2f | %.2f | %.2f | %.3f | %.2f | %.2f |\n", b[i], t[j],
				size[k], size[k] / 1048576, w, c, size[k] / size[s], w / sw, c / sc
		}
	}
	if (!(("best squashfs-best") in size) && !(("best solid") in size)) exit
	print ""
	print "| preset | builder | image bytes | image MiB | build wall s | build CPU s | size / squashfs-best | size / solid tar.zst |"
	print "|---|---|---|---|---|---|---|---|"
	n = split("bakefs-size squashfs-best solid", o, " ")
	for (j = 1; j <= n; j++) {
		k = "best " o[j]
		if (!(k in size)) continue
		rs = ("best squashfs-best" in size) ? sprintf("%.3f", size[k] / size["best squashfs-best"]) : "-"
		rt = ("best solid" in size) ? sprintf("%.3f", size[k] / size["best solid"]) : "-"
		printf "| best | %s | %d | %.2f | %.2f | %.2f | %s | %s |\n", o[j], size[k],
			size[k] / 1048576, median(wall[k]), median(cpu[k]), rs, rt
	}
}' "$work/results"

[ -n "$READALL" ] || exit 0
# Reading back through the core: cold read-all and random 4 KiB reads, interleaved.
readers="bakefs-default"
[ -n "$BASE" ] && readers="bakefs-base bakefs-default"
for _ in $(seq "$REPEAT"); do
	for bs in $BLOCKS; do
		for tool in $readers; do
			line=$("$READALL" --random 2000 "$work/$tool-$bs.img" | tail -1)
			cold=$(echo "$line" | sed -n 's/.*cold=\([0-9.]*\).*/\1/p')
			random=$(echo "$line" | sed -n 's/.*random4k=\([0-9.]*\).*/\1/p')
			echo "$bs $tool $cold $random" >>"$work/reads"
		done
	done
done
echo
echo "reads through the core (bakefs-readall --random 2000; medians of $REPEAT; load $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v readers="$readers" -v blocks="$BLOCKS" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ key = $1 " " $2; cold[key] = cold[key] " " $3; rnd[key] = rnd[key] " " $4 }
END {
	nr = split(readers, r, " "); nb = split(blocks, b, " ")
	print "| block | image | cold read-all s | 2,000 random 4 KiB s | cold / first | random / first |"
	print "|---|---|---|---|---|---|"
	for (i = 1; i <= nb; i++) {
		f = b[i] " " r[1]
		for (j = 1; j <= nr; j++) {
			k = b[i] " " r[j]
			printf "| %s | %s | %.4f | %.4f | %.2f | %.2f |\n", b[i], r[j], median(cold[k]),
				median(rnd[k]), median(cold[k]) / median(cold[f]), median(rnd[k]) / median(rnd[f])
		}
	}
}' "$work/reads"
