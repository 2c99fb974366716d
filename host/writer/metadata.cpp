// encode_metadata: inodes in their compact or extended form, and the heap objects they use.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/metadata.h"

#include <bakefs/format.h>

#include <algorithm>
#include <functional>

namespace bakefs::build {
namespace {

namespace fmt = ::bakefs::format;

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void put_le32(std::string& out, uint32_t value) {
  fmt::le32 v;
  v.store(value);
  put(out, v);
}

// `path` gives the inode's path for a message (made only when there is one to give).
using PathOf = std::function<std::string()>;

std::string encode_xattrs(const std::vector<Xattr>& xattrs, const PathOf& path) {
  std::string body;
  for (const Xattr& x : xattrs) {
    if (x.name.empty() || x.name.size() > fmt::kMaxNameLength) {
      throw Error(path() + ": extended attribute name too long: " + x.name);
    }
    if (x.value.size() > UINT32_MAX - 64) throw Error(path() + ": extended attribute too large");
    fmt::XattrEntry e{};
    e.name_length.store(static_cast<uint16_t>(x.name.size()));
    e.value_length.store(static_cast<uint32_t>(x.value.size()));
    put(body, e);
    body += x.name;
    body += x.value;
  }
  if (body.size() + sizeof(fmt::XattrSet) > UINT32_MAX) {
    throw Error(path() + ": extended attributes too large");
  }
  fmt::XattrSet header{};
  header.count.store(static_cast<uint32_t>(xattrs.size()));
  header.size.store(static_cast<uint32_t>(body.size() + sizeof(header)));
  std::string out;
  put(out, header);
  return out + body;
}

std::string encode_directory(const Inode& dir, const Numbering& num, const PathOf& path) {
  std::string entries, names;
  const size_t names_start = dir.children.size() * sizeof(fmt::DirEntry);
  for (const auto& [name, child] : dir.children) {
    uint64_t offset = names_start + names.size();
    if (offset > UINT32_MAX) throw Error(path() + ": directory too large");
    fmt::DirEntry e{};
    e.ino.store(num.ino_of(child.get()));
    e.name_offset.store(static_cast<uint32_t>(offset));
    e.name_length.store(static_cast<uint16_t>(name.size()));
    e.type = static_cast<uint8_t>(child->mode >> 12);
    put(entries, e);
    names += name;
  }
  return entries + names;
}

std::string encode_block_list(const FileLayout& f) {
  std::string list;
  if (f.holes != 0) put_le32(list, f.holes);
  for (uint32_t id : f.blocks) put_le32(list, id);
  return list;
}

// The fields both forms share, before they are packed.
struct Fields {
  uint16_t flags = 0;
  uint64_t size = 0;
  uint32_t data = 0;
  uint32_t xattr_ref = 0;
  uint32_t aux0 = 0, aux1 = 0;
};

}  // namespace

uint32_t Heap::append(const std::string& bytes) {
  while (bytes_.size() % fmt::kHeapAlign != 0) bytes_.push_back('\0');
  uint64_t word = bytes_.size() / fmt::kHeapAlign;
  // The whole heap must stay within reach of 32-bit words (the driver refuses more).
  if (bytes_.size() + bytes.size() > (uint64_t{UINT32_MAX} + 1) * fmt::kHeapAlign) {
    throw Error("metadata heap larger than 16 GiB");
  }
  bytes_ += bytes;
  return static_cast<uint32_t>(word);
}

uint32_t Heap::append_unique(const std::string& bytes) {
  auto it = unique_.find(bytes);
  if (it != unique_.end()) return it->second;
  uint32_t word = append(bytes);
  unique_.emplace(bytes, word);
  return word;
}

Metadata encode_metadata(const Numbering& num, const std::vector<FileLayout>& layouts,
                         const DataWriter& data, Stats& stats) {
  Metadata meta;
  meta.inodes.reserve(static_cast<size_t>(num.slots) * fmt::kSlotSize);
  for (const auto& [uid, gid] : num.ids) {
    fmt::IdPair pair;
    pair.uid.store(uid);
    pair.gid.store(gid);
    put(meta.ids, pair);
  }
  for (size_t i = 0; i < num.inodes.size(); ++i) {
    const Inode& n = *num.inodes[i];
    const PathOf path = [&num, i] { return num.path_of(i); };
    if (n.mtime_nsec >= 1000000000u) throw Error(path() + ": invalid modification time");
    meta.newest_mtime = std::max(meta.newest_mtime, n.mtime_sec);
    Fields f;
    if (!n.xattrs.empty()) {
      f.flags |= fmt::kInodeHasXattrs;
      f.xattr_ref = meta.heap.append_unique(encode_xattrs(n.xattrs, path));
    }
    switch (n.type()) {
      case fmt::kTypeRegular: {
        stats.files += 1;
        const FileLayout& layout = layouts[i];
        f.size = n.size;
        if (layout.holes != 0) f.flags |= fmt::kInodeSparse;
        if (!layout.blocks.empty()) f.data = meta.heap.append_unique(encode_block_list(layout));
        if (layout.has_tail) {
          f.flags |= fmt::kInodeHasTail;
          f.aux0 = data.fragment_block(layout.fragment);
          f.aux1 = layout.tail_offset;
        }
        break;
      }
      case fmt::kTypeDir: {
        stats.directories += 1;
        std::string block = encode_directory(n, num, path);
        f.size = block.size();
        f.data = meta.heap.append(block);
        f.aux0 = static_cast<uint32_t>(n.children.size());
        f.aux1 = num.ino[num.parent[i]];
        break;
      }
      case fmt::kTypeSymlink:
        stats.symlinks += 1;
        if (n.target.empty() || n.target.size() > fmt::kMaxSymlinkLength) {
          throw Error(path() + ": symlink target empty or longer than 4095 bytes");
        }
        f.size = n.target.size();
        f.data = meta.heap.append(n.target);
        break;
      case fmt::kTypeChar:
      case fmt::kTypeBlock:
        stats.specials += 1;
        f.aux0 = n.rdev_major;
        f.aux1 = n.rdev_minor;
        break;
      case fmt::kTypeFifo:
      case fmt::kTypeSocket:
        stats.specials += 1;
        break;
      default:
        throw Error(path() + ": unknown file type");
    }
    if (num.extended[i]) {
      fmt::ExtendedInode e{};
      e.mode.store(n.mode);
      e.flags.store(f.flags | fmt::kInodeExtended);
      e.nlink.store(num.nlink[i]);
      e.uid.store(n.uid);
      e.gid.store(n.gid);
      e.size.store(f.size);
      e.mtime_sec.store(static_cast<uint64_t>(n.mtime_sec));
      e.continued.store(fmt::kSlotContinued);
      e.mtime_nsec.store(n.mtime_nsec);
      e.data.store(f.data);
      e.xattr_ref.store(f.xattr_ref);
      e.aux0.store(f.aux0);
      e.aux1.store(f.aux1);
      put(meta.inodes, e);
    } else {
      if (f.size > UINT32_MAX) throw Error(path() + ": directory too large");
      fmt::CompactInode c{};
      c.mode.store(n.mode);
      c.flags.store(f.flags);
      c.nlink.store(static_cast<uint16_t>(num.nlink[i]));
      c.id.store(static_cast<uint16_t>(num.id[i]));
      c.size.store(static_cast<uint32_t>(f.size));
      c.data.store(f.data);
      c.mtime.store(static_cast<uint64_t>(n.mtime_sec) << fmt::kCompactNsecBits | n.mtime_nsec);
      c.aux0.store(f.aux0);
      c.aux1.store(f.aux1);
      put(meta.inodes, c);
    }
  }
  return meta;
}

}  // namespace bakefs::build
