/* bakefs vnode operations: lookups, attributes, reads, directories, links and extended
 * attributes from the core; every change to the file system is EROFS.
 *
 * Reads go straight from the core (bakefs_file_read spans: bytes stored raw are uiomoved out
 * of the image in place, compressed ones out of the core's decompressed-block cache entry,
 * pinned meanwhile) rather than through the page cache: the core already caches decompressed blocks, and a second copy of every page in the
 * page cache would double the memory a unikernel spends on its root file system. The cost is
 * that files cannot be mmap(2)ed (VOP_MMAP says EOPNOTSUPP), which a rump kernel never offers
 * its clients anyway.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/param.h> /* first: every other kernel header needs it */
#include <sys/types.h>

#include <sys/dirent.h>
#include <sys/errno.h>
#include <sys/extattr.h>
#include <sys/fcntl.h>
#include <sys/kauth.h>
#include <sys/kmem.h>
#include <sys/lockf.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/namei.h>
#include <sys/stat.h>
#include <sys/systm.h>
#include <sys/uio.h>
#include <sys/unistd.h>
#include <sys/vnode.h>

#include <miscfs/fifofs/fifo.h>
#include <miscfs/genfs/genfs.h>
#include <miscfs/specfs/specdev.h>

#include "bakefs_rump_impl.h"

/* Largest buffer for directory entries. */
#define BAKEFS_CHUNK (64 * 1024)

static bool bakefs_is_image_object(const struct vnode* vp) {
  return vp->v_type == VREG || vp->v_type == VDIR || vp->v_type == VLNK;
}

/* ---- Names ---------------------------------------------------------------------------------- */

/* Lookups that the mount-point directories answer (bakefs_rump_impl.h): their own "." and ".."
 * (the root) and nothing else, and their names in the root where the image has none.
 * BAKEFS_ENOTSUP: the image answers. */
static int bakefs_mount_dir_lookup(struct vnode* dvp, const char* name, size_t length,
                                   bakefs_ino* out) {
  const struct bakefs_mount* bmp = VFSTOBAKEFS(dvp->v_mount);
  const bakefs_ino dir = VTOBN(dvp)->bn_ino;
  if (bakefs_rump_mount_dir(bmp, dir) != NULL) {
    if (length == 1 && name[0] == '.') {
      *out = dir;
      return BAKEFS_OK;
    }
    if (length == 2 && name[0] == '.' && name[1] == '.') {
      *out = BAKEFS_ROOT_INO;
      return BAKEFS_OK;
    }
    return BAKEFS_ENOENT;
  }
  if (dir != BAKEFS_ROOT_INO || bmp->bm_mount_dirs == 0) return BAKEFS_ENOTSUP;
  int status = bakefs_lookup(bmp->bm_fs, dir, name, length, out);
  if (status != BAKEFS_ENOENT) return status;
  for (unsigned i = 0; i < bmp->bm_mount_dirs; ++i) {
    const struct bakefs_mount_dir* d = &bmp->bm_mount_dir[i];
    if (d->bd_length == length && memcmp(d->bd_name, name, length) == 0) {
      *out = bakefs_rump_mount_dir_ino(bmp, i);
      return BAKEFS_OK;
    }
  }
  return BAKEFS_ENOENT;
}

