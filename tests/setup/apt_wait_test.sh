#!/bin/sh
# scripts/apt-wait waits for apt's lists lock (which DPkg::Lock::Timeout does not cover in
# apt 2.6) instead of failing, and gives up with apt's message once its time is over.
# A private apt state (lists, caches, an empty source list) keeps the machine's apt untouched;
# python3 holds the lock as apt takes it (fcntl), as another apt-get would.
# Usage: apt_wait_test.sh SKIP_SH APT_WAIT
set -eu
skip=$1
apt_wait=$2
[ "$(id -u)" -eq 0 ] || exec "$skip" "apt-wait runs apt-get with sudo when not root"
command -v python3 >/dev/null || exec "$skip" "python3 is needed to hold the lock"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
work=$(mktemp -d "${TMPDIR:-/tmp}/apt-wait-test.XXXXXX")
trap 'kill $holder 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts"
: >"$work/sources.list"
private="-o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache
  -o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=$work/parts"

hold() { # hold SECONDS: take the lists lock for that long
  python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "w"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[1] + ".taken", "w").close(); time.sleep(float(sys.argv[2]))' \
    "$work/lists/lock" "$1" &
  holder=$!
  while ! [ -e "$work/lists/lock.taken" ]; do sleep 0.1; done
  rm -f "$work/lists/lock.taken"
}

# Plain apt-get fails at once on the held lock: the situation apt-wait is for.
hold 6
if apt-get -q $private update >"$work/plain.log" 2>&1; then fail "apt-get did not see the lock"; fi
grep -q "Could not get lock" "$work/plain.log" || fail "unexpected: $(cat "$work/plain.log")"

# apt-wait waits until the lock is free, then succeeds.
start=$(date +%s)
BAKEFS_APT_LOCK_TIMEOUT=60 "$apt_wait" -q $private update >"$work/wait.log" 2>&1 ||
  { cat "$work/wait.log"; fail "apt-wait failed"; }
took=$(($(date +%s) - start))
cat "$work/wait.log"
grep -q "apt-wait: apt's lock is held by process $holder (python3); waiting" "$work/wait.log" ||
  fail "apt-wait did not say what it waits for"
[ $took -ge 3 ] || fail "apt-wait returned after ${took}s, before the lock was free"
wait $holder || true

# With a lock held longer than its time, apt-wait fails with apt's message.
hold 30
if BAKEFS_APT_LOCK_TIMEOUT=4 "$apt_wait" -q $private update >"$work/timeout.log" 2>&1; then
  fail "apt-wait succeeded under a held lock"
fi
grep -q "Could not get lock" "$work/timeout.log" || fail "no apt message: $(cat "$work/timeout.log")"
echo PASS
