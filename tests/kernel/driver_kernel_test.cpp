// The driver core and zstd's decompressor as a kernel gets them (compiled with the kernel's
// flags, zstd from its source with no libc and no allocator), run on the host without the
// rump kernel's renaming: they mount real images made by mkimage and read back every byte.
// This program links neither Debian's libzstd nor the host build of the core.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/embed.h>
#include <gtest/gtest.h>
#include <bakefs/bakefs.hpp>

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace stdfs = std::filesystem;

bakefs_platform test_platform() {
  bakefs_platform p{};
  p.alloc = [](void*, size_t size, size_t align) -> void* {
    return std::aligned_alloc(align, (size + align - 1) / align * align);
  };
  p.free = [](void*, void* ptr, size_t) { std::free(ptr); };
  p.lock_create = [](void*) -> void* { return new std::mutex; };
  p.lock_destroy = [](void*, void* lock) { delete static_cast<std::mutex*>(lock); };
  p.lock = [](void*, void* lock) { static_cast<std::mutex*>(lock)->lock(); };
  p.unlock = [](void*, void* lock) { static_cast<std::mutex*>(lock)->unlock(); };
  return p;
}

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every entry of the source tree is in the image with the same bytes or target, and every
// directory has the same names; then the full check (every block decompressed, every
// checksum) passes.
void expect_same_tree(const stdfs::path& source, const bakefs::FileSystem& fs) {
  size_t files = 0;
  for (const auto& entry : stdfs::recursive_directory_iterator(source)) {
    const std::string relative = entry.path().lexically_relative(source).string();
    bakefs_ino ino = 0;
    ASSERT_EQ(fs.resolve(relative, ino), BAKEFS_OK) << relative;
    if (entry.is_symlink()) {
      std::string target;
      ASSERT_EQ(fs.readlink(ino, target), BAKEFS_OK) << relative;
      EXPECT_EQ(target, stdfs::read_symlink(entry.path()).string()) << relative;
    } else if (entry.is_regular_file()) {
      std::string bytes;
      ASSERT_EQ(fs.read_all(ino, bytes), BAKEFS_OK) << relative;
      EXPECT_TRUE(bytes == read_file(entry.path())) << relative << " differs";
      ++files;
    } else if (entry.is_directory()) {
      std::vector<bakefs::Dirent> entries;
      ASSERT_EQ(fs.readdir(ino, entries), BAKEFS_OK) << relative;
      EXPECT_EQ(entries.size(),
                static_cast<size_t>(std::distance(stdfs::directory_iterator(entry.path()), {})))
          << relative;
    }
  }
  EXPECT_GT(files, 0u);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems, 10), BAKEFS_OK) << (problems.empty() ? "" : problems.front());
}

TEST(KernelZstd, HasNoAllocator) {
  EXPECT_EQ(ZSTD_createDCtx(), nullptr);
  EXPECT_EQ(ZSTD_createDDict("dictionary", 10), nullptr);
}

TEST(KernelZstd, DecodesAFrameInAStaticContext) {
  // A frame by hand: magic, single-segment header with a 1-byte content size, one raw block
  // ("Hello") and one RLE block ("!" x 3), the second marked last.
  const unsigned char frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 8,    0x28, 0x00, 0x00,
                                 'H',  'e',  'l',  'l',  'o',  0x1b, 0x00, 0x00, '!'};
  std::vector<unsigned char> workspace(ZSTD_estimateDCtxSize());
  ZSTD_DCtx* dctx = ZSTD_initStaticDCtx(workspace.data(), workspace.size());
  ASSERT_NE(dctx, nullptr);
  char out[16] = {};
  size_t n = ZSTD_decompressDCtx(dctx, out, sizeof(out), frame, sizeof(frame));
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  EXPECT_EQ(std::string(out, n), "Hello!!!");
  // A damaged frame is an error, not a crash.
  unsigned char damaged[sizeof(frame)];
  std::copy(std::begin(frame), std::end(frame), damaged);
  damaged[6] = 0xff;  // the first block header now has the reserved block type
  EXPECT_TRUE(ZSTD_isError(ZSTD_decompressDCtx(dctx, out, sizeof(out), damaged, sizeof(damaged))));
}

TEST(KernelDriver, TheEmbeddedSampleMatchesItsSource) {
  ASSERT_NE(__start_bakefs_image, nullptr) << "no image linked in";
  bakefs::FileSystem fs;
  const bakefs_platform platform = test_platform();
  ASSERT_EQ(fs.mount(__start_bakefs_image,
                     static_cast<size_t>(__stop_bakefs_image - __start_bakefs_image), platform),
            BAKEFS_OK);
  expect_same_tree(SAMPLE_SOURCE, fs);
}

TEST(KernelDriver, AnImageOfTheTestsTreeMatchesItsSource) {
  const std::string image = read_file(TREE_IMAGE);
  ASSERT_FALSE(image.empty()) << TREE_IMAGE;
  bakefs::FileSystem fs;
  const bakefs_platform platform = test_platform();
  bakefs_mount_options options{};
  options.decompressors = 2;
  ASSERT_EQ(fs.mount(image.data(), image.size(), platform, &options), BAKEFS_OK);
  expect_same_tree(TREE_SOURCE, fs);
}

}  // namespace
