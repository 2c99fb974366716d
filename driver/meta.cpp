// Metadata access: bounds checks, lazy checksum verification, inodes, block entries, getattr.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

using namespace bakefs;

Status bakefs_fs::read_source(uint64_t offset, void* dst, size_t length, const char* what,
                              uint32_t index) {
  // Every caller asks for bytes of an extent that mount checked to lie inside the image, and
  // the image inside the source.
  const int error = source_.read(source_.ctx, offset, dst, length);
  if (error == 0) return {};
  report(0, Message() << "bakefs: cannot read " << what << " " << index << " (image bytes "
                      << offset << ".." << offset + length << "): error "
                      << static_cast<uint32_t>(error));
  return Error::kIo;
}

Status bakefs_fs::load_unit(uint32_t unit) {
  if (unit_loaded(unit)) return {};
  LockGuard guard(platform, load_lock_);
  if (unit_loaded(unit)) return {};  // another caller read it meanwhile
  const uint64_t start = static_cast<uint64_t>(unit) << geo.unit_log;
  const uint64_t length = min_of<uint64_t>(uint64_t{1} << geo.unit_log, geo.meta.size - start);
  BAKEFS_CHECK(read_source(geo.meta.offset + start, meta_copy_ + start, static_cast<size_t>(length),
                           "metadata unit", unit));
  // Read once: bytes that fail their checksum stay failing, as damage in memory does, and bytes
  // that passed never change under a caller that holds a pointer to them.
  loaded_[unit / 32].fetch_or(1u << (unit % 32), std::memory_order_release);
  return {};
}

Status bakefs_fs::verify_unit(uint32_t unit, bool force) {
  if (from_source()) BAKEFS_CHECK(load_unit(unit));
  if (!force && (!verify_ || verified_units_.contains(unit))) return {};
  uint64_t start = static_cast<uint64_t>(unit) << geo.unit_log;
  uint64_t length = min_of<uint64_t>(uint64_t{1} << geo.unit_log, geo.meta.size - start);
  fmt::le64 stored;
  copy_bytes(&stored, sums_ + uint64_t{unit} * 8, sizeof(stored));
  if (checksum64(meta_ + start, length, fmt::kSeedMetaUnit + unit) != stored.load()) {
    report(0, Message() << "bakefs: checksum mismatch in metadata unit " << unit << " (image bytes "
                        << geo.meta.offset + start << ".." << geo.meta.offset + start + length
                        << ")");
    return Error::kChecksum;
  }
  verified_units_.insert(unit);
  return {};
}

Result<const uint8_t*> bakefs_fs::meta_bytes(const Range& range, uint64_t offset, uint64_t length) {
  if (!range.contains(offset, length)) return Error::kCorrupt;
  uint64_t start = range.offset + offset - geo.meta.offset;  // ranges lie inside meta (mount)
  if (length != 0) {
    uint32_t first = static_cast<uint32_t>(start >> geo.unit_log);
    uint32_t last = static_cast<uint32_t>((start + length - 1) >> geo.unit_log);
    for (uint32_t unit = first; unit <= last; ++unit) BAKEFS_CHECK(verify_unit(unit, false));
  }
  return meta_ + start;
}

Status bakefs_fs::check_stored(uint32_t id, const BlockInfo& block, const uint8_t* stored) {
  if (checksum64(stored, block.stored_size, fmt::kSeedBlock + id) != block.checksum) {
    report(0, Message() << "bakefs: checksum mismatch in data block " << id << " (image bytes "
                        << block.offset << ".." << block.offset + block.stored_size << ")");
    return Error::kChecksum;
  }
  return {};
}

Status bakefs_fs::verify_block(uint32_t id, const BlockInfo& block, bool force) {
  if (!force && (!verify_ || verified_blocks_.contains(id))) return {};
  if (from_source()) {
    // Only the full check asks this of a source's block (the read path checks what it fills).
    uint8_t* stored = static_cast<uint8_t*>(platform.alloc(block.stored_size, 64));
    if (stored == nullptr) return Error::kNoMemory;
    Status s = read_source(block.offset, stored, block.stored_size, "data block", id);
    if (s.ok()) s = check_stored(id, block, stored);
    platform.free(stored, block.stored_size);
    return s;
  }
  BAKEFS_CHECK(check_stored(id, block, geo.image + block.offset));
  if (block.raw()) verified_blocks_.insert(id);  // compressed ones are checked on every fill
  return {};
}

