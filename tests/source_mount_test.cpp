// Images read through a bakefs_source (what a kernel's buffer cache over a block device gives
// the core; here memory behind a callback that counts and can fail): the same tree, byte for
// byte and attribute for attribute, as the image mounted in place; mount reads two things;
// nothing of the metadata is read twice; nothing is handed out in place; damage is found as in
// memory; a failing storage is BAKEFS_EIO, never damage, and the same calls succeed once it
// works again; many threads at once.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/errno.h>
#include <bakefs/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "test_support.h"

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;

// An image on "storage": reads are copied out of bytes, counted, recorded, and fail on demand.
class MemorySource {
 public:
  explicit MemorySource(std::vector<uint8_t> bytes)
      : bytes_(std::move(bytes)), size_(bytes_.size()) {}

  bakefs_source source() { return bakefs_source{this, &MemorySource::read, size_}; }
  void set_size(uint64_t size) { size_ = size; }
  void fail(bool on) { failing_.store(on); }
  std::vector<uint8_t>& bytes() { return bytes_; }

  uint64_t reads() const { return reads_.load(); }
  uint64_t bytes_read() const { return bytes_read_.load(); }
  // How often each offset was read at.
  std::map<uint64_t, int> offsets() {
    std::lock_guard<std::mutex> guard(lock_);
    return offsets_;
  }
  // Reads that asked for bytes outside the storage (the core must never).
  uint64_t outside() const { return outside_.load(); }

 private:
  static int read(void* ctx, uint64_t offset, void* dst, size_t length) {
    auto* self = static_cast<MemorySource*>(ctx);
    if (offset > self->size_ || length > self->size_ - offset) {
      ++self->outside_;
      return EINVAL;
    }
    if (self->failing_.load()) return EIO;
    std::memcpy(dst, self->bytes_.data() + offset, length);
    ++self->reads_;
    self->bytes_read_ += length;
    std::lock_guard<std::mutex> guard(self->lock_);
    ++self->offsets_[offset];
    return 0;
  }

  std::vector<uint8_t> bytes_;
  uint64_t size_;
  std::atomic<bool> failing_{false};
  std::atomic<uint64_t> reads_{0}, bytes_read_{0}, outside_{0};
  std::mutex lock_;
  std::map<uint64_t, int> offsets_;
};

fmt::Superblock superblock_of(const std::vector<uint8_t>& image) {
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  return sb;
}

// Every regular file and symlink of the image, read through fs; with their attributes.
std::map<std::string, std::string> everything(const FileSystem& fs) {
  std::map<std::string, std::string> out;
  std::vector<std::pair<bakefs_ino, std::string>> dirs{{BAKEFS_ROOT_INO, ""}};
  while (!dirs.empty()) {
    auto [dir, path] = dirs.back();
    dirs.pop_back();
    std::vector<Dirent> entries;
    EXPECT_EQ(fs.readdir(dir, entries), BAKEFS_OK) << path;
    for (const Dirent& e : entries) {
      const std::string name = path + "/" + e.name;
      bakefs_attr a{};
      EXPECT_EQ(fs.getattr(e.ino, a), BAKEFS_OK) << name;
      std::string value = std::to_string(a.mode) + " " + std::to_string(a.size) + " " +
                          std::to_string(a.uid) + " " + std::to_string(a.mtime_sec) + ":";
      std::string bytes;
      if ((a.mode & fmt::kTypeMask) == fmt::kTypeRegular) {
        EXPECT_EQ(fs.read_all(e.ino, bytes), BAKEFS_OK) << name;
      } else if ((a.mode & fmt::kTypeMask) == fmt::kTypeSymlink) {
        EXPECT_EQ(fs.readlink(e.ino, bytes), BAKEFS_OK) << name;
      } else if ((a.mode & fmt::kTypeMask) == fmt::kTypeDir) {
        dirs.emplace_back(e.ino, name);
      }
      std::vector<std::string> xattrs;
      EXPECT_EQ(fs.listxattr(e.ino, xattrs), BAKEFS_OK) << name;
      for (const std::string& x : xattrs) {
        std::string v;
        EXPECT_EQ(fs.getxattr(e.ino, x, v), BAKEFS_OK) << name << " " << x;
        value += x + "=" + v + ";";
      }
      out[name] = value + bytes;
    }
  }
  return out;
}

class SourceMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    make_rich_tree(dir_.path() + "/src");
    // Files stored raw (random bytes), compressed, sparse and in fragments, at 4 KiB blocks so
    // that one file spans many blocks and metadata many units.
    write_file(dir_.path() + "/src/random.bin", random_bytes(40000, 7));
    write_file(dir_.path() + "/src/text.txt", text_bytes(100000, 8));
    make_dir(dir_.path() + "/src/many");
    for (int i = 0; i < 60; ++i) {
      write_file(dir_.path() + "/src/many/f" + std::to_string(i), text_bytes(300 + i * 37, i));
    }
    build::Options options;
    options.block_log = 12;
    options.unit_log = 9;
    options.threads = 1;
    make_image(dir_.path() + "/src", dir_.path() + "/img", options);
    image_ = read_bytes(dir_.path() + "/img");
  }

  TempDir dir_;
  std::vector<uint8_t> image_;
};

TEST_F(SourceMountTest, TheSameTreeAsTheImageInPlace) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  for (uint32_t flags :
       {0u, unsigned{BAKEFS_MOUNT_NO_VERIFY}, unsigned{BAKEFS_MOUNT_NO_PAGE_CACHE}}) {
    bakefs_mount_options options{};
    options.flags = flags;
    options.cache_bytes = 3 * 4096;  // misses all the time
    FileSystem from_source, in_place;
    ASSERT_EQ(from_source.mount_source(source, posix::platform(), &options), BAKEFS_OK);
    ASSERT_EQ(in_place.mount(image_.data(), image_.size(), posix::platform(), &options), BAKEFS_OK);
    expect_same_tree(dir_.path() + "/src", from_source);
    EXPECT_EQ(everything(from_source), everything(in_place)) << "flags " << flags;
    std::vector<std::string> problems;
    EXPECT_EQ(from_source.check(problems), BAKEFS_OK);
    EXPECT_TRUE(problems.empty());
    bakefs_fsstat a{}, b{};
    ASSERT_EQ(from_source.statfs(a), BAKEFS_OK);
    ASSERT_EQ(in_place.statfs(b), BAKEFS_OK);
    EXPECT_EQ(a.image_size, b.image_size);
    EXPECT_EQ(a.inode_count, b.inode_count);
  }
  EXPECT_EQ(storage.outside(), 0u);
}

TEST_F(SourceMountTest, MountReadsTheSuperblockTheChecksumTableAndTheRootsUnit) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  FileSystem fs;
  ASSERT_EQ(fs.mount_source(source, posix::platform()), BAKEFS_OK);
  const fmt::Superblock sb = superblock_of(image_);
  const auto offsets = storage.offsets();
  // The root inode's unit (the first: the inode table starts the metadata), and the units of
  // the dictionary, which mount loads.
  const uint64_t meta = sb.meta.offset.load(), meta_size = sb.meta.size.load();
  std::set<uint64_t> units{0};
  const uint64_t dict = sb.dictionary.offset.load(), dict_size = sb.dictionary.size.load();
  for (uint64_t at = dict; dict_size != 0 && at < dict + dict_size; at += 512) {
    units.insert((at - meta) / 512);
  }
  if (dict_size != 0) units.insert((dict + dict_size - 1 - meta) / 512);
  uint64_t unit_bytes = 0;
  for (uint64_t u : units) {
    unit_bytes += std::min<uint64_t>(512, meta_size - u * 512);
    EXPECT_EQ(offsets.count(meta + u * 512), 1u) << "unit " << u;
  }
  EXPECT_EQ(storage.reads(), 2 + units.size());
  EXPECT_EQ(offsets.count(0), 1u);
  EXPECT_EQ(offsets.count(sb.checksums.offset.load()), 1u);
  EXPECT_EQ(storage.bytes_read(), fmt::kSuperblockSize + sb.checksums.size.load() + unit_bytes)
      << "the superblock, the checksum table, the units mount needs, nothing else";
}

