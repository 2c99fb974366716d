/* rumprun's `-b image.bakefs,/data` (run by blk_boot.sh): the data tree, and its check.
 *
 * One source, two programs. On the host (`blk_boot write DIR`) it writes the tree the test
 * image is made of; in the unikernel (no arguments) it checks that tree where rumprun's
 * mount_blk mounted the image: every file's bytes against the generator and its FNV-1a 64
 * against the constant below (the two sides must agree with the constants, so neither can
 * drift alone), stat, lstat, readlink and readdir, EROFS for every kind of change, and
 * statvfs/getmntinfo naming bakefs, read-only, on /data.
 * SPDX-License-Identifier: BSD-2-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __NetBSD__
#include <sys/statvfs.h>
#endif

/* The files: name, size, generator, FNV-1a 64 of the bytes. */
enum gen { GEN_HELLO, GEN_RANDOM, GEN_TEXT, GEN_EMPTY };
static const struct file {
  const char* path; /* below the mount point */
  size_t size;
  enum gen gen;
  uint64_t fnv;
} files[] = {
    {"hello.txt", 26, GEN_HELLO, 0x9d75c75c51882998ull},
    {"random.bin", 300000, GEN_RANDOM, 0xd63c88431f86b2c8ull},
    {"text/lorem.txt", 163840, GEN_TEXT, 0x748c879a5d88dbc1ull},
    {"sub/deep/empty", 0, GEN_EMPTY, 0xcbf29ce484222325ull},
};
#define NFILES (sizeof files / sizeof files[0])

/* The bytes of file f: deterministic, the same on both sides. */
static void generate(const struct file* f, unsigned char* out) {
  static const char hello[] = "hello from the disk image\n";
  static const char* words[] = {"bakefs",    "rumprun", "block", "device",    "mount",
                                "read-only", "image",   "zstd",  "unikernel", "qemu"};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  size_t i = 0;
  switch (f->gen) {
    case GEN_HELLO:
      memcpy(out, hello, f->size);
      return;
    case GEN_RANDOM: /* xorshift64: incompressible, stored raw */
      for (i = 0; i < f->size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (unsigned char)(x >> 32);
      }
      return;
    case GEN_TEXT: /* numbered lines of words: compresses well */
      while (i < f->size) {
        char line[96];
        int n = snprintf(line, sizeof line, "%06zu %s %s %s\n", i, words[i % 10],
                         words[(i / 10) % 10], words[(i / 7) % 10]);
        for (int k = 0; k < n && i < f->size; k++) out[i++] = (unsigned char)line[k];
      }
      return;
    case GEN_EMPTY:
      return;
  }
}

static uint64_t fnv1a(const unsigned char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static int failures;
#define CHECK(cond, ...)            \
  do {                              \
    if (!(cond)) {                  \
      printf("FAIL: " __VA_ARGS__); \
      printf("\n");                 \
      failures++;                   \
    }                               \
  } while (0)

/* Host: write the tree under dir (its directories must not exist yet). */
static int write_tree(const char* dir) {
  static const char* dirs[] = {"", "text", "sub", "sub/deep"};
  char path[512];
  for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
    snprintf(path, sizeof path, "%s/%s", dir, dirs[d]);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return perror(path), 1;
  }
  for (size_t i = 0; i < NFILES; i++) {
    unsigned char* bytes = malloc(files[i].size + 1);
    generate(&files[i], bytes);
    uint64_t h = fnv1a(bytes, files[i].size);
    CHECK(h == files[i].fnv, "%s: FNV-1a 0x%016llx, the table says 0x%016llx", files[i].path,
          (unsigned long long)h, (unsigned long long)files[i].fnv);
    snprintf(path, sizeof path, "%s/%s", dir, files[i].path);
    FILE* out = fopen(path, "wb");
    if (out == NULL || fwrite(bytes, 1, files[i].size, out) != files[i].size || fclose(out) != 0)
      return perror(path), 1;
    free(bytes);
  }
  snprintf(path, sizeof path, "%s/link", dir);
  if (symlink("hello.txt", path) != 0) return perror(path), 1;
  return failures != 0;
}

#ifdef __NetBSD__ /* the unikernel */
static void check_file(const char* mp, const struct file* f) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", mp, f->path);
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    CHECK(0, "open %s: %s", path, strerror(errno));
    return;
  }
  CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == f->size,
        "fstat %s: size %lld, expected %zu", path, (long long)st.st_size, f->size);
  unsigned char* want = malloc(f->size + 1);
  unsigned char* got = malloc(f->size + 4097);
  generate(f, want);
  size_t n = 0;
  ssize_t r;
  /* odd-sized reads, so that reads cross the image's blocks */
  while ((r = read(fd, got + n, 4093)) > 0) n += (size_t)r;
  CHECK(r == 0, "read %s: %s", path, strerror(errno));
  CHECK(n == f->size && memcmp(got, want, f->size) == 0, "%s: %zu bytes read, not the %zu written",
        path, n, f->size);
  uint64_t h = fnv1a(got, n);
  CHECK(h == f->fnv, "%s: FNV-1a 0x%016llx, expected 0x%016llx", path, (unsigned long long)h,
        (unsigned long long)f->fnv);
  if (f->size > 1000) { /* a read at an offset in the middle */
    CHECK(pread(fd, got, 100, (off_t)(f->size / 2 + 1)) == 100 &&
              memcmp(got, want + f->size / 2 + 1, 100) == 0,
          "pread %s in the middle", path);
  }
  close(fd);
  free(want);
  free(got);
  printf("%s: %zu bytes, fnv1a 0x%016llx\n", path, n, (unsigned long long)h);
}

