// The mounted file system: geometry from the superblock, bounds-checked and checksummed access
// to metadata, and the operations behind the C ABI.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_FS_H
#define BAKEFS_DRIVER_FS_H

#include <bakefs/bakefs.h>
#include <bakefs/format.h>

#include "cache.h"
#include "checksum.h"
#include "platform.h"
#include "result.h"

namespace bakefs {

namespace fmt = ::bakefs::format;
static_assert(BAKEFS_HOLE == fmt::kHoleBlock);
static_assert(BAKEFS_SUPERBLOCK_SIZE == fmt::kSuperblockSize);
static_assert(BAKEFS_ROOT_INO == fmt::kRootIno);
static_assert(BAKEFS_BOOT_CONFIG == fmt::kBootConfig && BAKEFS_BOOT_TMPFS == fmt::kBootTmpfs &&
              BAKEFS_BOOT_ROOT == fmt::kBootRoot &&
              BAKEFS_BOOT_ROOT_NOUNION == fmt::kBootRootNoUnion);

// An extent of the image, validated at mount to lie inside it.
struct Range {
  uint64_t offset = 0;
  uint64_t size = 0;
  bool contains(uint64_t off, uint64_t len) const { return fits(off, len, size); }
};

// What mount read from the superblock and checked (mount.cpp, also bakefs_probe): fixed for
// the life of the mount. Every extent lies inside the image, every table inside meta.
struct Geometry {
  const uint8_t* image = nullptr;  // the image in memory; nullptr when a bakefs_source reads it
  uint64_t image_size = 0;
  uint32_t block_log = 0;
  uint32_t block_size = 0;
  uint32_t unit_log = 0;  // metadata checksum unit: 1 << unit_log bytes
  uint32_t inode_count = 0;
  uint32_t slot_count = 0;  // inode numbers are 1..slot_count
  uint32_t id_count = 0;
  uint32_t block_count = 0;
  uint32_t unit_count = 0;
  uint32_t feature_incompat = 0;
  Range data, meta, inodes, blocks, ids, heap, checksums, dictionary, boot;
  bakefs_fsstat figures = {};  // what bakefs_statfs reports of the superblock
};

// A decoded inode, compact or extended; heap references in bytes. load_inode() checks the
// fields that every use relies on.
struct InodeInfo {
  bakefs_ino ino;
  uint16_t mode;
  uint16_t flags;
  uint32_t nlink, uid, gid;
  uint64_t size;
  int64_t mtime_sec;
  uint32_t mtime_nsec;
  uint64_t xattr_ref;  // heap byte offset of the xattr set
  uint64_t data;       // heap byte offset: entry block, symlink target, block list (its count
                       // of holes first when sparse)
  uint32_t aux[2];     // the inode's two type-specific words (format.h's aux0, aux1): read
                       // them through the accessors named after what each type keeps there

  uint16_t type() const { return mode & fmt::kTypeMask; }
  bool is_dir() const { return type() == fmt::kTypeDir; }
  bool sparse() const { return (flags & fmt::kInodeSparse) != 0; }
  // A regular file's tail is in a fragment block shared with other files' tails.
  bool tail_in_fragment() const { return (flags & fmt::kInodeHasTail) != 0; }
  // Heap byte offset of a regular file's first block id.
  uint64_t block_list() const { return data + (sparse() ? 4 : 0); }
  // A directory: its entries, and its parent (the root: itself).
  uint32_t entry_count() const { return aux[0]; }
  bakefs_ino parent() const { return aux[1]; }
  // A regular file whose tail_in_fragment(): the fragment block, and where the tail starts in it.
  uint32_t tail_block() const { return aux[0]; }
  uint32_t tail_offset() const { return aux[1]; }
  // A character or block device: its number.
  uint32_t rdev_major() const { return aux[0]; }
  uint32_t rdev_minor() const { return aux[1]; }
};

// A regular file's block layout (format.h): size >> block_log full blocks, then the tail of
// size % block size bytes, either one more (short) block of the list or bytes of a fragment
// block. The one reading of it, for placement, holes and the full check.
struct FileGeometry {
  uint64_t full;          // whole blocks, each a listed block id
  uint32_t tail;          // bytes after them (0: none)
  bool tail_in_fragment;  // the tail is in a fragment block, not in the list
  uint64_t listed;        // block ids in the list: full, plus the tail's short block

