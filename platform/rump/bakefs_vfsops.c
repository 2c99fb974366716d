/* bakefs as a NetBSD (rump) kernel file system: the module, the vfsops, and the platform the
 * C++ core runs on (kmem(9), mutex(9), printf(9)).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/param.h> /* first: every other kernel header needs it */
#include <sys/types.h>

#include <sys/dirent.h>
#include <sys/dkio.h> /* DIOCGMEDIASIZE */
#include <sys/errno.h>
#include <sys/fcntl.h> /* FREAD */
#include <sys/kmem.h>
#include <sys/module.h>
#include <sys/mount.h>
#include <sys/mutex.h>
#include <sys/namei.h>
#include <sys/proc.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syslog.h>
#include <sys/systm.h>
#include <sys/vnode.h>

#include <miscfs/genfs/genfs.h>
#include <miscfs/specfs/specdev.h>

#include <bakefs/embed.h>

#include <rump-sys/kern.h> /* RUMP_LOCALPROC_P */

#include <bakefs/format.h> /* BAKEFS_TYPE_* */
#include "bakefs_rump.h"

#include "bakefs_rump_impl.h"

MODULE(MODULE_CLASS_VFS, bakefs, NULL);

/* ---- Platform ----------------------------------------------------------------------------- */

/* kmem(9) promises only pointer alignment, the core asks for up to 64: over-allocate and keep
 * the real start and size just below the aligned pointer. */
struct bakefs_alloc_header {
  void* raw;
  size_t total;
};

/* Above this, ask without sleeping: a mount with a huge cache fails with ENOMEM instead of
 * waiting for memory forever. */
#define BAKEFS_SLEEP_ALLOC_MAX (1024 * 1024)

static void* bakefs_platform_alloc(void* ctx, size_t size, size_t align) {
  const size_t header = sizeof(struct bakefs_alloc_header);
  if (align < header) align = header;
  if (size > SIZE_MAX - header - align) return NULL;
  const size_t total = size + header + align;
  void* raw = kmem_alloc(total, total > BAKEFS_SLEEP_ALLOC_MAX ? KM_NOSLEEP : KM_SLEEP);
  if (raw == NULL) return NULL;
  uintptr_t aligned = ((uintptr_t)raw + header + align - 1) & ~(uintptr_t)(align - 1);
  struct bakefs_alloc_header* h = (struct bakefs_alloc_header*)aligned - 1;
  h->raw = raw;
  h->total = total;
  return (void*)aligned;
}

static void bakefs_platform_free(void* ctx, void* ptr, size_t size) {
  if (ptr == NULL) return;
  struct bakefs_alloc_header* h = (struct bakefs_alloc_header*)ptr - 1;
  KASSERT(size <= h->total);
  kmem_free(h->raw, h->total);
}

static void* bakefs_platform_lock_create(void* ctx) {
  kmutex_t* lock = kmem_alloc(sizeof(*lock), KM_SLEEP);
  mutex_init(lock, MUTEX_DEFAULT, IPL_NONE);
  return lock;
}

static void bakefs_platform_lock_destroy(void* ctx, void* lock) {
  mutex_destroy(lock);
  kmem_free(lock, sizeof(kmutex_t));
}

static void bakefs_platform_lock(void* ctx, void* lock) {
  mutex_enter(lock);
}

static void bakefs_platform_unlock(void* ctx, void* lock) {
  mutex_exit(lock);
}

static int bakefs_platform_trylock(void* ctx, void* lock) {
  return mutex_tryenter(lock);
}

/* Errors and warnings go to the console, information to the log. May run under core locks:
 * printf(9) and log(9) do not call back into bakefs. */
static void bakefs_platform_log(void* ctx, int level, const char* message) {
  const char* prefix = strncmp(message, "bakefs", 6) == 0 ? "" : "bakefs: ";
  if (level <= 1) {
    printf("%s%s%s\n", prefix, level == 0 ? "error: " : "warning: ", message);
  } else {
    log(LOG_INFO, "%s%s\n", prefix, message);
  }
}

