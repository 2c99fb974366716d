// --base-etc: a platform's /etc (rumprun's rumprunfs_base) read from a directory, normalised,
// and merged beneath the image's /etc.
// SPDX-License-Identifier: BSD-2-Clause
#include "netbsd_etc/base_etc.h"

#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <string>

#include "netbsd_etc/stub_etc.h"
#include "sources/scan_dir.h"
#include "writer/source_file.h"

namespace bakefs::build {
namespace {

constexpr uint16_t kDirMode = 0040755, kPublic = 0100644, kSecret = 0100600, kLinkMode = 0120777;
constexpr uint64_t kMaxFile = 16u << 20, kMaxTotal = 64u << 20;
constexpr size_t kMaxEntries = 10000;

struct Reader {
  std::string dir;  // DIR as given, for messages
  int64_t mtime;
  uint64_t total = 0;
  size_t entries = 0;

  // A normalised copy of the scanned entry n at relative path `path` ("" for DIR itself).
  std::shared_ptr<Inode> convert(const Inode& n, const std::string& path, size_t depth) {
    const std::string shown = "--base-etc " + dir + (path.empty() ? "" : "/" + path);
    if (++entries > kMaxEntries) {
      throw Error("--base-etc " + dir + ": more than " + std::to_string(kMaxEntries) +
                  " entries; is it really an /etc?");
    }
    if (depth > kMaxTreeDepth) throw Error(shown + ": too deep");
    auto out = std::make_shared<Inode>();
    out->mtime_sec = mtime;
    if (n.is_dir()) {
      out->mode = kDirMode;
      for (const auto& [name, child] : n.children) {
        out->children[name] = convert(*child, path.empty() ? name : path + "/" + name, depth + 1);
      }
    } else if (n.is_regular()) {
      if (n.size > kMaxFile) {
        throw Error(shown + ": " + std::to_string(n.size) + " bytes, more than an /etc file " +
                    "may have here (" + std::to_string(kMaxFile) + ")");
      }
      total += n.size;
      if (total > kMaxTotal) {
        throw Error("--base-etc " + dir + ": more than " + std::to_string(kMaxTotal) +
                    " bytes of files");
      }
      std::string bytes(static_cast<size_t>(n.size), '\0');
      SourceFile source(n);
      source.read(0, bytes.data(), bytes.size());
      source.finish();
      out->mode = path == "master.passwd" || path == "spwd.db" ? kSecret : kPublic;
      out->size = bytes.size();
      out->content.host_path = shown;
      out->content.data = std::make_shared<const std::string>(std::move(bytes));
    } else if (n.type() == format::kTypeSymlink) {
      out->mode = kLinkMode;
      out->target = n.target;
      out->size = n.target.size();
    } else {
      throw Error(shown + ": not a regular file, directory or symlink (an /etc to merge has " +
                  "only those)");
    }
    return out;
  }
};

std::shared_ptr<Inode> deep_copy(const Inode& n) {
  auto out = std::make_shared<Inode>(n);
  for (auto& [name, child] : out->children) child = deep_copy(*child);
  return out;
}

void merge_into(Inode& image_dir, const Inode& base_dir) {
  for (const auto& [name, n] : base_dir.children) {
    auto it = image_dir.children.find(name);
    if (it == image_dir.children.end()) {
      image_dir.children.emplace(name, deep_copy(*n));
    } else if (it->second->is_dir() && n->is_dir()) {
      merge_into(*it->second, *n);
    }  // else the image's entry wins
  }
}

}  // namespace

Tree base_etc_tree(const std::string& dir, int64_t mtime) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) throw_errno("--base-etc " + dir, "stat", errno);
  if (!S_ISDIR(st.st_mode)) throw Error("--base-etc " + dir + ": not a directory");
  Reader reader{dir, mtime};
  std::shared_ptr<Inode> etc;
  {
    Tree scanned = scan_directory(dir);
    etc = reader.convert(*scanned.root, "", 0);
  }  // the scan's descriptors close here: every byte is in memory
  return etc_only_tree(etc, mtime);
}

void merge_base_etc(Tree& tree, const Tree& base) {
  const Inode& base_etc = *base.root->children.at("etc");
  auto it = tree.root->children.find("etc");
  if (it == tree.root->children.end()) {
    tree.root->children["etc"] = deep_copy(base_etc);
    return;
  }
  Inode& etc = *it->second;
  if (!etc.is_dir()) throw Error("--base-etc: /etc in the image is not a directory");
  const bool own_databases = !etc.children.contains("master.passwd") &&
                             (etc.children.contains("pwd.db") || etc.children.contains("spwd.db"));
  if (!own_databases) {
    merge_into(etc, base_etc);
    return;
  }
  Inode without_passwords = base_etc;
  for (const char* name : {"master.passwd", "passwd", "pwd.db", "spwd.db"}) {
    without_passwords.children.erase(name);
  }
  merge_into(etc, without_passwords);
}

}  // namespace bakefs::build
