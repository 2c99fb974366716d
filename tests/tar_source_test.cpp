// Tar archives as sources: every entry type and attribute read back through the driver core,
// names, duplicates, hard links, compressions, sparse members, and damaged archives.
// SPDX-License-Identifier: BSD-2-Clause
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "layer_support.h"
#include "sources/tar_source.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

std::map<std::string, std::string> xattrs_of(const FileSystem& fs, const std::string& path) {
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK) << path;
  std::vector<std::string> names;
  EXPECT_EQ(fs.listxattr(ino, names), BAKEFS_OK) << path;
  std::map<std::string, std::string> out;
  for (const std::string& name : names) EXPECT_EQ(fs.getxattr(ino, name, out[name]), BAKEFS_OK);
  return out;
}

// The message of the Error that reading `sources` throws ("" if none).
std::string error_of(const std::vector<std::string>& sources, const std::string& image) {
  try {
    make_layered_image(sources, image);
  } catch (const build::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TarSource, EveryEntryTypeWithExactAttributes) {
  TempDir dir;
  std::vector<TarMember> m;
  m.push_back(tar_dir("./", 0711));
  m.back().uid = 10;
  m.back().gid = 20;
  m.back().mtime_sec = 1600000000;
  m.back().mtime_nsec = 500000000;
  m.back().xattrs = {{"user.root", "r"}};
  m.push_back(tar_dir("dir/", 0750));
  m.back().uid = 1234;
  m.back().gid = 5678;
  m.back().mtime_nsec = 123456789;
  m.back().xattrs = {{"user.large", text_bytes(3000, 8)}};
  const std::string binary = random_bytes(300, 7);
  m.push_back(tar_file("dir/file", "content\n", 0640));
  m.back().uid = 4000000000u;
  m.back().gid = 7;
  m.back().mtime_sec = -86400 * 365;  // libarchive writes and reads it as "-31536000.999999999"
  m.back().mtime_nsec = 999999999;
  m.back().xattrs = {{"user.empty", ""}, {"user.binary", binary}, {"trusted.t", "t"}};
  m.push_back(tar_file("setuid", "x", 04755));
  m.back().mtime_sec = 4102444800;
  m.back().mtime_nsec = 1;
  m.push_back(tar_file("setgid", "x", 02711));
  m.push_back(tar_dir("sticky", 01777));
  m.push_back(tar_file("empty", ""));
  const std::string big = random_bytes(300000, 3);
  m.push_back(tar_file("big", big));
  m.push_back(tar_symlink("link", "dir/file"));
  m.back().mtime_nsec = 42;
  m.back().xattrs = {{"user.on_symlink", "s"}};
  m.push_back(tar_symlink("long", std::string(4000, 'x')));
  m.push_back(tar_hardlink("hard", "dir/file"));
  m.push_back(tar_special("char", S_IFCHR | 0600, 1, 3));
  m.push_back(tar_special("block", S_IFBLK | 0660, 259, 65537));
  m.push_back(tar_special("fifo", S_IFIFO | 0620));
  m.back().mtime_nsec = 7;
  write_tar(dir / "all.tar", m);
  make_layered_image({dir / "all.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  const FileSystem& fs = image.fs;

  bakefs_attr a = attr_of(fs, "");
  EXPECT_EQ(a.mode, S_IFDIR | 0711u);
  EXPECT_EQ(a.uid, 10u);
  EXPECT_EQ(a.gid, 20u);
  EXPECT_EQ(a.mtime_sec, 1600000000);
  EXPECT_EQ(a.mtime_nsec, 500000000u);
  EXPECT_EQ(xattrs_of(fs, ""), (std::map<std::string, std::string>{{"user.root", "r"}}));

  a = attr_of(fs, "dir");
  EXPECT_EQ(a.mode, S_IFDIR | 0750u);
  EXPECT_EQ(a.uid, 1234u);
  EXPECT_EQ(a.gid, 5678u);
  EXPECT_EQ(a.mtime_sec, 1700000000);
  EXPECT_EQ(a.mtime_nsec, 123456789u);
  EXPECT_EQ(xattrs_of(fs, "dir").at("user.large"), text_bytes(3000, 8));

  a = attr_of(fs, "dir/file");
  EXPECT_EQ(a.mode, S_IFREG | 0640u);
  EXPECT_EQ(a.uid, 4000000000u);
  EXPECT_EQ(a.gid, 7u);
  EXPECT_EQ(a.mtime_sec, -86400 * 365);
  EXPECT_EQ(a.mtime_nsec, 999999999u);
  EXPECT_EQ(a.size, 8u);
  EXPECT_EQ(a.nlink, 2u);
  EXPECT_EQ(content_of(fs, "dir/file"), "content\n");
  EXPECT_EQ(xattrs_of(fs, "dir/file"),
            (std::map<std::string, std::string>{
                {"trusted.t", "t"}, {"user.binary", binary}, {"user.empty", ""}}));
  EXPECT_EQ(attr_of(fs, "hard").ino, a.ino) << "a hard link is the same inode";

  a = attr_of(fs, "setuid");
  EXPECT_EQ(a.mode, S_IFREG | 04755u);
  EXPECT_EQ(a.mtime_sec, 4102444800);
  EXPECT_EQ(a.mtime_nsec, 1u);
  EXPECT_EQ(attr_of(fs, "setgid").mode, S_IFREG | 02711u);
  EXPECT_EQ(attr_of(fs, "sticky").mode, S_IFDIR | 01777u);
  EXPECT_EQ(attr_of(fs, "empty").size, 0u);
  EXPECT_EQ(content_of(fs, "big"), big);

  bakefs_ino ino = 0;
  std::string target;
  ASSERT_EQ(fs.resolve("link", ino), BAKEFS_OK);
  ASSERT_EQ(fs.readlink(ino, target), BAKEFS_OK);
  EXPECT_EQ(target, "dir/file");
  a = attr_of(fs, "link");
  EXPECT_EQ(a.mode, S_IFLNK | 0777u);
  EXPECT_EQ(a.mtime_nsec, 42u);
  EXPECT_EQ(xattrs_of(fs, "link"), (std::map<std::string, std::string>{{"user.on_symlink", "s"}}));
  ASSERT_EQ(fs.resolve("long", ino), BAKEFS_OK);
  ASSERT_EQ(fs.readlink(ino, target), BAKEFS_OK);
  EXPECT_EQ(target, std::string(4000, 'x'));

  a = attr_of(fs, "char");
  EXPECT_EQ(a.mode, S_IFCHR | 0600u);
  EXPECT_EQ(a.rdev_major, 1u);
  EXPECT_EQ(a.rdev_minor, 3u);
  a = attr_of(fs, "block");
  EXPECT_EQ(a.mode, S_IFBLK | 0660u);
  EXPECT_EQ(a.rdev_major, 259u);
  EXPECT_EQ(a.rdev_minor, 65537u);
  a = attr_of(fs, "fifo");
  EXPECT_EQ(a.mode, S_IFIFO | 0620u);
  EXPECT_EQ(a.mtime_nsec, 7u);

  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems, 10), BAKEFS_OK) << (problems.empty() ? "" : problems.front());
}

TEST(TarSource, NamesAreNormalisedAndParentsMadeUp) {
  TempDir dir;
  std::vector<TarMember> m;
  m.push_back(tar_file("/abs/file", "a"));
  m.push_back(tar_file("./dot/./file", "b"));
  m.push_back(tar_file("two//slashes", "c"));
  m.push_back(tar_file("made/up/file", "d"));
  m.push_back(tar_dir("made/", 0700));  // the directory's own entry after its contents
  m.back().mtime_nsec = 5;
  write_tar(dir / "names.tar", m);
  make_layered_image({dir / "names.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  const FileSystem& fs = image.fs;
  EXPECT_EQ(content_of(fs, "abs/file"), "a");
  EXPECT_EQ(content_of(fs, "dot/file"), "b");
  EXPECT_EQ(content_of(fs, "two/slashes"), "c");
  EXPECT_EQ(content_of(fs, "made/up/file"), "d");
  std::vector<Dirent> root;
  ASSERT_EQ(fs.readdir(BAKEFS_ROOT_INO, root), BAKEFS_OK);
  ASSERT_EQ(root.size(), 4u);
  // Made-up directories (and the root, which the archive does not name): 0755, 0:0, time 0.
  for (const char* path : {"", "abs", "dot", "two", "made/up"}) {
    bakefs_attr a = attr_of(fs, path);
    EXPECT_EQ(a.mode, S_IFDIR | 0755u) << path;
    EXPECT_EQ(a.uid, 0u) << path;
    EXPECT_EQ(a.gid, 0u) << path;
    EXPECT_EQ(a.mtime_sec, 0) << path;
    EXPECT_EQ(a.mtime_nsec, 0u) << path;
  }
  bakefs_attr made = attr_of(fs, "made");
  EXPECT_EQ(made.mode, S_IFDIR | 0700u);
  EXPECT_EQ(made.mtime_sec, 1700000000);
  EXPECT_EQ(made.mtime_nsec, 5u);
}

TEST(TarSource, LaterMembersWinAndLeaveHardLinkGroups) {
  TempDir dir;
  std::vector<TarMember> m;
  m.push_back(tar_file("x", "first"));
  m.push_back(tar_file("x", "second"));
  m.push_back(tar_dir("d", 0700));
  m.push_back(tar_file("d/child", "kept"));
  m.push_back(tar_dir("d", 0750));  // attributes only
  m.push_back(tar_file("f", "a file, then a directory"));
  m.push_back(tar_dir("f", 0755));
  m.push_back(tar_file("a", "old"));
  m.push_back(tar_hardlink("b", "a"));
  m.push_back(tar_hardlink("./c", "./a"));
  m.push_back(tar_file("a", "new"));  // replaces a; b and c keep the old inode
  m.push_back(tar_file("p", "pair"));
  m.push_back(tar_hardlink("q", "p"));
  write_tar(dir / "dups.tar", m);
  make_layered_image({dir / "dups.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  const FileSystem& fs = image.fs;
  EXPECT_EQ(content_of(fs, "x"), "second");
  EXPECT_EQ(attr_of(fs, "d").mode, S_IFDIR | 0750u);
  EXPECT_EQ(content_of(fs, "d/child"), "kept");
  EXPECT_EQ(attr_of(fs, "f").mode, S_IFDIR | 0755u);
  EXPECT_EQ(content_of(fs, "a"), "new");
  EXPECT_EQ(attr_of(fs, "a").nlink, 1u);
  EXPECT_EQ(content_of(fs, "b"), "old");
  EXPECT_EQ(attr_of(fs, "b").ino, attr_of(fs, "c").ino);
  EXPECT_EQ(attr_of(fs, "b").nlink, 2u);
  EXPECT_EQ(attr_of(fs, "p").ino, attr_of(fs, "q").ino);
  EXPECT_EQ(attr_of(fs, "q").nlink, 2u);
}

class Compressed : public ::testing::TestWithParam<const char*> {};

TEST_P(Compressed, GivesTheSameImageAsPlainTar) {
  TempDir dir;
  std::vector<TarMember> m;
  m.push_back(tar_dir("./"));
  m.push_back(tar_file("text", text_bytes(200000, 1)));
  m.push_back(tar_file("random", random_bytes(50000, 2)));
  m.push_back(tar_symlink("link", "text"));
  write_tar(dir / "plain.tar", m);
  write_tar(dir / "packed.tar", m, GetParam());
  make_layered_image({dir / "plain.tar"}, dir / "plain.img");
  make_layered_image({dir / "packed.tar"}, dir / "packed.img");
  EXPECT_NE(read_bytes(dir / "plain.tar"), read_bytes(dir / "packed.tar"));
  EXPECT_TRUE(read_bytes(dir / "plain.img") == read_bytes(dir / "packed.img"));
  auto image = posix::MountedImage::open(dir / "packed.img");
  EXPECT_EQ(content_of(image.fs, "text"), text_bytes(200000, 1));
}

INSTANTIATE_TEST_SUITE_P(Filters, Compressed,
                         ::testing::Values("gzip", "bzip2", "xz", "zstd", "lz4", "lzip"));

TEST(TarSource, SparseMembersKeepTheirHoles) {
  TempDir dir;
  const size_t size = 8 << 20;
  std::string data(size, '\0');
  const std::string piece = random_bytes(5000, 9);
  data.replace(1 << 20, piece.size(), piece);
  data.replace(size - 100, 100, std::string(100, 'e'));
  TarMember sparse = tar_file("sparse", data);
  sparse.sparse = {{1 << 20, 5000}, {size - 100, 100}};
  write_tar(dir / "sparse.tar", {sparse});
  EXPECT_LT(std::filesystem::file_size(dir / "sparse.tar"), 64u << 10) << "holes were stored";
  build::Stats stats = make_layered_image({dir / "sparse.tar"}, dir / "img");
  EXPECT_GE(stats.hole_blocks, 60u);
  auto image = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(image.fs, "sparse"), data);
}

// GNU tar's own sparse format, of a file far larger than what it holds: neither the archive
// nor the spill file nor the image gets its gigabytes of zeros.
TEST(TarSource, LargeSparseFileFromGnuTar) {
  TempDir dir;
  make_dir(dir / "src");
  const uint64_t size = 5ull << 30;
  {
    int fd = ::open((dir / "src/huge").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, "middle", 6, 3ll << 30), 6);
    ASSERT_EQ(pwrite(fd, "end", 3, static_cast<off_t>(size - 3)), 3);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    ::close(fd);
  }
  for (const char* format : {"posix", "gnu"}) {
    std::string tar = dir / (std::string(format) + ".tar");
    std::string command = "tar --sparse --format=" + std::string(format) + " -C " + dir / "src" +
                          " -cf " + tar + " huge";
    ASSERT_EQ(std::system(command.c_str()), 0);
    ASSERT_LT(std::filesystem::file_size(tar), 1u << 20);
    build::Stats stats = make_layered_image({tar}, dir / "img");
    EXPECT_LT(stats.image_bytes, 1u << 20) << format;
    auto image = posix::MountedImage::open(dir / "img");
    bakefs_ino ino = 0;
    ASSERT_EQ(image.fs.resolve("huge", ino), BAKEFS_OK);
    EXPECT_EQ(attr_of(image.fs, "huge").size, size);
    char buf[16] = {};
    size_t done = 0;
    ASSERT_EQ(image.fs.read(ino, (3ull << 30) - 2, buf, 10, done), BAKEFS_OK);
    EXPECT_EQ(std::string(buf, done), std::string("\0\0middle\0\0", 10)) << format;
    ASSERT_EQ(image.fs.read(ino, size - 5, buf, 16, done), BAKEFS_OK);
    EXPECT_EQ(std::string(buf, done), std::string("\0\0end", 5)) << format;
  }
}

TEST(TarSource, DamagedArchivesNameTheArchiveAndTheMember) {
  TempDir dir;
  std::vector<TarMember> m;
  m.push_back(tar_file("first", "small"));
  m.push_back(tar_file("second", random_bytes(200000, 4)));
  write_tar(dir / "good.tar", m);
  std::vector<uint8_t> bytes = read_bytes(dir / "good.tar");

  // Cut in the middle of the second member's data.
  write_bytes(dir / "cut.tar", std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100000));
  std::string e = error_of({dir / "cut.tar"}, dir / "img");
  EXPECT_NE(e.find(dir / "cut.tar"), std::string::npos) << e;
  EXPECT_NE(e.find("second"), std::string::npos) << e;
  EXPECT_NE(e.find("runcated"), std::string::npos) << e;

  // Cut inside the second member's header (the first header block naming it).
  size_t second = 512;
  while (second < bytes.size() &&
         std::string(reinterpret_cast<const char*>(bytes.data()) + second, 100).find("second") ==
             std::string::npos) {
    second += 512;
  }
  ASSERT_LT(second, bytes.size());
  write_bytes(dir / "cut_header.tar",
              std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<long>(second) + 100));
  e = error_of({dir / "cut_header.tar"}, dir / "img");
  EXPECT_NE(e.find("after member first"), std::string::npos) << e;

  // A damaged header in the middle: an error, not a skip to the next good header.
  std::vector<uint8_t> damaged = bytes;
  for (size_t i = 0; i < 100; ++i) damaged[second + i] ^= 0x5a;
  write_bytes(dir / "damaged.tar", damaged);
  e = error_of({dir / "damaged.tar"}, dir / "img");
  EXPECT_NE(e.find(dir / "damaged.tar"), std::string::npos) << e;
  EXPECT_NE(e.find("first"), std::string::npos) << e;

  // Not an archive at all, and an empty file.
  write_file(dir / "garbage", random_bytes(5000, 5));
  e = error_of({dir / "garbage"}, dir / "img");
  EXPECT_NE(e.find(dir / "garbage"), std::string::npos) << e;
  EXPECT_NE(e.find("Unrecognized archive format"), std::string::npos) << e;
  write_file(dir / "empty", "");
  EXPECT_NE(error_of({dir / "empty"}, dir / "img"), "");
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));
}