static int bakefs_vop_lookup(void* v) {
  struct vop_lookup_v2_args* ap = v;
  struct vnode* dvp = ap->a_dvp;
  struct vnode** vpp = ap->a_vpp;
  struct componentname* cnp = ap->a_cnp;
  const bool last = (cnp->cn_flags & ISLASTCN) != 0;
  const uint32_t op = cnp->cn_nameiop;
  int error;

  *vpp = NULLVP;
  if (dvp->v_type != VDIR) return ENOTDIR;
  error = VOP_ACCESS(dvp, VEXEC, cnp->cn_cred);
  if (error != 0) return error;

  if (cache_lookup(dvp, cnp->cn_nameptr, cnp->cn_namelen, op, cnp->cn_flags, NULL, vpp)) {
    if (*vpp == NULLVP) return ENOENT;
    if (last && (op == DELETE || op == RENAME)) {
      vrele(*vpp);
      *vpp = NULLVP;
      return EROFS;
    }
    return 0;
  }

  bakefs_ino ino;
  int status = bakefs_mount_dir_lookup(dvp, cnp->cn_nameptr, cnp->cn_namelen, &ino);
  if (status == BAKEFS_ENOTSUP) {
    status =
        bakefs_lookup(VTOBFS(dvp), VTOBN(dvp)->bn_ino, cnp->cn_nameptr, cnp->cn_namelen, &ino);
  }
  if (status == BAKEFS_ENOENT) {
    /* A missing name is ENOENT, so a union mount falls through to the covered directory; only
     * creating a name in one of the image's own directories says EROFS. */
    const bool union_root = (dvp->v_vflag & VV_ROOT) && (dvp->v_mount->mnt_flag & MNT_UNION);
    if (last && (op == CREATE || op == RENAME) && !union_root) return EROFS;
    cache_enter(dvp, NULLVP, cnp->cn_nameptr, cnp->cn_namelen, cnp->cn_flags);
    return ENOENT;
  }
  if (status != BAKEFS_OK) return bakefs_to_errno(status);
  if (last && (op == DELETE || op == RENAME)) return EROFS;

  if (ino == VTOBN(dvp)->bn_ino) {
    vref(dvp);
    *vpp = dvp;
  } else {
    error = vcache_get(dvp->v_mount, &ino, sizeof(ino), vpp);
    if (error != 0) return error;
    const bool dots = cnp->cn_namelen == 2 && cnp->cn_nameptr[0] == '.' &&
                      cnp->cn_nameptr[1] == '.';
    if ((*vpp)->v_type == VDIR && !dots &&
        (error = bakefs_rump_claim_dir(VFSTOBAKEFS(dvp->v_mount), ino, VTOBN(dvp)->bn_ino,
                                       cnp->cn_nameptr, cnp->cn_namelen)) != 0) {
      vrele(*vpp);
      *vpp = NULLVP;
      return error;
    }
  }
  cache_enter(dvp, *vpp, cnp->cn_nameptr, cnp->cn_namelen, cnp->cn_flags);
  return 0;
}

/* ---- Attributes and permissions -------------------------------------------------------------- */

static int bakefs_vop_getattr(void* v) {
  struct vop_getattr_args* ap = v;
  struct vnode* vp = ap->a_vp;
  struct vattr* vap = ap->a_vap;
  const struct bakefs_attr* a = &VTOBN(vp)->bn_attr;

  vattr_null(vap);
  vap->va_type = vp->v_type;
  vap->va_mode = a->mode & ALLPERMS;
  vap->va_nlink = a->nlink;
  vap->va_uid = a->uid;
  vap->va_gid = a->gid;
  vap->va_fsid = vp->v_mount->mnt_stat.f_fsidx.__fsid_val[0];
  vap->va_fileid = a->ino;
  vap->va_size = a->size;
  vap->va_blocksize = a->block_size;
  vap->va_mtime.tv_sec = a->mtime_sec;
  vap->va_mtime.tv_nsec = a->mtime_nsec;
  vap->va_atime = vap->va_mtime;
  vap->va_ctime = vap->va_mtime;
  vap->va_birthtime = vap->va_mtime;
  vap->va_gen = 1;
  vap->va_flags = 0;
  vap->va_rdev =
      (vp->v_type == VCHR || vp->v_type == VBLK) ? makedev(a->rdev_major, a->rdev_minor) : 0;
  vap->va_bytes = a->blocks * 512;
  vap->va_filerev = 0;
  vap->va_vaflags = 0;
  return 0;
}

/* Changing the image is EROFS. A device, FIFO or socket node only names something outside the
 * image: truncating one (open with O_TRUNC) is accepted and ignored, as UFS does. */
static int bakefs_vop_setattr(void* v) {
  struct vop_setattr_args* ap = v;
  struct vnode* vp = ap->a_vp;
  struct vattr* vap = ap->a_vap;
  const bool size_only = vap->va_flags == VNOVAL && vap->va_uid == (uid_t)VNOVAL &&
                         vap->va_gid == (gid_t)VNOVAL && vap->va_mode == (mode_t)VNOVAL &&
                         vap->va_atime.tv_sec == VNOVAL && vap->va_mtime.tv_sec == VNOVAL &&
                         vap->va_birthtime.tv_sec == VNOVAL;
  if (size_only && vap->va_size != VNOVAL && !bakefs_is_image_object(vp)) return 0;
  return EROFS;
}

static int bakefs_vop_access(void* v) {
  struct vop_access_args* ap = v;
  struct vnode* vp = ap->a_vp;
  const struct bakefs_attr* a = &VTOBN(vp)->bn_attr;
  const mode_t mode = a->mode & ALLPERMS;

  if ((ap->a_mode & VWRITE) != 0 && bakefs_is_image_object(vp)) return EROFS;
  return kauth_authorize_vnode(
      ap->a_cred, KAUTH_ACCESS_ACTION(ap->a_mode, vp->v_type, mode), vp, NULL,
      genfs_can_access(vp->v_type, mode, a->uid, a->gid, ap->a_mode, ap->a_cred));
}

