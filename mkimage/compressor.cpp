// BlockCompressor and CompressorPool.
// SPDX-License-Identifier: BSD-2-Clause
#include "compressor.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <bakefs/format.h>

#include "tree.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::build {

BlockCompressor::BlockCompressor(int level, const void* cdict)
    : cctx_(ZSTD_createCCtx()), cdict_(cdict) {
  if (cctx_ == nullptr) throw Error("zstd: cannot create a compression context");
  auto* cctx = static_cast<ZSTD_CCtx*>(cctx_);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);  // the image has its own
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  // A frame made with the dictionary names it (its id), so the reader knows which frames need
  // it; the others carry no id.
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 1);
}

BlockCompressor::~BlockCompressor() {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
}

Compressed BlockCompressor::compress(uint32_t id, std::vector<uint8_t> raw, bool with_dictionary) {
  ZSTD_CCtx_refCDict(static_cast<ZSTD_CCtx*>(cctx_),
                     with_dictionary ? static_cast<const ZSTD_CDict*>(cdict_) : nullptr);
  scratch_.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), scratch_.data(), scratch_.size(),
                            raw.data(), raw.size());
  if (ZSTD_isError(n)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  Compressed c{id, {}, static_cast<uint32_t>(raw.size()), 0};
  // Compression pays when it saves at least 1/64 of the block; otherwise the raw bytes are
  // stored and can be mapped without a copy.
  if (n < raw.size() - raw.size() / 64) {
    c.bytes.assign(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n));
  } else {
    c.bytes = std::move(raw);
  }
  c.checksum = XXH3_64bits_withSeed(c.bytes.data(), c.bytes.size(), format::kSeedBlock + id);
  return c;
}

CompressorPool::CompressorPool(unsigned threads, int level, const void* cdict, Sink sink)
    : sink_(std::move(sink)), window_(threads * 4 + 4) {
  if (threads <= 1) {
    inline_ = std::make_unique<BlockCompressor>(level, cdict);
    return;
  }
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, level, cdict] {
      BlockCompressor compressor(level, cdict);
      for (;;) {
        Job job;
        {
          std::unique_lock lock(mutex_);
          work_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        try {
          Compressed c = compressor.compress(job.id, std::move(job.raw), job.with_dictionary);
          std::lock_guard lock(mutex_);
          done_.emplace(c.id, std::move(c));
        } catch (...) {
          std::lock_guard lock(mutex_);
          if (!error_) error_ = std::current_exception();
        }
        done_ready_.notify_all();
      }
    });
  }
}

CompressorPool::~CompressorPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  work_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void CompressorPool::submit(uint32_t id, std::vector<uint8_t> raw, bool with_dictionary) {
  ++submitted_;
  if (inline_ != nullptr) {
    sink_(inline_->compress(id, std::move(raw), with_dictionary));
    ++next_out_;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({id, std::move(raw), with_dictionary});
  }
  work_ready_.notify_one();
  drain(window_);
}

void CompressorPool::drain(size_t limit) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (error_) std::rethrow_exception(error_);
    auto it = done_.find(next_out_);
    if (it != done_.end()) {
      Compressed c = std::move(it->second);
      done_.erase(it);
      ++next_out_;
      lock.unlock();
      sink_(std::move(c));
      lock.lock();
      continue;
    }
    if (submitted_ - next_out_ <= limit) return;
    done_ready_.wait(lock);
  }
}

void CompressorPool::finish() {
  if (inline_ == nullptr) drain(0);
}

}  // namespace bakefs::build
