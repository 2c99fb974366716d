/* Shared by the rump kernel glue's files: the mount and node structures and their helpers.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_RUMP_IMPL_H
#define BAKEFS_RUMP_IMPL_H

#include <sys/types.h> /* before any other kernel header */

#include <sys/mount.h>
#include <sys/vnode.h>

#include <bakefs/bakefs.h>
#include <bakefs/errno.h> /* bakefs_to_errno: damage is EIO */

#define BAKEFS_VFSNAME "bakefs"

/* One mounted image. */
struct bakefs_mount {
  bakefs_fs* bm_fs;
  struct bakefs_platform bm_platform;
  const void* bm_image;
  size_t bm_length;
  struct bakefs_fsstat bm_stat;
  struct mount* bm_mp;
};

/* One inode; the vnode cache key is bn_ino. Attributes never change: they are read once. */
struct bakefs_node {
  bakefs_ino bn_ino; /* first: the vcache key points here */
  struct vnode* bn_vp;
  struct bakefs_attr bn_attr;
  struct lockf* bn_lockf; /* advisory locks */
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

/* The image linked into the program, or 0 with *length 0. */
const void* bakefs_rump_embedded(size_t* length);

/* The vnode type of a POSIX mode. */
enum vtype bakefs_rump_vtype(uint32_t mode);

#endif /* BAKEFS_RUMP_IMPL_H */
