/* bakefs in a real rump kernel: boots one (rump_init), and checks through rump_sys_* calls
 * that the image it mounted at `/` (or, in a program without an image, a file mounted from
 * memory at /mnt) equals the source tree: every name, type, mode, owner, size, time, content,
 * symlink target, hard link, device number and extended attribute; that directory listings
 * are complete and getcwd works; that writes fail with EROFS, missing names are ENOENT and
 * the rump kernel's /dev/null and /tmp stay reachable. Prints the time from rump_init() to
 * `/` readable.
 *
 * Usage: rump_test SOURCE_TREE [IMAGE_FILE]
 *   With an embedded image, SOURCE_TREE is the tree it was built from. Without one,
 *   IMAGE_FILE is read into memory and mounted at /mnt through struct bakefs_rump_args.
 *   BAKEFS_TEST_MOUNTS=/app=TREE[,/srv/data=TREE2]: more images are linked in (mkimage
 *   --mount-at): each path must be a mount of its own, read-only, equal to its tree, with
 *   `..` leading back into the image below it.
 * Exit status 0 when every check passed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>

#include "bakefs_rump.h"
#include "netbsd_abi.h"

/* The rest of NetBSD's ABI the tests use: errno values and the makedev() encoding. */
enum {
  NB_ENOENT = 2,
  NB_EEXIST = 17,
  NB_EROFS = 30,
  NB_EINVAL = 22,
  NB_ENOATTR = 93,
  NB_EXTATTR_NAMESPACE_USER = 1,
  NB_W_OK = 2,
  NB_PC_SYMLINK_MAX = 12,
  NB_PC_2_SYMLINKS = 13,
};
static uint32_t nb_major(uint64_t d) {
  return (uint32_t)((d & 0x000fff00) >> 8);
}
static uint32_t nb_minor(uint64_t d) {
  return (uint32_t)(((d & 0xfff00000) >> 12) | (d & 0xff));
}

static int failures, checks;
static const char* source_root;
static const char* mount_prefix; /* "" for the root, "/mnt" for the memory mount */
static int plain_root; /* the image alone at `/` (the default; BAKEFS_TEST_ROOT=union: not) */

static void fail(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, format, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  ++failures;
}
#define CHECK(cond, ...)            \
  do {                              \
    ++checks;                       \
    if (!(cond)) fail(__VA_ARGS__); \
  } while (0)

static double seconds_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void rump_path(char* out, size_t size, const char* rel) {
  snprintf(out, size, "%s/%s", mount_prefix, rel);
  if (out[0] == '/' && out[1] == '/') memmove(out, out + 1, strlen(out));
}

/* ---- Hard links: host (dev, ino) -> rump ino ---- */
struct link_entry {
  uint64_t host_dev, host_ino, rump_ino;
};
static struct link_entry links[4096];
static size_t link_count;

static void check_link(const char* rel, const struct stat* hs, uint64_t rump_ino) {
  for (size_t i = 0; i < link_count; ++i) {
    const int same_host = links[i].host_dev == hs->st_dev && links[i].host_ino == hs->st_ino;
    const int same_rump = links[i].rump_ino == rump_ino;
    CHECK(same_host == same_rump, "%s: inode %llu: hard links differ from the source", rel,
          (unsigned long long)rump_ino);
    if (same_host) return;
  }
  if (link_count < sizeof(links) / sizeof(links[0])) {
    links[link_count++] = (struct link_entry){hs->st_dev, hs->st_ino, rump_ino};
  }
}

/* ---- Per-kind comparisons ---- */

static void compare_contents(const char* rel, const char* host, const char* rp, off_t size) {
  FILE* f = fopen(host, "rb");
  if (f == NULL) {
    fail("%s: cannot read the source", rel);
    return;
  }
  char* want = malloc(size + 1);
  char* got = malloc(size + 1);
  size_t n = fread(want, 1, size, f);
  fclose(f);
  CHECK(n == (size_t)size, "%s: short source read", rel);
  int fd = rump_sys_open(rp, RUMP_O_RDONLY);
  CHECK(fd >= 0, "%s: open: %s", rel, strerror(errno));
  if (fd < 0) goto out;
  /* Sequential reads in awkward chunk sizes, then random preads. */
  static const size_t chunks[] = {777, 4096, 65536, 1 << 20};
  for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); ++c) {
    size_t at = 0;
    rump_sys_lseek(fd, 0, SEEK_SET);
    for (;;) {
      size_t want_now = chunks[c];
      if (at + want_now > (size_t)size + 1) want_now = (size_t)size + 1 - at;
      if (want_now == 0) break;
      ssize_t r = rump_sys_read(fd, got + at, want_now);
      if (r <= 0) {
        CHECK(r == 0, "%s: read: %s", rel, strerror(errno));
        break;
      }
      at += (size_t)r;
    }
    CHECK(at == (size_t)size, "%s: read %zu bytes in chunks of %zu, want %lld", rel, at, chunks[c],
          (long long)size);
    CHECK(at != (size_t)size || memcmp(want, got, size) == 0, "%s: contents differ (chunk %zu)",
          rel, chunks[c]);
  }
  for (int i = 0; i < 16 && size > 0; ++i) {
    off_t off = (off_t)(((uint64_t)rand() * 7919u) % (uint64_t)size);
    size_t len = (size_t)(rand() % 9000) + 1;
    if ((off_t)len > size - off) len = (size_t)(size - off);
    ssize_t r = rump_sys_pread(fd, got, len, off);
    CHECK(r == (ssize_t)len && memcmp(want + off, got, len) == 0, "%s: pread %zu at %lld", rel, len,
          (long long)off);
  }
  char byte;
  CHECK(rump_sys_pread(fd, &byte, 1, size) == 0, "%s: read at EOF returned data", rel);
  rump_sys_close(fd);
out:
  free(want);
  free(got);
}

static void compare_symlink(const char* rel, const char* host, const char* rp) {
  char want[4096], got[4096];
  ssize_t wn = readlink(host, want, sizeof(want));
  ssize_t gn = rump_sys_readlink(rp, got, sizeof(got));
  CHECK(gn == wn && gn >= 0 && memcmp(want, got, (size_t)gn) == 0, "%s: symlink target differs",
        rel);
}

static int has_name(const char* names, size_t length, const char* name) {
  for (size_t at = 0; at < length; at += strlen(names + at) + 1) {
    if (strcmp(names + at, name) == 0) return 1;
  }
  return 0;
}

