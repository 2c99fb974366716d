// Regular file data: handles, block placement, the pieces of a range (spans: raw bytes in the
// image, pinned cache entries, holes), reads and zero-copy map over them; filling the cache
// from the image in memory or from a source; and readlink.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"
#include "x86_filter.h"

using namespace bakefs;

namespace {

bakefs_file file_of(const InodeInfo& n) {
  return bakefs_file{n.ino, n.flags, n.size, n.block_list(), n.tail_block(), n.tail_offset()};
}

}  // namespace

Result<Placement> bakefs_fs::place(const InodeInfo& n, uint64_t offset) {
  return place(file_of(n), offset);
}

Result<Placement> bakefs_fs::place(const bakefs_file& f, uint64_t offset) {
  uint64_t index = offset >> geo.block_log;
  uint32_t in_block = static_cast<uint32_t>(offset & (geo.block_size - 1));
  const FileGeometry g = FileGeometry::of(f.size, f.flags_, geo.block_log);
  if (!g.sound()) return Error::kCorrupt;
  if (index < g.listed) {
    if (!geo.heap.contains(f.list_, g.listed * 4)) return Error::kCorrupt;
    auto id = BAKEFS_TRY(meta_load<fmt::le32>(geo.heap, f.list_ + index * 4));
    uint32_t raw_size = index < g.full ? geo.block_size : g.tail;
    return Placement{id.load(), in_block, raw_size - in_block, false, raw_size};
  }
  // The tail, inside a fragment block shared with other files' tails.
  if (f.tail_offset_ > geo.block_size || g.tail > geo.block_size - f.tail_offset_)
    return Error::kCorrupt;
  return Placement{f.tail_block_, f.tail_offset_ + in_block, g.tail - in_block, true, 0};
}

Result<bakefs_file> bakefs_fs::open_file(bakefs_ino ino) {
  InodeInfo n = BAKEFS_TRY(load_inode(ino, false));
  if (n.is_dir()) return Error::kIsDirectory;
  if (n.type() != fmt::kTypeRegular) return Error::kInvalid;
  return file_of(n);
}

Result<Piece> bakefs_fs::piece(const bakefs_file& f, uint64_t offset, uint64_t max) {
  Placement where = BAKEFS_TRY(place(f, offset));
  Piece p{};
  p.length = static_cast<uint32_t>(min_of<uint64_t>(where.available, max));
  if (where.block_id == fmt::kHoleBlock) {
    if (where.fragment) return Error::kCorrupt;  // a tail is never a hole fragment
    p.kind = Piece::kHole;
    return p;
  }
  BlockInfo block = BAKEFS_TRY(placed_block(where));
  if (block.raw() && !from_source()) {
    BAKEFS_CHECK(verify_block(where.block_id, block, false));
    p.kind = Piece::kRaw;
    p.data = geo.image + block.offset + where.in_block;
    return p;
  }
  p.kind = Piece::kCached;
  p.block_id = where.block_id;
  p.block = block;
  p.in_block = where.in_block;
  return p;
}

Status bakefs_fs::fill_block(uint32_t id, const BlockInfo& block, uint8_t* buffer, bool force) {
  const bool check = force || verify_;
  if (!from_source()) {
    BAKEFS_CHECK(verify_block(id, block, force));
    if (block.raw()) {
      copy_bytes(buffer, geo.image + block.offset, block.raw_size);
      return {};
    }
    return decompress(block, geo.image + block.offset, buffer);
  }
  // From a source every fill is a read, checked as it lands: a raw block straight into the
  // buffer, a compressed one into memory of its own, then decompressed.
  if (block.raw()) {
    Status s = read_source(block.offset, buffer, block.stored_size, "data block", id);
    if (s.ok() && check) s = check_stored(id, block, buffer);
    // (the buffer may be the caller's: it never keeps bytes that failed, or half a read)
    if (!s.ok()) zero_bytes(buffer, block.raw_size);
    return s;
  }
  uint8_t* stored = static_cast<uint8_t*>(platform.alloc(block.stored_size, 64));
  if (stored == nullptr) return Error::kNoMemory;
  Status s = read_source(block.offset, stored, block.stored_size, "data block", id);
  if (s.ok() && check) s = check_stored(id, block, stored);
  if (s.ok()) s = decompress(block, stored, buffer);
  platform.free(stored, block.stored_size);
  return s;
}

Result<CacheEntry*> bakefs_fs::pin_block(uint32_t id, const BlockInfo& block) {
  return cache_.pin(platform, id, [&](uint8_t* buffer) { return fill_block(id, block, buffer); });
}

Status bakefs_fs::copy_block_bytes(const Piece& p, uint8_t* dst) {
  auto fill = [&](uint8_t* buffer) { return fill_block(p.block_id, p.block, buffer); };
  return cache_.copy(platform, p.block_id, p.block.raw_size, p.in_block, dst, p.length, keep_whole_,
                     fill);
}

Result<const uint8_t*> bakefs_fs::symlink_target(const InodeInfo& n) {
  const uint8_t* target = BAKEFS_TRY(meta_bytes(geo.heap, n.data, n.size));
  for (uint64_t i = 0; i < n.size; ++i) {
    if (target[i] == '\0') return Error::kCorrupt;  // a C string could not hold it
  }
  return target;
}

Result<BlockInfo> bakefs_fs::placed_block(const Placement& where) {
  BlockInfo block = BAKEFS_TRY(load_block(where.block_id));
  // A listed block has an exact size; a fragment must hold the whole tail.
  if (!where.fragment ? block.raw_size != where.raw_size
                      : where.in_block + where.available > block.raw_size) {
    return Error::kCorrupt;
  }
  return block;
}

