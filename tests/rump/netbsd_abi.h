/* The rump kernel's ABI is NetBSD's, not the host's: its struct stat and struct dirent as
 * NetBSD/amd64 lays them out, for the programs that call rump_sys_* on the host (tests/rump,
 * bench/rump_reads.c). C and C++.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_TESTS_RUMP_NETBSD_ABI_H
#define BAKEFS_TESTS_RUMP_NETBSD_ABI_H

#include <stdint.h>

struct nb_timespec {
  int64_t tv_sec;
  long tv_nsec;
};
struct nb_stat {
  uint64_t st_dev;
  uint32_t st_mode;
  uint64_t st_ino;
  uint32_t st_nlink;
  uint32_t st_uid;
  uint32_t st_gid;
  uint64_t st_rdev;
  struct nb_timespec st_atim, st_mtim, st_ctim, st_birthtim;
  int64_t st_size;
  int64_t st_blocks;
  int32_t st_blksize;
  uint32_t st_flags;
  uint32_t st_gen;
  uint32_t st_spare[2];
};
#ifdef __cplusplus
static_assert(sizeof(struct nb_stat) == 152, "NetBSD/amd64 struct stat");
#else
_Static_assert(sizeof(struct nb_stat) == 152, "NetBSD/amd64 struct stat");
#endif
struct nb_dirent {
  uint64_t d_fileno;
  uint16_t d_reclen;
  uint16_t d_namlen;
  uint8_t d_type;
  char d_name[512];
};

#endif /* BAKEFS_TESTS_RUMP_NETBSD_ABI_H */
