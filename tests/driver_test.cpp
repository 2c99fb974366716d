// The driver core's API contract: errors, buffers, map, readdir resumption, the cache under
// concurrent readers, and lazy verification.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "test_support.h"

namespace bakefs::test {
namespace {

class DriverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string src = *dir_ / "src";
    make_dir(src);
    make_dir(src + "/dir");
    text_ = text_bytes(1000000, 1);     // compresses: zstd blocks
    random_ = random_bytes(300000, 2);  // does not: raw blocks
    write_file(src + "/text", text_);
    write_file(src + "/random", random_);
    write_file(src + "/small", "tiny file\n");
    write_file(src + "/dir/a", "a");
    ::symlink("dir/a", (src + "/link").c_str());
    ::setxattr((src + "/small").c_str(), "user.k", "value", 5, 0);
    ::setxattr((src + "/small").c_str(), "user.second", "2", 1, 0);
    build::Options options;
    options.block_log = 16;
    make_image(src, *dir_ / "img", options);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { m_ = posix::MountedImage::open(*dir_ / "img"); }

  bakefs_ino ino(const std::string& path) {
    bakefs_ino n = 0;
    EXPECT_EQ(m_.fs.resolve(path, n), BAKEFS_OK) << path;
    return n;
  }

  static TempDir* dir_;
  static std::string text_, random_;
  posix::MountedImage m_;
};
TempDir* DriverTest::dir_ = nullptr;
std::string DriverTest::text_;
std::string DriverTest::random_;

// bakefs_probe is mount's superblock check without the mount: the tools' only one.
TEST_F(DriverTest, ProbeChecksTheSuperblockAsMountDoesAndSaysWhy) {
  const std::vector<uint8_t> good = read_bytes(*dir_ / "img");
  auto probe = [](const std::vector<uint8_t>& bytes, size_t length, bakefs_probe_info& info) {
    return bakefs_probe(bytes.data(), length, &info);
  };
  bakefs_probe_info info;
  ASSERT_EQ(probe(good, good.size(), info), BAKEFS_OK);
  EXPECT_EQ(info.reason, nullptr);
  EXPECT_EQ(info.image_size, good.size());
  EXPECT_NE(info.magic, 0u);
  // Cut short: the superblock still gives the whole size.
  EXPECT_EQ(probe(good, good.size() - 1, info), BAKEFS_ECORRUPT);
  EXPECT_STREQ(info.reason, "image truncated");
  EXPECT_EQ(info.image_size, good.size());
  EXPECT_EQ(probe(good, 100, info), BAKEFS_ECORRUPT);
  EXPECT_STREQ(info.reason, "image shorter than a superblock");
  EXPECT_NE(info.magic, 0u);
  EXPECT_EQ(info.image_size, 0u);
  std::vector<uint8_t> bytes = good;
  bytes[0] ^= 1;
  EXPECT_EQ(probe(bytes, bytes.size(), info), BAKEFS_ECORRUPT);
  EXPECT_STREQ(info.reason, "no bakefs magic");
  EXPECT_EQ(info.magic, 0u);
  bytes = good;
  bytes[offsetof(format::Superblock, image_size)] ^= 1;
  EXPECT_EQ(probe(bytes, bytes.size(), info), BAKEFS_ECHECKSUM);
  EXPECT_STREQ(info.reason, "superblock checksum mismatch");
  EXPECT_EQ(info.image_size, 0u);
  // Sealed again (its checksum holds): what mount refuses beyond the checksum.
  bytes = good;
  patch_le(bytes, offsetof(format::Superblock, version_major), format::kVersionMajor + 1, 2);
  reseal_image(bytes);
  EXPECT_EQ(probe(bytes, bytes.size(), info), BAKEFS_ENOTSUP);
  EXPECT_STREQ(info.reason, "unsupported format version");
  bytes = good;
  patch_le(bytes, offsetof(format::Superblock, block_log), format::kMaxBlockLog + 1, 1);
  reseal_image(bytes);
  EXPECT_EQ(probe(bytes, bytes.size(), info), BAKEFS_ECORRUPT);
  EXPECT_STREQ(info.reason, "block size");
  FileSystem fs;
  EXPECT_EQ(fs.mount(bytes.data(), bytes.size(), posix::platform()), BAKEFS_ECORRUPT);
  EXPECT_EQ(bakefs_probe(nullptr, 0, &info), BAKEFS_EINVAL);
  EXPECT_EQ(bakefs_probe(good.data(), good.size(), nullptr), BAKEFS_EINVAL);
}

TEST_F(DriverTest, ErrorsForWrongKindsOfInodes) {
  bakefs_ino out;
  size_t done = 0, length = 0;
  char buf[16];
  EXPECT_EQ(m_.fs.lookup(ino("small"), "x", out), BAKEFS_ENOTDIR);
  EXPECT_EQ(m_.fs.lookup(BAKEFS_ROOT_INO, "absent", out), BAKEFS_ENOENT);
  EXPECT_EQ(m_.fs.read(ino("dir"), 0, buf, sizeof(buf), done), BAKEFS_EISDIR);
  EXPECT_EQ(m_.fs.read(ino("link"), 0, buf, sizeof(buf), done), BAKEFS_EINVAL);
  EXPECT_EQ(bakefs_readlink(m_.fs.get(), ino("small"), buf, sizeof(buf), &length), BAKEFS_ENOTLNK);
  bakefs_attr a;
  EXPECT_EQ(m_.fs.getattr(0, a), BAKEFS_EINVAL);
  bakefs_fsstat st;
  ASSERT_EQ(m_.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(m_.fs.getattr(st.max_ino + 1, a), BAKEFS_EINVAL);
  EXPECT_LT(st.inode_count, st.max_ino) << "small has xattrs: an extended inode of two slots";
  EXPECT_EQ(m_.fs.getattr(ino("small") + 1, a), BAKEFS_EINVAL) << "the second slot";
}

TEST_F(DriverTest, BuffersTooSmallReportTheNeededSize) {
  char buf[64];
  size_t length = 0;
  EXPECT_EQ(bakefs_readlink(m_.fs.get(), ino("link"), buf, 2, &length), BAKEFS_ERANGE);
  EXPECT_EQ(length, 5u);
  EXPECT_EQ(bakefs_listxattr(m_.fs.get(), ino("small"), nullptr, 0, &length), BAKEFS_OK);
  EXPECT_EQ(length, sizeof("user.k") + sizeof("user.second"));
  EXPECT_EQ(bakefs_listxattr(m_.fs.get(), ino("small"), buf, 3, &length), BAKEFS_ERANGE);
  EXPECT_EQ(bakefs_getxattr(m_.fs.get(), ino("small"), "user.k", buf, 2, &length), BAKEFS_ERANGE);
  EXPECT_EQ(length, 5u);
  EXPECT_EQ(bakefs_getxattr(m_.fs.get(), ino("small"), "user.k", buf, sizeof(buf), &length),
            BAKEFS_OK);
  EXPECT_EQ(std::string(buf, length), "value");
  EXPECT_EQ(bakefs_getxattr(m_.fs.get(), ino("small"), "user.none", buf, sizeof(buf), &length),
            BAKEFS_ENODATA);
  EXPECT_EQ(bakefs_getxattr(m_.fs.get(), ino("text"), "user.k", buf, sizeof(buf), &length),
            BAKEFS_ENODATA);
}

TEST_F(DriverTest, ReadsAtAnyOffsetAndLength) {
  const bakefs_ino text = ino("text");
  std::mt19937 rng(3);
  std::vector<char> buf(300000);
  for (int i = 0; i < 2000; ++i) {
    uint64_t offset = rng() % (text_.size() + 100);
    size_t length = rng() % (i % 10 == 0 ? buf.size() : 9000);
    size_t done = 0;
    ASSERT_EQ(m_.fs.read(text, offset, buf.data(), length, done), BAKEFS_OK);
    size_t expect = offset >= text_.size() ? 0 : std::min<size_t>(length, text_.size() - offset);
    ASSERT_EQ(done, expect);
    ASSERT_EQ(std::memcmp(buf.data(), text_.data() + std::min<size_t>(offset, text_.size()), done),
              0)
        << "offset " << offset << " length " << length;
  }
}

TEST_F(DriverTest, MapGivesRawBytesInPlaceAndRefusesCompressedOnes) {
  const bakefs_ino random = ino("random");
  // Full blocks of random bytes are stored raw, and so is the fragment that holds the tail:
  // tails go to fragments by kind, and random bytes do not compress. The text file's blocks
  // are compressed, so they must be read instead.
  const uint64_t full_blocks = random_.size() / 65536 * 65536;
  uint64_t offset = 0;
  while (offset < full_blocks) {
    const void* data = nullptr;
    size_t length = 0;
    ASSERT_EQ(bakefs_map(m_.fs.get(), random, offset, &data, &length), BAKEFS_OK) << offset;
    ASSERT_GT(length, 0u);
    ASSERT_LE(offset + length, random_.size());
    EXPECT_EQ(std::memcmp(data, random_.data() + offset, length), 0);
    // The span points into the image itself: no copy.
    const auto* p = static_cast<const uint8_t*>(data);
    EXPECT_TRUE(p >= m_.image.data() && p + length <= m_.image.data() + m_.image.size());
    offset += length;
  }
  EXPECT_EQ(offset, full_blocks);
  const void* data = nullptr;
  size_t length = 99;
  ASSERT_EQ(bakefs_map(m_.fs.get(), random, full_blocks + 5, &data, &length), BAKEFS_OK);
  EXPECT_EQ(length, random_.size() - full_blocks - 5);
  EXPECT_EQ(std::memcmp(data, random_.data() + full_blocks + 5, length), 0);
  EXPECT_EQ(bakefs_map(m_.fs.get(), random, random_.size(), &data, &length), BAKEFS_OK);
  EXPECT_EQ(length, 0u);
  EXPECT_EQ(bakefs_map(m_.fs.get(), ino("text"), 0, &data, &length), BAKEFS_ENOTSUP);
}

TEST_F(DriverTest, ReaddirStopsAndResumesAtStablePositions) {
  struct Seen {
    std::vector<std::pair<std::string, uint64_t>> entries;
    size_t stop_after;
  };
  auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino, uint32_t, uint64_t pos,
                 uint64_t) -> int {
    auto* seen = static_cast<Seen*>(ctx);
    if (seen->entries.size() == seen->stop_after) return 1;
    seen->entries.emplace_back(std::string(name, length), pos);
    return 0;
  };
  Seen all{{}, 100};
  ASSERT_EQ(bakefs_readdir(m_.fs.get(), BAKEFS_ROOT_INO, 0, emit, &all), BAKEFS_OK);
  ASSERT_EQ(all.entries.size(), 2u + 5);
  for (size_t i = 0; i < all.entries.size(); ++i) {
    Seen rest{{}, 100};
    ASSERT_EQ(bakefs_readdir(m_.fs.get(), BAKEFS_ROOT_INO, all.entries[i].second, emit, &rest),
              BAKEFS_OK);
    ASSERT_EQ(rest.entries.size(), all.entries.size() - i);
    EXPECT_EQ(rest.entries.front(), all.entries[i]);
  }
  Seen past{{}, 100};
  ASSERT_EQ(bakefs_readdir(m_.fs.get(), BAKEFS_ROOT_INO, 1000, emit, &past), BAKEFS_OK);
  EXPECT_TRUE(past.entries.empty());
}

TEST_F(DriverTest, ConcurrentReadersThroughATinyCacheGetTheRightBytes) {
  bakefs_mount_options options{};
  options.cache_bytes = 2 * 65536;  // two blocks for eight threads: constant eviction
  options.decompressors = 2;
  options.verify_slots = 16;
  FileSystem fs;
  ASSERT_EQ(fs.mount(m_.image.data(), m_.image.size(), posix::platform(), &options), BAKEFS_OK);
  const bakefs_ino text = ino("text"), small = ino("small");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::vector<char> buf(70000);
      for (int i = 0; i < 400; ++i) {
        uint64_t offset = rng() % text_.size();
        size_t length = 1 + rng() % buf.size();
        size_t done = 0;
        if (fs.read(text, offset, buf.data(), length, done) != BAKEFS_OK ||
            std::memcmp(buf.data(), text_.data() + offset, done) != 0 ||
            done != std::min<size_t>(length, text_.size() - offset)) {
          failures++;
        }
        if (fs.read(small, 0, buf.data(), 100, done) != BAKEFS_OK || done != 10 ||
            std::memcmp(buf.data(), "tiny file\n", 10) != 0) {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Verification, DamageIsFoundLazilyOnUseAndByTheFullCheck) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/a", text_bytes(200000, 1));
  write_file(dir / "src/b", text_bytes(200000, 2));
  build::Options options;
  options.block_log = 16;
  make_image(dir / "src", dir / "img", options);
  std::vector<uint8_t> image = read_bytes(dir / "img");
  // Damage the first stored block (a's first block): mount is O(1) and does not notice.
  image[format::kSuperblockSize + 10] ^= 0x40;
  FileSystem fs;
  ASSERT_EQ(fs.mount(image.data(), image.size(), posix::platform()), BAKEFS_OK);
  bakefs_ino a = 0, b = 0;
  ASSERT_EQ(fs.resolve("a", a), BAKEFS_OK);
  ASSERT_EQ(fs.resolve("b", b), BAKEFS_OK);
  std::string content;
  EXPECT_EQ(fs.read_all(a, content), BAKEFS_ECHECKSUM);
  EXPECT_EQ(fs.read_all(b, content), BAKEFS_OK);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_ECHECKSUM);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("block 0"), std::string::npos) << problems[0];
  // With verification off the same read decodes whatever is there (or fails to): the option
  // exists for trusted images only.
  bakefs_mount_options trust{};
  trust.flags = BAKEFS_MOUNT_NO_VERIFY;
  FileSystem trusting;
  ASSERT_EQ(trusting.mount(image.data(), image.size(), posix::platform(), &trust), BAKEFS_OK);
  EXPECT_NE(trusting.read_all(a, content), BAKEFS_ECHECKSUM);
}

}  // namespace
}  // namespace bakefs::test
