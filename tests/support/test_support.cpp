// Test helpers: trees on disk, images, and the tree-versus-image comparison.
// SPDX-License-Identifier: BSD-2-Clause
#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>

namespace bakefs::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/bakefs-test.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error(path + ": write failed");
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

void make_dir(const std::string& path, unsigned mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    throw std::runtime_error(path + ": " + std::strerror(errno));
  }
  ::chmod(path.c_str(), mode);
}

void set_mtime(const std::string& path, int64_t sec, uint32_t nsec) {
  struct timespec times[2] = {{sec, static_cast<long>(nsec)}, {sec, static_cast<long>(nsec)}};
  if (utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error(path + ": utimensat: " + std::strerror(errno));
  }
}

std::string random_bytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return s;
}

std::string text_bytes(size_t size, uint64_t seed) {
  static const char* kWords[] = {"static", "const", "uint32_t", "return", "if",     "(",  ")", "{",
                                 "}",      ";",     "bakefs",   "inode",  "block",  "=",  "+", "\n",
                                 "  ",     "for",   "while",    "size",   "offset", "->", "0", "1",
                                 "error"};
  std::mt19937_64 rng(seed);
  std::string s;
  s.reserve(size + 16);
  while (s.size() < size) {
    s += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    s += ' ';
  }
  s.resize(size);
  return s;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

bool is_root() {
  return geteuid() == 0;
}

build::Stats make_image(const std::string& source, const std::string& image,
                        build::Options options) {
  build::Tree tree = build::scan_directory(source);
  return build::write_image(tree, options, image);
}

namespace {

std::map<std::string, std::string> host_xattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  ssize_t size = llistxattr(path.c_str(), nullptr, 0);
  if (size <= 0) return out;
  std::string names(static_cast<size_t>(size), '\0');
  size = llistxattr(path.c_str(), names.data(), names.size());
  for (size_t pos = 0; pos < static_cast<size_t>(size);) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    ssize_t vsize = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    std::string value(static_cast<size_t>(std::max<ssize_t>(vsize, 0)), '\0');
    if (vsize > 0) lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    out[name] = value;
  }
  return out;
}

struct Comparer {
  const FileSystem& fs;
  std::map<std::pair<dev_t, ino_t>, bakefs_ino> links;     // host inode -> image inode
  std::map<std::pair<dev_t, ino_t>, uint32_t> link_count;  // names seen in the tree
  std::map<std::pair<dev_t, ino_t>, bakefs_ino> first;