TEST_F(SourceMountTest, EachMetadataUnitIsReadOnceAndNothingOutsideTheImage) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  bakefs_mount_options options{};
  options.verify_slots = 1;  // the record of checked units forgets: checks again, reads not
  FileSystem fs;
  ASSERT_EQ(fs.mount_source(source, posix::platform(), &options), BAKEFS_OK);
  const auto first = everything(fs);
  EXPECT_EQ(everything(fs), first);
  const fmt::Superblock sb = superblock_of(image_);
  const uint64_t meta = sb.meta.offset.load(), meta_end = meta + sb.meta.size.load();
  size_t units = 0;
  for (const auto& [offset, times] : storage.offsets()) {
    if (offset < meta || offset >= meta_end) continue;
    ++units;
    EXPECT_EQ((offset - meta) % 512, 0u) << "units are read whole";
    EXPECT_EQ(times, 1) << "metadata at " << offset << " read again";
  }
  EXPECT_GT(units, 2u);
  EXPECT_EQ(storage.outside(), 0u);
}

TEST_F(SourceMountTest, NothingIsHandedOutInPlace) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  FileSystem fs;
  ASSERT_EQ(fs.mount_source(source, posix::platform()), BAKEFS_OK);
  bakefs_ino ino = 0;
  ASSERT_EQ(fs.resolve("random.bin", ino), BAKEFS_OK);
  std::vector<bakefs_extent> raw;
  auto emit = [](void* ctx, const bakefs_extent* e) {
    static_cast<std::vector<bakefs_extent>*>(ctx)->push_back(*e);
    return 0;
  };
  ASSERT_EQ(bakefs_extents(fs.get(), ino, emit, &raw), BAKEFS_OK);
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw[0].stored_size, raw[0].raw_size) << "random bytes are stored raw";
  const void* data = nullptr;
  size_t length = 0;
  EXPECT_EQ(bakefs_map(fs.get(), ino, 0, &data, &length), BAKEFS_ENOTSUP);
  bakefs_file f{};
  ASSERT_EQ(fs.open(ino, f), BAKEFS_OK);
  std::vector<bakefs_span> spans(4);
  size_t count = 0;
  ASSERT_EQ(fs.read_spans(f, 0, 40000, spans.data(), spans.size(), count), BAKEFS_OK);
  ASSERT_GT(count, 0u);
  std::string got;
  for (size_t i = 0; i < count; ++i) {
    EXPECT_NE(spans[i].pin_, nullptr) << "a raw block too comes through the cache";
    got.append(static_cast<const char*>(spans[i].data), spans[i].length);
  }
  fs.release(spans.data(), count);
  EXPECT_EQ(got, random_bytes(40000, 7).substr(0, got.size()));
  std::string record;
  EXPECT_EQ(fs.boot_record(BAKEFS_BOOT_CONFIG, 0, record), BAKEFS_ENOENT);
}

// Flips one byte of a stored block of `path` and one of the metadata unit of its directory
// entry: each read sees the damage as the image in place does.
TEST_F(SourceMountTest, DamageIsFoundAsInPlace) {
  for (const char* path : {"random.bin", "text.txt"}) {
    FileSystem clean;
    ASSERT_EQ(clean.mount(image_.data(), image_.size(), posix::platform()), BAKEFS_OK);
    bakefs_ino ino = 0;
    ASSERT_EQ(clean.resolve(path, ino), BAKEFS_OK);
    bakefs_extent first{};
    auto emit = [](void* ctx, const bakefs_extent* e) {
      *static_cast<bakefs_extent*>(ctx) = *e;
      return 1;
    };
    ASSERT_EQ(bakefs_extents(clean.get(), ino, emit, &first), BAKEFS_OK);
    const fmt::Superblock sb = superblock_of(image_);
    fmt::BlockEntry entry;
    std::memcpy(&entry, image_.data() + sb.blocks.offset.load() + first.block * sizeof(entry),
                sizeof(entry));
    std::vector<uint8_t> damaged = image_;
    damaged[entry.offset.load() + entry.stored_size.load() / 2] ^= 0x10;
    MemorySource storage(damaged);
    const bakefs_source source = storage.source();
    FileSystem from_source, in_place;
    ASSERT_EQ(from_source.mount_source(source, posix::platform()), BAKEFS_OK);
    ASSERT_EQ(in_place.mount(damaged.data(), damaged.size(), posix::platform()), BAKEFS_OK);
    std::string a, b;
    EXPECT_EQ(from_source.read_all(ino, a), BAKEFS_ECHECKSUM) << path;
    EXPECT_EQ(in_place.read_all(ino, b), BAKEFS_ECHECKSUM) << path;
    std::vector<std::string> problems;
    EXPECT_EQ(from_source.check(problems), BAKEFS_ECHECKSUM);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("block " + std::to_string(first.block)), std::string::npos)
        << problems[0];
  }
  // A metadata byte: the last unit (heap, names) flipped.
  std::vector<uint8_t> damaged = image_;
  const fmt::Superblock sb = superblock_of(image_);
  damaged[sb.meta.offset.load() + sb.meta.size.load() - 1] ^= 0x01;
  MemorySource storage(damaged);
  const bakefs_source source = storage.source();
  FileSystem from_source, in_place;
  const int mounted = from_source.mount_source(source, posix::platform());
  ASSERT_EQ(mounted, in_place.mount(damaged.data(), damaged.size(), posix::platform()));
  if (mounted == BAKEFS_OK) {
    std::vector<std::string> p1, p2;
    EXPECT_EQ(from_source.check(p1), BAKEFS_ECHECKSUM);
    EXPECT_EQ(in_place.check(p2), BAKEFS_ECHECKSUM);
    EXPECT_EQ(p1, p2);
  }
}

