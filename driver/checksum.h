// XXH3-64 checksums of image units, and the record of units already verified.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_CHECKSUM_H
#define BAKEFS_DRIVER_CHECKSUM_H

#include <atomic>

#include "platform.h"
#include "result.h"

namespace bakefs {

uint64_t checksum64(const void* data, size_t length, uint64_t seed);

// Remembers which units (metadata units, raw blocks) passed their checksum, in a fixed number
// of slots chosen at mount: unit i lives in slot i % slots. A unit pushed out by another is
// checked again on its next use, which costs time, never correctness. Lock-free.
class VerifiedSet {
 public:
  Status init(const Platform& platform, uint32_t slots);
  void fini(const Platform& platform);

  bool contains(uint32_t index) const {
    // UINT32_MAX + 1 would read as an empty slot; such an index is never recorded.
    return index != UINT32_MAX &&
           slots_[index & mask_].load(std::memory_order_acquire) == index + 1;
  }
  void insert(uint32_t index) { slots_[index & mask_].store(index + 1, std::memory_order_release); }

 private:
  std::atomic<uint32_t>* slots_ = nullptr;
  uint32_t mask_ = 0;
};

static_assert(std::atomic<uint32_t>::is_always_lock_free, "the core needs lock-free atomics");

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_CHECKSUM_H