TEST(TarSource, UnsafeAndInconsistentMembersAreErrors) {
  TempDir dir;
  struct Case {
    std::vector<TarMember> members;
    std::string expected;
  };
  const Case cases[] = {
      {{tar_file("a/../../etc/passwd", "x")}, "a/../../etc/passwd: a '..' in the name"},
      {{tar_file("..", "x")}, "..: a '..' in the name"},
      {{tar_hardlink("link", "../outside")}, "link: a '..' in the name"},
      {{tar_hardlink("link", "missing")}, "link: hard link to missing, not an earlier member"},
      {{tar_dir("d"), tar_hardlink("link", "d")}, "link: hard link to the directory d"},
      {{tar_file("f", "x"), tar_file("f/g", "y")}, "f/g: f is not a directory"},
      {{tar_file("d/child", "x"), tar_file("d", "y")}, "d: would replace a non-empty directory"},
      {{tar_symlink(".", "x")}, ".: the root of the archive is not a directory"},
      {{tar_special("dev", 0020644, (uint64_t{1} << 32) + 5, 3)},
       "dev: device 4294967301,3 out of range"},
      {{tar_special("dev", 0060644, 8, uint64_t{1} << 40)},
       "dev: device 8,1099511627776 out of range"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::string tar = dir / ("case" + std::to_string(++i) + ".tar");
    write_tar(tar, c.members);
    std::string e = error_of({tar}, dir / "img");
    EXPECT_NE(e.find(tar + ": " + c.expected), std::string::npos) << e;
  }
}

// "a/a/.../a/f", `levels` names in all.
std::string nested_name(size_t levels) {
  std::string name;
  for (size_t i = 1; i < levels; ++i) name += "a/";
  return name + "f";
}

TEST(TarSource, NestingIsBoundedAndLongNamesAreCutInMessages) {
  TempDir dir;
  // As deep as a tree may be: read, written and read back.
  write_tar(dir / "deepest.tar", {tar_file(nested_name(build::kMaxTreeDepth), "x")});
  make_layered_image({dir / "deepest.tar"}, dir / "img");
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(m.fs, nested_name(build::kMaxTreeDepth)), "x");
  // One level more: a member name of a few kilobytes must not make a tree that every later
  // walk recurses through (the stack) and that stores a path per level (memory).
  write_tar(dir / "deeper.tar", {tar_file(nested_name(build::kMaxTreeDepth + 1), "x")});
  std::string e = error_of({dir / "deeper.tar"}, dir / "img2");
  EXPECT_NE(e.find(dir / "deeper.tar: a/a/a/"), std::string::npos) << e;
  EXPECT_NE(e.find("...: nested more than 2048 directories deep"), std::string::npos) << e;
  EXPECT_LT(e.size(), 400u) << "the member's name is cut short";
  // The same through a hard link's target.
  write_tar(dir / "link.tar",
            {tar_file("f", "x"), tar_hardlink("l", nested_name(build::kMaxTreeDepth + 1))});
  e = error_of({dir / "link.tar"}, dir / "img3");
  EXPECT_NE(e.find("l: nested more than 2048 directories deep"), std::string::npos) << e;
}

