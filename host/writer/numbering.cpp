// number_inodes: order, link counts, ids and slots.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/numbering.h"

#include <bakefs/format.h>

#include <deque>
#include <map>

namespace bakefs::build {
namespace {

namespace fmt = ::bakefs::format;

bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= fmt::kMaxNameLength &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

std::string child_path(const Numbering& num, size_t dir, const std::string& name) {
  return (dir == 0 ? "" : num.path_of(dir)) + "/" + name;
}

// The order and the link counts.
void collect(const Inode& root, Numbering& num) {
  auto add = [&](const Inode* n, std::string_view name, size_t parent) {
    if (num.inodes.size() >= UINT32_MAX / 2) throw Error("too many inodes for one image");
    num.index.emplace(n, num.inodes.size());
    num.inodes.push_back(n);
    num.names.push_back(name);
    num.nlink.push_back(n->is_dir() ? 2 : 1);
    num.parent.push_back(parent);
    return num.inodes.size() - 1;
  };
  add(&root, "", 0);
  std::deque<size_t> queue{0};
  while (!queue.empty()) {
    size_t dir = queue.front();
    queue.pop_front();
    for (const auto& [name, child] : num.inodes[dir]->children) {
      if (!valid_name(name)) throw Error(child_path(num, dir, name) + ": invalid file name");
      auto it = num.index.find(child.get());
      if (it != num.index.end()) {
        if (child->is_dir()) {
          throw Error(child_path(num, dir, name) + ": directory has more than one name");
        }
        num.nlink[it->second] += 1;
        continue;
      }
      size_t index = add(child.get(), name, dir);
      if (child->is_dir()) {
        num.nlink[dir] += 1;  // the child's ".."
        queue.push_back(index);
      }
    }
  }
}

}  // namespace

std::string Numbering::path_of(size_t i) const {
  if (i == 0) return "/";
  std::vector<std::string_view> parts;
  for (; i != 0; i = parent[i]) parts.push_back(names[i]);
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) (path += "/") += *it;
  return path;
}

Numbering number_inodes(const Inode& root) {
  Numbering num;
  collect(root, num);
  const size_t count = num.inodes.size();
  num.ino.resize(count);
  num.extended.resize(count);
  num.id.resize(count);
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> ids;
  uint64_t slot = 0;
  for (size_t i = 0; i < count; ++i) {
    const Inode& n = *num.inodes[i];
    auto pair = std::make_pair(n.uid, n.gid);
    auto it = ids.find(pair);
    if (it == ids.end() && ids.size() < 65536) {
      it = ids.emplace(pair, static_cast<uint32_t>(ids.size())).first;
      num.ids.push_back(pair);
    }
    // The compact form holds 16-bit link counts and id indexes, 32-bit sizes, times from
    // 1970 to 2514, and no xattrs.
    bool extended = it == ids.end() || !n.xattrs.empty() || num.nlink[i] > 0xffff ||
                    n.size > UINT32_MAX || n.mtime_sec < 0 ||
                    static_cast<uint64_t>(n.mtime_sec) > fmt::kCompactMaxSec;
    if (it != ids.end()) num.id[i] = it->second;
    num.extended[i] = extended;
    num.ino[i] = static_cast<uint32_t>(slot + 1);
    slot += extended ? 2 : 1;
    if (slot >= UINT32_MAX) throw Error("too many inodes for one image");
  }
  num.slots = static_cast<uint32_t>(slot);
  return num;
}

}  // namespace bakefs::build
