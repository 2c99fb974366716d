// BlockCompressor and CompressorPool.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/compressor.h"

#include <bakefs/format.h>

#include <algorithm>
#include <cstring>

#include "x86_filter.h"

#include "writer/tree.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::build {

ZSTD_compressionParameters block_parameters(int level, uint32_t block_log) {
  constexpr uint32_t kSmallInputLog = 18;  // 256 KiB: the largest of zstd's small-input tables
  ZSTD_compressionParameters p =
      ZSTD_getCParams(level, uint64_t{1} << std::min(block_log, kSmallInputLog), 0);
  p.windowLog = std::max(p.windowLog, block_log);
  return p;
}

namespace {

void set_parameters(ZSTD_CCtx* cctx, const ZSTD_compressionParameters& p) {
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, static_cast<int>(p.windowLog));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, static_cast<int>(p.chainLog));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, static_cast<int>(p.hashLog));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_searchLog, static_cast<int>(p.searchLog));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, static_cast<int>(p.minMatch));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_targetLength, static_cast<int>(p.targetLength));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_strategy, static_cast<int>(p.strategy));
}

}  // namespace

BlockCompressor::BlockCompressor(const ZstdSettings& settings, const void* cdict)
    : cctx_(ZSTD_createCCtx()), cdict_(cdict) {
  if (cctx_ == nullptr) throw Error("zstd: cannot create a compression context");
  auto* cctx = static_cast<ZSTD_CCtx*>(cctx_);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, settings.level);
  if (settings.tuned) set_parameters(cctx, block_parameters(settings.level, settings.block_log));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);  // the image has its own
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  // A frame made with the dictionary names it (its id), so the reader knows which frames need
  // it; the others carry no id.
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 1);
}

BlockCompressor::~BlockCompressor() {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
}

size_t BlockCompressor::try_compress(const std::vector<uint8_t>& raw, bool with_dictionary) {
  ZSTD_CCtx_refCDict(static_cast<ZSTD_CCtx*>(cctx_),
                     with_dictionary ? static_cast<const ZSTD_CDict*>(cdict_) : nullptr);
  scratch_.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), scratch_.data(), scratch_.size(),
                            raw.data(), raw.size());
  if (ZSTD_isError(n)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  return n;
}

Compressed BlockCompressor::compress(BlockJob job) {
  const std::vector<uint8_t>& raw = job.raw;
  Compressed c{job.id, {}, static_cast<uint32_t>(raw.size()), 0, false};
  size_t n = 0;
  if (job.x86) {
    filtered_ = raw;
    x86_filter::encode(filtered_.data(), filtered_.size());
    n = try_compress(filtered_, job.with_dictionary);
    c.x86 = true;
  } else {
    n = try_compress(raw, job.with_dictionary);
  }
  // Compression pays when it saves at least 1/64 of the block; otherwise the raw bytes are
  // stored (never filtered) and can be mapped without a copy.
  if (n < raw.size() - raw.size() / 64) {
    c.bytes.assign(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n));
  } else {
    c.bytes = std::move(job.raw);
    c.x86 = false;
  }
  c.checksum = XXH3_64bits_withSeed(c.bytes.data(), c.bytes.size(), format::kSeedBlock + c.id);
  return c;
}

CompressorPool::CompressorPool(unsigned threads, const ZstdSettings& settings, const void* cdict,
                               Sink sink)
    : sink_(std::move(sink)), window_(threads * 4 + 4) {
  if (threads <= 1) {
    inline_ = std::make_unique<BlockCompressor>(settings, cdict);
    return;
  }
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, settings, cdict] {
      BlockCompressor compressor(settings, cdict);
      for (;;) {
        BlockJob job;
        {
          std::unique_lock lock(mutex_);
          work_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        try {
          Compressed c = compressor.compress(std::move(job));
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

void CompressorPool::submit(BlockJob job) {
  ++submitted_;
  if (inline_ != nullptr) {
    sink_(inline_->compress(std::move(job)));
    ++next_out_;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
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
