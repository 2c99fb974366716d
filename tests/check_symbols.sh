#!/bin/sh
# The driver core links into kernels: check what it needs from outside and what it exports.
#
#   check_symbols.sh libbakefs_driver.a
#       The host build of the core: undefined symbols within an allow-list (the memory
#       functions, zstd's and xxHash's entry points, bakefs_ hooks), no global constructors.
#   check_symbols.sh --kernel bakefs_kernel_core.o
#       The kernel build, core and zstd in one relocatable object: it may need only memcpy,
#       memmove, memset, memcmp (and bakefs_ hooks); no constructors; and no global symbol,
#       defined or undefined, that a rump kernel's renaming would leave alone (names beginning
#       with __, rump or RUMP): those would bind to the host's C library or clash with the
#       rump kernel's own symbols instead of staying inside the kernel's namespace.
#   check_symbols.sh --rump rumpfs_bakefs.o
#       The renamed component: every global symbol is in the rump kernel's namespace
#       (rumpns_), is the rump kernel's or the component's interface (rump_, RUMP), or is one
#       of the few linker-made names listed below.
set -eu
mode=host
case "${1:-}" in
--kernel | --rump)
  mode=${1#--}
  shift
  ;;
esac
if [ $# -ne 1 ]; then
  echo "usage: $0 [--kernel|--rump] FILE" >&2
  exit 2
fi
file=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One relocatable object of the whole input: what it still needs from outside.
if [ "$mode" = host ]; then
  ld -r --whole-archive "$file" -o "$tmp/all.o"
else
  cp "$file" "$tmp/all.o"
fi
nm -u "$tmp/all.o" | awk '{print $NF}' | sort -u >"$tmp/undefined"
nm -g "$tmp/all.o" | awk '{print $NF}' | sort -u >"$tmp/global"

memory='memcpy|memmove|memset|memcmp'
# Symbols a linker defines, which stay outside the renaming on purpose: the bounds of the
# embedded image's section (bakefs/embed.h) and of rump's link sets.
linker_made='__start_bakefs_image|__stop_bakefs_image|__start_link_set_[a-z_]+|__stop_link_set_[a-z_]+|_GLOBAL_OFFSET_TABLE_'
case $mode in
host) allowed="^($memory|ZSTD_[A-Za-z0-9_]+|XXH[A-Za-z0-9_]*|bakefs_[a-z0-9_]+)\$" ;;
kernel) allowed="^($memory|bakefs_[a-z0-9_]+)\$" ;;
rump) allowed="^(rumpns_[A-Za-z0-9_.]+|rump[A-Za-z0-9_]*|RUMP[A-Za-z0-9_]*|$linker_made)\$" ;;
esac

status=0
bad=$(grep -Ev "$allowed" "$tmp/undefined" || true)
if [ -n "$bad" ]; then
  echo "FAIL: $file needs symbols a kernel does not provide:"
  echo "$bad" | sed 's/^/  /'
  status=1
fi
case $mode in
kernel)
  bad=$(grep -E '^(__|rump|RUMP)' "$tmp/global" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $file has global symbols that a rump kernel's rumpns_ renaming skips:"
    echo "$bad" | sed 's/^/  /'
    status=1
  fi
  ;;
rump)
  bad=$(grep -Ev "$allowed" "$tmp/global" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $file has global symbols outside the rump kernel's namespace:"
    echo "$bad" | sed 's/^/  /'
    status=1
  fi
  ;;
esac
# A rump component registers itself from a constructor (RUMP_USE_CTOR); the core may not.
if [ "$mode" != rump ] &&
  objdump -h "$tmp/all.o" | grep -Eq '\.(init_array|ctors|preinit_array)'; then
  echo "FAIL: $file has global constructors"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "ok: undefined symbols of $file:"
  sed 's/^/  /' "$tmp/undefined"
  if [ "$mode" != host ]; then
    echo "ok: $(wc -l <"$tmp/global") global symbols, none outside the kernel's namespace"
  fi
fi
exit $status
