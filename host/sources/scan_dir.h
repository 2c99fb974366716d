// Directory sources: a directory on the host read into a tree, without following symlinks.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_SCAN_DIR_H
#define BAKEFS_HOST_SOURCES_SCAN_DIR_H

#include <functional>
#include <string>

#include "writer/tree.h"

namespace bakefs::build {

// Reads SOURCE_DIR without following symlinks: every type, mode, owner, time and xattr; hard
// links become shared inodes. Throws Error naming the path on any failure.
Tree scan_directory(const std::string& path);

struct ScanOptions {
  // Relative path ("usr/bin/x") and name of an entry: true to leave it (and all beneath it)
  // out without reading it. Empty: keep everything.
  std::function<bool(const std::string& name, const std::string& path)> skip;
  // Unreadable files and directories are left out with a warning instead of failing the scan.
  bool ignore_errors = false;
  std::function<void(const std::string& message)> warn;
};
Tree scan_directory(const std::string& path, const ScanOptions& options);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_SCAN_DIR_H
