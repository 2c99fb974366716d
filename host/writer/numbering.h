// Inode numbers for a tree: the order of inodes, their link counts, the (uid, gid) id table,
// and which inodes need the extended (two-slot) form.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_NUMBERING_H
#define BAKEFS_HOST_WRITER_NUMBERING_H

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// Inodes in breadth-first order, each directory's children in name order, so that the entries
// of one directory have neighbouring inodes (ls -l touches one stretch of the table). A
// hard-linked inode comes at its first name in that order. Index 0 is the root.
struct Numbering {
  std::vector<const Inode*> inodes;
  // The name of each (at its first link; "" for the root). Paths are made from names and
  // parents only when a message needs one: storing each inode's whole path would take memory
  // that grows with the square of the tree's depth.
  std::vector<std::string_view> names;
  std::vector<uint32_t> nlink;
  std::vector<size_t> parent;                      // index of the parent directory (directories)
  std::vector<uint32_t> ino;                       // inode number: first slot + 1
  std::vector<bool> extended;                      // needs two slots
  std::vector<uint32_t> id;                        // index into ids (compact inodes)
  std::vector<std::pair<uint32_t, uint32_t>> ids;  // (uid, gid) table
  std::unordered_map<const Inode*, size_t> index;
  uint32_t slots = 0;

  uint32_t ino_of(const Inode* n) const { return ino[index.at(n)]; }
  // "/usr/bin/x": the path of inode i, for messages.
  std::string path_of(size_t i) const;
};

// Throws Error for names that cannot be stored, directories with two names, or too many inodes.
Numbering number_inodes(const Inode& root);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_NUMBERING_H
