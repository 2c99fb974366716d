#!/bin/sh
# Generates the source tree that the rump kernel test embeds and compares against: every kind
# of file, owners, modes, nanosecond times, hard links, symlinks, holes, device nodes and
# extended attributes. Needs root (device nodes, foreign owners, trusted.* attributes) and a
# file system with extended attributes; what cannot be made is left out, and the test
# compares whatever the tree holds.
#
# Usage: make_tree.sh DIR [plain|devtmp]
#   plain   no /dev and no /tmp at the top: the rump kernel's show through the union mount
#   devtmp  the tree has its own /dev (a Linux /dev/null node) and /tmp, which the boot hook
#           must cover
# SPDX-License-Identifier: BSD-2-Clause
set -eu
dir=$1
variant=${2:-plain}
if [ -e "$dir" ]; then
  echo "make_tree: $dir exists" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"

stamp() { touch -h -d "$1" "$2"; }

# Text, binary, empty, large compressible, random (stored raw), sparse.
mkdir -p etc bin a/b/c/d many "with space" "utf8-ñandú"
printf 'Welcome to a rump kernel booted from bakefs.\n' > etc/motd
printf 'bakefs-test\n' > etc/hostname
: > etc/empty
i=0
while [ $i -lt 40000 ]; do
  echo "line $i of a compressible file, repeated so zstd has something to chew on"
  i=$((i + 1))
done > bin/big
head -c 300000 /dev/urandom > bin/random
head -c 4097 /dev/urandom > bin/odd-size
dd if=/dev/urandom of=bin/sparse bs=1 count=100 seek=2097152 2>/dev/null
printf 'deep\n' > a/b/c/d/leaf
printf 'spaced out\n' > "with space/file name"
printf 'hola\n' > "utf8-ñandú/año"
i=0
while [ $i -lt 300 ]; do
  printf 'entry %d\n' $i > "many/file-with-a-longish-name-$i"
  i=$((i + 1))
done

# Owners and modes.
printf 'secret\n' > etc/shadow
chmod 0600 etc/shadow
chown 1234:5678 etc/shadow 2>/dev/null || true
printf '#!/bin/sh\n' > bin/setuid
chmod 04755 bin/setuid
mkdir -p sticky
chmod 01777 sticky
chmod 0700 a/b/c
chown 42:43 a/b 2>/dev/null || true

# Links.
ln etc/motd a/motd-hard
ln etc/motd "with space/motd-hard-2"
ln -s etc/motd link-rel
ln -s /etc/motd link-abs
ln -s does/not/exist a/dangling
ln -s "$(printf 'x%.0s' $(seq 1 200))" a/long-target
ln -s ../.. a/b/up

# Special files.
mkdir -p nodes
mknod nodes/char c 1 3 2>/dev/null || true
mknod nodes/block b 8 17 2>/dev/null || true
mkfifo nodes/fifo 2>/dev/null || true

# Extended attributes (user.* everywhere that allows it, trusted.* / security.* as root).
if command -v setfattr >/dev/null 2>&1; then
  setfattr -n user.comment -v "hello from xattrs" etc/motd 2>/dev/null || true
  setfattr -n user.binary -v 0x00ff10fe00 etc/motd 2>/dev/null || true
  setfattr -n user.empty etc/hostname 2>/dev/null || true
  setfattr -n user.dir -v "on a directory" a 2>/dev/null || true
  setfattr -n trusted.origin -v "trusted value" bin/big 2>/dev/null || true
  setfattr -n security.label -v "system:u:label" bin/random 2>/dev/null || true
fi

if [ "$variant" = devtmp ]; then
  mkdir -p dev tmp
  mknod dev/null c 1 3 2>/dev/null || true
  printf 'not a device\n' > dev/readme
  chmod 01777 tmp
  printf 'from the image\n' > tmp/image-file
fi

# Times last, deepest first, with nanoseconds.
find . -depth | while IFS= read -r p; do
  stamp "2021-03-04 05:06:07.123456789" "$p"
done
stamp "1999-12-31 23:59:59.987654321" etc/motd
stamp "2030-01-02 03:04:05.000000001" bin/big
