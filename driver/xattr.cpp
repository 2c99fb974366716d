// Extended attributes: full names ("user.x") and values in one XattrSet per inode.
// SPDX-License-Identifier: BSD-2-Clause
#include "dir.h"  // compare_names: xattr sets keep the order of directories

using namespace bakefs;

namespace {

struct Xattr {
  const uint8_t* name;
  uint32_t name_length;
  const uint8_t* value;
  uint32_t value_length;
};

// Calls visit(Xattr) for each attribute of the set at heap offset `ref` until it returns true;
// *end gets the offset after the last entry visited.
template <typename Visit>
Status walk_set(bakefs_fs& fs, uint64_t ref, Visit&& visit, uint64_t* end = nullptr,
                uint32_t* size_out = nullptr) {
  auto header = BAKEFS_TRY(fs.meta_load<fmt::XattrSet>(fs.geo.heap, ref));
  uint32_t count = header.count.load();
  uint32_t size = header.size.load();
  if (size < sizeof(fmt::XattrSet)) return Error::kCorrupt;
  const uint8_t* set = BAKEFS_TRY(fs.meta_bytes(fs.geo.heap, ref, size));
  if (size_out != nullptr) *size_out = size;
  uint64_t pos = sizeof(fmt::XattrSet);
  for (uint32_t i = 0; i < count; ++i) {
    if (!fits(pos, sizeof(fmt::XattrEntry), size)) return Error::kCorrupt;
    fmt::XattrEntry e;
    copy_bytes(&e, set + pos, sizeof(e));
    uint32_t name_length = e.name_length.load();
    uint32_t value_length = e.value_length.load();
    pos += sizeof(e);
    if (name_length == 0 || name_length > fmt::kMaxNameLength ||
        !fits(pos, uint64_t{name_length} + value_length, size)) {
      return Error::kCorrupt;
    }
    Xattr x{set + pos, name_length, set + pos + name_length, value_length};
    for (uint32_t k = 0; k < name_length; ++k) {
      if (x.name[k] == '\0') return Error::kCorrupt;  // listxattr separates names with NUL
    }
    pos += uint64_t{name_length} + value_length;
    if (end != nullptr) *end = pos;
    if (visit(x)) return {};
  }
  return {};
}

template <typename Visit>
Status for_each_xattr(bakefs_fs& fs, bakefs_ino ino, Visit&& visit) {
  InodeInfo n = BAKEFS_TRY(fs.load_inode(ino));
  if ((n.flags & fmt::kInodeHasXattrs) == 0) return {};
  return walk_set(fs, n.xattr_ref, visit);
}

Status listxattr(bakefs_fs& fs, bakefs_ino ino, char* buf, size_t size, size_t* needed) {
  size_t total = 0;
  BAKEFS_CHECK(for_each_xattr(fs, ino, [&](const Xattr& x) {
    if (size != 0 && total + x.name_length + 1 <= size) {
      copy_bytes(buf + total, x.name, x.name_length);
      buf[total + x.name_length] = '\0';
    }
    total += x.name_length + 1;
    return false;
  }));
  *needed = total;
  if (size != 0 && size < total) return Error::kRange;
  return {};
}

Status getxattr(bakefs_fs& fs, bakefs_ino ino, const char* name, void* buf, size_t size,
                size_t* needed) {
  const auto* wanted = reinterpret_cast<const uint8_t*>(name);
  const size_t wanted_length = string_length(name);
  bool found = false;
  BAKEFS_CHECK(for_each_xattr(fs, ino, [&](const Xattr& x) {
    if (compare_names(x.name, x.name_length, wanted, wanted_length) != 0) return false;
    found = true;
    *needed = x.value_length;
    if (size != 0 && size >= x.value_length) copy_bytes(buf, x.value, x.value_length);
    return true;
  }));
  if (!found) return Error::kNoData;
  if (size != 0 && size < *needed) return Error::kRange;
  return {};
}

}  // namespace

Status bakefs_fs::check_xattr_set(uint64_t ref) {
  // Every entry sound, names strictly ascending, and nothing after the last entry.
  const uint8_t* previous = nullptr;
  uint32_t previous_length = 0;
  bool ordered = true;
  uint64_t end = sizeof(fmt::XattrSet);
  uint32_t size = 0;
  BAKEFS_CHECK(walk_set(
      *this, ref,
      [&](const Xattr& x) {
        if (previous != nullptr &&
            compare_names(previous, previous_length, x.name, x.name_length) >= 0) {
          ordered = false;
        }
        previous = x.name;
        previous_length = x.name_length;
        return false;
      },
      &end, &size));
  if (!ordered || end != size) return Error::kCorrupt;
  return {};
}

extern "C" int bakefs_listxattr(bakefs_fs* fs, bakefs_ino ino, char* buf, size_t size,
                                size_t* needed) {
  if (fs == nullptr || needed == nullptr || (buf == nullptr && size != 0)) return BAKEFS_EINVAL;
  *needed = 0;
  return to_status(listxattr(*fs, ino, buf, size, needed));
}

extern "C" int bakefs_getxattr(bakefs_fs* fs, bakefs_ino ino, const char* name, void* buf,
                               size_t size, size_t* needed) {
  if (fs == nullptr || name == nullptr || needed == nullptr || (buf == nullptr && size != 0)) {
    return BAKEFS_EINVAL;
  }
  *needed = 0;
  return to_status(getxattr(*fs, ino, name, buf, size, needed));
}
