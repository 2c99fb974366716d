// Reading a source directory into the tree: lstat-level fidelity, no symlink is followed, and
// every path is opened relative to its parent so that depth is not limited by PATH_MAX; a
// stack of open directories, not recursion, so that it is not limited by the C++ stack.
// SPDX-License-Identifier: BSD-2-Clause
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "sources/scan_dir.h"

namespace bakefs::build {

namespace {

class Scanner {
 public:
  Scanner(std::string root_path, int root_fd, const ScanOptions& options)
      : root_path_(std::move(root_path)),
        root_fd_(root_fd),
        root_name_(std::make_shared<const std::string>(root_path_)),
        options_(options) {}

  std::shared_ptr<Inode> scan_root() {
    struct stat st;
    if (fstat(root_fd_, &st) != 0) throw_errno(root_path_, "cannot stat", errno);
    auto root = make_inode(st);
    read_xattrs("/proc/self/fd/" + std::to_string(root_fd_), false, root_path_, *root);
    scan_tree(*root);
    return root;
  }

 private:
  std::string display(const std::string& rel) const {
    return rel.empty() ? root_path_ : root_path_ + "/" + rel;
  }

  static std::shared_ptr<Inode> make_inode(const struct stat& st) {
    auto n = std::make_shared<Inode>();
    n->mode = static_cast<uint16_t>(st.st_mode & 0177777);
    n->uid = st.st_uid;
    n->gid = st.st_gid;
    n->mtime_sec = st.st_mtim.tv_sec;
    n->mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      n->rdev_major = major(st.st_rdev);
      n->rdev_minor = minor(st.st_rdev);
    }
    if (S_ISREG(st.st_mode)) n->size = static_cast<uint64_t>(st.st_size);
    return n;
  }

