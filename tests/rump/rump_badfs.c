/* The badfs corpus in a real rump kernel: each image (tests/badfs/corpus) mounted from memory
 * at /mnt and walked the way find(1) and cat(1) would (every directory read to its end, every
 * name stat'ed, every file read): it must refuse to mount or end the walk with EIO, never
 * panic, never hang (the CTest time-out), and never hand out more directories than a bound.
 *
 * With BAKEFS_BADFS_DEVICE=1 each image is a block device instead (etfs), mounted by its path
 * (BAKEFS_RUMP_ARGS_DEVICE) and read through the buffer cache.
 *
 * Usage: rump_badfs IMAGE...   exits 0 and prints RUMP BADFS OK when every image was refused.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>

#include "bakefs_rump.h"
#include "netbsd_abi.h"

enum { NB_EIO = 5, NB_DT_DIR = 4, NB_DT_REG = 8, WALK_MAX = 20000 };

static char queue[WALK_MAX][256];

/* Reads a whole file; counts EIO. */
static void read_file(const char* path, int* eio) {
  int fd = rump_sys_open(path, RUMP_O_RDONLY);
  if (fd < 0) {
    if (errno == NB_EIO) ++*eio;
    return;
  }
  char buf[65536];
  ssize_t n;
  while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0) {
  }
  if (n < 0 && errno == NB_EIO) ++*eio;
  rump_sys_close(fd);
}

/* find /mnt -exec cat: returns the number of EIO answers, or -1 if the walk ran past its bound. */
static int walk(void) {
  int queued = 0, done = 0, eio = 0;
  snprintf(queue[queued++], sizeof(queue[0]), "/mnt");
  while (done < queued) {
    const char* dir = queue[done++];
    int fd = rump_sys_open(dir, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
    if (fd < 0) {
      if (errno == NB_EIO) ++eio;
      continue;
    }
    char buf[8192];
    int n;
    while ((n = rump_sys_getdents(fd, buf, sizeof(buf))) > 0) {
      for (int at = 0; at < n;) {
        const struct nb_dirent* d = (const struct nb_dirent*)(buf + at);
        if (d->d_reclen == 0) break;
        at += d->d_reclen;
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
        char child[1024];
        snprintf(child, sizeof(child), "%s/%s", dir, d->d_name);
        char st[256];
        if (rump_sys_lstat(child, (void*)st) != 0 && errno == NB_EIO) ++eio;
        if (d->d_type == NB_DT_REG) read_file(child, &eio);
        if (d->d_type == NB_DT_DIR) {
          if (queued == WALK_MAX) {
            rump_sys_close(fd);
            return -1;
          }
          snprintf(queue[queued++], sizeof(queue[0]), "%.255s", child);
        }
      }
    }
    if (n < 0 && errno == NB_EIO) ++eio;
    rump_sys_close(fd);
  }
  return eio;
}

static int mount_image(const char* file, const void* bytes, size_t length, int index) {
  struct bakefs_rump_args args;
  char device[64];
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = bytes;
  args.length = length;
  if (getenv("BAKEFS_BADFS_DEVICE") != NULL) {
    snprintf(device, sizeof(device), "/dev/badfs%d", index);
    if (rump_pub_etfs_register(device, file, RUMP_ETFS_BLK) != 0) {
      printf("FAIL: etfs %s for %s: %s\n", device, file, strerror(errno));
      exit(1);
    }
    args.version = BAKEFS_RUMP_ARGS_DEVICE;
    args.image = device;
    args.length = 0;
  }
  args.cache_bytes = 16384; /* small: the walk takes the cache's miss paths too */
  return rump_sys_mount("bakefs", "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args));
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s IMAGE...\n", argv[0]);
    return 2;
  }
  if (rump_init() != 0 || rump_sys_mkdir("/mnt", 0755) != 0) {
    fprintf(stderr, "rump_init or mkdir /mnt failed\n");
    return 1;
  }
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    FILE* f = fopen(argv[i], "rb");
    if (f == NULL) {
      perror(argv[i]);
      return 2;
    }
    static unsigned char bytes[16 << 20];
    size_t length = fread(bytes, 1, sizeof(bytes), f);
    fclose(f);
    if (mount_image(argv[i], bytes, length, i) != 0) {
      printf("%s: refused at mount (errno %d)\n", argv[i], errno);
      continue;
    }
    int eio = walk();
    if (eio > 0) {
      printf("%s: mounted, the walk met EIO %d times\n", argv[i], eio);
    } else {
      printf("FAIL: %s: %s\n", argv[i],
             eio < 0 ? "the walk went past its bound" : "mounted and walked without an error");
      ++failures;
    }
    if (rump_sys_unmount("/mnt", 0) != 0) {
      printf("FAIL: %s: unmount /mnt: errno %d\n", argv[i], errno);
      ++failures;
    }
  }
  printf(failures == 0 ? "RUMP BADFS OK\n" : "RUMP BADFS FAILED\n");
  return failures == 0 ? 0 : 1;
}
