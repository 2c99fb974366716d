// Directories: binary-search lookup and position-stable readdir over sorted entry blocks.
// SPDX-License-Identifier: BSD-2-Clause
#include "dir.h"

using namespace bakefs;

Result<DirBlock> DirBlock::open(bakefs_fs& fs, const InodeInfo& dir) {
  if (!dir.is_dir()) return Error::kNotDirectory;
  if (!fs.geo.heap.contains(dir.data, dir.size)) return Error::kCorrupt;
  // load_inode() checked that the records alone fit in the block.
  return DirBlock(fs, dir.data, dir.size, dir.entry_count());
}

Result<DirEntryInfo> DirBlock::entry(uint32_t index) const {
  if (index >= count_) return Error::kCorrupt;
  const uint64_t record = base_ + uint64_t{index} * sizeof(fmt::DirEntry);
  auto e = BAKEFS_TRY(fs_->meta_load<fmt::DirEntry>(fs_->geo.heap, record));
  const uint64_t names_start = uint64_t{count_} * sizeof(fmt::DirEntry);
  uint32_t name_offset = e.name_offset.load();
  uint32_t length = e.name_length.load();
  if (length == 0 || length > fmt::kMaxNameLength || name_offset < names_start ||
      !fits(name_offset, length, size_)) {
    return Error::kCorrupt;
  }
  const uint8_t* name = BAKEFS_TRY(fs_->meta_bytes(fs_->geo.heap, base_ + name_offset, length));
  return DirEntryInfo{e.ino.load(), e.type, name, length};
}

namespace {

// What readdir hands out must be a name lookup can find: no '/' or NUL, not "." or "..", and
// a type that exists. (The inode behind it is checked by entry_inode(), which callers use.)
bool plausible(const DirEntryInfo& e) {
  for (uint32_t i = 0; i < e.length; ++i) {
    if (e.name[i] == '/' || e.name[i] == '\0') return false;
  }
  if (e.name[0] == '.' && (e.length == 1 || (e.length == 2 && e.name[1] == '.'))) return false;
  return e.type <= 0xf && fmt::known_type(e.type << 12);
}

}  // namespace

bool bakefs::follows(const DirEntryInfo& previous, const DirEntryInfo& e) {
  return plausible(e) && (previous.name == nullptr ||
                          compare_names(previous.name, previous.length, e.name, e.length) < 0);
}

namespace {

// Lookup's binary search is only as good as the order of the entries, which readdir checks as
// it goes and stops at: a directory whose names stop ascending could give lookup a second
// entry of a name, past where readdir stops, with another inode. So before its first lookup
// a directory's entries are checked in full against the rule readdir applies (O(n) once,
// remembered; again if the record was overwritten).
Status check_order(bakefs_fs& fs, bakefs_ino dir_ino, const DirBlock& block) {
  if (fs.known_ordered(dir_ino)) return {};
  DirEntryInfo previous{};
  for (uint32_t index = 0; index < block.entry_count(); ++index) {
    DirEntryInfo e = BAKEFS_TRY(block.entry(index));
    if (!follows(previous, e)) return Error::kCorrupt;
    previous = e;
  }
  fs.mark_ordered(dir_ino);
  return {};
}

Result<bakefs_ino> lookup(bakefs_fs& fs, bakefs_ino dir_ino, const char* name, size_t length) {
  InodeInfo dir = BAKEFS_TRY(fs.load_inode(dir_ino));
  DirBlock block = BAKEFS_TRY(DirBlock::open(fs, dir));
  if (length == 1 && name[0] == '.') return dir_ino;
  if (length == 2 && name[0] == '.' && name[1] == '.') return dir.parent();  // checked
  if (length == 0 || length > fmt::kMaxNameLength) return Error::kNotFound;
  BAKEFS_CHECK(check_order(fs, dir_ino, block));
  const auto* wanted = reinterpret_cast<const uint8_t*>(name);
  uint32_t low = 0, high = block.entry_count();
  while (low < high) {
    uint32_t mid = low + (high - low) / 2;
    DirEntryInfo e = BAKEFS_TRY(block.entry(mid));
    int c = compare_names(e.name, e.length, wanted, length);
    if (c < 0) {
      low = mid + 1;
    } else if (c > 0) {
      high = mid;
    } else {
      (void)BAKEFS_TRY(fs.entry_inode(dir_ino, e.ino, e.type));
      return e.ino;
    }
  }
  return Error::kNotFound;
}

Status readdir(bakefs_fs& fs, bakefs_ino dir_ino, uint64_t pos, bakefs_dirent_fn emit, void* ctx) {
  InodeInfo dir = BAKEFS_TRY(fs.load_inode(dir_ino));
  DirBlock block = BAKEFS_TRY(DirBlock::open(fs, dir));
  const uint32_t count = block.entry_count();
  if (pos == 0) {
    if (emit(ctx, ".", 1, dir_ino, fmt::kTypeDir >> 12, 0, 1) != 0) return {};
    pos = 1;
  }
  if (pos == 1) {
    if (emit(ctx, "..", 2, dir.parent(), fmt::kTypeDir >> 12, 1, 2) != 0) return {};
    pos = 2;
  }
  // Names must ascend strictly, as lookup's binary search assumes: compare each with the one
  // before it (on resumption, load that one first).
  DirEntryInfo previous{};
  if (pos > 2 && pos - 2 <= count)
    previous = BAKEFS_TRY(block.entry(static_cast<uint32_t>(pos - 3)));
  for (uint64_t index = pos - 2; index < count; ++index) {
    DirEntryInfo e = BAKEFS_TRY(block.entry(static_cast<uint32_t>(index)));
    if (!follows(previous, e)) return Error::kCorrupt;
    // What readdir hands out is followed without a lookup (by ls -R, extract, a kernel's
    // readdirplus): it must obey the same rule.
    (void)BAKEFS_TRY(fs.entry_inode(dir_ino, e.ino, e.type));
    previous = e;
    if (emit(ctx, reinterpret_cast<const char*>(e.name), e.length, e.ino, e.type, index + 2,
             index + 3) != 0) {
      return {};
    }
  }
  return {};
}

}  // namespace

Result<InodeInfo> bakefs_fs::entry_inode(bakefs_ino dir, bakefs_ino ino, uint32_t type) {
  if (ino == dir) return Error::kCorrupt;
  InodeInfo child = BAKEFS_TRY(load_linked_inode(ino));
  if (type != static_cast<uint32_t>(child.mode >> 12)) return Error::kCorrupt;
  if (child.is_dir() && child.parent() != dir) return Error::kCorrupt;
  return child;
}

extern "C" int bakefs_lookup(bakefs_fs* fs, bakefs_ino dir, const char* name, size_t length,
                             bakefs_ino* out) {
  if (fs == nullptr || out == nullptr || (name == nullptr && length != 0)) return BAKEFS_EINVAL;
  auto r = lookup(*fs, dir, name, length);
  if (!r) return static_cast<int>(r.error());
  *out = r.value();
  return BAKEFS_OK;
}

extern "C" int bakefs_readdir(bakefs_fs* fs, bakefs_ino dir, uint64_t pos, bakefs_dirent_fn emit,
                              void* ctx) {
  if (fs == nullptr || emit == nullptr) return BAKEFS_EINVAL;
  return to_status(readdir(*fs, dir, pos, emit, ctx));
}
