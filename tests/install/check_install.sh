#!/bin/sh
# What an installed bakefs gives a user, checked from outside the source tree's build:
# the tools on a tree, their man pages and --version, an outside program compiled against the
# installed library once with find_package(bakefs) (with an image linked in by
# bakefs_embed_image) and once with pkg-config, each reading a file from an image, and the
# rumprun make fragment making an image object with the installed mkimage.
#
# Usage: check_install.sh PREFIX   (a `cmake --install --prefix` tree, or /usr for the Debian
#                                   packages)
set -eu
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/bakefs-install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkimage=$prefix/bin/mkimage
bakefs=$prefix/bin/bakefs
[ -x "$mkimage" ] && [ -x "$bakefs" ] || fail "no $mkimage or $bakefs"

# The tools on a tree.
mkdir -p "$work/tree/etc" "$work/tree/srv/www"
echo "installed bakefs reads this" >"$work/tree/etc/motd"
head -c 300000 /dev/urandom | od -An -tx1 >"$work/tree/srv/www/data.txt"
ln -s ../etc/motd "$work/tree/srv/motd"
"$mkimage" --no-progress "$work/tree" -o "$work/tree.img"
"$bakefs" verify "$work/tree.img"
"$bakefs" cat "$work/tree.img" /etc/motd | cmp - "$work/tree/etc/motd" || fail "bakefs cat"
"$bakefs" ls -lR "$work/tree.img" | grep -q 'data.txt' || fail "bakefs ls -R"
"$mkimage" --version | grep -q "format" || fail "mkimage --version names no format version"
"$bakefs" --version | grep -q "format" || fail "bakefs --version names no format version"

# Man pages (gzipped in a Debian package).
for page in mkimage bakefs; do
  ls "$prefix/share/man/man1/$page.1" "$prefix/share/man/man1/$page.1.gz" 2>/dev/null |
    grep -q . || fail "no man page $page(1) under $prefix/share/man/man1"
  man -l "$(ls "$prefix/share/man/man1/$page.1"* | head -n 1)" 2>/dev/null | grep -q "SYNOPSIS" ||
    fail "man -l $page.1 shows no SYNOPSIS"
done

# find_package(bakefs): bakefs::posix, and bakefs_embed_image() linking the image in.
cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCONSUMER_EMBED_IMAGE="$work/tree.img" >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "configuring the consumer with find_package(bakefs)"; }
cmake --build "$work/cmake-build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "building the consumer with find_package(bakefs)"; }
"$work/cmake-build/consumer" "$work/tree.img" /srv/www/data.txt |
  cmp - "$work/tree/srv/www/data.txt" || fail "the find_package consumer read wrong bytes"
"$bakefs" cat "$work/cmake-build/consumer_embedded" /etc/motd | cmp - "$work/tree/etc/motd" ||
  fail "the image linked in by bakefs_embed_image() does not read back"

# pkg-config: the same program from one compiler command line.
pc=$(find "$prefix/lib" -name bakefs.pc -path '*pkgconfig*' | head -n 1)
[ -n "$pc" ] || fail "no bakefs.pc under $prefix/lib"
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --exists bakefs || fail "pkg-config does not find bakefs"
# shellcheck disable=SC2046 # word splitting of the flags is meant
c++ -std=c++20 -o "$work/consumer-pc" "$here/consumer/consumer.cpp" \
  $(pkg-config --cflags --libs bakefs) || fail "building the consumer with pkg-config"
"$work/consumer-pc" "$work/tree.img" /etc/motd | cmp - "$work/tree/etc/motd" ||
  fail "the pkg-config consumer read wrong bytes"

# The rumprun make fragment with the installed mkimage: an image object to link.
fragment=$prefix/share/bakefs/platform/rump/bakefs.mk
[ -f "$fragment" ] || fail "no $fragment"
[ -f "$prefix/share/bakefs/platform/rump/Makefile" ] &&
  [ -f "$prefix/share/bakefs/driver/mount.cpp" ] ||
  fail "the rump component's sources are not beside bakefs.mk"
cat >"$work/Makefile" <<MAKEFILE
BAKEFS_IMAGE_SOURCES := tree
BAKEFS_MKIMAGE := $mkimage
# No rumprun toolchain here, so no rumprun base /etc to merge.
BAKEFS_BASE_ETC := none
include $fragment
all: bakefs-image
MAKEFILE
make -C "$work" >"$work/make.log" 2>&1 || { cat "$work/make.log"; fail "make with bakefs.mk"; }
"$bakefs" cat "$work/bakefs-build/image.o" /etc/motd | cmp - "$work/tree/etc/motd" ||
  fail "bakefs.mk's image object does not read back"
echo "PASS: $prefix"
