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

  // Decompress one zstd frame; it must yield exactly dst_size bytes. Takes a free context if
  // there is one (with the platform's try-lock), and waits for one only when all are busy.
  Status decompress(const Platform& platform, void* dst, size_t dst_size, const void* src,
                    size_t src_size);
  // Frames decompressed since init.
  uint64_t count(const Platform& platform) const;

 private:
  struct Context {
    void* lock;
    void* workspace;      // a ZSTD_DCtx, initialised afresh for every frame
    uint64_t frames = 0;  // under lock
  };
  Status run(Context& c, void* dst, size_t dst_size, const void* src, size_t src_size);

  Context* contexts_ = nullptr;
  uint32_t count_ = 0;
  size_t workspace_size_ = 0;
  void* ddict_ = nullptr;  // ZSTD_DDict in ddict_workspace_
  void* ddict_workspace_ = nullptr;
  size_t ddict_size_ = 0;
  std::atomic<uint32_t> next_{0};
};

// One decompressed block in the cache (or, when its set had no entry to spare, outside it).
struct CacheEntry {
  uint8_t* buffer;
  void* fill_lock;                     // held by the one filling it, from claim to completion
  std::atomic<uint32_t> state{0};      // kEmpty, kFilling, kReady or kFailed
  uint32_t tag = 0;                    // block id + 1, 0 when free (set lock)
  uint32_t pins = 0;                   // holders; never reused while pinned (set lock)
  uint32_t set = 0;                    // its set, or kTransient
  int error = 0;                       // a failed fill's error, for those who waited on it
  uint8_t referenced = 0;              // CLOCK's bit (set lock)
};

// A set-associative cache of whole decompressed blocks with a fixed memory budget. A block id
// maps to one set; each set has its own lock and a few ways, replaced by CLOCK among the
// entries nobody pins. A miss claims an entry under the set lock and fills it outside it
// (checksum and decompression run in parallel with other callers of the same set); a caller
// that wants a block being filled waits on the entry's fill lock, so that one block is never
// decompressed twice at once into the cache. When every way of a set is pinned, a miss fills
// a transient entry from the platform's allocator rather than wait: no caller ever waits for
// a pin to go, so pins cannot deadlock.
class BlockCache {
 public:
  static constexpr uint32_t kWays = 8;
  static constexpr uint32_t kTransient = UINT32_MAX;

  Status init(const Platform& platform, size_t budget, uint32_t block_size);
  void fini(const Platform& platform);
  uint32_t entries() const { return set_count_ * ways_; }

  // Block id's entry, pinned; fill(buffer) writes the whole block into buffer on a miss.
  template <typename Fill>
  Result<CacheEntry*> pin(const Platform& platform, uint32_t id, Fill&& fill);
  void release(const Platform& platform, CacheEntry* entry);

  // Copy bytes [offset, offset + length) of block id (raw_size bytes when whole) into dst. A
  // miss that wants the whole block fills dst straight and keeps nothing unless keep_whole:
  // whoever asks for whole blocks usually has a cache of its own above (a page cache).
  template <typename Fill>
  Status copy(const Platform& platform, uint32_t id, uint32_t raw_size, uint32_t offset, void* dst,
              uint32_t length, bool keep_whole, Fill&& fill);

  uint64_t pinned(const Platform& platform) const;
  uint64_t uncached(const Platform& platform) const;

 private:
  struct Set {
    void* lock;
    uint8_t hand;
    uint64_t uncached;  // misses that found every way pinned
  };
  enum class Found { kReady, kFill, kMiss, kBusy };
  struct Lookup {
    Found found;
    CacheEntry* entry;
  };

  uint32_t set_index(uint32_t id) const {
    return static_cast<uint32_t>((static_cast<uint64_t>(id * 0x9e3779b1u) * set_count_) >> 32);
  }
  // Finds block id, pinned (waiting for a fill under way); else, if claim, claims a free way
  // and returns it pinned with its fill lock held.
  Result<Lookup> lookup(const Platform& platform, uint32_t id, bool claim);
  // Ends a fill: the entry is ready, or failed with the fill's error (and is released).
  Status complete(const Platform& platform, CacheEntry* entry, Status filled);
  Result<CacheEntry*> transient(const Platform& platform);
  uint32_t victim(Set& set, CacheEntry* ways);

  Set* sets_ = nullptr;
  CacheEntry* entries_ = nullptr;  // set_count_ * ways_, set by set
  uint8_t* buffers_ = nullptr;     // an entry's block: entries() * block_size_ bytes
  uint32_t set_count_ = 0;
  uint32_t ways_ = 0;
  uint32_t block_size_ = 0;
};

template <typename Fill>
Result<CacheEntry*> BlockCache::pin(const Platform& platform, uint32_t id, Fill&& fill) {
  Lookup l = BAKEFS_TRY(lookup(platform, id, true));
  if (l.found == Found::kReady) return l.entry;
  if (l.found == Found::kBusy) {
    l.entry = BAKEFS_TRY(transient(platform));
    Status s = fill(l.entry->buffer);
    if (!s.ok()) {
      release(platform, l.entry);
      return s.error();
    }
    return l.entry;
  }
  BAKEFS_CHECK(complete(platform, l.entry, fill(l.entry->buffer)));
  return l.entry;
}

template <typename Fill>
Status BlockCache::copy(const Platform& platform, uint32_t id, uint32_t raw_size, uint32_t offset,
                        void* dst, uint32_t length, bool keep_whole, Fill&& fill) {
  const bool whole = offset == 0 && length == raw_size;
  if (whole && !keep_whole) {
    Lookup l = BAKEFS_TRY(lookup(platform, id, false));
    if (l.found == Found::kMiss) return fill(static_cast<uint8_t*>(dst));
    copy_bytes(dst, l.entry->buffer, length);
    release(platform, l.entry);
    return {};
  }
  CacheEntry* entry = BAKEFS_TRY(pin(platform, id, fill));
  copy_bytes(dst, entry->buffer + offset, length);
  release(platform, entry);
  return {};
}

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_CACHE_H
