#!/bin/sh
# platform/rump/rumprun/config-from-image.patch against a rumprun checkout: it applies cleanly
# to a copy of the checkout's lib/librumprun_base/config.c (the checkout is not changed), adds
# the fallback and its call, and, with rumprun's toolchain (RRDEST, holding
# bin/x86_64-rumprun-netbsd-gcc), compiles to an object whose reference to
# rump_bakefs_config is weak (so that unikernels without bakefs link as before).
# Usage: config_patch_test.sh RUMPRUN_SRC [RUMPRUN_TOOLCHAIN]
set -eu
src=$1
toolchain=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
patchfile=$here/../../platform/rump/rumprun/config-from-image.patch
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ -f "$src/lib/librumprun_base/config.c" ] || fail "$src is not a rumprun checkout"
work=$(mktemp -d "${TMPDIR:-/tmp}/rumprun-patch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib/librumprun_base"
cp "$src/lib/librumprun_base/config.c" "$work/lib/librumprun_base/"
(cd "$work" && patch -p1 --dry-run <"$patchfile" >/dev/null) || fail "the patch does not apply to $src"
(cd "$work" && patch -p1 --no-backup-if-mismatch <"$patchfile" >"$work/patch.log") ||
  fail "patch: $(cat "$work/patch.log")"
grep -q 'fuzz\|offset' "$work/patch.log" && echo "note: $(cat "$work/patch.log")"
c=$work/lib/librumprun_base/config.c
grep -q '^image_launch_config(const char \*cmdline)' "$c" || fail "no image_launch_config"
grep -q 'if ((cfg = image_launch_config(cmdline)) != NULL)' "$c" || fail "the fallback is not called"
if [ -n "$toolchain" ]; then
  cc=$toolchain/bin/x86_64-rumprun-netbsd-gcc
  [ -x "$cc" ] || fail "no $cc"
  "$cc" -c "$c" -I"$src/include" -I"$src/platform/hw/include" -o "$work/config.o" ||
    fail "the patched config.c does not compile"
  nm "$work/config.o" | grep -q ' w rump_bakefs_config$' ||
    fail "rump_bakefs_config is not a weak reference: $(nm "$work/config.o" | grep bakefs)"
  echo "compiled with $cc: rump_bakefs_config is weak"
fi
echo PASS
