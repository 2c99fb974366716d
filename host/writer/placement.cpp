// data_order: files that share a name, extensions, and a greedy chain of alike tails.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/placement.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "writer/classify.h"
#include "writer/source_file.h"

namespace bakefs::build {
namespace {

// A tail shares at least this many of its fingerprint's bins with the next one chained to it;
// with fewer the chain goes on with the next file in name order (directory locality).
constexpr unsigned kMinShared = 4;
// Unplaced files looked at per shared bin value, at each step of the chain.
constexpr size_t kCandidatesPerBin = 8;
// A bin value that more than this many tails share is boilerplate (a licence, a common
// header), which the dictionary holds already: it does not make two tails alike.
constexpr size_t kCommonValue = 32;

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

uint64_t mix(uint64_t v) {
  v *= 0x9e3779b97f4a7c15ull;
  v ^= v >> 29;
  v *= 0xbf58476d1ce4e5b9ull;
  return v ^ (v >> 32);
}

// Inode order, files that share a name together where the first of them comes. Such files
// (copyright, changelog.Debian.gz, Makefile, __init__.py) tend to be alike.
std::vector<size_t> by_names(const Numbering& num, const std::vector<bool>& placed) {
  std::unordered_map<std::string_view, std::vector<size_t>> by_name;
  std::vector<std::string_view> first_seen;
  for (size_t i = 0; i < num.inodes.size(); ++i) {
    if (!num.inodes[i]->is_regular() || placed[i]) continue;
    std::string_view name = num.names[i];
    auto& group = by_name[name];
    if (group.empty()) first_seen.push_back(name);
    group.push_back(i);
  }
  std::vector<size_t> order;
  for (std::string_view name : first_seen) {
    const auto& group = by_name[name];
    order.insert(order.end(), group.begin(), group.end());
  }
  return order;
}

std::string_view extension(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? std::string_view() : name.substr(dot + 1);
}

void sort_by_extension(const Numbering& num, std::vector<size_t>& order) {
  std::stable_sort(order.begin(), order.end(), [&num](size_t a, size_t b) {
    std::string_view na = num.names[a], nb = num.names[b];
    return std::make_pair(extension(na), na) < std::make_pair(extension(nb), nb);
  });
}

// Bin values of all files in one bin, sorted, with a union-find "next unplaced" over them, so
// that a chain step skips what is placed already in amortised constant time.
struct Bin {
  std::vector<std::pair<uint64_t, uint32_t>> entries;  // (value, position in the group)
  std::vector<uint32_t> next;                          // next[k] == k: entry k is unplaced

