// Block cache and zstd contexts; zstd's static-context API keeps allocation in our hands.
// SPDX-License-Identifier: BSD-2-Clause
#include "cache.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

namespace bakefs {

Status Decompressors::init(const Platform& platform, uint32_t count, const void* dictionary,
                           size_t dictionary_size) {
  if (dictionary_size != 0) {
    ddict_size_ = ZSTD_estimateDDictSize(dictionary_size, ZSTD_dlm_byRef);
    ddict_workspace_ = platform.alloc(ddict_size_, 64);
    if (ddict_workspace_ == nullptr) return Error::kNoMemory;
    ddict_ = const_cast<ZSTD_DDict*>(ZSTD_initStaticDDict(
        ddict_workspace_, ddict_size_, dictionary, dictionary_size, ZSTD_dlm_byRef, ZSTD_dct_auto));
    if (ddict_ == nullptr) return Error::kCorrupt;  // not a dictionary zstd can load
  }
  workspace_size_ = ZSTD_estimateDCtxSize();
  contexts_ = platform.alloc_array<Context>(count);
  if (contexts_ == nullptr) return Error::kNoMemory;
  count_ = count;
  for (uint32_t i = 0; i < count; ++i) {
    Context& c = contexts_[i];
    c.lock = platform.lock_create();
    c.workspace = platform.alloc(workspace_size_, 64);
    if (c.lock == nullptr || c.workspace == nullptr) return Error::kNoMemory;
    if (ZSTD_initStaticDCtx(c.workspace, workspace_size_) == nullptr) return Error::kNoMemory;
  }
  return {};
}

void Decompressors::fini(const Platform& platform) {
  platform.free(ddict_workspace_, ddict_size_);
  ddict_workspace_ = nullptr;
  ddict_ = nullptr;
  if (contexts_ == nullptr) return;
  for (uint32_t i = 0; i < count_; ++i) {
    platform.lock_destroy(contexts_[i].lock);
    platform.free(contexts_[i].workspace, workspace_size_);
  }
  platform.free_array(contexts_, count_);
  contexts_ = nullptr;
}

Status Decompressors::decompress(const Platform& platform, void* dst, size_t dst_size,
                                 const void* src, size_t src_size) {
  const uint32_t first = next_.fetch_add(1, std::memory_order_relaxed) % count_;
  // A free context if there is one; wait on the round-robin choice only when all are busy.
  if (platform.can_trylock()) {
    for (uint32_t i = 0; i < count_; ++i) {
      Context& c = contexts_[(first + i) % count_];
      if (!platform.trylock(c.lock)) continue;
      Status s = run(c, dst, dst_size, src, src_size);
      platform.unlock(c.lock);
      return s;
    }
  }
  Context& c = contexts_[first];
  LockGuard guard(platform, c.lock);
  return run(c, dst, dst_size, src, src_size);
}

uint64_t Decompressors::count(const Platform& platform) const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    LockGuard guard(platform, contexts_[i].lock);
    total += contexts_[i].frames;
  }
  return total;
}

// With c's lock held.
Status Decompressors::run(Context& c, void* dst, size_t dst_size, const void* src,
                          size_t src_size) {
  ++c.frames;
  // A fresh context for every frame (initStaticDCtx only sets fields; the workspace stays):
  // zstd 1.5.4 was seen to decode the same frame differently in a context that had decoded
  // others before (found by the fuzzer, with a dictionary), and a frame's bytes must not depend
  // on what was read before it.
  auto* dctx = ZSTD_initStaticDCtx(c.workspace, workspace_size_);
  if (dctx == nullptr) return Error::kNoMemory;
  // A frame made with the image's dictionary carries its id; the others are plain. (A frame
  // whose id does not match fails to decode: ECORRUPT.)
  const bool with_dictionary = ddict_ != nullptr && ZSTD_getDictID_fromFrame(src, src_size) != 0;
  size_t n = with_dictionary ? ZSTD_decompress_usingDDict(dctx, dst, dst_size, src, src_size,
                                                          static_cast<const ZSTD_DDict*>(ddict_))
                             : ZSTD_decompressDCtx(dctx, dst, dst_size, src, src_size);
  // A frame that passed its checksum yet does not decode to the promised size was written
  // wrong (or forged): the image is corrupt, not damaged in transit.
  if (ZSTD_isError(n) || n != dst_size) return Error::kCorrupt;
  return {};
}

namespace {

enum : uint32_t { kEmpty = 0, kFilling = 1, kReady = 2, kFailed = 3 };

}  // namespace

Status BlockCache::init(const Platform& platform, size_t budget, uint32_t block_size) {
  block_size_ = block_size;
  size_t slots = budget / block_size;
  if (slots == 0) slots = 1;
  ways_ = slots < kWays ? static_cast<uint32_t>(slots) : kWays;
  size_t sets = slots / ways_;
  if (sets > UINT32_MAX / 2 / kWays) return Error::kInvalid;
  set_count_ = static_cast<uint32_t>(sets);
  const size_t count = static_cast<size_t>(set_count_) * ways_;
  if (count > SIZE_MAX / block_size) return Error::kInvalid;
  sets_ = platform.alloc_array<Set>(set_count_);
  entries_ = platform.alloc_array<CacheEntry>(count);
  buffers_ = static_cast<uint8_t*>(platform.alloc(count * block_size, 64));
  if (sets_ == nullptr || entries_ == nullptr || buffers_ == nullptr) return Error::kNoMemory;
  for (uint32_t i = 0; i < set_count_; ++i) {
    sets_[i].lock = platform.lock_create();
    if (sets_[i].lock == nullptr) return Error::kNoMemory;
  }
  for (size_t i = 0; i < count; ++i) {
    CacheEntry& e = entries_[i];
    e.buffer = buffers_ + i * block_size;
    e.set = static_cast<uint32_t>(i / ways_);
    e.fill_lock = platform.lock_create();
    if (e.fill_lock == nullptr) return Error::kNoMemory;
  }
  return {};
}

