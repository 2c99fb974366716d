// Round trips: generated trees -> mkimage library -> image -> driver core, compared byte by
// byte and attribute by attribute with the source.
// SPDX-License-Identifier: BSD-2-Clause
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "test_support.h"

namespace bakefs::test {
namespace {

posix::MountedImage build_and_mount(const std::string& source, const std::string& image,
                                    build::Options options = {}) {
  make_image(source, image, options);
  return posix::MountedImage::open(image);
}

// Files whose sizes sit on and one byte around block boundaries, for one block size.
void make_boundary_files(const std::string& dir, uint32_t block) {
  make_dir(dir);
  const uint64_t sizes[] = {0,
                            1,
                            100,
                            block - 1,
                            block,
                            block + 1ull,
                            2ull * block - 1,
                            2ull * block,
                            2ull * block + 1,
                            5ull * block + 17};
  int seed = 0;
  for (uint64_t size : sizes) {
    write_file(dir + "/text_" + std::to_string(size), text_bytes(size, ++seed));
    write_file(dir + "/random_" + std::to_string(size), random_bytes(size, ++seed));
  }
}

struct Layout {
  uint32_t block_log;
  bool fragments;
  int level;
};

class BoundaryTest : public ::testing::TestWithParam<Layout> {};

TEST_P(BoundaryTest, SizesAroundBlockBoundariesRoundTrip) {
  TempDir dir;
  make_boundary_files(dir / "src", 1u << GetParam().block_log);
  build::Options options;
  options.block_log = GetParam().block_log;
  options.fragments = GetParam().fragments;
  options.level = GetParam().level;
  auto m = build_and_mount(dir / "src", dir / "img", options);
  expect_same_tree(dir / "src", m.fs);
}

INSTANTIATE_TEST_SUITE_P(Layouts, BoundaryTest,
                         ::testing::Values(Layout{12, true, 3}, Layout{12, false, 3},
                                           Layout{17, true, 19}, Layout{20, true, 1},
                                           Layout{16, false, 9}),
                         [](const auto& param_info) {
                           const Layout& l = param_info.param;
                           return "block" + std::to_string(1u << l.block_log) +
                                  (l.fragments ? "_fragments" : "_nofragments");
                         });

TEST(RoundTrip, EveryFileTypeAndAttribute) {
  TempDir dir;
  const std::string src = dir / "src";
  make_rich_tree(src);
  auto m = build_and_mount(src, dir / "img");
  expect_same_tree(src, m.fs);

  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve("linked", ino), BAKEFS_OK);
  bakefs_attr a;
  ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
  EXPECT_EQ(a.nlink, 3u);
}

TEST(RoundTrip, NamesWithEveryByteAndFullLength) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  // Every byte but '/' and NUL, in names of up to 255 bytes.
  std::string all;
  for (int c = 1; c < 256; ++c) {
    if (c != '/') all += static_cast<char>(c);
  }
  for (size_t start = 0; start < all.size(); start += 50) {
    std::string name = all.substr(start, 50);
    if (name == "." || name == "..") continue;
    write_file(src + "/" + name, name);
  }
  write_file(src + "/" + std::string(255, 'n'), "longest name");
  write_file(src + "/" + std::string(254, 'n'), "prefix of the longest");
  write_file(src + "/" + std::string(255, '\xff'), "high bytes sort last");
  write_file(src + "/-", "dash");
  write_file(src + "/...", "three dots");
  auto m = build_and_mount(src, dir / "img");
  expect_same_tree(src, m.fs);
  bakefs_ino ino = 0;
  EXPECT_EQ(m.fs.lookup(BAKEFS_ROOT_INO, std::string(256, 'n'), ino), BAKEFS_ENOENT);
  EXPECT_EQ(m.fs.lookup(BAKEFS_ROOT_INO, "", ino), BAKEFS_ENOENT);
}

TEST(RoundTrip, DeepNestingBeyondPathMax) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  // 300 levels of 20-byte names: a path of 6,300 bytes, longer than PATH_MAX.
  int fd = open(src.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  const std::string name(20, 'd');
  for (int depth = 0; depth < 300; ++depth) {
    ASSERT_EQ(mkdirat(fd, name.c_str(), 0755), 0);
    int next = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    close(fd);
    ASSERT_GE(next, 0);
    fd = next;
  }
  int file = openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
  ASSERT_EQ(write(file, "deep\n", 5), 5);
  close(file);
  close(fd);
  auto m = build_and_mount(src, dir / "img");
  expect_same_tree(src, m.fs);
  std::string path;
  for (int depth = 0; depth < 300; ++depth) path += name + "/";
  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve(path + "bottom", ino), BAKEFS_OK);
  std::string content;
  ASSERT_EQ(m.fs.read_all(ino, content), BAKEFS_OK);
  EXPECT_EQ(content, "deep\n");
}

