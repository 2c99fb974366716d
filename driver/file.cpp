// Regular file data: block placement, reads through the cache, zero-copy map; and readlink.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"
#include "x86_filter.h"

using namespace bakefs;

Result<Placement> bakefs_fs::place(const InodeInfo& n, uint64_t offset) {
  uint64_t index = offset >> block_log;
  uint32_t in_block = static_cast<uint32_t>(offset & (block_size - 1));
  uint64_t full = n.size >> block_log;
  uint32_t tail = static_cast<uint32_t>(n.size & (block_size - 1));
  bool tail_in_fragment = (n.flags & fmt::kInodeHasTail) != 0;
  if (tail_in_fragment && tail == 0) return Error::kCorrupt;
  uint64_t listed = full + (tail != 0 && !tail_in_fragment ? 1 : 0);
  if (index < listed) {
    if (!heap.contains(n.block_list(), listed * 4)) return Error::kCorrupt;
    auto id = BAKEFS_TRY(meta_load<fmt::le32>(heap, n.block_list() + index * 4));
    uint32_t raw_size = index < full ? block_size : tail;
    return Placement{id.load(), in_block, raw_size - in_block, raw_size};
  }
  // The tail, inside a fragment block shared with other files' tails.
  if (n.aux1 > block_size || tail > block_size - n.aux1) return Error::kCorrupt;
  return Placement{n.aux0, n.aux1 + in_block, tail - in_block, 0};
}

Result<const uint8_t*> bakefs_fs::symlink_target(const InodeInfo& n) {
  const uint8_t* target = BAKEFS_TRY(meta_bytes(heap, n.data, n.size));
  for (uint64_t i = 0; i < n.size; ++i) {
    if (target[i] == '\0') return Error::kCorrupt;  // a C string could not hold it
  }
  return target;
}

Result<BlockInfo> bakefs_fs::placed_block(const Placement& where) {
  BlockInfo block = BAKEFS_TRY(load_block(where.block_id));
  // A listed block has an exact size; a fragment must hold the whole tail.
  if (where.raw_size != 0 ? block.raw_size != where.raw_size
                          : where.in_block + where.available > block.raw_size) {
    return Error::kCorrupt;
  }
  return block;
}

Status bakefs_fs::decompress(const BlockInfo& block, uint8_t* dst) {
  BAKEFS_CHECK(decompressors.decompress(platform, dst, block.raw_size, image + block.offset,
                                        block.stored_size));
  if (block.x86) x86_filter::decode(dst, block.raw_size);
  return {};
}

Status bakefs_fs::read_block(uint32_t id, const Placement& where, uint8_t* dst, uint32_t length) {
  if (id == fmt::kHoleBlock) {
    if (where.raw_size == 0) return Error::kCorrupt;  // a tail is never a hole fragment
    zero_bytes(dst, length);
    return {};
  }
  BlockInfo block = BAKEFS_TRY(placed_block(where));
  if (block.raw()) {
    BAKEFS_CHECK(verify_block(id, block, false));
    copy_bytes(dst, image + block.offset + where.in_block, length);
    return {};
  }
  return cache.copy(platform, id, block.raw_size, where.in_block, dst, length,
                    [&](uint8_t* buffer) -> Status {
                      BAKEFS_CHECK(verify_block(id, block, false));
                      return decompress(block, buffer);
                    });
}

