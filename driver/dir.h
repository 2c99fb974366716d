// Directory blocks: the one decoder of a directory's entries and the rules they obey, which
// lookup, readdir and the full check all go through; and the one order of names.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_DIR_H
#define BAKEFS_DRIVER_DIR_H

#include "fs.h"

namespace bakefs {

// The order of names in a directory and in an xattr set: bytewise, a prefix before the longer
// name. Negative, zero or positive as a is before, equal to or after b.
inline int compare_names(const uint8_t* a, size_t a_length, const uint8_t* b, size_t b_length) {
  int c = compare_bytes(a, b, min_of(a_length, b_length));
  if (c != 0) return c;
  return a_length < b_length ? -1 : (a_length > b_length ? 1 : 0);
}

// One entry, decoded: its name lies inside the block, after the entry records, and is
// 1..kMaxNameLength bytes (in the image: copy before the image goes away).
struct DirEntryInfo {
  bakefs_ino ino;
  uint32_t type;  // mode >> 12 of the inode it names
  const uint8_t* name;
  uint32_t length;
};

// A directory's entry block: entry_count() records, then their names (format.h). Opened from a
// directory inode, whose extent load_inode() checked against nothing but itself.
class DirBlock {
 public:
  DirBlock() = default;  // empty (for Result): no entries
  static Result<DirBlock> open(bakefs_fs& fs, const InodeInfo& dir);

  uint32_t entry_count() const { return count_; }
  uint64_t heap_offset() const { return base_; }
  // Entry index (< entry_count()), its name checked to lie in the block after the records.
  Result<DirEntryInfo> entry(uint32_t index) const;

 private:
  DirBlock(bakefs_fs& fs, uint64_t base, uint64_t size, uint32_t count)
      : fs_(&fs), base_(base), size_(size), count_(count) {}

  bakefs_fs* fs_ = nullptr;
  uint64_t base_ = 0;   // heap offset of the block
  uint64_t size_ = 0;   // bytes of the block
  uint32_t count_ = 0;  // entries
};

// The rule for the entry after `previous` (none yet: previous.name == nullptr): a name lookup
// can find (no '/' or NUL, not "." or ".."), a type that exists, and a name strictly after
// the previous one, as lookup's binary search assumes. readdir applies it as it goes, lookup
// to a whole directory before its first search, the full check to every directory.
bool follows(const DirEntryInfo& previous, const DirEntryInfo& e);

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_DIR_H