Status bakefs_fs::decompress(const BlockInfo& block, const uint8_t* stored, uint8_t* dst) {
  BAKEFS_CHECK(decompressors_.decompress(platform, dst, block.raw_size, stored, block.stored_size));
  if (block.x86) x86_filter::decode(dst, block.raw_size);
  return {};
}

namespace {

Result<InodeInfo> load_regular(bakefs_fs& fs, bakefs_ino ino) {
  InodeInfo n = BAKEFS_TRY(fs.load_inode(ino));
  if (n.is_dir()) return Error::kIsDirectory;
  if (n.type() != fmt::kTypeRegular) return Error::kInvalid;
  return n;
}

// Whether two spans are one: raw bytes back to back in the image, or holes.
bool joins(const bakefs_span& prev, const bakefs_span& next) {
  if (prev.pin_ != nullptr || next.pin_ != nullptr) return false;
  if (prev.data == nullptr || next.data == nullptr) return prev.data == next.data;
  return static_cast<const uint8_t*>(prev.data) + prev.length == next.data;
}

void release(bakefs_fs& fs, bakefs_span* spans, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (spans[i].pin_ != nullptr) {
      fs.release_block(static_cast<CacheEntry*>(spans[i].pin_));
    }
    spans[i].pin_ = nullptr;
  }
}

// The file data primitive: pieces from offset on as spans, pinning compressed blocks.
Status file_spans(bakefs_fs& fs, const bakefs_file& f, uint64_t offset, uint64_t length,
                  bakefs_span* spans, size_t max_spans, size_t* count) {
  *count = 0;
  if (offset >= f.size) return {};
  uint64_t remaining = min_of<uint64_t>(length, f.size - offset);
  uint32_t pins = 0;
  size_t n = 0;
  while (remaining > 0) {
    auto p = fs.piece(f, offset, remaining);
    if (!p.ok()) {
      release(fs, spans, n);
      return p.error();
    }
    const Piece& piece = p.value();
    bakefs_span span{nullptr, piece.length, nullptr};
    if (piece.kind == Piece::kRaw) span.data = piece.data;
    if (piece.kind == Piece::kCached) {
      if (pins == fs.max_pins() || n == max_spans) break;
      auto entry = fs.pin_block(piece.block_id, piece.block);
      if (!entry.ok()) {
        release(fs, spans, n);
        return entry.error();
      }
      span.data = entry.value()->buffer + piece.in_block;
      span.pin_ = entry.value();
      ++pins;
    }
    if (n > 0 && joins(spans[n - 1], span)) {
      spans[n - 1].length += span.length;
    } else if (n == max_spans) {
      break;  // (never holding this span's pin: compressed pieces stop before pinning)
    } else {
      spans[n++] = span;
    }
    offset += piece.length;
    remaining -= piece.length;
  }
  *count = n;
  return {};
}

Status read(bakefs_fs& fs, bakefs_ino ino, uint64_t offset, uint8_t* buf, size_t length,
            size_t* done) {
  *done = 0;
  bakefs_file f = BAKEFS_TRY(fs.open_file(ino));
  if (offset >= f.size) return {};
  uint64_t remaining = min_of<uint64_t>(length, f.size - offset);
  while (remaining > 0) {
    Piece p = BAKEFS_TRY(fs.piece(f, offset, remaining));
    if (p.kind == Piece::kHole) {
      zero_bytes(buf, p.length);
    } else if (p.kind == Piece::kRaw) {
      copy_bytes(buf, p.data, p.length);
    } else {
      BAKEFS_CHECK(fs.copy_block_bytes(p, buf));
    }
    buf += p.length;
    offset += p.length;
    remaining -= p.length;
    *done += p.length;
  }
  return {};
}

Status map(bakefs_fs& fs, bakefs_ino ino, uint64_t offset, const void** data, size_t* length) {
  *data = nullptr;
  *length = 0;
  bakefs_file f = BAKEFS_TRY(fs.open_file(ino));
  if (offset >= f.size) return {};
  // To the end of the block: one piece.
  Piece p = BAKEFS_TRY(fs.piece(f, offset, fs.geo.block_size - (offset & (fs.geo.block_size - 1))));
  if (p.kind != Piece::kRaw) return Error::kNotSupported;
  *data = p.data;
  *length = p.length;
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
      if (where.fragment) e.flags |= BAKEFS_EXTENT_FRAGMENT;
    } else if (where.fragment) {
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

extern "C" int bakefs_open(bakefs_fs* fs, bakefs_ino ino, bakefs_file* out) {
  if (fs == nullptr || out == nullptr) return BAKEFS_EINVAL;
  auto r = fs->open_file(ino);
  if (!r.ok()) return static_cast<int>(r.error());
  *out = r.value();
  return BAKEFS_OK;
}

extern "C" int bakefs_file_read(bakefs_fs* fs, const bakefs_file* file, uint64_t offset,
                                size_t length, bakefs_span* spans, size_t max_spans,
                                size_t* count) {
  if (count != nullptr) *count = 0;
  if (fs == nullptr || file == nullptr || spans == nullptr || max_spans == 0 || count == nullptr) {
    return BAKEFS_EINVAL;
  }
  return to_status(file_spans(*fs, *file, offset, length, spans, max_spans, count));
}

extern "C" void bakefs_release(bakefs_fs* fs, bakefs_span* spans, size_t count) {
  if (fs != nullptr && spans != nullptr) release(*fs, spans, count);
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