void bakefs_rump_platform(struct bakefs_platform* platform) {
  memset(platform, 0, sizeof(*platform));
  platform->alloc = bakefs_platform_alloc;
  platform->free = bakefs_platform_free;
  platform->lock_create = bakefs_platform_lock_create;
  platform->lock_destroy = bakefs_platform_lock_destroy;
  platform->lock = bakefs_platform_lock;
  platform->unlock = bakefs_platform_unlock;
  platform->log = bakefs_platform_log;
  platform->trylock = bakefs_platform_trylock;
}

const void* bakefs_rump_embedded(size_t* length) {
  const unsigned char* start = __start_bakefs_image;
  const unsigned char* stop = __stop_bakefs_image;
  if (start == NULL || stop == NULL || stop <= start) {
    *length = 0;
    return NULL;
  }
  *length = (size_t)(stop - start);
  return start;
}

enum vtype bakefs_rump_vtype(uint32_t mode) {
  switch (mode & BAKEFS_TYPE_MASK) {
    case BAKEFS_TYPE_DIR:
      return VDIR;
    case BAKEFS_TYPE_REGULAR:
      return VREG;
    case BAKEFS_TYPE_SYMLINK:
      return VLNK;
    case BAKEFS_TYPE_CHAR:
      return VCHR;
    case BAKEFS_TYPE_BLOCK:
      return VBLK;
    case BAKEFS_TYPE_FIFO:
      return VFIFO;
    case BAKEFS_TYPE_SOCKET:
      return VSOCK;
    default:
      return VBAD;
  }
}

/* ---- vfsops --------------------------------------------------------------------------------- */

static void bakefs_free_mount(struct bakefs_mount* bmp) {
  if (bmp->bm_fs != NULL) bakefs_unmount(bmp->bm_fs);
  if (bmp->bm_copy != NULL) kmem_free(bmp->bm_copy, bmp->bm_copy_size);
  bakefs_rump_names_fini(bmp);
  kmem_free(bmp, sizeof(*bmp));
}

/* BAKEFS_RUMP_ARGS_DEVICE: the image at the start of block device `spec`, read whole into
 * kernel memory (the core reads images in place; a buffer-cache path is not there yet). The
 * device's size (DIOCGMEDIASIZE) bounds everything: the superblock must pass the core's full
 * check (bakefs_probe) against it before anything is allocated, and an image larger than the
 * device is EIO. Read in chunks that vn_rdwr's int length holds. *copy: kmem_alloc'd, *size
 * bytes. */
