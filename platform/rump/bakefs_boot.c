/* The root file system at rump kernel start-up: when the program carries an image (bakefs/
 * embed.h), mount it at `/` before the application's main runs.
 *
 * The hook runs at RUMP_COMPONENT_POSTINIT: by then the rump kernel's own root (rumpfs, with
 * /dev and /tmp) exists, every VFS module (bakefs, tmpfs) is attached, the device components
 * have made their /dev nodes and init (proc 1) exists, so mounting moves its current and root
 * directory to the image. rumprun reads its launch configuration and mounts its disks after
 * rump_init() returns, that is after this.
 *
 * `/` is the image alone, read-only (README.md, "The image at `/`"): where it has no /dev,
 * /tmp or /etc at its top, a mount-point directory is added (bakefs_rump_add_mount_dir), and
 *  - /dev is covered by a fresh rumpfs holding a copy of every node of the rump kernel's /dev
 *    (the image's device numbers, if it has a /dev, are the build host's); nodes that drivers
 *    make later (by path) land there too;
 *  - /tmp by a tmpfs (a rumpfs when tmpfs is not linked in), with the image directory's owner
 *    and mode; an added /etc by a rumpfs, for rumprun's base /etc;
 *  - boot records of type BAKEFS_BOOT_TMPFS name more directories to cover with a tmpfs, in
 *    order; the BAKEFS_BOOT_CONFIG record is handed out by rump_bakefs_config().
 * Several images may be linked in (each object of `mkimage --emit-object` adds its image to
 * the bakefs_image section): the one without a BAKEFS_BOOT_MOUNT record (`mkimage --mount-at`)
 * is `/`, and each of the others is mounted read-only at the path its record names, after `/`
 * and its covers, parents first (bakefs_boot_images). Its launch configuration is used when
 * the image at `/` has none.
 * An image made with `mkimage --root-mount union` (its BAKEFS_BOOT_ROOT record) gets
 * MNT_UNION and no added directories: a name the image lacks at its top falls through to the
 * rump kernel's root, and new names at `/` are made there. What that breaks in this kernel:
 * INTERNALS.md.
 * The hook mitigates one of those, the crash of `..` from a descriptor of `/` read to its end
 * (now ENOENT, see bakefs_boot_anchor_old_root). It cannot fix `.` from that descriptor (a
 * KASSERT panic), getcwd below the rump kernel's root (ENOENT) or etfs keys (never found).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/param.h> /* first: every other kernel header needs it */
#include <sys/types.h>

#include <sys/dirent.h>
#include <sys/errno.h>
#include <sys/fcntl.h>
#include <sys/kmem.h>
#include <sys/lwp.h>
#include <sys/mount.h>
#include <sys/namei.h>
#include <sys/stat.h>
#include <sys/systm.h>
#include <sys/uio.h>
#include <sys/vfs_syscalls.h>
#include <sys/vnode.h>

#include <fs/tmpfs/tmpfs_args.h>

#include <rump-sys/kern.h>
#include <rump/rumpuser.h>

#include "bakefs_rump.h"
#include "bakefs_rump_impl.h"

extern struct vfsops bakefs_vfsops;

static const char* bakefs_boot_config;
static size_t bakefs_boot_config_length;
static int bakefs_boot_root_mounted;

const char* rump_bakefs_config(size_t* length) {
  if (length != NULL) *length = bakefs_boot_config_length;
  return bakefs_boot_config;
}

int rump_bakefs_root_mounted(void) {
  return bakefs_boot_root_mounted;
}

/* The images linked in, in section order. path: where a BAKEFS_BOOT_MOUNT record says to
 * mount it ("" for none: a root image); the kernel looks paths up only up to MAXPATHLEN - 1
 * bytes, which mkimage checks. The table is allocated for as many images as the section holds
 * and lives only during the boot hook (bakefs_boot_mount_root). */
struct bakefs_boot_image {
  const unsigned char* data;
  size_t length;
  char path[MAXPATHLEN];
  bool usable; /* its superblock and boot records could be read */
};
static struct bakefs_boot_image* bakefs_boot_image_table;
static unsigned bakefs_boot_image_count;

