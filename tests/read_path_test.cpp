// The file data primitive: handles and spans (raw bytes in place, pinned cache entries,
// holes), the decompression count behind the cache, pins given back on every path, and many
// threads through a tiny cache.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "test_support.h"

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;
constexpr uint32_t kBlock = 65536;

// Bytes [offset, offset + length) of a file through spans (max_spans at a time), and checks
// on what each span is. Returns a status; got gets the bytes.
int read_by_spans(const FileSystem& fs, const bakefs_file& f, uint64_t offset, size_t length,
                  size_t max_spans, std::string& got, const posix::Image* image = nullptr) {
  got.clear();
  std::vector<bakefs_span> spans(max_spans);
  while (got.size() < length) {
    size_t count = 0;
    int s = fs.read_spans(f, offset + got.size(), length - got.size(), spans.data(), spans.size(),
                          count);
    if (s != BAKEFS_OK) return s;
    if (count == 0) break;  // EOF
    for (size_t i = 0; i < count; ++i) {
      const bakefs_span& span = spans[i];
      EXPECT_GT(span.length, 0u);
      if (span.data == nullptr) {
        EXPECT_EQ(span.pin_, nullptr) << "a hole holds nothing";
        got.append(span.length, '\0');
        continue;
      }
      got.append(static_cast<const char*>(span.data), span.length);
      if (image != nullptr) {
        const auto* p = static_cast<const uint8_t*>(span.data);
        const bool in_image = p >= image->data() && p + span.length <= image->data() + image->size();
        EXPECT_EQ(in_image, span.pin_ == nullptr) << "raw bytes in place, the rest pinned";
      }
      if (i > 0 && span.pin_ == nullptr && spans[i - 1].pin_ == nullptr &&
          spans[i - 1].data != nullptr) {
        EXPECT_NE(static_cast<const char*>(spans[i - 1].data) + spans[i - 1].length, span.data)
            << "raw pieces back to back in the image are one span";
      }
    }
    fs.release(spans.data(), count);
  }
  return BAKEFS_OK;
}

bakefs_fsstat stats(const FileSystem& fs) {
  bakefs_fsstat st{};
  EXPECT_EQ(fs.statfs(st), BAKEFS_OK);
  return st;
}

class ReadPathTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string src = *dir_ / "src";
    make_dir(src);
    files_ = new std::vector<std::pair<std::string, std::string>>();
    files_->emplace_back("text", text_bytes(600000, 1));      // compressed blocks, a tail
    files_->emplace_back("random", random_bytes(300000, 2));  // raw blocks
    std::string mixed;                                        // both, block by block
    for (int i = 0; i < 9; ++i) mixed += i % 2 ? random_bytes(kBlock, 10 + i) : text_bytes(kBlock, i);
    files_->emplace_back("mixed", mixed);
    std::string sparse(5 * kBlock, '\0');  // holes around data
    sparse.replace(2 * kBlock + 100, 70000, text_bytes(70000, 5));
    files_->emplace_back("sparse", sparse);
    for (const auto& [name, bytes] : *files_) write_file(src + "/" + name, bytes);
    build::Options options;
    options.block_log = 16;
    make_image(src, *dir_ / "img", options);
  }
  static void TearDownTestSuite() {
    delete files_;
    delete dir_;
  }
  void SetUp() override { m_ = posix::MountedImage::open(*dir_ / "img"); }

  static bakefs_file open(const FileSystem& fs, const std::string& path) {
    bakefs_ino ino = 0;
    EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK) << path;
    bakefs_file f{};
    EXPECT_EQ(fs.open(ino, f), BAKEFS_OK) << path;
    return f;
  }
  static const std::string& content(const std::string& name) {
    for (const auto& [n, bytes] : *files_) {
      if (n == name) return bytes;
    }
    throw std::runtime_error(name);
  }
  // The image offset of a data block's stored bytes, and of the block list of an inode.
  static uint64_t block_offset(const std::vector<uint8_t>& image, uint32_t id) {
    fmt::Superblock sb;
    std::memcpy(&sb, image.data(), sizeof(sb));
    fmt::BlockEntry e;
    std::memcpy(&e, image.data() + sb.blocks.offset.load() + uint64_t{id} * sizeof(e), sizeof(e));
    return e.offset.load();
  }
  static uint64_t block_list_offset(const std::vector<uint8_t>& image, bakefs_ino ino) {
    fmt::Superblock sb;
    std::memcpy(&sb, image.data(), sizeof(sb));
    fmt::CompactInode c;
    std::memcpy(&c, image.data() + inode_offset(image, ino), sizeof(c));
    EXPECT_EQ(c.flags.load() & (fmt::kInodeExtended | fmt::kInodeSparse), 0);
    return sb.heap.offset.load() + uint64_t{c.data.load()} * fmt::kHeapAlign;
  }
  static std::vector<bakefs_extent> extents(const FileSystem& fs, bakefs_ino ino) {
    std::vector<bakefs_extent> out;
    auto emit = [](void* ctx, const bakefs_extent* e) -> int {
      static_cast<std::vector<bakefs_extent>*>(ctx)->push_back(*e);
      return 0;
    };
    EXPECT_EQ(bakefs_extents(fs.get(), ino, emit, &out), BAKEFS_OK);
    return out;
  }

  static TempDir* dir_;
  static std::vector<std::pair<std::string, std::string>>* files_;
  posix::MountedImage m_;
};
TempDir* ReadPathTest::dir_ = nullptr;
std::vector<std::pair<std::string, std::string>>* ReadPathTest::files_ = nullptr;

