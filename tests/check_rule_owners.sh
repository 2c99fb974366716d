#!/bin/sh
# check_rule_owners.sh BUILD_DIR FILE...: with a Makefile generator, every FILE (a file a
# custom command generates, absolute path) has its rule in the build.make of exactly one
# target. A target that lists a generated file as a source gets a copy of the rule, and
# copies in targets that make runs in parallel run at once (issue 15: two copies of the rule
# that makes tree-devtmp raced on its `rm -rf`). Exit 0 when each FILE has one rule, 1 when
# a FILE has none or several (the targets are named), 77 for a generator without build.make
# files (Ninja has one rule per output by construction).
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -ge 2 ] || { sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
makefiles=$(find "$build" -path '*/CMakeFiles/*.dir/build.make' | sort)
if [ -z "$makefiles" ]; then
  echo "no build.make under $build (not a Makefile generator): nothing to check"
  exit 77
fi
status=0
for file in "$@"; do
  case $file in
  "$build"/*) rel=${file#"$build"/} ;;
  *) echo "$file is not under $build" >&2; exit 2 ;;
  esac
  owners=""
  count=0
  # A rule for the file: "rel:" at the start of a line (CMake writes paths relative to the
  # top of the build tree).
  pattern="^$(printf '%s' "$rel" | sed 's/[].[*^$\\]/\\&/g'):( |\$)"
  for mk in $makefiles; do
    if grep -E -q "$pattern" "$mk"; then
      target=${mk%/build.make}
      owners="$owners ${target##*/}"
      count=$((count + 1))
    fi
  done
  if [ $count -eq 1 ]; then
    echo "ok      $rel:$owners"
  else
    echo "FAIL    $rel: rules in $count targets:${owners:- none}"
    status=1
  fi
done
exit $status