static bool bakefs_boot_zero(const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

/* Reads one image's MOUNT record with a mount of the core alone, as small as it can be (one
 * cache block, one decompressor): O(1), nothing of the image but its superblock and the unit
 * holding its boot records is read. */
static void bakefs_boot_probe(struct bakefs_boot_image* img) {
  struct bakefs_platform platform;
  struct bakefs_mount_options options;
  bakefs_fs* fs;
  const void* data;
  size_t length;
  bakefs_rump_platform(&platform);
  memset(&options, 0, sizeof(options));
  options.cache_bytes = 1;
  options.decompressors = 1;
  options.verify_slots = 16;
  int status = bakefs_mount(img->data, img->length, &platform, &options, &fs);
  if (status != BAKEFS_OK) {
    printf("bakefs: a linked-in image (%zu bytes at %p) does not mount: %s; ignored\n", img->length,
           img->data, bakefs_strerror(status));
    return;
  }
  status = bakefs_boot_record(fs, BAKEFS_BOOT_MOUNT, 0, &data, &length);
  if (status == BAKEFS_OK && length >= sizeof(img->path)) {
    printf(
        "bakefs: a linked-in image (%zu bytes at %p): its mount path is %zu bytes, longer than "
        "the kernel's %d; ignored\n",
        img->length, img->data, length, MAXPATHLEN - 1);
  } else if (status == BAKEFS_OK) {
    memcpy(img->path, data, length);
    img->path[length] = '\0';
    img->usable = true;
  } else if (status == BAKEFS_ENOENT) {
    img->usable = true;
  } else {
    printf("bakefs: a linked-in image (%zu bytes at %p): mount record: %s; ignored\n", img->length,
           img->data, bakefs_strerror(status == BAKEFS_OK ? BAKEFS_ECORRUPT : status));
  }
  bakefs_unmount(fs);
}

/* Walks the images of the section (base, total): back to back, each at a multiple of 16
 * bytes, zero bytes between. Fills table (when not NULL) and returns how many there are; quiet
 * tells the first walk, which only counts, not to say why it stopped. */
static unsigned bakefs_boot_scan(const unsigned char* base, size_t total,
                                 struct bakefs_boot_image* table, bool quiet) {
  size_t at = 0;
  unsigned n = 0;
  while (at < total) {
    while (total - at >= 16 && bakefs_boot_zero(base + at, 16)) at += 16;
    if (total - at < 16) break; /* padding */
    uint64_t length;
    int status = bakefs_image_length(base + at, total - at, &length);
    if (status != BAKEFS_OK) {
      if (n > 0 && !quiet) {
        printf(
            "bakefs: no image at byte %zu of the %zu linked-in bytes (%s): the rest is "
            "ignored\n",
            at, total, bakefs_strerror(status));
      }
      break;
    }
    if (table != NULL) {
      struct bakefs_boot_image* img = &table[n];
      img->data = base + at;
      img->length = (size_t)length;
      img->path[0] = '\0';
      img->usable = true;
    }
    ++n;
    at += (size_t)length;
    at = at + (16 - at % 16) % 16;
    if (at > total) at = total;
  }
  return n;
}

/* Finds the images in the bakefs_image section (the linker aligns each object's section to
 * 16 bytes) and allocates the table for them. One image (the usual case) is not probed: it is
 * `/` as before. Returns how many; 0 when nothing is linked in. A section that holds no image
 * at its start counts as one (its mount then fails and says so). */
static unsigned bakefs_boot_images(void) {
  size_t total;
  const unsigned char* base = bakefs_rump_embedded(&total);
  if (base == NULL) return 0;
  unsigned n = bakefs_boot_scan(base, total, NULL, true);
  const unsigned slots = n == 0 ? 1 : n;
  bakefs_boot_image_table = kmem_zalloc(slots * sizeof(*bakefs_boot_image_table), KM_SLEEP);
  bakefs_boot_image_count = slots;
  if (bakefs_boot_scan(base, total, bakefs_boot_image_table, false) != n) n = 0; /* cannot be */
  if (n == 0) {
    struct bakefs_boot_image* img = &bakefs_boot_image_table[n++];
    img->data = base;
    img->length = total;
    img->path[0] = '\0';
    img->usable = true;
  }
  if (n > 1) {
    for (unsigned i = 0; i < n; ++i) {
      bakefs_boot_image_table[i].usable = false;
      bakefs_boot_probe(&bakefs_boot_image_table[i]);
    }
  }
  return n;
}

static bool bakefs_boot_have_fs(const char* name) {
  struct vfsops* ops = vfs_getopsbyname(name);
  if (ops == NULL) return false;
  vfs_delref(ops);
  return true;
}

static int bakefs_boot_mount(const char* type, const char* path, int flags, void* data,
                             size_t length) {
  register_t retval;
  return do_sys_mount(curlwp, type, UIO_SYSSPACE, path, flags, data, UIO_SYSSPACE, length, &retval);
}

/* Covers directory path (of the mounted image) with a writable memory file system that looks
 * like it: tmpfs when the kernel has it and rumpfs is not asked for, else rumpfs. */
static int bakefs_boot_cover(const char* path, const struct bakefs_attr* dir, bool rumpfs) {
  int error;
  if (!rumpfs && bakefs_boot_have_fs(MOUNT_TMPFS)) {
    struct tmpfs_args args;
    memset(&args, 0, sizeof(args));
    args.ta_version = TMPFS_ARGS_VERSION;
    args.ta_root_uid = dir->uid;
    args.ta_root_gid = dir->gid;
    args.ta_root_mode = dir->mode & ALLPERMS;
    error = bakefs_boot_mount(MOUNT_TMPFS, path, 0, &args, sizeof(args));
    if (error == 0) printf("bakefs: tmpfs mounted on %s\n", path);
    return error;
  }
  error = bakefs_boot_mount(MOUNT_RUMPFS, path, 0, NULL, 0);
  if (error != 0) return error;
  printf("bakefs: rumpfs mounted on %s%s\n", path, rumpfs ? "" : " (no tmpfs in this rump kernel)");
  error = do_sys_chmodat(curlwp, AT_FDCWD, path, dir->mode & ALLPERMS, 0);
  if (error == 0) error = do_sys_chownat(curlwp, AT_FDCWD, path, dir->uid, dir->gid, 0);
  return error;
}

/* Looks an absolute path up in the image itself (not through the mounts). */
static int bakefs_boot_resolve(bakefs_fs* fs, const char* path, size_t length,
                               struct bakefs_attr* attr) {
  bakefs_ino ino = BAKEFS_ROOT_INO;
  size_t at = 0;
  while (at < length) {
    while (at < length && path[at] == '/') ++at;
    size_t end = at;
    while (end < length && path[end] != '/') ++end;
    if (end > at) {
      int status = bakefs_lookup(fs, ino, path + at, end - at, &ino);
      if (status != BAKEFS_OK) return status;
    }
    at = end;
  }
  return bakefs_getattr(fs, ino, attr);
}

/* The image alone at `/` needs a place for what a union with the rump kernel's root showed
 * there: where the image has no /dev, /tmp or /etc, an empty mount-point directory is added
 * (bakefs_rump_add_mount_dir) for the rump kernel's device nodes, a tmpfs, and a tmpfs for
 * the /etc that rumprun's base files (librumprunfs_base) are written into at start-up.
 * Returns which were added (BAKEFS_BOOT_ADDED_*). */
#define BAKEFS_BOOT_ADDED_DEV 1u
#define BAKEFS_BOOT_ADDED_TMP 2u
#define BAKEFS_BOOT_ADDED_ETC 4u
static unsigned bakefs_boot_mount_dirs(struct vnode* root, unsigned images) {
  static const struct {
    const char* name;
    uint32_t mode;
    unsigned bit;
  } dirs[] = {
      {"dev", 0755, BAKEFS_BOOT_ADDED_DEV},
      {"tmp", 01777, BAKEFS_BOOT_ADDED_TMP},
      {"etc", 0755, BAKEFS_BOOT_ADDED_ETC},
  };
  bakefs_fs* fs = VFSTOBAKEFS(root->v_mount)->bm_fs;
  unsigned added = 0;
  for (size_t i = 0; i < __arraycount(dirs); ++i) {
    bakefs_ino ino;
    if (bakefs_lookup(fs, BAKEFS_ROOT_INO, dirs[i].name, strlen(dirs[i].name), &ino) == BAKEFS_OK) {
      continue;
    }
    int error = bakefs_rump_add_mount_dir(root->v_mount, dirs[i].name, dirs[i].mode);
    if (error != 0) {
      printf("bakefs: cannot add /%s as a mount point (error %d)\n", dirs[i].name, error);
      continue;
    }
    added |= dirs[i].bit;
  }
  /* The top-level mount points of the other images, where the image at / has none. */
  for (unsigned i = 0; i < images; ++i) {
    const struct bakefs_boot_image* img = &bakefs_boot_image_table[i];
    const char* name = img->path + 1;
    bakefs_ino ino;
    if (!img->usable || img->path[0] != '/' || strchr(name, '/') != NULL) continue;
    if (bakefs_lookup(fs, BAKEFS_ROOT_INO, name, strlen(name), &ino) == BAKEFS_OK) continue;
    int error = bakefs_rump_add_mount_dir(root->v_mount, name, 0755);
    if (error == ENOSPC) {
      printf(
          "bakefs: cannot add %s as a mount point: the boot code adds at most %d at the top "
          "of /; the image at / needs it (mkimage --mount-point %s)\n",
          img->path, BAKEFS_MAX_MOUNT_DIRS, img->path);
    } else if (error != 0 && error != EEXIST) {
      printf("bakefs: cannot add %s as a mount point (error %d)\n", img->path, error);
    }
  }
  /* Lookups at the root before this (the mount's own) must not be remembered as misses. */
  cache_purge(root);
  return added;
}

/* Whether name at the top of `/` is a directory, the image's or a mount-point one. */
static bool bakefs_boot_is_dir(struct vnode* root, const char* name) {
  char path[MAXPATHLEN];
  struct vnode* vp;
  snprintf(path, sizeof(path), "/%s", name);
  if (namei_simple_kernel(path, NSM_NOFOLLOW_NOEMULROOT, &vp) != 0) return false;
  const bool dir = vp->v_type == VDIR && vp->v_mount == root->v_mount;
  vrele(vp);
  return dir;
}

/* Copies every device node of directory from (the rump kernel's old /dev) into /dev. */
static void bakefs_boot_copy_devices(struct vnode* from) {
  const size_t size = 8192;
  char* buf = kmem_alloc(size, KM_SLEEP);
  char path[MAXPATHLEN];
  off_t offset = 0;
  int copied = 0, eof = 0, error = 0;

  while (!eof && error == 0) {
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    struct uio uio;
    memset(&uio, 0, sizeof(uio));
    uio.uio_iov = &iov;
    uio.uio_iovcnt = 1;
    uio.uio_offset = offset;
    uio.uio_resid = size;
    uio.uio_rw = UIO_READ;
    UIO_SETUP_SYSSPACE(&uio);
    vn_lock(from, LK_SHARED | LK_RETRY);
    error = VOP_READDIR(from, &uio, curlwp->l_cred, &eof, NULL, NULL);
    VOP_UNLOCK(from);
    if (error != 0 || uio.uio_offset == offset) break;
    offset = uio.uio_offset;
    for (size_t at = 0; at < size - uio.uio_resid;) {
      const struct dirent* d = (const struct dirent*)(buf + at);
      if (d->d_reclen == 0) break;
      at += d->d_reclen;
      if (d->d_type != DT_CHR && d->d_type != DT_BLK) continue;
      struct vnode* vp;
      struct vattr va;
      struct componentname cn = {
          .cn_nameiop = LOOKUP,
          .cn_flags = 0,
          .cn_cred = curlwp->l_cred,
          .cn_nameptr = d->d_name,
          .cn_namelen = d->d_namlen,
      };
      vn_lock(from, LK_EXCLUSIVE | LK_RETRY);
      int e = VOP_LOOKUP(from, &vp, &cn);
      VOP_UNLOCK(from);
      if (e != 0) continue;
      vn_lock(vp, LK_SHARED | LK_RETRY);
      e = VOP_GETATTR(vp, &va, curlwp->l_cred);
      VOP_UNLOCK(vp);
      vrele(vp);
      if (e != 0) continue;
      register_t retval;
      snprintf(path, sizeof(path), "/dev/%s", d->d_name);
      mode_t mode = (va.va_type == VBLK ? S_IFBLK : S_IFCHR) | (va.va_mode & ALLPERMS);
      if (do_sys_mknod(curlwp, path, mode, va.va_rdev, &retval, UIO_SYSSPACE) == 0) ++copied;
    }
  }
  kmem_free(buf, size);
  printf("bakefs: /dev holds the rump kernel's device nodes (%d)\n", copied);
}

/* The image has its own /dev: cover it with a rumpfs holding the rump kernel's nodes. */
static void bakefs_boot_dev(struct vnode* old_dev) {
  int error = bakefs_boot_mount(MOUNT_RUMPFS, "/dev", 0, NULL, 0);
  if (error != 0) {
    printf(
        "bakefs: cannot cover the image's /dev (error %d): the rump kernel's device nodes "
        "are unreachable by path\n",
        error);
    return;
  }
  bakefs_boot_copy_devices(old_dev);
}

/* Mounts a tmpfs on every BAKEFS_BOOT_TMPFS path and on /tmp when the image has one or a
 * mount-point directory was added for it, and a rumpfs on an added /etc. */
static void bakefs_boot_tmpfs(bakefs_fs* fs, struct vnode* root, unsigned added) {
  struct bakefs_attr attr;
  bool covered_tmp = false;
  char path[MAXPATHLEN];
  for (uint32_t i = 0;; ++i) {
    const void* data;
    size_t length;
    int status = bakefs_boot_record(fs, BAKEFS_BOOT_TMPFS, i, &data, &length);
    if (status == BAKEFS_ENOENT) break;
    if (status != BAKEFS_OK) {
      printf("bakefs: tmpfs boot record %u: %s\n", i, bakefs_strerror(status));
      break;
    }
    if (length == 0) continue;
    if (length >= sizeof(path)) {
      printf("bakefs: tmpfs boot record %u: a path of %zu bytes, longer than the kernel's %d\n", i,
             length, MAXPATHLEN - 1);
      continue;
    }
    memcpy(path, data, length);
    path[length] = '\0';
    if (bakefs_boot_resolve(fs, path, length, &attr) != BAKEFS_OK) {
      /* Not in the image: a top-level name may live in the rump kernel's root. */
      memset(&attr, 0, sizeof(attr));
      attr.mode = 01777;
    }
    int error = bakefs_boot_cover(path, &attr, false);
    if (error != 0) printf("bakefs: cannot mount a tmpfs on %s (error %d)\n", path, error);
    if (strcmp(path, "/tmp") == 0) covered_tmp = true;
  }
  if (!covered_tmp && bakefs_boot_is_dir(root, "tmp")) {
    if (bakefs_boot_resolve(fs, "/tmp", 4, &attr) != BAKEFS_OK) {
      memset(&attr, 0, sizeof(attr));
      attr.mode = 01777;
    }
    int error = bakefs_boot_cover("/tmp", &attr, false);
    if (error != 0) printf("bakefs: cannot cover /tmp (error %d)\n", error);
  }
  if (added & BAKEFS_BOOT_ADDED_ETC) {
    /* rumpfs, not tmpfs: rumprun's base /etc (librumprunfs_base, rumprun_platefs) creates each
     * file and attaches its bytes with RUMPFS_FCNTL_EXTSTORAGE_ADD, which only rumpfs knows;
     * on a tmpfs that fcntl fails and rumprun halts ("platefs: fcntl"). */
    memset(&attr, 0, sizeof(attr));
    attr.mode = 0755;
    int error = bakefs_boot_cover("/etc", &attr, true);
    if (error != 0) printf("bakefs: cannot cover /etc (error %d)\n", error);
  }
}

/* A `..` lookup from the rump kernel's old root must not reach a NULL pointer.
 *
 * After the union mount the old root (rumpfs) is still VV_ROOT, but its mount covers nothing
 * (mnt_vnodecovered is NULL) and it is no longer rootvnode. A descriptor of `/` read to its end
 * has been moved onto it (vn_readdir), and lookup_once's `..` loop then steps from it to its
 * mount's covered vnode, NULL. So give the rumpfs root mount a covered vnode on which that
 * lookup fails cleanly: a directory made in the old root and removed again at once. It is not
 * VV_ROOT, so the loop stops there and asks rumpfs for its `..`; a removed rumpfs directory
 * has no parent and answers ENOENT. getcwd (vfs_getcwd.c) and vn_isunder climbing to the old
 * root step to it the same way and fail with ENOENT there, as they did at NULL before, so
 * they still stop (no cycle: pointing it at the image's root instead would make one, and
 * vn_isunder for a chroot not above it would loop forever).
 * The mount owns the one reference (dounmount releases it and clears v_mountedhere).
 * A `.` lookup from that descriptor still panics (INTERNALS.md): no covered vnode changes it.
 * old_root: referenced, unlocked. */
static void bakefs_boot_anchor_old_root(struct vnode* old_root) {
  static const char name[] = ".bakefs-dotdot-anchor";
  struct mount* mp = old_root->v_mount;
  struct vnode* anchor = NULL;
  struct vattr va;
  struct componentname cn = {
      .cn_nameiop = CREATE,
      .cn_flags = ISLASTCN,
      .cn_cred = curlwp->l_cred,
      .cn_nameptr = name,
      .cn_namelen = sizeof(name) - 1,
  };
  int error;

  if (mp->mnt_vnodecovered != NULL || (old_root->v_vflag & VV_ROOT) == 0 ||
      mp->mnt_op->vfs_name == NULL || strcmp(mp->mnt_op->vfs_name, MOUNT_RUMPFS) != 0) {
    printf(
        "bakefs: the rump kernel's root is not a rumpfs root covering nothing; "
        "`..` from it is left alone\n");
    return;
  }
  vn_lock(old_root, LK_EXCLUSIVE | LK_RETRY);
  error = VOP_LOOKUP(old_root, &anchor, &cn);
  if (error == 0) {
    vrele(anchor);
    error = EEXIST;
  } else if (error == EJUSTRETURN) {
    vattr_null(&va);
    va.va_type = VDIR;
    va.va_mode = 0555;
    error = VOP_MKDIR(old_root, &anchor, &cn, &va); /* anchor: referenced, unlocked */
  }
  if (error != 0) {
    VOP_UNLOCK(old_root);
    printf(
        "bakefs: cannot make %s in the rump kernel's root (error %d); `..` from a "
        "descriptor of / read to its end crashes this kernel\n",
        name, error);
    return;
  }
  /* VOP_RMDIR takes both locked and puts both (unlocks them, drops a reference of each):
   * give it old_root's lock and a reference of each. */
  cn.cn_nameiop = DELETE;
  vref(old_root);
  vref(anchor);
  vn_lock(anchor, LK_EXCLUSIVE | LK_RETRY);
  error = VOP_RMDIR(old_root, anchor, &cn);
  if (error != 0) {
    vrele(anchor);
    printf(
        "bakefs: cannot remove %s from the rump kernel's root (error %d); `..` from a "
        "descriptor of / read to its end crashes this kernel\n",
        name, error);
    return;
  }
  vn_lock(anchor, LK_EXCLUSIVE | LK_RETRY);
  anchor->v_mountedhere = mp;
  VOP_UNLOCK(anchor);
  mp->mnt_vnodecovered = anchor;
}

static void bakefs_boot_keep_config(bakefs_fs* fs, const char* where) {
  const void* data;
  size_t length;
  if (bakefs_boot_config != NULL) return; /* the image at / (or an earlier one) has one */
  int status = bakefs_boot_record(fs, BAKEFS_BOOT_CONFIG, 0, &data, &length);
  if (status == BAKEFS_OK) {
    bakefs_boot_config = data; /* points into the image, which lives as long as the program */
    bakefs_boot_config_length = length;
    printf("bakefs: launch configuration in the image%s%s: %zu bytes\n", *where ? " at " : "",
           where, length);
  } else if (status != BAKEFS_ENOENT) {
    printf("bakefs: configuration boot record: %s\n", bakefs_strerror(status));
  }
}

/* Mounts every image with a MOUNT record at its path, parents first (paths in byte order: a
 * directory sorts before the ones inside it). The mount point must be a directory by then: in
 * the image at / (mkimage --mount-point; at its top level the hook added it), in an image
 * mounted before, or made here when `/` is the rump kernel's writable root (no root image, or
 * a union). Returns how many were mounted. */
static unsigned bakefs_boot_mount_images(unsigned images, bool root_writable) {
  unsigned* order = kmem_alloc(images * sizeof(*order), KM_SLEEP);
  unsigned count = 0, mounted = 0;
  for (unsigned i = 0; i < images; ++i) {
    if (!bakefs_boot_image_table[i].usable || bakefs_boot_image_table[i].path[0] == '\0') continue;
    unsigned at = count++;
    while (at > 0 && strcmp(bakefs_boot_image_table[order[at - 1]].path,
                            bakefs_boot_image_table[i].path) > 0) {
      order[at] = order[at - 1];
      --at;
    }
    order[at] = i;
  }
  for (unsigned k = 0; k < count; ++k) {
    const struct bakefs_boot_image* img = &bakefs_boot_image_table[order[k]];
    struct vnode* vp;
    int error = namei_simple_kernel(img->path, NSM_FOLLOW_NOEMULROOT, &vp);
    if (error == ENOENT && root_writable) {
      error = do_sys_mkdir(img->path, 0755, UIO_SYSSPACE);
      if (error == 0) error = namei_simple_kernel(img->path, NSM_FOLLOW_NOEMULROOT, &vp);
    }
    if (error == 0) {
      if (vp->v_type != VDIR) error = ENOTDIR;
      vrele(vp);
    }
    if (error != 0) {
      printf(
          "bakefs: cannot mount the image (%zu bytes) at %s: no such directory (error %d); the "
          "image at / needs it (mkimage --mount-point %s)\n",
          img->length, img->path, error, img->path);
      continue;
    }
    struct bakefs_rump_args args;
    memset(&args, 0, sizeof(args));
    args.version = BAKEFS_RUMP_ARGS_VERSION;
    args.image = img->data;
    args.length = img->length;
    error = bakefs_boot_mount(BAKEFS_VFSNAME, img->path, MNT_RDONLY, &args, sizeof(args));
    if (error != 0) {
      printf("bakefs: cannot mount the image (%zu bytes) at %s (error %d)\n", img->length,
             img->path, error);
      continue;
    }
    ++mounted;
    printf("bakefs: mounted a linked-in image (%zu bytes) at %s (read-only)\n", img->length,
           img->path);
    if (namei_simple_kernel(img->path, NSM_FOLLOW_NOEMULROOT, &vp) == 0) {
      if (vp->v_mount->mnt_op == &bakefs_vfsops) {
        bakefs_boot_keep_config(VFSTOBAKEFS(vp->v_mount)->bm_fs, img->path);
      }
      vrele(vp);
    }
  }
  kmem_free(order, images * sizeof(*order));
  return mounted;
}

/* Whether the image wants to be mounted over the rump kernel's root (MNT_UNION) rather than
 * alone: its BOOT_ROOT record (mkimage --root-mount) says so, read from the image as mounted.
 * Alone without such a record. */
static bool bakefs_boot_wants_union(bakefs_fs* fs) {
  uint32_t flags;
  (void)bakefs_boot_root(fs, &flags); /* the default without a sound record */
  return (flags & BAKEFS_BOOT_ROOT_NOUNION) == 0;
}

/* Where the boot hook's time goes, for its last line: microseconds since the previous mark.
 * The host's monotonic clock, through the hypercall: a user-space rump kernel has no
 * timecounter of its own (its uptime does not advance during rump_init). */
struct bakefs_boot_clock {
  int64_t start, last; /* nanoseconds */
};
static int64_t bakefs_boot_now(void) {
  int64_t sec = 0;
  long nsec = 0;
  rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &sec, &nsec);
  return sec * 1000000000 + nsec;
}
static void bakefs_boot_clock_start(struct bakefs_boot_clock* clock) {
  clock->start = clock->last = bakefs_boot_now();
}
static long bakefs_boot_lap(struct bakefs_boot_clock* clock) {
  const int64_t now = bakefs_boot_now();
  const long us = (long)((now - clock->last) / 1000);
  clock->last = now;
  return us;
}