static int bakefs_vop_open(void* v) {
  struct vop_open_args* ap = v;
  if ((ap->a_mode & FWRITE) != 0 && bakefs_is_image_object(ap->a_vp)) return EROFS;
  return 0;
}

static int bakefs_vop_pathconf(void* v) {
  struct vop_pathconf_args* ap = v;
  struct bakefs_mount* bmp = VFSTOBAKEFS(ap->a_vp->v_mount);
  switch (ap->a_name) {
    case _PC_LINK_MAX:
      *ap->a_retval = INT32_MAX;
      return 0;
    case _PC_NAME_MAX:
      *ap->a_retval = MIN(bmp->bm_stat.name_max, MAXNAMLEN);
      return 0;
    case _PC_PATH_MAX:
      *ap->a_retval = MAXPATHLEN;
      return 0;
    case _PC_PIPE_BUF:
      *ap->a_retval = PIPE_BUF;
      return 0;
    case _PC_CHOWN_RESTRICTED:
    case _PC_NO_TRUNC:
    case _PC_SYNC_IO:
      *ap->a_retval = 1;
      return 0;
    case _PC_FILESIZEBITS:
      *ap->a_retval = 64;
      return 0;
    case _PC_SYMLINK_MAX:
      *ap->a_retval = MAXPATHLEN; /* longer targets read as EIO (bakefs_vop_readlink) */
      return 0;
    case _PC_2_SYMLINKS:
      *ap->a_retval = 1;
      return 0;
    default:
      return EINVAL;
  }
}

/* ---- Data ---------------------------------------------------------------------------------- */

/* Spans asked for per core call: a few blocks' worth; the loop asks again for the rest. */
#define BAKEFS_READ_SPANS 16
/* Holes are copied out from here, a piece at a time. */
static const char bakefs_zeros[4096];

/* Copies one span (bakefs_file_read) out to the caller: raw bytes straight from the image,
 * decompressed ones straight from the pinned cache entry (uiomove may fault or sleep: a pin
 * holds no lock), holes from bakefs_zeros. */
static int bakefs_uiomove_span(const struct bakefs_span* span, struct uio* uio) {
  if (span->data != NULL) return uiomove(__UNCONST(span->data), span->length, uio);
  for (size_t left = span->length; left > 0;) {
    size_t n = MIN(left, sizeof(bakefs_zeros));
    int error = uiomove(__UNCONST(bakefs_zeros), n, uio);
    if (error != 0) return error;
    left -= n;
  }
  return 0;
}

static int bakefs_vop_read(void* v) {
  struct vop_read_args* ap = v;
  struct vnode* vp = ap->a_vp;
  struct uio* uio = ap->a_uio;
  bakefs_fs* fs = VTOBFS(vp);
  const struct bakefs_file* file = &VTOBN(vp)->bn_file;
  struct bakefs_span spans[BAKEFS_READ_SPANS];
  int error = 0;

  if (vp->v_type == VDIR) return EISDIR;
  if (vp->v_type != VREG) return EOPNOTSUPP;
  if (uio->uio_offset < 0) return EINVAL;

  while (error == 0 && uio->uio_resid > 0 && (uint64_t)uio->uio_offset < file->size) {
    const uint64_t offset = (uint64_t)uio->uio_offset;
    const size_t want = (size_t)MIN((uint64_t)uio->uio_resid, file->size - offset);
    size_t count = 0;
    int status = bakefs_file_read(fs, file, offset, want, spans, BAKEFS_READ_SPANS, &count);
    if (status != BAKEFS_OK) return bakefs_to_errno(status);
    if (count == 0) break; /* EOF */
    for (size_t i = 0; i < count && error == 0; ++i) error = bakefs_uiomove_span(&spans[i], uio);
    bakefs_release(fs, spans, count);
  }
  return error;
}

static int bakefs_vop_readlink(void* v) {
  struct vop_readlink_args* ap = v;
  struct vnode* vp = ap->a_vp;
  size_t size = (size_t)VTOBN(vp)->bn_attr.size;
  size_t length = 0;

  if (vp->v_type != VLNK) return EINVAL;
  if (size > MAXPATHLEN) return EIO;
  char* buf = kmem_alloc(MAX(size, 1), KM_SLEEP);
  int status = bakefs_readlink(VTOBFS(vp), VTOBN(vp)->bn_ino, buf, size, &length);
  int error = bakefs_to_errno(status);
  if (error == 0) error = uiomove(buf, MIN(length, size), ap->a_uio);
  kmem_free(buf, MAX(size, 1));
  return error;
}

/* ---- Directories --------------------------------------------------------------------------- */

/* Entries are formatted into a kernel buffer by the core's callback and copied out afterwards:
 * uiomove may fault, which must not happen inside the core. */
