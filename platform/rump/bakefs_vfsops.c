/* bakefs as a NetBSD (rump) kernel file system: the module, the vfsops, and the platform the
 * C++ core runs on (kmem(9), mutex(9), printf(9)).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/param.h> /* first: every other kernel header needs it */
#include <sys/types.h>

#include <sys/buf.h> /* bread, brelse */
#include <sys/conf.h> /* bdevsw_lookup */
#include <sys/dirent.h>
#include <sys/dkio.h> /* DIOCGMEDIASIZE */
#include <sys/errno.h>
#include <sys/fcntl.h> /* FREAD */
#include <sys/kauth.h>
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

static void bakefs_close_device(struct vnode* devvp) {
  vn_lock(devvp, LK_EXCLUSIVE | LK_RETRY);
  VOP_CLOSE(devvp, FREAD, NOCRED);
  vput(devvp);
}

static void bakefs_free_mount(struct bakefs_mount* bmp) {
  if (bmp->bm_fs != NULL) bakefs_unmount(bmp->bm_fs);
  if (bmp->bm_devvp != NULL) {
    if (bmp->bm_mp != NULL && bmp->bm_devvp->v_type != VBAD) {
      spec_node_setmountedfs(bmp->bm_devvp, NULL);
    }
    bakefs_close_device(bmp->bm_devvp);
  }
  if (bmp->bm_mount_dir != NULL) {
    kmem_free(bmp->bm_mount_dir, BAKEFS_MAX_MOUNT_DIRS * sizeof(*bmp->bm_mount_dir));
  }
  bakefs_rump_names_fini(bmp);
  kmem_free(bmp, sizeof(*bmp));
}

/* BAKEFS_RUMP_ARGS_DEVICE: the image at the start of a block device, read through the
 * kernel's buffer cache. The core asks for byte ranges (bakefs_source); they are bread(9) in
 * buffers of BAKEFS_DEVICE_CHUNK bytes at multiples of it, so that a range of the device is
 * always the same buffer, and copied out: metadata into the core's copy of it, stored blocks
 * into its block cache. The last buffer ends with the device's last sector. Nothing of the
 * device is held between calls but what the buffer cache keeps. */
#define BAKEFS_DEVICE_CHUNK MAXBSIZE
static int bakefs_device_read(void* ctx, uint64_t offset, void* dst, size_t length) {
  struct bakefs_mount* bmp = ctx;
  unsigned char* out = dst;
  while (length > 0) {
    const uint64_t chunk = offset - offset % BAKEFS_DEVICE_CHUNK;
    if (chunk >= bmp->bm_device_size) return EIO; /* past the device: the core never asks */
    const uint64_t left = bmp->bm_device_size - chunk;
    const size_t bytes = (size_t)(left < BAKEFS_DEVICE_CHUNK ? left : BAKEFS_DEVICE_CHUNK);
    const size_t in = (size_t)(offset - chunk);
    if (in >= bytes) return EIO;
    struct buf* bp;
    /* whole sectors: a device of no whole number of them (a file under etfs) reads short at
     * its end, which b_resid says */
    int error = bread(bmp->bm_devvp, (daddr_t)(chunk / DEV_BSIZE), (int)roundup(bytes, DEV_BSIZE),
                      0, &bp);
    if (error != 0) return error; /* bread gave the buffer back */
    const size_t n = length < bytes - in ? length : bytes - in;
    if ((size_t)bp->b_bcount - (size_t)bp->b_resid < in + n) error = EIO;
    if (error == 0) memcpy(out, (const unsigned char*)bp->b_data + in, n);
    brelse(bp, 0);
    if (error != 0) return error;
    out += n;
    offset += n;
    length -= n;
  }
  return 0;
}

/* Opens block device `spec` for a mount at mp: a block device, not mounted already, one the
 * caller may mount (kauth), open for reading, its stale buffers flushed; and its size in bytes
 * (DIOCGMEDIASIZE). *devvp: referenced and open, closed with bakefs_close_device. */
