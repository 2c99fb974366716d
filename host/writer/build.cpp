// write_image: number the inodes, write the data, then the metadata, checksums and superblock.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/build.h"

#include <bakefs/format.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "writer/data.h"
#include "writer/dictionary.h"
#include "writer/metadata.h"
#include "writer/numbering.h"
#include "writer/output.h"
#include "writer/placement.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::build {
namespace {

namespace fmt = ::bakefs::format;

// The metadata extent: each table 8-byte aligned inside it, padding included in the checksums.
class MetaExtent {
 public:
  explicit MetaExtent(uint64_t start) : start_(start) {}
  void place(const std::string& table, fmt::Extent& extent) {
    while (bytes_.size() % 8 != 0) bytes_.push_back('\0');
    extent.offset.store(start_ + bytes_.size());
    extent.size.store(table.size());
    bytes_ += table;
  }
  const std::string& bytes() const { return bytes_; }

  // One XXH3-64 per unit, seeded with the unit's index.
  std::string checksums(uint32_t unit_log) const {
    const uint64_t unit = uint64_t{1} << unit_log;
    std::string sums;
    for (uint64_t start = 0, index = 0; start < bytes_.size(); start += unit, ++index) {
      uint64_t length = std::min<uint64_t>(unit, bytes_.size() - start);
      fmt::le64 sum;
      sum.store(XXH3_64bits_withSeed(bytes_.data() + start, length, fmt::kSeedMetaUnit + index));
      sums.append(reinterpret_cast<const char*>(&sum), sizeof(sum));
    }
    return sums;
  }

