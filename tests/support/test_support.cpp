// Test helpers: trees on disk, images, and the tree-versus-image comparison.
// SPDX-License-Identifier: BSD-2-Clause
#include "test_support.h"

#include <bakefs/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
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
#include <set>
#include <stdexcept>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::test {

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
    // Buffers no larger than the file: zeroing 1 MiB twice per file made a tree of 100,000
    // small files take most of an hour under ASan.
    const size_t kChunk = static_cast<size_t>(std::min<uint64_t>(1 << 20, size + 1));
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

namespace {

struct HostComparer {
  bool check_owners;
  std::map<std::pair<dev_t, ino_t>, ino_t> a_to_b;  // hard link groups
  std::map<ino_t, std::pair<dev_t, ino_t>> b_to_a;

  void compare(const std::string& a, const std::string& b, const std::string& shown) {
    struct stat sa, sb;
    ASSERT_EQ(lstat(a.c_str(), &sa), 0) << a;
    ASSERT_EQ(lstat(b.c_str(), &sb), 0) << b;
    EXPECT_EQ(sa.st_mode, sb.st_mode) << shown;
    if (check_owners) {
      EXPECT_EQ(sa.st_uid, sb.st_uid) << shown;
      EXPECT_EQ(sa.st_gid, sb.st_gid) << shown;
    }
    EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) << shown;
    EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) << shown;
    EXPECT_EQ(host_xattrs(a), host_xattrs(b)) << shown;
    if (!S_ISDIR(sa.st_mode)) {
      EXPECT_EQ(sa.st_nlink, sb.st_nlink) << shown;
      auto [it, fresh] = a_to_b.emplace(std::make_pair(sa.st_dev, sa.st_ino), sb.st_ino);
      EXPECT_EQ(it->second, sb.st_ino) << shown << ": hard links split";
      auto [back, fresh_b] = b_to_a.emplace(sb.st_ino, std::make_pair(sa.st_dev, sa.st_ino));
      EXPECT_TRUE(back->second == std::make_pair(sa.st_dev, sa.st_ino))
          << shown << ": files joined";
      if (!fresh) return;
    }
    switch (sa.st_mode & S_IFMT) {
      case S_IFREG: {
        ASSERT_EQ(sa.st_size, sb.st_size) << shown;
        int fa = open(a.c_str(), O_RDONLY), fb = open(b.c_str(), O_RDONLY);
        ASSERT_GE(fa, 0);
        ASSERT_GE(fb, 0);
        std::vector<char> ba(1 << 20), bb(1 << 20);
        for (;;) {
          ssize_t na = read(fa, ba.data(), ba.size());
          ssize_t nb = read(fb, bb.data(), bb.size());
          ASSERT_EQ(na, nb) << shown;
          ASSERT_GE(na, 0) << shown;
          if (na == 0) break;
          ASSERT_EQ(std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)), 0) << shown;
        }
        close(fa);
        close(fb);
        break;
      }
      case S_IFLNK: {
        char ta[8192], tb[8192];
        ssize_t na = readlink(a.c_str(), ta, sizeof(ta)), nb = readlink(b.c_str(), tb, sizeof(tb));
        ASSERT_GT(na, 0);
        EXPECT_EQ(std::string(ta, static_cast<size_t>(na)),
                  std::string(tb, static_cast<size_t>(std::max<ssize_t>(nb, 0))))
            << shown;
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
        EXPECT_EQ(sa.st_rdev, sb.st_rdev) << shown;
        break;
      case S_IFDIR: {
        EXPECT_EQ(sa.st_nlink, sb.st_nlink) << shown;
        auto names = [](const std::string& dir) {
          std::vector<std::string> out;
          DIR* d = opendir(dir.c_str());
          if (d == nullptr) return out;
          while (struct dirent* e = readdir(d)) {
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
              out.push_back(e->d_name);
          }
          closedir(d);
          std::sort(out.begin(), out.end());
          return out;
        };
        std::vector<std::string> na = names(a), nb = names(b);
        ASSERT_EQ(na, nb) << shown;
        for (const auto& n : na) compare(a + "/" + n, b + "/" + n, shown + "/" + n);
        break;
      }
      default:
        break;
    }
  }
};

}  // namespace

