// Berkeley DB 1.85 hash files, laid out from the format's description: a header page, one
// page per bucket, the overflow bitmap page, then the overflow pages of buckets that need more
// than one page. This is the state a table reaches when created large enough for its keys, so
// dbopen can read it and also update it.
// SPDX-License-Identifier: BSD-2-Clause
#include "netbsd_etc/bdb_hash.h"

#include <algorithm>
#include <set>

#include "writer/tree.h"

namespace bakefs::build {
namespace {

// The header (HASHHDR): 17 int32 fields, spares[32] (int32), bitmaps[32] (uint16), always
// stored big-endian whatever the table's byte order.
constexpr uint32_t kMagic = 0x061561;
constexpr uint32_t kVersion = 2;
constexpr uint32_t kLorderLittle = 1234, kLorderBig = 4321;
constexpr uint32_t kHeaderBytes = 17 * 4 + 32 * 4 + 32 * 2;
constexpr uint32_t kMinHeaderBytes = 512;  // the header pages hold at least this much
constexpr uint32_t kSegmentSize = 256, kSegmentShift = 8, kMinDirectory = 256;
constexpr uint32_t kCached = 32;            // entries of spares[] and bitmaps[]
constexpr char kCharKey[] = "%$sniglet^&";  // hashed with its NUL; the header keeps the result

// Overflow pages are addressed as (split point << 11 | offset); the bitmap is offset 1 of the
// table's split point, the overflow pages follow it. The library refuses offset 2047 when it
// reuses a freed page, so stop short of it.
constexpr uint32_t kSplitShift = 11;
constexpr uint32_t kMaxOverflowOffset = 2046;

// On a page: uint16 n, then n table entries (key offset, data offset per pair, or (address, 0)
// for the link to the next page of the bucket), then the free byte count and the lowest
// offset in use. Pairs are copied from the end of the page downwards, key above data.
constexpr uint32_t kLinkBytes = 4;  // a (address, 0) entry
constexpr uint16_t kLinkMark = 0;

struct Page {
  std::vector<uint16_t> table;
  std::string bytes;
  uint32_t data_start;  // lowest offset in use
  uint32_t pairs = 0;
  uint32_t overflow = 0;  // offset of an overflow page at the split point; 0 for a bucket's
  uint32_t free_bytes() const { return data_start - static_cast<uint32_t>(table.size() + 3) * 2; }
};

void put16(std::string& out, size_t at, uint16_t v, ByteOrder order) {
  if (order == ByteOrder::little) {
    out[at] = static_cast<char>(v);
    out[at + 1] = static_cast<char>(v >> 8);
  } else {
    out[at] = static_cast<char>(v >> 8);
    out[at + 1] = static_cast<char>(v);
  }
}

void put32(std::string& out, size_t at, uint32_t v, ByteOrder order) {
  bool little = order == ByteOrder::little;
  for (int i = 0; i < 4; ++i) {
    out[at + static_cast<size_t>(i)] = static_cast<char>(v >> (little ? 8 * i : 24 - 8 * i));
  }
}

uint32_t ceil_log2(uint64_t n) {
  uint32_t l = 0;
  while ((uint64_t{1} << l) < n) ++l;
  return l;
}

class Writer {
 public:
  explicit Writer(const HashDbOptions& options) : options_(options) {
    uint32_t size = options.page_size;
    if (size < 512 || size > 32768 || (size & (size - 1)) != 0) {
      throw Error("hash database: page size " + std::to_string(size) +
                  " is not a power of two from 512 to 32768");
    }
    if (options.fill_factor == 0) throw Error("hash database: fill factor 0");
    shift_ = ceil_log2(size);
    header_pages_ = (std::max(kHeaderBytes, kMinHeaderBytes) - 1) / size + 1;
  }

  std::string write(const std::vector<HashDbPair>& pairs) {
    std::set<std::string_view> keys;
    for (const auto& p : pairs) {
      if (!keys.insert(p.key).second) throw Error("hash database: duplicate key");
    }
    uint64_t wanted = std::max<uint64_t>({pairs.size(), options_.expected_keys, 1});
    uint64_t by_keys = (wanted - 1) / options_.fill_factor + 1;
    // Large pairs fill a bucket's page long before fill_factor keys do, and a table has room
    // for only 2046 overflow pages at its split point: enough buckets for their pages to be
    // about half full, as if the table had been created for more keys.
    uint64_t bytes = 0;
    for (const auto& p : pairs) bytes += 4 + p.key.size() + p.data.size();
    uint64_t by_bytes = bytes / (options_.page_size / 2) + 1;
    split_ = ceil_log2(std::max<uint64_t>({by_keys, by_bytes, 2}));
    if (split_ > 24) throw Error("hash database: too many keys");
    buckets_ = 1u << split_;
    chains_.assign(buckets_, {});
    for (auto& chain : chains_) chain.push_back(empty_page());
    for (const auto& p : pairs) add(p);
    return file();
  }

 private:
  Page empty_page() const {
    return Page{{}, std::string(options_.page_size, '\0'), options_.page_size};
  }

  uint32_t bucket_of(std::string_view key) const {
    uint32_t h = bdb_default_hash(key);
    uint32_t high_mask = (buckets_ << 1) - 1, low_mask = buckets_ - 1;
    uint32_t bucket = h & high_mask;
    return bucket > buckets_ - 1 ? bucket & low_mask : bucket;
  }

  // A pair goes on a page only if a link to a next page would still fit, as the library does.
  static bool fits(const Page& page, const HashDbPair& p) {
    return 4 + p.key.size() + p.data.size() + kLinkBytes <= page.free_bytes();
  }