TEST_F(ReadPathTest, SpansGiveEveryByteInPlacePinnedOrAsHoles) {
  std::mt19937 rng(7);
  for (const auto& [name, want] : *files_) {
    const bakefs_file f = open(m_.fs, name);
    EXPECT_EQ(f.size, want.size());
    std::string got;
    ASSERT_EQ(read_by_spans(m_.fs, f, 0, want.size() + 10, 64, got, &m_.image), BAKEFS_OK);
    EXPECT_TRUE(got == want) << name;
    for (int i = 0; i < 200; ++i) {
      const uint64_t offset = rng() % (want.size() + 10);
      const size_t length = rng() % 300000;
      ASSERT_EQ(read_by_spans(m_.fs, f, offset, length, 1 + rng() % 5, got, &m_.image), BAKEFS_OK);
      const size_t expect = offset >= want.size() ? 0 : std::min<size_t>(length, want.size() - offset);
      ASSERT_EQ(got.size(), expect) << name << " " << offset;
      ASSERT_EQ(std::memcmp(got.data(), want.data() + std::min<size_t>(offset, want.size()), expect), 0)
          << name << " offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(stats(m_.fs).pinned, 0u);
  // The holes of the sparse file are holes, not stored zeros.
  std::vector<bakefs_span> spans(16);
  size_t count = 0;
  ASSERT_EQ(m_.fs.read_spans(open(m_.fs, "sparse"), 0, 2 * kBlock, spans.data(), spans.size(), count),
            BAKEFS_OK);
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(spans[0].data, nullptr);
  EXPECT_EQ(spans[0].length, 2u * kBlock) << "two holes back to back are one span";
  m_.fs.release(spans.data(), count);
}

TEST_F(ReadPathTest, OpenRefusesWhatIsNotARegularFile) {
  bakefs_file f{};
  EXPECT_EQ(m_.fs.open(BAKEFS_ROOT_INO, f), BAKEFS_EISDIR);
  EXPECT_EQ(m_.fs.open(0, f), BAKEFS_EINVAL);
  EXPECT_EQ(bakefs_open(m_.fs.get(), BAKEFS_ROOT_INO, nullptr), BAKEFS_EINVAL);
}

TEST_F(ReadPathTest, AReReadOfACompressedBlockDoesNotDecompressAgain) {
  const bakefs_file f = open(m_.fs, "text");
  ASSERT_EQ(stats(m_.fs).decompressions, 0u);
  std::string got;
  ASSERT_EQ(read_by_spans(m_.fs, f, 0, kBlock, 4, got), BAKEFS_OK);
  EXPECT_EQ(stats(m_.fs).decompressions, 1u);
  ASSERT_EQ(read_by_spans(m_.fs, f, 0, kBlock, 4, got), BAKEFS_OK);
  ASSERT_EQ(read_by_spans(m_.fs, f, 100, 5000, 4, got), BAKEFS_OK);
  EXPECT_EQ(stats(m_.fs).decompressions, 1u) << "the block came from the cache";
  EXPECT_TRUE(got == content("text").substr(100, 5000));

  // bakefs_read of whole blocks: not kept by default (a page cache sits above), kept when the
  // mount says none does.
  for (uint32_t flags : {0u, unsigned{BAKEFS_MOUNT_NO_PAGE_CACHE}}) {
    bakefs_mount_options options{};
    options.flags = flags;
    FileSystem fs;
    ASSERT_EQ(fs.mount(m_.image.data(), m_.image.size(), posix::platform(), &options), BAKEFS_OK);
    bakefs_ino ino = 0;
    ASSERT_EQ(fs.resolve("text", ino), BAKEFS_OK);
    std::string all;
    ASSERT_EQ(fs.read_all(ino, all), BAKEFS_OK);
    const uint64_t first = stats(fs).decompressions;
    EXPECT_GE(first, 9u) << "nine whole blocks and a fragment";
    ASSERT_EQ(fs.read_all(ino, all), BAKEFS_OK);
    EXPECT_TRUE(all == content("text"));
    if (flags != 0) {
      EXPECT_EQ(stats(fs).decompressions, first) << "every block came from the cache";
    } else {
      EXPECT_GT(stats(fs).decompressions, first) << "whole blocks went straight to the caller";
    }
  }
}

// The posix platform, but a decompression (the only user of trylock) first sleeps: long
// enough for every other reader to arrive while the block is being filled.
bakefs_platform slow_decompressions() {
  bakefs_platform p = posix::platform();
  p.trylock = [](void* ctx, void* lock) -> int {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return posix::platform().trylock(ctx, lock);
  };
  return p;
}

TEST_F(ReadPathTest, ConcurrentMissesOfOneBlockDecompressItOnce) {
  const bakefs_platform platform = slow_decompressions();
  for (int round = 0; round < 3; ++round) {
    FileSystem fs;
    ASSERT_EQ(fs.mount(m_.image.data(), m_.image.size(), platform), BAKEFS_OK);
    const bakefs_file f = open(fs, "text");
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        std::string got;
        const uint64_t offset = 1000u * static_cast<unsigned>(t);
        if (read_by_spans(fs, f, offset, 2000, 2, got) != BAKEFS_OK ||
            got != content("text").substr(offset, 2000)) {
          bad++;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(stats(fs).decompressions, 1u) << "round " << round;
  }
}

TEST_F(ReadPathTest, ACallTakesAtMostMaxPinsAndStopsBeforeASpanItCannotHold) {
  bakefs_mount_options options{};
  options.cache_bytes = 8 * kBlock;
  FileSystem fs;
  ASSERT_EQ(fs.mount(m_.image.data(), m_.image.size(), posix::platform(), &options), BAKEFS_OK);
  EXPECT_EQ(stats(fs).max_pins, 2u) << "a quarter of eight entries";
  const bakefs_file text = open(fs, "text");
  std::vector<bakefs_span> spans(64);
  size_t count = 0;
  ASSERT_EQ(fs.read_spans(text, 0, text.size, spans.data(), spans.size(), count), BAKEFS_OK);
  ASSERT_EQ(count, 2u);
  EXPECT_EQ(spans[0].length + spans[1].length, 2u * kBlock);
  EXPECT_EQ(stats(fs).pinned, 2u);
  fs.release(spans.data(), count);
  EXPECT_EQ(stats(fs).pinned, 0u);
  // A raw block, then a compressed one, with room for one span: the compressed one is not
  // pinned on the way out.
  const bakefs_file mixed = open(fs, "mixed");
  ASSERT_EQ(fs.read_spans(mixed, kBlock, 2 * kBlock, spans.data(), 1, count), BAKEFS_OK);
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(spans[0].pin_, nullptr);
  EXPECT_EQ(spans[0].length, kBlock);
  EXPECT_EQ(stats(fs).pinned, 0u);
  fs.release(spans.data(), count);
}

TEST_F(ReadPathTest, PinsAreGivenBackOnEveryErrorPath) {
  bakefs_ino ino = 0;
  ASSERT_EQ(m_.fs.resolve("text", ino), BAKEFS_OK);
  const auto pieces = extents(m_.fs, ino);
  ASSERT_GE(pieces.size(), 4u);
  ASSERT_NE(pieces[0].stored_size, pieces[0].raw_size) << "compressed blocks";
  std::vector<bakefs_span> spans(16);
  size_t count = 99;

  {  // The third block damaged: the two before it were pinned, and are given back.
    std::vector<uint8_t> image(m_.image.data(), m_.image.data() + m_.image.size());
    image[block_offset(image, pieces[2].block) + pieces[2].stored_size / 2] ^= 0x10;
    FileSystem fs;
    ASSERT_EQ(fs.mount(image.data(), image.size(), posix::platform()), BAKEFS_OK);
    const bakefs_file f = open(fs, "text");
    EXPECT_EQ(fs.read_spans(f, 0, 4 * kBlock, spans.data(), spans.size(), count), BAKEFS_ECHECKSUM);
    EXPECT_EQ(count, 0u);
    EXPECT_EQ(stats(fs).pinned, 0u);
    // Again (the failed entry must not stay pinned or tagged), and the good blocks still read.
    EXPECT_EQ(fs.read_spans(f, 2 * kBlock, 10, spans.data(), spans.size(), count), BAKEFS_ECHECKSUM);
    EXPECT_EQ(stats(fs).pinned, 0u);
    std::string got;
    ASSERT_EQ(read_by_spans(fs, f, 0, 2 * kBlock, 16, got), BAKEFS_OK);
    EXPECT_TRUE(got == content("text").substr(0, 2 * kBlock));
    EXPECT_EQ(stats(fs).pinned, 0u);
  }
  {  // The third block's id out of range (a forged image whose checksums hold).
    std::vector<uint8_t> image(m_.image.data(), m_.image.data() + m_.image.size());
    bakefs_fsstat st = stats(m_.fs);
    patch_le(image, block_list_offset(image, ino) + 2 * 4, st.block_count + 5, 4);
    FileSystem fs;
    ASSERT_EQ(fs.mount(image.data(), image.size(), posix::platform()), BAKEFS_OK);
    const bakefs_file f = open(fs, "text");
    EXPECT_EQ(fs.read_spans(f, 0, 4 * kBlock, spans.data(), spans.size(), count), BAKEFS_ECORRUPT);
    EXPECT_EQ(count, 0u);
    EXPECT_EQ(stats(fs).pinned, 0u);
  }
  {  // A handle whose block list lies outside the heap.
    bakefs_file f = open(m_.fs, "text");
    f.list_ = uint64_t{1} << 40;
    EXPECT_EQ(m_.fs.read_spans(f, 0, 4 * kBlock, spans.data(), spans.size(), count),
              BAKEFS_ECORRUPT);
    EXPECT_EQ(count, 0u);
  }
  // Bad arguments and ranges past EOF hold nothing either.
  const bakefs_file f = open(m_.fs, "text");
  EXPECT_EQ(m_.fs.read_spans(f, 0, 10, spans.data(), 0, count), BAKEFS_EINVAL);
  EXPECT_EQ(bakefs_file_read(m_.fs.get(), nullptr, 0, 10, spans.data(), 1, &count), BAKEFS_EINVAL);
  EXPECT_EQ(m_.fs.read_spans(f, f.size, 10, spans.data(), spans.size(), count), BAKEFS_OK);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(m_.fs.read_spans(f, UINT64_MAX, 10, spans.data(), spans.size(), count), BAKEFS_OK);
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(stats(m_.fs).pinned, 0u);
}

TEST_F(ReadPathTest, ThirtyTwoThreadsThroughACacheOfTwoBlocks) {
  bakefs_mount_options options{};
  options.cache_bytes = 2 * kBlock;  // one set of two ways for 32 threads
  options.decompressors = 2;
  options.verify_slots = 16;
  FileSystem fs;
  ASSERT_EQ(fs.mount(m_.image.data(), m_.image.size(), posix::platform(), &options), BAKEFS_OK);
  std::vector<std::pair<bakefs_file, const std::string*>> files;
  for (const auto& [name, bytes] : *files_) files.emplace_back(open(fs, name), &bytes);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::string got;
      std::vector<char> buf(200000);
      for (int i = 0; i < 150; ++i) {
        const auto& [f, want] = files[rng() % files.size()];
        const uint64_t offset = rng() % want->size();
        const size_t length = 1 + rng() % buf.size();
        const size_t expect = std::min<size_t>(length, want->size() - offset);
        if (i % 4 == 3) {
          size_t done = 0;
          if (bakefs_read(fs.get(), f.ino, offset, buf.data(), length, &done) != BAKEFS_OK ||
              done != expect || std::memcmp(buf.data(), want->data() + offset, done) != 0) {
            failures++;
          }
          continue;
        }
        if (read_by_spans(fs, f, offset, length, 1 + rng() % 8, got) != BAKEFS_OK ||
            got.size() != expect || std::memcmp(got.data(), want->data() + offset, expect) != 0) {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const bakefs_fsstat st = stats(fs);
  EXPECT_EQ(st.pinned, 0u);
  EXPECT_GT(st.decompressions, 0u);
}

}  // namespace
}  // namespace bakefs::test
