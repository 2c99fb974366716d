// Parallel zstd compression of blocks that come out in submission order.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_MKIMAGE_COMPRESSOR_H
#define BAKEFS_MKIMAGE_COMPRESSOR_H

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace bakefs::build {

// A block after compression: the bytes to store (compressed, or the raw bytes when
// compression does not pay) and their checksum.
struct Compressed {
  uint32_t id;
  std::vector<uint8_t> bytes;
  uint32_t raw_size;
  uint64_t checksum;
};

// Compresses one block with a reusable zstd context, and a shared dictionary if there is one.
class BlockCompressor {
 public:
  BlockCompressor(int level, const void* cdict);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;
  // With the dictionary (when there is one), or without.
  Compressed compress(uint32_t id, std::vector<uint8_t> raw, bool with_dictionary);

 private:
  void* cctx_;
  const void* cdict_;
  std::vector<uint8_t> scratch_;
};

// Blocks go in with submit() in id order; `sink` gets them back in the same order, always on
// the submitting thread. With one thread, compression runs inline.
class CompressorPool {
 public:
  using Sink = std::function<void(Compressed&&)>;
  // cdict: a ZSTD_CDict shared by every thread, or nullptr.
  CompressorPool(unsigned threads, int level, const void* cdict, Sink sink);
  ~CompressorPool();
  CompressorPool(const CompressorPool&) = delete;
  CompressorPool& operator=(const CompressorPool&) = delete;

  void submit(uint32_t id, std::vector<uint8_t> raw, bool with_dictionary);
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
  struct Job {
    uint32_t id;
    std::vector<uint8_t> raw;
    bool with_dictionary;
  };
  std::deque<Job> jobs_;
  std::map<uint32_t, Compressed> done_;
  uint32_t next_out_ = 0;
  uint32_t submitted_ = 0;
  size_t window_;
  bool stopping_ = false;
  std::exception_ptr error_;  // a worker's failure, rethrown on the submitting thread
};

}  // namespace bakefs::build

#endif  // BAKEFS_MKIMAGE_COMPRESSOR_H
