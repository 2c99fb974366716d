// Metadata access: bounds checks, lazy checksum verification, inodes, block entries, getattr.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

using namespace bakefs;

Status bakefs_fs::verify_unit(uint32_t unit, bool force) {
  if (!force && (!verify || verified_units.contains(unit))) return {};
  uint64_t start = static_cast<uint64_t>(unit) << unit_log;
  uint64_t length = min_of<uint64_t>(uint64_t{1} << unit_log, meta.size - start);
  fmt::le64 stored;
  copy_bytes(&stored, image + checksums.offset + uint64_t{unit} * 8, sizeof(stored));
  if (checksum64(image + meta.offset + start, length, fmt::kSeedMetaUnit + unit) != stored.load()) {
    report(0, Message() << "bakefs: checksum mismatch in metadata unit " << unit << " (image bytes "
                        << meta.offset + start << ".." << meta.offset + start + length << ")");
    return Error::kChecksum;
  }
  verified_units.insert(unit);
  return {};
}

Result<const uint8_t*> bakefs_fs::meta_bytes(const Range& range, uint64_t offset, uint64_t length) {
  if (!range.contains(offset, length)) return Error::kCorrupt;
  uint64_t start = range.offset + offset - meta.offset;  // ranges lie inside meta (mount)
  if (length != 0) {
    uint32_t first = static_cast<uint32_t>(start >> unit_log);
    uint32_t last = static_cast<uint32_t>((start + length - 1) >> unit_log);
    for (uint32_t unit = first; unit <= last; ++unit) BAKEFS_CHECK(verify_unit(unit, false));
  }
  return image + range.offset + offset;
}

Status bakefs_fs::verify_block(uint32_t id, const BlockInfo& block, bool force) {
  if (!force && (!verify || verified_blocks.contains(id))) return {};
  if (checksum64(image + block.offset, block.stored_size, fmt::kSeedBlock + id) != block.checksum) {
    report(0, Message() << "bakefs: checksum mismatch in data block " << id << " (image bytes "
                        << block.offset << ".." << block.offset + block.stored_size << ")");
    return Error::kChecksum;
  }
  if (block.raw()) verified_blocks.insert(id);  // compressed ones are checked on every fill
  return {};
}

Result<BlockInfo> bakefs_fs::load_block(uint32_t id) {
  if (id >= block_count) return Error::kCorrupt;
  auto e = BAKEFS_TRY(meta_load<fmt::BlockEntry>(blocks, uint64_t{id} * sizeof(fmt::BlockEntry)));
  BlockInfo b{e.offset.load(), e.stored_size.load(), e.raw_size.load(), e.checksum.load()};
  if (b.raw_size == 0 || b.raw_size > block_size || b.stored_size == 0 ||
      b.stored_size > b.raw_size || b.offset < data.offset ||
      !data.contains(b.offset - data.offset, b.stored_size)) {
    return Error::kCorrupt;
  }
  return b;
}

Result<InodeInfo> bakefs_fs::load_inode(bakefs_ino ino) {
  if (ino == 0 || ino > inode_count) return Error::kInvalid;
  auto r = BAKEFS_TRY(meta_load<fmt::Inode>(inodes, uint64_t{ino - 1} * sizeof(fmt::Inode)));
  InodeInfo n{};
  n.ino = ino;
  n.mode = r.mode.load();
  n.flags = r.flags.load();
  n.nlink = r.nlink.load();
  n.uid = r.uid.load();
  n.gid = r.gid.load();
  n.size = r.size.load();
  n.mtime_sec = static_cast<int64_t>(r.mtime_sec.load());
  n.mtime_nsec = r.mtime_nsec.load();
  n.holes = r.holes.load();
  n.xattr_ref = r.xattr_ref.load();
  n.data = r.data.load();
  n.aux0 = r.aux0.load();
  n.aux1 = r.aux1.load();
  if ((n.flags & ~fmt::kInodeFlagsKnown) != 0 || n.mtime_nsec >= 1000000000u) {
    return Error::kCorrupt;
  }
  switch (n.type()) {
    case fmt::kTypeRegular:
      break;
    case fmt::kTypeDir:
      // Entries, then names: the records alone must fit in the block.
      if (n.aux0 > n.size / sizeof(fmt::DirEntry) || n.aux1 == 0 || n.aux1 > inode_count) {
        return Error::kCorrupt;
      }
      if ((n.flags & fmt::kInodeHasTail) != 0) return Error::kCorrupt;
      break;
    case fmt::kTypeSymlink:
    case fmt::kTypeFifo:
    case fmt::kTypeChar:
    case fmt::kTypeBlock:
    case fmt::kTypeSocket:
      if ((n.flags & fmt::kInodeHasTail) != 0) return Error::kCorrupt;
      break;
    default:
      return Error::kCorrupt;
  }
  return n;
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
  out->block_size = fs->block_size;
  if (n.type() == fmt::kTypeChar || n.type() == fmt::kTypeBlock) {
    out->rdev_major = n.aux0;
    out->rdev_minor = n.aux1;
  }
  if (n.type() == fmt::kTypeRegular) {
    // Space the file's bytes take, holes excluded (what du reports), in 512-byte units.
    uint64_t hole_bytes = uint64_t{n.holes} << fs->block_log;
    uint64_t bytes = n.size > hole_bytes ? n.size - hole_bytes : 0;
    out->blocks = (bytes + 511) / 512;
  } else {
    out->blocks = (n.size + 511) / 512;
  }
  return BAKEFS_OK;
}