struct bakefs_readdir_ctx {
  struct bakefs_mount* bmp;
  bakefs_ino dir;
  char* buf;
  size_t size, used;
  uint64_t next; /* position after the last entry taken */
  off_t* cookies;
  int ncookies, maxcookies;
  bool stopped;
  int error;
};

static int bakefs_readdir_emit(void* ctx, const char* name, size_t length, bakefs_ino ino,
                               uint32_t type, uint64_t pos, uint64_t next) {
  struct bakefs_readdir_ctx* c = ctx;
  if (length > MAXNAMLEN) {
    c->error = ENAMETOOLONG;
    return 1;
  }
  const bool dots = (length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.');
  if (type == DT_DIR && !dots && bakefs_rump_mount_dir(c->bmp, ino) == NULL &&
      (c->error = bakefs_rump_claim_dir(c->bmp, ino, c->dir, name, length)) != 0) {
    return 1;
  }
  const size_t reclen = _DIRENT_RECLEN((struct dirent*)NULL, length);
  if (reclen > c->size - c->used || (c->cookies != NULL && c->ncookies == c->maxcookies)) {
    c->stopped = true;
    return 1;
  }
  struct dirent* d = (struct dirent*)(c->buf + c->used);
  memset(d, 0, reclen);
  d->d_fileno = ino;
  d->d_reclen = reclen;
  d->d_namlen = length;
  d->d_type = type; /* S_IFMT >> 12: the DT_* values */
  memcpy(d->d_name, name, length);
  c->used += reclen;
  c->next = next;
  if (c->cookies != NULL) c->cookies[c->ncookies++] = (off_t)next;
  return 0;
}

/* The image's entries of directory vp from pos on, then, in the root, the mount-point
 * directories; a mount-point directory has only "." and "..". */
static int bakefs_readdir_all(struct vnode* vp, uint64_t pos, struct bakefs_readdir_ctx* c) {
  const struct bakefs_mount* bmp = VFSTOBAKEFS(vp->v_mount);
  const bakefs_ino ino = VTOBN(vp)->bn_ino;
  if (bakefs_rump_mount_dir(bmp, ino) != NULL) {
    if (pos == 0 && bakefs_readdir_emit(c, ".", 1, ino, DT_DIR, 0, 1) != 0) return BAKEFS_OK;
    if (pos <= 1) bakefs_readdir_emit(c, "..", 2, BAKEFS_ROOT_INO, DT_DIR, 1, 2);
    return BAKEFS_OK;
  }
  if (pos < BAKEFS_MOUNT_DIR_POS) {
    int status = bakefs_readdir(bmp->bm_fs, ino, pos, bakefs_readdir_emit, c);
    if (status != BAKEFS_OK || c->stopped || c->error != 0) return status;
    pos = BAKEFS_MOUNT_DIR_POS;
  }
  if (ino != BAKEFS_ROOT_INO) return BAKEFS_OK;
  for (uint64_t i = pos - BAKEFS_MOUNT_DIR_POS; i < bmp->bm_mount_dirs; ++i) {
    const struct bakefs_mount_dir* d = &bmp->bm_mount_dir[i];
    if (bakefs_readdir_emit(c, d->bd_name, d->bd_length,
                            bakefs_rump_mount_dir_ino(bmp, (unsigned)i), DT_DIR,
                            BAKEFS_MOUNT_DIR_POS + i, BAKEFS_MOUNT_DIR_POS + i + 1) != 0) {
      break;
    }
  }
  return BAKEFS_OK;
}

static int bakefs_vop_readdir(void* v) {
  struct vop_readdir_args* ap = v;
  struct vnode* vp = ap->a_vp;
  struct uio* uio = ap->a_uio;
  struct bakefs_readdir_ctx c;
  int error;

  if (vp->v_type != VDIR) return ENOTDIR;
  if (uio->uio_offset < 0) return EINVAL;
  memset(&c, 0, sizeof(c));
  c.bmp = VFSTOBAKEFS(vp->v_mount);
  c.dir = VTOBN(vp)->bn_ino;
  c.size = MIN((size_t)uio->uio_resid, BAKEFS_CHUNK);
  if (c.size < _DIRENT_MINSIZE((struct dirent*)NULL)) return EINVAL;
  c.buf = kmem_alloc(c.size, KM_SLEEP);
  c.next = (uint64_t)uio->uio_offset;
  if (ap->a_ncookies != NULL) {
    c.maxcookies = c.size / _DIRENT_MINSIZE((struct dirent*)NULL) + 1;
    c.cookies = malloc(c.maxcookies * sizeof(off_t), M_TEMP, M_WAITOK);
  }

  int status = bakefs_readdir_all(vp, (uint64_t)uio->uio_offset, &c);
  error = c.error != 0 ? c.error : bakefs_to_errno(status);
  if (error == 0 && c.used == 0 && c.stopped) error = EINVAL; /* no room for one entry */
  if (error == 0 && c.used > 0) {
    error = uiomove(c.buf, c.used, uio);
    uio->uio_offset = (off_t)c.next;
  }
  if (ap->a_eofflag != NULL) *ap->a_eofflag = error == 0 && !c.stopped;
  if (ap->a_ncookies != NULL) {
    if (error != 0 || c.ncookies == 0) {
      free(c.cookies, M_TEMP);
      *ap->a_ncookies = 0;
      *ap->a_cookies = NULL;
    } else {
      *ap->a_ncookies = c.ncookies;
      *ap->a_cookies = c.cookies;
    }
  }
  kmem_free(c.buf, c.size);
  return error;
}

/* ---- Extended attributes ------------------------------------------------------------------- */

/* Linux names map onto NetBSD namespaces: "user.x" is x in EXTATTR_NAMESPACE_USER, every
 * other name ("security.x", "trusted.x", "system.x") is itself in EXTATTR_NAMESPACE_SYSTEM.
 * NetBSD's getxattr(2) passes the whole Linux name in the user namespace ("user.x"); both
 * spellings find the attribute. */
static bool bakefs_is_user_name(const char* name) {
  return strncmp(name, "user.", 5) == 0;
}

static int bakefs_xattr_check(struct vnode* vp, int ns, kauth_cred_t cred, int access) {
  if (ns != EXTATTR_NAMESPACE_USER && ns != EXTATTR_NAMESPACE_SYSTEM) return EINVAL;
  return extattr_check_cred(vp, ns == EXTATTR_NAMESPACE_USER ? "user" : "system", cred, access);
}

/* Gets attribute full (an image name) into a kmem buffer: *value, *length. */
static int bakefs_xattr_fetch(struct vnode* vp, const char* full, void** value, size_t* length) {
  bakefs_fs* fs = VTOBFS(vp);
  const bakefs_ino ino = VTOBN(vp)->bn_ino;
  size_t needed = 0;
  if (bakefs_rump_mount_dir(VFSTOBAKEFS(vp->v_mount), ino) != NULL) return ENOATTR;
  int status = bakefs_getxattr(fs, ino, full, NULL, 0, &needed);
  if (status != BAKEFS_OK && status != BAKEFS_ERANGE) return bakefs_to_errno(status);
  void* buf = kmem_alloc(MAX(needed, 1), KM_SLEEP);
  size_t got = 0;
  status = bakefs_getxattr(fs, ino, full, buf, needed, &got);
  if (status != BAKEFS_OK || got != needed) {
    kmem_free(buf, MAX(needed, 1));
    return status != BAKEFS_OK ? bakefs_to_errno(status) : EIO;
  }
  *value = buf;
  *length = needed;
  return 0;
}

static int bakefs_vop_getextattr(void* v) {
  struct vop_getextattr_args* ap = v;
  struct vnode* vp = ap->a_vp;
  const char* name = ap->a_name;
  const int ns = ap->a_attrnamespace;
  void* value = NULL;
  size_t length = 0;

  int error = bakefs_xattr_check(vp, ns, ap->a_cred, VREAD);
  if (error != 0) return error;
  if (ns == EXTATTR_NAMESPACE_USER) {
    const size_t full_size = strlen(name) + 6;
    char* full = kmem_alloc(full_size, KM_SLEEP);
    snprintf(full, full_size, "user.%s", name);
    error = bakefs_xattr_fetch(vp, full, &value, &length);
    kmem_free(full, full_size);
    if (error == ENOATTR && bakefs_is_user_name(name)) {
      error = bakefs_xattr_fetch(vp, name, &value, &length);
    }
  } else {
    error = bakefs_is_user_name(name) ? ENOATTR : bakefs_xattr_fetch(vp, name, &value, &length);
  }
  if (error != 0) return error;
  if (ap->a_size != NULL) *ap->a_size = length;
  if (ap->a_uio != NULL) error = uiomove(value, length, ap->a_uio);
  kmem_free(value, MAX(length, 1));
  return error;
}

static int bakefs_vop_listextattr(void* v) {
  struct vop_listextattr_args* ap = v;
  struct vnode* vp = ap->a_vp;
  const int ns = ap->a_attrnamespace;
  const bool lenprefix = (ap->a_flag & EXTATTR_LIST_LENPREFIX) != 0;
  bakefs_fs* fs = VTOBFS(vp);
  const bakefs_ino ino = VTOBN(vp)->bn_ino;
  size_t needed = 0, got = 0, total = 0;

  int error = bakefs_xattr_check(vp, ns, ap->a_cred, VREAD);
  if (error != 0) return error;
  if (bakefs_rump_mount_dir(VFSTOBAKEFS(vp->v_mount), ino) != NULL) {
    if (ap->a_size != NULL) *ap->a_size = 0;
    return 0;
  }
  int status = bakefs_listxattr(fs, ino, NULL, 0, &needed);
  if (status != BAKEFS_OK && status != BAKEFS_ERANGE) return bakefs_to_errno(status);
  char* names = kmem_alloc(MAX(needed, 1), KM_SLEEP);
  status = bakefs_listxattr(fs, ino, names, needed, &got);
  if (status != BAKEFS_OK || got != needed) {
    error = status != BAKEFS_OK ? bakefs_to_errno(status) : EIO;
    goto out;
  }
  /* Length-prefixed lists (extattr_list_file) carry the names of the namespace (x for
   * "user.x"); NUL-terminated ones (listxattr) carry the full Linux names. */
  for (size_t at = 0; at < needed;) {
    const char* full = names + at;
    const size_t full_length = strnlen(full, needed - at);
    at += full_length + 1;
    const bool user = bakefs_is_user_name(full);
    if (user != (ns == EXTATTR_NAMESPACE_USER)) continue;
    const char* shown = lenprefix && user ? full + 5 : full;
    const size_t length = lenprefix && user ? full_length - 5 : full_length;
    if (lenprefix && length > UINT8_MAX) continue;
    total += length + 1;
    if (ap->a_uio == NULL) continue;
    if (lenprefix) {
      uint8_t prefix = (uint8_t)length;
      error = uiomove(&prefix, 1, ap->a_uio);
      if (error == 0) error = uiomove(__UNCONST(shown), length, ap->a_uio);
    } else {
      error = uiomove(__UNCONST(shown), length + 1, ap->a_uio);
    }
    if (error != 0) break;
  }
  if (ap->a_size != NULL) *ap->a_size = total;
out:
  kmem_free(names, MAX(needed, 1));
  return error;
}

/* ---- Life cycle ---------------------------------------------------------------------------- */

static int bakefs_vop_inactive(void* v) {
  struct vop_inactive_args* ap = v;
  *ap->a_recycle = false; /* inodes never go away: keep the vnode cached */
  VOP_UNLOCK(ap->a_vp);
  return 0;
}

static int bakefs_vop_reclaim(void* v) {
  struct vop_reclaim_args* ap = v;
  struct vnode* vp = ap->a_vp;
  struct bakefs_node* node = VTOBN(vp);
  vcache_remove(vp->v_mount, &node->bn_ino, sizeof(node->bn_ino));
  vp->v_data = NULL;
  kmem_free(node, sizeof(*node));
  return 0;
}

static int bakefs_vop_print(void* v) {
  struct vop_print_args* ap = v;
  const struct bakefs_node* node = VTOBN(ap->a_vp);
  printf("tag VT_NON, bakefs inode %u, mode 0%o, size %llu\n", node->bn_ino, node->bn_attr.mode,
         (unsigned long long)node->bn_attr.size);
  return 0;
}

/* Advisory locks work on a read-only file too (readers serialise with them). */
static int bakefs_vop_advlock(void* v) {
  struct vop_advlock_args* ap = v;
  struct bakefs_node* node = VTOBN(ap->a_vp);
  return lf_advlock(ap, &node->bn_lockf, node->bn_attr.size);
}

/* No page cache (see the top of the file): nothing to page in. Called with the object lock
 * held, which must be dropped unless PGO_LOCKED. */
static int bakefs_vop_getpages(void* v) {
  struct vop_getpages_args* ap = v;
  if ((ap->a_flags & PGO_LOCKED) == 0) mutex_exit(ap->a_vp->v_interlock);
  return EOPNOTSUPP;
}

/* Every operation that would change the image: release what the protocol says the operation
 * releases (genfs_eopnotsupp knows each one's rules), then say EROFS. */
static int bakefs_vop_erofs(void* v) {
  (void)genfs_eopnotsupp(v);
  return EROFS;
}

static int bakefs_vop_erofs_noref(void* v) {
  return EROFS;
}

/* FIFOs: fifofs when the rump kernel has it (librumpvfs_fifofs), else inert nodes. */
static int bakefs_vop_fifo_bypass(void* v) {
  if (fifo_vnodeop_p == NULL) return EOPNOTSUPP;
  return vn_fifo_bypass(v);
}

/* ---- Operation vectors --------------------------------------------------------------------- */

int (**bakefs_vnodeop_p)(void*);
int (**bakefs_specop_p)(void*);
int (**bakefs_fifoop_p)(void*);

static const struct vnodeopv_entry_desc bakefs_vnodeop_entries[] = {
    {&vop_default_desc, vn_default_error},
    {&vop_lookup_desc, bakefs_vop_lookup},
    {&vop_create_desc, bakefs_vop_erofs},
    {&vop_mknod_desc, bakefs_vop_erofs},
    {&vop_open_desc, bakefs_vop_open},
    {&vop_close_desc, genfs_nullop},
    {&vop_access_desc, bakefs_vop_access},
    {&vop_getattr_desc, bakefs_vop_getattr},
    {&vop_setattr_desc, bakefs_vop_setattr},
    {&vop_read_desc, bakefs_vop_read},
    {&vop_write_desc, bakefs_vop_erofs_noref},
    {&vop_fallocate_desc, bakefs_vop_erofs_noref},
    {&vop_fdiscard_desc, bakefs_vop_erofs_noref},
    {&vop_fcntl_desc, genfs_fcntl},
    {&vop_ioctl_desc, genfs_enoioctl},
    {&vop_poll_desc, genfs_poll},
    {&vop_kqfilter_desc, genfs_kqfilter},
    {&vop_revoke_desc, genfs_revoke},
    {&vop_mmap_desc, genfs_eopnotsupp},
    {&vop_fsync_desc, genfs_nullop},
    {&vop_seek_desc, genfs_seek},
    {&vop_remove_desc, bakefs_vop_erofs},
    {&vop_link_desc, bakefs_vop_erofs},
    {&vop_rename_desc, bakefs_vop_erofs},
    {&vop_mkdir_desc, bakefs_vop_erofs},
    {&vop_rmdir_desc, bakefs_vop_erofs},
    {&vop_symlink_desc, bakefs_vop_erofs},
    {&vop_readdir_desc, bakefs_vop_readdir},
    {&vop_readlink_desc, bakefs_vop_readlink},
    {&vop_abortop_desc, genfs_abortop},
    {&vop_inactive_desc, bakefs_vop_inactive},
    {&vop_reclaim_desc, bakefs_vop_reclaim},
    {&vop_lock_desc, genfs_lock},
    {&vop_unlock_desc, genfs_unlock},
    {&vop_islocked_desc, genfs_islocked},
    {&vop_print_desc, bakefs_vop_print},
    {&vop_pathconf_desc, bakefs_vop_pathconf},
    {&vop_advlock_desc, bakefs_vop_advlock},
    {&vop_getpages_desc, bakefs_vop_getpages},
    {&vop_putpages_desc, genfs_null_putpages},
    {&vop_getextattr_desc, bakefs_vop_getextattr},
    {&vop_setextattr_desc, bakefs_vop_erofs_noref},
    {&vop_listextattr_desc, bakefs_vop_listextattr},
    {&vop_deleteextattr_desc, bakefs_vop_erofs_noref},
    {NULL, NULL},
};
static const struct vnodeopv_desc bakefs_vnodeop_opv_desc = {&bakefs_vnodeop_p,
                                                             bakefs_vnodeop_entries};

/* Device nodes: specfs does the I/O, bakefs answers for the node's attributes. */
static const struct vnodeopv_entry_desc bakefs_specop_entries[] = {
    {&vop_default_desc, vn_default_error},
    {&vop_lookup_desc, spec_lookup},
    {&vop_create_desc, spec_create},
    {&vop_mknod_desc, spec_mknod},
    {&vop_open_desc, spec_open},
    {&vop_close_desc, spec_close},
    {&vop_access_desc, bakefs_vop_access},
    {&vop_getattr_desc, bakefs_vop_getattr},
    {&vop_setattr_desc, bakefs_vop_setattr},
    {&vop_read_desc, spec_read},
    {&vop_write_desc, spec_write},
    {&vop_fallocate_desc, spec_fallocate},
    {&vop_fdiscard_desc, spec_fdiscard},
    {&vop_fcntl_desc, genfs_fcntl},
    {&vop_ioctl_desc, spec_ioctl},
    {&vop_poll_desc, spec_poll},
    {&vop_kqfilter_desc, spec_kqfilter},
    {&vop_revoke_desc, spec_revoke},
    {&vop_mmap_desc, spec_mmap},
    {&vop_fsync_desc, spec_fsync},
    {&vop_seek_desc, spec_seek},
    {&vop_remove_desc, spec_remove},
    {&vop_link_desc, spec_link},
    {&vop_rename_desc, spec_rename},
    {&vop_mkdir_desc, spec_mkdir},
    {&vop_rmdir_desc, spec_rmdir},
    {&vop_symlink_desc, spec_symlink},
    {&vop_readdir_desc, spec_readdir},
    {&vop_readlink_desc, spec_readlink},
    {&vop_abortop_desc, spec_abortop},
    {&vop_inactive_desc, bakefs_vop_inactive},
    {&vop_reclaim_desc, bakefs_vop_reclaim},
    {&vop_lock_desc, genfs_lock},
    {&vop_unlock_desc, genfs_unlock},
    {&vop_bmap_desc, spec_bmap},
    {&vop_strategy_desc, spec_strategy},
    {&vop_print_desc, bakefs_vop_print},
    {&vop_islocked_desc, genfs_islocked},
    {&vop_pathconf_desc, spec_pathconf},
    {&vop_advlock_desc, spec_advlock},
    {&vop_bwrite_desc, vn_bwrite},
    {&vop_getpages_desc, spec_getpages},
    {&vop_putpages_desc, spec_putpages},
    {&vop_getextattr_desc, bakefs_vop_getextattr},
    {&vop_setextattr_desc, bakefs_vop_erofs_noref},
    {&vop_listextattr_desc, bakefs_vop_listextattr},
    {&vop_deleteextattr_desc, bakefs_vop_erofs_noref},
    {NULL, NULL},
};
static const struct vnodeopv_desc bakefs_specop_opv_desc = {&bakefs_specop_p,
                                                            bakefs_specop_entries};

static const struct vnodeopv_entry_desc bakefs_fifoop_entries[] = {
    {&vop_default_desc, vn_default_error},
    {&vop_lookup_desc, bakefs_vop_fifo_bypass},
    {&vop_create_desc, bakefs_vop_fifo_bypass},
    {&vop_mknod_desc, bakefs_vop_fifo_bypass},
    {&vop_open_desc, bakefs_vop_fifo_bypass},
    {&vop_close_desc, bakefs_vop_fifo_bypass},
    {&vop_access_desc, bakefs_vop_access},
    {&vop_getattr_desc, bakefs_vop_getattr},
    {&vop_setattr_desc, bakefs_vop_setattr},
    {&vop_read_desc, bakefs_vop_fifo_bypass},
    {&vop_write_desc, bakefs_vop_fifo_bypass},
    {&vop_fallocate_desc, bakefs_vop_fifo_bypass},
    {&vop_fdiscard_desc, bakefs_vop_fifo_bypass},
    {&vop_fcntl_desc, genfs_fcntl},
    {&vop_ioctl_desc, bakefs_vop_fifo_bypass},
    {&vop_poll_desc, bakefs_vop_fifo_bypass},
    {&vop_kqfilter_desc, bakefs_vop_fifo_bypass},
    {&vop_revoke_desc, bakefs_vop_fifo_bypass},
    {&vop_mmap_desc, bakefs_vop_fifo_bypass},
    {&vop_fsync_desc, bakefs_vop_fifo_bypass},
    {&vop_seek_desc, bakefs_vop_fifo_bypass},
    {&vop_remove_desc, bakefs_vop_fifo_bypass},
    {&vop_link_desc, bakefs_vop_fifo_bypass},
    {&vop_rename_desc, bakefs_vop_fifo_bypass},
    {&vop_mkdir_desc, bakefs_vop_fifo_bypass},
    {&vop_rmdir_desc, bakefs_vop_fifo_bypass},
    {&vop_symlink_desc, bakefs_vop_fifo_bypass},
    {&vop_readdir_desc, bakefs_vop_fifo_bypass},
    {&vop_readlink_desc, bakefs_vop_fifo_bypass},
    {&vop_abortop_desc, bakefs_vop_fifo_bypass},
    {&vop_inactive_desc, bakefs_vop_inactive},
    {&vop_reclaim_desc, bakefs_vop_reclaim},
    {&vop_lock_desc, genfs_lock},
    {&vop_unlock_desc, genfs_unlock},
    {&vop_bmap_desc, bakefs_vop_fifo_bypass},
    {&vop_strategy_desc, bakefs_vop_fifo_bypass},
    {&vop_print_desc, bakefs_vop_print},
    {&vop_islocked_desc, genfs_islocked},
    {&vop_pathconf_desc, bakefs_vop_fifo_bypass},
    {&vop_advlock_desc, bakefs_vop_fifo_bypass},
    {&vop_bwrite_desc, vn_bwrite},
    {&vop_putpages_desc, genfs_null_putpages},
    {&vop_getextattr_desc, bakefs_vop_getextattr},
    {&vop_listextattr_desc, bakefs_vop_listextattr},
    {NULL, NULL},
};
static const struct vnodeopv_desc bakefs_fifoop_opv_desc = {&bakefs_fifoop_p,
                                                            bakefs_fifoop_entries};

const struct vnodeopv_desc* const bakefs_vnodeopv_descs[] = {
    &bakefs_vnodeop_opv_desc,
    &bakefs_specop_opv_desc,
    &bakefs_fifoop_opv_desc,
    NULL,
};
