// The image walk of image_walk.h.
// SPDX-License-Identifier: BSD-2-Clause
#include "image_walk.h"

#include <bakefs/posix.h>

#include <algorithm>

namespace bakefs::test {
namespace {

constexpr uint32_t kTypeMask = 0170000;
constexpr uint32_t kDir = 0040000, kRegular = 0100000, kSymlink = 0120000;

// One path: its line, or the status that stopped it.
int describe(const FileSystem& fs, bakefs_ino ino, const std::string& path, bakefs_attr& a,
             std::string& out) {
  if (int s = fs.getattr(ino, a); s != BAKEFS_OK) return s;
  out = path + " " + std::to_string(a.mode) + " " + std::to_string(a.uid) + ":" +
        std::to_string(a.gid) + " " + std::to_string(a.size) + " " + std::to_string(a.mtime_sec) +
        "." + std::to_string(a.mtime_nsec) + " " + std::to_string(a.nlink) + " " +
        std::to_string(a.rdev_major) + "," + std::to_string(a.rdev_minor);
  std::vector<std::string> xattrs;
  if (int s = fs.listxattr(ino, xattrs); s != BAKEFS_OK) return s;
  for (const auto& name : xattrs) {
    std::string value;
    if (int s = fs.getxattr(ino, name, value); s != BAKEFS_OK) return s;
    out += " " + name + "=" + value;
  }
  if ((a.mode & kTypeMask) == kRegular) {
    std::string content(std::min<uint64_t>(a.size, 1 << 20), '\0');
    size_t done = 0;
    if (int s = fs.read(ino, 0, content.data(), content.size(), done); s != BAKEFS_OK) return s;
    content.resize(done);
    out += " data:" + content;
  } else if ((a.mode & kTypeMask) == kSymlink) {
    std::string target;
    if (int s = fs.readlink(ino, target); s != BAKEFS_OK) return s;
    out += " -> " + target;
  }
  return BAKEFS_OK;
}

int walk_boot_records(const FileSystem& fs, std::string& out) {
  for (uint32_t type : {uint32_t{BAKEFS_BOOT_CONFIG}, uint32_t{BAKEFS_BOOT_TMPFS},
                        uint32_t{BAKEFS_BOOT_ROOT}}) {
    std::vector<std::string> records;
    if (int s = fs.boot_records(type, records); s != BAKEFS_OK) return s;
    for (const auto& r : records) out += "boot " + std::to_string(type) + " " + r + "\n";
  }
  return BAKEFS_OK;
}

}  // namespace

Walk walk_image(const FileSystem& fs, uint64_t max_nodes) {
  struct Pending {
    bakefs_ino ino;
    std::string path;
  };
  Walk w;
  std::vector<Pending> stack{{BAKEFS_ROOT_INO, ""}};
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    if (++w.nodes > max_nodes) {
      w.over_limit = true;
      w.status = BAKEFS_ECORRUPT;
      return w;
    }
    bakefs_attr a;
    std::string line;
    if ((w.status = describe(fs, p.ino, p.path, a, line)) != BAKEFS_OK) return w;
    w.text += line + "\n";
    if ((a.mode & kTypeMask) != kDir) continue;
    std::vector<Dirent> entries;
    if ((w.status = fs.readdir(p.ino, entries)) != BAKEFS_OK) return w;
    // Pushed in reverse so that children are visited in name order, depth first.
    for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
      bakefs_ino child = 0;
      if ((w.status = fs.lookup(p.ino, e->name, child)) != BAKEFS_OK) return w;
      stack.push_back({child, p.path + "/" + e->name});
    }
  }
  w.status = walk_boot_records(fs, w.text);
  return w;
}

Walk walk_bytes(const std::vector<uint8_t>& bytes, uint32_t mount_flags, uint64_t max_nodes) {
  bakefs_mount_options options{};
  options.cache_bytes = 8192;
  options.flags = mount_flags;
  FileSystem fs;
  Walk w;
  w.status = fs.mount(bytes.data(), bytes.size(), posix::platform(), &options);
  if (w.status != BAKEFS_OK) return w;
  return walk_image(fs, max_nodes);
}

}  // namespace bakefs::test
