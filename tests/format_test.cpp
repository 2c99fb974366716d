// The format header's encoding, and mount's refusal of images it must not trust.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "test_support.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;

TEST(Format, LittleEndianFieldsAreBytes) {
  fmt::le32 v;
  v.store(0x11223344u);
  EXPECT_EQ(v.bytes[0], 0x44);
  EXPECT_EQ(v.bytes[3], 0x11);
  EXPECT_EQ(v.load(), 0x11223344u);
  fmt::le64 w;
  w.store(0x8877665544332211ull);
  EXPECT_EQ(w.bytes[0], 0x11);
  EXPECT_EQ(w.bytes[7], 0x88);
  EXPECT_EQ(w.load(), 0x8877665544332211ull);
}

TEST(Format, FieldOffsetsArePinned) {
  EXPECT_EQ(offsetof(fmt::Superblock, block_log), 24u);
  EXPECT_EQ(offsetof(fmt::Superblock, image_size), 32u);
  EXPECT_EQ(offsetof(fmt::Superblock, data), 56u);
  EXPECT_EQ(offsetof(fmt::Superblock, checksums), 136u);
  EXPECT_EQ(offsetof(fmt::Superblock, checksum), 248u);
  EXPECT_EQ(offsetof(fmt::Superblock, ids), 152u);
  EXPECT_EQ(offsetof(fmt::CompactInode, size), 8u);
  EXPECT_EQ(offsetof(fmt::CompactInode, mtime), 16u);
  EXPECT_EQ(offsetof(fmt::CompactInode, aux1), 28u);
  EXPECT_EQ(offsetof(fmt::ExtendedInode, mtime_sec), 24u);
  EXPECT_EQ(offsetof(fmt::ExtendedInode, data), 40u);
  EXPECT_EQ(offsetof(fmt::ExtendedInode, aux1), 52u);
  EXPECT_EQ(offsetof(fmt::BlockEntry, checksum), 16u);
  EXPECT_EQ(offsetof(fmt::DirEntry, type), 10u);
}

// A small image, and a way to change its superblock and re-seal it.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_dir(dir_ / "src");
    write_file(dir_ / "src/file", text_bytes(10000, 1));
    make_image(dir_ / "src", dir_ / "img");
    image_ = read_bytes(dir_ / "img");
    ASSERT_GT(image_.size(), fmt::kSuperblockSize);
  }

  fmt::Superblock superblock() const {
    fmt::Superblock sb;
    std::memcpy(&sb, image_.data(), sizeof(sb));
    return sb;
  }
  void reseal(fmt::Superblock sb) {
    sb.checksum.store(
        XXH3_64bits_withSeed(&sb, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock));
    std::memcpy(image_.data(), &sb, sizeof(sb));
  }
  int mount(size_t length) {
    FileSystem fs;
    return fs.mount(image_.data(), length, posix::platform());
  }
  int mount() { return mount(image_.size()); }

  TempDir dir_;
  std::vector<uint8_t> image_;
};

TEST_F(MountTest, SoundImageMounts) {
  EXPECT_EQ(mount(), BAKEFS_OK);
}

TEST_F(MountTest, TrailingBytesAfterTheImageAreIgnored) {
  image_.resize(image_.size() + 4096, 0xee);  // a linker may pad the blob
  EXPECT_EQ(mount(), BAKEFS_OK);
}

TEST_F(MountTest, RefusesShortAndTruncatedImages) {
  EXPECT_EQ(mount(0), BAKEFS_ECORRUPT);
  EXPECT_EQ(mount(100), BAKEFS_ECORRUPT);
  EXPECT_EQ(mount(image_.size() - 1), BAKEFS_ECORRUPT);
}

TEST_F(MountTest, RefusesBadMagicAndChecksum) {
  image_[1] ^= 1;
  EXPECT_EQ(mount(), BAKEFS_ECORRUPT);
  image_[1] ^= 1;
  image_[40] ^= 1;  // build time: only the checksum notices
  EXPECT_EQ(mount(), BAKEFS_ECHECKSUM);
}

TEST_F(MountTest, RefusesUnknownIncompatibleFeaturesButNotCompatibleOnes) {
  fmt::Superblock sb = superblock();
  sb.feature_compat.store(1u << 31);
  reseal(sb);
  EXPECT_EQ(mount(), BAKEFS_OK);
  sb.feature_incompat.store(sb.feature_incompat.load() | (1u << 30));
  reseal(sb);
  EXPECT_EQ(mount(), BAKEFS_ENOTSUP);
}

