/* Mapping bakefs_status codes to the host's errno values, for platform glue (user space and
 * BSD kernels alike).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_ERRNO_H
#define BAKEFS_ERRNO_H

#include <bakefs/bakefs.h>
#ifdef _KERNEL
#include <sys/errno.h> /* a BSD kernel (the rump component): its own errno values */
#else
#include <errno.h>
#endif

/* Damage (corrupt structure or bad checksum) is EIO: the bytes cannot be trusted. */
static inline int bakefs_to_errno(int status) {
  switch (status) {
    case BAKEFS_OK:
      return 0;
    case BAKEFS_ENOENT:
      return ENOENT;
    case BAKEFS_ENOTDIR:
      return ENOTDIR;
    case BAKEFS_EISDIR:
      return EISDIR;
    case BAKEFS_EINVAL:
      return EINVAL;
    case BAKEFS_ENOMEM:
      return ENOMEM;
    case BAKEFS_ERANGE:
      return ERANGE;
#ifdef ENOATTR
    case BAKEFS_ENODATA:
      return ENOATTR;
#else
    case BAKEFS_ENODATA:
      return ENODATA;
#endif
    case BAKEFS_ENOTSUP:
      return EOPNOTSUPP; /* == ENOTSUP on Linux; the one VFS callers expect on NetBSD */
    case BAKEFS_ENOTLNK:
      return EINVAL;
    case BAKEFS_EIO: /* the storage under a bakefs_source */
    case BAKEFS_ECORRUPT:
    case BAKEFS_ECHECKSUM:
    default:
      return EIO;
  }
}

#endif /* BAKEFS_ERRNO_H */
