/* bakefs driver core: the C ABI that kernel glue and host code call.
 *
 * The core reads an image in place from (pointer, length), or through a bakefs_source when
 * the image is not in memory (a block device under a kernel's buffer cache, a file read with
 * pread). It never allocates on its own:
 * memory, locks and logging come from the bakefs_platform given at mount. All calls are safe
 * from many threads at once on one mounted file system. Image damage is reported as
 * BAKEFS_ECORRUPT or BAKEFS_ECHECKSUM, never by a crash or by wrong bytes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_BAKEFS_H
#define BAKEFS_BAKEFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results. 0 is success; map the rest to errno at the platform edge (bakefs/errno.h). */
typedef enum bakefs_status {
  BAKEFS_OK = 0,
  BAKEFS_ENOENT = 1,     /* no such name */
  BAKEFS_ENOTDIR = 2,    /* not a directory */
  BAKEFS_EISDIR = 3,     /* is a directory */
  BAKEFS_EINVAL = 4,     /* bad argument: inode number, offset, name */
  BAKEFS_ENOMEM = 5,     /* the platform allocator failed */
  BAKEFS_ERANGE = 6,     /* buffer too small; the needed size is returned */
  BAKEFS_ENODATA = 7,    /* no such extended attribute */
  BAKEFS_ENOTSUP = 8,    /* unknown format version or feature; or map of non-raw data */
  BAKEFS_ECORRUPT = 9,   /* the image breaks a structural rule */
  BAKEFS_ECHECKSUM = 10, /* a checksum does not match: the bytes are damaged */
  BAKEFS_ENOTLNK = 11,   /* not a symbolic link */
  BAKEFS_ELOOP = 12,     /* too many symbolic links (path resolution in host code) */
  BAKEFS_EIO = 13,       /* a bakefs_source read failed: the storage, not the image */
} bakefs_status;

/* Short English text for a status; never NULL. */
const char* bakefs_strerror(int status);

typedef uint32_t bakefs_ino;
#define BAKEFS_ROOT_INO 1u

/* What the core needs from its host. All functions are required except log. */
struct bakefs_platform {
  void* ctx; /* passed back to every callback */
  /* size bytes aligned to align (a power of two <= 64); NULL on failure. */
  void* (*alloc)(void* ctx, size_t size, size_t align);
  /* free gets back the size given to alloc (kernels want it). */
  void (*free)(void* ctx, void* ptr, size_t size);
  /* A sleeping mutual exclusion lock. */
  void* (*lock_create)(void* ctx);
  void (*lock_destroy)(void* ctx, void* lock);
  void (*lock)(void* ctx, void* lock);
  void (*unlock)(void* ctx, void* lock);
  /* One line, no newline; level 0 error, 1 warning, 2 info. May be NULL. It may be called
   * with driver locks held: it must not call back into bakefs. */
  void (*log)(void* ctx, int level, const char* message);
  /* Take lock if it is free and return nonzero; return 0 at once if another holds it. May be
   * NULL: the core then waits on a lock where it could have picked a free one. */
  int (*trylock)(void* ctx, void* lock);
};

/* Mount tuning; zero fields take the defaults. Memory use is fixed at mount:
 * cache_bytes + decompressors * (zstd context) + verify_slots * 12 + a few KiB. */
struct bakefs_mount_options {
  size_t cache_bytes;     /* decompressed block cache; default 8 MiB, at least one block */
  uint32_t decompressors; /* zstd contexts, i.e. concurrent decompressions; default 4 */
  uint32_t verify_slots;  /* record of verified units (a power of two); default 4096 */
  uint32_t flags;         /* BAKEFS_MOUNT_* */
};
#define BAKEFS_MOUNT_NO_VERIFY                              \
  1u /* trust the image: skip lazy checksum checks (not the \
        superblock's) */
#define BAKEFS_MOUNT_NO_PAGE_CACHE                                          \
  2u /* no page cache sits above (the rump glue): bakefs_read keeps whole \
        decompressed blocks in the cache too */

typedef struct bakefs_fs bakefs_fs;

/* Mount the image at [image, image + length). The bytes must stay valid and unchanged until
 * bakefs_unmount. O(1): checks the superblock and table bounds, scans nothing. */
