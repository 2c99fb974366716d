// Directories: binary-search lookup and position-stable readdir over sorted entry blocks.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

using namespace bakefs;

namespace {

struct Entry {
  bakefs_ino ino;
  uint32_t type;
  const uint8_t* name;
  uint32_t length;
};

// A directory's entry block, checked against the heap.
struct DirView {
  uint64_t base;   // heap offset of the block
  uint64_t size;   // bytes of the block
  uint32_t count;  // entries
};

Result<DirView> open_dir(bakefs_fs& fs, const InodeInfo& dir) {
  if (!dir.is_dir()) return Error::kNotDirectory;
  if (!fs.heap.contains(dir.data, dir.size)) return Error::kCorrupt;
  return DirView{dir.data, dir.size, dir.aux0};
}

Result<Entry> entry_at(bakefs_fs& fs, const DirView& dir, uint32_t index) {
  auto e = BAKEFS_TRY(
      fs.meta_load<fmt::DirEntry>(fs.heap, dir.base + uint64_t{index} * sizeof(fmt::DirEntry)));
  uint32_t name_offset = e.name_offset.load();
  uint32_t length = e.name_length.load();
  if (length == 0 || length > fmt::kMaxNameLength || !fits(name_offset, length, dir.size)) {
    return Error::kCorrupt;
  }
  const uint8_t* name = BAKEFS_TRY(fs.meta_bytes(fs.heap, dir.base + name_offset, length));
  return Entry{e.ino.load(), e.type, name, length};
}

// What readdir hands out must be a name lookup can find: no '/' or NUL, not "." or "..", and
// a type that exists. (The inode behind it is checked by lookup, which callers use next.)
bool plausible(const Entry& e) {
  for (uint32_t i = 0; i < e.length; ++i) {
    if (e.name[i] == '/' || e.name[i] == '\0') return false;
  }
  if (e.name[0] == '.' && (e.length == 1 || (e.length == 2 && e.name[1] == '.'))) return false;
  return e.type <= 0xf && fmt::known_type(e.type << 12);
}

int compare_names(const uint8_t* a, size_t a_length, const char* b, size_t b_length) {
  int c = compare_bytes(a, b, min_of(a_length, b_length));
  if (c != 0) return c;
  return a_length < b_length ? -1 : (a_length > b_length ? 1 : 0);
}

// The rule for the entry after `previous` (none yet: name == nullptr), which readdir applies
// as it goes and lookup to a whole directory first: plausible, and its name strictly after.
bool follows(const Entry& previous, const Entry& e) {
  return plausible(e) &&
         (previous.name == nullptr ||
          compare_names(previous.name, previous.length, reinterpret_cast<const char*>(e.name),
                        e.length) < 0);
}

// Lookup's binary search is only as good as the order of the entries, which readdir checks as
// it goes and stops at: a directory whose names stop ascending could give lookup a second
// entry of a name, past where readdir stops, with another inode. So before its first lookup
// a directory's entries are checked in full against the rule readdir applies (O(n) once,
// remembered; again if the record was overwritten).
Status check_order(bakefs_fs& fs, bakefs_ino dir_ino, const DirView& view) {
  if (fs.ordered_dirs.contains(dir_ino)) return {};
  Entry previous{};
  for (uint32_t index = 0; index < view.count; ++index) {
    Entry e = BAKEFS_TRY(entry_at(fs, view, index));
    if (!follows(previous, e)) return Error::kCorrupt;
    previous = e;
  }
  fs.ordered_dirs.insert(dir_ino);
  return {};
}

Result<bakefs_ino> lookup(bakefs_fs& fs, bakefs_ino dir_ino, const char* name, size_t length) {
  InodeInfo dir = BAKEFS_TRY(fs.load_inode(dir_ino));
  DirView view = BAKEFS_TRY(open_dir(fs, dir));
  if (length == 1 && name[0] == '.') return dir_ino;
  if (length == 2 && name[0] == '.' && name[1] == '.') return bakefs_ino{dir.aux1};  // checked
  if (length == 0 || length > fmt::kMaxNameLength) return Error::kNotFound;
  BAKEFS_CHECK(check_order(fs, dir_ino, view));
  uint32_t low = 0, high = view.count;
  while (low < high) {
    uint32_t mid = low + (high - low) / 2;
    Entry e = BAKEFS_TRY(entry_at(fs, view, mid));
    int c = compare_names(e.name, e.length, name, length);
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
  DirView view = BAKEFS_TRY(open_dir(fs, dir));
  if (pos == 0) {
    if (emit(ctx, ".", 1, dir_ino, fmt::kTypeDir >> 12, 0, 1) != 0) return {};
    pos = 1;
  }
  if (pos == 1) {
    if (emit(ctx, "..", 2, dir.aux1, fmt::kTypeDir >> 12, 1, 2) != 0) return {};
    pos = 2;
  }
  // Names must ascend strictly, as lookup's binary search assumes: compare each with the one
  // before it (on resumption, load that one first).
  Entry previous{};
  if (pos > 2 && pos - 2 <= view.count)
    previous = BAKEFS_TRY(entry_at(fs, view, static_cast<uint32_t>(pos - 3)));
  for (uint64_t index = pos - 2; index < view.count; ++index) {
    Entry e = BAKEFS_TRY(entry_at(fs, view, static_cast<uint32_t>(index)));
    if (!plausible(e)) return Error::kCorrupt;
    // What readdir hands out is followed without a lookup (by ls -R, extract, a kernel's
    // readdirplus): it must obey the same rule.
    (void)BAKEFS_TRY(fs.entry_inode(dir_ino, e.ino, e.type));
    if (!follows(previous, e)) return Error::kCorrupt;
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
  if (child.is_dir() && child.aux1 != dir) return Error::kCorrupt;
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
