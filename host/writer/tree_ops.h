// Edits and queries over a whole tree that mkimage applies after reading its sources: excluded
// paths, the time clamp of reproducible builds, and the data order of a --sort file; and the
// lookups and merges of entries that the sources share (find_path, take_attributes).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_TREE_OPS_H
#define BAKEFS_HOST_WRITER_TREE_OPS_H

#include <cstdint>
#include <string>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// The inode at an absolute or root-relative path ("/usr/bin", "usr/bin"; "/" is the root), or
// nullptr. Symlinks are not followed.
Inode* find_path(const Tree& tree, const std::string& path);

// A directory's attributes (mode, owner, mtime, xattrs) from another entry, children kept;
// the directory is no longer implicit.
void take_attributes(Inode& dir, const Inode& from);

// Reads a list file: one entry per line; blank lines and lines starting with '#' are skipped;
// a trailing '\r' is dropped. Errors name the file.
std::vector<std::string> read_list_file(const std::string& path);

// --exclude patterns. A pattern with no '/' matches a name at any depth ("*.pyc",
// "__pycache__"); one with a '/' matches the whole path from the root ("usr/share/doc/*",
// "/var/cache"), where '*' does not cross '/'. Shell wildcards as fnmatch(3).
class ExcludeFilter {
 public:
  ExcludeFilter() = default;
  explicit ExcludeFilter(const std::vector<std::string>& patterns);
  bool empty() const { return patterns_.empty(); }
  // `path` is relative to the root ("usr/bin/x"), `name` its last component.
  bool excluded(const std::string& name, const std::string& path) const;

 private:
  struct Pattern {
    std::string glob;
    bool anchored;  // matches the whole path from the root, else a name at any depth
  };
  std::vector<Pattern> patterns_;
};

// Removes every entry the filter excludes (and all beneath it). Returns how many entries were
// removed (a subtree counts as one).
size_t exclude_paths(Tree& tree, const ExcludeFilter& filter);

// Clamps every mtime later than `epoch` to it (SOURCE_DATE_EPOCH, --mtime).
void clamp_mtimes(Tree& tree, int64_t epoch);

// The regular files a --sort list names, in its order: a file stands for itself, a directory
// for every regular file beneath it (in name order). Each file appears once, at its first
// mention; paths that are not in the tree are returned in `missing`.
std::vector<const Inode*> sort_order(const Tree& tree, const std::vector<std::string>& list,
                                     std::vector<std::string>& missing);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_TREE_OPS_H
