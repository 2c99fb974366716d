// Generated trees and images for the benchmarks: a temporary directory, deterministic data,
// and the two images (small and large) that the driver benchmarks mount.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_BENCH_TREE_H
#define BAKEFS_BENCH_TREE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace bakefs::bench {

using TempDir = test::TempDir;  // tests/support/temp_dir.h

// Bytes that do not compress (splitmix64).
std::string random_bytes(size_t size, uint64_t seed);
// Text that compresses about as well as C source: lines of words from a skewed vocabulary.
std::string text_bytes(size_t size, uint64_t seed);

struct TreeConfig {
  uint32_t big_entries = 100000;  // entries of /big, the large directory
  uint32_t small_entries = 100;   // entries of /small, the baseline directory
  uint32_t depth = 32;            // directories on the path to /deep/.../leaf
  uint32_t siblings = 16;         // files next to each directory on that path
  size_t data_bytes = 32u << 20;  // size of /data/compressed.txt and of /data/raw.bin
  uint32_t block_log = 17;        // image block size
  int level = 19;                 // zstd level of the images
};

// What the benchmarks need to know about the images they mount.
struct BenchImages {
  std::string small_image;               // a 100-entry directory and one small file
  std::string large_image;               // everything in TreeConfig
  std::vector<std::string> big_names;    // names in /big
  std::vector<std::string> small_names;  // names in /small
  std::string deep_path;                 // "deep/d00/.../dNN/leaf"
  uint32_t deep_components = 0;          // components in deep_path
  std::string compressed_text;           // the bytes of /data/compressed.txt
  std::string raw_bytes;                 // the bytes of /data/raw.bin
  double build_seconds = 0;              // wall time of building both images
};

// Writes the trees under `dir` and builds both images there with the mkimage library. /big is
// added to the scanned tree in memory (empty files), since creating 100,000 files costs
// several seconds of system time on an ordinary file system and says nothing about the driver.
BenchImages build_images(const TempDir& dir, const TreeConfig& config);

}  // namespace bakefs::bench

#endif  // BAKEFS_BENCH_TREE_H