 private:
  uint64_t start_;
  std::string bytes_;
};

std::string block_table(const std::vector<StoredBlock>& blocks) {
  std::string table;
  table.reserve(blocks.size() * sizeof(fmt::BlockEntry));
  for (const StoredBlock& b : blocks) {
    fmt::BlockEntry e;
    e.offset.store(b.offset);
    e.stored_size.store(b.stored_size);
    e.raw_size.store(b.raw_size | (b.x86 ? fmt::kBlockX86Filter : 0));
    e.checksum.store(b.checksum);
    table.append(reinterpret_cast<const char*>(&e), sizeof(e));
  }
  return table;
}

// The boot records (format.h): the configuration first, then the tmpfs directories in order.
std::string boot_records(const Options& options) {
  std::string records;
  auto add = [&records](uint16_t type, const std::string& payload) {
    if (payload.size() > fmt::kMaxBootRecord) {
      throw Error("boot record larger than " + std::to_string(fmt::kMaxBootRecord) + " bytes");
    }
    fmt::BootRecord header{};
    header.type.store(type);
    header.length.store(static_cast<uint32_t>(payload.size()));
    records.append(reinterpret_cast<const char*>(&header), sizeof(header));
    records += payload;
    records.append((8 - records.size() % 8) % 8, '\0');
  };
  if (!options.config.empty()) add(fmt::kBootConfig, options.config);
  for (const std::string& path : options.tmpfs) add(fmt::kBootTmpfs, path);
  if (options.root_flags) {
    fmt::le32 flags;
    flags.store(*options.root_flags);
    add(fmt::kBootRoot, std::string(reinterpret_cast<const char*>(&flags), sizeof(flags)));
  }
  if (!options.mount_at.empty()) add(fmt::kBootMount, options.mount_at);
  return records;
}

Stats build(const Tree& tree, const Options& options, OutputFile& out) {
  Stats stats;
  stats.threads = options.threads;
  const Numbering num = number_inodes(*tree.root);
  stats.inodes = num.inodes.size();

  // Data, in data_order(), compressed with a dictionary learnt from the files themselves. The
  // dictionary learns from the files in name order whatever the placement, so that placements
  // compare on their own.
  Options by_names = options;
  by_names.placement = Placement::kNames;
  std::vector<const Inode*> files;
  for (size_t i : data_order(num, options.data_first, by_names)) files.push_back(num.inodes[i]);
  const std::string dictionary =
      train_dictionary(files, options.dictionary_size, options.level, 1u << options.block_log);
  const std::vector<size_t> order = data_order(num, options.data_first, options);
  out.append_zeros(fmt::kSuperblockSize);
  std::vector<FileLayout> layouts(num.inodes.size());
  DataWriter data(out, options, dictionary, stats);
  uint64_t total_bytes = 0, done_files = 0, done_bytes = 0;
  for (const Inode* n : files) total_bytes += n->size;
  for (size_t i : order) {
    layouts[i] = data.add_file(*num.inodes[i]);
    done_bytes += num.inodes[i]->size;
    if (options.progress) options.progress(++done_files, done_bytes, files.size(), total_bytes);
  }
  data.finish();
  const uint64_t data_end = out.size();
  const bool compressed = stats.blocks_raw < stats.blocks_stored;
  const bool with_dictionary = compressed && !dictionary.empty();  // else nobody needs it

  const Metadata meta = encode_metadata(num, layouts, data, stats);
  fmt::Superblock sb{};
  MetaExtent extent(data_end);
  extent.place(meta.inodes, sb.inodes);
  extent.place(block_table(data.blocks()), sb.blocks);
  extent.place(meta.ids, sb.ids);
  extent.place(meta.heap.bytes(), sb.heap);
  if (with_dictionary) {
    extent.place(dictionary, sb.dictionary);
    stats.dictionary_bytes = dictionary.size();
  }
  const std::string boot = boot_records(options);
  if (!boot.empty()) extent.place(boot, sb.boot);
  const std::string sums = extent.checksums(options.unit_log);
  out.append(extent.bytes().data(), extent.bytes().size());
  out.append(sums.data(), sums.size());

  std::memcpy(sb.magic, fmt::kMagic, sizeof(sb.magic));
  sb.version_major.store(fmt::kVersionMajor);
  sb.version_minor.store(fmt::kVersionMinor);
  sb.superblock_size.store(fmt::kSuperblockSize);
  sb.feature_compat.store(boot.empty() ? 0 : fmt::kCompatBoot);
  sb.feature_incompat.store((compressed ? fmt::kIncompatZstd : 0) |
                            (with_dictionary ? fmt::kIncompatDictionary : 0) |
                            (stats.x86_blocks != 0 ? fmt::kIncompatX86Filter : 0));
  sb.block_log = static_cast<uint8_t>(options.block_log);
  sb.unit_log = static_cast<uint8_t>(options.unit_log);
  sb.inode_count.store(static_cast<uint32_t>(num.inodes.size()));
  sb.image_size.store(out.size());
  int64_t newest = meta.newest_mtime == INT64_MIN ? 0 : meta.newest_mtime;
  sb.build_time_sec.store(static_cast<uint64_t>(options.build_time.value_or(newest)));
  sb.block_count.store(static_cast<uint32_t>(data.blocks().size()));
  sb.data.offset.store(fmt::kSuperblockSize);
  sb.data.size.store(data_end - fmt::kSuperblockSize);
  sb.meta.offset.store(data_end);
  sb.meta.size.store(extent.bytes().size());
  sb.checksums.offset.store(data_end + extent.bytes().size());
  sb.checksums.size.store(sums.size());
  sb.file_bytes.store(stats.file_bytes);
  sb.stored_bytes.store(stats.data_bytes);
  sb.checksum.store(
      XXH3_64bits_withSeed(&sb, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock));
  out.write_at(0, &sb, sizeof(sb));

  stats.metadata_bytes = extent.bytes().size() + sums.size();
  stats.image_bytes = out.size();
  return stats;
}

}  // namespace

Stats write_image(const Tree& tree, const Options& given, const std::string& output) {
  Options options = given;
  if (options.block_log < fmt::kMinBlockLog || options.block_log > fmt::kMaxBlockLog) {
    throw Error("block size must be a power of two from 4 KiB to 1 MiB");
  }
  if (options.unit_log < fmt::kMinUnitLog || options.unit_log > fmt::kMaxUnitLog) {
    throw Error("checksum unit size out of range");
  }
  if (options.level < 1 || options.level > 22) throw Error("zstd level must be 1..22");
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  if (tree.root == nullptr || !tree.root->is_dir()) {
    throw Error("the root of the tree is not a directory");
  }
  OutputFile out(output);
  Stats stats = build(tree, options, out);
  out.commit();
  return stats;
}

}  // namespace bakefs::build