int bakefs_mount(const void* image, size_t length, const struct bakefs_platform* platform,
                 const struct bakefs_mount_options* options, bakefs_fs** out);
void bakefs_unmount(bakefs_fs* fs);

/* An image that is not in memory. read copies length bytes (at most the image's block size,
 * or its metadata's checksum table at mount) from image offset into dst and returns 0, or a
 * nonzero code of the host's (an errno) when the storage fails; the core then returns
 * BAKEFS_EIO and tries again on the next call that needs those bytes. The core asks only for
 * bytes inside the image, which lies in [0, size). Called from any thread at once; may sleep. */
struct bakefs_source {
  void* ctx; /* passed back to read */
  int (*read)(void* ctx, uint64_t offset, void* dst, size_t length);
  uint64_t size; /* bytes the storage holds from offset 0 (the image may be shorter) */
};

/* Mount the image that source reads. O(1) in reads: the superblock and the checksum table of
 * the metadata. Every byte is read into memory of the platform's before the core trusts it:
 * the metadata into one buffer of the metadata's size allocated at mount, filled one checksum
 * unit at a time on first use (checked then, unless BAKEFS_MOUNT_NO_VERIFY), and stored blocks
 * into the block cache (compressed ones through a buffer of the stored size). Nothing is ever
 * read in place: bakefs_map is BAKEFS_ENOTSUP and bakefs_file_read's spans are cache entries
 * (raw blocks included); boot records and names point into the metadata buffer. Memory beyond
 * bakefs_mount's: the metadata and its checksum table (bakefs_fsstat.image_size minus the data
 * extent, a few percent of an image). The source must stay valid until bakefs_unmount. */
int bakefs_mount_source(const struct bakefs_source* source, const struct bakefs_platform* platform,
                        const struct bakefs_mount_options* options, bakefs_fs** out);

/* The superblock at the start of [image, image + length), checked as bakefs_mount checks it,
 * without mounting or touching anything behind it: for tools that look for an image in a file
 * or say why a file is none. Only the first BAKEFS_SUPERBLOCK_SIZE bytes are read; length is
 * what the storage holds, so that the superblock alone may be passed with the size of the
 * device it was read from. Returns BAKEFS_OK when mount would take it, else what mount would
 * return (BAKEFS_ECORRUPT, BAKEFS_ECHECKSUM, BAKEFS_ENOTSUP). */
struct bakefs_probe_info {
  uint64_t image_size; /* the image's size as its superblock gives it, once the magic and the
                          superblock's checksum hold (however many bytes follow); else 0 */
  uint32_t magic;      /* nonzero: the bytes start with the bakefs magic */
  const char* reason;  /* NULL when sound; else why not, a static phrase as mount logs it
                          ("no bakefs magic", "image truncated", ...) */
};
#define BAKEFS_SUPERBLOCK_SIZE 256u
int bakefs_probe(const void* image, size_t length, struct bakefs_probe_info* out);

struct bakefs_fsstat {
  uint32_t block_size; /* data block size of the image */
  uint32_t name_max;   /* longest name */
  uint64_t image_size; /* bytes */
  uint64_t inode_count;
  bakefs_ino max_ino;    /* inode numbers lie in 1..max_ino; not every number is an inode */
  uint64_t block_count;  /* stored blocks */
  uint64_t file_bytes;   /* sum of regular file sizes */
  uint64_t stored_bytes; /* bytes of stored blocks */
  uint32_t version_major, version_minor;
  uint32_t feature_compat, feature_incompat;
  int64_t build_time_sec;
  uint32_t build_time_nsec;
  /* Since mount, for tests and tuning: */
  uint32_t max_pins;       /* pins one bakefs_file_read call takes at most */
  uint64_t decompressions; /* blocks decompressed */
  uint64_t uncached_fills; /* of which into memory outside the cache (its set was all pinned) */
  uint64_t pinned;         /* cache entries pinned now (bakefs_file_read spans not released) */
};
int bakefs_statfs(bakefs_fs* fs, struct bakefs_fsstat* out);