  uint32_t find(uint32_t k) {
    while (next[k] != k) {
      next[k] = next[next[k]];
      k = next[k];
    }
    return k;
  }
};

// Empties bin j of the fingerprints whose value there is common (kCommonValue), and drops
// their entries from the bin's sorted entries.
void drop_common(std::vector<std::pair<uint64_t, uint32_t>>& entries,
                 std::vector<Fingerprint>& prints, size_t j) {
  size_t kept = 0;
  for (size_t start = 0, end = 0; start < entries.size(); start = end) {
    while (end < entries.size() && entries[end].first == entries[start].first) ++end;
    const bool common = end - start > kCommonValue;
    for (size_t k = start; k < end; ++k) {
      if (common) {
        prints[entries[k].second][j] = kEmptyBin;
      } else {
        entries[kept++] = entries[k];
      }
    }
  }
  entries.resize(kept);
}

// The files of one group (positions 0..n-1 in name order), chained greedily from each to its
// most alike unplaced successor.
std::vector<uint32_t> chain(std::vector<Fingerprint> prints) {
  const uint32_t n = static_cast<uint32_t>(prints.size());
  std::vector<Bin> bins(kFingerprintBins);
  std::vector<uint32_t> where(size_t{n} * kFingerprintBins, UINT32_MAX);
  for (size_t j = 0; j < kFingerprintBins; ++j) {
    Bin& bin = bins[j];
    for (uint32_t p = 0; p < n; ++p) {
      if (prints[p][j] != kEmptyBin) bin.entries.emplace_back(prints[p][j], p);
    }
    std::sort(bin.entries.begin(), bin.entries.end());
    drop_common(bin.entries, prints, j);
    bin.next.resize(bin.entries.size() + 1);
    for (uint32_t k = 0; k <= bin.entries.size(); ++k) bin.next[k] = k;
    for (uint32_t k = 0; k < bin.entries.size(); ++k) {
      where[size_t{bin.entries[k].second} * kFingerprintBins + j] = k;
    }
  }
  std::vector<bool> placed(n);
  std::vector<uint32_t> seen(n, UINT32_MAX);  // the step that scored it last
  std::vector<uint32_t> out;
  out.reserve(n);
  uint32_t in_order = 0;  // first unplaced position, for the fallback
  auto place = [&](uint32_t p) {
    placed[p] = true;
    out.push_back(p);
    for (size_t j = 0; j < kFingerprintBins; ++j) {
      uint32_t k = where[size_t{p} * kFingerprintBins + j];
      if (k != UINT32_MAX) bins[j].next[k] = k + 1;
    }
  };
  for (uint32_t step = 0; step < n; ++step) {
    uint32_t best = UINT32_MAX;
    unsigned best_score = 0;
    if (!out.empty()) {
      const uint32_t current = out.back();
      const Fingerprint& print = prints[current];
      for (size_t j = 0; j < kFingerprintBins; ++j) {
        if (print[j] == kEmptyBin) continue;
        Bin& bin = bins[j];
        auto it = std::lower_bound(bin.entries.begin(), bin.entries.end(),
                                   std::make_pair(print[j], uint32_t{0}));
        uint32_t k = bin.find(static_cast<uint32_t>(it - bin.entries.begin()));
        for (size_t tried = 0; tried < kCandidatesPerBin && k < bin.entries.size() &&
                               bin.entries[k].first == print[j];
             ++tried, k = bin.find(k + 1)) {
          const uint32_t p = bin.entries[k].second;
          if (seen[p] == step) continue;
          seen[p] = step;
          unsigned score = similarity(print, prints[p]);
          if (score > best_score || (score == best_score && p < best)) {
            best = p;
            best_score = score;
          }
        }
      }
    }
    if (best == UINT32_MAX || best_score < kMinShared) {
      while (placed[in_order]) ++in_order;
      best = in_order;
    }
    place(best);
  }
  return out;
}

// The fingerprint of a file's tail, and its kind.
std::pair<Fingerprint, Kind> tail_print(const Inode& n, uint32_t block_size) {
  SourceFile source(n);
  std::vector<uint8_t> bytes(static_cast<size_t>(std::min<uint64_t>(n.size, kClassifyBytes)));
  source.read(0, bytes.data(), bytes.size());
  const Kind kind = classify(bytes.data(), bytes.size(), n.size, source).kind;
  const uint64_t tail = n.size % block_size;
  if (n.size >= block_size) {
    bytes.resize(static_cast<size_t>(std::min<uint64_t>(tail, kFingerprintBytes)));
    source.read(n.size - tail, bytes.data(), bytes.size());
  }
  return {fingerprint(bytes.data(), std::min(bytes.size(), kFingerprintBytes)), kind};
}

// The files with a tail chained by similarity within each kind; the others first.
// The fingerprints and kinds of files' tails, read by `threads` threads: each result has its
// slot, so the thread count changes nothing. The first file (in order) that fails throws.
std::vector<std::pair<Fingerprint, Kind>> tail_prints(const Numbering& num,
                                                      const std::vector<size_t>& files,
                                                      uint32_t block_size, unsigned threads) {
  std::vector<std::pair<Fingerprint, Kind>> prints(files.size());
  std::vector<std::exception_ptr> errors(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k; (k = next.fetch_add(1)) < files.size();) {
      try {
        prints[k] = tail_print(*num.inodes[files[k]], block_size);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return prints;
}

// The files with a tail chained by similarity within each kind; the others first.
std::vector<size_t> by_similarity(const Numbering& num, const std::vector<size_t>& names,
                                  const Options& options) {
  const uint32_t block_size = 1u << options.block_log;
  std::vector<size_t> order, tails;
  for (size_t i : names) {
    (num.inodes[i]->size % block_size == 0 ? order : tails).push_back(i);
  }
  const auto prints = tail_prints(num, tails, block_size, options.threads);
  std::vector<size_t> groups[kKinds];
  std::vector<Fingerprint> group_prints[kKinds];
  for (size_t k = 0; k < tails.size(); ++k) {
    const size_t group = options.fragments_by_kind ? static_cast<size_t>(prints[k].second) : 0;
    groups[group].push_back(tails[k]);
    group_prints[group].push_back(prints[k].first);
  }
  for (size_t g = 0; g < kKinds; ++g) {
    for (uint32_t p : chain(std::move(group_prints[g]))) order.push_back(groups[g][p]);
  }
  return order;
}

}  // namespace

Fingerprint fingerprint(const uint8_t* bytes, size_t size) {
  Fingerprint print;
  print.fill(kEmptyBin);
  auto add = [&print](uint64_t shingle) {
    const uint64_t h = mix(shingle);
    const size_t bin = static_cast<size_t>(h >> 59);  // 32 bins
    const uint64_t value = h & ((uint64_t{1} << 59) - 1);
    if (value < print[bin]) print[bin] = value;
  };
  if (size < 8) {  // one shingle, the bytes padded with zeros (the same on every host)
    uint8_t padded[8] = {};
    if (size == 0) return print;
    std::memcpy(padded, bytes, size);
    add(load_le64(padded) ^ size);
    return print;
  }
  for (size_t i = 0; i + 8 <= size; ++i) add(load_le64(bytes + i));
  return print;
}

unsigned similarity(const Fingerprint& a, const Fingerprint& b) {
  unsigned shared = 0;
  for (size_t j = 0; j < kFingerprintBins; ++j) shared += a[j] == b[j] && a[j] != kEmptyBin;
  return shared;
}

std::vector<size_t> data_order(const Numbering& num, const std::vector<const Inode*>& first,
                               const Options& options) {
  std::vector<size_t> order;
  std::vector<bool> placed(num.inodes.size());
  for (const Inode* n : first) {
    auto it = num.index.find(n);
    if (it == num.index.end() || placed[it->second] || !n->is_regular()) continue;
    placed[it->second] = true;
    order.push_back(it->second);
  }
  std::vector<size_t> rest = by_names(num, placed);
  if (options.placement == Placement::kExtension) sort_by_extension(num, rest);
  if (options.placement == Placement::kSimilarity && options.fragments) {
    rest = by_similarity(num, rest, options);
  }
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

}  // namespace bakefs::build
