/* bakefs on-disk format: the single source of truth shared by the driver, mkimage and tests.
 *
 * Every multi-byte field is little-endian and stored as a byte array (le16/le32/le64), so the
 * structs have alignment 1, no padding and the same layout on every host. Never cast image
 * bytes to these structs in the driver: copy them into a local first (see driver/reader.h).
 * docs/FORMAT.md explains the format in prose; this header pins every byte.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_FORMAT_H
#define BAKEFS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* File types, for C and C++ alike: the S_IFMT bits of the mode, which are the same on Linux,
 * NetBSD and POSIX; mode >> 12 is also the DT_* value of readdir. (C++ code uses the
 * format::kType* constants below, which are these.) */
#define BAKEFS_TYPE_MASK 0170000
#define BAKEFS_TYPE_FIFO 0010000
#define BAKEFS_TYPE_CHAR 0020000
#define BAKEFS_TYPE_DIR 0040000
#define BAKEFS_TYPE_BLOCK 0060000
#define BAKEFS_TYPE_REGULAR 0100000
#define BAKEFS_TYPE_SYMLINK 0120000
#define BAKEFS_TYPE_SOCKET 0140000

#ifdef __cplusplus
namespace bakefs::format {

/* Little-endian integer of N bytes, stored as bytes. Loads and stores compile to one move on
 * little-endian hosts. */
template <typename T>
struct LittleEndian {
  uint8_t bytes[sizeof(T)];

