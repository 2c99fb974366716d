# Boot-and-expect for the rumprun qemu tests (base_etc_boot.sh, stub_etc_boot.sh, blk_boot.sh):
# sourced, not run. A unikernel is booted under qemu (TCG, no KVM needed) with its serial
# console in a file; rumprun's guest idles after halting instead of powering off, so qemu is
# stopped once main() has returned, the boot panicked or the guest halted; then the test greps
# the log.
#
#   . tests/rumprun/boot_lib.sh
#   rr_args "$@"                        # (base_etc_boot.sh, blk_boot.sh) the shared arguments
#   rr_need_qemu                        # exit 77 (skipped) without qemu
#   rr_qemu boot.bin [QEMU ARGS...]     # start qemu in the background (rr_pid)
#   rr_wait [SECONDS]                   # until main() returned, a panic or a halt; out.log
#   expect "a whole line of out.log"
#   rr_finish "summary when everything was found"
#
# rr_qemu's console file is console.log in the current directory. A test that starts qemu some
# other way (rumprun's own launcher, blk_boot.sh) passes the same `-serial file:console.log`
# and calls rr_clock before and rr_launched PID after. QEMU names the qemu program (default
# qemu-system-x86_64).
# SPDX-License-Identifier: BSD-2-Clause

rr_qemu_prog=${QEMU:-qemu-system-x86_64}

# The arguments of the tests that build with a rumprun checkout (base_etc_boot.sh,
# blk_boot.sh): BAKEFS_SRC BUILD_DIR RUMPRUN_CHECKOUT RUMPRUN_TOOLCHAIN ZSTD_SRC. Skips
# (exit 77) when a directory is missing; sets src, build, rr, toolchain, zstd and rumpmake
# (the checkout's obj-amd64-hw/rumptools/rumpmake), and here (tests/rumprun).
rr_args() {
  for dir in "$3" "$4" "$5"; do
    [ -d "$dir" ] ||
      { echo "SKIP: no $dir (a rumprun build, its toolchain, a zstd source tree)"; exit 77; }
  done
  src=$(cd "$1" && pwd)
  build=$(cd "$2" && pwd)
  rr=$(cd "$3" && pwd)
  toolchain=$(cd "$4" && pwd)
  zstd=$(cd "$5" && pwd)
  here=$src/tests/rumprun
  rumpmake=$rr/obj-amd64-hw/rumptools/rumpmake
}
rr_fail=0
rr_pid=
rr_boot_start=

rr_need_qemu() {
  command -v "$rr_qemu_prog" >/dev/null 2>&1 ||
    { echo "SKIP: no $rr_qemu_prog (apt-get install qemu-system-x86)"; exit 77; }
}

# The console options every boot needs: -vga none, or rumprun's hw console writes to VGA text
# memory and nothing reaches the serial port; -no-reboot so that a triple fault ends qemu.
rr_console_args="-vga none -display none -no-reboot -serial file:console.log"

# A fresh console.log and the boot clock; rr_launched PID: qemu runs as PID.
rr_clock() {
  rm -f console.log
  rr_boot_start=$(date +%s.%N)
}
rr_launched() {
  case $1 in '' | *[!0-9]*) echo "FAIL: not a process id: '$1'"; exit 1 ;; esac
  rr_pid=$1
}

rr_qemu() {
  kernel=$1
  shift
  rr_clock
  # shellcheck disable=SC2086
  "$rr_qemu_prog" -net none -m 128 $rr_console_args -kernel "$kernel" "$@" &
  rr_launched $!
}

rr_wait() {
  [ -n "$rr_boot_start" ] || rr_boot_start=$(date +%s.%N)
  for _ in $(seq "${1:-300}"); do
    grep -q '=== main() of\|PANIC\|panic\|halted' console.log 2>/dev/null && break
    kill -0 "$rr_pid" 2>/dev/null || break
    sleep 1
  done
  kill "$rr_pid" 2>/dev/null || true
  wait "$rr_pid" 2>/dev/null || true
  # not a child of this shell (started by a launcher): wait until it is gone
  while kill -0 "$rr_pid" 2>/dev/null; do sleep 0.2; done
  echo "boot: $(awk -v a="$rr_boot_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" \
    "from qemu's start to main()'s end"
  tr -d '\r' <console.log >out.log 2>/dev/null || : >out.log
  grep '^bakefs:\|^rumprun:\|PANIC\|panic' out.log || true
  sed -n '/=== calling/,/=== main() of/p' out.log
}

expect() {
  grep -qxF -- "$1" out.log || { echo "MISSING: $1"; rr_fail=1; }
}

rr_finish() {
  if grep -q 'PANIC\|panic' out.log; then echo "FAIL: the unikernel panicked"; rr_fail=1; fi
  grep -q '=== main() of .* returned 0 ===' out.log ||
    { echo "FAIL: main() did not return 0"; rr_fail=1; }
  [ "$rr_fail" -eq 0 ] && echo "$1"
  exit "$rr_fail"
}
