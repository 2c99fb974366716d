/* An image without /etc at `/` (the default mode): the boot hook adds /etc as a mount point
 * and covers it so that rumprun's base /etc can be written there at start-up. rumprun does
 * that in rumprun_platefs() (lib/librumprun_base/platefs.c): open(O_CREAT|O_EXCL|O_RDWR) of
 * each file, then fcntl(RUMPFS_FCNTL_EXTSTORAGE_ADD) to attach the file's bytes, halting on
 * any failure. This program does the same, as rumprun would, and reads the bytes back. The
 * fcntl exists only on rumpfs: with /etc covered by a tmpfs it fails, and rumprun halted
 * with "platefs: fcntl".
 *
 * Usage: rump_etc_test (an image without /etc linked in, tmpfs linked in as in rumprun).
 * Prints RUMP ETC OK and exits 0 when every step worked.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>
#include <rump/rumpfs.h>

#include "bakefs_rump.h"

static int failures;

static void check(int ok, const char* what) {
  printf("%s %s", ok ? "ok  " : "FAIL", what);
  if (!ok) {
    printf(" (errno %d, NetBSD's numbering)", errno);
    ++failures;
  }
  printf("\n");
}

int main(void) {
  static char hosts[] = "127.0.0.1 localhost\n";
  static char group[] = "wheel:*:0:root\n";
  if (rump_init() != 0) {
    fprintf(stderr, "rump_init failed\n");
    return 1;
  }
  check(rump_bakefs_root_mounted(), "the image is /");
  /* As rumprun_platefs: mkdir of the directory (EEXIST is fine), then each file. */
  int r = rump_sys_mkdir("/etc", 0777);
  check(r == 0 || errno == EEXIST, "mkdir /etc: done or EEXIST");
  struct {
    const char* path;
    char* data;
  } files[] = {{"/etc/hosts", hosts}, {"/etc/group", group}};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); ++i) {
    char what[128];
    int fd = rump_sys_open(files[i].path, RUMP_O_CREAT | RUMP_O_RDWR | RUMP_O_EXCL, 0777);
    snprintf(what, sizeof(what), "create %s (O_CREAT|O_EXCL)", files[i].path);
    check(fd >= 0, what);
    if (fd < 0) continue;
    struct rumpfs_extstorage es = {
        .rfse_data = files[i].data, .rfse_dlen = strlen(files[i].data), .rfse_flags = 0};
    snprintf(what, sizeof(what), "fcntl(%s, RUMPFS_FCNTL_EXTSTORAGE_ADD)", files[i].path);
    check(rump_sys_fcntl(fd, RUMPFS_FCNTL_EXTSTORAGE_ADD, &es) == 0, what);
    rump_sys_close(fd);
    char back[64] = {0};
    fd = rump_sys_open(files[i].path, RUMP_O_RDONLY);
    ssize_t n = fd >= 0 ? rump_sys_read(fd, back, sizeof(back) - 1) : -1;
    if (fd >= 0) rump_sys_close(fd);
    snprintf(what, sizeof(what), "read %s back", files[i].path);
    check(n == (ssize_t)strlen(files[i].data) && strcmp(back, files[i].data) == 0, what);
  }
  /* The rest of / stays the read-only image. */
  r = rump_sys_mkdir("/newtop", 0755);
  check(r == -1 && errno == RUMP_EROFS, "mkdir /newtop: EROFS");
  printf(failures == 0 ? "RUMP ETC OK\n" : "RUMP ETC FAILED\n");
  return failures == 0 ? 0 : 1;
}
