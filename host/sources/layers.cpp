// Merging layers: overlay() walks the upper tree's directories and moves its entries into the
// lower tree, whiteouts first; remove_path() for --remove.
// SPDX-License-Identifier: BSD-2-Clause
#include "sources/layers.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "sources/tar_source.h"
#include "writer/tree_ops.h"
#include "writer/tree_path.h"

namespace bakefs::build {
namespace {

constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr std::string_view kReserved = ".wh..wh.";  // other such names are aufs bookkeeping

bool is_whiteout(const std::string& name) {
  return name.starts_with(kWhiteout);
}

std::string shown_path(const std::string& path) {
  return "/" + path;
}

std::string layer_name(const Inode& dir) {
  return dir.layer != nullptr ? *dir.layer : std::string("a lower layer");
}

std::string type_name(const Inode& n) {
  switch (n.type()) {
    case 0100000:
      return "a file";
    case 0120000:
      return "a symlink";
    case 0020000:
    case 0060000:
      return "a device";
    case 0010000:
      return "a fifo";
    case 0140000:
      return "a socket";
    default:
      return "an entry";
  }
}

void mark_layer(Inode& dir, const std::shared_ptr<const std::string>& name) {
  dir.layer = name;
  for (auto& [child_name, child] : dir.children) {
    if (child->is_dir()) mark_layer(*child, name);
  }
}

// Takes upper's whiteout entries out of `upper`, and applies them to `lower` (if any).
void apply_whiteouts(Inode* lower, Inode& upper) {
  auto it = upper.children.lower_bound(std::string(kWhiteout));
  while (it != upper.children.end() && is_whiteout(it->first)) {
    if (lower != nullptr) {
      if (it->first == kOpaque) {
        lower->children.clear();
      } else if (!it->first.starts_with(kReserved)) {
        lower->children.erase(it->first.substr(kWhiteout.size()));
      }
    }
    it = upper.children.erase(it);
  }
}

// Whiteouts in a directory that has nothing below it: they only disappear.
void strip_whiteouts(Inode& dir) {
  apply_whiteouts(nullptr, dir);
  for (auto& [name, child] : dir.children) {
    if (child->is_dir()) strip_whiteouts(*child);
  }
}

// `path` is lower's path from the root ("" for the root), extended for each child in turn:
// one buffer for the whole walk.
void merge_dir(Inode& lower, Inode& upper, std::string& path, bool whiteouts) {
  if (whiteouts) apply_whiteouts(&lower, upper);
  if (!upper.implicit) {
    take_attributes(lower, upper);
    lower.layer = upper.layer;
  }
  const size_t dir_length = path.size();
  for (auto& [name, child] : upper.children) {
    auto [it, fresh] = lower.children.try_emplace(name, child);
    if (!fresh) {
      Inode& old = *it->second;
      if (child->is_dir() && old.is_dir()) {
        if (dir_length != 0) path += '/';
        path += name;
        merge_dir(old, *child, path, whiteouts);
        path.resize(dir_length);
        continue;
      }
      if (old.is_dir() && !old.children.empty()) {
        const std::string child_path = path.empty() ? name : path + "/" + name;
        throw Error(shown_path(child_path) + ": " + layer_name(upper) + " has " +
                    type_name(*child) + " where " + layer_name(old) +
                    " has a non-empty directory; remove the directory in the upper layer "
                    "first (a whiteout .wh." +
                    name + " or an opaque parent)");
      }
      it->second = child;
    }
    if (whiteouts && child->is_dir()) strip_whiteouts(*child);
  }
}

// Leaves out of a tar source what a directory source's scan would skip (--exclude), before it
// is merged: an excluded entry must neither clash with a lower layer nor reach the image.
// `path` is dir's path, extended for each child in turn.
void skip_in(Inode& dir, std::string& path, const LayerOptions& options) {
  const size_t dir_length = path.size();
  for (auto it = dir.children.begin(); it != dir.children.end();) {
    if (dir_length != 0) path += '/';
    path += it->first;
    if (options.scan.skip(it->first, path)) {
      it = dir.children.erase(it);
    } else {
      if (it->second->is_dir()) skip_in(*it->second, path, options);
      ++it;
    }
    path.resize(dir_length);
  }
}

Tree load(const std::string& source, const LayerOptions& options, bool& is_tar) {
  struct stat st;
  if (source != "-" && ::stat(source.c_str(), &st) != 0) {
    throw_errno(source, "cannot read source", errno);
  }
  is_tar = source == "-" || !S_ISDIR(st.st_mode);
  Tree tree = is_tar ? read_tar(source, options.warn) : scan_directory(source, options.scan);
  if (is_tar && options.scan.skip) {
    std::string path;
    skip_in(*tree.root, path, options);
  }
  std::string shown = is_tar ? tar_display_name(source) : source;
  while (!is_tar && shown.size() > 1 && shown.back() == '/') shown.pop_back();
  mark_layer(*tree.root, std::make_shared<const std::string>(shown));
  return tree;
}

}  // namespace

Tree empty_tree() {
  Tree tree;
  tree.root = std::make_shared<Inode>();
  tree.root->mode = 0040755;
  tree.root->implicit = true;
  return tree;
}

Tree read_source(const std::string& source, const LayerOptions& options) {
  bool is_tar = false;
  return load(source, options, is_tar);
}

void overlay(Tree& lower, Tree&& upper, bool whiteouts) {
  std::string path;
  merge_dir(*lower.root, *upper.root, path, whiteouts);
  lower.open_fds.insert(lower.open_fds.end(), upper.open_fds.begin(), upper.open_fds.end());
  upper.open_fds.clear();
  upper.root.reset();
}

void add_layer(Tree& tree, const std::string& source, const LayerOptions& options) {
  bool is_tar = false;
  Tree upper = load(source, options, is_tar);
  overlay(tree, std::move(upper), is_tar || options.whiteouts);
}

void remove_path(Tree& tree, const std::string& path) {
  const TreePath parts = split_tree_path(path);
  if (parts.problem == TreePath::Problem::dot_dot) {
    throw Error("cannot remove " + path + ": '..' is not allowed");
  }
  if (!parts.ok()) throw Error("cannot remove " + path + ": too deep for any tree");
  if (parts.names.empty()) throw Error("cannot remove " + path + ": it is the root");
  // Never through a symlink: those have no children.
  Inode* dir = find_path(tree, join_tree_path(parts.names, parts.names.size() - 1));
  if (dir == nullptr || !dir->is_dir() || dir->children.erase(parts.names.back()) == 0) {
    throw Error("cannot remove " + path + ": no such file or directory in the merged tree");
  }
}

}  // namespace bakefs::build
