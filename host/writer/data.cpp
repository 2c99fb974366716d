// DataWriter: blocks, holes, deduplication and fragments.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/data.h"

#include <bakefs/format.h>

#include <algorithm>
#include <cstring>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "writer/compressor.h"
#include "writer/source_file.h"

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
        options.tuned_parameters ? block_parameters(options.level, options.block_log)
                                 : ZSTD_getCParams(options.level, block_size_, dictionary.size());
    cdict_ = ZSTD_createCDict_advanced(dictionary.data(), dictionary.size(), ZSTD_dlm_byCopy,
                                       ZSTD_dct_auto, params, ZSTD_defaultCMem);
    if (cdict_ == nullptr) throw Error("zstd: cannot load the trained dictionary");
  }
  auto sink = [this](Compressed&& c) {
    if (c.id != blocks_.size()) throw Error("internal error: blocks out of order");
    blocks_.push_back(
        {out_.size(), static_cast<uint32_t>(c.bytes.size()), c.raw_size, c.checksum, c.x86});
    if (c.x86) stats_.x86_blocks += 1;
    out_.append(c.bytes.data(), c.bytes.size());
    stats_.blocks_stored += 1;
    stats_.data_bytes += c.bytes.size();
    if (c.bytes.size() == c.raw_size) stats_.blocks_raw += 1;
  };
  const ZstdSettings zstd{options.level, options.block_log, options.tuned_parameters};
  pool_ = std::make_unique<CompressorPool>(options.threads, zstd, cdict_, std::move(sink));
}

DataWriter::~DataWriter() {
  pool_.reset();  // the compressors use the dictionary until they stop
  ZSTD_freeCDict(static_cast<ZSTD_CDict*>(cdict_));
}

uint32_t DataWriter::submit(std::vector<uint8_t> raw, bool with_dictionary, bool x86) {
  if (next_id_ == format::kHoleBlock) throw Error("image too large: more than 2^32-1 blocks");
  uint32_t id = next_id_++;
  pool_->submit(
      {id, std::move(raw), with_dictionary && cdict_ != nullptr, x86 && options_.x86_filter});
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
  std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(n.size, kClassifyBytes)));
  source.read(0, head.data(), head.size());
  const FileClass kind = classify(head.data(), head.size(), n.size, source);
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
      add_tail(n, kind, raw.data(), size, layout);
      continue;
    }
    const bool code = kind.code_in(offset, size);
    if (options_.dedup) {
      Key key = key_of(raw.data(), size);
      auto it = seen_blocks_.find(key);
      if (it != seen_blocks_.end() && same_bytes(it->second, raw.data(), size)) {
        layout.blocks.push_back(it->second.block);
        stats_.dedup_blocks += 1;
        stats_.dedup_bytes += size;
        continue;
      }
      uint32_t id =
          submit(std::move(raw), size < block_size_ || options_.dictionary_for_full_blocks, code);
      seen_blocks_.emplace(key, Seen{&n, offset, id, 0});
      layout.blocks.push_back(id);
      continue;
    }
    layout.blocks.push_back(
        submit(std::move(raw), size < block_size_ || options_.dictionary_for_full_blocks, code));
  }
  source.finish();
  return layout;
}

void DataWriter::add_tail(const Inode& n, const FileClass& kind, const uint8_t* tail, uint32_t size,
                          FileLayout& layout) {
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
  OpenFragment& fragment =
      fragments_[options_.fragments_by_kind ? static_cast<size_t>(kind.kind) : 0];
  if (fragment.bytes.size() + size > block_size_) flush_fragment(kind.kind);
  if (fragment.bytes.empty()) {
    fragment.number = static_cast<uint32_t>(fragment_ids_.size());
    fragment_ids_.push_back(format::kHoleBlock);  // until it is stored
  }
  layout.has_tail = true;
  layout.fragment = fragment.number;
  layout.tail_offset = static_cast<uint32_t>(fragment.bytes.size());
  fragment.bytes.insert(fragment.bytes.end(), tail, tail + size);
  if (kind.code_in(offset, size)) fragment.code_bytes += size;
  if (options_.dedup) {
    seen_tails_.emplace(key, Seen{&n, offset, layout.fragment, layout.tail_offset});
  }
}

void DataWriter::flush_fragment(Kind kind) {
  OpenFragment& fragment = fragments_[options_.fragments_by_kind ? static_cast<size_t>(kind) : 0];
  if (fragment.bytes.empty()) return;
  std::vector<uint8_t> bytes;
  bytes.swap(fragment.bytes);
  fragment.bytes.reserve(block_size_);
  // Mostly tails of machine code (small programs and libraries, at large block sizes): the
  // filter pays for the whole block.
  const bool x86 = fragment.code_bytes * 2 >= bytes.size();
  fragment.code_bytes = 0;
  fragment_ids_[fragment.number] = submit(std::move(bytes), true, x86);
  stats_.fragment_blocks += 1;
}

void DataWriter::finish() {
  // The open fragments in the order they were opened, so the ids follow the fragment numbers.
  Kind kinds[kKinds] = {Kind::kText, Kind::kElf, Kind::kCompressed, Kind::kBinary};
  std::sort(kinds, kinds + kKinds, [this](Kind a, Kind b) {
    return fragments_[static_cast<size_t>(a)].number < fragments_[static_cast<size_t>(b)].number;
  });
  for (Kind kind : kinds) flush_fragment(kind);
  pool_->finish();
}

}  // namespace bakefs::build
