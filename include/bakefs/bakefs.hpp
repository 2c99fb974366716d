// A thin C++ API over the driver core's C ABI, for host code (mkimage, tools, tests).
// Header-only; the freestanding core never includes it. Calls return bakefs_status codes.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_BAKEFS_HPP
#define BAKEFS_BAKEFS_HPP

#include <bakefs/bakefs.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bakefs {

struct Dirent {
  std::string name;
  bakefs_ino ino;
  uint32_t type;  // DT_* value (mode >> 12)
  uint64_t pos;
};

// A mounted image; unmounts when destroyed. Thread-safe like the core.
class FileSystem {
 public:
  FileSystem() = default;
  ~FileSystem() { reset(); }
  FileSystem(FileSystem&& other) noexcept : fs_(std::exchange(other.fs_, nullptr)) {}
  FileSystem& operator=(FileSystem&& other) noexcept {
    if (this != &other) {
      reset();
      fs_ = std::exchange(other.fs_, nullptr);
    }
    return *this;
  }
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  int mount(const void* image, size_t length, const bakefs_platform& platform,
            const bakefs_mount_options* options = nullptr) {
    reset();
    return bakefs_mount(image, length, &platform, options, &fs_);
  }
  // The image a source reads (bakefs_mount_source); source must outlive the mount.
  int mount_source(const bakefs_source& source, const bakefs_platform& platform,
                   const bakefs_mount_options* options = nullptr) {
    reset();
    return bakefs_mount_source(&source, &platform, options, &fs_);
  }
  void reset() {
    if (fs_ != nullptr) bakefs_unmount(std::exchange(fs_, nullptr));
  }
  bakefs_fs* get() const { return fs_; }
  explicit operator bool() const { return fs_ != nullptr; }

  int statfs(bakefs_fsstat& out) const { return bakefs_statfs(fs_, &out); }
  int getattr(bakefs_ino ino, bakefs_attr& out) const { return bakefs_getattr(fs_, ino, &out); }
  int lookup(bakefs_ino dir, std::string_view name, bakefs_ino& out) const {
    return bakefs_lookup(fs_, dir, name.data(), name.size(), &out);
  }

  // Resolves a '/'-separated path from the root without following symlinks ("" and "/" are
  // the root).
  int resolve(std::string_view path, bakefs_ino& out) const {
    bakefs_ino ino = BAKEFS_ROOT_INO;
    while (!path.empty()) {
      size_t slash = path.find('/');
      std::string_view part = path.substr(0, slash);
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
      if (part.empty()) continue;
      if (int s = lookup(ino, part, ino); s != BAKEFS_OK) return s;
    }
    out = ino;
    return BAKEFS_OK;
  }

  // Resolves a path as a process chrooted at the image's root would: "." and ".." (never above
  // the root) are understood, and symbolic links are followed, an absolute target from the
  // image's root; the last component's only when follow_last. At most 40 links are followed
  // (BAKEFS_ELOOP past that). `canonical`, when given, receives the path reached ("/dir/file").
  int resolve_following(std::string_view path, bakefs_ino& out, bool follow_last = true,
                        std::string* canonical = nullptr) const {
    struct Step {
      bakefs_ino ino;
      std::string name;
    };
    std::vector<Step> at{{BAKEFS_ROOT_INO, ""}};  // the root, then each directory entered
    bool at_directory = true;
    std::vector<std::string> todo;  // components still to take, the next one last
    auto push_components = [&todo](std::string_view p) {
      std::vector<std::string> parts;
      size_t start = 0;
      for (;;) {
        size_t slash = p.find('/', start);
        parts.emplace_back(p.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
      }
      todo.insert(todo.end(), parts.rbegin(), parts.rend());
    };
    push_components(path);
    int links = 0;
    while (!todo.empty()) {
      std::string part = std::move(todo.back());
      todo.pop_back();
      // An empty part (a leading, doubled or trailing slash) is ".": it needs a directory, so
      // "file/" is ENOTDIR as in POSIX. Only the last step can be a non-directory.
      if (!at_directory) return BAKEFS_ENOTDIR;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (at.size() > 1) at.pop_back();
        continue;
      }
      bakefs_ino child;
      if (int s = lookup(at.back().ino, part, child); s != BAKEFS_OK) return s;
      bakefs_attr attr;
      if (int s = getattr(child, attr); s != BAKEFS_OK) return s;
      const uint32_t type = attr.mode & 0170000;
      if (type == 0120000 && (follow_last || !todo.empty())) {
        if (++links > 40) return BAKEFS_ELOOP;
        std::string target;
        if (int s = readlink(child, target); s != BAKEFS_OK) return s;
        if (target.empty()) return BAKEFS_ENOENT;
        if (target.front() == '/') at.resize(1);
        push_components(target);
        continue;
      }
      at.push_back({child, std::move(part)});
      at_directory = type == 0040000;
    }
    out = at.back().ino;
    if (canonical != nullptr) {
      canonical->clear();
      for (size_t i = 1; i < at.size(); ++i) *canonical += "/" + at[i].name;
      if (canonical->empty()) *canonical = "/";
    }
    return BAKEFS_OK;
  }

