// Damaged images: every single flipped byte is detected, nothing wrong is ever handed out, and
// damage that gets past disabled checksums still cannot crash the driver.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "image_walk.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

class DamageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string src = *dir_ / "src";
    make_dir(src);
    make_dir(src + "/sub");
    write_file(src + "/text", text_bytes(9000, 1));
    write_file(src + "/random", random_bytes(5000, 2));
    write_file(src + "/sub/small", "small file");
    write_file(src + "/sub/copy", text_bytes(9000, 1));
    write_file(src + "/empty", "");
    ::symlink("sub/small", (src + "/link").c_str());
    ::link((src + "/sub/small").c_str(), (src + "/hard").c_str());
    ::mkfifo((src + "/fifo").c_str(), 0600);
    ::setxattr((src + "/text").c_str(), "user.note", "hello", 5, 0);
    std::string sparse(12288, '\0');
    sparse += "end";
    write_file(src + "/sparse", sparse);
    build::Options options;
    options.block_log = 12;
    options.unit_log = 9;
    make_image(src, *dir_ / "img", options);
    image_ = new std::vector<uint8_t>(read_bytes(*dir_ / "img"));
  }
  static void TearDownTestSuite() {
    delete image_;
    delete dir_;
  }

  static Walk walk(const std::vector<uint8_t>& bytes, uint32_t flags = 0) {
    return walk_bytes(bytes, flags);
  }

  static int check(const std::vector<uint8_t>& bytes) {
    FileSystem fs;
    int s = fs.mount(bytes.data(), bytes.size(), posix::platform());
    if (s != BAKEFS_OK) return s;
    std::vector<std::string> problems;
    return fs.check(problems, 4);
  }

  static TempDir* dir_;
  static std::vector<uint8_t>* image_;
};
TempDir* DamageTest::dir_ = nullptr;
std::vector<uint8_t>* DamageTest::image_ = nullptr;

TEST_F(DamageTest, TheSoundImageWalksAndChecks) {
  Walk w = walk(*image_);
  ASSERT_EQ(w.status, BAKEFS_OK);
  EXPECT_NE(w.text.find("data:small file"), std::string::npos);
  EXPECT_EQ(check(*image_), BAKEFS_OK);
  EXPECT_LT(image_->size(), 32u * 1024) << "keep the image small: every byte is flipped";
}

TEST_F(DamageTest, EveryFlippedByteIsDetectedAndNoWrongByteIsReturned) {
  const Walk good = walk(*image_);
  std::vector<uint8_t> damaged = *image_;
  size_t undetected = 0;
  for (size_t pos = 0; pos < damaged.size(); ++pos) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      damaged[pos] ^= mask;
      Walk w = walk(damaged);
      // A walk either fails or sees exactly the original; what it saw before failing is a
      // prefix of the original.
      if (w.status == BAKEFS_OK) {
        ASSERT_EQ(w.text, good.text) << "byte " << pos << " changed what a reader sees";
      } else {
        ASSERT_EQ(good.text.compare(0, w.text.size(), w.text), 0) << "byte " << pos;
        ASSERT_TRUE(w.status == BAKEFS_ECHECKSUM || w.status == BAKEFS_ECORRUPT ||
                    w.status == BAKEFS_ENOTSUP)
            << "byte " << pos << ": " << bakefs_strerror(w.status);
      }
      if (check(damaged) == BAKEFS_OK) ++undetected;
      damaged[pos] ^= mask;
    }
  }
  EXPECT_EQ(undetected, 0u) << "every byte of the image is covered by a checksum";
}

TEST_F(DamageTest, TruncatedImagesDoNotMount) {
  for (size_t length = 1; length < image_->size(); length += 7) {
    std::vector<uint8_t> cut(image_->begin(), image_->begin() + static_cast<ptrdiff_t>(length));
    EXPECT_EQ(walk(cut).status, BAKEFS_ECORRUPT) << length;
  }
}