Result<BlockInfo> bakefs_fs::load_block(uint32_t id) {
  if (id >= geo.block_count) return Error::kCorrupt;
  auto e =
      BAKEFS_TRY(meta_load<fmt::BlockEntry>(geo.blocks, uint64_t{id} * sizeof(fmt::BlockEntry)));
  const uint32_t raw_field = e.raw_size.load();
  BlockInfo b{e.offset.load(), e.stored_size.load(), raw_field & ~fmt::kBlockX86Filter,
              e.checksum.load(), (raw_field & fmt::kBlockX86Filter) != 0};
  // Only a 1.1 image with the feature may filter, and only compressed blocks (raw ones are
  // mapped in place).
  if (b.x86 && ((geo.feature_incompat & fmt::kIncompatX86Filter) == 0 || b.raw())) {
    return Error::kCorrupt;
  }
  if (b.raw_size == 0 || b.raw_size > geo.block_size || b.stored_size == 0 ||
      b.stored_size > b.raw_size || b.offset < geo.data.offset ||
      !geo.data.contains(b.offset - geo.data.offset, b.stored_size)) {
    return Error::kCorrupt;
  }
  return b;
}

namespace {

constexpr uint64_t heap_bytes(uint32_t words) {
  return uint64_t{words} * fmt::kHeapAlign;
}

// Rules on the type-specific fields that every user of an inode relies on.
Status check_inode(const bakefs_fs& fs, const InodeInfo& n) {
  if (n.mtime_nsec >= 1000000000u) return Error::kCorrupt;
  // A kernel stores sizes as off_t: a larger one would reach it negative (NetBSD's
  // uvm_vnp_setsize asserts on that). No image mkimage writes comes near the bound.
  if (n.size > fmt::kMaxFileSize) return Error::kCorrupt;
  bool regular = n.type() == fmt::kTypeRegular;
  if (!regular && (n.flags & (fmt::kInodeHasTail | fmt::kInodeSparse)) != 0) return Error::kCorrupt;
  switch (n.type()) {
    case fmt::kTypeRegular:
      return {};
    case fmt::kTypeDir:
      // Entries, then names: the records alone must fit in the block. The root is its own
      // parent and no other directory is: with lookup's parent check, no path can loop.
      if (n.entry_count() > n.size / sizeof(fmt::DirEntry) || n.parent() == 0 ||
          n.parent() > fs.geo.slot_count || (n.ino == fmt::kRootIno) != (n.parent() == n.ino)) {
        return Error::kCorrupt;
      }
      return {};
    case fmt::kTypeSymlink:
      if (n.size == 0 || n.size > fmt::kMaxSymlinkLength) return Error::kCorrupt;
      return {};
    case fmt::kTypeFifo:
    case fmt::kTypeChar:
    case fmt::kTypeBlock:
    case fmt::kTypeSocket:
      return {};
    default:
      return Error::kCorrupt;
  }
}

}  // namespace

