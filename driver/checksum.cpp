// XXH3 (inlined from xxhash.h, so no library symbol) and the verified-unit record.
// SPDX-License-Identifier: BSD-2-Clause
#include "checksum.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs {

uint64_t checksum64(const void* data, size_t length, uint64_t seed) {
  return XXH3_64bits_withSeed(data, length, seed);
}

Status VerifiedSet::init(const Platform& platform, uint32_t slots) {
  // Index + 1 is stored; contains() refuses UINT32_MAX, whose + 1 is the empty mark (and
  // mount never lets a table get that large).
  slots_ = platform.alloc_array<std::atomic<uint32_t>>(slots);
  if (slots_ == nullptr) return Error::kNoMemory;
  mask_ = slots - 1;
  return {};
}

void VerifiedSet::fini(const Platform& platform) {
  platform.free_array(slots_, mask_ + 1u);
  slots_ = nullptr;
}

}  // namespace bakefs