TEST(TarSource, LongNamesCostMemoryInProportionToTheirLength) {
  // Four members of the deepest paths with the longest names, 2 MiB of archive: a tree of
  // 8000 directories whose paths add up to 2 GiB. Making each path only for a message keeps
  // the build small.
  TempDir dir;
  const std::string long_name(255, 'n');
  std::string path;
  for (size_t i = 2; i < build::kMaxTreeDepth; ++i) path += long_name + "/";
  std::vector<TarMember> members;
  for (char top : {'0', '1', '2', '3'}) members.push_back(tar_file(top + ("/" + path + "f"), "x"));
  write_tar(dir / "long.tar", members);
  build::Options options;
  options.level = 1;
  make_layered_image({dir / "long.tar"}, dir / "img", {}, {}, options);
  struct rusage usage {};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 512 * 1024) << "KiB at the peak";
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(m.fs, "3/" + path + "f"), "x");
}

TEST(TarSource, ASpillFileThatCannotBeMadeIsAClearError) {
  TempDir dir;
  write_tar(dir / "a.tar", {tar_file("f", "bytes")});
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("TMPDIR", (dir / "missing").c_str(), 1);
  std::string e = error_of({dir / "a.tar"}, dir / "img");
  if (old != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  EXPECT_NE(e.find(dir / "a.tar: cannot create a temporary spill file in " + dir / "missing"),
            std::string::npos)
      << e;
}

TEST(TarSource, TheTreeKeepsItsSpillFileOpen) {
  TempDir dir;
  write_tar(dir / "a.tar", {tar_file("f", "bytes")});
  build::Tree tree = build::read_tar(dir / "a.tar");
  ASSERT_EQ(tree.open_fds.size(), 1u);
  const build::Inode& f = *tree.root->children.at("f");
  EXPECT_EQ(f.content.spill_fd, tree.open_fds[0]);
  char buf[5];
  EXPECT_EQ(pread(f.content.spill_fd, buf, 5, static_cast<off_t>(f.content.spill_offset)), 5);
  EXPECT_EQ(std::string(buf, 5), "bytes");
}

}  // namespace
}  // namespace bakefs::test