#define BAKEFS_DEVICE_CHUNK (64u << 20)
static int bakefs_read_device(const char* spec, void** copy, size_t* size) {
  struct vnode* devvp;
  unsigned char sb[DEV_BSIZE];
  size_t resid = 0;
  off_t media = 0;
  uint64_t length = 0;
  int error = namei_simple_kernel(spec, NSM_FOLLOW_NOEMULROOT, &devvp);
  if (error != 0) return error;
  if (devvp->v_type != VBLK) {
    vrele(devvp);
    return ENOTBLK;
  }
  vn_lock(devvp, LK_EXCLUSIVE | LK_RETRY);
  error = VOP_OPEN(devvp, FREAD, curlwp->l_cred);
  VOP_UNLOCK(devvp);
  if (error != 0) {
    vrele(devvp);
    return error;
  }
  error = VOP_IOCTL(devvp, DIOCGMEDIASIZE, &media, FREAD, curlwp->l_cred);
  if (error != 0) printf("bakefs: %s: its size is unknown (DIOCGMEDIASIZE: %d)\n", spec, error);
  if (error == 0 && media < (off_t)sizeof(sb)) error = EIO;
  if (error == 0) {
    error =
        vn_rdwr(UIO_READ, devvp, sb, sizeof(sb), 0, UIO_SYSSPACE, 0, curlwp->l_cred, &resid, NULL);
    if (error == 0 && resid != 0) error = EIO;
  }
  if (error == 0) {
    /* The superblock alone is read (O(1)); its extents are checked against the device. */
    struct bakefs_probe_info info;
    const uint64_t avail = (uint64_t)media < SIZE_MAX ? (uint64_t)media : SIZE_MAX;
    const int status = bakefs_probe(sb, (size_t)avail, &info);
    if (status != BAKEFS_OK) {
      printf("bakefs: %s holds no mountable bakefs image: %s\n", spec,
             info.reason != NULL ? info.reason : bakefs_strerror(status));
      /* not an image: EINVAL, as mount(2) says of a bad argument; a damaged one: its errno */
      error = !info.magic ? EINVAL : info.image_size > avail ? EIO : bakefs_to_errno(status);
    }
    length = info.image_size;
  }
  if (error == 0 && (length > (uint64_t)media || length > SIZE_MAX - DEV_BSIZE)) error = EFBIG;
  void* bytes = NULL;
  const size_t total = error == 0 ? roundup((size_t)length, DEV_BSIZE) : 0;
  if (error == 0) {
    bytes = kmem_alloc(total, total > BAKEFS_SLEEP_ALLOC_MAX ? KM_NOSLEEP : KM_SLEEP);
    if (bytes == NULL) error = ENOMEM;
  }
  for (size_t at = 0; error == 0 && at < total;) {
    const size_t want = total - at < BAKEFS_DEVICE_CHUNK ? total - at : BAKEFS_DEVICE_CHUNK;
    error = vn_rdwr(UIO_READ, devvp, (char*)bytes + at, (int)want, (off_t)at, UIO_SYSSPACE, 0,
                    curlwp->l_cred, &resid, NULL);
    if (error != 0) break;
    at += want - resid;
    /* the last sector may lie past an image that ends the device: only the image must be there */
    if (resid != 0) {
      if (at < length) {
        printf("bakefs: %s is shorter than the image on it (%zu of %llu bytes)\n", spec, at,
               (unsigned long long)length);
        error = EIO;
      }
      break;
    }
  }
  vn_lock(devvp, LK_EXCLUSIVE | LK_RETRY);
  VOP_CLOSE(devvp, FREAD, curlwp->l_cred);
  VOP_UNLOCK(devvp);
  vrele(devvp);
  if (error != 0) {
    if (bytes != NULL) kmem_free(bytes, total);
    return error;
  }
  *copy = bytes;
  *size = total;
  return 0;
}

static int bakefs_vfs_getargs(struct mount* mp, void* data, size_t* data_len) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  struct bakefs_rump_args args;
  if (bmp == NULL) return EIO;
  if (data == NULL || *data_len < sizeof(args)) return EINVAL;
  memset(&args, 0, sizeof(args));
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = bmp->bm_image;
  args.length = bmp->bm_length;
  memcpy(data, &args, sizeof(args));
  *data_len = sizeof(args);
  return 0;
}