void make_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
  close(fd);
}

void make_rich_tree(const std::string& src) {
  make_dir(src);
  make_dir(src + "/dir", 0750);
  make_dir(src + "/dir/empty", 0700);
  write_file(src + "/dir/file", "content\n", 0640);
  write_file(src + "/empty", "");
  write_file(src + "/setuid", "x", 04755);
  write_file(src + "/setgid", "x", 02711);
  make_dir(src + "/sticky", 01777);
  ASSERT_EQ(symlink("dir/file", (src + "/relative").c_str()), 0);
  ASSERT_EQ(symlink("/absolute/elsewhere", (src + "/absolute").c_str()), 0);
  ASSERT_EQ(symlink(std::string(4000, 'x').c_str(), (src + "/long_target").c_str()), 0);
  ASSERT_EQ(symlink("missing", (src + "/dangling").c_str()), 0);
  ASSERT_EQ(mkfifo((src + "/fifo").c_str(), 0620), 0);
  make_socket(src + "/socket");
  // Hard links: three names in two directories, and a pair.
  write_file(src + "/linked", "one inode, three names");
  ASSERT_EQ(link((src + "/linked").c_str(), (src + "/dir/linked2").c_str()), 0);
  ASSERT_EQ(link((src + "/linked").c_str(), (src + "/linked3").c_str()), 0);
  ASSERT_EQ(link((src + "/fifo").c_str(), (src + "/fifo_link").c_str()), 0);
  // Extended attributes: empty, binary, large values; on files, directories and symlinks.
  ASSERT_EQ(setxattr((src + "/dir/file").c_str(), "user.empty", "", 0, 0), 0);
  std::string binary = random_bytes(300, 7);
  ASSERT_EQ(setxattr((src + "/dir/file").c_str(), "user.binary", binary.data(), binary.size(), 0),
            0);
  std::string large = text_bytes(3000, 8);  // ext4 keeps all of them in one block
  ASSERT_EQ(setxattr((src + "/dir").c_str(), "user.large", large.data(), large.size(), 0), 0);
  ASSERT_EQ(setxattr(src.c_str(), "user.root", "r", 1, 0), 0);
  if (is_root()) {
    ASSERT_EQ(mknod((src + "/char").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
    ASSERT_EQ(mknod((src + "/block").c_str(), S_IFBLK | 0660, makedev(259, 65537)), 0);
    ASSERT_EQ(lchown((src + "/dir/file").c_str(), 1234, 5678), 0);
    ASSERT_EQ(lchown((src + "/relative").c_str(), 4000000000u, 7), 0);
    ASSERT_EQ(lsetxattr((src + "/relative").c_str(), "trusted.on_symlink", "t", 1, 0), 0);
    ASSERT_EQ(setxattr((src + "/fifo").c_str(), "trusted.fifo", "f", 1, 0), 0);
  } else {
    std::fprintf(stderr, "note: not root: device nodes, owners and trusted.* xattrs untested\n");
  }
  // Times with nanoseconds, before 1970 and after 2038 too.
  set_mtime(src + "/dir/file", 1700000000, 123456789);
  set_mtime(src + "/empty", -86400 * 365, 999999999);
  set_mtime(src + "/setuid", 4102444800, 1);
  set_mtime(src + "/relative", 1000000000, 42);
  set_mtime(src + "/dir", 1600000000, 5);
  // Sizes on and around block boundaries (of 4 KiB and of 128 KiB), text and random.
  make_dir(src + "/sizes");
  int seed = 100;
  for (uint64_t size : {uint64_t{1}, uint64_t{4095}, uint64_t{4096}, uint64_t{4097},
                        uint64_t{131071}, uint64_t{131072}, uint64_t{131073}, uint64_t{400000}}) {
    write_file(src + "/sizes/text_" + std::to_string(size), text_bytes(size, ++seed));
    write_file(src + "/sizes/random_" + std::to_string(size), random_bytes(size, ++seed));
  }
  write_file(src + "/sizes/copy_of_text_400000", text_bytes(400000, 115));
}

void expect_same_host_trees(const std::string& a, const std::string& b, bool check_owners) {
  HostComparer c{check_owners, {}, {}};
  c.compare(a, b, "");
}

void reseal_image(std::vector<uint8_t>& image) {
  namespace fmt = ::bakefs::format;
  fmt::Superblock sb;
  ASSERT_GE(image.size(), sizeof(sb));
  std::memcpy(&sb, image.data(), sizeof(sb));
  const uint64_t meta = sb.meta.offset.load(), size = sb.meta.size.load();
  const uint64_t sums = sb.checksums.offset.load();
  const uint64_t unit = uint64_t{1} << sb.unit_log;
  for (uint64_t start = 0, i = 0; start < size; start += unit, ++i) {
    uint64_t length = std::min(unit, size - start);
    fmt::le64 sum;
    sum.store(XXH3_64bits_withSeed(image.data() + meta + start, length, fmt::kSeedMetaUnit + i));
    std::memcpy(image.data() + sums + i * 8, &sum, 8);
  }
  sb.checksum.store(
      XXH3_64bits_withSeed(&sb, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock));
  std::memcpy(image.data(), &sb, sizeof(sb));
}

void patch_metadata(std::vector<uint8_t>& image, const std::string& from, const std::string& to) {
  namespace fmt = ::bakefs::format;
  ASSERT_EQ(from.size(), to.size());
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  auto begin = image.begin() + static_cast<ptrdiff_t>(sb.meta.offset.load());
  auto end = begin + static_cast<ptrdiff_t>(sb.meta.size.load());
  auto hit = std::search(begin, end, from.begin(), from.end());
  ASSERT_NE(hit, end) << "'" << from << "' not in the metadata";
  ASSERT_EQ(std::search(hit + 1, end, from.begin(), from.end()), end) << "'" << from << "' twice";
  std::copy(to.begin(), to.end(), hit);
  reseal_image(image);
}

uint64_t inode_offset(const std::vector<uint8_t>& image, uint32_t ino) {
  namespace fmt = ::bakefs::format;
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  return sb.inodes.offset.load() + uint64_t{ino - 1} * fmt::kSlotSize;
}

void patch_le(std::vector<uint8_t>& image, uint64_t offset, uint64_t value, size_t bytes) {
  ASSERT_LE(offset + bytes, image.size());
  for (size_t i = 0; i < bytes; ++i) {
    image[offset + i] = i < sizeof(value) ? static_cast<uint8_t>(value >> (8 * i)) : 0;
  }
  reseal_image(image);
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  write_file(path, std::string(bytes.begin(), bytes.end()));
}

bakefs_attr attr_of(const FileSystem& fs, const std::string& path) {
  bakefs_ino ino = 0;
  bakefs_attr a{};
  EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK) << path;
  EXPECT_EQ(fs.getattr(ino, a), BAKEFS_OK) << path;
  return a;
}

std::string content_of(const FileSystem& fs, const std::string& path) {
  bakefs_ino ino = 0;
  std::string out;
  EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK) << path;
  EXPECT_EQ(fs.read_all(ino, out), BAKEFS_OK) << path;
  return out;
}

bool exists_in(const FileSystem& fs, const std::string& path) {
  bakefs_ino ino = 0;
  return fs.resolve(path, ino) == BAKEFS_OK;
}

std::optional<std::string> unprivileged_prefix() {
  if (!is_root()) return std::string();
  if (run_command("command -v setpriv").status != 0) return std::nullopt;
  return std::string("setpriv --reuid=65534 --regid=65534 --clear-groups ");
}

CommandResult run_command(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  CommandResult r{-1, {}};
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace bakefs::test