static void compare_xattrs(const char* rel, const char* host, const char* rp) {
  char want[8192], got[8192], wv[4096], gv[4096];
  ssize_t wn = llistxattr(host, want, sizeof(want));
  int gn = rump_sys_llistxattr(rp, got, sizeof(got));
  if (wn < 0) wn = 0;
  CHECK(gn >= 0, "%s: llistxattr: %s", rel, strerror(errno));
  if (gn < 0) return;
  CHECK(gn == wn, "%s: attribute list is %d bytes, source %zd", rel, gn, wn);
  for (ssize_t at = 0; at < wn; at += (ssize_t)strlen(want + at) + 1) {
    const char* name = want + at;
    CHECK(has_name(got, (size_t)gn, name), "%s: attribute %s not listed", rel, name);
    ssize_t wl = lgetxattr(host, name, wv, sizeof(wv));
    int gl = rump_sys_lgetxattr(rp, name, gv, sizeof(gv));
    CHECK(gl == wl && memcmp(wv, gv, (size_t)(wl > 0 ? wl : 0)) == 0,
          "%s: attribute %s: %d bytes, source %zd", rel, name, gl, wl);
    /* No buffer: the size alone (VOP_GETEXTATTR with a NULL uio). */
    gl = rump_sys_lgetxattr(rp, name, NULL, 0);
    CHECK(gl == wl, "%s: attribute %s: size query says %d, source %zd", rel, name, gl, wl);
    if (strncmp(name, "user.", 5) == 0) {
      /* The BSD interface: namespace user, name without the prefix. */
      ssize_t bl =
          rump_sys_extattr_get_link(rp, NB_EXTATTR_NAMESPACE_USER, name + 5, gv, sizeof(gv));
      CHECK(bl == wl && memcmp(wv, gv, (size_t)(wl > 0 ? wl : 0)) == 0,
            "%s: extattr_get_link(user, %s)", rel, name + 5);
    }
  }
  errno = 0;
  CHECK(rump_sys_lgetxattr(rp, "user.no-such-attribute", gv, sizeof(gv)) < 0 && errno == NB_ENOATTR,
        "%s: a missing attribute is not ENOATTR (errno %d)", rel, errno);
}

/* Directory listing: every source name, with the right inode number and type. */
static void compare_directory(const char* rel, const char* host, const char* rp, int is_root) {
  DIR* d = opendir(host);
  if (d == NULL) return;
  size_t want_count = 0;
  struct dirent* e;
  char* listing = malloc(1 << 20);
  size_t used = 0;
  int fd = rump_sys_open(rp, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
  CHECK(fd >= 0, "%s: open directory: %s", rel, strerror(errno));
  if (fd >= 0) {
    char buf[3000]; /* small, so a big directory takes several calls */
    int n;
    while ((n = rump_sys_getdents(fd, buf, sizeof(buf))) > 0) {
      memcpy(listing + used, buf, (size_t)n);
      used += (size_t)n;
    }
    CHECK(n == 0, "%s: getdents: %s", rel, strerror(errno));
    rump_sys_close(fd);
  }
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    ++want_count;
    int found = 0;
    for (size_t at = 0; at < used;) {
      const struct nb_dirent* nd = (const struct nb_dirent*)(listing + at);
      if (nd->d_reclen == 0) break;
      at += nd->d_reclen;
      if (nd->d_namlen != strlen(e->d_name) || memcmp(nd->d_name, e->d_name, nd->d_namlen))
        continue;
      found = 1;
      char child[4096];
      struct nb_stat st, dst;
      snprintf(child, sizeof(child), "%s/%s", strcmp(rp, "/") == 0 ? "" : rp, e->d_name);
      /* A mount point (/dev, /tmp covered at boot) has the covered directory's number. */
      if (rump_sys_lstat(child, (void*)&st) == 0 && rump_sys_lstat(rp, (void*)&dst) == 0 &&
          st.st_dev == dst.st_dev) {
        CHECK(nd->d_fileno == st.st_ino, "%s/%s: d_fileno %llu, st_ino %llu", rel, e->d_name,
              (unsigned long long)nd->d_fileno, (unsigned long long)st.st_ino);
        CHECK(nd->d_type == ((st.st_mode & 0170000) >> 12), "%s/%s: d_type", rel, e->d_name);
      }
      break;
    }
    CHECK(found, "%s: readdir does not list %s", rel, e->d_name);
  }
  closedir(d);
  /* Nothing extra, except at a union root, where the rump kernel's own root follows. */
  size_t got_count = 0;
  for (size_t at = 0; at < used;) {
    const struct nb_dirent* nd = (const struct nb_dirent*)(listing + at);
    if (nd->d_reclen == 0) break;
    at += nd->d_reclen;
    if ((nd->d_namlen == 1 && nd->d_name[0] == '.') ||
        (nd->d_namlen == 2 && memcmp(nd->d_name, "..", 2) == 0)) {
      continue;
    }
    ++got_count;
  }
  if (is_root && mount_prefix[0] == '\0') {
    CHECK(got_count >= want_count, "%s: %zu entries listed, source %zu", rel, got_count,
          want_count);
  } else {
    CHECK(got_count == want_count, "%s: %zu entries listed, source %zu", rel, got_count,
          want_count);
  }
  free(listing);
}