static int bakefs_vfs_mount(struct mount* mp, const char* path, void* data, size_t* data_len) {
  struct bakefs_rump_args args;
  struct bakefs_mount_options options;
  const char* from = "memory";
  int error;

  if (mp->mnt_flag & MNT_GETARGS) return bakefs_vfs_getargs(mp, data, data_len);
  if (mp->mnt_flag & MNT_UPDATE) {
    /* Staying read-only changes nothing; read-write is refused. */
    return (mp->mnt_iflag & IMNT_WANTRDWR) != 0 ? EROFS : 0;
  }
  if ((mp->mnt_flag & MNT_RDONLY) == 0) return EROFS;

  memset(&args, 0, sizeof(args));
  if (data != NULL && *data_len != 0) {
    if (*data_len < sizeof(args)) return EINVAL;
    memcpy(&args, data, sizeof(args));
    if ((args.version != BAKEFS_RUMP_ARGS_VERSION && args.version != BAKEFS_RUMP_ARGS_DEVICE) ||
        args.reserved != 0) {
      return EINVAL;
    }
  }
  void* copy = NULL;
  size_t copy_size = 0;
  char spec[MAXPATHLEN];
  if (args.version == BAKEFS_RUMP_ARGS_DEVICE) {
    if (args.image == NULL) return EINVAL;
    error = copyinstr(args.image, spec, sizeof(spec), NULL);
    if (error != 0) return error;
    error = bakefs_read_device(spec, &copy, &copy_size);
    if (error != 0) return error;
    args.image = copy;
    args.length = copy_size;
    from = "device";
  }
  /* The image is read in place: a pointer means something only in the kernel's own address
   * space, which local clients share. A remote (sysproxy) client's pointer is in its process. */
  if (args.image != NULL && copy == NULL && !RUMP_LOCALPROC_P(curproc)) return EINVAL;
  if (args.image != NULL && copy == NULL) {
    size_t section;
    const unsigned char* start = bakefs_rump_embedded(&section);
    const unsigned char* image = args.image;
    /* one of several images linked in (the boot code mounts each with its own bounds) */
    if (start != NULL && image >= start && image < start + section) from = "embedded";
  }
  if (args.image == NULL) {
    size_t length;
    args.image = bakefs_rump_embedded(&length);
    args.length = length;
    from = "embedded";
    if (args.image == NULL) {
      printf("bakefs: no image linked into this program to mount\n");
      return ENXIO;
    }
  }
  if (args.length == 0 || args.length > SIZE_MAX) return EINVAL;

  struct bakefs_mount* bmp = kmem_zalloc(sizeof(*bmp), KM_SLEEP);
  bmp->bm_copy = copy; /* freed with the mount from here on */
  bmp->bm_copy_size = copy_size;
  bakefs_rump_names_init(bmp);
  bakefs_rump_platform(&bmp->bm_platform);
  bmp->bm_image = args.image;
  bmp->bm_length = (size_t)args.length;
  bmp->bm_mp = mp;
  memset(&options, 0, sizeof(options));
  options.cache_bytes = (size_t)args.cache_bytes;
  options.decompressors = args.decompressors;
  /* The glue reads past the page cache (bakefs_vnops.c): the core's cache must keep whole
   * blocks too, or every re-read of a file decompresses again. */
  options.flags = args.flags | BAKEFS_MOUNT_NO_PAGE_CACHE;
  int status =
      bakefs_mount(bmp->bm_image, bmp->bm_length, &bmp->bm_platform, &options, &bmp->bm_fs);
  if (status == BAKEFS_OK) status = bakefs_statfs(bmp->bm_fs, &bmp->bm_stat);
  if (status != BAKEFS_OK) {
    printf("bakefs: cannot mount the %s image at %p (%zu bytes): %s\n", from, bmp->bm_image,
           bmp->bm_length, bakefs_strerror(status));
    bakefs_free_mount(bmp);
    return bakefs_to_errno(status);
  }

  mp->mnt_data = bmp;
  mp->mnt_stat.f_namemax = MIN(bmp->bm_stat.name_max, MAXNAMLEN);
  mp->mnt_stat.f_iosize = bmp->bm_stat.block_size;
  mp->mnt_flag |= MNT_LOCAL;
  mp->mnt_iflag |= IMNT_MPSAFE;
  mp->mnt_fs_bshift = ffs(bmp->bm_stat.block_size) - 1;
  mp->mnt_dev_bshift = DEV_BSHIFT;
  vfs_getnewfsid(mp);
  char fromname[32];
  snprintf(fromname, sizeof(fromname), "bakefs:%s", from);
  error = set_statvfs_info(path, UIO_USERSPACE, fromname, UIO_SYSSPACE, mp->mnt_op->vfs_name, mp,
                           curlwp);
  if (error != 0) {
    mp->mnt_data = NULL;
    bakefs_free_mount(bmp);
  }
  return error;
}

static int bakefs_vfs_start(struct mount* mp, int flags) {
  return 0;
}

static int bakefs_vfs_unmount(struct mount* mp, int mntflags) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  int flags = (mntflags & MNT_FORCE) != 0 ? FORCECLOSE : 0;
  int error = vflush(mp, NULLVP, flags);
  if (error != 0) return error;
  mp->mnt_data = NULL;
  if (bmp != NULL) bakefs_free_mount(bmp);
  return 0;
}