TEST_F(MountTest, RefusesOtherMajorVersionsButNotMinorOnes) {
  fmt::Superblock sb = superblock();
  sb.version_minor.store(7);
  reseal(sb);
  EXPECT_EQ(mount(), BAKEFS_OK);
  sb.version_major.store(2);
  reseal(sb);
  EXPECT_EQ(mount(), BAKEFS_ENOTSUP);
}

TEST_F(MountTest, RefusesBadGeometry) {
  const fmt::Superblock good = superblock();
  auto expect_corrupt = [&](auto change) {
    fmt::Superblock sb = good;
    change(sb);
    reseal(sb);
    EXPECT_EQ(mount(), BAKEFS_ECORRUPT);
  };
  expect_corrupt([](fmt::Superblock& sb) { sb.block_log = 11; });
  expect_corrupt([](fmt::Superblock& sb) { sb.block_log = 21; });
  expect_corrupt([](fmt::Superblock& sb) { sb.unit_log = 8; });
  expect_corrupt([](fmt::Superblock& sb) { sb.image_size.store(sb.image_size.load() + 1); });
  expect_corrupt([](fmt::Superblock& sb) { sb.inode_count.store(0); });
  expect_corrupt([](fmt::Superblock& sb) { sb.inode_count.store(sb.inode_count.load() + 1); });
  expect_corrupt([](fmt::Superblock& sb) { sb.block_count.store(sb.block_count.load() + 1); });
  expect_corrupt([](fmt::Superblock& sb) { sb.heap.offset.store(UINT64_MAX - 2); });
  expect_corrupt([](fmt::Superblock& sb) { sb.heap.size.store(UINT64_MAX); });
  expect_corrupt([](fmt::Superblock& sb) { sb.data.size.store(sb.data.size.load() - 1); });
  expect_corrupt(
      [](fmt::Superblock& sb) { sb.checksums.size.store(sb.checksums.size.load() - 8); });
  expect_corrupt([](fmt::Superblock& sb) { sb.build_time_nsec.store(1000000000u); });
}

TEST_F(MountTest, MountAllocatesOnlyWhatTheOptionsSay) {
  // Memory at mount is fixed by the options, not by the image: count what is asked for.
  struct Counter {
    size_t bytes = 0;
    size_t peak = 0;
  } counter;
  bakefs_platform p = posix::platform();
  p.ctx = &counter;
  p.alloc = [](void* ctx, size_t size, size_t align) -> void* {
    auto* c = static_cast<Counter*>(ctx);
    c->bytes += size;
    c->peak = std::max(c->peak, c->bytes);
    void* ptr = nullptr;
    return posix_memalign(&ptr, std::max(align, sizeof(void*)), size) == 0 ? ptr : nullptr;
  };
  p.free = [](void* ctx, void* ptr, size_t size) {
    static_cast<Counter*>(ctx)->bytes -= size;
    std::free(ptr);
  };
  bakefs_mount_options options{};
  options.cache_bytes = 256 * 1024;
  options.decompressors = 1;
  options.verify_slots = 64;
  {
    FileSystem fs;
    ASSERT_EQ(fs.mount(image_.data(), image_.size(), p, &options), BAKEFS_OK);
    EXPECT_LT(counter.bytes, options.cache_bytes + 300 * 1024);
  }
  EXPECT_EQ(counter.bytes, 0u) << "unmount returns every byte";
}

TEST_F(MountTest, FailedAllocationIsAnErrorNotACrash) {
  struct Budget {
    int left;
  };
  for (int allowed = 0; allowed < 40; ++allowed) {
    Budget budget{allowed};
    bakefs_platform p = posix::platform();
    p.ctx = &budget;
    p.alloc = [](void* ctx, size_t size, size_t align) -> void* {
      auto* b = static_cast<Budget*>(ctx);
      if (b->left-- <= 0) return nullptr;
      void* ptr = nullptr;
      return posix_memalign(&ptr, std::max(align, sizeof(void*)), size) == 0 ? ptr : nullptr;
    };
    FileSystem fs;
    int s = fs.mount(image_.data(), image_.size(), p);
    EXPECT_TRUE(s == BAKEFS_OK || s == BAKEFS_ENOMEM) << s;
  }
}

}  // namespace
}  // namespace bakefs::test
