// Golden images of older format versions (tests/compat/): the reader still mounts them, finds
// every entry the manifest written with them lists, reads the same bytes, and checks them
// sound. The images are never rebuilt: they are what an older mkimage wrote.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "util/sha256.h"

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;

struct Entry {
  std::string type, mode, digest, path, target;
  uint64_t size = 0;
};

std::vector<Entry> read_manifest(const std::string& path) {
  std::ifstream in(path);
  std::vector<Entry> entries;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Entry e;
    fields >> e.type >> e.mode >> e.size >> e.digest >> e.path;
    if (e.type == "symlink") fields >> e.target;
    entries.push_back(e);
  }
  return entries;
}

std::string sha256_of(const std::string& bytes) {
  build::Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

size_t count_entries(const FileSystem& fs, bakefs_ino dir) {
  std::vector<Dirent> children;
  EXPECT_EQ(fs.readdir(dir, children), BAKEFS_OK);
  size_t count = children.size();
  for (const Dirent& d : children) {
    if (d.type == (fmt::kTypeDir >> 12)) count += count_entries(fs, d.ino);
  }
  return count;
}

void expect_golden(const std::string& name, uint16_t minor, uint32_t incompat) {
  const std::string base = std::string(BAKEFS_COMPAT_DIR) + "/" + name;
  std::vector<uint8_t> image = read_bytes(base + ".bakefs");
  ASSERT_GE(image.size(), sizeof(fmt::Superblock));
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  EXPECT_EQ(sb.version_major.load(), 1);
  EXPECT_EQ(sb.version_minor.load(), minor);
  EXPECT_EQ(sb.feature_incompat.load(), incompat);
  FileSystem fs;
  ASSERT_EQ(fs.mount(image.data(), image.size(), posix::platform()), BAKEFS_OK);
  const std::vector<Entry> entries = read_manifest(base + ".manifest");
  ASSERT_GT(entries.size(), 100u);
  size_t files = 0;
  for (const Entry& e : entries) {
    SCOPED_TRACE(e.path);
    bakefs_ino ino = 0;
    ASSERT_EQ(fs.resolve(e.path, ino), BAKEFS_OK);
    bakefs_attr a;
    ASSERT_EQ(fs.getattr(ino, a), BAKEFS_OK);
    EXPECT_EQ(a.mode & 07777, std::stoul(e.mode, nullptr, 8));
    if (e.type == "dir") {
      EXPECT_EQ(a.mode & fmt::kTypeMask, fmt::kTypeDir);
    } else if (e.type == "symlink") {
      std::string target;
      ASSERT_EQ(fs.readlink(ino, target), BAKEFS_OK);
      EXPECT_EQ(target, e.target);
    } else {
      ASSERT_EQ(e.type, "file");
      EXPECT_EQ(a.mode & fmt::kTypeMask, fmt::kTypeRegular);
      EXPECT_EQ(a.size, e.size);
      std::string bytes;
      ASSERT_EQ(fs.read_all(ino, bytes), BAKEFS_OK);
      EXPECT_EQ(sha256_of(bytes), e.digest);
      ++files;
    }
  }
  EXPECT_GT(files, 100u);
  // The image has no entry the manifest does not list.
  EXPECT_EQ(count_entries(fs, BAKEFS_ROOT_INO), entries.size());
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems, 10), BAKEFS_OK) << (problems.empty() ? "" : problems.front());
}

// Format 1.0 as commit 0fb6351 wrote it: 4 KiB blocks, fragments, a trained dictionary,
// deduplicated blocks and tails, a hole, a hard link, symlinks (make_golden.sh).
TEST(Compat, ReadsTheGoldenImageOfFormat10) {
  expect_golden("v1_0", 0, fmt::kIncompatZstd | fmt::kIncompatDictionary);
}

}  // namespace
}  // namespace bakefs::test