TEST_F(DamageTest, StructuralDamageWithChecksumsOffNeverCrashes) {
  // With BAKEFS_MOUNT_NO_VERIFY, damaged metadata reaches the decoders: they must bound-check
  // every field. Random bursts of damage anywhere after the superblock.
  std::mt19937 rng(12345);
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> damaged = *image_;
    int bursts = 1 + static_cast<int>(rng() % 4);
    for (int b = 0; b < bursts; ++b) {
      size_t pos = format::kSuperblockSize + rng() % (damaged.size() - format::kSuperblockSize);
      size_t length = 1 + rng() % 8;
      for (size_t i = pos; i < std::min(damaged.size(), pos + length); ++i) {
        damaged[i] = (rng() % 3 == 0) ? 0xff : static_cast<uint8_t>(rng());
      }
    }
    Walk w = walk(damaged, BAKEFS_MOUNT_NO_VERIFY);
    if (w.status != BAKEFS_OK) ++errors;
    check(damaged);
  }
  EXPECT_GT(errors, 0) << "some damage must be noticed by structure alone";
}

// Images forged with valid checksums: the structural rules alone must hold the line.
class ForgedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string src = dir_ / "src";
    make_dir(src);
    make_dir(src + "/sub");
    write_file(src + "/sub/file", "in sub");
    write_file(src + "/xx", "a file named xx");
    write_file(src + "/withattr", "has an xattr");
    ASSERT_EQ(::setxattr((src + "/withattr").c_str(), "user.aaaaXbbbb", "v", 1, 0), 0);
    write_file(src + "/tailhole", random_bytes(4096, 1) + std::string(100, '\0'));
    build::Options options;
    options.block_log = 12;
    make_image(src, dir_ / "img", options);
    image_ = read_bytes(dir_ / "img");
    FileSystem fs;
    ASSERT_EQ(fs.mount(image_.data(), image_.size(), posix::platform()), BAKEFS_OK);
    ASSERT_EQ(fs.resolve("sub", sub_), BAKEFS_OK);
    ASSERT_EQ(fs.resolve("withattr", withattr_), BAKEFS_OK);
  }
  int mount(FileSystem& fs) { return fs.mount(image_.data(), image_.size(), posix::platform()); }
  static constexpr uint64_t kAux1 = offsetof(format::CompactInode, aux1);

  TempDir dir_;
  std::vector<uint8_t> image_;
  bakefs_ino sub_ = 0, withattr_ = 0;
};

TEST_F(ForgedTest, TheRootMustBeItsOwnParent) {
  // The root naming a subdirectory as its parent would let "/sub/.." and ".." loop.
  patch_le(image_, inode_offset(image_, BAKEFS_ROOT_INO) + kAux1, sub_, 4);
  FileSystem fs;
  EXPECT_EQ(mount(fs), BAKEFS_ECORRUPT);
}

TEST_F(ForgedTest, NoOtherDirectoryIsItsOwnParent) {
  patch_le(image_, inode_offset(image_, sub_) + kAux1, sub_, 4);
  FileSystem fs;
  ASSERT_EQ(mount(fs), BAKEFS_OK);
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.lookup(BAKEFS_ROOT_INO, "sub", ino), BAKEFS_ECORRUPT);
  std::vector<std::string> problems;
  EXPECT_NE(fs.check(problems), BAKEFS_OK);
}

TEST_F(ForgedTest, ReaddirNeverHandsOutDotDot) {
  patch_metadata(image_, "xx", "..");
  FileSystem fs;
  ASSERT_EQ(mount(fs), BAKEFS_OK);
  std::vector<Dirent> entries;
  EXPECT_EQ(fs.readdir(BAKEFS_ROOT_INO, entries), BAKEFS_ECORRUPT);
  for (const auto& e : entries) EXPECT_NE(e.name, "..");
  bakefs_ino ino = 0;
  ASSERT_EQ(fs.lookup(BAKEFS_ROOT_INO, "..", ino), BAKEFS_OK);
  EXPECT_EQ(ino, BAKEFS_ROOT_INO) << "'..' is the parent, never an entry";
}

