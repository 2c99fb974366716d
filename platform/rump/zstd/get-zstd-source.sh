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
# PACKAGE defaults to "libzstd" at the version of the installed libzstd-dev, when the
# archive still has it, else at the archive's newest version. Needs apt and dpkg-dev
# (dpkg-source). DEST must not exist yet; it is created complete or not at all.
set -eu

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
  apt-get -q \
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
  exit 1
}

# The installed libzstd-dev's version, so that kernel and host zstd match, if still there.
if [ "$package" = libzstd ]; then
  installed=$(dpkg-query -W -f='${Version}' libzstd-dev 2>/dev/null || true)
  if [ -n "$installed" ] &&
    apt_private source --print-uris "libzstd=$installed" >/dev/null 2>&1; then
    package="libzstd=$installed"
  fi
fi

echo "get-zstd-source: apt-get source --download-only $package"
(cd "$work/download" && apt_private source --download-only "$package") >"$work/source.log" \
  2>&1 || {
  cat "$work/source.log" >&2
  echo "get-zstd-source: apt-get source $package failed" >&2
  exit 1
}
dsc=$(ls "$work"/download/*.dsc)

# apt-get has checked every file against the signed Sources index; dpkg-source checks them
# against the .dsc and applies Debian's patches.
mkdir -p "$(dirname "$dest")"
dpkg-source -q -x "$dsc" "$work/tree" >"$work/unpack.log" 2>&1 || {
  cat "$work/unpack.log" >&2
  echo "get-zstd-source: dpkg-source -x $dsc failed" >&2
  exit 1
}
if ! [ -f "$work/tree/lib/decompress/zstd_decompress.c" ]; then
  echo "get-zstd-source: $dsc has no lib/decompress/zstd_decompress.c" >&2
  exit 1
fi
basename "$dsc" .dsc >"$work/tree/.bakefs-zstd-source"
mv "$work/tree" "$dest"
echo "get-zstd-source: $(cat "$dest/.bakefs-zstd-source") unpacked into $dest"
