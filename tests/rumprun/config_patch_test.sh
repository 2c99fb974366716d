#!/bin/sh
# The rumprun patches of platform/rump/rumprun against a rumprun checkout, on copies of the
# checkout's lib/librumprun_base/config.c (the checkout is not changed):
# - config-from-image.patch (the launch configuration from the image) and
#   mount-blk-bakefs.patch (mount_blk, that is -b disk,/mp and "blk", also tries bakefs) each
#   apply alone, and both together in either order;
# - the mount arguments the second one declares have the layout, version and type name of
#   platform/rump/bakefs_rump.h (compiled with the host's cc: both are LP64 x86_64);
# - with rumprun's toolchain (RRDEST, holding bin/x86_64-rumprun-netbsd-gcc), the file with both
#   patches compiles, its only bakefs symbol is the weak reference to rump_bakefs_config (so a
#   unikernel without the component links as before), and it names no symbol of the component.
# Usage: config_patch_test.sh RUMPRUN_SRC [RUMPRUN_TOOLCHAIN]
set -eu
src=$1
toolchain=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
patches=$here/../../platform/rump/rumprun
config=$patches/config-from-image.patch
mountblk=$patches/mount-blk-bakefs.patch
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ -f "$src/lib/librumprun_base/config.c" ] || fail "$src is not a rumprun checkout"
work=$(mktemp -d "${TMPDIR:-/tmp}/rumprun-patch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# apply DIR PATCH...: a fresh copy of config.c in DIR with the patches applied in order.
apply() {
  dir=$work/$1
  shift
  mkdir -p "$dir/lib/librumprun_base"
  cp "$src/lib/librumprun_base/config.c" "$dir/lib/librumprun_base/"
  for p in "$@"; do
    (cd "$dir" && patch -p1 --dry-run <"$p" >/dev/null) ||
      fail "$(basename "$p") does not apply to $src (after: $*)"
    (cd "$dir" && patch -p1 --no-backup-if-mismatch <"$p" >"$dir/patch.log") ||
      fail "patch $(basename "$p"): $(cat "$dir/patch.log")"
    grep -q 'fuzz' "$dir/patch.log" && fail "$(basename "$p") applies only with fuzz: $(cat "$dir/patch.log")"
  done
  return 0
}
has_config() {
  grep -q '^image_launch_config(const char \*cmdline)' "$1" || fail "no image_launch_config in $1"
  grep -q 'if ((cfg = image_launch_config(cmdline)) != NULL)' "$1" || fail "the fallback is not called in $1"
}
has_mountblk() {
  grep -q '^mount_bakefs(const char \*dev, const char \*mp)' "$1" || fail "no mount_bakefs in $1"
  # mount_blk's first try is bakefs, read-only
  sed -n '/^mount_blk(const char \*dev/,/^}/p' "$1" | grep -q '	if (mount_bakefs(dev, mp))' ||
    fail "mount_blk does not try bakefs in $1"
  sed -n '/^mount_bakefs(/,/^}/p' "$1" | grep -q 'MNT_RDONLY' || fail "bakefs is not mounted read-only"
}

apply config "$config"
has_config "$work/config/lib/librumprun_base/config.c"
apply mountblk "$mountblk"
has_mountblk "$work/mountblk/lib/librumprun_base/config.c"
grep -q image_launch_config "$work/mountblk/lib/librumprun_base/config.c" &&
  fail "mount-blk-bakefs.patch brings the launch configuration too"
apply both "$config" "$mountblk"
apply both2 "$mountblk" "$config"
both=$work/both/lib/librumprun_base/config.c
cmp -s "$both" "$work/both2/lib/librumprun_base/config.c" || fail "the two orders give different files"
has_config "$both"
has_mountblk "$both"
echo "the patches apply alone and together, in either order"

# The mount arguments against bakefs_rump.h: the struct, renamed, next to the real one.
sed -n '/^#define MOUNT_BAKEFS/,/^#define BAKEFS_RUMP_ARGS_DEVICE/p' "$both" |
  sed 's/bakefs_rump_args/rumprun_bakefs_args/; s/MOUNT_BAKEFS/RUMPRUN_MOUNT_BAKEFS/;
       s/BAKEFS_RUMP_ARGS_DEVICE/RUMPRUN_BAKEFS_ARGS_DEVICE/' >"$work/rumprun_args.h"
grep -q 'struct rumprun_bakefs_args {' "$work/rumprun_args.h" || fail "no mount arguments in the patch"
cat >"$work/layout.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "bakefs_rump.h"
#include "rumprun_args.h"
#define SAME(f) \
  _Static_assert(offsetof(struct rumprun_bakefs_args, f) == offsetof(struct bakefs_rump_args, f) && \
                     sizeof(((struct rumprun_bakefs_args*)0)->f) == \
                         sizeof(((struct bakefs_rump_args*)0)->f), \
                 "field " #f " differs from bakefs_rump.h");
SAME(version) SAME(flags) SAME(image) SAME(length) SAME(cache_bytes) SAME(decompressors)
SAME(reserved)
_Static_assert(sizeof(struct rumprun_bakefs_args) == sizeof(struct bakefs_rump_args), "size");
_Static_assert(RUMPRUN_BAKEFS_ARGS_DEVICE == BAKEFS_RUMP_ARGS_DEVICE, "version");
int main(void) { return strcmp(RUMPRUN_MOUNT_BAKEFS, BAKEFS_RUMP_FSTYPE) != 0; }
EOF
${CC:-cc} -I"$here/../../platform/rump" -I"$work" "$work/layout.c" -o "$work/layout" ||
  fail "the patch's struct bakefs_rump_args differs from platform/rump/bakefs_rump.h"
"$work/layout" || fail "the patch's MOUNT_BAKEFS is not BAKEFS_RUMP_FSTYPE"
echo "mount-blk-bakefs.patch: struct bakefs_rump_args, its version and type name as bakefs_rump.h"

if [ -n "$toolchain" ]; then
  cc=$toolchain/bin/x86_64-rumprun-netbsd-gcc
  [ -x "$cc" ] || fail "no $cc"
  for v in config mountblk both; do
    "$cc" -O2 -Wall -c "$work/$v/lib/librumprun_base/config.c" -I"$src/include" \
      -I"$src/platform/hw/include" -o "$work/$v.o" || fail "config.c patched with $v does not compile"
  done
  nm "$work/both.o" | grep -q ' w rump_bakefs_config$' ||
    fail "rump_bakefs_config is not a weak reference: $(nm "$work/both.o" | grep bakefs)"
  other=$(nm "$work/both.o" | grep -i bakefs | grep -v ' w rump_bakefs_config$' | grep -v ' t mount_bakefs$' || true)
  [ -z "$other" ] || fail "the patched config.o refers to more of bakefs: $other"
  nm "$work/mountblk.o" | grep -qi ' [uUwv] .*bakefs' && fail "mount-blk-bakefs.patch alone needs a bakefs symbol"
  echo "compiled with $cc: rump_bakefs_config is weak, nothing else of bakefs is referenced"
fi
echo PASS
