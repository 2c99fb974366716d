/* rump_reads IMAGE RUNS [CACHE_MIB]: inside one user-space rump kernel, reads of a bakefs image against
 * the same files copied into the rump kernel's tmpfs (what extracting a tarball into memory
 * at boot gives). The image is read into memory and mounted from there at /b (as a linked-in
 * image is); /b is copied file by file into a tmpfs at /t; then, RUNS times:
 *   cold: bakefs mounted afresh (its block cache empty), every file read whole;
 *   warm: every file read whole again (bakefs: blocks from its cache, if they fit);
 *   random: 10,000 preads of 4 KiB at seeded offsets of seeded files, warm;
 * the same reads on /t (tmpfs has no cold: it is memory). One line per run and measure:
 *   rump_reads RUN MEASURE bakefs_s tmpfs_s
 * and a summary of the tree (files, bytes). CACHE_MIB sizes bakefs's block cache (the mount's
 * cache_bytes; default: the driver's default). tmpfs holds the whole tree decompressed, so a
 * cache as large as the tree is the comparison at equal memory. With BAKEFS_READS_DEVICE=1 the
 * image is a block device instead (an etfs of the file) mounted by its path and read through
 * the buffer cache (BAKEFS_RUMP_ARGS_DEVICE); a fresh mount empties the device's buffers.
 * Nothing is asserted.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>

#include "bakefs_rump.h"
#include "netbsd_abi.h"

enum { NB_DT_DIR = 4, NB_DT_REG = 8, NB_DT_LNK = 10, RANDOM_READS = 10000 };

struct file {
  char* rel; /* path below the mount point, starting with '/' */
  int64_t size;
};
static struct file* files;
static size_t file_count, file_cap;
static char** dirs;
static size_t dir_count, dir_cap;
static unsigned char* image;
static size_t image_size;
static uint64_t cache_bytes;
static unsigned char buf[1 << 20];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char* what, const char* path) {
  fprintf(stderr, "rump_reads: %s %s: errno %d\n", what, path, errno);
  exit(1);
}

static void* grow(void* p, size_t* cap, size_t count, size_t size) {
  if (count < *cap) return p;
  *cap = *cap ? 2 * *cap : 256;
  p = realloc(p, *cap * size);
  if (p == NULL) die("realloc", "");
  return p;
}

