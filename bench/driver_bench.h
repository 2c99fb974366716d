// The driver-core benchmarks: what they share (mounted images, samples of names, inodes and
// offsets) and the function that registers them with Google Benchmark.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_BENCH_DRIVER_BENCH_H
#define BAKEFS_BENCH_DRIVER_BENCH_H

#include <bakefs/posix.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench_tree.h"
#include "ratio_reporter.h"

namespace bakefs::bench {

// Everything the benchmarks read, set up once before they run.
struct Fixture {
  BenchImages images;
  uint32_t block_size = 0;
  uint32_t inode_count = 0;
  posix::Image small_image, large_image;
  FileSystem large;             // default mount options: 8 MiB cache
  FileSystem streaming;         // the same, used for whole-block reads only (never cached)
  FileSystem tiny_cache;        // a cache of 8 blocks, to force misses
  FileSystem tiny_cache_trust;  // the same without lazy checksum checks
  bakefs_ino big_dir = 0, small_dir = 0, compressed = 0, raw = 0;
  // Samples of equal length, so that both sides of a ratio touch as many distinct names.
  std::vector<std::string> big_sample, small_sample;
  std::vector<bakefs_ino> inode_sample;
  std::vector<uint64_t> random_offsets;  // 4 KiB aligned, inside the data files
  std::vector<uint64_t> warm_offsets;    // the same inside the first 4 MiB (fits the cache)
  std::vector<uint64_t> miss_offsets;    // one per block, cycling past the tiny cache
  // compressed.txt's full compressed blocks as stored (zstd frames), and the image's
  // dictionary: the decompressor's own speed, outside the driver.
  std::vector<std::string> frames;
  std::string dictionary;
};

// Maps and mounts the images and checks that the driver reads back exactly the bytes the
// trees hold; throws std::runtime_error otherwise.
void set_up(Fixture& f);

// Registers the benchmarks over `f` and the ratios between them with `reporter`.
void register_benchmarks(Fixture& f, RatioReporter& reporter);

}  // namespace bakefs::bench

#endif  // BAKEFS_BENCH_DRIVER_BENCH_H
