// train_dictionary: samples, ZDICT, and a trial of what the dictionary saves.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/dictionary.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "writer/source_file.h"

namespace bakefs::build {
namespace {

constexpr size_t kSampleBytes = 4096;     // the beginning of a file
constexpr size_t kMaxSamples = 4000;      // ~16 MiB to learn from at most
constexpr size_t kMinSampleFactor = 8;    // fewer sample bytes than 8x the dictionary: none
constexpr size_t kTrialBytes = 1u << 20;  // what the trial compresses, twice

bool all_zero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct CDictFree {
  void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); }
};

// Bytes saved per byte by the dictionary, on samples packed into blocks as tails are.
double trial_saving(const std::string& dictionary, const std::string& samples,
                    const std::vector<size_t>& sizes, int level, uint32_t block_size) {
  ZSTD_compressionParameters params = ZSTD_getCParams(level, block_size, dictionary.size());
  std::unique_ptr<ZSTD_CDict, CDictFree> cdict(
      ZSTD_createCDict_advanced(dictionary.data(), dictionary.size(), ZSTD_dlm_byRef, ZSTD_dct_auto,
                                params, ZSTD_defaultCMem));
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
  if (!cdict || !cctx) return 0;
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  std::string out(ZSTD_compressBound(block_size), '\0');
  auto compressed = [&](const char* p, size_t n, bool with) -> size_t {
    ZSTD_CCtx_refCDict(cctx.get(), with ? cdict.get() : nullptr);
    size_t r = ZSTD_compress2(cctx.get(), out.data(), out.size(), p, n);
    return ZSTD_isError(r) ? n : r;
  };
  size_t tried = 0, plain = 0, with = 0, start = 0, length = 0;
  for (size_t i = 0; i <= sizes.size() && tried < kTrialBytes; ++i) {
    if (i == sizes.size() || length + sizes[i] > block_size) {
      if (length != 0) {
        plain += compressed(samples.data() + start, length, false);
        with += compressed(samples.data() + start, length, true);
        tried += length;
      }
      start += length;
      length = 0;
      if (i == sizes.size()) break;
    }
    length += sizes[i];
  }
  return tried == 0 ? 0
                    : (static_cast<double>(plain) - static_cast<double>(with)) /
                          static_cast<double>(tried);
}

}  // namespace

std::string train_dictionary(const std::vector<const Inode*>& files, size_t capacity, int level,
                             uint32_t block_size) {
  if (capacity == 0 || files.empty()) return {};
  std::string samples;
  std::vector<size_t> sizes;
  uint64_t tail_bytes = 0;  // what will be compressed with the dictionary
  for (const Inode* n : files) tail_bytes += n->size % block_size;
  const size_t stride = (files.size() + kMaxSamples - 1) / kMaxSamples;
  for (size_t i = 0; i < files.size(); i += stride) {
    const Inode& n = *files[i];
    if (n.size < 64) continue;
    std::string sample(static_cast<size_t>(std::min<uint64_t>(n.size, kSampleBytes)), '\0');
    SourceFile source(n);
    source.read(0, sample.data(), sample.size());
    if (all_zero(sample)) continue;
    samples += sample;
    sizes.push_back(sample.size());
  }
  if (samples.size() < kMinSampleFactor * capacity || sizes.size() < 16) return {};
  std::string dictionary(capacity, '\0');
  size_t n = ZDICT_trainFromBuffer(dictionary.data(), dictionary.size(), samples.data(),
                                   sizes.data(), static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) return {};  // nothing learnable: do without
  dictionary.resize(n);
  // Keep it only if the tails should save more than it costs.
  double saving = trial_saving(dictionary, samples, sizes, std::min(level, 3), block_size);
  if (saving * static_cast<double>(tail_bytes) <= static_cast<double>(dictionary.size())) return {};
  return dictionary;
}

}  // namespace bakefs::build