int bakefs_rump_add_mount_dir(struct mount* mp, const char* name, uint32_t mode) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  const size_t length = strlen(name);
  if (length == 0 || length > BAKEFS_MOUNT_DIR_NAME_MAX || strchr(name, '/') != NULL) return EINVAL;
  if (bmp->bm_mount_dirs == BAKEFS_MAX_MOUNT_DIRS) return ENOSPC;
  if (bmp->bm_stat.max_ino > UINT32_MAX - BAKEFS_MAX_MOUNT_DIRS) return EOVERFLOW;
  bakefs_ino ino;
  if (bakefs_lookup(bmp->bm_fs, BAKEFS_ROOT_INO, name, length, &ino) == BAKEFS_OK) return EEXIST;
  for (unsigned i = 0; i < bmp->bm_mount_dirs; ++i) {
    if (strcmp(bmp->bm_mount_dir[i].bd_name, name) == 0) return EEXIST;
  }
  struct bakefs_mount_dir* d = &bmp->bm_mount_dir[bmp->bm_mount_dirs];
  memcpy(d->bd_name, name, length + 1);
  d->bd_length = length;
  d->bd_mode = mode & ALLPERMS;
  bmp->bm_mount_dirs++;
  return 0;
}

const struct bakefs_mount_dir* bakefs_rump_mount_dir(const struct bakefs_mount* bmp,
                                                     bakefs_ino ino) {
  if (ino <= bmp->bm_stat.max_ino) return NULL;
  const uint64_t i = (uint64_t)ino - bmp->bm_stat.max_ino - 1;
  return i < bmp->bm_mount_dirs ? &bmp->bm_mount_dir[i] : NULL;
}

static int bakefs_vfs_vget(struct mount* mp, ino_t ino, struct vnode** vpp) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  if (ino < 1 || ino > (ino_t)bmp->bm_stat.max_ino + bmp->bm_mount_dirs) return ENOENT;
  bakefs_ino key = (bakefs_ino)ino;
  int error = vcache_get(mp, &key, sizeof(key), vpp);
  if (error != 0) return error;
  error = vn_lock(*vpp, LK_EXCLUSIVE);
  if (error != 0) {
    vrele(*vpp);
    *vpp = NULL;
  }
  return error;
}

static int bakefs_vfs_root(struct mount* mp, struct vnode** vpp) {
  return bakefs_vfs_vget(mp, BAKEFS_ROOT_INO, vpp);
}

static int bakefs_vfs_statvfs(struct mount* mp, struct statvfs* sbp) {
  const struct bakefs_fsstat* st = &VFSTOBAKEFS(mp)->bm_stat;
  sbp->f_bsize = st->block_size;
  sbp->f_frsize = st->block_size;
  sbp->f_iosize = st->block_size;
  sbp->f_blocks = howmany(st->image_size, st->block_size);
  sbp->f_bfree = 0;
  sbp->f_bavail = 0;
  sbp->f_bresvd = 0;
  sbp->f_files = st->inode_count;
  sbp->f_ffree = 0;
  sbp->f_favail = 0;
  sbp->f_fresvd = 0;
  sbp->f_namemax = MIN(st->name_max, MAXNAMLEN);
  copy_statvfs_info(sbp, mp);
  return 0;
}

static int bakefs_vfs_sync(struct mount* mp, int waitfor, kauth_cred_t cred) {
  return 0;
}