static int bakefs_open_device(const char* spec, struct mount* mp, struct vnode** devvp_out,
                              uint64_t* size) {
  struct vnode* devvp;
  off_t media = 0;
  int error = namei_simple_kernel(spec, NSM_FOLLOW_NOEMULROOT, &devvp);
  if (error != 0) return error;
  if (devvp->v_type != VBLK) {
    vrele(devvp);
    return ENOTBLK;
  }
  if (bdevsw_lookup(devvp->v_rdev) == NULL) {
    vrele(devvp);
    return ENXIO;
  }
  if ((error = vfs_mountedon(devvp)) != 0) {
    vrele(devvp);
    return error; /* EBUSY: another file system reads it */
  }
  vn_lock(devvp, LK_EXCLUSIVE | LK_RETRY);
  error = kauth_authorize_system(curlwp->l_cred, KAUTH_SYSTEM_MOUNT,
                                 KAUTH_REQ_SYSTEM_MOUNT_DEVICE, mp, devvp, KAUTH_ARG(VREAD));
  if (error == 0) error = VOP_OPEN(devvp, FREAD, FSCRED);
  if (error != 0) {
    VOP_UNLOCK(devvp);
    vrele(devvp);
    return error;
  }
  /* Buffers of a previous use of the device (a file system mounted from it before) go. */
  error = vinvalbuf(devvp, V_SAVE, curlwp->l_cred, curlwp, 0, 0);
  VOP_UNLOCK(devvp);
  if (error == 0) error = VOP_IOCTL(devvp, DIOCGMEDIASIZE, &media, FREAD, curlwp->l_cred);
  if (error != 0) {
    printf("bakefs: %s: its size is unknown (DIOCGMEDIASIZE: %d)\n", spec, error);
    bakefs_close_device(devvp);
    return error;
  }
  *devvp_out = devvp;
  *size = (uint64_t)(media > 0 ? media : 0);
  return 0;
}

/* The superblock at the start of the device, checked as mount will (bakefs_probe): not an
 * image is EINVAL, as mount(2) says of a bad argument; a damaged or truncated one its errno. */
static int bakefs_probe_device(struct bakefs_mount* bmp, const char* spec) {
  unsigned char sb[BAKEFS_SUPERBLOCK_SIZE];
  struct bakefs_probe_info info;
  if (bmp->bm_device_size < sizeof(sb)) {
    printf("bakefs: %s is too small to hold an image (%llu bytes)\n", spec,
           (unsigned long long)bmp->bm_device_size);
    return EINVAL;
  }
  int error = bakefs_device_read(bmp, 0, sb, sizeof(sb));
  if (error != 0) return error;
  /* Only the superblock is read: its extents are checked against the device's size. */
  const uint64_t avail = bmp->bm_device_size < SIZE_MAX ? bmp->bm_device_size : SIZE_MAX;
  const int status = bakefs_probe(sb, (size_t)avail, &info);
  if (status == BAKEFS_OK) return 0;
  /* Quiet about a device of another file system: whoever tries several (rumprun's mount_blk,
   * patched, tries bakefs first) would print a line for every other disk. */
  if (!info.magic) return EINVAL;
  printf("bakefs: %s holds no mountable bakefs image: %s\n", spec,
         info.reason != NULL ? info.reason : bakefs_strerror(status));
  return info.image_size > avail ? EIO : bakefs_to_errno(status);
}

static int bakefs_vfs_getargs(struct mount* mp, void* data, size_t* data_len) {
  struct bakefs_mount* bmp = VFSTOBAKEFS(mp);
  struct bakefs_rump_args args;
  if (bmp == NULL) return EIO;
  if (data == NULL || *data_len < sizeof(args)) return EINVAL;
  memset(&args, 0, sizeof(args));
  /* A device mount names its device in f_mntfromname; no kernel address goes out. */
  args.version = bmp->bm_devvp != NULL ? BAKEFS_RUMP_ARGS_DEVICE : BAKEFS_RUMP_ARGS_VERSION;
  args.image = bmp->bm_devvp != NULL ? NULL : bmp->bm_image;
  args.length = bmp->bm_length;
  memcpy(data, &args, sizeof(args));
  *data_len = sizeof(args);
  return 0;
}

