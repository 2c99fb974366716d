// Launch configuration and tmpfs directories: checked and normalised before they are stored.
// SPDX-License-Identifier: BSD-2-Clause
#include "boot_config.h"

#include <bakefs/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace bakefs::build {

std::string read_config(const std::string& path, bool raw) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, "cannot open configuration", errno);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw_errno(path, "cannot read configuration", errno);
  std::string config = bytes.str();
  if (config.empty()) throw Error(path + ": the configuration is empty");
  if (config.size() > format::kMaxBootRecord) {
    throw Error(path + ": the configuration is larger than 1 MiB");
  }
  if (!raw) {
    try {
      const auto parsed = nlohmann::json::parse(config);
      (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
      // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
      std::string what = e.what();
      size_t at = what.find("at line");
      throw Error(path + ": not JSON (use --config-raw for other formats): " +
                  (at == std::string::npos ? what : what.substr(at)));
    }
  }
  return config;
}

namespace {

std::string normalise(const std::string& given) {
  if (given.empty() || given[0] != '/') {
    throw Error("--tmpfs " + given + ": the path must be absolute");
  }
  std::string path;
  size_t pos = 0;
  while (pos < given.size()) {
    size_t end = given.find('/', pos);
    if (end == std::string::npos) end = given.size();
    std::string name = given.substr(pos, end - pos);
    if (name == "." || name == "..") {
      throw Error("--tmpfs " + given + ": '.' and '..' are not allowed");
    }
    if (!name.empty()) path += "/" + name;
    pos = end + 1;
  }
  if (path.empty()) throw Error("--tmpfs /: the root cannot be covered by a tmpfs");
  if (path.size() > format::kMaxSymlinkLength || path.find('\0') != std::string::npos) {
    throw Error("--tmpfs " + given + ": path too long");
  }
  return path;
}

}  // namespace

std::vector<std::string> tmpfs_paths(const std::vector<std::string>& lists) {
  std::vector<std::string> paths;
  for (const std::string& list : lists) {
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t end = list.find(',', pos);
      if (end == std::string::npos) end = list.size();
      if (end > pos) paths.push_back(normalise(list.substr(pos, end - pos)));
      pos = end + 1;
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

std::vector<std::string> add_tmpfs_directories(Tree& tree, const std::vector<std::string>& paths) {
  std::vector<std::string> warnings;
  for (const std::string& path : paths) {
    Inode* dir = tree.root.get();
    size_t pos = 1;
    while (pos <= path.size()) {
      size_t end = path.find('/', pos);
      if (end == std::string::npos) end = path.size();
      const std::string name = path.substr(pos, end - pos);
      auto& child = dir->children[name];
      if (child == nullptr) {
        child = std::make_shared<Inode>();
        child->mode = 0040755;
        child->mtime_sec = dir->mtime_sec;
        child->mtime_nsec = dir->mtime_nsec;
      } else if (!child->is_dir()) {
        throw Error("--tmpfs " + path + ": " + path.substr(0, end) +
                    " is in the image and is not a directory");
      }
      dir = child.get();
      pos = end + 1;
    }
    if (!dir->children.empty()) {
      warnings.push_back("--tmpfs " + path + ": the image's " +
                         std::to_string(dir->children.size()) +
                         " entries there are hidden once the tmpfs is mounted");
    }
  }
  return warnings;
}

std::vector<std::string> boot_root_warnings(const Tree& tree, bool union_root) {
  std::vector<std::string> warnings;
  const bool has_etc = tree.root != nullptr && tree.root->children.count("etc") != 0;
  if (union_root && has_etc) {
    warnings.push_back(
        "the image has its own /etc: mounted at / at boot, it hides the rump kernel's /etc "
        "entirely. rumprun then needs its base /etc left out (rumprun-bake -m \"remove "
        "-lrumprunfs_base\"), else it stops with 'platefs: open'; --stub-etc fills in what "
        "libc needs (docs/RUMPRUN.md)");
  }
  if (!union_root) {
    warnings.push_back(
        std::string("--root-mount plain: the image alone is / at boot, read-only. ") +
        (has_etc ? "" : "It has no /etc, so libc finds no users or services (--stub-etc). ") +
        "rumprun needs its base /etc left out (rumprun-bake -m \"remove -lrumprunfs_base\"), "
        "and any mount point it makes at run time (blk, etfs) must be in the image");
  }
  return warnings;
}

void add_root_mount_points(Tree& tree) {
  for (auto [name, mode] : {std::pair{"dev", 0040755}, std::pair{"tmp", 0041777}}) {
    auto& child = tree.root->children[name];
    if (child == nullptr) {
      child = std::make_shared<Inode>();
      child->mode = static_cast<uint16_t>(mode);
      child->mtime_sec = tree.root->mtime_sec;
      child->mtime_nsec = tree.root->mtime_nsec;
    } else if (!child->is_dir()) {
      throw Error(std::string("--root-mount plain: /") + name +
                  " is in the image and is not a directory");
    }
  }
}

}  // namespace bakefs::build
