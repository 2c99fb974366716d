/* rump_boot: the time from rump_init() to `/` readable in a user-space rump kernel, for
 * bench/rump_boot.sh. Boots the rump kernel once, then reads one byte of PROBE (a file of
 * the linked-in image), and prints one line:
 *
 *   rump_boot init_ms=<rump_init()> readable_ms=<rump_init() + open + read> mounted=<0|1>
 *
 * Without PROBE (the baseline program, no image linked in) it stats `/` instead.
 * Usage: rump_boot [PROBE]. Exit status 0 when the probe was read.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>

/* From librumpfs_bakefs; weak, so the baseline program links without the component. */
int rump_bakefs_root_mounted(void) __attribute__((weak));

static double ms_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

int main(int argc, char** argv) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (rump_init() != 0) {
    fprintf(stderr, "rump_boot: rump_init failed\n");
    return 1;
  }
  const double init_ms = ms_since(&start);
  int ok;
  if (argc > 1) {
    char byte;
    int fd = rump_sys_open(argv[1], RUMP_O_RDONLY);
    ok = fd >= 0 && rump_sys_read(fd, &byte, 1) == 1;
    if (fd >= 0) rump_sys_close(fd);
  } else {
    char st[512]; /* NetBSD's struct stat, not read */
    ok = rump_sys_stat("/", (void*)st) == 0;
  }
  const double readable_ms = ms_since(&start);
  if (!ok) {
    fprintf(stderr, "rump_boot: %s is not readable after rump_init\n", argc > 1 ? argv[1] : "/");
    return 1;
  }
  printf("rump_boot init_ms=%.3f readable_ms=%.3f mounted=%d\n", init_ms, readable_ms,
         rump_bakefs_root_mounted != NULL && rump_bakefs_root_mounted());
  return 0;
}