TEST(RoundTrip, IdenticalFilesAndBlocksAreStoredOnce) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  const std::string big = random_bytes(5 * 65536 + 1000, 1);  // 5 blocks and a tail
  const std::string small = random_bytes(3000, 2);
  for (int i = 0; i < 4; ++i) {
    write_file(src + "/big" + std::to_string(i), big);
    write_file(src + "/small" + std::to_string(i), small);
  }
  // A file that shares its first blocks with big but not its end.
  write_file(src + "/shares_blocks", big.substr(0, 3 * 65536) + random_bytes(100, 3));
  build::Options options;
  options.block_log = 16;
  build::Stats with = make_image(src, dir / "dedup.img", options);
  options.dedup = false;
  build::Stats without = make_image(src, dir / "plain.img", options);
  // Stored once: 5 blocks of big, the tails of big, small and shares_blocks once each.
  EXPECT_EQ(with.data_bytes < big.size() + small.size() + 2000, true) << with.data_bytes;
  EXPECT_GT(without.data_bytes, 4 * big.size());
  EXPECT_EQ(with.dedup_blocks, 3u * 6 + 3 + 3);
  auto m = posix::MountedImage::open(dir / "dedup.img");
  expect_same_tree(src, m.fs);
}

TEST(RoundTrip, AllZeroBlocksAreHoles) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  // Zeros written as data (not sparse on disk) still become holes.
  write_file(src + "/zeros", std::string(300000, '\0'));
  std::string mixed = std::string(65536, '\0') + random_bytes(65536, 9) + std::string(70000, '\0');
  write_file(src + "/mixed", mixed);
  build::Options options;
  options.block_log = 16;
  build::Stats stats = make_image(src, dir / "img", options);
  EXPECT_EQ(stats.hole_blocks, 5u + 1 + 2);
  auto m = posix::MountedImage::open(dir / "img");
  expect_same_tree(src, m.fs);
  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve("zeros", ino), BAKEFS_OK);
  bakefs_attr a;
  ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
  EXPECT_EQ(a.blocks, 0u) << "a file of holes takes no space";
}

TEST(RoundTrip, LargeSparseFile) {
  // 5 GiB with data at the start, across the 4 GiB mark and at the very end.
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  const std::string path = src + "/sparse";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  const uint64_t size = 5ull << 30;
  const std::string island = random_bytes(200000, 5);
  for (uint64_t offset :
       {uint64_t{0}, uint64_t{(4ull << 30) - 100000}, uint64_t{size - island.size()}}) {
    ASSERT_EQ(pwrite(fd, island.data(), island.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(island.size()));
  }
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
  close(fd);
  build::Stats stats = make_image(src, dir / "img");
  EXPECT_LT(stats.image_bytes, 2u << 20) << "holes are not stored";
  auto m = posix::MountedImage::open(dir / "img");
  expect_same_tree(src, m.fs);
  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve("sparse", ino), BAKEFS_OK);
  char byte = 1;
  size_t done = 0;
  ASSERT_EQ(m.fs.read(ino, (4ull << 30) + 99999, &byte, 1, done), BAKEFS_OK);
  EXPECT_EQ(byte, island[199999]);
}

TEST(RoundTrip, HundredThousandEntryDirectory) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/big");
  for (int i = 0; i < 100000; ++i) {
    std::string name = src + "/big/entry" + std::to_string(i * 7919 % 100000);
    int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0) << name;
    if (i % 10 == 0) {
      ASSERT_EQ(write(fd, name.data(), name.size()), static_cast<ssize_t>(name.size()));
    }
    close(fd);
  }
  auto m = build_and_mount(src, dir / "img");
  expect_same_tree(src, m.fs);
  bakefs_ino big;
  ASSERT_EQ(m.fs.resolve("big", big), BAKEFS_OK);
  // readdir resumes from any position it handed out, and stops when asked to.
  struct Page {
    std::vector<std::string> names;
    uint64_t next = 0;
    size_t limit = 0;
  };
  auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino, uint32_t, uint64_t,
                 uint64_t next) -> int {
    auto* page = static_cast<Page*>(ctx);
    if (page->names.size() == page->limit) return 1;
    page->names.emplace_back(name, length);
    page->next = next;
    return 0;
  };
  std::vector<std::string> all;
  uint64_t pos = 0;
  for (;;) {
    Page page{{}, pos, 997};
    ASSERT_EQ(bakefs_readdir(m.fs.get(), big, pos, emit, &page), BAKEFS_OK);
    if (page.names.empty()) break;
    all.insert(all.end(), page.names.begin(), page.names.end());
    pos = page.next;
  }
  ASSERT_EQ(all.size(), 100002u);
  EXPECT_EQ(all[0], ".");
  EXPECT_EQ(all[1], "..");
  EXPECT_TRUE(std::is_sorted(all.begin() + 2, all.end()));
}

TEST(RoundTrip, UnreadableSourceNamesThePath) {
  if (is_root()) GTEST_SKIP() << "root reads everything";
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/secret", "x", 0000);
  try {
    make_image(dir / "src", dir / "img");
    FAIL() << "expected an error";
  } catch (const build::Error& e) {
    EXPECT_NE(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
  EXPECT_NE(access((dir / "img").c_str(), F_OK), 0) << "no partial image";
}

}  // namespace
}  // namespace bakefs::test