Result<InodeInfo> bakefs_fs::load_inode(bakefs_ino ino, bool with_ids) {
  if (ino == 0 || ino > geo.slot_count) return Error::kInvalid;
  const uint64_t offset = uint64_t{ino - 1} * fmt::kSlotSize;
  auto c = BAKEFS_TRY(meta_load<fmt::CompactInode>(geo.inodes, offset));
  InodeInfo n{};
  n.ino = ino;
  n.mode = c.mode.load();
  n.flags = c.flags.load();
  if (n.mode == fmt::kSlotContinued) return Error::kInvalid;  // second half of an inode
  if ((n.flags & ~fmt::kInodeFlagsKnown) != 0) return Error::kCorrupt;
  if ((n.flags & fmt::kInodeExtended) == 0) {
    if ((n.flags & fmt::kInodeHasXattrs) != 0) return Error::kCorrupt;
    uint32_t id = c.id.load();
    if (id >= geo.id_count) return Error::kCorrupt;
    if (with_ids) {
      auto pair = BAKEFS_TRY(meta_load<fmt::IdPair>(geo.ids, uint64_t{id} * sizeof(fmt::IdPair)));
      n.uid = pair.uid.load();
      n.gid = pair.gid.load();
    }
    uint64_t mtime = c.mtime.load();
    n.nlink = c.nlink.load();
    n.size = c.size.load();
    n.mtime_sec = static_cast<int64_t>(mtime >> fmt::kCompactNsecBits);
    n.mtime_nsec = static_cast<uint32_t>(mtime & ((1u << fmt::kCompactNsecBits) - 1));
    n.data = heap_bytes(c.data.load());
    n.aux[0] = c.aux0.load();
    n.aux[1] = c.aux1.load();
  } else {
    if (ino >= geo.slot_count) return Error::kCorrupt;  // needs a second slot
    auto e = BAKEFS_TRY(meta_load<fmt::ExtendedInode>(geo.inodes, offset));
    if (e.continued.load() != fmt::kSlotContinued) return Error::kCorrupt;
    n.nlink = e.nlink.load();
    n.uid = e.uid.load();
    n.gid = e.gid.load();
    n.size = e.size.load();
    n.mtime_sec = static_cast<int64_t>(e.mtime_sec.load());
    n.mtime_nsec = e.mtime_nsec.load();
    n.data = heap_bytes(e.data.load());
    n.xattr_ref = heap_bytes(e.xattr_ref.load());
    n.aux[0] = e.aux0.load();
    n.aux[1] = e.aux1.load();
  }
  BAKEFS_CHECK(check_inode(*this, n));
  return n;
}

Result<InodeInfo> bakefs_fs::load_linked_inode(bakefs_ino ino) {
  auto r = load_inode(ino);
  if (!r.ok() && r.error() == Error::kInvalid) return Error::kCorrupt;
  return r;
}

Result<uint64_t> bakefs_fs::hole_bytes(const InodeInfo& n) {
  uint32_t holes = BAKEFS_TRY(hole_count(n));
  if (holes == 0) return uint64_t{0};
  uint64_t bytes = uint64_t{holes} << geo.block_log;
  // A short tail block that is a hole counts its own length, not a whole block.
  const FileGeometry g = FileGeometry::of(n.size, n.flags, geo.block_log);
  if (g.tail_listed()) {
    Placement last = BAKEFS_TRY(place(n, n.size - 1));
    if (last.block_id == fmt::kHoleBlock) bytes -= geo.block_size - g.tail;
  }
  return bytes;
}

Result<uint32_t> bakefs_fs::hole_count(const InodeInfo& n) {
  if (!n.sparse()) return uint32_t{0};
  auto count = BAKEFS_TRY(meta_load<fmt::le32>(geo.heap, n.data));
  return count.load();
}

extern "C" int bakefs_getattr(bakefs_fs* fs, bakefs_ino ino, bakefs_attr* out) {
  if (fs == nullptr || out == nullptr) return BAKEFS_EINVAL;
  auto r = fs->load_inode(ino);
  if (!r) return static_cast<int>(r.error());
  const InodeInfo& n = r.value();
  *out = {};
  out->ino = ino;
  out->mode = n.mode;
  out->nlink = n.nlink;
  out->uid = n.uid;
  out->gid = n.gid;
  out->size = n.size;
  out->mtime_sec = n.mtime_sec;
  out->mtime_nsec = n.mtime_nsec;
  out->block_size = fs->geo.block_size;
  if (n.type() == fmt::kTypeChar || n.type() == fmt::kTypeBlock) {
    out->rdev_major = n.rdev_major();
    out->rdev_minor = n.rdev_minor();
  }
  if (n.type() == fmt::kTypeRegular) {
    // Space the file's bytes take, holes excluded (what du reports), in 512-byte units.
    auto holes = fs->hole_bytes(n);
    if (!holes) return static_cast<int>(holes.error());
    uint64_t bytes = n.size > holes.value() ? n.size - holes.value() : 0;
    out->blocks = bytes / 512 + (bytes % 512 != 0);  // no overflow near 2^64
  } else {
    out->blocks = n.size / 512 + (n.size % 512 != 0);
  }
  return BAKEFS_OK;
}