  static FileGeometry of(uint64_t size, uint32_t flags, uint32_t block_log) {
    FileGeometry g;
    g.full = size >> block_log;
    g.tail = static_cast<uint32_t>(size & ((uint32_t{1} << block_log) - 1));
    g.tail_in_fragment = (flags & fmt::kInodeHasTail) != 0;
    g.listed = g.full + (g.tail != 0 && !g.tail_in_fragment ? 1 : 0);
    return g;
  }
  // A tail in a fragment that has no bytes: no image has it.
  bool sound() const { return !tail_in_fragment || tail != 0; }
  // The listed block that holds the tail (short), if there is one.
  bool tail_listed() const { return tail != 0 && !tail_in_fragment; }
};

struct BlockInfo {
  uint64_t offset;
  uint32_t stored_size;
  uint32_t raw_size;
  uint64_t checksum;
  bool x86 = false;  // decompressed bytes are x86-filtered (format::kBlockX86Filter)
  bool raw() const { return stored_size == raw_size; }
};

// Where a file offset lives: a listed block (or a hole), or the fragment that holds the tail,
// and the offset inside it.
struct Placement {
  uint32_t block_id;   // fmt::kHoleBlock for a hole
  uint32_t in_block;   // offset of the file byte inside the block's raw bytes
  uint32_t available;  // file bytes from there to the end of what this block holds for the file
  bool fragment;       // the tail's fragment block, shared with other files' tails: its size is
                       // its own (at least in_block + available); never a hole
  uint32_t raw_size;   // a listed block: its exact raw size (the full block, or the short tail)
};

// One piece of a file's bytes, as the read path meets them: a hole, bytes stored raw in an
// image in memory (already checked), or a part of a block read through the cache (a
// compressed block; any block of an image a bakefs_source reads).
struct Piece {
  enum Kind { kHole, kRaw, kCached } kind;
  uint32_t length;      // bytes of the file in this piece (within the range asked for)
  const uint8_t* data;  // kRaw: the bytes in the image
  uint32_t block_id;    // kCached: the block, its entry and where the piece starts in it
  BlockInfo block;
  uint32_t in_block;
};

// Walks the boot records and checks every rule (for the full check).
Status check_boot_records(bakefs_fs& fs);

}  // namespace bakefs

// A mounted image: what mount checked (geo, fixed from then on), the metadata and block access
// every operation goes through, and the caches behind them (private: filled lazily, each
// with its own lock or atomics, so any thread may call any operation).
struct bakefs_fs {
  // mount.cpp: the superblock checked into geometry, then init() with the options.
  bakefs_fs(const bakefs_platform& callbacks, const bakefs::Geometry& geometry)
      : platform(callbacks), geo(geometry) {}
  bakefs_fs(const bakefs_fs&) = delete;
  bakefs_fs& operator=(const bakefs_fs&) = delete;
  // The caches and decompressors the options ask for (the dictionary loaded, checked first).
  // source: the image is read through it (geo.image is null), else it is in memory.
  bakefs::Status init(const bakefs_mount_options& options, const bakefs_source* source);
  // Gives back what init() took (also after a failed init()).
  void fini();
  // bakefs_statfs: the superblock's figures and the caches' counters.
  bakefs_fsstat statfs() const;

  const bakefs::Platform platform;
  const bakefs::Geometry geo;

  // Metadata bytes [offset, offset + length) of `range` (offset relative to the range), after
  // their units passed the checksum. The pointer is into the image, or into the metadata read
  // from a source (valid until unmount); copy before decoding.
  bakefs::Result<const uint8_t*> meta_bytes(const bakefs::Range& range, uint64_t offset,
                                            uint64_t length);
  template <typename T>
  bakefs::Result<T> meta_load(const bakefs::Range& range, uint64_t offset) {
    const uint8_t* p = BAKEFS_TRY(meta_bytes(range, offset, sizeof(T)));
    T value;
    bakefs::copy_bytes(&value, p, sizeof(T));
    return value;
  }

