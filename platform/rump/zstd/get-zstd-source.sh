#!/bin/sh
# Fetch Debian's zstd source package with apt-get source and unpack it into DEST, for the
# kernel build of zstd's decompressor (see zstd.mk and README.md next to this script).
#
# Usage: get-zstd-source.sh DEST [PACKAGE[=VERSION]]
#
# The deb-src list is derived at run time from the system's own apt sources: every "deb"
# entry (deb822 stanzas in *.sources, one-line entries in sources.list and *.list) becomes a
# "deb-src" entry of the same archive, suite, components and keys. It goes into a private apt
# configuration under a temporary directory, with its own lists and caches, so the system's
# apt state is neither needed nor touched, and the machine needs no deb-src entries of its
# own. Works as root (apt downloads as _apt when it can) and as a normal user.
#
# PACKAGE defaults to "libzstd". Without a version, every version the archive's deb-src lists
# offer is a candidate: the installed libzstd-dev's first, then the others newest first; the
# first that really downloads, unpacks and holds the files zstd.mk compiles is taken, and the
# script says which and why. (The kernel's decoder need not match the host's libzstd: it is
# compiled against its own zstd.h, and zstd 1.x frames decode with any 1.x decoder.) With
# PACKAGE=VERSION, only that version. Needs apt and dpkg-dev (dpkg-source). DEST must not
# exist yet; it is created complete or not at all.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# What gets past a machine where no zstd source can be fetched.
no_source_help() {
  cat >&2 <<'HELP'
get-zstd-source: two ways past this:
  - give any zstd 1.x source tree (an upstream release, or one unpacked by hand):
      cmake -S . -B build -DBAKEFS_ZSTD_SOURCE_DIR=/path/to/zstd   (rumpmake: ZSTD_SRC=...)
  - or build without the kernel build of the driver and its checks:
      cmake -S . -B build -DBAKEFS_KERNEL_CHECK=OFF   (not with BAKEFS_RUMP_PREFIX)
HELP
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DEST [PACKAGE[=VERSION]]" >&2
  exit 2
fi
dest=$1
package=${2:-libzstd}
if [ -e "$dest" ]; then
  echo "get-zstd-source: $dest already exists" >&2
  exit 1
fi
for tool in apt-get apt-config dpkg-source; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "get-zstd-source: $tool not found (apt and dpkg-dev are needed)" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bakefs-zstd-src.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt downloads as the unprivileged _apt user when run as root: let it reach its directories.
chmod 755 "$work"
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" \
  "$work/download"

# Where the system keeps its sources (normally /etc/apt/sources.list and sources.list.d/).
source_list=$(apt-config shell v Dir::Etc::sourcelist/f | sed -n "s/^v='\(.*\)'$/\1/p")
source_parts=$(apt-config shell v Dir::Etc::sourceparts/d | sed -n "s/^v='\(.*\)'$/\1/p")

# deb822: every enabled stanza whose Types has "deb" again with Types: deb-src (existing
# deb-src stanzas are left out, they would only repeat an entry).
for f in "$source_parts"/*.sources; do
  [ -f "$f" ] || continue
  awk 'BEGIN { RS = ""; ORS = "\n\n"; IGNORECASE = 1 }
       {
         n = split($0, line, "\n"); types = ""; enabled = 1; out = ""
         for (i = 1; i <= n; i++) {
           if (line[i] ~ /^#/) continue
           if (tolower(line[i]) ~ /^types:/) { types = line[i]; continue }
           if (tolower(line[i]) ~ /^enabled:[ \t]*no/) enabled = 0
           out = out line[i] "\n"
         }
         sub(/^[^:]*:/, "", types)
         if (enabled && (" " types " ") ~ /[ \t]deb[ \t]/) printf "Types: deb-src\n%s\n", out
       }' "$f" >>"$work/sources.list.d/derived.sources"
done
# One-line format: "deb [options] uri suite components" becomes "deb-src ...".
for f in "$source_list" "$source_parts"/*.list; do
  [ -f "$f" ] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$work/sources.list"
done
touch "$work/sources.list" "$work/sources.list.d/derived.sources"
if ! [ -s "$work/sources.list" ] && ! [ -s "$work/sources.list.d/derived.sources" ]; then
  echo "get-zstd-source: no deb entries in $source_list or $source_parts" >&2
  exit 1
fi

# The private apt: its own source lists, package lists and caches; everything else (keys,
# proxies, the _apt user) as the system configures it.
apt_private() {
  apt_options apt-get -q "$@"
}
apt_cache_private() {
  apt_options apt-cache "$@"
}
apt_options() {
  tool=$1
  shift
  "$tool" \
    -o Dir::Etc::SourceList="$work/sources.list" \
    -o Dir::Etc::SourceParts="$work/sources.list.d" \
    -o Dir::State::Lists="$work/lists" \
    -o Dir::Cache="$work/cache" \
    -o Dir::Cache::pkgcache= \
    -o Dir::Cache::srcpkgcache= \
    -o APT::Get::List-Cleanup=false \
    "$@"
}

echo "get-zstd-source: apt-get update (private deb-src lists)"
apt_private update >"$work/update.log" 2>&1 || {
  cat "$work/update.log" >&2
  echo "get-zstd-source: apt-get update of the deb-src lists failed" >&2
  no_source_help
  exit 1
}

# The versions to try, in order: the installed libzstd-dev's (the same zstd the host tools link,
# when the archive still serves it), then every version the deb-src lists offer, newest first.
# The index alone does not prove a download works (a security archive may list a source it
# does not serve): each candidate is downloaded, unpacked and checked before it is taken.
candidates=""
case $package in
*=*) candidates=$package ;; # an exact version was asked for: only that one
*)
  offered=$(apt_cache_private showsrc "$package" 2>/dev/null |
    sed -n "/^Package: $package\$/,/^\$/s/^Version: //p" | sort -u)
  newest_first=""
  for v in $offered; do
    # insert v into newest_first, kept in descending dpkg order
    out="" placed=0
    for w in $newest_first; do
      if [ $placed -eq 0 ] && dpkg --compare-versions "$v" gt "$w"; then
        out="$out $v"
        placed=1
      fi
      out="$out $w"
    done
    [ $placed -eq 1 ] || out="$out $v"
    newest_first=$out
  done
  installed=""
  if [ "$package" = libzstd ]; then
    installed=$(dpkg-query -W -f='${Version}' libzstd-dev 2>/dev/null || true)
  fi
  [ -z "$installed" ] || candidates="$package=$installed"
  for v in $newest_first; do
    [ "$v" = "$installed" ] || candidates="$candidates $package=$v"
  done
  ;;
esac
if [ -z "$candidates" ]; then
  echo "get-zstd-source: the deb-src lists offer no source package $package" >&2
  no_source_help
  exit 1
fi
echo "get-zstd-source: candidates, in order:$(printf ' %s' $candidates)" \
  "(${installed:+the installed libzstd-dev's first, then }newest first)"

# The files the kernel build compiles (zstd.mk's list) and the header it compiles against.
required="lib/zstd.h lib/common/zstd_internal.h"
for name in $(sed -n 's/^BAKEFS_ZSTD_SRCS=[[:space:]]*//p' "$here/zstd.mk"); do
  required="$required $name"
done

# try CANDIDATE: download, unpack and check one version into $work/tree; 0 if it is usable.
try() {
  rm -rf "$work/download" "$work/tree"
  mkdir -p "$work/download"
  if ! (cd "$work/download" && apt_private source --download-only "$1") >"$work/source.log" 2>&1
  then
    why=$(tr -d '\r' <"$work/source.log" | grep -E -A1 -m1 '^(E|Err):' | tr -s '\n ' ' ')
    echo "get-zstd-source:   $1: download failed: ${why:-apt-get source failed}"
    return 1
  fi
  dsc=$(ls "$work"/download/*.dsc 2>/dev/null | head -n 1)
  if [ -z "$dsc" ]; then
    echo "get-zstd-source:   $1: apt-get source left no .dsc"
    return 1
  fi
  # apt-get has checked every file against the signed Sources index; dpkg-source checks them
  # against the .dsc and applies Debian's patches.
  if ! dpkg-source -q -x "$dsc" "$work/tree" >"$work/unpack.log" 2>&1; then
    why=$(grep -v '^$' "$work/unpack.log" | tail -n 1)
    echo "get-zstd-source:   $1: dpkg-source -x failed: $why"
    return 1
  fi
  for f in $required; do
    case $f in
    lib/*) path=$f ;;
    *) path=lib/common/$f; [ -f "$work/tree/$path" ] || path=lib/decompress/$f ;;
    esac
    if ! [ -f "$work/tree/$path" ]; then
      echo "get-zstd-source:   $1: unpacked, but it has no $f: not a zstd source tree"
      return 1
    fi
  done
  major=$(sed -n 's/^#define ZSTD_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' "$work/tree/lib/zstd.h")
  minor=$(sed -n 's/^#define ZSTD_VERSION_MINOR[[:space:]]*\([0-9]*\).*/\1/p' "$work/tree/lib/zstd.h")
  if [ "${major:-0}" -ne 1 ] || [ "${minor:-0}" -lt 4 ]; then
    echo "get-zstd-source:   $1: zstd ${major:-?}.${minor:-?}; the kernel build needs 1.4 or later 1.x"
    return 1
  fi
  basename "$dsc" .dsc >"$work/tree/.bakefs-zstd-source"
  return 0
}

chosen=""
tried=0
for c in $candidates; do
  tried=$((tried + 1))
  echo "get-zstd-source: trying $c"
  if try "$c"; then
    chosen=$c
    break
  fi
done
if [ -z "$chosen" ]; then
  echo "get-zstd-source: none of the $tried version(s) of $package could be downloaded and unpacked" >&2
  no_source_help
  exit 1
fi

mkdir -p "$(dirname "$dest")"
mv "$work/tree" "$dest"
why="the installed libzstd-dev's version"
[ "$chosen" = "$package=$installed" ] || why="the newest version that downloaded"
[ $tried -eq 1 ] || why="$why, after $((tried - 1)) that did not"
echo "get-zstd-source: using $(cat "$dest/.bakefs-zstd-source") ($why), unpacked into $dest"
if [ -n "$installed" ] && [ "$chosen" != "$package=$installed" ]; then
  # The kernel objects carry their own decoder and are compiled against its own zstd.h; the
  # only thing shared with the host's libzstd is the zstd frame format, which every 1.x
  # decoder reads. driver_kernel_test proves it on images the host's compressor made.
  echo "get-zstd-source: (the host's libzstd-dev is $installed: the kernel's decoder need not" \
    "match it, zstd 1.x frames decode with any 1.x decoder)"
fi
