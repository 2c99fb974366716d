#!/bin/sh
# Regenerates the seed images of the mount_fuzzer corpus: small trees that together use every
# feature of the format, built with mkimage and named by their SHA-1 as libFuzzer names inputs.
#
# Usage: tests/fuzz/make_seeds.sh MKIMAGE [OUTDIR]
#   MKIMAGE  the mkimage binary (e.g. build/bin/mkimage)
#   OUTDIR   where the images go; default: the corpus directory next to this script
# Prints "sha1 name" per seed. Needs root (device nodes, owners, trusted.* xattrs) and a file
# system with user xattrs for its temporary directory. The same mkimage gives the same bytes:
# contents come from fixed generators and every mtime is set explicitly.
# SPDX-License-Identifier: BSD-2-Clause
set -eu

mkimage=$1
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here/corpus}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/bakefs-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022
export LC_ALL=C

# random FILE SIZE SEED: incompressible bytes (AES-CTR of zeros), the same for the same seed.
random() {
  key=$(printf '%032x' "$3")
  head -c "$2" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 >"$1"
}
# text FILE SIZE WORD: compressible lines.
text() {
  seq 1 100000 | sed "s/^/$3 line /" | head -c "$2" >"$1"
}
# seal DIR: one mtime for everything, a few others, so that the image does not depend on when
# the tree was made.
seal() {
  find "$1" -exec touch -h -d @1700000000 {} +
  find "$1" -name '*.old' -exec touch -h -d @86400 {} +
}
# image NAME DIR MKIMAGE-OPTIONS...: builds and stores one seed.
image() {
  name=$1
  dir=$2
  shift 2
  "$mkimage" "$dir" -o "$work/$name.img" -j 1 "$@"
  sum=$(sha1sum "$work/$name.img" | cut -d' ' -f1)
  cp "$work/$name.img" "$out/$sum"
  echo "$sum $name ($(wc -c <"$work/$name.img") bytes)"
}

# ---- features: every file type, sizes around the block size, links, xattrs, owners ----------
t=$work/features
mkdir -p "$t/a/b/c" "$t/sticky" "$t/empty"
: >"$t/zero"
printf x >"$t/one"
text "$t/text100" 100 small
random "$t/r4096" 4096 1
random "$t/r4097" 4097 1 # its first block is r4096: deduplicated
text "$t/t8191" 8191 big
cp "$t/t8191" "$t/t8191.copy" # whole file deduplicated
text "$t/a/b/c/deep" 300 deep
ln "$t/r4096" "$t/hardlink"
ln "$t/one" "$t/a/one-again"
ln -s one "$t/symlink"
ln -s "$(printf 'long/%.0s' $(seq 1 40))end" "$t/a/long-symlink"
ln -s /nonexistent/absolute "$t/a/b/dangling"
mkfifo "$t/fifo"
mknod "$t/char" c 1 3
mknod "$t/block" b 7 0
if command -v python3 >/dev/null; then
  python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$t/socket"
fi
setfattr -n user.mime_type -v text/plain "$t/text100"
setfattr -n user.empty -v "" "$t/a"
setfattr -n user.b -v 2 "$t/one"
setfattr -n user.a -v 1 "$t/one"
setfattr -n user.binary -v 0x00ff00ff "$t/one"
setfattr -n trusted.link -v on-a-symlink -h "$t/symlink"
setfattr -n trusted.big -v "$(text /dev/stdout 600 x)" "$t/r4097"
chmod 4755 "$t/r4097"
chmod 1777 "$t/sticky"
chmod 0 "$t/zero"
chown -h 1000:100 "$t/text100" "$t/symlink" "$t/a"
chown 65534:65534 "$t/fifo"
printf old >"$t/a/b/file.old"
seal "$t"
image features "$t" -b 4K
image features-no-fragments "$t" -b 4K --no-fragments
image features-no-dedup-l1 "$t" -b 4K --no-dedup -l 1

# ---- sparse: holes at the start, middle and end, a file of holes only ----------------------
t=$work/sparse
mkdir -p "$t"
truncate -s 40960 "$t/only-holes"
text "$t/hole-start" 100 start
dd if="$t/hole-start" of="$t/hole-start2" bs=4096 seek=3 2>/dev/null
rm "$t/hole-start"
mv "$t/hole-start2" "$t/hole-start"
text "$t/hole-end" 4096 end
truncate -s 16385 "$t/hole-end"
text "$t/middle" 5000 mid
dd if=/dev/zero of="$t/middle" bs=4096 seek=2 count=2 conv=notrunc 2>/dev/null
text "$t/middle.tail" 300 tail
cat "$t/middle.tail" >>"$t/middle"
rm "$t/middle.tail"
seal "$t"
image sparse "$t" -b 4K