  // Reads the xattrs of `path` (a /proc/self/fd path, so its length is never an issue).
  static void read_xattrs(const std::string& path, bool nofollow, const std::string& shown,
                          Inode& n) {
    auto list = nofollow ? llistxattr : listxattr;
    auto get = nofollow ? lgetxattr : getxattr;
    std::string names;
    for (;;) {
      ssize_t size = list(path.c_str(), nullptr, 0);
      if (size < 0) {
        if (errno == ENOTSUP) return;
        throw_errno(shown, "cannot list extended attributes", errno);
      }
      names.resize(static_cast<size_t>(size));
      ssize_t got = list(path.c_str(), names.data(), names.size());
      if (got >= 0) {
        names.resize(static_cast<size_t>(got));
        break;
      }
      if (errno != ERANGE) throw_errno(shown, "cannot list extended attributes", errno);
    }
    for (size_t pos = 0; pos < names.size();) {
      size_t end = names.find('\0', pos);
      if (end == std::string::npos) end = names.size();
      std::string name = names.substr(pos, end - pos);
      pos = end + 1;
      if (name.empty()) continue;
      std::string value;
      for (;;) {
        ssize_t size = get(path.c_str(), name.c_str(), nullptr, 0);
        if (size < 0) {
          if (errno == ENODATA) break;  // removed meanwhile
          throw_errno(shown, "cannot read extended attribute " + name, errno);
        }
        value.resize(static_cast<size_t>(size));
        ssize_t got = get(path.c_str(), name.c_str(), value.data(), value.size());
        if (got >= 0) {
          value.resize(static_cast<size_t>(got));
          n.xattrs.push_back({name, value});
          break;
        }
        if (errno != ERANGE) throw_errno(shown, "cannot read extended attribute " + name, errno);
      }
    }
    std::sort(n.xattrs.begin(), n.xattrs.end(),
              [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  }

  std::vector<std::string> list_names(int dir_fd, const std::string& rel) {
    int fd = dup(dir_fd);
    if (fd < 0) throw_errno(display(rel), "cannot read directory", errno);
    DIR* d = fdopendir(fd);
    if (d == nullptr) {
      int e = errno;
      ::close(fd);
      throw_errno(display(rel), "cannot read directory", e);
    }
    rewinddir(d);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
      errno = 0;
    }
    int e = errno;
    closedir(d);
    if (e != 0) throw_errno(display(rel), "cannot read directory", e);
    std::sort(names.begin(), names.end());
    return names;
  }

  // A directory being read: its descriptor, its path from the root, its names in order.
  struct Level {
    int fd;
    std::string rel;
    Inode* dir;
    std::vector<std::string> names;
    size_t next = 0;
  };

  // Reads everything below the root, depth first in name order. Under --ignore-errors an
  // entry that cannot be read (a directory that cannot be listed among them) is left out
  // with a warning and the rest goes on.
  void scan_tree(Inode& root) {
    std::vector<Level> stack;
    try {
      stack.push_back({root_fd_, "", &root, list_names(root_fd_, ""), 0});
      while (!stack.empty()) {
        Level& level = stack.back();
        if (level.next == level.names.size()) {
          if (level.fd != root_fd_) ::close(level.fd);
          stack.pop_back();
          continue;
        }
        const std::string name = level.names[level.next++];
        const std::string child_rel = level.rel.empty() ? name : level.rel + "/" + name;
        if (options_.skip && options_.skip(name, child_rel)) continue;
        const size_t depth = stack.size() - 1;  // of the directory `level` reads
        std::optional<Level> below;
        if (!options_.ignore_errors) {
          below = scan_entry(level, name, child_rel, depth);
        } else {
          try {
            below = scan_entry(level, name, child_rel, depth);
          } catch (const Error& e) {
            level.dir->children.erase(name);
            if (options_.warn) options_.warn(std::string(e.what()) + " (left out)");
          }
        }
        if (below) stack.push_back(std::move(*below));  // `level` is not used past here
      }
    } catch (...) {
      for (const Level& level : stack)
        if (level.fd != root_fd_) ::close(level.fd);
      throw;
    }
  }

  // Reads one entry of a directory into level.dir->children[name]; for a directory, also
  // opens it and lists its names, for scan_tree to read next.
  std::optional<Level> scan_entry(const Level& level, const std::string& name,
                                  const std::string& child_rel, size_t depth) {
    const int dir_fd = level.fd;
    Inode& dir = *level.dir;
    if (depth >= kMaxTreeDepth) {
      throw Error(display(child_rel) + ": nested more than " + std::to_string(kMaxTreeDepth) +
                  " directories deep");
    }
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      throw_errno(display(child_rel), "cannot stat", errno);
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto it = links_.find({st.st_dev, st.st_ino});
      if (it != links_.end()) {
        dir.children[name] = it->second;
        return std::nullopt;
      }
    }
    auto child = make_inode(st);
    read_xattrs("/proc/self/fd/" + std::to_string(dir_fd) + "/" + name, true,
                display(child_rel), *child);
    std::optional<Level> below;
    if (S_ISLNK(st.st_mode)) {
      child->target = read_link(dir_fd, name, st, child_rel);
    } else if (S_ISREG(st.st_mode)) {
      if (options_.ignore_errors) check_readable(dir_fd, name, child_rel);
      Content& c = child->content;
      c.host_path = child_rel;
      c.root_fd = root_fd_;
      c.root_name = root_name_;
      c.device = st.st_dev;
      c.inode = st.st_ino;
      c.mtime_sec = st.st_mtim.tv_sec;
      c.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
      c.checked = true;
    } else if (S_ISDIR(st.st_mode)) {
      int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw_errno(display(child_rel), "cannot open directory", errno);
      struct stat again;
      if (fstat(fd, &again) != 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev) {
        ::close(fd);
        throw Error(display(child_rel) + ": changed while it was read");
      }
      try {
        below = Level{fd, child_rel, child.get(), list_names(fd, child_rel), 0};
      } catch (...) {
        ::close(fd);
        throw;
      }
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) links_[{st.st_dev, st.st_ino}] = child;
    dir.children[name] = std::move(child);
    return below;
  }

  // Opens a file and closes it again, so that one mkimage could not read later is left out now.
  void check_readable(int dir_fd, const std::string& name, const std::string& rel) {
    int fd =
        openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw_errno(display(rel), "cannot open", errno);
    ::close(fd);
  }

  std::string read_link(int dir_fd, const std::string& name, const struct stat& st,
                        const std::string& rel) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    for (;;) {
      ssize_t n = readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) throw_errno(display(rel), "cannot read symlink", errno);
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        return target;
      }
      target.resize(target.size() * 2);
    }
  }

  std::string root_path_;
  int root_fd_;
  std::shared_ptr<const std::string> root_name_;
  std::map<std::pair<dev_t, ino_t>, std::shared_ptr<Inode>> links_;
  const ScanOptions& options_;
};

}  // namespace

Tree scan_directory(const std::string& path) {
  return scan_directory(path, ScanOptions{});
}

Tree scan_directory(const std::string& path, const ScanOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(path, "cannot open source directory", errno);
  Tree tree;
  tree.open_fds.push_back(fd);
  std::string shown = path;
  while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
  tree.root = Scanner(shown, fd, options).scan_root();
  return tree;
}

}  // namespace bakefs::build
