#!/bin/sh
# The Debian packages as a user gets them: install bakefs and libbakefs-dev from DEBDIR into
# this machine with apt, check the installed tree as check_install.sh does (tools, man pages,
# find_package(bakefs), pkg-config, the rumprun fragment), and remove them again.
# Needs root (or sudo). Usage: check_debian.sh DEBDIR
set -eu
debdir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_wait=$here/../../scripts/apt-wait
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
for p in bakefs libbakefs-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    fail "$p is installed already: remove it first (this check removes what it installed)"
  fi
done
tools=$(ls "$debdir"/bakefs_*.deb | head -n 1)
dev=$(ls "$debdir"/libbakefs-dev_*.deb | head -n 1)
[ -f "$tools" ] && [ -f "$dev" ] || fail "no bakefs and libbakefs-dev packages in $debdir"

removed=0
remove() {
  [ $removed -eq 0 ] || return 0
  removed=1
  "$apt_wait" remove --purge -y -qq bakefs libbakefs-dev >/dev/null
}
trap remove EXIT
"$apt_wait" install -y -qq "$tools" "$dev"
[ "$(command -v mkimage)" = /usr/bin/mkimage ] || fail "mkimage is not /usr/bin/mkimage on PATH"
[ "$(command -v bakefs)" = /usr/bin/bakefs ] || fail "bakefs is not /usr/bin/bakefs on PATH"
man -w mkimage | grep -q '^/usr/share/man/man1/mkimage.1' || fail "man -w mkimage"
"$here/check_install.sh" /usr
remove
for f in /usr/bin/mkimage /usr/bin/bakefs /usr/include/bakefs/bakefs.h; do
  [ ! -e "$f" ] || fail "$f is still there after the packages were removed"
done
echo "PASS: the Debian packages install, work and remove cleanly"
