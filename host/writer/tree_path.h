// Paths inside the tree being built: one rule for splitting them, for every source and option.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_TREE_PATH_H
#define BAKEFS_HOST_WRITER_TREE_PATH_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bakefs::build {

// The names of a path in the tree: "/a//b/./c/" and "a/b/c" give {"a", "b", "c"}; "", "/" and
// "." give {} (the root). Empty and "." parts are dropped; a ".." part or more names than
// kMaxTreeDepth make it unusable, and `problem` says which. Callers word the message, naming
// the source or option the path came from.
struct TreePath {
  enum class Problem { none, dot_dot, too_deep };
  std::vector<std::string> names;
  Problem problem = Problem::none;
  bool had_dot = false;  // a "." part was dropped (options that must be canonical refuse it)
  bool ok() const { return problem == Problem::none; }
};
TreePath split_tree_path(std::string_view path);

// names[0..count) joined with '/': "a/b" (no leading slash; "" for none).
std::string join_tree_path(const std::vector<std::string>& names, size_t count);
inline std::string join_tree_path(const std::vector<std::string>& names) {
  return join_tree_path(names, names.size());
}

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_TREE_PATH_H