/* Builds a vnode for inode *key: attributes are read once here, they never change. */
static int bakefs_vfs_loadvnode(struct mount* mp, struct vnode* vp, const void* key, size_t key_len,
                                const void** new_key) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  bakefs_ino ino;
  KASSERT(key_len == sizeof(ino));
  memcpy(&ino, key, sizeof(ino));

  struct bakefs_node* node = kmem_zalloc(sizeof(*node), KM_SLEEP);
  const struct bakefs_mount_dir* mount_dir = bakefs_rump_mount_dir(bmp, ino);
  int status = BAKEFS_OK;
  if (mount_dir != NULL) {
    struct bakefs_attr* a = &node->bn_attr;
    a->ino = ino;
    a->mode = S_IFDIR | mount_dir->bd_mode;
    a->nlink = 2;
    a->mtime_sec = bmp->bm_stat.build_time_sec;
    a->mtime_nsec = bmp->bm_stat.build_time_nsec;
    a->block_size = bmp->bm_stat.block_size;
  } else {
    status = bakefs_getattr(bmp->bm_fs, ino, &node->bn_attr);
    if (status == BAKEFS_OK && (node->bn_attr.mode & S_IFMT) == S_IFREG) {
      status = bakefs_open(bmp->bm_fs, ino, &node->bn_file);
    }
  }
  if (status != BAKEFS_OK) {
    kmem_free(node, sizeof(*node));
    return bakefs_to_errno(status);
  }
  enum vtype type = bakefs_rump_vtype(node->bn_attr.mode);
  if (type == VBAD) {
    kmem_free(node, sizeof(*node));
    return EIO;
  }
  node->bn_ino = ino;
  node->bn_vp = vp;

  vp->v_tag = VT_NON;
  vp->v_type = type;
  vp->v_data = node;
  switch (type) {
    case VCHR:
    case VBLK:
      vp->v_op = bakefs_specop_p;
      spec_node_init(vp, makedev(node->bn_attr.rdev_major, node->bn_attr.rdev_minor));
      break;
    case VFIFO:
      vp->v_op = bakefs_fifoop_p;
      break;
    default:
      vp->v_op = bakefs_vnodeop_p;
      break;
  }
  if (ino == BAKEFS_ROOT_INO) vp->v_vflag |= VV_ROOT;
  uvm_vnp_setsize(vp, type == VREG || type == VLNK ? node->bn_attr.size : 0);
  *new_key = &node->bn_ino;
  return 0;
}

static int bakefs_vfs_fhtovp(struct mount* mp, struct fid* fhp, struct vnode** vpp) {
  return EOPNOTSUPP;
}

static int bakefs_vfs_vptofh(struct vnode* vp, struct fid* fhp, size_t* fh_size) {
  return EOPNOTSUPP;
}

static void bakefs_vfs_init(void) {}

static void bakefs_vfs_done(void) {}

static int bakefs_vfs_mountroot(void) {
  return EOPNOTSUPP;
}

static int bakefs_vfs_fsync(struct vnode* vp, int flags) {
  return 0;
}

struct vfsops bakefs_vfsops = {
    .vfs_name = BAKEFS_VFSNAME,
    .vfs_min_mount_data = sizeof(struct bakefs_rump_args),
    .vfs_mount = bakefs_vfs_mount,
    .vfs_start = bakefs_vfs_start,
    .vfs_unmount = bakefs_vfs_unmount,
    .vfs_root = bakefs_vfs_root,
    .vfs_quotactl = (void*)eopnotsupp,
    .vfs_statvfs = bakefs_vfs_statvfs,
    .vfs_sync = bakefs_vfs_sync,
    .vfs_vget = bakefs_vfs_vget,
    .vfs_loadvnode = bakefs_vfs_loadvnode,
    .vfs_fhtovp = bakefs_vfs_fhtovp,
    .vfs_vptofh = bakefs_vfs_vptofh,
    .vfs_init = bakefs_vfs_init,
    .vfs_done = bakefs_vfs_done,
    .vfs_mountroot = bakefs_vfs_mountroot,
    .vfs_snapshot = (void*)eopnotsupp,
    .vfs_extattrctl = vfs_stdextattrctl,
    .vfs_suspendctl = (void*)eopnotsupp,
    .vfs_renamelock_enter = genfs_renamelock_enter,
    .vfs_renamelock_exit = genfs_renamelock_exit,
    .vfs_fsync = bakefs_vfs_fsync,
    .vfs_opv_descs = bakefs_vnodeopv_descs,
};

static int bakefs_modcmd(modcmd_t cmd, void* arg) {
  switch (cmd) {
    case MODULE_CMD_INIT:
      return vfs_attach(&bakefs_vfsops);
    case MODULE_CMD_FINI:
      return vfs_detach(&bakefs_vfsops);
    default:
      return ENOTTY;
  }
}