  // force: check again even if checked before, or mounted with BAKEFS_MOUNT_NO_VERIFY. From a
  // source, the unit is read first if it has not been.
  bakefs::Status verify_unit(uint32_t unit, bool force);
  // The xattr set at heap offset ref: sound entries, sorted names, exactly filling it.
  bakefs::Status check_xattr_set(uint64_t ref);
  // A stored block's checksum (from a source: read into memory of its own first).
  bakefs::Status verify_block(uint32_t id, const bakefs::BlockInfo& block, bool force);
  // with_ids false leaves uid and gid 0 for a compact inode (its id is still range-checked):
  // the read path does not need them.
  bakefs::Result<bakefs::InodeInfo> load_inode(bakefs_ino ino, bool with_ids = true);
  // An inode whose number the image gave (an entry, a parent): a bad number is corruption.
  bakefs::Result<bakefs::InodeInfo> load_linked_inode(bakefs_ino ino);
  // The inode that an entry of directory dir names (ino, with the entry's type), checked
  // against the entry: a real inode other than dir, of that type, and, when it is a directory,
  // one that names dir as its parent. The one rule of lookup, readdir and the full check:
  // with it no chain of steps through entries can loop or climb, and the root (its own
  // parent) is nobody's entry.
  bakefs::Result<bakefs::InodeInfo> entry_inode(bakefs_ino dir, bakefs_ino ino, uint32_t type);
  // A directory whose entries were all seen to ascend (lookup's binary search trusts its
  // order from then on), and the record of one.
  bool known_ordered(bakefs_ino dir) const { return ordered_dirs_.contains(dir); }
  void mark_ordered(bakefs_ino dir) { ordered_dirs_.insert(dir); }
  // A sparse regular file's count of hole blocks, and the bytes they cover; 0 for others.
  bakefs::Result<uint32_t> hole_count(const bakefs::InodeInfo& inode);
  bakefs::Result<uint64_t> hole_bytes(const bakefs::InodeInfo& inode);
  bakefs::Result<bakefs::BlockInfo> load_block(uint32_t id);
  bakefs::Result<bakefs::Placement> place(const bakefs::InodeInfo& inode, uint64_t offset);
  bakefs::Result<bakefs::Placement> place(const bakefs_file& file, uint64_t offset);
  // A regular file's handle (bakefs_open).
  bakefs::Result<bakefs_file> open_file(bakefs_ino ino);
  // The piece of file at offset, at most max bytes (> 0; offset is before EOF).
  bakefs::Result<bakefs::Piece> piece(const bakefs_file& file, uint64_t offset, uint64_t max);
  // A compressed block's cache entry, pinned (filled, checksum first, on a miss), and its
  // release. One bakefs_file_read call holds at most max_pins() at once.
  bakefs::Result<bakefs::CacheEntry*> pin_block(uint32_t id, const bakefs::BlockInfo& block);
  void release_block(bakefs::CacheEntry* entry) { cache_.release(platform, entry); }
  uint32_t max_pins() const { return max_pins_; }
  // Bytes [in_block, in_block + length) of a compressed piece's block into dst, through the
  // cache (whole blocks kept only when mounted with BAKEFS_MOUNT_NO_PAGE_CACHE).
  bakefs::Status copy_block_bytes(const bakefs::Piece& piece, uint8_t* dst);
  // A cached block's raw bytes (block.raw_size) into buffer: its checksum (force: even if
  // checked before, or not verifying), then its bytes decompressed, or copied when stored raw.
  // What a cache miss does, and the full check.
  bakefs::Status fill_block(uint32_t id, const bakefs::BlockInfo& block, uint8_t* buffer,
                            bool force = false);
  // A symlink's target (n.size bytes), checked to hold no NUL.
  bakefs::Result<const uint8_t*> symlink_target(const bakefs::InodeInfo& n);
  // The block a placement points into, checked to hold what the placement expects.
  bakefs::Result<bakefs::BlockInfo> placed_block(const bakefs::Placement& where);
  void report(int level, const bakefs::Message& message) const {
    platform.log(level, message.c_str());
  }
  // Read by a bakefs_source, not in memory.
  bool from_source() const { return geo.image == nullptr; }

 private:
  // Stored bytes (stored_size) of block id, which lie at `stored`, against its checksum.
  bakefs::Status check_stored(uint32_t id, const bakefs::BlockInfo& block, const uint8_t* stored);
  bakefs::Status decompress(const bakefs::BlockInfo& block, const uint8_t* stored, uint8_t* dst);
  // From a source: image bytes [offset, offset + length) into dst; kIo when it fails.
  bakefs::Status read_source(uint64_t offset, void* dst, size_t length, const char* what,
                             uint32_t index);
  // From a source: metadata unit `unit` read into meta_ once (not checked here).
  bakefs::Status load_unit(uint32_t unit);
  bool unit_loaded(uint32_t unit) const {
    return (loaded_[unit / 32].load(std::memory_order_acquire) >> (unit % 32) & 1) != 0;
  }
  bakefs::Status init_source(const bakefs_source& source);

  // The metadata extent's bytes and its checksum table: in the image, or (from a source) in
  // meta_copy_, filled by unit as loaded_ records.
  const uint8_t* meta_ = nullptr;
  const uint8_t* sums_ = nullptr;
  bakefs_source source_ = {};
  uint8_t* meta_copy_ = nullptr;             // geo.meta.size + geo.checksums.size bytes
  std::atomic<uint32_t>* loaded_ = nullptr;  // a bit per unit, (unit_count + 31) / 32 words
  void* load_lock_ = nullptr;                // held while a unit is read into meta_copy_

  bool verify_ = true;
  bool keep_whole_ = false;  // BAKEFS_MOUNT_NO_PAGE_CACHE
  uint32_t max_pins_ = 1;    // per bakefs_file_read call
  bakefs::VerifiedSet verified_units_;
  bakefs::VerifiedSet verified_blocks_;
  bakefs::VerifiedSet ordered_dirs_;
  bakefs::Decompressors decompressors_;
  bakefs::BlockCache cache_;
};

#endif  // BAKEFS_DRIVER_FS_H
