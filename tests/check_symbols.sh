#!/bin/sh
# The driver core links into kernels: its undefined symbols must stay within an allow-list,
# and it must have no global constructors. Usage: check_symbols.sh libbakefs_driver.a
set -eu
lib=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One relocatable object of the whole archive: what it still needs from outside.
ld -r --whole-archive "$lib" -o "$tmp/all.o"
nm -u "$tmp/all.o" | awk '{print $NF}' | sort -u > "$tmp/undefined"
allowed='^(memcpy|memmove|memset|memcmp|ZSTD_[A-Za-z0-9_]+|XXH[A-Za-z0-9_]*|bakefs_[a-z0-9_]+)$'
bad=$(grep -Ev "$allowed" "$tmp/undefined" || true)
status=0
if [ -n "$bad" ]; then
  echo "FAIL: $lib needs symbols a kernel does not provide:"
  echo "$bad" | sed 's/^/  /'
  status=1
fi
if objdump -h "$tmp/all.o" | grep -Eq '\.(init_array|ctors|preinit_array)'; then
  echo "FAIL: $lib has global constructors"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "ok: undefined symbols of $lib:"
  sed 's/^/  /' "$tmp/undefined"
fi
exit $status
