#!/bin/bash
# make_golden.sh: how tests/compat/v1_0.bakefs and v1_0.manifest were made, with the mkimage of
# format 1.0 (commit 0fb6351). Kept to show what the golden image holds; do not rerun it with a
# newer mkimage (that would make a golden image of the newer format, not of 1.0).
#   usage: make_golden.sh MKIMAGE OUTDIR
# The tree: 150 small unit files and text files sharing fragment blocks and the trained dictionary, a file of several
# 4 KiB blocks with a tail, a sparse file with a hole, two identical files (deduplicated), an
# empty file, a hard link, symlinks, a directory with modes; 4 KiB blocks, level 9.
# The manifest lists each entry as: type mode size sha256 path [target], sorted by path.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
mkimage=$1 out=$2
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/etc/conf.d" "$tree/etc/units" "$tree/srv/www" "$tree/empty"
for i in $(seq 1 150); do
	printf '[Unit]\nDescription=service number %d of the golden tree\nAfter=network.target\n\n[Service]\nEnvironment=TOKEN=%s\nExecStart=/usr/sbin/daemon-%d --port %d\nRestart=on-failure\nUser=svc%d\n\n[Install]\nWantedBy=multi-user.target\n' \
		"$i" "$(echo "$i" | sha256sum | cut -c1-48)" "$i" $((8000 + i * 13)) $((i % 7)) >"$tree/etc/units/unit$i.service"
done
for i in $(seq 1 40); do
	for j in $(seq 1 $((20 + i * 3))); do
		echo "option_$j = value $((i * j % 97)) # setting $j of file $i, see the manual"
	done >"$tree/etc/conf.d/file$i.conf"
done
for i in $(seq 1 2000); do echo "line $i: the quick brown fox jumps over the lazy dog $((i * 7919 % 1000))"; done \
	>"$tree/srv/www/big.txt"
cp "$tree/srv/www/big.txt" "$tree/srv/www/copy.txt"
printf 'head' >"$tree/srv/sparse.bin"
truncate -s 20000 "$tree/srv/sparse.bin"
printf 'tail' >>"$tree/srv/sparse.bin"
: >"$tree/srv/empty.txt"
ln "$tree/etc/conf.d/file1.conf" "$tree/etc/hardlink.conf"
ln -s ../srv/www/big.txt "$tree/etc/big-link"
ln -s /nowhere/at/all "$tree/srv/dangling"
chmod 0700 "$tree/empty"
chmod 0755 "$tree/srv/www/big.txt"
"$mkimage" "$tree" -o "$out/v1_0.bakefs" -b 4K -l 9 --dictionary 2K --mtime 1700000000 --no-progress -v
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
	type=$(stat -c %F "$p" | tr ' ' _)
	mode=$(stat -c %a "$p")
	size=$(stat -c %s "$p")
	case $type in
	regular*) echo "file $mode $size $(sha256sum <"$p" | cut -d' ' -f1) ${p#./}" ;;
	directory) echo "dir $mode 0 - ${p#./}" ;;
	symbolic_link) echo "symlink 777 $size - ${p#./} $(readlink "$p")" ;;
	esac
done) >"$out/v1_0.manifest"