  // All entries but "." and "..".
  int readdir(bakefs_ino dir, std::vector<Dirent>& out) const {
    out.clear();
    auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino ino, uint32_t type,
                   uint64_t pos, uint64_t) -> int {
      if (pos >= 2)
        static_cast<std::vector<Dirent>*>(ctx)->push_back(
            {std::string(name, length), ino, type, pos});
      return 0;
    };
    return bakefs_readdir(fs_, dir, 2, emit, &out);
  }

  // The file data primitive (bakefs.h): a handle, then a range as spans, given back with
  // release().
  int open(bakefs_ino ino, bakefs_file& out) const { return bakefs_open(fs_, ino, &out); }
  int read_spans(const bakefs_file& file, uint64_t offset, size_t length, bakefs_span* spans,
                 size_t max_spans, size_t& count) const {
    return bakefs_file_read(fs_, &file, offset, length, spans, max_spans, &count);
  }
  void release(bakefs_span* spans, size_t count) const { bakefs_release(fs_, spans, count); }

  int read(bakefs_ino ino, uint64_t offset, void* buf, size_t length, size_t& done) const {
    return bakefs_read(fs_, ino, offset, buf, length, &done);
  }
  int read_all(bakefs_ino ino, std::string& out) const {
    bakefs_attr attr;
    if (int s = getattr(ino, attr); s != BAKEFS_OK) return s;
    out.resize(attr.size);
    size_t done = 0;
    int s = read(ino, 0, out.data(), out.size(), done);
    out.resize(done);
    return s;
  }
  int readlink(bakefs_ino ino, std::string& out) const {
    size_t length = 0;
    int s = bakefs_readlink(fs_, ino, nullptr, 0, &length);
    if (s != BAKEFS_ERANGE && s != BAKEFS_OK) return s;
    out.resize(length);
    return bakefs_readlink(fs_, ino, out.data(), out.size(), &length);
  }
  int listxattr(bakefs_ino ino, std::vector<std::string>& out) const {
    out.clear();
    size_t needed = 0;
    if (int s = bakefs_listxattr(fs_, ino, nullptr, 0, &needed); s != BAKEFS_OK) return s;
    std::string names(needed, '\0');
    if (int s = bakefs_listxattr(fs_, ino, names.data(), names.size(), &needed); s != BAKEFS_OK) {
      return s;
    }
    for (size_t pos = 0; pos < names.size();) {
      size_t end = names.find('\0', pos);
      out.push_back(names.substr(pos, end - pos));
      pos = end + 1;
    }
    return BAKEFS_OK;
  }
  int getxattr(bakefs_ino ino, const std::string& name, std::string& out) const {
    size_t needed = 0;
    if (int s = bakefs_getxattr(fs_, ino, name.c_str(), nullptr, 0, &needed); s != BAKEFS_OK) {
      return s;
    }
    out.resize(needed);
    if (needed == 0) return BAKEFS_OK;
    return bakefs_getxattr(fs_, ino, name.c_str(), out.data(), out.size(), &needed);
  }
  // The index-th boot record of a type (BAKEFS_BOOT_*), copied.
  int boot_record(uint32_t type, uint32_t index, std::string& out) const {
    const void* data = nullptr;
    size_t length = 0;
    int s = bakefs_boot_record(fs_, type, index, &data, &length);
    if (s == BAKEFS_OK) out.assign(static_cast<const char*>(data), length);
    return s;
  }
  // Every boot record of a type, in image order.
  int boot_records(uint32_t type, std::vector<std::string>& out) const {
    out.clear();
    for (uint32_t i = 0;; ++i) {
      std::string record;
      int s = boot_record(type, i, record);
      if (s == BAKEFS_ENOENT) return BAKEFS_OK;
      if (s != BAKEFS_OK) return s;
      out.push_back(std::move(record));
    }
  }
  // Full check; problems get one line each.
  int check(std::vector<std::string>& problems, uint32_t max_problems = 0) const {
    auto report = [](void* ctx, const char* message) {
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(message);
    };
    return bakefs_check(fs_, report, &problems, max_problems);
  }

 private:
  bakefs_fs* fs_ = nullptr;
};

}  // namespace bakefs

#endif  // BAKEFS_BAKEFS_HPP
