/* Shared by the rump kernel glue's files: the mount and node structures and their helpers.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_RUMP_IMPL_H
#define BAKEFS_RUMP_IMPL_H

#include <sys/types.h> /* before any other kernel header */

#include <sys/mount.h>
#include <sys/mutex.h>
#include <sys/vnode.h>

#include <bakefs/bakefs.h>
#include <bakefs/errno.h> /* bakefs_to_errno: damage is EIO */

#define BAKEFS_VFSNAME "bakefs"

/* Mount-point directories: empty directories that the boot code adds at the top of an image
 * mounted alone at `/` where the image has no such name, so that the rump kernel's own
 * /dev, /tmp and /etc (what a union with its root used to show) can be mounted there. They
 * are read-only, owned by root, dated like the image, and have the inode numbers after the
 * image's last; they exist only in this mount, never in the image. */
/* How many: /dev, /tmp, /etc and a top-level --mount-at name for up to 29 other images (a
 * linked-in image beyond that, or deeper, needs its mount point in the image at `/`:
 * mkimage --mount-point). 272 bytes each, allocated with the first one. */
#define BAKEFS_MAX_MOUNT_DIRS 32
#define BAKEFS_MOUNT_DIR_NAME_MAX \
  255 /* the longest name mkimage writes (format.h kMaxNameLength) */
struct bakefs_mount_dir {
  char bd_name[BAKEFS_MOUNT_DIR_NAME_MAX + 1];
  size_t bd_length;
  uint32_t bd_mode; /* permissions */
};
/* readdir positions of the root's mount-point directories, after every position of the image */
#define BAKEFS_MOUNT_DIR_POS ((uint64_t)1 << 62)

/* One mounted image. */
struct bakefs_mount {
  bakefs_fs* bm_fs;
  struct bakefs_platform bm_platform;
  const void* bm_image;
  size_t bm_length;
  /* BAKEFS_RUMP_ARGS_DEVICE: the block device the core reads through the buffer cache (open,
   * referenced; bm_image NULL), and its size in bytes; else NULL, 0. */
  struct vnode* bm_devvp;
  uint64_t bm_device_size;
  struct bakefs_fsstat bm_stat;
  struct mount* bm_mp;
  unsigned bm_mount_dirs; /* how many of bm_mount_dir are in use */
  /* NULL until the boot code adds the first (most mounts have none), then
   * BAKEFS_MAX_MOUNT_DIRS of them (kmem_zalloc) */
  struct bakefs_mount_dir* bm_mount_dir;
  /* The first name of each directory handed to the kernel (bakefs_names.c). */
  kmutex_t bm_names_lock;
  struct bakefs_name_slot* bm_names;
  size_t bm_names_cap, bm_names_used;
};

/* bakefs_names.c: a directory has one name. claim returns 0 when (parent, name) is the first
 * name the directory was handed out under, or it is that one again; EIO for another; ENOMEM. */
void bakefs_rump_names_init(struct bakefs_mount* bmp);
void bakefs_rump_names_fini(struct bakefs_mount* bmp);
int bakefs_rump_claim_dir(struct bakefs_mount* bmp, bakefs_ino dir, bakefs_ino parent,
                          const char* name, size_t length);

/* One inode; the vnode cache key is bn_ino. Attributes never change: they are read once. */
struct bakefs_node {
  bakefs_ino bn_ino; /* first: the vcache key points here */
  struct vnode* bn_vp;
  struct bakefs_attr bn_attr;
  struct bakefs_file bn_file; /* a regular file's handle for reads (bakefs_open) */
  struct lockf* bn_lockf;     /* advisory locks */
};

#define VFSTOBAKEFS(mp) ((struct bakefs_mount*)(mp)->mnt_data)
#define VTOBN(vp) ((struct bakefs_node*)(vp)->v_data)
#define VTOBFS(vp) (VFSTOBAKEFS((vp)->v_mount)->bm_fs)

extern int (**bakefs_vnodeop_p)(void*);
extern int (**bakefs_specop_p)(void*);
extern int (**bakefs_fifoop_p)(void*);
extern const struct vnodeopv_desc* const bakefs_vnodeopv_descs[];

/* The platform the core gets: kmem(9), mutex(9), printf/log(9). */
void bakefs_rump_platform(struct bakefs_platform* platform);

/* The bakefs_image section of the program (one image, or several back to back: the boot code
 * tells them apart), or 0 with *length 0. */
const void* bakefs_rump_embedded(size_t* length);

/* Adds a mount-point directory `name` (permissions mode) at the top of the image mounted at
 * mp; only before anything but the boot code uses the mount. 0, or an errno. */
int bakefs_rump_add_mount_dir(struct mount* mp, const char* name, uint32_t mode);

/* The mount-point directory inode number ino is, or NULL when it is the image's. */
const struct bakefs_mount_dir* bakefs_rump_mount_dir(const struct bakefs_mount* bmp,
                                                     bakefs_ino ino);

/* The inode number of mount-point directory i. */
static inline bakefs_ino bakefs_rump_mount_dir_ino(const struct bakefs_mount* bmp, unsigned i) {
  return bmp->bm_stat.max_ino + 1 + i;
}

/* The vnode type of a POSIX mode. */
enum vtype bakefs_rump_vtype(uint32_t mode);

#endif /* BAKEFS_RUMP_IMPL_H */
