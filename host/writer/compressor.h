// Parallel zstd compression of blocks that come out in submission order.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_COMPRESSOR_H
#define BAKEFS_HOST_WRITER_COMPRESSOR_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#ifndef ZSTD_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_compressionParameters
#endif
#include <zstd.h>

namespace bakefs::build {

// A block after compression: the bytes to store (compressed, or the raw bytes when
// compression does not pay) and their checksum.
struct Compressed {
  uint32_t id;
  std::vector<uint8_t> bytes;
  uint32_t raw_size;
  uint64_t checksum;
  bool x86;  // compressed after the x86 filter (format::kBlockX86Filter)
};

// How a block is to be compressed.
struct BlockJob {
  uint32_t id;
  std::vector<uint8_t> raw;
  bool with_dictionary;  // with the image's dictionary, when there is one
  bool x86;              // machine code: try the x86 filter first
};

// How blocks are compressed: a zstd level, for blocks of 2^block_log bytes.
struct ZstdSettings {
  int level;
  uint32_t block_log;
  // Parameters tuned to the block size (block_parameters); false: zstd's for the level and
  // each input's size.
  bool tuned;
};

// zstd's parameters for a level, tuned to one block of 2^block_log bytes: up to 256 KiB
// zstd's own table for that size; above, the 256 KiB table's search (zstd's table for large
// inputs trades ratio for speed at every level: 9% larger blocks of machine code at 1 MiB,
// level 14) with a window of the whole block.
ZSTD_compressionParameters block_parameters(int level, uint32_t block_log);

// Compresses one block with a reusable zstd context, and a shared dictionary if there is one.
class BlockCompressor {
 public:
  BlockCompressor(const ZstdSettings& settings, const void* cdict);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;
  Compressed compress(BlockJob job);

 private:
  size_t try_compress(const std::vector<uint8_t>& raw, bool with_dictionary);

  void* cctx_;
  const void* cdict_;
  std::vector<uint8_t> scratch_;
  std::vector<uint8_t> filtered_;
};

// Blocks go in with submit() in id order; `sink` gets them back in the same order, always on
// the submitting thread. With one thread, compression runs inline.
class CompressorPool {
 public:
  using Sink = std::function<void(Compressed&&)>;
  // cdict: a ZSTD_CDict shared by every thread, or nullptr.
  CompressorPool(unsigned threads, const ZstdSettings& settings, const void* cdict, Sink sink);
  ~CompressorPool();
  CompressorPool(const CompressorPool&) = delete;
  CompressorPool& operator=(const CompressorPool&) = delete;

  void submit(BlockJob job);
  // Waits until every submitted block went to the sink.
  void finish();

 private:
  void work();
  // Hands finished blocks to the sink in order; waits while more than `limit` are pending.
  void drain(size_t limit);

  Sink sink_;
  std::vector<std::thread> threads_;
  std::unique_ptr<BlockCompressor> inline_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable done_ready_;
  std::deque<BlockJob> jobs_;
  std::map<uint32_t, Compressed> done_;
  uint32_t next_out_ = 0;
  uint32_t submitted_ = 0;
  size_t window_;
  bool stopping_ = false;
  std::exception_ptr error_;  // a worker's failure, rethrown on the submitting thread
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_COMPRESSOR_H
