// DirectoryWalk.
// SPDX-License-Identifier: BSD-2-Clause
#include "inspect/image_walk.h"

namespace bakefs::tool {

std::string join_path(const std::string& dir, const std::string& name) {
  return dir.empty() || dir == "/" ? "/" + name : dir + "/" + name;
}

bool DirectoryWalk::open(bakefs_ino ino, const std::string& path, size_t depth) {
  if (depth > kMaxWalkDepth) {
    failed_ = true;
    problem(path, BAKEFS_ECORRUPT,
            "deeper than " + std::to_string(kMaxWalkDepth) +
                " levels, more than mkimage makes: not walked further");
    return false;
  }
  auto [seen, fresh] = entered_.emplace(ino, path);
  if (!fresh) {
    failed_ = true;
    problem(path, BAKEFS_ECORRUPT,
            "directory " + std::to_string(ino) + " is listed again here (first at " +
                seen->second + "): the image's tree is not a tree; not walked again");
    return false;
  }
  Directory dir{ino, path, depth, {}};
  if (int s = fs_.readdir(ino, dir.entries); s != BAKEFS_OK) {
    // The driver stops at an entry it refuses (an unsafe name, names out of order, an entry
    // that lies about its inode); the ones before it were handed out.
    failed_ = true;
    const std::string at = dir.entries.empty()
                               ? "the first entry"
                               : "the entry after \"" + dir.entries.back().name + "\"";
    problem(path, s,
            "unsafe or corrupt name in the image at " + at + " (" + bakefs_strerror(s) + ")");
    return false;
  }
  if (!enter(dir)) return false;
  stack_.push_back(std::move(dir));
  next_.push_back(0);
  return true;
}

bool DirectoryWalk::run(bakefs_ino start, const std::string& path) {
  stack_.clear();
  next_.clear();
  entered_.clear();
  failed_ = false;
  stop_ = false;
  open(start, path, 0);
  while (!stack_.empty() && !stop_) {
    Directory& dir = stack_.back();
    size_t& next = next_.back();
    if (next == dir.entries.size()) {
      leave(dir);
      stack_.pop_back();
      next_.pop_back();
      continue;
    }
    const Dirent& e = dir.entries[next++];
    const std::string child_path = join_path(dir.path, e.name);
    if (!entry(dir, e, child_path) || stop_) continue;
    if ((e.type << 12) != 0040000) continue;
    // stack_ may grow: copy what the child needs before open() moves the vector.
    const bakefs_ino child = e.ino;
    const size_t depth = dir.depth + 1;
    open(child, child_path, depth);
  }
  return !failed_;
}

}  // namespace bakefs::tool