# ---- huge: 4 GiB and a bit in 1 MiB blocks, nearly all holes (past 32-bit offsets) ---------
t=$work/huge
mkdir -p "$t"
text "$t/data" 5000 huge
truncate -s $((4 * 1024 * 1024 * 1024 + 1234)) "$t/five-gig"
dd if="$t/data" of="$t/five-gig" bs=1M seek=3072 conv=notrunc 2>/dev/null
dd if="$t/data" of="$t/five-gig" bs=1 seek=$((4 * 1024 * 1024 * 1024)) count=1234 conv=notrunc \
  2>/dev/null
rm "$t/data"
seal "$t"
image huge "$t" -b 1M

# ---- bigdir: a few hundred entries, long and odd names --------------------------------------
t=$work/bigdir
mkdir -p "$t/dir"
printf shared >"$t/dir/0-shared"
for i in $(seq 1 300); do
  ln "$t/dir/0-shared" "$t/dir/entry-$i"
done
for i in $(seq 1 12); do mkdir "$t/dir/sub-$i"; done
ln -s 0-shared "$t/dir/$(printf 'n%.0s' $(seq 1 255))"
printf 'odd' >"$t/dir/$(printf 'caf\303\251 \001 tab\there')"
printf 'high' >"$t/dir/$(printf '\377\376')"
seal "$t"
image bigdir "$t" -b 4K

# ---- deep: thirty levels, with symlinks that point up ---------------------------------------
t=$work/deep
p=$t
for i in $(seq 1 30); do
  p=$p/d$i
  mkdir -p "$p"
  printf "%s" "$i" >"$p/level"
  ln -s .. "$p/up"
done
seal "$t"
image deep "$t" -b 4K

# ---- small variants: an empty root, larger blocks, fast compression --------------------------
t=$work/empty
mkdir -p "$t"
seal "$t"
image empty "$t" -b 4K

t=$work/blocks64k
mkdir -p "$t/x"
text "$t/x/big" 70000 sixty-four
text "$t/x/small" 3000 sixty-four
random "$t/x/raw" 1000 7
seal "$t"
image blocks64k "$t" -b 64K -l 3

# ---- dictionary: many small text files, compressed with a trained zstd dictionary ------------
t=$work/dictionary
mkdir -p "$t/notes"
for i in $(seq 1 60); do
  text "$t/notes/n$i.txt" $((300 + i * 37)) "note $((i % 7)) entry"
done
random "$t/raw" 5000 9
seal "$t"
image dictionary "$t" -b 4K --dictionary 4K

# ---- boot: a launch configuration and tmpfs directories (boot records) ----------------------
t=$work/boot
mkdir -p "$t/etc" "$t/var/run"
printf 'listen 80\n' >"$t/etc/httpd.conf"
printf '{"cmdline": "httpd -f /etc/httpd.conf", "env": "TZ=UTC"}' >"$work/boot.json"
seal "$t"
image boot "$t" -b 4K --config "$work/boot.json" --tmpfs /tmp,/var/run,/var/cache
image boot-plain-root "$t" -b 4K --config "$work/boot.json" --tmpfs /tmp,/var/run \
  --root-mount plain

# ---- x86 filter (format 1.1): an x86-64 ELF file whose one PT_LOAD segment is executable, with
# near CALL/JMP instructions, so that its blocks are stored through the filter -----------------
# le BYTES VALUE: VALUE as BYTES little-endian bytes, in octal escapes for printf.
le() {
  v=$2
  for _ in $(seq 1 "$1"); do
    printf '\\%03o' $((v % 256))
    v=$((v / 256))
  done
}
t=$work/x86
mkdir -p "$t/bin"
size=20000
{
  # ELF64 header: ELFCLASS64, ELFDATA2LSB, version 1, ET_EXEC, EM_X86_64, phoff 64, one
  # program header of 56 bytes; then PT_LOAD, PF_R | PF_X, the whole file.
  printf "\\177ELF$(le 1 2)$(le 1 1)$(le 1 1)$(le 9 0)$(le 2 2)$(le 2 62)$(le 4 1)$(le 8 0)"
  printf "$(le 8 64)$(le 8 0)$(le 4 0)$(le 2 64)$(le 2 56)$(le 2 1)$(le 2 0)$(le 2 0)$(le 2 0)"
  printf "$(le 4 1)$(le 4 5)$(le 8 0)$(le 8 0)$(le 8 0)$(le 8 $size)$(le 8 $size)$(le 8 4096)"
  # Calls to a few targets from many places, between runs of text.
  i=0
  while [ $i -lt 1000 ]; do
    printf "$(le 1 232)$(le 4 $(((i * 37) % 4096)))mov line $i;"
    printf "$(le 1 233)$(le 3 $((16777216 - 64 - i)))$(le 1 255)"
    i=$((i + 1))
  done
} | head -c $size >"$t/bin/program"
text "$t/notes" 3000 x86
seal "$t"
image x86 "$t" -b 4K