static int visit(const char* host, const struct stat* hs, int flag, struct FTW* ftw) {
  const char* rel = host + strlen(source_root);
  while (*rel == '/') ++rel;
  /* At `/`, the image's own /dev and /tmp are covered at boot: not compared. */
  if (mount_prefix[0] == '\0' && ftw->level == 1 &&
      (strcmp(rel, "dev") == 0 || strcmp(rel, "tmp") == 0)) {
    return S_ISDIR(hs->st_mode) ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
  }
  char rp[4096];
  rump_path(rp, sizeof(rp), rel);
  if (rp[0] == '\0') strcpy(rp, "/");
  struct nb_stat st;
  memset(&st, 0, sizeof(st));
  int r = rump_sys_lstat(rp, (void*)&st);
  CHECK(r == 0, "%s: lstat: %s", rp, strerror(errno));
  if (r != 0) return FTW_CONTINUE;
  const char* name = rel[0] ? rel : "/";
  CHECK(st.st_mode == hs->st_mode, "%s: mode 0%o, source 0%o", name, st.st_mode, hs->st_mode);
  CHECK(st.st_uid == hs->st_uid && st.st_gid == hs->st_gid, "%s: owner %u:%u, source %u:%u", name,
        st.st_uid, st.st_gid, hs->st_uid, hs->st_gid);
  CHECK(st.st_mtim.tv_sec == hs->st_mtim.tv_sec && st.st_mtim.tv_nsec == hs->st_mtim.tv_nsec,
        "%s: mtime %lld.%09ld, source %lld.%09ld", name, (long long)st.st_mtim.tv_sec,
        st.st_mtim.tv_nsec, (long long)hs->st_mtim.tv_sec, hs->st_mtim.tv_nsec);
  CHECK(st.st_nlink == hs->st_nlink || S_ISDIR(hs->st_mode), "%s: nlink %u, source %lu", name,
        st.st_nlink, (unsigned long)hs->st_nlink);
  if (!S_ISDIR(hs->st_mode)) {
    CHECK(st.st_size == hs->st_size, "%s: size %lld, source %lld", name, (long long)st.st_size,
          (long long)hs->st_size);
    check_link(name, hs, st.st_ino);
  }
  if (S_ISCHR(hs->st_mode) || S_ISBLK(hs->st_mode)) {
    CHECK(nb_major(st.st_rdev) == major(hs->st_rdev) && nb_minor(st.st_rdev) == minor(hs->st_rdev),
          "%s: device %u,%u, source %u,%u", name, nb_major(st.st_rdev), nb_minor(st.st_rdev),
          major(hs->st_rdev), minor(hs->st_rdev));
  }
  if (S_ISREG(hs->st_mode)) compare_contents(name, host, rp, hs->st_size);
  if (S_ISLNK(hs->st_mode)) compare_symlink(name, host, rp);
  if (S_ISDIR(hs->st_mode)) compare_directory(name, host, rp, ftw->level == 0);
  compare_xattrs(name, host, rp);
  (void)flag;
  return FTW_CONTINUE;
}

/* ---- Read-only, missing names, the union with the rump kernel's root ---- */

static void expect_errno(int result, int want, const char* what) {
  int e = errno;
  CHECK(result < 0 && e == want, "%s: result %d errno %d, want errno %d", what, result, e, want);
}

