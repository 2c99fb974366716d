# stats FILE COLUMN [DECIMALS]: the median, minimum and maximum of a column of numbers
# ("-" where a value is missing), for the boot benchmarks (sourced by rump_boot.sh and
# rumprun_boot.sh).
# SPDX-License-Identifier: BSD-2-Clause
stats() {
  cut -d' ' -f"$2" "$1" | sort -g | awk -v d="${3:-3}" '{ v[NR] = $1 } END {
    if (NR == 0 || v[1] == "-") { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    f = "%." d "f %." d "f %." d "f\n"
    printf f, m, v[1], v[NR] }'
}
