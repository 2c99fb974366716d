// write_image: number the inodes, write the data, then the metadata, checksums and superblock.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <thread>
#include <unordered_map>

#include "build.h"
#include "data.h"
#include "output.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::build {
namespace {

namespace fmt = ::bakefs::format;

// Inode numbers in breadth-first order, each directory's children in name order, so that
// the entries of one directory have neighbouring inodes (ls -l touches one stretch of the
// table). A hard-linked inode takes the number of its first name in that order.
struct Numbering {
  std::vector<const Inode*> inodes;  // index ino - 1
  std::vector<std::string> paths;    // a path of each, for messages
  std::vector<uint32_t> nlink;
  std::vector<uint32_t> parent;  // directories
  std::unordered_map<const Inode*, uint32_t> ino;

  uint32_t add(const Inode* n, std::string path, uint32_t parent_ino) {
    if (inodes.size() >= fmt::kHoleBlock - 1) throw Error("too many inodes for one image");
    inodes.push_back(n);
    paths.push_back(std::move(path));
    nlink.push_back(n->is_dir() ? 2 : 0);
    parent.push_back(parent_ino);
    uint32_t number = static_cast<uint32_t>(inodes.size());
    ino.emplace(n, number);
    return number;
  }
};

void check_name(const std::string& name, const std::string& path) {
  if (name.empty() || name == "." || name == ".." || name.size() > fmt::kMaxNameLength ||
      name.find('/') != std::string::npos || name.find('\0') != std::string::npos) {
    throw Error(path + ": invalid file name");
  }
}

Numbering number_inodes(const Inode& root) {
  Numbering num;
  num.add(&root, "/", fmt::kRootIno);
  std::deque<uint32_t> queue{fmt::kRootIno};
  while (!queue.empty()) {
    uint32_t dir_ino = queue.front();
    queue.pop_front();
    const Inode& dir = *num.inodes[dir_ino - 1];
    const std::string base = dir_ino == fmt::kRootIno ? "/" : num.paths[dir_ino - 1] + "/";
    for (const auto& [name, child] : dir.children) {
      std::string path = base + name;
      check_name(name, path);
      auto it = num.ino.find(child.get());
      if (it != num.ino.end()) {
        if (child->is_dir()) throw Error(path + ": directory has more than one name");
        num.nlink[it->second - 1] += 1;
        continue;
      }
      uint32_t ino = num.add(child.get(), path, dir_ino);
      if (child->is_dir()) {
        num.nlink[dir_ino - 1] += 1;  // the child's ".."
        queue.push_back(ino);
      } else {
        num.nlink[ino - 1] = 1;
      }
    }
  }
  return num;
}

// Variable-sized metadata; identical block lists and xattr sets are stored once.
class Heap {
 public:
  uint64_t append(const void* data, size_t size, size_t align) {
    while (bytes_.size() % align != 0) bytes_.push_back(0);
    uint64_t offset = bytes_.size();
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    return offset;
  }
  uint64_t append_unique(const std::string& data, size_t align) {
    auto it = unique_.find(data);
    if (it != unique_.end()) return it->second;
    uint64_t offset = append(data.data(), data.size(), align);
    unique_.emplace(data, offset);
    return offset;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  std::unordered_map<std::string, uint64_t> unique_;
};

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

std::string encode_xattrs(const std::vector<Xattr>& xattrs, const std::string& path) {
  std::string body;
  for (const Xattr& x : xattrs) {
    if (x.name.empty() || x.name.size() > fmt::kMaxNameLength) {
      throw Error(path + ": extended attribute name too long: " + x.name);
    }
    if (x.value.size() > UINT32_MAX) throw Error(path + ": extended attribute too large");
    fmt::XattrEntry e{};
    e.name_length.store(static_cast<uint16_t>(x.name.size()));
    e.value_length.store(static_cast<uint32_t>(x.value.size()));
    put(body, e);
    body += x.name;
    body += x.value;
  }
  fmt::XattrSet header{};
  header.count.store(static_cast<uint32_t>(xattrs.size()));
  if (body.size() + sizeof(header) > UINT32_MAX)
    throw Error(path + ": extended attributes too large");
  header.size.store(static_cast<uint32_t>(body.size() + sizeof(header)));
  std::string out;
  put(out, header);
  return out + body;
}

std::string encode_directory(const Inode& dir, const Numbering& num) {
  std::string entries, names;
  size_t names_start = dir.children.size() * sizeof(fmt::DirEntry);
  for (const auto& [name, child] : dir.children) {
    fmt::DirEntry e{};
    e.ino.store(num.ino.at(child.get()));
    uint64_t offset = names_start + names.size();
    if (offset > UINT32_MAX) throw Error("directory too large");
    e.name_offset.store(static_cast<uint32_t>(offset));
    e.name_length.store(static_cast<uint16_t>(name.size()));
    e.type = static_cast<uint8_t>(child->mode >> 12);
    put(entries, e);
    names += name;
  }
  return entries + names;
}

Stats build(const Tree& tree, const Options& options, OutputFile& out) {
  Stats stats;
  stats.threads = options.threads;
  const Numbering num = number_inodes(*tree.root);
  const size_t count = num.inodes.size();

  // Data, in inode order.
  out.append_zeros(fmt::kSuperblockSize);
  std::vector<FileLayout> layouts(count);
  DataWriter data(out, options, stats);
  for (size_t i = 0; i < count; ++i) {
    if (num.inodes[i]->is_regular()) layouts[i] = data.add_file(*num.inodes[i]);
  }
  data.finish();
  const uint64_t data_end = out.size();

  // Metadata.
  Heap heap;
  std::vector<fmt::Inode> inodes(count);
  int64_t newest = INT64_MIN;
  for (size_t i = 0; i < count; ++i) {
    const Inode& n = *num.inodes[i];
    const std::string& path = num.paths[i];
    fmt::Inode& r = inodes[i];
    r.mode.store(n.mode);
    r.nlink.store(num.nlink[i]);
    r.uid.store(n.uid);
    r.gid.store(n.gid);
    if (n.mtime_nsec >= 1000000000u) throw Error(path + ": invalid modification time");
    r.mtime_sec.store(static_cast<uint64_t>(n.mtime_sec));
    r.mtime_nsec.store(n.mtime_nsec);
    newest = std::max(newest, n.mtime_sec);
    uint16_t flags = 0;
    if (!n.xattrs.empty()) {
      flags |= fmt::kInodeHasXattrs;
      r.xattr_ref.store(heap.append_unique(encode_xattrs(n.xattrs, path), 4));
    }
    switch (n.type()) {
      case fmt::kTypeRegular: {
        stats.files += 1;
        const FileLayout& f = layouts[i];
        r.size.store(n.size);
        r.holes.store(f.holes);
        std::string list;
        for (uint32_t id : f.blocks) {
          fmt::le32 entry;
          entry.store(id);
          put(list, entry);
        }
        if (!list.empty()) r.data.store(heap.append_unique(list, 4));
        if (f.has_tail) {
          flags |= fmt::kInodeHasTail;
          r.aux0.store(data.fragment_block(f.fragment));
          r.aux1.store(f.tail_offset);
        }
        break;
      }
      case fmt::kTypeDir: {
        stats.directories += 1;
        std::string block = encode_directory(n, num);
        r.size.store(block.size());
        r.data.store(heap.append(block.data(), block.size(), 4));
        r.aux0.store(static_cast<uint32_t>(n.children.size()));
        r.aux1.store(num.parent[i]);
        break;
      }
      case fmt::kTypeSymlink:
        stats.symlinks += 1;
        if (n.target.empty()) throw Error(path + ": symlink with an empty target");
        r.size.store(n.target.size());
        r.data.store(heap.append(n.target.data(), n.target.size(), 1));
        break;
      case fmt::kTypeChar:
      case fmt::kTypeBlock:
        stats.specials += 1;
        r.aux0.store(n.rdev_major);
        r.aux1.store(n.rdev_minor);
        break;
      case fmt::kTypeFifo:
      case fmt::kTypeSocket:
        stats.specials += 1;
        break;
      default:
        throw Error(path + ": unknown file type");
    }
    r.flags.store(flags);
  }
  stats.inodes = count;

  std::vector<fmt::BlockEntry> blocks(data.blocks().size());
  for (size_t id = 0; id < blocks.size(); ++id) {
    const StoredBlock& b = data.blocks()[id];
    blocks[id].offset.store(b.offset);
    blocks[id].stored_size.store(b.stored_size);
    blocks[id].raw_size.store(b.raw_size);
    blocks[id].checksum.store(b.checksum);
  }

  // The metadata extent: inode table, block table, heap, each 8-byte aligned inside it.
  std::vector<uint8_t> meta;
  auto place = [&](const void* p, size_t size, fmt::Extent& extent) {
    while (meta.size() % 8 != 0) meta.push_back(0);
    extent.offset.store(data_end + meta.size());
    extent.size.store(size);
    const auto* bytes = static_cast<const uint8_t*>(p);
    meta.insert(meta.end(), bytes, bytes + size);
  };
  fmt::Superblock sb{};
  place(inodes.data(), inodes.size() * sizeof(fmt::Inode), sb.inodes);
  place(blocks.data(), blocks.size() * sizeof(fmt::BlockEntry), sb.blocks);
  place(heap.bytes().data(), heap.bytes().size(), sb.heap);
  out.append(meta.data(), meta.size());

  const uint64_t unit = uint64_t{1} << options.unit_log;
  std::vector<fmt::le64> sums;
  for (uint64_t start = 0, index = 0; start < meta.size(); start += unit, ++index) {
    uint64_t length = std::min<uint64_t>(unit, meta.size() - start);
    fmt::le64 sum;
    sum.store(XXH3_64bits_withSeed(meta.data() + start, length, fmt::kSeedMetaUnit + index));
    sums.push_back(sum);
  }
  out.append(sums.data(), sums.size() * sizeof(fmt::le64));

  std::memcpy(sb.magic, fmt::kMagic, sizeof(sb.magic));
  sb.version_major.store(fmt::kVersionMajor);
  sb.version_minor.store(fmt::kVersionMinor);
  sb.superblock_size.store(fmt::kSuperblockSize);
  sb.feature_incompat.store(stats.blocks_raw < stats.blocks_stored ? fmt::kIncompatZstd : 0);
  sb.block_log = static_cast<uint8_t>(options.block_log);
  sb.unit_log = static_cast<uint8_t>(options.unit_log);
  sb.inode_count.store(static_cast<uint32_t>(count));
  sb.image_size.store(out.size());
  int64_t build_time = options.build_time.value_or(newest == INT64_MIN ? 0 : newest);
  sb.build_time_sec.store(static_cast<uint64_t>(build_time));
  sb.block_count.store(static_cast<uint32_t>(blocks.size()));
  sb.data.offset.store(fmt::kSuperblockSize);
  sb.data.size.store(data_end - fmt::kSuperblockSize);
  sb.meta.offset.store(data_end);
  sb.meta.size.store(meta.size());
  sb.checksums.offset.store(data_end + meta.size());
  sb.checksums.size.store(sums.size() * sizeof(fmt::le64));
  sb.file_bytes.store(stats.file_bytes);
  sb.stored_bytes.store(stats.data_bytes);
  sb.checksum.store(
      XXH3_64bits_withSeed(&sb, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock));
  out.write_at(0, &sb, sizeof(sb));

  stats.metadata_bytes = meta.size() + sums.size() * sizeof(fmt::le64);
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
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  if (tree.root == nullptr || !tree.root->is_dir())
    throw Error("the root of the tree is not a directory");
  OutputFile out(output);
  Stats stats = build(tree, options, out);
  out.commit();
  return stats;
}

}  // namespace bakefs::build