static void check_read_only(void) {
  char p[4096], q[4096];
  rump_path(p, sizeof(p), "etc/motd");
  expect_errno(rump_sys_open(p, RUMP_O_WRONLY), NB_EROFS, "open etc/motd for writing");
  expect_errno(rump_sys_open(p, RUMP_O_RDWR | RUMP_O_TRUNC), NB_EROFS, "open O_TRUNC");
  expect_errno(rump_sys_truncate(p, 0), NB_EROFS, "truncate");
  expect_errno(rump_sys_chmod(p, 0777), NB_EROFS, "chmod");
  expect_errno(rump_sys_lchown(p, 1, 1), NB_EROFS, "chown");
  expect_errno(rump_sys_unlink(p), NB_EROFS, "unlink");
  expect_errno(rump_sys_utimes(p, NULL), NB_EROFS, "utimes");
  expect_errno(rump_sys_lsetxattr(p, "user.new", "x", 1, 0), NB_EROFS, "setxattr");
  rump_path(q, sizeof(q), "etc/new");
  expect_errno(rump_sys_open(q, RUMP_O_WRONLY | RUMP_O_CREAT, 0644), NB_EROFS, "create");
  expect_errno(rump_sys_mkdir(q, 0755), NB_EROFS, "mkdir");
  expect_errno(rump_sys_symlink("x", q), NB_EROFS, "symlink");
  expect_errno(rump_sys_link(p, q), NB_EROFS, "link");
  expect_errno(rump_sys_rename(p, q), NB_EROFS, "rename");
  rump_path(q, sizeof(q), "a/b/c/d");
  expect_errno(rump_sys_rmdir(q), NB_EROFS, "rmdir");
  rump_path(q, sizeof(q), "etc");
  expect_errno(rump_sys_mkdir(q, 0755), NB_EEXIST, "mkdir of an existing name");

  rump_path(q, sizeof(q), "etc/no-such-name");
  struct nb_stat st;
  expect_errno(rump_sys_lstat(q, (void*)&st), NB_ENOENT, "missing name");
  rump_path(q, sizeof(q), "no/such/path");
  expect_errno(rump_sys_lstat(q, (void*)&st), NB_ENOENT, "missing path");
  rump_path(q, sizeof(q), "etc/motd/below-a-file");
  CHECK(rump_sys_lstat(q, (void*)&st) < 0, "a name below a file resolves");
  /* A name the name cache knows to be missing is still EROFS to create, not ENOENT. */
  rump_path(q, sizeof(q), "etc/looked-up-first");
  expect_errno(rump_sys_lstat(q, (void*)&st), NB_ENOENT, "missing name, before create");
  expect_errno(rump_sys_open(q, RUMP_O_WRONLY | RUMP_O_CREAT, 0644), NB_EROFS,
               "create after a negative lookup");
  expect_errno(rump_sys_mkdir(q, 0755), NB_EROFS, "mkdir after a negative lookup");

  /* Device and FIFO nodes name things outside the image: writing them is not EROFS. */
  rump_path(q, sizeof(q), "nodes/char");
  if (rump_sys_lstat(q, (void*)&st) == 0) {
    CHECK(rump_sys_access(q, NB_W_OK) == 0, "access(W_OK) of a device node: %s", strerror(errno));
    int fd = rump_sys_open(q, RUMP_O_WRONLY);
    CHECK(fd >= 0 || errno != NB_EROFS, "open a device node for writing: EROFS");
    if (fd >= 0) rump_sys_close(fd);
  }
  rump_path(q, sizeof(q), "nodes/fifo");
  if (rump_sys_lstat(q, (void*)&st) == 0) {
    CHECK(rump_sys_access(q, NB_W_OK) == 0, "access(W_OK) of a FIFO: %s", strerror(errno));
    int fd = rump_sys_open(q, RUMP_O_RDWR | RUMP_O_NONBLOCK);
    CHECK(fd >= 0 || errno != NB_EROFS, "open a FIFO for writing: EROFS");
    if (fd >= 0) rump_sys_close(fd);
  }

  /* pathconf, reads at a negative offset, a getdents buffer too small for one entry. */
  rump_path(q, sizeof(q), "etc");
  CHECK(rump_sys_pathconf(q, NB_PC_2_SYMLINKS) == 1, "pathconf(_PC_2_SYMLINKS): %s",
        strerror(errno));
  CHECK(rump_sys_pathconf(q, NB_PC_SYMLINK_MAX) >= 255, "pathconf(_PC_SYMLINK_MAX): %s",
        strerror(errno));
  int fd = rump_sys_open(p, RUMP_O_RDONLY);
  if (fd >= 0) {
    char byte;
    expect_errno(rump_sys_pread(fd, &byte, 1, -1), NB_EINVAL, "pread at offset -1");
    rump_sys_close(fd);
  }
  fd = rump_sys_open(q, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
  if (fd >= 0) {
    char tiny[8];
    expect_errno(rump_sys_getdents(fd, tiny, sizeof(tiny)), NB_EINVAL, "getdents into 8 bytes");
    rump_sys_close(fd);
  }
}

static void check_getcwd(void) {
  char want[4096], got[4096];
  rump_path(want, sizeof(want), "a/b/c/d");
  CHECK(rump_sys_chdir(want) == 0, "chdir %s: %s", want, strerror(errno));
  memset(got, 0, sizeof(got));
  int r = rump_sys___getcwd(got, sizeof(got));
  CHECK(r >= 0 && strcmp(got, want) == 0, "getcwd: \"%s\" (%d), want \"%s\"", got, r, want);
  rump_sys_chdir("/");
}

/* The rump kernel's /dev/null and a writable /tmp, through the union or the covering mounts. */
static void check_rump_root(int image_has_dev, int image_has_tmp) {
  struct nb_stat st;
  int r = rump_sys_stat("/dev/null", (void*)&st);
  CHECK(r == 0 && (st.st_mode & 0170000) == 0020000, "/dev/null is not a character device");
  int fd = rump_sys_open("/dev/null", RUMP_O_WRONLY);
  CHECK(fd >= 0, "open /dev/null: %s", strerror(errno));
  if (fd >= 0) {
    CHECK(rump_sys_write(fd, "discard", 7) == 7, "write to /dev/null");
    rump_sys_close(fd);
  }
  /* The image's /dev/null is Linux's 1,3; the rump kernel's is its own. */
  if (image_has_dev) {
    CHECK(!(nb_major(st.st_rdev) == 1 && nb_minor(st.st_rdev) == 3),
          "/dev/null is the image's node, not the rump kernel's");
    expect_errno(rump_sys_lstat("/dev/readme", (void*)&st), NB_ENOENT,
                 "the image's /dev is covered");
  }
  fd = rump_sys_open("/tmp/written-at-runtime", RUMP_O_RDWR | RUMP_O_CREAT, 0600);
  CHECK(fd >= 0, "create in /tmp: %s", strerror(errno));
  if (fd >= 0) {
    char buf[8] = {0};
    CHECK(rump_sys_write(fd, "tmpdata", 7) == 7, "write in /tmp");
    CHECK(rump_sys_pread(fd, buf, 7, 0) == 7 && memcmp(buf, "tmpdata", 7) == 0, "read back");
    rump_sys_close(fd);
  }
  if (image_has_tmp) {
    r = rump_sys_stat("/tmp", (void*)&st);
    CHECK(r == 0 && (st.st_mode & 07777) == 01777, "/tmp mode 0%o, want 01777", st.st_mode);
  }
  if (plain_root) {
    /* The image alone is `/`: no new names there. */
    expect_errno(rump_sys_mkdir("/made-at-runtime", 0755), NB_EROFS,
                 "mkdir /made-at-runtime with the image alone at /");
    return;
  }
  /* A new name at `/` itself falls through to the rump kernel's root (mount points), also
   * after a lookup of the missing name (a negative name-cache entry in the image's root). */
  expect_errno(rump_sys_lstat("/made-at-runtime", (void*)&st), NB_ENOENT,
               "/made-at-runtime before mkdir");
  CHECK(rump_sys_mkdir("/made-at-runtime", 0755) == 0, "mkdir /made-at-runtime: %s",
        strerror(errno));
  CHECK(rump_sys_lstat("/made-at-runtime", (void*)&st) == 0 && (st.st_mode & 0170000) == 0040000,
        "/made-at-runtime after mkdir: %s", strerror(errno));
  CHECK(rump_sys_rmdir("/made-at-runtime") == 0, "rmdir /made-at-runtime: %s", strerror(errno));
  expect_errno(rump_sys_lstat("/made-at-runtime", (void*)&st), NB_ENOENT,
               "/made-at-runtime after rmdir");
  CHECK(rump_sys_mkdir("/made-at-runtime", 0755) == 0, "mkdir /made-at-runtime again: %s",
        strerror(errno));
}

/* `..` and getcwd where the union at `/` meets the rump kernel's own root (INTERNALS.md, "The
 * union at `/`"). Reading a descriptor of `/` to its end moves it onto the rump kernel's old
 * root; `..` from there crashed the kernel (a NULL covered vnode) before the boot hook gave
 * that root's mount one that answers ENOENT. `.` from such a descriptor still panics this
 * kernel (lookup_once's KASSERT), so it is not tried here. */
static void expect_cwd(const char* want, const char* what) {
  char got[4096];
  memset(got, 0, sizeof(got));
  int r = rump_sys___getcwd(got, sizeof(got));
  CHECK(r >= 0 && strcmp(got, want) == 0, "%s: getcwd \"%s\" (%d, %s), want \"%s\"", what, got, r,
        r < 0 ? strerror(errno) : "", want);
}

static int same_file(const struct nb_stat* a, const struct nb_stat* b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* A descriptor of `/` after getdents has read it to its end (under a union, that moves it onto
 * the covered root); -1 if `/` does not open. */
static int open_root_read_to_end(void) {
  int fd = rump_sys_open("/", RUMP_O_RDONLY | RUMP_O_DIRECTORY);
  CHECK(fd >= 0, "open /: %s", strerror(errno));
  if (fd < 0) return -1;
  char buf[4096];
  int n;
  while ((n = rump_sys_getdents(fd, buf, sizeof(buf))) > 0) {
  }
  CHECK(n == 0, "getdents of / to its end: %s", strerror(errno));
  return fd;
}

static void check_union_dotdot(int image_has_dev) {
  struct nb_stat root, st;
  CHECK(rump_sys_stat("/", (void*)&root) == 0, "stat /: %s", strerror(errno));

  int fd = open_root_read_to_end();
  if (fd >= 0) {
    CHECK(rump_sys_fstat(fd, (void*)&st) == 0 && (st.st_mode & 0170000) == 0040000,
          "fstat of / read to its end: %s", strerror(errno));
    int up = rump_sys_openat(fd, "..", RUMP_O_RDONLY);
    expect_errno(up, NB_ENOENT, "openat(/ read to its end, \"..\")");
    if (up >= 0) rump_sys_close(up);
    CHECK(rump_sys_fstat(fd, (void*)&st) == 0, "fstat after the `..`: %s", strerror(errno));
    /* fchdir crosses the image's mount: the directory is `/` again. */
    CHECK(rump_sys_fchdir(fd) == 0, "fchdir to / read to its end: %s", strerror(errno));
    expect_cwd("/", "after fchdir to / read to its end");
    CHECK(rump_sys_stat(".", (void*)&st) == 0 && same_file(&st, &root),
          "fchdir to / read to its end: . is not /");

    /* In a chroot, `..` from it is clamped to the new root, and chroot's own check (vn_isunder
     * climbing from `/` past the rump kernel's root) ends. A child process, so the chroot stays
     * there. */
    struct lwp* parent = rump_pub_lwproc_curlwp();
    if (rump_pub_lwproc_rfork(RUMP_RFFDG) == 0) {
      struct nb_stat etc;
      CHECK(rump_sys_stat("/etc", (void*)&etc) == 0, "stat /etc: %s", strerror(errno));
      CHECK(rump_sys_chroot("/etc") == 0, "chroot /etc: %s", strerror(errno));
      expect_cwd("/", "after chroot /etc");
      up = rump_sys_openat(fd, "..", RUMP_O_RDONLY);
      CHECK(up >= 0 && rump_sys_fstat(up, (void*)&st) == 0 && same_file(&st, &etc),
            "chrooted openat(/ read to its end, \"..\") is not the new root: %d %s", up,
            up < 0 ? strerror(errno) : "");
      if (up >= 0) rump_sys_close(up);
      rump_pub_lwproc_releaselwp();
      if (parent != NULL) rump_pub_lwproc_switch(parent);
    } else {
      fail("rump_pub_lwproc_rfork: %s", strerror(errno));
    }
    rump_sys_close(fd);
  }

  /* /dev, whether the image's (covered by a rumpfs) or the rump kernel's (through the union):
   * `..` twice is `/`. */
  CHECK(rump_sys_chdir("/dev") == 0, "chdir /dev: %s", strerror(errno));
  if (image_has_dev) {
    expect_cwd("/dev", "in the image's /dev");
  } else {
    /* Known limit (INTERNALS.md): getcwd stops at the rump kernel's root. */
    char got[4096];
    expect_errno(rump_sys___getcwd(got, sizeof(got)), NB_ENOENT,
                 "getcwd in the rump kernel's /dev (known limit; update if it now works)");
  }
  CHECK(rump_sys_chdir("..") == 0, "chdir /dev/..: %s", strerror(errno));
  expect_cwd("/", "in /dev/..");
  CHECK(rump_sys_stat(".", (void*)&st) == 0 && same_file(&st, &root), "/dev/.. is not /");
  CHECK(rump_sys_chdir("..") == 0, "chdir /dev/../..: %s", strerror(errno));
  expect_cwd("/", "in /dev/../..");
  CHECK(rump_sys_stat(".", (void*)&st) == 0 && same_file(&st, &root), "/dev/../.. is not /");
  CHECK(rump_sys_stat("/dev/../../etc", (void*)&st) == 0, "stat /dev/../../etc: %s",
        strerror(errno));
  /* A directory made at `/` at run time lives in the rump kernel's root. */
  if (rump_sys_chdir("/made-at-runtime") == 0) {
    char got[4096];
    expect_errno(rump_sys___getcwd(got, sizeof(got)), NB_ENOENT,
                 "getcwd in /made-at-runtime (known limit; update if it now works)");
    CHECK(rump_sys_chdir("..") == 0, "chdir /made-at-runtime/..: %s", strerror(errno));
    CHECK(rump_sys_stat(".", (void*)&st) == 0 && same_file(&st, &root),
          "/made-at-runtime/.. is not /");
  } else {
    fail("chdir /made-at-runtime: %s", strerror(errno));
  }
  rump_sys_chdir("/");
}

/* The image alone at `/` (mkimage --root-mount plain): a descriptor of `/` read to its end
 * stays on the image, `.` and `..` from it are `/`, and getcwd works in the covered /dev and
 * /tmp. */
static void check_plain_root(void) {
  struct nb_stat root, st;
  CHECK(rump_sys_stat("/", (void*)&root) == 0, "stat /: %s", strerror(errno));
  int fd = open_root_read_to_end();
  if (fd >= 0) {
    const char* names[] = {".", "..", "etc"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
      int child = rump_sys_openat(fd, names[i], RUMP_O_RDONLY);
      CHECK(child >= 0 && rump_sys_fstat(child, (void*)&st) == 0,
            "openat(/ read to its end, \"%s\"): %s", names[i], strerror(errno));
      if (i < 2) CHECK(same_file(&st, &root), "\"%s\" of / read to its end is not /", names[i]);
      if (child >= 0) rump_sys_close(child);
    }
    rump_sys_close(fd);
  }
  CHECK(rump_sys_chdir("/dev") == 0, "chdir /dev: %s", strerror(errno));
  expect_cwd("/dev", "in /dev");
  CHECK(rump_sys_chdir("../..") == 0, "chdir /dev/../..: %s", strerror(errno));
  CHECK(rump_sys_stat(".", (void*)&st) == 0 && same_file(&st, &root), "/dev/../.. is not /");
  CHECK(rump_sys_chdir("/tmp") == 0, "chdir /tmp: %s", strerror(errno));
  expect_cwd("/tmp", "in /tmp");
  rump_sys_chdir("/");
}

/* The ways programs walk `/`, in every directory of it (the image's, the mount points the
 * boot code added, and what is mounted on them): fts (chdir, fchdir, getcwd), nftw (openat
 * from the parent's descriptor), and, on a descriptor read to its end with getdents,
 * openat(fd, "."), fstatat(fd, "."), openat(fd, ".."), fchdir(fd) then getcwd (what realpath
 * does), and `..` from every mount point. With the image alone at `/` every one must work.
 * In union mode each must work or fail with an errno, never take the kernel down, except `.`
 * from a descriptor of `/` read to its end, which panics this kernel (INTERNALS.md) and is not
 * tried; the errors there are counted, not failed. */
#define TRAVERSE_MAX 4096
static char traverse_queue[TRAVERSE_MAX][512];

static void parent_of(const char* path, char* out, size_t size) {
  snprintf(out, size, "%s", path);
  char* slash = strrchr(out, '/');
  if (slash == NULL || slash == out) {
    snprintf(out, size, "/");
  } else {
    *slash = '\0';
  }
}

static int tolerated; /* union mode: operations that failed with an errno */

/* A check that must hold with the image alone at `/`, and only must not crash under a union. */
#define WALK_CHECK(cond, ...)              \
  do {                                     \
    if (plain_root) {                      \
      CHECK(cond, __VA_ARGS__);            \
    } else if (!(cond)) {                  \
      ++tolerated;                         \
    }                                      \
  } while (0)

static void traverse_one(const char* path, int* queued) {
  struct nb_stat here, parent, st;
  char parent_path[512], got[4096];
  parent_of(path, parent_path, sizeof(parent_path));
  CHECK(rump_sys_stat(path, (void*)&here) == 0, "stat %s: %s", path, strerror(errno));
  CHECK(rump_sys_stat(parent_path, (void*)&parent) == 0, "stat %s: %s", parent_path,
        strerror(errno));
  int fd = rump_sys_open(path, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
  CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
  if (fd < 0) return;
  /* getdents to the end; nftw-style openat of each subdirectory from this descriptor. */
  char buf[8192];
  int n;
  while ((n = rump_sys_getdents(fd, buf, sizeof(buf))) > 0) {
    for (int at = 0; at < n;) {
      const struct nb_dirent* d = (const struct nb_dirent*)(buf + at);
      if (d->d_reclen == 0) break;
      at += d->d_reclen;
      if (d->d_type != 4 /* DT_DIR */) continue;
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      char child[1100];
      snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") == 0 ? "" : path, d->d_name);
      struct nb_stat by_path, by_fd;
      int cfd = rump_sys_openat(fd, d->d_name, RUMP_O_RDONLY | RUMP_O_DIRECTORY);
      WALK_CHECK(cfd >= 0 && rump_sys_fstat(cfd, (void*)&by_fd) == 0 &&
                     rump_sys_stat(child, (void*)&by_path) == 0 && same_file(&by_fd, &by_path),
                 "openat(%s, \"%s\") is not %s: %s", path, d->d_name, child, strerror(errno));
      if (cfd >= 0) rump_sys_close(cfd);
      if (*queued < TRAVERSE_MAX && strlen(child) < 512) {
        snprintf(traverse_queue[(*queued)++], 512, "%s", child);
      }
    }
  }
  CHECK(n == 0, "getdents of %s to its end: %s", path, strerror(errno));
  const int union_top = !plain_root && strcmp(path, "/") == 0;
  if (!union_top) {
    int dot = rump_sys_openat(fd, ".", RUMP_O_RDONLY);
    WALK_CHECK(dot >= 0 && rump_sys_fstat(dot, (void*)&st) == 0 && same_file(&st, &here),
               "openat(%s read to its end, \".\"): %s", path, strerror(errno));
    if (dot >= 0) rump_sys_close(dot);
    WALK_CHECK(rump_sys_fstatat(fd, ".", (void*)&st, 0) == 0 && same_file(&st, &here),
               "fstatat(%s read to its end, \".\"): %s", path, strerror(errno));
  }
  int up = rump_sys_openat(fd, "..", RUMP_O_RDONLY);
  WALK_CHECK(up >= 0 && rump_sys_fstat(up, (void*)&st) == 0 && same_file(&st, &parent),
             "openat(%s read to its end, \"..\") is not %s: %s", path, parent_path,
             strerror(errno));
  if (up >= 0) rump_sys_close(up);
  /* fts: fchdir to it and ask where we are (realpath does the same). */
  WALK_CHECK(rump_sys_fchdir(fd) == 0, "fchdir to %s: %s", path, strerror(errno));
  memset(got, 0, sizeof(got));
  int r = rump_sys___getcwd(got, sizeof(got));
  WALK_CHECK(r >= 0 && strcmp(got, path) == 0, "getcwd after fchdir to %s: \"%s\" (%s)", path,
             got, r < 0 ? strerror(errno) : "");
  rump_sys_close(fd);
  CHECK(rump_sys_chdir(path) == 0, "chdir %s: %s", path, strerror(errno));
  memset(got, 0, sizeof(got));
  r = rump_sys___getcwd(got, sizeof(got));
  WALK_CHECK(r >= 0 && strcmp(got, path) == 0, "getcwd in %s: \"%s\" (%s)", path, got,
             r < 0 ? strerror(errno) : "");
  /* `..` from a mount point (a directory on another device than its parent) is its parent. */
  if (here.st_dev != parent.st_dev) {
    WALK_CHECK(rump_sys_chdir("..") == 0 && rump_sys_stat(".", (void*)&st) == 0 &&
                   same_file(&st, &parent),
               "`..` from the mount point %s is not %s", path, parent_path);
  }
  rump_sys_chdir("/");
}

static void check_traversals(void) {
  int queued = 0, done = 0;
  tolerated = 0;
  snprintf(traverse_queue[queued++], 512, "/");
  while (done < queued) traverse_one(traverse_queue[done++], &queued);
  CHECK(queued < TRAVERSE_MAX, "more than %d directories: the walk was cut short", TRAVERSE_MAX);
  printf("walked %d directories the ways programs do%s", done, plain_root ? "\n" : "");
  if (!plain_root) printf(" (%d operations failed with an errno under the union)\n", tolerated);
}

/* Boot records, when the test is told what the image carries:
 *   BAKEFS_TEST_CONFIG=FILE   rump_bakefs_config() must return FILE's bytes
 *   BAKEFS_TEST_TMPFS=/a,/b   each must be a writable mount of its own */
static void check_boot_records(void) {
  const char* config_file = getenv("BAKEFS_TEST_CONFIG");
  if (config_file != NULL) {
    char want[65536];
    FILE* f = fopen(config_file, "rb");
    size_t n = f != NULL ? fread(want, 1, sizeof(want), f) : 0;
    if (f != NULL) fclose(f);
    size_t length = 0;
    const char* got = rump_bakefs_config(&length);
    CHECK(got != NULL && length == n && memcmp(got, want, n) == 0,
          "launch configuration: %zu bytes, want %zu from %s", length, n, config_file);
  }
  const char* list = getenv("BAKEFS_TEST_TMPFS");
  char paths[4096];
  snprintf(paths, sizeof(paths), "%s", list != NULL ? list : "");
  for (char* path = strtok(paths, ","); path != NULL; path = strtok(NULL, ",")) {
    char parent[4096], file[4096];
    struct nb_stat st, pst;
    snprintf(parent, sizeof(parent), "%s/..", path);
    CHECK(rump_sys_stat(path, (void*)&st) == 0 && rump_sys_stat(parent, (void*)&pst) == 0 &&
              st.st_dev != pst.st_dev,
          "%s is not a mount of its own", path);
    snprintf(file, sizeof(file), "%s/boot-record-test", path);
    int fd = rump_sys_open(file, RUMP_O_RDWR | RUMP_O_CREAT, 0600);
    CHECK(fd >= 0 && rump_sys_write(fd, "x", 1) == 1, "%s is not writable: %s", path,
          strerror(errno));
    if (fd >= 0) rump_sys_close(fd);
  }
}

/* BAKEFS_TEST_DEVICE=1: IMAGE_FILE as a block device (etfs), mounted by its path
 * (BAKEFS_RUMP_ARGS_DEVICE) as `mount -t bakefs /dev/x /mnt` would. A device that holds no
 * image is refused first. */
static int mount_from_device(const char* image_file, const char* not_an_image) {
  struct bakefs_rump_args args;
  CHECK(rump_pub_etfs_register("/dev/bakeimg", image_file, RUMP_ETFS_BLK) == 0,
        "etfs /dev/bakeimg: %s", strerror(errno));
  CHECK(rump_pub_etfs_register("/dev/notimg", not_an_image, RUMP_ETFS_BLK) == 0,
        "etfs /dev/notimg: %s", strerror(errno));
  rump_sys_mkdir("/mnt", 0755);
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_DEVICE;
  args.image = "/dev/notimg";
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)),
               NB_EINVAL, "a device without an image");
  args.image = "/mnt";
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)),
               15 /* ENOTBLK */, "a directory as the device");
  /* A device shorter than the image its superblock describes: EIO before anything is read
   * past the superblock (the size comes from the device, not from the image). */
  {
    char short_file[] = "/tmp/bakefs-short-XXXXXX";
    int out = mkstemp(short_file);
    FILE* in = fopen(image_file, "rb");
    CHECK(out >= 0 && in != NULL, "a truncated copy of %s: %s", image_file, strerror(errno));
    if (out >= 0 && in != NULL) {
      char half[8192];
      size_t n = fread(half, 1, sizeof(half), in);
      CHECK(n == sizeof(half) && write(out, half, n) == (ssize_t)n, "write %s", short_file);
      CHECK(rump_pub_etfs_register("/dev/shortimg", short_file, RUMP_ETFS_BLK) == 0,
            "etfs /dev/shortimg: %s", strerror(errno));
      args.image = "/dev/shortimg";
      expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)),
                   5 /* EIO */, "a device shorter than its image");
    }
    if (in != NULL) fclose(in);
    if (out >= 0) {
      close(out);
      unlink(short_file);
    }
  }
  args.image = "/dev/bakeimg";
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", 0, &args, sizeof(args)), NB_EROFS,
               "a read-write mount of the device");
  if (rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)) != 0) {
    fail("mount /dev/bakeimg (%s) at /mnt: %s", image_file, strerror(errno));
    return -1;
  }
  /* The device is this mount's while it lasts: a second mount of it is EBUSY. */
  rump_sys_mkdir("/mnt2", 0755);
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt2", RUMP_MNT_RDONLY, &args, sizeof(args)),
               16 /* EBUSY */, "a second mount of the mounted device");
  /* MNT_GETARGS says what the mount is, and gives out no kernel address. */
  struct bakefs_rump_args got;
  memset(&got, 0xa5, sizeof(got));
  /* (mount(2) with MNT_GETARGS returns the length of the arguments) */
  CHECK(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_GETARGS, &got, sizeof(got)) ==
            (int)sizeof(got),
        "MNT_GETARGS of the device mount: %s", strerror(errno));
  CHECK(got.version == BAKEFS_RUMP_ARGS_DEVICE && got.image == NULL && got.length > 0,
        "MNT_GETARGS of the device mount: version %u, image %p, length %llu", got.version,
        got.image, (unsigned long long)got.length);
  return 0;
}

