// The order in which regular files' data is written, which decides which tails share a
// fragment block: alike tails in one block compress together. The format does not care.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_PLACEMENT_H
#define BAKEFS_HOST_WRITER_PLACEMENT_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "writer/numbering.h"
#include "writer/options.h"

namespace bakefs::build {

// A cheap content fingerprint: a one-permutation MinHash of the 8-byte shingles of up to
// kFingerprintBytes bytes. Alike bytes share many of its values.
inline constexpr size_t kFingerprintBins = 32;
inline constexpr size_t kFingerprintBytes = 4096;
using Fingerprint = std::array<uint64_t, kFingerprintBins>;
inline constexpr uint64_t kEmptyBin = UINT64_MAX;

Fingerprint fingerprint(const uint8_t* bytes, size_t size);
// How many bins two fingerprints share (empty bins do not count): 0..kFingerprintBins.
unsigned similarity(const Fingerprint& a, const Fingerprint& b);

// Indexes into num.inodes of the regular files, each once, in the order their data is written.
// Files of `first` come first, in that order. Then, by options.placement:
//   kNames:      inode order, files that share a name written together where the first comes;
//   kExtension:  by extension, then name, then inode order;
//   kSimilarity: the files with a tail (options.block_log, options.fragments) chained within
//                each kind of file (classify.h) from each to the most alike of the rest by
//                fingerprint of the tail's first bytes; files without a tail before them.
// Deterministic: only the tree's names and bytes decide, not the scan or the thread count.
std::vector<size_t> data_order(const Numbering& num, const std::vector<const Inode*>& first,
                               const Options& options);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_PLACEMENT_H
