// split_tree_path and join_tree_path.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/tree_path.h"

#include <algorithm>

#include "writer/tree.h"

namespace bakefs::build {

TreePath split_tree_path(std::string_view path) {
  TreePath out;
  for (size_t pos = 0; pos <= path.size();) {
    const size_t slash = std::min(path.find('/', pos), path.size());
    const std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty()) continue;
    if (part == ".") {
      out.had_dot = true;
      continue;
    }
    if (part == "..") {
      out.problem = TreePath::Problem::dot_dot;
      return out;
    }
    if (out.names.size() == kMaxTreeDepth) {
      out.problem = TreePath::Problem::too_deep;
      return out;
    }
    out.names.emplace_back(part);
  }
  return out;
}

std::string join_tree_path(const std::vector<std::string>& names, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < names.size(); ++i) out += (i == 0 ? "" : "/") + names[i];
  return out;
}

}  // namespace bakefs::build
