// DataWriter: blocks, holes, deduplication and fragments.
// SPDX-License-Identifier: BSD-2-Clause
#include "data.h"

#include <bakefs/format.h>

#include <cstring>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "compressor.h"
#include "source_file.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::build {
namespace {

bool all_zero(const uint8_t* p, size_t n) {
  static const uint8_t kZeros[4096] = {};
  while (n > 0) {
    size_t k = n < sizeof(kZeros) ? n : sizeof(kZeros);
    if (std::memcmp(p, kZeros, k) != 0) return false;
    p += k;
    n -= k;
  }
  return true;
}

}  // namespace

DataWriter::DataWriter(OutputFile& out, const Options& options, const std::string& dictionary,
                       Stats& stats)
    : out_(out), options_(options), stats_(stats), block_size_(1u << options.block_log) {
  if (!dictionary.empty()) {
    // Parameters for blocks of this size, not for an input of unknown length.
    ZSTD_compressionParameters params =
        ZSTD_getCParams(options.level, block_size_, dictionary.size());
    cdict_ = ZSTD_createCDict_advanced(dictionary.data(), dictionary.size(), ZSTD_dlm_byCopy,
                                       ZSTD_dct_auto, params, ZSTD_defaultCMem);
    if (cdict_ == nullptr) throw Error("zstd: cannot load the trained dictionary");
  }
  pool_ = std::make_unique<
      CompressorPool>(options.threads, options.level, cdict_, [this](Compressed&& c) {
    if (c.id != blocks_.size()) throw Error("internal error: blocks out of order");
    blocks_.push_back({out_.size(), static_cast<uint32_t>(c.bytes.size()), c.raw_size, c.checksum});
    out_.append(c.bytes.data(), c.bytes.size());
    stats_.blocks_stored += 1;
    stats_.data_bytes += c.bytes.size();
    if (c.bytes.size() == c.raw_size) stats_.blocks_raw += 1;
  });
}

DataWriter::~DataWriter() {
  pool_.reset();  // the compressors use the dictionary until they stop
  ZSTD_freeCDict(static_cast<ZSTD_CDict*>(cdict_));
}

uint32_t DataWriter::submit(std::vector<uint8_t> raw, bool with_dictionary) {
  if (next_id_ == format::kHoleBlock) throw Error("image too large: more than 2^32-1 blocks");
  uint32_t id = next_id_++;
  pool_->submit(id, std::move(raw), with_dictionary && cdict_ != nullptr);
  return id;
}

DataWriter::Key DataWriter::key_of(const uint8_t* bytes, uint32_t size) const {
  XXH128_hash_t h = XXH3_128bits(bytes, size);
  return {h.low64, h.high64, size};
}

bool DataWriter::same_bytes(const Seen& seen, const uint8_t* bytes, uint32_t size) {
  std::vector<uint8_t> earlier(size);
  SourceFile source(*seen.source);
  source.read(seen.offset, earlier.data(), size);
  return std::memcmp(earlier.data(), bytes, size) == 0;
}

FileLayout DataWriter::add_file(const Inode& n) {
  FileLayout layout;
  stats_.file_bytes += n.size;
  if (n.size == 0) return layout;
  SourceFile source(n);
  uint64_t full = n.size >> options_.block_log;
  uint32_t tail = static_cast<uint32_t>(n.size & (block_size_ - 1));
  for (uint64_t index = 0; index < full + (tail != 0 ? 1 : 0); ++index) {
    uint64_t offset = index << options_.block_log;
    uint32_t size = index < full ? block_size_ : tail;
    if (source.is_hole(offset, size)) {
      layout.blocks.push_back(format::kHoleBlock);
      ++layout.holes;
      ++stats_.hole_blocks;
      continue;
    }
    std::vector<uint8_t> raw(size);
    source.read(offset, raw.data(), size);
    if (all_zero(raw.data(), size)) {
      layout.blocks.push_back(format::kHoleBlock);
      ++layout.holes;
      ++stats_.hole_blocks;
      continue;
    }
    if (index == full && options_.fragments) {
      add_tail(n, raw.data(), size, layout);
      continue;
    }
    if (options_.dedup) {
      Key key = key_of(raw.data(), size);
      auto it = seen_blocks_.find(key);
      if (it != seen_blocks_.end() && same_bytes(it->second, raw.data(), size)) {
        layout.blocks.push_back(it->second.block);
        stats_.dedup_blocks += 1;
        stats_.dedup_bytes += size;
        continue;
      }
      uint32_t id = submit(std::move(raw), size < block_size_);
      seen_blocks_.emplace(key, Seen{&n, offset, id, 0});
      layout.blocks.push_back(id);
      continue;
    }
    layout.blocks.push_back(submit(std::move(raw), size < block_size_));
  }
  source.finish();
  return layout;
}

void DataWriter::add_tail(const Inode& n, const uint8_t* tail, uint32_t size, FileLayout& layout) {
  uint64_t offset = n.size - size;
  Key key{};
  if (options_.dedup) {
    key = key_of(tail, size);
    auto it = seen_tails_.find(key);
    if (it != seen_tails_.end() && same_bytes(it->second, tail, size)) {
      layout.has_tail = true;
      layout.fragment = it->second.block;
      layout.tail_offset = it->second.in_block;
      stats_.dedup_blocks += 1;
      stats_.dedup_bytes += size;
      return;
    }
  }
  if (fragment_.size() + size > block_size_) flush_fragment();
  layout.has_tail = true;
  layout.fragment = static_cast<uint32_t>(fragment_ids_.size());
  layout.tail_offset = static_cast<uint32_t>(fragment_.size());
  fragment_.insert(fragment_.end(), tail, tail + size);
  if (options_.dedup) {
    seen_tails_.emplace(key, Seen{&n, offset, layout.fragment, layout.tail_offset});
  }
}

void DataWriter::flush_fragment() {
  if (fragment_.empty()) return;
  std::vector<uint8_t> bytes;
  bytes.swap(fragment_);
  fragment_.reserve(block_size_);
  fragment_ids_.push_back(submit(std::move(bytes), true));
  stats_.fragment_blocks += 1;
}

void DataWriter::finish() {
  flush_fragment();
  pool_->finish();
}

}  // namespace bakefs::build