  void add(const HashDbPair& p) {
    auto& chain = chains_[bucket_of(p.key)];
    if (!fits(chain.back(), p)) {
      if (chain.back().pairs == 0) {
        throw Error("hash database: a pair of " + std::to_string(p.key.size() + p.data.size()) +
                    " bytes does not fit on a page");
      }
      if (overflow_pages_ + 2 > kMaxOverflowOffset) {
        throw Error("hash database: too many overflow pages");
      }
      uint32_t offset = 2 + overflow_pages_++;  // offset 1 is the bitmap
      Page& last = chain.back();
      last.table.push_back(static_cast<uint16_t>(split_ << kSplitShift | offset));
      last.table.push_back(kLinkMark);
      chain.push_back(empty_page());
      chain.back().overflow = offset;
    }
    Page& page = chain.back();
    uint32_t key_at = page.data_start - static_cast<uint32_t>(p.key.size());
    uint32_t data_at = key_at - static_cast<uint32_t>(p.data.size());
    page.bytes.replace(key_at, p.key.size(), p.key);
    page.bytes.replace(data_at, p.data.size(), p.data);
    page.table.push_back(static_cast<uint16_t>(key_at));
    page.table.push_back(static_cast<uint16_t>(data_at));
    page.data_start = data_at;
    ++page.pairs;
    ++keys_;
  }

  void put_page(std::string& out, size_t at, const Page& page) const {
    // The library leaves a bucket it never filled as zeros, which reads as an empty page.
    if (page.table.empty()) return;
    ByteOrder order = options_.byte_order;
    out.replace(at, page.bytes.size(), page.bytes);
    size_t n = page.table.size();
    put16(out, at, static_cast<uint16_t>(n), order);
    for (size_t i = 0; i < n; ++i) put16(out, at + 2 * (i + 1), page.table[i], order);
    put16(out, at + 2 * (n + 1), static_cast<uint16_t>(page.free_bytes()), order);
    put16(out, at + 2 * (n + 2), static_cast<uint16_t>(page.data_start), order);
  }

  std::string file() const {
    // Overflow page numbers count from 1 (the bitmap) across the split points; a fresh table
    // reserves split+1 of them, of which only the bitmap is used.
    uint32_t spares = std::max(overflow_pages_, split_) + 1;
    size_t page_size = options_.page_size;
    size_t bitmap_page = header_pages_ + buckets_;
    std::string out((bitmap_page + 1 + overflow_pages_) * page_size, '\0');
    put_header(out, spares);
    for (uint32_t b = 0; b < buckets_; ++b) {
      const auto& chain = chains_[b];
      put_page(out, (header_pages_ + b) * page_size, chain[0]);
      // Overflow offset 1, the bitmap, directly follows the last bucket.
      for (size_t i = 1; i < chain.size(); ++i) {
        put_page(out, (bitmap_page - 1 + chain[i].overflow) * page_size, chain[i]);
      }
    }
    // Bit i stands for overflow page number i + 1: in use, or beyond the ones allocated.
    for (uint32_t word = 0; word < page_size / 4; ++word) {
      uint32_t bits = 0;
      for (uint32_t i = 0; i < 32; ++i) {
        uint32_t bit = word * 32 + i;
        if (bit <= overflow_pages_ || bit >= spares) bits |= 1u << i;
      }
      put32(out, bitmap_page * page_size + word * 4, bits, options_.byte_order);
    }
    return out;
  }

  void put_header(std::string& out, uint32_t spares) const {
    uint32_t segments = 1u << ceil_log2((buckets_ - 1) / kSegmentSize + 1);
    const uint32_t fields[17] = {
        kMagic,
        kVersion,
        options_.byte_order == ByteOrder::little ? kLorderLittle : kLorderBig,
        options_.page_size,
        shift_,
        std::max(segments, kMinDirectory),  // dsize
        kSegmentSize,
        kSegmentShift,
        split_,  // ovfl_point
        2,       // last_freed: where the search for a free overflow page starts
        buckets_ - 1,
        (buckets_ << 1) - 1,  // high_mask
        buckets_ - 1,         // low_mask
        options_.fill_factor,
        keys_,
        header_pages_,
        bdb_default_hash(std::string_view(kCharKey, sizeof(kCharKey))),
    };
    size_t at = 0;
    for (uint32_t v : fields) {
      put32(out, at, v, ByteOrder::big);
      at += 4;
    }
    for (uint32_t i = 0; i < kCached; ++i, at += 4) {
      put32(out, at, i == split_ || i == split_ + 1 ? spares : 0, ByteOrder::big);
    }
    put16(out, at, static_cast<uint16_t>(split_ << kSplitShift | 1), ByteOrder::big);
  }

  const HashDbOptions options_;
  uint32_t shift_ = 0;
  uint32_t header_pages_ = 1;
  uint32_t split_ = 0;    // log2 of the bucket count
  uint32_t buckets_ = 0;  // a power of two
  uint32_t keys_ = 0;
  uint32_t overflow_pages_ = 0;  // besides the bitmap
  std::vector<std::vector<Page>> chains_;
};

}  // namespace

uint32_t bdb_default_hash(std::string_view bytes) {
  uint32_t h = 0;
  for (unsigned char c : bytes) h = (h << 5) + h + c;
  return h;
}

std::string write_hash_db(const std::vector<HashDbPair>& pairs, const HashDbOptions& options) {
  return Writer(options).write(pairs);
}

}  // namespace bakefs::build