/* The image for `/`: the first usable one without a MOUNT record; NULL when there is none. */
static const struct bakefs_boot_image* bakefs_boot_root_image(unsigned images) {
  const struct bakefs_boot_image* root = NULL;
  for (unsigned i = 0; i < images; ++i) {
    const struct bakefs_boot_image* img = &bakefs_boot_image_table[i];
    if (!img->usable || img->path[0] != '\0') continue;
    if (root == NULL) {
      root = img;
    } else {
      printf(
          "bakefs: a second linked-in image without a mount path (%zu bytes): ignored, the "
          "first one is / (mkimage --mount-at names where the others go)\n",
          img->length);
    }
  }
  return root;
}

static void bakefs_boot_more(struct bakefs_boot_clock* clock, unsigned images, bool writable) {
  if (images < 2) return;
  bakefs_boot_lap(clock);
  const unsigned mounted = bakefs_boot_mount_images(images, writable);
  printf("bakefs: %u more linked-in image%s mounted in %ld us\n", mounted, mounted == 1 ? "" : "s",
         bakefs_boot_lap(clock));
}

/* Mounts the image for `/` with its covers, then the others. */
static void bakefs_boot_mount_all(struct bakefs_boot_clock* clock, unsigned images) {
  if (images == 0) {
    printf("bakefs: no image linked in; / stays the rump kernel's own root\n");
    return;
  }
  const struct bakefs_boot_image* image = bakefs_boot_root_image(images);
  if (image == NULL) {
    printf(
        "bakefs: no linked-in image is for / (each names a mount path); / stays the rump "
        "kernel's own root\n");
    bakefs_boot_more(clock, images, true);
    return;
  }
  const size_t length = image->length;
  const long us_images = bakefs_boot_lap(clock);

  struct vnode* old_dev = NULL;
  if (namei_simple_kernel("/dev", NSM_FOLLOW_NOEMULROOT, &old_dev) != 0) old_dev = NULL;
  struct vnode* old_root = rootvnode; /* the mount below moves rootvnode to the image */
  vref(old_root);

  /* Mounted alone first; an image that asks for the union (its BOOT_ROOT record, read from
   * the mounted image: one mount, not a second one to read the record) then gets MNT_UNION by
   * a mount update. The kernel looks at MNT_UNION only when it looks names up, reads
   * directories and climbs for getcwd, so that is the same as mounting with it; the boot
   * happens before anything else runs. */
  struct bakefs_rump_args args;
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = image->data;
  args.length = image->length;
  int error = bakefs_boot_mount(BAKEFS_VFSNAME, "/", MNT_RDONLY, &args, sizeof(args));
  const long us_mount = bakefs_boot_lap(clock);
  if (error != 0) {
    printf(
        "bakefs: *** THE LINKED-IN IMAGE (%zu bytes at %p) DID NOT MOUNT AT / (error %d): "
        "/ stays the rump kernel's own root ***\n",
        length, image->data, error);
    if (old_dev != NULL) vrele(old_dev);
    vrele(old_root);
    bakefs_boot_more(clock, images, true);
    return;
  }
  bakefs_boot_root_mounted = 1;

  struct vnode* root;
  error = namei_simple_kernel("/", NSM_NOFOLLOW_NOEMULROOT, &root);
  if (error != 0 || root->v_mount->mnt_op != &bakefs_vfsops) {
    printf("bakefs: / is not the image after mounting it (error %d)\n", error);
    if (error == 0) vrele(root);
    if (old_dev != NULL) vrele(old_dev);
    vrele(old_root);
    return;
  }
  bakefs_fs* fs = VFSTOBAKEFS(root->v_mount)->bm_fs;
  bool want_union = bakefs_boot_wants_union(fs);
  if (want_union) {
    error = bakefs_boot_mount(BAKEFS_VFSNAME, "/", MNT_UPDATE | MNT_RDONLY | MNT_UNION, NULL, 0);
    if (error == 0) {
      bakefs_boot_anchor_old_root(old_root);
    } else {
      printf("bakefs: cannot make / a union mount (error %d): the image is / alone\n", error);
      want_union = false;
    }
  }
  vrele(old_root);
  const long us_probe = bakefs_boot_lap(clock) + us_images;
  printf("bakefs: mounted the linked-in image (%zu bytes) at / (read-only%s)\n", length,
         want_union ? ", union" : ", alone");
  const unsigned added = want_union ? 0 : bakefs_boot_mount_dirs(root, images);
  const long us_dirs = bakefs_boot_lap(clock);

  if (bakefs_boot_is_dir(root, "dev") && old_dev != NULL) bakefs_boot_dev(old_dev);
  if (old_dev != NULL) vrele(old_dev);
  const long us_dev = bakefs_boot_lap(clock);
  bakefs_boot_tmpfs(fs, root, added);
  const long us_tmpfs = bakefs_boot_lap(clock);
  bakefs_boot_keep_config(fs, "");
  vrele(root);
  printf(
      "bakefs: boot hook %ld us (root record %ld, mount %ld, mount points %ld, /dev %ld, "
      "tmpfs %ld)\n",
      (long)((bakefs_boot_now() - clock->start) / 1000), us_probe, us_mount, us_dirs, us_dev,
      us_tmpfs);
  bakefs_boot_more(clock, images, want_union);
}

static void bakefs_boot_mount_root(void) {
  struct bakefs_boot_clock clock;
  bakefs_boot_clock_start(&clock);
  const unsigned images = bakefs_boot_images();
  bakefs_boot_mount_all(&clock, images);
  if (bakefs_boot_image_table != NULL) {
    kmem_free(bakefs_boot_image_table, bakefs_boot_image_count * sizeof(*bakefs_boot_image_table));
  }
  bakefs_boot_image_table = NULL;
  bakefs_boot_image_count = 0;
}

RUMP_COMPONENT(RUMP_COMPONENT_POSTINIT) {
  bakefs_boot_mount_root();
}
