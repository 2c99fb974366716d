// Image surgery for the fuzzer: recompute every checksum, or scramble every unverified byte.
// SPDX-License-Identifier: BSD-2-Clause
#include "fuzz_image.h"

#include <bakefs/format.h>

#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::fuzz {
namespace {

namespace fmt = ::bakefs::format;

bool fits(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

fmt::Superblock load_superblock(const uint8_t* image) {
  fmt::Superblock sb;
  std::memcpy(&sb, image, sizeof(sb));
  return sb;
}

uint64_t superblock_checksum(const uint8_t* image) {
  return hash_bytes(image, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock);
}

// A checksummed piece of the image: `length` bytes at `offset` hash to `sum` with `seed`.
struct Piece {
  uint64_t offset, length, seed, sum;
};

bool holds(const uint8_t* image, const Piece& piece) {
  return hash_bytes(image + piece.offset, piece.length, piece.seed) == piece.sum;
}

template <typename T>
T load(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// The superblock's layout, checked as the driver's mount checks it.
struct Layout {
  uint64_t image_size;
  uint32_t unit_log;
  uint64_t unit_count;
  uint64_t data_offset, data_size;
  uint64_t meta_offset, meta_size;
  uint64_t blocks_offset, blocks_size;
  uint64_t checksums_offset;
};

bool mountable_layout(const uint8_t* image, size_t size, Layout& out) {
  if (size < fmt::kSuperblockSize) return false;
  fmt::Superblock sb = load_superblock(image);
  if (std::memcmp(sb.magic, fmt::kMagic, sizeof(sb.magic)) != 0) return false;
  if (superblock_checksum(image) != sb.checksum.load()) return false;
  if (sb.unit_log < fmt::kMinUnitLog || sb.unit_log > fmt::kMaxUnitLog) return false;
  Layout l{};
  l.image_size = sb.image_size.load();
  l.unit_log = sb.unit_log;
  l.data_offset = sb.data.offset.load();
  l.data_size = sb.data.size.load();
  l.meta_offset = sb.meta.offset.load();
  l.meta_size = sb.meta.size.load();
  l.blocks_offset = sb.blocks.offset.load();
  l.blocks_size = sb.blocks.size.load();
  l.checksums_offset = sb.checksums.offset.load();
  uint64_t checksums_size = sb.checksums.size.load();
  if (l.image_size > size || l.image_size < fmt::kSuperblockSize) return false;
  if (l.data_offset != fmt::kSuperblockSize || !fits(l.data_offset, l.data_size, l.image_size) ||
      l.meta_offset != l.data_offset + l.data_size ||
      !fits(l.meta_offset, l.meta_size, l.image_size) ||
      l.checksums_offset != l.meta_offset + l.meta_size ||
      !fits(l.checksums_offset, checksums_size, l.image_size) ||
      l.checksums_offset + checksums_size != l.image_size) {
    return false;
  }
  if (l.blocks_offset < l.meta_offset ||
      !fits(l.blocks_offset - l.meta_offset, l.blocks_size, l.meta_size)) {
    return false;
  }
  l.unit_count = (l.meta_size + (uint64_t{1} << l.unit_log) - 1) >> l.unit_log;
  if (checksums_size != l.unit_count * 8) return false;
  out = l;
  return true;
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t size, uint64_t seed) {
  return XXH3_64bits_withSeed(data, size, seed);
}

FixedImage fix_checksums(const uint8_t* data, size_t size) {
  FixedImage out;
  out.bytes.assign(data, data + size);
  if (size < fmt::kSuperblockSize) return out;
  uint8_t* image = out.bytes.data();
  const fmt::Superblock sb = load_superblock(image);
  const uint64_t limit = sb.image_size.load() < size ? sb.image_size.load() : size;
  uint64_t budget = kMaxHashedBytes;

  // Block checksums live in the block table, inside the metadata: fix them first.
  const uint64_t blocks = sb.blocks.offset.load(), blocks_size = sb.blocks.size.load();
  if (fits(blocks, blocks_size, limit)) {
    const uint64_t count = blocks_size / sizeof(fmt::BlockEntry);
    for (uint64_t id = 0; id < count; ++id) {
      uint8_t* entry_bytes = image + blocks + id * sizeof(fmt::BlockEntry);
      auto entry = load<fmt::BlockEntry>(entry_bytes);
      const uint64_t offset = entry.offset.load(), stored = entry.stored_size.load();
      if (!fits(offset, stored, limit)) continue;
      if (stored > budget) {
        out.complete = false;
        break;
      }
      budget -= stored;
      entry.checksum.store(hash_bytes(image + offset, stored, fmt::kSeedBlock + id));
      std::memcpy(entry_bytes, &entry, sizeof(entry));
    }
  }

  // Then one checksum per metadata unit, in the table after the metadata.
  const uint64_t meta = sb.meta.offset.load(), meta_size = sb.meta.size.load();
  const uint64_t sums = sb.checksums.offset.load(), sums_size = sb.checksums.size.load();
  if (sb.unit_log >= fmt::kMinUnitLog && sb.unit_log <= fmt::kMaxUnitLog &&
      fits(meta, meta_size, limit) && fits(sums, sums_size, limit)) {
    const uint64_t unit_size = uint64_t{1} << sb.unit_log;
    for (uint64_t unit = 0; unit * unit_size < meta_size && (unit + 1) * 8 <= sums_size; ++unit) {
      const uint64_t start = unit * unit_size;
      const uint64_t length = meta_size - start < unit_size ? meta_size - start : unit_size;
      if (length > budget) {
        out.complete = false;
        break;
      }
      budget -= length;
      fmt::le64 sum;
      sum.store(hash_bytes(image + meta + start, length, fmt::kSeedMetaUnit + unit));
      std::memcpy(image + sums + unit * 8, &sum, sizeof(sum));
    }
  }

  // Last the superblock, which covers everything above through its extents.
  fmt::le64 sum;
  sum.store(superblock_checksum(image));
  std::memcpy(image + offsetof(fmt::Superblock, checksum), &sum, sizeof(sum));
  return out;
}

std::vector<uint8_t> scramble_unverified(const uint8_t* data, size_t size) {
  Layout l;
  if (!mountable_layout(data, size, l)) return {};
  uint64_t budget = kMaxHashedBytes;
  auto spend = [&](uint64_t n) {
    if (n > budget) return false;
    budget -= n;
    return true;
  };
  // Bytes the driver may use: the superblock and the checksum table (mount checks the one, the
  // other is what units are checked against), and whatever a holding checksum covers.
  std::vector<bool> trusted(size, false);
  auto trust = [&](uint64_t offset, uint64_t length) {
    for (uint64_t i = 0; i < length; ++i) trusted[offset + i] = true;
  };
  trust(0, fmt::kSuperblockSize);
  trust(l.checksums_offset, l.image_size - l.checksums_offset);
  std::vector<Piece> damaged;  // must stay damaged once scrambled

  // Metadata units.
  const uint64_t unit_size = uint64_t{1} << l.unit_log;
  std::vector<bool> bad_unit(l.unit_count, false);
  for (uint64_t unit = 0; unit < l.unit_count; ++unit) {
    const uint64_t start = unit * unit_size;
    const uint64_t length = l.meta_size - start < unit_size ? l.meta_size - start : unit_size;
    const Piece piece{l.meta_offset + start, length, fmt::kSeedMetaUnit + unit,
                      load<fmt::le64>(data + l.checksums_offset + unit * 8).load()};
    if (!spend(length)) return {};
    if (holds(data, piece)) {
      trust(piece.offset, piece.length);
    } else {
      bad_unit[unit] = true;
      damaged.push_back(piece);
    }
  }

  // Blocks whose entry lies in sound units and inside the data extent.
  const uint64_t count = l.blocks_size / sizeof(fmt::BlockEntry);
  for (uint64_t id = 0; id < count; ++id) {
    const uint64_t at = l.blocks_offset + id * sizeof(fmt::BlockEntry);
    const uint64_t first = (at - l.meta_offset) >> l.unit_log;
    const uint64_t last = (at + sizeof(fmt::BlockEntry) - 1 - l.meta_offset) >> l.unit_log;
    if (bad_unit[first] || bad_unit[last]) continue;
    const auto entry = load<fmt::BlockEntry>(data + at);
    const Piece piece{entry.offset.load(), entry.stored_size.load(), fmt::kSeedBlock + id,
                      entry.checksum.load()};
    if (piece.offset < l.data_offset ||
        !fits(piece.offset - l.data_offset, piece.length, l.data_size)) {
      continue;
    }
    if (!spend(piece.length)) return {};
    if (holds(data, piece)) {
      trust(piece.offset, piece.length);
    } else {
      damaged.push_back(piece);
    }
  }

  // Scramble every other byte (bytes past the image size too). A pattern that happens to undo
  // the damage of a piece (a one-byte block, say) is replaced by the next.
  for (const uint8_t pattern : {0xa5, 0x5a, 0x3c, 0xc3}) {
    std::vector<uint8_t> out(data, data + size);
    bool changed = false;
    for (size_t i = 0; i < size; ++i) {
      if (trusted[i]) continue;
      out[i] ^= pattern;
      changed = true;
    }
    if (!changed) return {};
    bool repaired = false;
    for (const Piece& piece : damaged) {
      if (!spend(piece.length)) return {};
      repaired = repaired || holds(out.data(), piece);
    }
    if (!repaired) return out;
  }
  return {};
}

}  // namespace bakefs::fuzz