struct bakefs_attr {
  bakefs_ino ino;
  uint32_t mode; /* S_IFMT type bits | permissions; POSIX values */
  uint32_t nlink;
  uint32_t uid, gid;
  uint64_t size;
  uint64_t blocks;   /* 512-byte units of image space the file's data stores on its own */
  int64_t mtime_sec; /* also atime and ctime */
  uint32_t mtime_nsec;
  uint32_t rdev_major, rdev_minor;
  uint32_t block_size; /* preferred I/O size */
};
int bakefs_getattr(bakefs_fs* fs, bakefs_ino ino, struct bakefs_attr* out);

/* Look name (length bytes, no NUL needed) up in directory dir. "." and ".." work. */
int bakefs_lookup(bakefs_fs* fs, bakefs_ino dir, const char* name, size_t length, bakefs_ino* out);

/* readdir: calls emit for each entry from position pos on, "." at 0 and ".." at 1, in name
 * order after that. next is the position of the entry after this one. emit returns nonzero
 * to stop (for example when the caller's buffer is full); the entry it stopped on is not
 * consumed: resume from its pos. */
typedef int (*bakefs_dirent_fn)(void* ctx, const char* name, size_t length, bakefs_ino ino,
                                uint32_t type, uint64_t pos, uint64_t next);
int bakefs_readdir(bakefs_fs* fs, bakefs_ino dir, uint64_t pos, bakefs_dirent_fn emit, void* ctx);

/* The file data primitive. bakefs_open decodes a regular file's inode once into a small
 * handle: a plain value the caller keeps (nothing to close), valid while the image is mounted.
 * BAKEFS_EISDIR for a directory, BAKEFS_EINVAL for another type. The fields after size are the
 * core's. */
struct bakefs_file {
  bakefs_ino ino;
  uint32_t flags_;
  uint64_t size;         /* bytes */
  uint64_t list_;        /* heap byte offset of the first block id */
  uint32_t tail_block_;  /* the fragment block that holds the tail, when it is in one */
  uint32_t tail_offset_; /* where the tail starts in it */
};
int bakefs_open(bakefs_fs* fs, bakefs_ino ino, struct bakefs_file* out);

/* One piece of a file's bytes. data points into the image (bytes stored raw) or into a cache
 * entry pinned for the caller (decompressed bytes); NULL for a hole: length zero bytes. */
struct bakefs_span {
  const void* data;
  size_t length;
  void* pin_; /* the core's: the entry that holds data, or NULL */
};

/* The pieces of bytes [offset, offset + length) of file, in order, as at most max_spans spans
 * (max_spans > 0); *count gets their number. They cover a prefix of the range, short only at
 * EOF, when max_spans spans are used, or after max_pins (bakefs_fsstat) cache entries: read
 * on from where they end. Checksums are checked on first use. Every span must be given back
 * with bakefs_release, soon (a pinned entry is not evicted); release before asking for more,
 * so that a caller never holds more than max_pins. On error *count is 0 and nothing is
 * held. */
int bakefs_file_read(bakefs_fs* fs, const struct bakefs_file* file, uint64_t offset,
                     size_t length, struct bakefs_span* spans, size_t max_spans, size_t* count);
void bakefs_release(bakefs_fs* fs, struct bakefs_span* spans, size_t count);

/* Read up to length bytes at offset into buf; *done gets the count (short only at EOF). */
int bakefs_read(bakefs_fs* fs, bakefs_ino ino, uint64_t offset, void* buf, size_t length,
                size_t* done);

/* Zero-copy: if the bytes at offset are stored raw, *data points into the image and *length
 * says how many bytes from there belong to the file (up to the end of the block). The block's
 * checksum is checked first. BAKEFS_ENOTSUP when the bytes are compressed or a hole: use
 * bakefs_read. At or past EOF: BAKEFS_OK with *length 0. */
int bakefs_map(bakefs_fs* fs, bakefs_ino ino, uint64_t offset, const void** data, size_t* length);

/* Copy the symlink target into buf (not NUL-terminated); *length gets its full length.
 * BAKEFS_ERANGE if size is too small. */
int bakefs_readlink(bakefs_fs* fs, bakefs_ino ino, char* buf, size_t size, size_t* length);

/* Extended attributes, with full names ("user.x"). listxattr writes NUL-terminated names back
 * to back. Both set *needed to the full size and return BAKEFS_ERANGE when size is too small;
 * a size of 0 just asks for the size. */
