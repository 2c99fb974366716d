#!/bin/sh
# check_host_links.sh RULES: every call of a host library into bakefs::build or bakefs::tool
# lands in the library itself or in one it links, directly or through others: the links of
# host/ go one way for symbols too, not only for includes (check_host_layers.sh). A function
# defined in the wrong library (as Tree's destructor once was, in the sources' scan_dir.cpp
# for the writer) breaks it. RULES, written by tests/CMakeLists.txt, has a line per library:
# its archive, then the archives of the host libraries it links. Exit 0 when every symbol is
# found, 1 naming each library and the symbols it takes from elsewhere.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
[ $# -eq 1 ] || { sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2; }
rules=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The archive and every archive it links, through the others too.
closure() {
  echo "$1"
  for dep in $(awk -v a="$1" '$1 == a { $1 = ""; print }' "$rules"); do closure "$dep"; done
}
ours='^_ZN(K)?6bakefs(5build|4tool)'
status=0
while read -r archive deps; do
  [ -n "$archive" ] || continue
  for a in $(closure "$archive" | sort -u); do
    nm --defined-only "$a" | sed -n 's/^[0-9a-f]* [A-Za-z] //p'
  done | sort -u >"$work/defined"
  nm -u "$archive" | sed -n 's/^ *U //p' | grep -E "$ours" | sort -u >"$work/wanted" || true
  comm -23 "$work/wanted" "$work/defined" >"$work/missing"
  if [ -s "$work/missing" ]; then
    echo "$(basename "$archive") uses what no library it links defines:"
    c++filt <"$work/missing" | sed 's/^/  /'
    status=1
  fi
done <"$rules"
[ $status -ne 0 ] || echo "every host library finds its bakefs symbols in itself or what it links"
exit $status
