// The request handlers behind serve() and what they share, apart from the session that
// carries them, so that tests can drive the very same handlers without a kernel
// (tests/fuzz/fuse_ops_fuzzer.cpp). Not a public header.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_PLATFORM_FUSE_OPS_H
#define BAKEFS_PLATFORM_FUSE_OPS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <bakefs/bakefs.hpp>
#include <fuse_lowlevel.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace bakefs::fuse {

// The first name the kernel was given for each directory. The driver already refuses a
// directory whose entry is not in its parent (a loop, a second parent); a directory listed twice
// in one parent it cannot see in O(1), and the kernel would take it for two directories, so
// that a walk of the mount (find) goes down both, twice at every level of a doubled tree. A
// second name for a directory is EIO here instead: each directory has one path.
class DirectoryNames {
 public:
  bool claim(bakefs_ino dir, fuse_ino_t parent, const char* name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, fresh] = first_.try_emplace(dir, parent, name);
    return fresh || (it->second.first == parent && it->second.second == name);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<bakefs_ino, std::pair<fuse_ino_t, std::string>> first_;
};

struct Context {
  const FileSystem* fs;
  DirectoryNames* directory_names;
  double timeout;
  uint32_t block_size;
  bool no_open = false;     // the kernel opens files without asking (FUSE_CAP_NO_OPEN_SUPPORT)
  bool no_opendir = false;  // and directories
};

// The handlers; their userdata is a Context.
fuse_lowlevel_ops make_ops();

}  // namespace bakefs::fuse

#endif  // BAKEFS_PLATFORM_FUSE_OPS_H
