#!/bin/sh
# get-zstd-source.sh against a local apt archive whose first-choice version cannot be fetched.
#
# The archive (a flat file: repository, deb-src only, built here with dpkg-source and
# dpkg-scansources) offers three versions of a fake "libzstd" source package:
#   - the version of this machine's libzstd-dev, the script's first choice: listed in Sources,
#     its files deleted (what a security archive that lists a source it does not serve gives);
#   - 9.9.9, the newest: downloads and unpacks, but is not a zstd source tree;
#   - 1.4.99, older: a tree with every file zstd.mk compiles.
# The script must try them in that order, say why the first two were refused, and unpack the
# third. Then, with every version unusable, it must fail, leave nothing behind, and name the
# two ways past it. Needs only apt and dpkg-dev, no network.
#
# Usage: zstd_source_fallback.sh SCRIPT_DIR   (platform/rump/zstd)
set -eu
zstd_dir=$1
script=$zstd_dir/get-zstd-source.sh
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/zstd-fallback.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
repo=$work/repo
mkdir -p "$repo" "$work/parts"

installed=$(dpkg-query -W -f='${Version}' libzstd-dev 2>/dev/null || true)
[ -n "$installed" ] || installed=1.5.4+dfsg2-5+deb12u1  # the test does not need it installed

# make_source VERSION COMPLETE: a source package of "libzstd" at VERSION in the repository;
# COMPLETE=yes gives it the files zstd.mk compiles and a zstd.h of 1.4.
make_source() {
  version=$1
  tree=$work/src/libzstd-$version
  mkdir -p "$tree/debian/source" "$tree/lib/common" "$tree/lib/decompress"
  echo "1.0" >"$tree/debian/source/format"
  cat >"$tree/debian/control" <<CONTROL
Source: libzstd
Maintainer: bakefs tests <tests@invalid>
Standards-Version: 4.6.2

Package: libzstd-dev
Architecture: any
Description: stand-in for the test
 Stand-in.
CONTROL
  cat >"$tree/debian/changelog" <<CHANGELOG
libzstd ($version) unstable; urgency=medium

  * Stand-in for the test.

 -- bakefs tests <tests@invalid>  Thu, 01 Jan 2026 00:00:00 +0000
CHANGELOG
  if [ "$2" = yes ]; then
    printf '#define ZSTD_VERSION_MAJOR 1\n#define ZSTD_VERSION_MINOR 4\n' >"$tree/lib/zstd.h"
    : >"$tree/lib/common/zstd_internal.h"
    for name in $(sed -n 's/^BAKEFS_ZSTD_SRCS=[[:space:]]*//p' "$zstd_dir/zstd.mk"); do
      case $name in
      huf_* | zstd_d*) : >"$tree/lib/decompress/$name" ;;
      *) : >"$tree/lib/common/$name" ;;
      esac
    done
  else
    echo "not zstd" >"$tree/README"
  fi
  (cd "$work/src" && dpkg-source -b "libzstd-$version" >/dev/null 2>&1) ||
    fail "dpkg-source -b libzstd-$version"
  mv "$work/src"/libzstd_* "$repo/"
}
make_source "$installed" yes
make_source 9.9.9 no
make_source 1.4.99 yes
(cd "$repo" && dpkg-scansources . /dev/null >Sources 2>/dev/null) || fail "dpkg-scansources"
[ "$(grep -c '^Package: libzstd' "$repo/Sources")" -eq 3 ] || fail "Sources lists $(cat "$repo/Sources")"
# The first choice is listed, but its files are gone.
upstream=${installed%-*}
rm -f "$repo/libzstd_$installed.dsc" "$repo/libzstd_$installed.tar.gz" \
  "$repo/libzstd_$upstream.tar.gz"

# This machine's apt, pointed at the test archive only (the script derives deb-src entries
# from the deb entries it finds).
echo "deb [trusted=yes] file:$repo ./" >"$work/sources.list"
cat >"$work/apt.conf" <<CONF
Dir::Etc::SourceList "$work/sources.list";
Dir::Etc::SourceParts "$work/parts";
CONF
export APT_CONFIG=$work/apt.conf

"$script" "$work/out" >"$work/log" 2>&1 || { cat "$work/log"; fail "the fetch failed"; }
cat "$work/log"
grep -q "candidates, in order: libzstd=$installed libzstd=9.9.9 libzstd=1.4.99" "$work/log" ||
  fail "candidates not in the order installed, then newest first"
grep -q "libzstd=$installed: download failed" "$work/log" || fail "first choice not refused"
grep -q "libzstd=9.9.9: unpacked, but it has no .*: not a zstd source tree" "$work/log" ||
  fail "an incomplete tree was not refused"
grep -q "using libzstd_1.4.99 (the newest version that downloaded, after 2 that did not)" \
  "$work/log" || fail "the fallback was not said"
[ -f "$work/out/lib/decompress/zstd_decompress.c" ] || fail "nothing unpacked into DEST"
[ "$(cat "$work/out/.bakefs-zstd-source")" = "libzstd_1.4.99" ] || fail "wrong version unpacked"

# Nothing usable at all: an error that names both ways past it, and no DEST.
rm -f "$repo"/libzstd_1.4.99*
if "$script" "$work/none" >"$work/log2" 2>&1; then
  cat "$work/log2"
  fail "succeeded with no usable version"
fi
cat "$work/log2"
[ ! -e "$work/none" ] || fail "a failed fetch left $work/none"
grep -q "none of the 3 version(s) of libzstd could be downloaded and unpacked" "$work/log2" ||
  fail "no summary of what was tried"
grep -q -- "-DBAKEFS_ZSTD_SOURCE_DIR=" "$work/log2" && grep -q -- "-DBAKEFS_KERNEL_CHECK=OFF" \
  "$work/log2" || fail "the error does not name both ways past it"
echo "PASS"