  constexpr T load() const {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      value |= static_cast<T>(static_cast<T>(bytes[i]) << (8 * i));
    return value;
  }
  constexpr void store(T value) {
    for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  }
};
using le16 = LittleEndian<uint16_t>;
using le32 = LittleEndian<uint32_t>;
using le64 = LittleEndian<uint64_t>;
static_assert(sizeof(le16) == 2 && sizeof(le32) == 4 && sizeof(le64) == 8);
static_assert(alignof(le64) == 1);

/* ---- Constants ------------------------------------------------------------------------ */

/* "\x89BAKEFS\n": a high byte and a newline catch 7-bit and text-mode transfers (as PNG's). */
inline constexpr uint8_t kMagic[8] = {0x89, 'B', 'A', 'K', 'E', 'F', 'S', '\n'};
inline constexpr uint16_t kVersionMajor = 1; /* a reader refuses another major version */
inline constexpr uint16_t kVersionMinor = 1; /* 1.1: the x86 filter (kIncompatX86Filter) */

inline constexpr uint32_t kSuperblockSize = 256;
inline constexpr uint32_t kMinBlockLog = 12; /* 4 KiB */
inline constexpr uint32_t kMaxBlockLog = 20; /* 1 MiB */
inline constexpr uint32_t kMinUnitLog = 9;   /* metadata checksum unit: 512 B .. */
inline constexpr uint32_t kMaxUnitLog = 20;  /* .. 1 MiB */
inline constexpr uint32_t kMaxNameLength = 255;
inline constexpr uint32_t kMaxSymlinkLength = 4095; /* PATH_MAX - 1 on Linux */
inline constexpr uint64_t kMaxFileSize = (1ull << 63) - 1; /* every inode's size: kernels keep
                                                            * sizes in a signed 64-bit off_t */
inline constexpr uint32_t kRootIno = 1;             /* inode numbers start at 1; 0 is never valid */

/* Feature masks. A reader mounts an image only if it knows every incompat bit; unknown compat
 * bits are ignored. */
inline constexpr uint32_t kIncompatZstd = 1u << 0;       /* some blocks are zstd frames */
inline constexpr uint32_t kIncompatDictionary = 1u << 1; /* the frames use the image's zstd
                                                            dictionary (Superblock.dictionary) */
inline constexpr uint32_t kIncompatX86Filter = 1u << 2; /* 1.1: some blocks were x86-filtered
                                                           before compression (BlockEntry) */
inline constexpr uint32_t kIncompatSupported =
    kIncompatZstd | kIncompatDictionary | kIncompatX86Filter;
inline constexpr uint64_t kMaxDictionarySize = 1u << 20; /* mount loads it: keep that bounded */
inline constexpr uint32_t kCompatBoot = 1u << 0;         /* Superblock.boot holds boot records */
inline constexpr uint32_t kCompatSupported = kCompatBoot;

/* Block ids are indexes into the block table; this one marks a hole (all-zero block). */
inline constexpr uint32_t kHoleBlock = 0xffffffffu;

/* File types (BAKEFS_TYPE_* above). */
inline constexpr uint16_t kTypeMask = BAKEFS_TYPE_MASK;
inline constexpr uint16_t kTypeFifo = BAKEFS_TYPE_FIFO;
inline constexpr uint16_t kTypeChar = BAKEFS_TYPE_CHAR;
inline constexpr uint16_t kTypeDir = BAKEFS_TYPE_DIR;
inline constexpr uint16_t kTypeBlock = BAKEFS_TYPE_BLOCK;
inline constexpr uint16_t kTypeRegular = BAKEFS_TYPE_REGULAR;
inline constexpr uint16_t kTypeSymlink = BAKEFS_TYPE_SYMLINK;
inline constexpr uint16_t kTypeSocket = BAKEFS_TYPE_SOCKET;
inline constexpr uint16_t kPermMask = 07777; /* permissions with setuid, setgid, sticky */

/* One of the seven file types above. */
constexpr bool known_type(uint32_t mode) {
  switch (mode & kTypeMask) {
    case kTypeFifo:
    case kTypeChar:
    case kTypeDir:
    case kTypeBlock:
    case kTypeRegular:
    case kTypeSymlink:
    case kTypeSocket:
      return true;
    default:
      return false;
  }
}

/* Checksums are XXH3-64 with a seed that names the unit, so a unit copied to the wrong place
 * fails its check too. */
inline constexpr uint64_t kSeedSuperblock = 0x62616b6566732d73ull; /* "bakefs-s" */
inline constexpr uint64_t kSeedMetaUnit = 0x6d00000000000000ull;   /* + unit index */
inline constexpr uint64_t kSeedBlock = 0x6200000000000000ull;      /* + block id */

/* ---- Superblock: 256 bytes at image offset 0 -------------------------------------------- */

/* A region of the image: [offset, offset + size). */
struct Extent {
  le64 offset; /* 0: bytes from the image start */
  le64 size;   /* 8: bytes */
};
static_assert(sizeof(Extent) == 16);

struct Superblock {
  uint8_t magic[8];      /*   0: kMagic */
  le16 version_major;    /*   8: kVersionMajor */
  le16 version_minor;    /*  10: kVersionMinor */
  le32 superblock_size;  /*  12: kSuperblockSize */
  le32 feature_compat;   /*  16: bits a reader may ignore */
  le32 feature_incompat; /*  20: bits a reader must know */
  uint8_t block_log;     /*  24: data block size = 1 << block_log, kMinBlockLog..kMaxBlockLog */
  uint8_t unit_log;      /*  25: metadata checksum unit = 1 << unit_log */
  uint8_t reserved0[2];  /*  26: zero */
  le32 inode_count;      /*  28: inodes in the table (not slots); the root is kRootIno */
  le64 image_size;       /*  32: bytes; the image is exactly this long */
  le64 build_time_sec;   /*  40: seconds since the epoch (signed) */
  le32 build_time_nsec;  /*  48: nanoseconds, < 1e9 */
  le32 block_count;      /*  52: entries in the block table */
  Extent data;           /*  56: stored blocks, right after the superblock */
  Extent meta;           /*  72: metadata: inode, block, id tables and heap, checksummed */
  Extent inodes;         /*  88: inode table, inside meta, a multiple of kSlotSize */
  Extent blocks;         /* 104: block table, inside meta, block_count * sizeof(BlockEntry) */
  Extent heap;           /* 120: heap of variable-sized metadata, inside meta */
  Extent checksums;      /* 136: one le64 per metadata unit, after meta */
  Extent ids;            /* 152: id table, inside meta, IdPair entries */
  le64 file_bytes;       /* 168: sum of regular file sizes (each inode once), for statistics */
  le64 stored_bytes;     /* 176: bytes of stored blocks in data, for statistics */
  Extent dictionary;     /* 184: zstd dictionary, inside meta, with kIncompatDictionary; else 0 */
  Extent boot;           /* 200: boot records, inside meta, with kCompatBoot; else 0 */
  uint8_t reserved1[32]; /* 216: zero */
  le64 checksum;         /* 248: XXH3-64 of bytes 0..247, seed kSeedSuperblock */
};
static_assert(sizeof(Superblock) == kSuperblockSize);
static_assert(offsetof(Superblock, checksum) == kSuperblockSize - 8);

/* ---- Boot records ---------------------------------------------------------------------- */

/* What the image tells whoever boots from it, beyond its files: records back to back in the
 * boot extent, each a BootRecord header, `length` bytes of payload, then zero padding to a
 * multiple of 8. Record order is significant within a type (tmpfs mounts in order). A reader
 * skips types it does not know. */
struct BootRecord {
  le16 type;   /* kBoot* */
  le16 flags;  /* zero */
  le32 length; /* payload bytes */
};
static_assert(sizeof(BootRecord) == 8);
inline constexpr uint16_t kBootConfig = 1; /* launch configuration: opaque bytes, at most one
                                              (rumprun: its JSON) */
inline constexpr uint16_t kBootTmpfs = 2;  /* absolute path (no NUL, no trailing '/') of a
                                              directory to cover with a tmpfs at boot */
inline constexpr uint16_t kBootRoot = 3;   /* how to mount the image as /: a le32 of
                                              kBootRoot* flags; at most one */
inline constexpr uint32_t kBootRootNoUnion = 1u << 0; /* not over the kernel's own root: the
                                                         image alone is / */
inline constexpr uint16_t kBootMount = 4; /* where to mount the image when it is not /: an
                                             absolute path as kBootTmpfs's, not "/"; at most
                                             one. Several images linked into one program: the
                                             one without it is /, these go on top */
inline constexpr uint32_t kMaxBootRecord = 1u << 20;  /* payload bound, config included */

/* ---- Inode table: 32-byte slots ---------------------------------------------------------- */

/* Inode n starts at slot n - 1, at inodes.offset + (n - 1) * 32: one multiplication away.
 * Most inodes are compact (one slot); an inode whose values do not fit is extended (two slots,
 * and its second slot is not an inode: it starts with kSlotContinued, an invalid mode).
 * Numbers are therefore not dense: inode_count counts inodes, inodes.size / 32 the slots.
 *
 * Heap references in inodes are in heap words of 4 bytes (every heap object is 4-byte
 * aligned), so the heap may hold up to 16 GiB. */
inline constexpr uint32_t kSlotSize = 32;
inline constexpr uint32_t kHeapAlign = 4;
inline constexpr uint16_t kSlotContinued = 0xffff;

inline constexpr uint16_t kInodeExtended = 1u << 0;  /* an ExtendedInode of two slots */
inline constexpr uint16_t kInodeHasXattrs = 1u << 1; /* extended only: xattr_ref is an XattrSet */
inline constexpr uint16_t kInodeHasTail = 1u << 2;   /* regular: the tail is in a fragment */
inline constexpr uint16_t kInodeSparse = 1u << 3;    /* regular: the block list has holes and
                                                        starts with their count */
inline constexpr uint16_t kInodeFlagsKnown =
    kInodeExtended | kInodeHasXattrs | kInodeHasTail | kInodeSparse;

/* Compact mtime: seconds since the epoch in the high 34 bits (1970..2514), nanoseconds in the
 * low 30. */
inline constexpr uint32_t kCompactNsecBits = 30;
inline constexpr uint64_t kCompactMaxSec = (uint64_t{1} << 34) - 1;

/* Type-specific fields, in both forms:
 *   data  regular: heap word of its block list (none if the file has no listed block);
 *         directory: heap word of its entry block; symlink: heap word of its target.
 *   aux0  regular with kInodeHasTail: fragment block id; directory: entry count;
 *         character and block device: major.
 *   aux1  regular with kInodeHasTail: byte offset of the tail in the fragment;
 *         directory: parent inode (the root's is itself); device: minor.
 * Unused fields are zero. */

struct CompactInode {
  le16 mode;  /*  0: type (kType*) | permissions (kPermMask) */
  le16 flags; /*  2: kInode*, without kInodeExtended and kInodeHasXattrs */
  le16 nlink; /*  4: links; directories count "." and each subdirectory's ".." */
  le16 id;    /*  6: index into the id table: (uid, gid) */
  le32 size;  /*  8: regular: bytes; directory: bytes of its entry block; symlink: length */
  le32 data;  /* 12: heap word, see above */
  le64 mtime; /* 16: seconds << 30 | nanoseconds; atime and ctime report it too */
  le32 aux0;  /* 24 */
  le32 aux1;  /* 28 */
};
static_assert(sizeof(CompactInode) == kSlotSize);

struct ExtendedInode {
  le16 mode;            /*  0: type | permissions */
  le16 flags;           /*  2: kInode*, with kInodeExtended */
  le32 nlink;           /*  4 */
  le32 uid;             /*  8 */
  le32 gid;             /* 12 */
  le64 size;            /* 16: as in CompactInode, 64-bit */
  le64 mtime_sec;       /* 24: signed seconds since the epoch */
  le16 continued;       /* 32: kSlotContinued: marks the second slot */
  le16 reserved;        /* 34: zero */
  le32 mtime_nsec;      /* 36: < 1e9 */
  le32 data;            /* 40: heap word, see above */
  le32 xattr_ref;       /* 44: heap word of an XattrSet when kInodeHasXattrs, else 0 */
  le32 aux0;            /* 48 */
  le32 aux1;            /* 52 */
  uint8_t reserved2[8]; /* 56: zero */
};
static_assert(sizeof(ExtendedInode) == 2 * kSlotSize);
static_assert(offsetof(ExtendedInode, continued) == kSlotSize);

/* The id table: (uid, gid) pairs that compact inodes point at. */
struct IdPair {
  le32 uid;
  le32 gid;
};
static_assert(sizeof(IdPair) == 8);

/* A regular file of `size` bytes with block size B has size / B full blocks. The remaining
 * size % B bytes (the tail) are either bytes [aux1, aux1 + size % B) of fragment block aux0
 * (kInodeHasTail) or one more, short, block in the block list. The block list is an array of
 * le32 block ids in the heap, one per listed block, kHoleBlock for a hole (all zeros). When
 * kInodeSparse is set, a le32 count of those holes comes first (for st_blocks). */

/* ---- Block table: one 24-byte entry per stored block ------------------------------------ */

/* Stored blocks lie in the data extent in block id order, back to back: block 0 starts at
 * data.offset, block i + 1 where block i ends, and the last ends at the end of data. A full
 * check verifies this, so no byte of the data extent is outside a checksummed block. */

struct BlockEntry {
  le64 offset;      /*  0: image offset of the stored bytes, inside data */
  le32 stored_size; /*  8: bytes stored; == raw_size means stored raw, < raw_size a zstd frame */
  le32 raw_size;    /* 12: bytes after decompression, 1 .. block size; with
                              kIncompatX86Filter, bit 31 may be kBlockX86Filter */
  le64 checksum;    /* 16: XXH3-64 of the stored bytes, seed kSeedBlock + block id */
};
static_assert(sizeof(BlockEntry) == 24);

/* Format 1.1, with kIncompatX86Filter: a compressed block whose raw_size has this bit was
 * passed through the x86 branch filter before compression (docs/FORMAT.md, "Filters"); the
 * reader undoes it after decompression. The low bits are the raw size. A stored-raw block
 * never has the bit, so raw blocks can still be mapped in place. */
inline constexpr uint32_t kBlockX86Filter = 1u << 31;

/* ---- Directories: an entry block in the heap --------------------------------------------- */

/* entry_count DirEntry records sorted by name (bytewise, as memcmp; a prefix sorts first), then
 * the names. Lookup is a binary search over the records; readdir position p >= 2 is record
 * p - 2 (0 and 1 are "." and ".."). */
struct DirEntry {
  le32 ino;         /* 0: inode number */
  le32 name_offset; /* 4: bytes from the start of the entry block */
  le16 name_length; /* 8: 1 .. kMaxNameLength, no '/' and no NUL */
  uint8_t type;     /* 10: mode >> 12 of the inode (the DT_* value) */
  uint8_t reserved; /* 11: zero */
};
static_assert(sizeof(DirEntry) == 12);

/* ---- Extended attributes: an XattrSet in the heap ---------------------------------------- */

/* Full names with their namespace ("user.mime_type", "security.selinux"), sorted by name. */
struct XattrSet {
  le32 count; /* 0: entries */
  le32 size;  /* 4: bytes of the set, this header included */
};
struct XattrEntry {
  le16 name_length;  /* 0: 1 .. 255 */
  le16 reserved;     /* 2: zero */
  le32 value_length; /* 4: bytes, may be 0 */
  /* followed by the name, then the value */
};
static_assert(sizeof(XattrSet) == 8 && sizeof(XattrEntry) == 8);

/* ---- Image layout ----------------------------------------------------------------------- */
/* [Superblock][data: stored blocks][meta: inodes | blocks | ids | heap | dictionary][checksums]
 * meta is covered by one checksum per unit of 1 << unit_log bytes (the last may be short);
 * checksum i is XXH3-64 of unit i with seed kSeedMetaUnit + i. Every byte of the image belongs
 * to exactly one checksummed part, so any single flipped byte is detected. */

}  // namespace bakefs::format
#endif /* __cplusplus */

#endif /* BAKEFS_FORMAT_H */