static int mount_from_file(const char* image_file) {
  if (getenv("BAKEFS_TEST_DEVICE") != NULL) return mount_from_device(image_file, "/proc/self/exe");
  FILE* f = fopen(image_file, "rb");
  if (f == NULL) {
    perror(image_file);
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* image = malloc((size_t)size);
  if (fread(image, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    return -1;
  }
  fclose(f);
  struct bakefs_rump_args args;
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = image;
  args.length = (uint64_t)size;
  rump_sys_mkdir("/mnt", 0755);
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", 0, &args, sizeof(args)), NB_EROFS,
               "a read-write mount");
  if (rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)) != 0) {
    fail("mount %s at /mnt: %s", image_file, strerror(errno));
    return -1;
  }
  expect_errno(rump_sys_mount(BAKEFS_RUMP_FSTYPE, "/mnt", RUMP_MNT_UPDATE, &args, sizeof(args)),
               NB_EROFS, "an update to read-write");
  return 0;
}

/* Several threads (each its own implicit rump lwp) read the same files at once. */
struct reader {
  pthread_t thread;
  const char* rel;
  int errors;
};

static void* reader_main(void* arg) {
  struct reader* r = arg;
  char host[4096], rp[4096];
  snprintf(host, sizeof(host), "%s/%s", source_root, r->rel);
  rump_path(rp, sizeof(rp), r->rel);
  FILE* f = fopen(host, "rb");
  if (f == NULL) return NULL;
  char* w = malloc(1 << 22);
  char* g = malloc(1 << 22);
  size_t n = fread(w, 1, 1 << 22, f);
  fclose(f);
  for (int round = 0; round < 8; ++round) {
    int fd = rump_sys_open(rp, RUMP_O_RDONLY);
    if (fd < 0) {
      ++r->errors;
      break;
    }
    size_t at = 0;
    ssize_t got;
    while (at < n && (got = rump_sys_pread(fd, g + at, 8192 + round * 1000, (off_t)at)) > 0) {
      at += (size_t)got;
    }
    if (at != n || memcmp(w, g, n) != 0) ++r->errors;
    rump_sys_close(fd);
  }
  free(w);
  free(g);
  return NULL;
}