/* Every directory (in walk order) and regular file of the tree at root, by path below it. */
static void scan(const char* root) {
  dirs = grow(dirs, &dir_cap, dir_count, sizeof(*dirs));
  dirs[dir_count++] = strdup("");
  for (size_t d = 0; d < dir_count; ++d) {
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", root, dirs[d]);
    int fd = rump_sys_open(path, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
    if (fd < 0) die("open", path);
    char dbuf[16384];
    int n;
    while ((n = rump_sys_getdents(fd, dbuf, sizeof(dbuf))) > 0) {
      for (int at = 0; at < n;) {
        const struct nb_dirent* e = (const struct nb_dirent*)(dbuf + at);
        at += e->d_reclen;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char rel[4096];
        snprintf(rel, sizeof(rel), "%s/%s", dirs[d], e->d_name);
        if (e->d_type == NB_DT_DIR) {
          dirs = grow(dirs, &dir_cap, dir_count, sizeof(*dirs));
          dirs[dir_count++] = strdup(rel);
        } else if (e->d_type == NB_DT_REG) {
          files = grow(files, &file_cap, file_count, sizeof(*files));
          files[file_count].rel = strdup(rel);
          files[file_count].size = 0;
          ++file_count;
        }
      }
    }
    if (n < 0) die("getdents", path);
    rump_sys_close(fd);
  }
}

static int64_t read_all(const char* root) {
  int64_t total = 0;
  for (size_t i = 0; i < file_count; ++i) {
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", root, files[i].rel);
    int fd = rump_sys_open(path, RUMP_O_RDONLY);
    if (fd < 0) die("open", path);
    ssize_t n;
    while ((n = rump_sys_read(fd, buf, sizeof(buf))) > 0) total += n;
    if (n < 0) die("read", path);
    rump_sys_close(fd);
  }
  return total;
}

static uint64_t next_random(uint64_t* state) { /* splitmix64 */
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* 10,000 preads of 4 KiB, the same files and offsets for both roots (seeded). */
static void random_reads(const char* root, const size_t* pick, int n_pick) {
  uint64_t state = 42;
  for (int i = 0; i < RANDOM_READS; ++i) {
    const struct file* f = &files[pick[next_random(&state) % (uint64_t)n_pick]];
    int64_t off = f->size > 4096 ? (int64_t)(next_random(&state) % (uint64_t)(f->size - 4096)) : 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", root, f->rel);
    int fd = rump_sys_open(path, RUMP_O_RDONLY);
    if (fd < 0) die("open", path);
    if (rump_sys_pread(fd, buf, 4096, off) < 0) die("pread", path);
    rump_sys_close(fd);
  }
}

static void mount_bakefs(void) {
  struct bakefs_rump_args args;
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = image;
  args.length = image_size;
  args.cache_bytes = cache_bytes;
  if (getenv("BAKEFS_READS_DEVICE") != NULL) {
    args.version = BAKEFS_RUMP_ARGS_DEVICE;
    args.image = "/dev/bakeimg";
  }
  if (rump_sys_mount("bakefs", "/b", RUMP_MNT_RDONLY, &args, sizeof(args)) != 0) die("mount", "/b");
}

/* /b copied into /t: directories, then files (symlinks and special files are left out). */
static void copy_tree(void) {
  for (size_t d = 1; d < dir_count; ++d) {
    char path[4096];
    snprintf(path, sizeof(path), "/t%s", dirs[d]);
    if (rump_sys_mkdir(path, 0755) != 0) die("mkdir", path);
  }
  for (size_t i = 0; i < file_count; ++i) {
    char from[4096], to[4096];
    snprintf(from, sizeof(from), "/b%s", files[i].rel);
    snprintf(to, sizeof(to), "/t%s", files[i].rel);
    int in = rump_sys_open(from, RUMP_O_RDONLY);
    int out = rump_sys_open(to, RUMP_O_WRONLY | RUMP_O_CREAT, 0644);
    if (in < 0 || out < 0) die("open", in < 0 ? from : to);
    ssize_t n;
    while ((n = rump_sys_read(in, buf, sizeof(buf))) > 0) {
      if (rump_sys_write(out, buf, (size_t)n) != n) die("write", to);
      files[i].size += n;
    }
    if (n < 0) die("read", from);
    rump_sys_close(in);
    rump_sys_close(out);
  }
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s IMAGE RUNS [CACHE_MIB]\n", argv[0]);
    return 2;
  }
  const int runs = atoi(argv[2]);
  if (argc == 4) cache_bytes = strtoull(argv[3], NULL, 10) << 20;
  FILE* f = fopen(argv[1], "rb");
  if (f == NULL) die("fopen", argv[1]);
  fseek(f, 0, SEEK_END);
  image_size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  image = malloc(image_size);
  if (image == NULL || fread(image, 1, image_size, f) != image_size) die("read", argv[1]);
  fclose(f);

  if (rump_init() != 0) die("rump_init", "");
  if (getenv("BAKEFS_READS_DEVICE") != NULL &&
      rump_pub_etfs_register("/dev/bakeimg", argv[1], RUMP_ETFS_BLK) != 0) {
    die("etfs /dev/bakeimg", argv[1]);
  }
  if (rump_sys_mkdir("/b", 0755) != 0 || rump_sys_mkdir("/t", 0755) != 0) die("mkdir", "/b /t");
  /* NetBSD's struct tmpfs_args, version 1: no node or size limit, root mode 1777. */
  struct {
    int ta_version;
    uint64_t ta_nodes_max;
    int64_t ta_size_max;
    uint32_t ta_root_uid, ta_root_gid;
    uint32_t ta_root_mode;
  } targs = {1, 0, 0, 0, 0, 01777};
  if (rump_sys_mount("tmpfs", "/t", 0, &targs, sizeof(targs)) != 0) die("mount", "/t (tmpfs)");
  mount_bakefs();
  scan("/b");
  const double copy_start = now();
  copy_tree();
  const double copy_s = now() - copy_start;
  int64_t bytes = 0;
  size_t* pick = malloc(file_count * sizeof(*pick));
  int n_pick = 0;
  for (size_t i = 0; i < file_count; ++i) {
    bytes += files[i].size;
    if (files[i].size > 0) pick[n_pick++] = i;
  }
  printf("rump_reads tree files=%zu dirs=%zu bytes=%lld image=%zu copy_into_tmpfs_s=%.3f\n",
         file_count, dir_count, (long long)bytes, image_size, copy_s);
  if (n_pick == 0) die("no non-empty file in", argv[1]);
  for (int r = 0; r < runs; ++r) {
    rump_sys_unmount("/b", 0);
    mount_bakefs();
    double t0 = now();
    if (read_all("/b") != bytes) die("short read-all", "/b");
    double cold_b = now() - t0;
    t0 = now();
    read_all("/b");
    double warm_b = now() - t0;
    t0 = now();
    random_reads("/b", pick, n_pick);
    double rnd_b = now() - t0;
    t0 = now();
    if (read_all("/t") != bytes) die("short read-all", "/t");
    double warm_t = now() - t0;
    t0 = now();
    random_reads("/t", pick, n_pick);
    double rnd_t = now() - t0;
    printf("rump_reads %d readall_cold %.6f %.6f\n", r, cold_b, warm_t);
    printf("rump_reads %d readall_warm %.6f %.6f\n", r, warm_b, warm_t);
    printf("rump_reads %d random4k_warm %.6f %.6f\n", r, rnd_b, rnd_t);
  }
  return 0;
}
