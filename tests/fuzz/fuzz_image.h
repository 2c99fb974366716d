// Image surgery for the fuzzer: recompute every checksum, or scramble every unverified byte.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_FUZZ_IMAGE_H
#define BAKEFS_TESTS_FUZZ_IMAGE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bakefs::fuzz {

// Hashing work allowed per input, so that an image of overlapping blocks stays fast.
inline constexpr uint64_t kMaxHashedBytes = 16u << 20;

// XXH3-64 with a seed: the image's checksum function, and the fuzzer's digest of results.
uint64_t hash_bytes(const void* data, size_t size, uint64_t seed);

struct FixedImage {
  std::vector<uint8_t> bytes;
  // Every checksum the driver can look at now matches; false when the work limit was hit.
  bool complete = true;
};

// A copy of `image` with the checksum of every block entry, every metadata unit and the
// superblock recomputed, as far as the superblock's extents lie inside the input. A mutated
// image then gets past the checksums and reaches the structural checks behind them.
FixedImage fix_checksums(const uint8_t* data, size_t size);

// A copy of `image` in which every byte that the driver must not use without a matching
// checksum is scrambled: metadata units whose checksum fails, data bytes outside every block
// whose entry and checksum hold, and bytes past the image size. The superblock and the
// checksum table stay. With verification on, each call must give the same result on both
// images. Empty when there is nothing to scramble, the superblock does not mount, or the work
// limit was hit.
std::vector<uint8_t> scramble_unverified(const uint8_t* data, size_t size);

}  // namespace bakefs::fuzz

#endif  // BAKEFS_TESTS_FUZZ_IMAGE_H
