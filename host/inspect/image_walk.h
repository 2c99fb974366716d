// An image's directory tree walked without recursion, for the tools that visit all of it (ls
// -R, verify, extract): the depth comes from the image, so the walk keeps its own stack. Each
// directory is entered once: a directory the image lists under a second name (a loop or a
// doubled tree, which only a forged image has) is reported at that name and not entered again,
// so a walk takes time linear in the image. No directory deeper than kMaxWalkDepth is
// entered, the bound mkimage builds within.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_INSPECT_IMAGE_WALK_H
#define BAKEFS_HOST_INSPECT_IMAGE_WALK_H

#include <bakefs/bakefs.hpp>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace bakefs::tool {

// mkimage's bound on tree depth (build::kMaxTreeDepth), which every tool keeps too.
inline constexpr size_t kMaxWalkDepth = 2048;

// An image path for messages: "/" for the root, names joined with '/'.
std::string join_path(const std::string& dir, const std::string& name);

class DirectoryWalk {
 public:
  // A directory being walked: its entries (without "." and ".."), and depth 0 for the start.
  struct Directory {
    bakefs_ino ino;
    std::string path;
    size_t depth;
    std::vector<Dirent> entries;
  };

  explicit DirectoryWalk(const FileSystem& fs) : fs_(fs) {}
  virtual ~DirectoryWalk() = default;

  // Walks from directory `start` (shown as `path`): enter(), then entry() for each entry in
  // name order, going into each subdirectory entry() asks for before the next entry, then
  // leave(). Returns false if anything was reported through problem().
  bool run(bakefs_ino start, const std::string& path);

 protected:
  // The directory's entries have been read. Return false to skip it (leave() is not called).
  virtual bool enter(const Directory& dir) { return (void)dir, true; }
  // One entry; return true to walk into it (only asked for directories that can be walked).
  virtual bool entry(const Directory& dir, const Dirent& e, const std::string& path) = 0;
  // After the directory's entries and everything below them.
  virtual void leave(const Directory& dir) { (void)dir; }
  // Something that stops this part of the walk: a status from the driver (message empty), or
  // a rule of the walk (status BAKEFS_ECORRUPT, message says which). The walk goes on with
  // the next entry unless stop_ is set.
  virtual void problem(const std::string& path, int status, const std::string& message) = 0;

  bool stop_ = false;  // set (from a hook) to end the walk at once

 private:
  bool open(bakefs_ino ino, const std::string& path, size_t depth);

  const FileSystem& fs_;
  std::vector<Directory> stack_;
  std::vector<size_t> next_;                               // per stack level: next entry
  std::unordered_map<bakefs_ino, std::string> entered_;  // directory -> the path it came by
  bool failed_ = false;
};

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_INSPECT_IMAGE_WALK_H
