#!/bin/sh
# scripts/check-rump-prefix on made-up trees: a complete rump kernel DESTDIR passes, one with a
# library taken away fails and names it, and rumprun's layout is checked the same way.
# Usage: check_rump_prefix_test.sh CHECK_RUMP_PREFIX
set -eu
check=$1
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/check-rump.XXXXXX")
trap 'rm -rf "$work"' EXIT
d=$work/rump
mkdir -p "$d/include/rump" "$d/lib" "$work/obj/tooldir" "$work/src/sys/rump"
for h in rump.h rump_syscalls.h rumpdefs.h rumperrno2host.h; do : >"$d/include/rump/$h"; done
for l in rump rumpvfs rumpuser rumpfs_tmpfs rumpdev; do : >"$d/lib/lib$l.so"; : >"$d/lib/lib$l.a"; done
: >"$work/src/sys/rump/Makefile.rump"
printf '#!/bin/sh\necho %s\n' "$work/src/sys/rump" >"$work/obj/tooldir/rumpmake"
chmod +x "$work/obj/tooldir/rumpmake"
"$check" rump "$d" >"$work/out" || { cat "$work/out"; fail "a complete DESTDIR is not complete"; }
grep -q '^complete$' "$work/out" || fail "no verdict"
rm "$d/lib/librumpvfs.so"
if "$check" rump "$d" >"$work/out"; then fail "a missing library went unnoticed"; fi
grep -q "MISSING  $d/lib/librumpvfs.so" "$work/out" || { cat "$work/out"; fail "not named"; }
grep -q '^1 missing' "$work/out" || fail "wrong count: $(tail -n 1 "$work/out")"
if "$check" rumprun "$work" >"$work/out"; then fail "an empty rumprun checkout passed"; fi
grep -q "MISSING  $work/rumprun/bin/x86_64-rumprun-netbsd-gcc" "$work/out" || fail "rumprun: $(cat "$work/out")"
"$check" sideways "$d" 2>/dev/null && fail "a bad KIND was accepted"
[ $? -eq 2 ] || fail "a bad KIND is not a usage error"
echo PASS