  void compare_content(int dir_fd, const std::string& name, const std::string& shown,
                       bakefs_ino ino, uint64_t size) {
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ASSERT_GE(fd, 0) << shown;
    constexpr size_t kChunk = 1 << 20;
    std::vector<char> want(kChunk), got(kChunk);
    uint64_t offset = 0;
    uint64_t data_at = 0;  // next data in the source at or after offset (holes read as zeros)
    while (offset < size) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - offset));
      if (data_at <= offset) {
        off_t next = lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
        data_at = next < 0 ? size : static_cast<uint64_t>(next);
      }
      if (data_at >= offset + n) {
        std::memset(want.data(), 0, n);
      } else {
        ASSERT_EQ(pread(fd, want.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
      }
      size_t done = 0;
      ASSERT_EQ(fs.read(ino, offset, got.data(), n, done), BAKEFS_OK) << shown;
      ASSERT_EQ(done, n) << shown;
      ASSERT_EQ(std::memcmp(want.data(), got.data(), n), 0) << shown << " differs near " << offset;
      offset += n;
    }
    size_t done = 99;
    EXPECT_EQ(fs.read(ino, size, got.data(), 1, done), BAKEFS_OK);
    EXPECT_EQ(done, 0u) << shown << ": read past EOF";
    ::close(fd);
  }

  // dir_fd is the host directory, `path` its name for messages, `dir` its image inode.
  void compare_dir(int dir_fd, const std::string& path, bakefs_ino dir) {
    std::vector<std::string> names;
    int dup_fd = dup(dir_fd);
    DIR* d = fdopendir(dup_fd);
    ASSERT_NE(d, nullptr);
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        names.push_back(e->d_name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());

    std::vector<Dirent> entries;
    ASSERT_EQ(fs.readdir(dir, entries), BAKEFS_OK) << path;
    ASSERT_EQ(entries.size(), names.size()) << path;
    uint32_t subdirs = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& name = names[i];
      const std::string shown = path + "/" + name;
      ASSERT_EQ(entries[i].name, name) << path << ": entries not in byte order";
      bakefs_ino ino = 0;
      ASSERT_EQ(fs.lookup(dir, name, ino), BAKEFS_OK) << shown;
      ASSERT_EQ(ino, entries[i].ino) << shown;
      struct stat st;
      ASSERT_EQ(fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0) << shown;
      bakefs_attr a;
      ASSERT_EQ(fs.getattr(ino, a), BAKEFS_OK) << shown;
      EXPECT_EQ(a.mode, st.st_mode) << shown;
      EXPECT_EQ(entries[i].type, st.st_mode >> 12) << shown;
      EXPECT_EQ(a.uid, st.st_uid) << shown;
      EXPECT_EQ(a.gid, st.st_gid) << shown;
      EXPECT_EQ(a.mtime_sec, st.st_mtim.tv_sec) << shown;
      EXPECT_EQ(a.mtime_nsec, static_cast<uint32_t>(st.st_mtim.tv_nsec)) << shown;
      EXPECT_EQ(a.ino, ino);
      std::string fd_path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
      std::vector<std::string> xnames;
      ASSERT_EQ(fs.listxattr(ino, xnames), BAKEFS_OK) << shown;
      auto want_x = host_xattrs(fd_path);
      ASSERT_EQ(xnames.size(), want_x.size()) << shown;
      for (const auto& [xname, xvalue] : want_x) {
        std::string value;
        ASSERT_EQ(fs.getxattr(ino, xname, value), BAKEFS_OK) << shown << " " << xname;
        EXPECT_EQ(value, xvalue) << shown << " " << xname;
      }
      if (!S_ISDIR(st.st_mode)) {
        auto key = std::make_pair(st.st_dev, st.st_ino);
        auto [it, fresh] = first.emplace(key, ino);
        EXPECT_EQ(it->second, ino) << shown << ": hard link to another image inode";
        if (!fresh) {
          link_count[key] += 1;
          continue;  // content compared at the first name
        }
        link_count[key] = 1;
        links[key] = ino;
      }
      switch (st.st_mode & S_IFMT) {
        case S_IFREG:
          EXPECT_EQ(a.size, static_cast<uint64_t>(st.st_size)) << shown;
          compare_content(dir_fd, name, shown, ino, static_cast<uint64_t>(st.st_size));
          break;
        case S_IFLNK: {
          std::string want(static_cast<size_t>(st.st_size) + 1, '\0');
          ssize_t n = readlinkat(dir_fd, name.c_str(), want.data(), want.size());
          ASSERT_GE(n, 0);
          want.resize(static_cast<size_t>(n));
          std::string got;
          ASSERT_EQ(fs.readlink(ino, got), BAKEFS_OK) << shown;
          EXPECT_EQ(got, want) << shown;
          EXPECT_EQ(a.size, want.size()) << shown;
          break;
        }
        case S_IFCHR:
        case S_IFBLK:
          EXPECT_EQ(a.rdev_major, major(st.st_rdev)) << shown;
          EXPECT_EQ(a.rdev_minor, minor(st.st_rdev)) << shown;
          break;
        case S_IFDIR: {
          ++subdirs;
          bakefs_ino parent = 0;
          ASSERT_EQ(fs.lookup(ino, "..", parent), BAKEFS_OK);
          EXPECT_EQ(parent, dir) << shown;
          int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          ASSERT_GE(fd, 0) << shown;
          compare_dir(fd, shown, ino);
          ::close(fd);
          break;
        }
        default:
          break;
      }
    }
    bakefs_attr self;
    ASSERT_EQ(fs.getattr(dir, self), BAKEFS_OK);
    EXPECT_EQ(self.nlink, 2 + subdirs) << path << ": directory link count";
  }
};

}  // namespace

void expect_same_tree(const std::string& source, const FileSystem& fs) {
  int fd = ::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << source;
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  bakefs_attr root;
  ASSERT_EQ(fs.getattr(BAKEFS_ROOT_INO, root), BAKEFS_OK);
  EXPECT_EQ(root.mode, st.st_mode);
  EXPECT_EQ(root.uid, st.st_uid);
  EXPECT_EQ(root.mtime_sec, st.st_mtim.tv_sec);
  EXPECT_EQ(root.mtime_nsec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
  Comparer c{fs, {}, {}, {}};
  c.compare_dir(fd, source, BAKEFS_ROOT_INO);
  ::close(fd);
  // Link counts count the names inside the tree.
  for (const auto& [key, count] : c.link_count) {
    bakefs_attr a;
    ASSERT_EQ(fs.getattr(c.links[key], a), BAKEFS_OK);
    EXPECT_EQ(a.nlink, count) << "inode " << c.links[key];
  }
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems, 10), BAKEFS_OK) << (problems.empty() ? "" : problems.front());
}

}  // namespace bakefs::test