void BlockCache::fini(const Platform& platform) {
  const size_t count = static_cast<size_t>(set_count_) * ways_;
  if (entries_ != nullptr) {
    for (size_t i = 0; i < count; ++i) platform.lock_destroy(entries_[i].fill_lock);
    platform.free_array(entries_, count);
    entries_ = nullptr;
  }
  if (sets_ != nullptr) {
    for (uint32_t i = 0; i < set_count_; ++i) platform.lock_destroy(sets_[i].lock);
    platform.free_array(sets_, set_count_);
    sets_ = nullptr;
  }
  platform.free(buffers_, count * block_size_);
  buffers_ = nullptr;
}

// A free way of the set by CLOCK (set lock held): unpinned, and empty or not referenced since
// the hand last passed. Two turns of the hand find one if any is unpinned; nullptr if none is.
uint32_t BlockCache::victim(Set& set, CacheEntry* ways) {
  for (uint32_t step = 0; step < 2 * ways_; ++step) {
    uint32_t way = set.hand;
    set.hand = static_cast<uint8_t>((way + 1) % ways_);
    CacheEntry& e = ways[way];
    if (e.pins != 0) continue;
    if (e.tag == 0 || e.referenced == 0) return way;
    e.referenced = 0;
  }
  return ways_;
}

Result<BlockCache::Lookup> BlockCache::lookup(const Platform& platform, uint32_t id, bool claim) {
  const uint32_t index = set_index(id);
  Set& set = sets_[index];
  CacheEntry* ways = entries_ + static_cast<size_t>(index) * ways_;
  platform.lock(set.lock);
  for (uint32_t way = 0; way < ways_; ++way) {
    CacheEntry& e = ways[way];
    if (e.tag != id + 1) continue;
    const uint32_t state = e.state.load(std::memory_order_acquire);
    if (state == kFailed) continue;  // its holders are leaving; the block may be claimed anew
    ++e.pins;
    e.referenced = 1;
    platform.unlock(set.lock);
    if (state == kFilling) {
      // Held by the filler until the block is ready or failed; the pin keeps the entry ours.
      platform.lock(e.fill_lock);
      platform.unlock(e.fill_lock);
      if (e.state.load(std::memory_order_acquire) != kReady) {
        Error error = static_cast<Error>(e.error);
        release(platform, &e);
        return error;
      }
    }
    return Lookup{Found::kReady, &e};
  }
  if (!claim) {
    platform.unlock(set.lock);
    return Lookup{Found::kMiss, nullptr};
  }
  uint32_t way = victim(set, ways);
  if (way == ways_) {
    ++set.uncached;
    platform.unlock(set.lock);
    return Lookup{Found::kBusy, nullptr};
  }
  CacheEntry& e = ways[way];
  e.tag = id + 1;
  e.pins = 1;
  e.referenced = 1;
  e.state.store(kFilling, std::memory_order_relaxed);
  // Nobody holds the fill lock of an unpinned entry (waiters pin first): this never waits.
  platform.lock(e.fill_lock);
  platform.unlock(set.lock);
  return Lookup{Found::kFill, &e};
}

Status BlockCache::complete(const Platform& platform, CacheEntry* entry, Status filled) {
  if (filled.ok()) {
    entry->state.store(kReady, std::memory_order_release);
    platform.unlock(entry->fill_lock);
    return {};
  }
  entry->error = static_cast<int>(filled.error());
  entry->state.store(kFailed, std::memory_order_release);
  platform.unlock(entry->fill_lock);
  release(platform, entry);
  return filled;
}

Result<CacheEntry*> BlockCache::transient(const Platform& platform) {
  void* memory = platform.alloc(sizeof(CacheEntry) + block_size_, 64);
  if (memory == nullptr) return Error::kNoMemory;
  auto* e = new (memory) CacheEntry();
  e->buffer = static_cast<uint8_t*>(memory) + sizeof(CacheEntry);
  e->set = kTransient;
  e->pins = 1;
  return e;
}

void BlockCache::release(const Platform& platform, CacheEntry* entry) {
  if (entry->set == kTransient) {
    platform.free(entry, sizeof(CacheEntry) + block_size_);
    return;
  }
  LockGuard guard(platform, sets_[entry->set].lock);
  if (--entry->pins == 0 && entry->state.load(std::memory_order_relaxed) == kFailed) {
    entry->tag = 0;
    entry->state.store(kEmpty, std::memory_order_relaxed);
  }
}

uint64_t BlockCache::pinned(const Platform& platform) const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < set_count_; ++i) {
    LockGuard guard(platform, sets_[i].lock);
    for (uint32_t way = 0; way < ways_; ++way) {
      total += entries_[static_cast<size_t>(i) * ways_ + way].pins != 0;
    }
  }
  return total;
}

uint64_t BlockCache::uncached(const Platform& platform) const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < set_count_; ++i) {
    LockGuard guard(platform, sets_[i].lock);
    total += sets_[i].uncached;
  }
  return total;
}

}  // namespace bakefs
