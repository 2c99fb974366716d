#!/bin/sh
# Boot check for mkimage --stub-etc with NetBSD's libc in a rumprun unikernel under qemu (no
# KVM needed). Builds two images, the stub alone and the stub under a source with its own
# master.passwd, takes their /etc out with `bakefs extract`, cooks both into a unikernel that
# copies each over rumprun's /etc and looks users, groups, services, protocols and hosts up,
# and checks what it prints. (A stock rumprun without the component: the files are copied, not
# mounted; blk_boot.sh mounts a bakefs disk.)
#
# Usage: RUMPRUN=<rumprun install prefix, with bin/> tests/rumprun/stub_etc_boot.sh BUILD_DIR
# SPDX-License-Identifier: BSD-2-Clause
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: RUMPRUN=... $0 BUILD_DIR}" && pwd)
: "${RUMPRUN:?set RUMPRUN to the rumprun install prefix (the directory holding bin/rumprun-bake)}"
PATH="$RUMPRUN/bin:$PATH"
. "$here/boot_lib.sh"
rr_need_qemu
work=$(mktemp -d "${TMPDIR:-/tmp}/stub-etc-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir -p src1 src2/etc fs
echo x >src1/file
printf '%s\n' 'root:*:0:0::0:0:Charlie &:/:/sbin/nologin' \
  'www:$6$s$h:80:80:web:1700000000:4102444800:Web server:/var/www:/sbin/nologin' \
  >src2/etc/master.passwd
"$build/bin/mkimage" --stub-etc src1 -o stub.img
"$build/bin/mkimage" --stub-etc src2 -o user.img
"$build/bin/bakefs" extract stub.img fs/stub
"$build/bin/bakefs" extract user.img fs/user

x86_64-rumprun-netbsd-cookfs -s 1 etcfs.o fs/stub fs/user
x86_64-rumprun-netbsd-gcc -O2 -o boot "$here/stub_etc_boot.c" etcfs.o
rumprun-bake hw_virtio boot.bin boot >/dev/null

rr_qemu boot.bin -append '{,, "cmdline": "boot.bin",, },,'
rr_wait 600

expect "getpwnam(app): app uid=1000 gid=1000 gecos='Application' dir=/ shell=/sbin/nologin change=0 expire=0"
expect "getpwuid(32767): nobody uid=32767 gid=39 gecos='Unprivileged user' dir=/nonexistent shell=/sbin/nologin change=0 expire=0"
expect "getpwent: root(0) daemon(1) app(1000) nobody(32767)"
expect "getpwuid(80): www uid=80 gid=80 gecos='Web server' dir=/var/www shell=/sbin/nologin change=1700000000 expire=4102444800"
expect "getpwent: root(0) www(80)"
expect "getservbyname(https/tcp): 443"
expect "getprotobyname(udp): 17"
expect "getaddrinfo(localhost, http): ok port 80"
expect "DONE"
rr_finish "stub_etc_boot: all lookups as expected"