static int bakefs_vfs_mount(struct mount* mp, const char* path, void* data, size_t* data_len) {
  struct bakefs_rump_args args;
  struct bakefs_mount_options options;
  const char* from = "bakefs:memory";
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
  const bool device = args.version == BAKEFS_RUMP_ARGS_DEVICE;
  char spec[MAXPATHLEN];
  struct vnode* devvp = NULL;
  uint64_t device_size = 0;
  if (device) {
    if (args.image == NULL) return EINVAL;
    error = copyinstr(args.image, spec, sizeof(spec), NULL);
    if (error != 0) return error;
    error = bakefs_open_device(spec, mp, &devvp, &device_size);
    if (error != 0) return error;
    args.image = NULL;
    from = spec;
  } else {
    /* The image is read in place: a pointer means something only in the kernel's own address
     * space, which local clients share. A remote (sysproxy) client's pointer is in its
     * process. */
    if (args.image != NULL && !RUMP_LOCALPROC_P(curproc)) return EINVAL;
    if (args.image != NULL) {
      size_t section;
      const unsigned char* start = bakefs_rump_embedded(&section);
      const unsigned char* image = args.image;
      /* one of several images linked in (the boot code mounts each with its own bounds) */
      if (start != NULL && image >= start && image < start + section) from = "bakefs:embedded";
    } else {
      size_t length;
      args.image = bakefs_rump_embedded(&length);
      args.length = length;
      from = "bakefs:embedded";
      if (args.image == NULL) {
        printf("bakefs: no image linked into this program to mount\n");
        return ENXIO;
      }
    }
    if (args.length == 0 || args.length > SIZE_MAX) return EINVAL;
  }

  struct bakefs_mount* bmp = kmem_zalloc(sizeof(*bmp), KM_SLEEP);
  bmp->bm_devvp = devvp; /* closed with the mount from here on */
  bmp->bm_device_size = device_size;
  bakefs_rump_names_init(bmp);
  bakefs_rump_platform(&bmp->bm_platform);
  bmp->bm_image = args.image;
  bmp->bm_length = (size_t)args.length;
  memset(&options, 0, sizeof(options));
  options.cache_bytes = (size_t)args.cache_bytes;
  options.decompressors = args.decompressors;
  /* The glue reads past the page cache (bakefs_vnops.c): the core's cache must keep whole
   * blocks too, or every re-read of a file decompresses again. */
  options.flags = args.flags | BAKEFS_MOUNT_NO_PAGE_CACHE;
  int status;
  if (device) {
    error = bakefs_probe_device(bmp, spec);
    if (error != 0) {
      bakefs_free_mount(bmp);
      return error;
    }
    const struct bakefs_source source = {bmp, bakefs_device_read, device_size};
    status = bakefs_mount_source(&source, &bmp->bm_platform, &options, &bmp->bm_fs);
  } else {
    status = bakefs_mount(bmp->bm_image, bmp->bm_length, &bmp->bm_platform, &options, &bmp->bm_fs);
  }
  if (status == BAKEFS_OK) status = bakefs_statfs(bmp->bm_fs, &bmp->bm_stat);
  if (status != BAKEFS_OK) {
    if (device) {
      printf("bakefs: cannot mount the image on %s: %s\n", spec, bakefs_strerror(status));
    } else {
      printf("bakefs: cannot mount the image at %p (%zu bytes): %s\n", bmp->bm_image,
             bmp->bm_length, bakefs_strerror(status));
    }
    bakefs_free_mount(bmp);
    return bakefs_to_errno(status);
  }
  if (device) bmp->bm_length = (size_t)bmp->bm_stat.image_size;

  bmp->bm_mp = mp;
  mp->mnt_data = bmp;
  mp->mnt_stat.f_namemax = MIN(bmp->bm_stat.name_max, MAXNAMLEN);
  mp->mnt_stat.f_iosize = bmp->bm_stat.block_size;
  mp->mnt_flag |= MNT_LOCAL;
  mp->mnt_iflag |= IMNT_MPSAFE;
  mp->mnt_fs_bshift = ffs(bmp->bm_stat.block_size) - 1;
  mp->mnt_dev_bshift = DEV_BSHIFT;
  if (device) {
    mp->mnt_stat.f_fsidx.__fsid_val[0] = (int32_t)devvp->v_rdev;
    mp->mnt_stat.f_fsidx.__fsid_val[1] = makefstype(mp->mnt_op->vfs_name);
    mp->mnt_stat.f_fsid = mp->mnt_stat.f_fsidx.__fsid_val[0];
    spec_node_setmountedfs(devvp, mp);
  } else {
    vfs_getnewfsid(mp);
  }
  error = set_statvfs_info(path, UIO_USERSPACE, from, UIO_SYSSPACE, mp->mnt_op->vfs_name, mp,
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
  if (bmp->bm_mount_dir == NULL) {
    bmp->bm_mount_dir =
        kmem_zalloc(BAKEFS_MAX_MOUNT_DIRS * sizeof(*bmp->bm_mount_dir), KM_SLEEP);
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