// Names lie after the entry records: a name made of a record's own bytes is corruption for
// lookup and readdir as for the full check (one decoder of a directory block, driver/dir.h).
TEST_F(ForgedTest, NamesInsideTheEntryRecordsAreRefused) {
  uint32_t data_words = 0;
  std::memcpy(&data_words,
              image_.data() + inode_offset(image_, sub_) + offsetof(format::CompactInode, data), 4);
  uint64_t heap = 0;
  std::memcpy(&heap, image_.data() + offsetof(format::Superblock, heap), 8);
  const uint64_t entry = heap + uint64_t{data_words} * format::kHeapAlign;  // "file", sub's only
  // Its name: the one byte at offset 4, the low byte of its own name_offset (4: no NUL, no '/').
  patch_le(image_, entry + offsetof(format::DirEntry, name_offset), 4, 4);
  patch_le(image_, entry + offsetof(format::DirEntry, name_length), 1, 2);
  reseal_image(image_);
  FileSystem fs;
  ASSERT_EQ(mount(fs), BAKEFS_OK);
  std::vector<Dirent> entries;
  EXPECT_EQ(fs.readdir(sub_, entries), BAKEFS_ECORRUPT);
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.lookup(sub_, std::string(1, '\x04'), ino), BAKEFS_ECORRUPT);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_ECORRUPT);
}

TEST_F(ForgedTest, XattrNamesWithNulAreRefused) {
  std::string name = "user.aaaaXbbbb", forged = name;
  forged[9] = '\0';
  patch_metadata(image_, name, forged);
  FileSystem fs;
  ASSERT_EQ(mount(fs), BAKEFS_OK);
  std::vector<std::string> names;
  EXPECT_EQ(fs.listxattr(withattr_, names), BAKEFS_ECORRUPT);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_ECORRUPT);
}

TEST_F(ForgedTest, InodeNumbersFromTheImageThatAreNoInodesAreCorruption) {
  // The entry "withattr" points at an extended inode; point it at that inode's second slot.
  const std::string name = "withattr";
  FileSystem fs0;
  ASSERT_EQ(mount(fs0), BAKEFS_OK);
  bakefs_attr a;
  ASSERT_EQ(fs0.getattr(withattr_ + 1, a), BAKEFS_EINVAL) << "a caller's bad number";
  fs0.reset();
  // Find the root's entry record holding withattr_ and bump its inode number.
  std::string record(4, '\0');
  for (int i = 0; i < 4; ++i)
    record[static_cast<size_t>(i)] = static_cast<char>(withattr_ >> (8 * i));
  format::Superblock sb;
  std::memcpy(&sb, image_.data(), sizeof(sb));
  auto heap = image_.begin() + static_cast<ptrdiff_t>(sb.heap.offset.load());
  auto hit = std::search(heap, heap + static_cast<ptrdiff_t>(sb.heap.size.load()), record.begin(),
                         record.end());
  ASSERT_NE(hit, heap + static_cast<ptrdiff_t>(sb.heap.size.load()));
  patch_le(image_, static_cast<uint64_t>(hit - image_.begin()), withattr_ + 1, 4);
  FileSystem fs;
  ASSERT_EQ(mount(fs), BAKEFS_OK);
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.lookup(BAKEFS_ROOT_INO, name, ino), BAKEFS_ECORRUPT);
}

TEST(StBlocks, AZeroTailCountsOnlyItsOwnLength) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/f", random_bytes(4096, 1) + std::string(100, '\0'));
  build::Options options;
  options.block_log = 12;
  options.fragments = false;
  make_image(dir / "src", dir / "img", options);
  auto m = posix::MountedImage::open(dir / "img");
  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve("f", ino), BAKEFS_OK);
  bakefs_attr a;
  ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
  EXPECT_EQ(a.blocks, 8u) << "4096 stored bytes; the 100-byte zero tail is a hole";
}

}  // namespace
}  // namespace bakefs::test
