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
  Context& c = contexts_[next_.fetch_add(1, std::memory_order_relaxed) % count_];
  LockGuard guard(platform, c.lock);
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

Status BlockCache::init(const Platform& platform, size_t budget, uint32_t block_size) {
  block_size_ = block_size;
  size_t slots = budget / block_size;
  if (slots == 0) slots = 1;
  ways_ = slots < kWays ? static_cast<uint32_t>(slots) : kWays;
  size_t sets = slots / ways_;
  if (sets > UINT32_MAX / 2) return Error::kInvalid;
  set_count_ = static_cast<uint32_t>(sets);
  sets_ = platform.alloc_array<Set>(set_count_);
  if (sets_ == nullptr) return Error::kNoMemory;
  for (uint32_t i = 0; i < set_count_; ++i) {
    Set& set = sets_[i];
    set.lock = platform.lock_create();
    set.buffers =
        static_cast<uint8_t*>(platform.alloc(static_cast<size_t>(ways_) * block_size, 64));
    if (set.lock == nullptr || set.buffers == nullptr) return Error::kNoMemory;
  }
  return {};
}

void BlockCache::fini(const Platform& platform) {
  if (sets_ == nullptr) return;
  for (uint32_t i = 0; i < set_count_; ++i) {
    platform.lock_destroy(sets_[i].lock);
    platform.free(sets_[i].buffers, static_cast<size_t>(ways_) * block_size_);
  }
  platform.free_array(sets_, set_count_);
  sets_ = nullptr;
}

uint32_t BlockCache::victim(Set& set, uint32_t ways) {
  for (;;) {
    uint32_t way = set.hand;
    set.hand = static_cast<uint8_t>((way + 1) % ways);
    if (set.tags[way] == 0 || set.referenced[way] == 0) return way;
    set.referenced[way] = 0;
  }
}

}  // namespace bakefs