int bakefs_listxattr(bakefs_fs* fs, bakefs_ino ino, char* buf, size_t size, size_t* needed);
int bakefs_getxattr(bakefs_fs* fs, bakefs_ino ino, const char* name, void* buf, size_t size,
                    size_t* needed);

/* Where a regular file's bytes are stored, for tools (info, verify, layout studies): emit is
 * called for each piece in file order and returns nonzero to stop. */
#define BAKEFS_HOLE 0xffffffffu
#define BAKEFS_EXTENT_FRAGMENT 1u /* the block holds tails of other files too */
struct bakefs_extent {
  uint64_t file_offset; /* first byte of the file in this piece */
  uint32_t length;      /* bytes of the file in it */
  uint32_t block;       /* block id, or BAKEFS_HOLE */
  uint32_t in_block;    /* where the piece starts in the block's raw bytes */
  uint32_t raw_size;    /* the block's size decompressed (0 for a hole) */
  uint32_t stored_size; /* its size in the image (0 for a hole); == raw_size when stored raw */
  uint32_t flags;       /* BAKEFS_EXTENT_* */
};
typedef int (*bakefs_extent_fn)(void* ctx, const struct bakefs_extent* extent);
int bakefs_extents(bakefs_fs* fs, bakefs_ino ino, bakefs_extent_fn emit, void* ctx);

/* Boot records: what the image tells whoever boots from it, beyond its files (mkimage
 * --config, --tmpfs, --root-mount). *data points into the image (checksum checked) for *length
 * bytes; the bytes are not NUL-terminated. index counts records of that type from 0, in image
 * order. BAKEFS_ENOENT when there is no such record. */
#define BAKEFS_BOOT_CONFIG 1u /* the launch configuration (rumprun: its JSON); at most one */
#define BAKEFS_BOOT_TMPFS                                           \
  2u /* absolute path of a directory to cover with a tmpfs at boot, \
        after / is mounted; checked to be "/" or "/a/b", no NUL */
#define BAKEFS_BOOT_ROOT                                                \
  3u /* how to mount the image as /: 4 bytes, a little-endian uint32 of \
        BAKEFS_BOOT_ROOT_* flags (checked to be 4 bytes); at most one */
#define BAKEFS_BOOT_ROOT_NOUNION 1u /* mount / without MNT_UNION: the image alone is the root */
#define BAKEFS_BOOT_MOUNT                                             \
  4u /* mkimage --mount-at: the absolute path (not "/") to mount this \
        image at, after /; checked as a tmpfs path; at most one */
int bakefs_boot_record(bakefs_fs* fs, uint32_t type, uint32_t index, const void** data,
                       size_t* length);
/* The BAKEFS_BOOT_ROOT record decoded: *flags gets its BAKEFS_BOOT_ROOT_* flags. Without the
 * record (BAKEFS_ENOENT) or when the records are damaged (that error), *flags is
 * BAKEFS_BOOT_ROOT_DEFAULT: the image alone at /. */
#define BAKEFS_BOOT_ROOT_DEFAULT BAKEFS_BOOT_ROOT_NOUNION
int bakefs_boot_root(bakefs_fs* fs, uint32_t* flags);

/* Several images back to back (each program object linked in adds its image to the
 * bakefs_image section, aligned to 16 bytes, zero bytes between): the length of the image
 * starting at data, from its superblock (magic and checksum checked, the length within
 * [data, data + length)), so that the next one can be found after it. BAKEFS_EINVAL when
 * data holds no bakefs magic; BAKEFS_ECHECKSUM, BAKEFS_ECORRUPT for a damaged superblock.
 * O(1); no mount, nothing allocated. */
int bakefs_image_length(const void* data, size_t length, uint64_t* image_length);

/* Full check on demand: every metadata unit, every stored block (decompressed too) and the
 * layout rules that mount does not check. report, if not NULL, gets one line per problem.
 * Returns BAKEFS_OK only when the image is sound; stops after max_problems problems
 * (0: no limit). */
typedef void (*bakefs_report_fn)(void* ctx, const char* message);
int bakefs_check(bakefs_fs* fs, bakefs_report_fn report, void* ctx, uint32_t max_problems);

#ifdef __cplusplus
}
#endif

#endif /* BAKEFS_BAKEFS_H */
