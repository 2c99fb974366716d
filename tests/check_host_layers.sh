#!/bin/sh
# check_host_layers.sh SOURCE_DIR RULES: the host side keeps to its layers (README.md,
# "Layout"). RULES, written by tests/CMakeLists.txt from the targets' links, has a line per
# library folder ("host/sources host/sources host/writer host/util": what files there may
# include) and per source file of a command ("tools/mkimage_main.cpp tools host/compose ...").
# Checked for every .cpp and .h under host/ and tools/: a header of host/ is included by
# folder ("writer/tree.h"), never by its bare name, and only from a folder that its target
# links; the folders' links have no cycle; and no file includes, even through others, one
# that includes it (a FILE.cpp and its FILE.h count as one). Exit 0 when all of that holds,
# 1 naming each file and include that breaks it.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -eq 2 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
rules=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
cd "$1"
status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# tsort FILE WHAT: fails, naming the loop, if the edges in FILE have one.
acyclic() {
  if ! loop=$(tsort "$1" 2>&1 >/dev/null) || [ -n "$loop" ]; then
    echo "a cycle between $2:"
    printf '%s\n' "$loop" | sed -e "s|^$1: ||" -e 's/^tsort: //' | grep -v 'contains a loop' |
      sed 's/^/  /'
    status=1
  fi
}

awk '$1 !~ /\.(cpp|h)$/ { for (i = 2; i <= NF; i++) print $1, $i }' "$rules" >"$work/folders"
acyclic "$work/folders" "the libraries' folders"

: >"$work/units"
tops=$(for top in host tools; do [ ! -d $top ] || echo $top; done)
for file in $(find $tops \( -name '*.cpp' -o -name '*.h' \) -print | sort); do
  dir=${file%/*}
  allowed=$(awk -v f="$file" '$1 == f { $1 = ""; print; exit }' "$rules")
  [ -n "$allowed" ] || allowed=$(awk -v d="$dir" '$1 == d { $1 = ""; print; exit }' "$rules")
  if [ -z "$allowed" ]; then
    echo "$file: no library or command of $dir has it (RULES: $rules)"
    status=1
    continue
  fi
  unit=${file%.*}
  echo "$unit $unit" >>"$work/units"
  includes=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
  for header in $includes; do
    if [ -f "host/$header" ]; then
      case " $allowed " in
      *" host/${header%/*} "*) ;;
      *) echo "$file: includes \"$header\", but its target does not link host/${header%/*}"
         status=1 ;;
      esac
      [ "host/${header%.*}" = "$unit" ] || echo "$unit host/${header%.*}" >>"$work/units"
    elif [ -f "$dir/$header" ]; then
      echo "$file: includes \"$header\" by its bare name; by folder it is \"${dir#host/}/$header\""
      status=1
    fi
  done
done
acyclic "$work/units" "files (FILE.cpp and FILE.h are one)"
[ $status -ne 0 ] || echo "host/ and tools/ keep to their libraries' links; no cycle"
exit $status
