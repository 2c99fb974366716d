// Tree edits and queries after the sources are read: exclusion, time clamp, sort order.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/tree_ops.h"

#include <fnmatch.h>

#include <cerrno>
#include <fstream>
#include <unordered_set>

#include "writer/tree_path.h"

namespace bakefs::build {

Inode* find_path(const Tree& tree, const std::string& path) {
  const TreePath parts = split_tree_path(path);
  if (!parts.ok()) return nullptr;  // no ".." in a tree, nothing deeper than its bound
  Inode* n = tree.root.get();
  for (const std::string& name : parts.names) {
    auto it = n->children.find(name);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

void take_attributes(Inode& dir, const Inode& from) {
  dir.mode = from.mode;
  dir.uid = from.uid;
  dir.gid = from.gid;
  dir.mtime_sec = from.mtime_sec;
  dir.mtime_nsec = from.mtime_nsec;
  dir.xattrs = from.xattrs;
  dir.implicit = false;
}

std::vector<std::string> read_list_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_errno(path, "cannot open", errno);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(line);
  }
  if (in.bad()) throw_errno(path, "cannot read", errno);
  return lines;
}

namespace {

// `path` is dir's path, and each child's while it is looked at: one buffer for the whole walk,
// rather than a string per level that holds the whole path.
size_t exclude_in(Inode& dir, std::string& path, const ExcludeFilter& filter) {
  size_t removed = 0;
  const size_t dir_length = path.size();
  for (auto it = dir.children.begin(); it != dir.children.end();) {
    if (dir_length != 0) path += '/';
    path += it->first;
    if (filter.excluded(it->first, path)) {
      it = dir.children.erase(it);
      ++removed;
    } else {
      if (it->second->is_dir()) removed += exclude_in(*it->second, path, filter);
      ++it;
    }
    path.resize(dir_length);
  }
  return removed;
}

template <typename Fn>
void for_each_inode(Inode& n, std::unordered_set<const Inode*>& seen, Fn&& fn) {
  if (!seen.insert(&n).second) return;
  fn(n);
  for (auto& [name, child] : n.children) for_each_inode(*child, seen, fn);
}

void files_beneath(const Inode& n, std::unordered_set<const Inode*>& seen,
                   std::vector<const Inode*>& out) {
  if (n.is_regular()) {
    if (seen.insert(&n).second) out.push_back(&n);
    return;
  }
  for (const auto& [name, child] : n.children) files_beneath(*child, seen, out);
}

}  // namespace

ExcludeFilter::ExcludeFilter(const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    if (p.empty()) continue;
    const bool anchored = p.find('/') != std::string::npos;
    std::string glob = p;
    while (anchored && glob.size() > 1 && glob.front() == '/') glob.erase(0, 1);
    while (anchored && glob.size() > 1 && glob.back() == '/') glob.pop_back();
    patterns_.push_back({glob, anchored});
  }
}

bool ExcludeFilter::excluded(const std::string& name, const std::string& path) const {
  for (const Pattern& p : patterns_) {
    if (p.anchored ? fnmatch(p.glob.c_str(), path.c_str(), FNM_PATHNAME) == 0
                   : fnmatch(p.glob.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

size_t exclude_paths(Tree& tree, const ExcludeFilter& filter) {
  if (filter.empty() || tree.root == nullptr) return 0;
  std::string path;
  return exclude_in(*tree.root, path, filter);
}

void clamp_mtimes(Tree& tree, int64_t epoch) {
  if (tree.root == nullptr) return;
  std::unordered_set<const Inode*> seen;
  for_each_inode(*tree.root, seen, [epoch](Inode& n) {
    if (n.mtime_sec > epoch || (n.mtime_sec == epoch && n.mtime_nsec != 0)) {
      n.mtime_sec = epoch;
      n.mtime_nsec = 0;
    }
  });
}

std::vector<const Inode*> sort_order(const Tree& tree, const std::vector<std::string>& list,
                                     std::vector<std::string>& missing) {
  std::vector<const Inode*> order;
  std::unordered_set<const Inode*> seen;
  for (const std::string& path : list) {
    const Inode* n = find_path(tree, path);
    if (n == nullptr) {
      missing.push_back(path);
      continue;
    }
    files_beneath(*n, seen, order);
  }
  return order;
}

}  // namespace bakefs::build
