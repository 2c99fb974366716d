#!/bin/sh
# stub_prefix_build.sh BUILD_DIR: configures the project's rump part (-DBAKEFS_RUMP_PREFIX)
# over a stub prefix where no rump kernel is present, builds the generated test images of
# that graph (target rump_test_images) twice with -j8, from nothing each time, and runs
# generated_rule_owners on that graph (issue 15: a rule copied into two targets raced under
# -j). The stub prefix is an empty include/rump/rump.h and a rumpmake that answers the
# configure's -V queries the way buildrump.sh's does: enough for CMake to write the graph,
# not to compile the kernel glue (nothing here builds it). BUILD_DIR is a configured build of
# the project whose zstd source (its BAKEFS_ZSTD_SOURCE_DIR, or BUILD_DIR/_deps/zstd-src) is
# reused; the stub build goes to BUILD_DIR/stub-rump and is removed at the end.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -eq 1 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
zstd=$(sed -n 's/^BAKEFS_ZSTD_SOURCE_DIR:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
[ -n "$zstd" ] || zstd=$build/_deps/zstd-src
[ -f "$zstd/lib/zstd.h" ] || { echo "stub_prefix_build: no zstd source at $zstd" >&2; exit 2; }
work=$build/stub-rump
rm -rf "$work"
mkdir -p "$work/prefix/include/rump" "$work/obj/tooldir" "$work/src-netbsd/sys/rump"
: > "$work/prefix/include/rump/rump.h"
# rumpmake -f Makefile ... -V '${VAR}' ...: one line per -V, as BSD make prints them.
cat > "$work/obj/tooldir/rumpmake" <<STUB
#!/bin/sh
while [ \$# -gt 0 ]; do
  case \$1 in
  -V) shift
      case \$1 in
      '\${BAKEFS_GLUE_SRCS}') sed -n 's/^BAKEFS_GLUE_SRCS=[ 	]*//p' "$src/platform/rump/Makefile" ;;
      '\${TOPRUMP}') echo "$work/src-netbsd/sys/rump" ;;
      '\${MACHINE}') echo amd64 ;;
      '\${MACHINE_CPU}') echo x86_64 ;;
      *) echo ;;
      esac ;;
  esac
  shift
done
STUB
chmod +x "$work/obj/tooldir/rumpmake"
grep -q '^BAKEFS_GLUE_SRCS=' "$src/platform/rump/Makefile" ||
  { echo "stub_prefix_build: platform/rump/Makefile has no BAKEFS_GLUE_SRCS= line" >&2; exit 1; }
cmake -S "$src" -B "$work/build" -G "Unix Makefiles" -DBAKEFS_RUMP_PREFIX="$work/prefix" \
  -DBAKEFS_RUMP_MAKE="$work/obj/tooldir/rumpmake" -DBAKEFS_ZSTD_SOURCE_DIR="$zstd" \
  -DBAKEFS_BENCH=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; echo "stub_prefix_build: configure failed" >&2; exit 1; }
images=$work/build/tests/rump
for round in 1 2; do
  # Round 2 remakes every tree and image (mkimage stays built; configure's inputs stay).
  [ $round -eq 1 ] || rm -rf "$images"/tree-* "$images"/*.stamp "$images"/*.o "$images"/*.img
  if ! cmake --build "$work/build" --target rump_test_images -j8 >"$work/build-$round.log" 2>&1; then
    tail -n 40 "$work/build-$round.log" >&2
    echo "stub_prefix_build: rump_test_images failed under -j8 (round $round)" >&2
    exit 1
  fi
done
ctest --test-dir "$work/build" -R '^generated_rule_owners$' --output-on-failure
ls "$images"/*.img | wc -l | sed 's/$/ rump test images built, twice, under -j8/'
rm -rf "$work"
echo "STUB PREFIX BUILD OK"
