// The decompressed block cache and the pool of zstd decompression contexts.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_CACHE_H
#define BAKEFS_DRIVER_CACHE_H

#include <atomic>

#include "platform.h"
#include "result.h"

namespace bakefs {

// zstd contexts whose memory the platform supplies; each is used by one caller at a time. With
// a dictionary (bytes that stay in the image: it is referenced, not copied), every frame is
// decompressed with it.
class Decompressors {
 public:
  Status init(const Platform& platform, uint32_t count, const void* dictionary,
              size_t dictionary_size);
  void fini(const Platform& platform);

  // Decompress one zstd frame; it must yield exactly dst_size bytes.
  Status decompress(const Platform& platform, void* dst, size_t dst_size, const void* src,
                    size_t src_size);

 private:
  struct Context {
    void* lock;
    void* workspace;  // a ZSTD_DCtx, initialised afresh for every frame
  };
  Context* contexts_ = nullptr;
  uint32_t count_ = 0;
  size_t workspace_size_ = 0;
  void* ddict_ = nullptr;  // ZSTD_DDict in ddict_workspace_
  void* ddict_workspace_ = nullptr;
  size_t ddict_size_ = 0;
  std::atomic<uint32_t> next_{0};
};

// A set-associative cache of whole decompressed blocks with a fixed memory budget. A block id
// maps to one set; each set has its own lock and a few ways, replaced by CLOCK. A miss fills
// the victim way under the set lock, so one block is never decompressed twice at once, and
// callers on other sets proceed in parallel.
class BlockCache {
 public:
  static constexpr uint32_t kWays = 8;

  Status init(const Platform& platform, size_t budget, uint32_t block_size);
  void fini(const Platform& platform);

  // Copy bytes [offset, offset + length) of block id (raw_size bytes when whole) into dst.
  // On a miss, fill(buffer) must write the whole block into buffer. A miss that wants the
  // whole block is filled straight into dst and not kept: whoever asks for whole blocks has
  // a cache of its own above (a page cache), and this saves a copy.
  template <typename Fill>
  Status copy(const Platform& platform, uint32_t id, uint32_t raw_size, uint32_t offset, void* dst,
              uint32_t length, Fill&& fill);

 private:
  struct Set {
    void* lock;
    uint8_t* buffers;      // ways * block_size bytes
    uint32_t tags[kWays];  // block id + 1, 0 when empty
    uint8_t referenced[kWays];
    uint8_t hand;
  };

  Set& set_for(uint32_t id) const {
    return sets_[static_cast<uint32_t>((static_cast<uint64_t>(id * 0x9e3779b1u) * set_count_) >>
                                       32)];
  }
  static uint32_t victim(Set& set, uint32_t ways);

  Set* sets_ = nullptr;
  uint32_t set_count_ = 0;
  uint32_t ways_ = 0;
  uint32_t block_size_ = 0;
};

template <typename Fill>
Status BlockCache::copy(const Platform& platform, uint32_t id, uint32_t raw_size, uint32_t offset,
                        void* dst, uint32_t length, Fill&& fill) {
  Set& set = set_for(id);
  LockGuard guard(platform, set.lock);
  for (uint32_t way = 0; way < ways_; ++way) {
    if (set.tags[way] != id + 1) continue;
    set.referenced[way] = 1;
    copy_bytes(dst, set.buffers + static_cast<size_t>(way) * block_size_ + offset, length);
    return {};
  }
  if (offset == 0 && length == raw_size) return fill(static_cast<uint8_t*>(dst));
  uint32_t way = victim(set, ways_);
  uint8_t* buffer = set.buffers + static_cast<size_t>(way) * block_size_;
  set.tags[way] = 0;
  BAKEFS_CHECK(fill(buffer));
  set.tags[way] = id + 1;
  set.referenced[way] = 1;
  copy_bytes(dst, buffer + offset, length);
  return {};
}

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_CACHE_H
