#!/bin/sh
# check_host_layers_fixture.sh: check_host_layers.sh fails on tests/host_layers, a tree that
# breaks each of its rules once, and says exactly what tests/host_layers/expected.txt says.
# SPDX-License-Identifier: BSD-2-Clause
set -eu
here=$(cd "$(dirname "$0")" && pwd)
status=0
out=$("$here/check_host_layers.sh" "$here/host_layers" "$here/host_layers/rules.txt") || status=$?
[ "$status" -eq 1 ] || { echo "check_host_layers.sh exited $status, not 1"; exit 1; }
printf '%s\n' "$out" | diff -u "$here/host_layers/expected.txt" - ||
  { echo "check_host_layers.sh said something else than expected.txt (diff above)"; exit 1; }
echo "check_host_layers.sh finds each broken rule of tests/host_layers"
