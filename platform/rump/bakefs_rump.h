/* bakefs in a NetBSD rump kernel: the mount arguments and the boot interface.
 *
 * Included by the kernel component and by the programs that mount through it. The file-system
 * type is "bakefs"; mounts are read-only (MNT_RDONLY is required). The image is read in place:
 * a rump kernel shares its address space with its local clients (rumprun, a program linked with
 * -lrump), so the pointer below is used as it is. Remote clients (sysproxy) cannot pass images.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_RUMP_H
#define BAKEFS_RUMP_H

#ifdef _KERNEL
#include <sys/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define BAKEFS_RUMP_FSTYPE "bakefs"
#define BAKEFS_RUMP_ARGS_VERSION 1
/* The same struct with this version mounts the image on a block device: `image` then points to
 * the device's path (NUL-terminated, e.g. "/dev/ld0a"), `length` is ignored. The image is read
 * through the kernel's buffer cache as it is used; the kernel keeps a copy of its metadata, not
 * of its data. The device stays open and in use by the mount until unmount. */
#define BAKEFS_RUMP_ARGS_DEVICE 2

/* The data argument of mount(2) for "bakefs". A NULL data argument, or image == NULL, mounts
 * the image linked into the program (bakefs/embed.h). Zero tuning fields take the core's
 * defaults (struct bakefs_mount_options). */
struct bakefs_rump_args {
  uint32_t version;       /* BAKEFS_RUMP_ARGS_VERSION */
  uint32_t flags;         /* BAKEFS_MOUNT_* of bakefs.h (BAKEFS_MOUNT_NO_VERIFY) */
  const void* image;      /* first byte of the image; NULL: the embedded image */
  uint64_t length;        /* bytes at image (padding after the image is allowed) */
  uint64_t cache_bytes;   /* decompressed block cache; 0: default */
  uint32_t decompressors; /* concurrent decompressions; 0: default */
  uint32_t reserved;      /* zero */
};

#ifdef __cplusplus
extern "C" {
#endif

/* The launch configuration stored in the embedded image (mkimage --config), as mounted at `/`
 * during rump kernel start-up: *length bytes, not NUL-terminated, valid until the kernel halts.
 * NULL (and *length 0) when there is none. The name begins with "rump", so the kernel's symbol
 * renaming leaves it alone and the application or rumprun can call it. */
const char* rump_bakefs_config(size_t* length);

/* 1 when the boot hook mounted the embedded image at `/`, else 0. */
int rump_bakefs_root_mounted(void);

#ifdef __cplusplus
}
#endif

#endif /* BAKEFS_RUMP_H */