static void check_parallel_reads(void) {
  static const char* files[] = {"bin/big",  "bin/random", "bin/sparse", "bin/big",
                                "etc/motd", "bin/random", "bin/big",    "bin/odd-size"};
  enum { kReaders = sizeof(files) / sizeof(files[0]) };
  struct reader readers[kReaders];
  for (int i = 0; i < kReaders; ++i) {
    readers[i] = (struct reader){.rel = files[i]};
    pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]);
  }
  for (int i = 0; i < kReaders; ++i) {
    pthread_join(readers[i].thread, NULL);
    CHECK(readers[i].errors == 0, "parallel reads of %s: %d bad rounds", readers[i].rel,
          readers[i].errors);
  }
}

/* The other linked-in images (BAKEFS_TEST_MOUNTS): each compared with its tree where the boot
 * code mounted it, and checked as a mount of its own. */
static void check_more_images(void) {
  const char* list = getenv("BAKEFS_TEST_MOUNTS");
  char mounts[4096];
  snprintf(mounts, sizeof(mounts), "%s", list != NULL ? list : "");
  const char* saved_root = source_root;
  char* next = NULL;
  for (char* item = strtok_r(mounts, ",", &next); item != NULL; item = strtok_r(NULL, ",", &next)) {
    char* tree = strchr(item, '=');
    if (tree == NULL) {
      fail("BAKEFS_TEST_MOUNTS: %s is not PATH=TREE", item);
      continue;
    }
    *tree++ = '\0';
    char parent[4096], host[4096];
    struct nb_stat st, pst, below;
    snprintf(parent, sizeof(parent), "%s/..", item);
    CHECK(rump_sys_stat(item, (void*)&st) == 0 && rump_sys_stat(parent, (void*)&pst) == 0 &&
              st.st_dev != pst.st_dev,
          "%s is not a mount of its own: %s", item, strerror(errno));
    /* `..` of the mount's root is the directory it covers, in the image below. */
    char* slash = strrchr(parent, '/');
    *slash = '\0';
    slash = strrchr(parent, '/');
    if (slash == parent) parent[1] = '\0'; else *slash = '\0';
    CHECK(rump_sys_stat(parent, (void*)&below) == 0 && below.st_dev == pst.st_dev &&
              below.st_ino == pst.st_ino,
          "%s/.. is not %s", item, parent);
    source_root = tree;
    mount_prefix = item;
    link_count = 0; /* hard links do not cross images */
    nftw(source_root, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    snprintf(host, sizeof(host), "%s/etc/motd", tree);
    if (access(host, F_OK) == 0) {
      check_read_only();
      check_getcwd();
    } else {
      snprintf(host, sizeof(host), "%s/new-file", item);
      expect_errno(rump_sys_open(host, RUMP_O_WRONLY | RUMP_O_CREAT, 0644), NB_EROFS, "create");
      expect_errno(rump_sys_mkdir(host, 0755), NB_EROFS, "mkdir");
    }
    printf("compared the image mounted at %s with %s\n", item, tree);
  }
  source_root = saved_root;
  mount_prefix = "";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SOURCE_TREE [IMAGE_FILE]\n", argv[0]);
    return 2;
  }
  source_root = argv[1];
  /* BAKEFS_TEST_ROOT=union: the image was made with --root-mount union. */
  const char* root_mode = getenv("BAKEFS_TEST_ROOT");
  plain_root = root_mode == NULL || strcmp(root_mode, "union") != 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (rump_init() != 0) {
    fprintf(stderr, "rump_init failed\n");
    return 1;
  }
  const double init_seconds = seconds_since(&start);
  if (rump_bakefs_root_mounted()) {
    mount_prefix = "";
    struct nb_stat st;
    int fd = rump_sys_open("/etc/motd", RUMP_O_RDONLY);
    char byte;
    CHECK(rump_sys_stat("/", (void*)&st) == 0 && fd >= 0 && rump_sys_read(fd, &byte, 1) == 1,
          "/ is not readable after rump_init");
    if (fd >= 0) rump_sys_close(fd);
    printf("rump_init() took %.3f ms; / readable (first file read) %.3f ms after it began\n",
           init_seconds * 1e3, seconds_since(&start) * 1e3);
  } else {
    if (argc < 3) {
      fprintf(stderr, "no image linked in and no IMAGE_FILE given\n");
      return 2;
    }
    mount_prefix = "/mnt";
    if (mount_from_file(argv[2]) != 0) return 1;
    printf("rump_init() took %.3f ms; image mounted from memory at /mnt after %.3f ms\n",
           init_seconds * 1e3, seconds_since(&start) * 1e3);
  }
  size_t config_length = 0;
  const char* config = rump_bakefs_config(&config_length);
  printf("launch configuration in the image: %s (%zu bytes)\n", config ? "yes" : "none",
         config_length);

  struct timespec walk;
  clock_gettime(CLOCK_MONOTONIC, &walk);
  nftw(source_root, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
  printf("compared the tree in %.3f ms\n", seconds_since(&walk) * 1e3);
  check_parallel_reads();
  check_read_only();
  check_getcwd();
  if (mount_prefix[0] == '\0') {
    char dev[4096], tmp[4096];
    struct stat hs;
    snprintf(dev, sizeof(dev), "%s/dev", source_root);
    snprintf(tmp, sizeof(tmp), "%s/tmp", source_root);
    check_rump_root(lstat(dev, &hs) == 0, lstat(tmp, &hs) == 0);
    if (plain_root) {
      check_plain_root();
    } else {
      check_union_dotdot(lstat(dev, &hs) == 0);
    }
    check_more_images();
    check_traversals();
    check_boot_records();
  } else {
    CHECK(rump_sys_unmount("/mnt", 0) == 0, "unmount /mnt: %s", strerror(errno));
  }

  printf("%d checks, %d failed\n", checks, failures);
  printf(failures == 0 ? "RUMP BAKEFS OK\n" : "RUMP BAKEFS FAILED\n");
  return failures == 0 ? 0 : 1;
}