namespace {

Result<InodeInfo> load_regular(bakefs_fs& fs, bakefs_ino ino) {
  InodeInfo n = BAKEFS_TRY(fs.load_inode(ino));
  if (n.is_dir()) return Error::kIsDirectory;
  if (n.type() != fmt::kTypeRegular) return Error::kInvalid;
  return n;
}

Status read(bakefs_fs& fs, bakefs_ino ino, uint64_t offset, uint8_t* buf, size_t length,
            size_t* done) {
  *done = 0;
  InodeInfo n = BAKEFS_TRY(load_regular(fs, ino));
  if (offset >= n.size) return {};
  uint64_t remaining = min_of<uint64_t>(length, n.size - offset);
  while (remaining > 0) {
    Placement where = BAKEFS_TRY(fs.place(n, offset));
    uint32_t chunk = static_cast<uint32_t>(min_of<uint64_t>(where.available, remaining));
    BAKEFS_CHECK(fs.read_block(where.block_id, where, buf, chunk));
    buf += chunk;
    offset += chunk;
    remaining -= chunk;
    *done += chunk;
  }
  return {};
}

Status map(bakefs_fs& fs, bakefs_ino ino, uint64_t offset, const void** data, size_t* length) {
  *data = nullptr;
  *length = 0;
  InodeInfo n = BAKEFS_TRY(load_regular(fs, ino));
  if (offset >= n.size) return {};
  Placement where = BAKEFS_TRY(fs.place(n, offset));
  if (where.block_id == fmt::kHoleBlock) {
    return where.raw_size == 0 ? Error::kCorrupt : Error::kNotSupported;  // as read_block
  }
  BlockInfo block = BAKEFS_TRY(fs.placed_block(where));
  if (!block.raw()) return Error::kNotSupported;
  BAKEFS_CHECK(fs.verify_block(where.block_id, block, false));
  *data = fs.image + block.offset + where.in_block;
  *length = where.available;
  return {};
}

Status extents(bakefs_fs& fs, bakefs_ino ino, bakefs_extent_fn emit, void* ctx) {
  InodeInfo n = BAKEFS_TRY(load_regular(fs, ino));
  for (uint64_t offset = 0; offset < n.size;) {
    Placement where = BAKEFS_TRY(fs.place(n, offset));
    bakefs_extent e{offset, where.available, where.block_id, where.in_block, 0, 0, 0};
    if (where.block_id != fmt::kHoleBlock) {
      BlockInfo block = BAKEFS_TRY(fs.placed_block(where));
      e.raw_size = block.raw_size;
      e.stored_size = block.stored_size;
      if (where.raw_size == 0) e.flags |= BAKEFS_EXTENT_FRAGMENT;
    } else if (where.raw_size == 0) {
      return Error::kCorrupt;
    }
    if (emit(ctx, &e) != 0) return {};
    offset += where.available;
  }
  return {};
}

Status readlink(bakefs_fs& fs, bakefs_ino ino, char* buf, size_t size, size_t* length) {
  InodeInfo n = BAKEFS_TRY(fs.load_inode(ino));
  if (n.type() != fmt::kTypeSymlink) return Error::kNotSymlink;
  *length = n.size;  // 1 .. kMaxSymlinkLength (load_inode)
  if (size < n.size) return Error::kRange;
  const uint8_t* target = BAKEFS_TRY(fs.symlink_target(n));
  copy_bytes(buf, target, n.size);
  return {};
}

}  // namespace

extern "C" int bakefs_read(bakefs_fs* fs, bakefs_ino ino, uint64_t offset, void* buf, size_t length,
                           size_t* done) {
  if (fs == nullptr || done == nullptr || (buf == nullptr && length != 0)) return BAKEFS_EINVAL;
  return to_status(read(*fs, ino, offset, static_cast<uint8_t*>(buf), length, done));
}

extern "C" int bakefs_map(bakefs_fs* fs, bakefs_ino ino, uint64_t offset, const void** data,
                          size_t* length) {
  if (fs == nullptr || data == nullptr || length == nullptr) return BAKEFS_EINVAL;
  return to_status(map(*fs, ino, offset, data, length));
}

extern "C" int bakefs_extents(bakefs_fs* fs, bakefs_ino ino, bakefs_extent_fn emit, void* ctx) {
  if (fs == nullptr || emit == nullptr) return BAKEFS_EINVAL;
  return to_status(extents(*fs, ino, emit, ctx));
}

extern "C" int bakefs_readlink(bakefs_fs* fs, bakefs_ino ino, char* buf, size_t size,
                               size_t* length) {
  if (fs == nullptr || length == nullptr || (buf == nullptr && size != 0)) return BAKEFS_EINVAL;
  return to_status(readlink(*fs, ino, buf, size, length));
}
