/* rumprun_boot: prints, first thing in main(), the time since rump_init() began, for
 * bench/rumprun_boot.sh. The rump kernel's CLOCK_MONOTONIC is its uptime, which NetBSD's
 * timecounter starts at 1 s early in rump_init() (inittimecounter), so uptime - 1 s is
 * rump_init() to main(). With a bakefs image at `/` it then reads one byte of /probe.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int rump_bakefs_root_mounted(void) __attribute__((weak));

int main(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const double ms = (double)(now.tv_sec - 1) * 1e3 + (double)now.tv_nsec / 1e6;
  int mounted = rump_bakefs_root_mounted != NULL && rump_bakefs_root_mounted();
  int probe = -1;
  if (mounted) {
    char byte;
    int fd = open("/probe", O_RDONLY);
    probe = fd >= 0 && read(fd, &byte, 1) == 1;
    if (fd >= 0) close(fd);
  }
  printf("rumprun_boot main_ms=%.3f mounted=%d probe=%d\n", ms, mounted, probe);
  return 0;
}