TEST_F(SourceMountTest, AFailingStorageIsEioThenTheSameCallsSucceed) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  bakefs_mount_options options{};
  options.cache_bytes = 4096;
  FileSystem fs;
  storage.fail(true);
  EXPECT_EQ(fs.mount_source(source, posix::platform(), &options), BAKEFS_EIO);
  EXPECT_EQ(bakefs_to_errno(BAKEFS_EIO), EIO);
  storage.fail(false);
  ASSERT_EQ(fs.mount_source(source, posix::platform(), &options), BAKEFS_OK);
  storage.fail(true);
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.resolve("many/f7", ino), BAKEFS_EIO) << "its directory was never read";
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_EIO) << "a storage error is not damage";
  EXPECT_FALSE(problems.empty());
  for (const std::string& p : problems) {
    EXPECT_EQ(p.find("corrupt"), std::string::npos) << p;
  }
  storage.fail(false);
  ASSERT_EQ(fs.resolve("many/f7", ino), BAKEFS_OK);
  std::string bytes;
  storage.fail(true);
  EXPECT_EQ(fs.read_all(ino, bytes), BAKEFS_EIO);
  storage.fail(false);
  ASSERT_EQ(fs.read_all(ino, bytes), BAKEFS_OK);
  EXPECT_EQ(bytes, text_bytes(300 + 7 * 37, 7));
  problems.clear();
  EXPECT_EQ(fs.check(problems), BAKEFS_OK);
  EXPECT_TRUE(problems.empty());
}

TEST_F(SourceMountTest, StorageShorterThanTheImageIsRefused) {
  MemorySource storage(image_);
  const bakefs_source source_full = storage.source();
  FileSystem fs;
  ASSERT_EQ(fs.mount_source(source_full, posix::platform()), BAKEFS_OK);
  fs.reset();
  for (uint64_t size :
       {uint64_t{0}, uint64_t{100}, uint64_t{fmt::kSuperblockSize}, uint64_t{image_.size() - 1}}) {
    storage.set_size(size);
    const bakefs_source source = storage.source();
    EXPECT_EQ(fs.mount_source(source, posix::platform()), BAKEFS_ECORRUPT) << size;
  }
  EXPECT_EQ(storage.outside(), 0u);
  bakefs_fs* out = reinterpret_cast<bakefs_fs*>(1);
  EXPECT_EQ(bakefs_mount_source(nullptr, &posix::platform(), nullptr, &out), BAKEFS_EINVAL);
  EXPECT_EQ(out, nullptr);
  bakefs_source no_read{nullptr, nullptr, image_.size()};
  EXPECT_EQ(bakefs_mount_source(&no_read, &posix::platform(), nullptr, &out), BAKEFS_EINVAL);
}

TEST_F(SourceMountTest, ManyThreadsThroughOneSourceAndATinyCache) {
  MemorySource storage(image_);
  const bakefs_source source = storage.source();
  bakefs_mount_options options{};
  options.cache_bytes = 2 * 4096;
  options.decompressors = 2;
  FileSystem fs, in_place;
  ASSERT_EQ(fs.mount_source(source, posix::platform(), &options), BAKEFS_OK);
  ASSERT_EQ(in_place.mount(image_.data(), image_.size(), posix::platform()), BAKEFS_OK);
  const auto expected = everything(in_place);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        if (everything(fs) != expected) ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace bakefs::test