static void check_erofs(const char* what, int result) {
  int e = errno;
  CHECK(result < 0 && e == EROFS, "%s: %s, expected EROFS", what, result < 0 ? strerror(e) : "ok");
  if (result >= 0) return;
  printf("%s: %s\n", what, strerror(e));
}

static void check_mount(const char* mp) {
  char path[512], target[64];
  struct stat st;
  /* readdir: exactly the names written */
  DIR* d = opendir(mp);
  CHECK(d != NULL, "opendir %s: %s", mp, strerror(errno));
  if (d != NULL) {
    unsigned seen = 0, others = 0;
    static const char* names[] = {".", "..", "hello.txt", "random.bin", "text", "sub", "link"};
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
      size_t k = 0;
      while (k < 7 && strcmp(e->d_name, names[k]) != 0) k++;
      if (k == 7) {
        printf("unexpected name in %s: %s\n", mp, e->d_name);
        others++;
      } else {
        seen |= 1u << k;
      }
    }
    closedir(d);
    CHECK(seen == 0x7f && others == 0, "readdir %s: names 0x%x, %u others", mp, seen, others);
    printf("readdir %s: . .. hello.txt link random.bin sub text\n", mp);
  }
  snprintf(path, sizeof path, "%s/sub/deep", mp);
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "stat %s: not a directory", path);
  snprintf(path, sizeof path, "%s/link", mp);
  CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "lstat %s: not a symlink", path);
  ssize_t n = readlink(path, target, sizeof target - 1);
  CHECK(n == 9 && memcmp(target, "hello.txt", 9) == 0, "readlink %s", path);
  CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 26, "stat %s through the link",
        path);
  snprintf(path, sizeof path, "%s/nosuch", mp);
  CHECK(stat(path, &st) < 0 && errno == ENOENT, "stat %s: expected ENOENT", path);
  for (size_t i = 0; i < NFILES; i++) check_file(mp, &files[i]);

  snprintf(path, sizeof path, "%s/new", mp);
  check_erofs("create /data/new", open(path, O_WRONLY | O_CREAT, 0644));
  snprintf(path, sizeof path, "%s/hello.txt", mp);
  check_erofs("open /data/hello.txt for writing", open(path, O_WRONLY));
  check_erofs("unlink /data/hello.txt", unlink(path));
  snprintf(path, sizeof path, "%s/newdir", mp);
  check_erofs("mkdir /data/newdir", mkdir(path, 0755));
  snprintf(path, sizeof path, "%s/text", mp);
  check_erofs("rmdir /data/text", rmdir(path));
}

static void check_fs_info(const char* mp) {
  struct statvfs sv;
  CHECK(statvfs(mp, &sv) == 0, "statvfs %s: %s", mp, strerror(errno));
  printf("statvfs %s: %s, %s\n", mp, sv.f_fstypename,
         (sv.f_flag & ST_RDONLY) ? "read-only" : "writable");
  printf("statvfs %s: mounted from %s\n", mp, sv.f_mntfromname);
  CHECK(strcmp(sv.f_fstypename, "bakefs") == 0, "statvfs %s: type %s", mp, sv.f_fstypename);
  CHECK((sv.f_flag & ST_RDONLY) != 0, "statvfs %s: not read-only", mp);
  CHECK(strcmp(sv.f_mntonname, mp) == 0, "statvfs %s: mounted on %s", mp, sv.f_mntonname);
  /* the disk rumprun's launcher gives the unikernel (its first virtio disk) */
  CHECK(strcmp(sv.f_mntfromname, "/dev/ld0a") == 0, "statvfs %s: mounted from %s", mp,
        sv.f_mntfromname);
  /* the mount table: the same mount, and / is something else (the image at / is bakefs too,
   * but not from the disk) */
  struct statvfs* all;
  int n = getmntinfo(&all, ST_WAIT), found = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(all[i].f_mntonname, mp) != 0) continue;
    found++;
    CHECK(strcmp(all[i].f_fstypename, "bakefs") == 0 &&
              strcmp(all[i].f_mntfromname, sv.f_mntfromname) == 0,
          "getmntinfo: %s is %s from %s", mp, all[i].f_fstypename, all[i].f_mntfromname);
  }
  CHECK(found == 1, "getmntinfo: %d mounts on %s", found, mp);
  printf("getmntinfo: %d mounts, one on %s\n", n, mp);
}
#endif

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "write") == 0) return write_tree(argv[2]);
#ifdef __NetBSD__
  const char* mp = "/data";
  check_mount(mp);
  check_fs_info(mp);
  printf(failures == 0 ? "BLK OK\n" : "BLK FAILED: %d\n", failures);
  return failures != 0;
#else
  fprintf(stderr, "usage: %s write DIR\n", argv[0]);
  return 2;
#endif
}
