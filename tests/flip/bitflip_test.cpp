// The bit-flip campaign: single-bit flips of a small reference image that has every structure
// (compressed and raw blocks, fragments, holes, a large directory, symlinks, hard links, a
// fifo and a socket, device nodes and foreign owners as root, xattrs, boot records), each
// mounted, walked in full and checked, and classified:
//   detected  the walk stopped with ECHECKSUM, ECORRUPT or ENOTSUP, having seen only a prefix
//             of the reference, and the full check (bakefs_check) did not call it sound;
//   harmless  the walk saw exactly the reference (and the check still found the flip);
//   wrong     a walk that succeeded with other contents, saw a wrong byte before failing,
//             failed with another status, or a check that called a damaged image sound;
//   hung      a flip whose mount, walk and check did not end within the time bound.
// Each flip runs in a worker process, so a hang is killed and counted instead of stopping the
// campaign. CTest runs every bit of the superblock and a sample of the rest
// (BAKEFS_FLIP_SAMPLE, default 20000); `cmake --build build --target flip_all` runs every bit.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "image_walk.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

enum class Outcome : uint8_t { kDetected, kHarmless, kWrong, kHung };
constexpr const char* kOutcomeNames[] = {"detected", "harmless", "wrong", "hung"};

struct Result {
  uint64_t bit;
  Outcome outcome;
  uint32_t micros;
  int status;  // of the walk
};

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// The reference tree: small (every bit is flipped), with every structure of the format.
void make_reference_tree(const std::string& src) {
  make_dir(src);
  make_dir(src + "/sub");
  make_dir(src + "/sub/deeper", 0700);
  make_dir(src + "/many");
  write_file(src + "/text", text_bytes(10000, 1));        // compressed blocks and a tail
  write_file(src + "/random", random_bytes(5000, 2));     // a raw block and a raw tail
  write_file(src + "/text_again", text_bytes(10000, 1));  // identical blocks, stored once
  std::string sparse(8192, '\0');                         // two holes, then a tail
  write_file(src + "/sparse", sparse + "the end");
  write_file(src + "/sub/small", "small file\n", 0640);
  write_file(src + "/sub/deeper/leaf", "leaf\n");
  write_file(src + "/empty", "");
  for (int i = 0; i < 120; ++i) {  // a directory over several checksum units; fragments
    char name[32];
    std::snprintf(name, sizeof(name), "/many/entry_%03d", i);
    write_file(src + name, i % 2 == 0 ? text_bytes(500, 1000 + i)  // dictionary samples
                                      : "entry " + std::to_string(i * 7919) + "\n");
  }
  ASSERT_EQ(::symlink("sub/small", (src + "/relative").c_str()), 0);
  ASSERT_EQ(::symlink(std::string(300, 'x').c_str(), (src + "/long_target").c_str()), 0);
  ASSERT_EQ(::link((src + "/sub/small").c_str(), (src + "/hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0620), 0);
  make_socket(src + "/socket");
  ASSERT_EQ(::setxattr((src + "/text").c_str(), "user.note", "hello", 5, 0), 0);
  std::string binary = random_bytes(100, 3);
  ASSERT_EQ(::setxattr((src + "/sub").c_str(), "user.binary", binary.data(), binary.size(), 0),
            0);
  if (is_root()) {
    ASSERT_EQ(::mknod((src + "/char").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
    ASSERT_EQ(::mknod((src + "/block").c_str(), S_IFBLK | 0660, makedev(259, 65537)), 0);
    ASSERT_EQ(::lchown((src + "/sub/small").c_str(), 1234, 5678), 0);
  }
  set_mtime(src + "/text", 1700000000, 123456789);
  set_mtime(src + "/empty", -86400 * 365, 999999999);
}

class BitFlip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string src = *dir_ / "src";
    make_reference_tree(src);
    build::Options options;
    options.block_log = 12;  // 4 KiB blocks: several blocks in a small image
    options.unit_log = 9;    // 512-byte metadata checksum units
    options.dictionary_size = 1024;
    options.config = "{\"cmdline\": \"app --serve\"}";
    options.tmpfs = {"/tmp", "/var/run"};
    options.root_flags = format::kBootRootNoUnion;
    make_image(src, *dir_ / "reference.img", options);
    image_ = new std::vector<uint8_t>(read_bytes(*dir_ / "reference.img"));
    reference_ = new Walk(walk_bytes(*image_));
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete image_;
    delete dir_;
  }

  // Flips one bit and classifies what the driver makes of it (in the worker process).
  static Result classify(uint64_t bit) {
    auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> damaged = *image_;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    Walk w = walk_bytes(damaged, 0, 4 * reference_->nodes + 16);
    Outcome outcome;
    if (w.status == BAKEFS_OK) {
      outcome = w.text == reference_->text ? Outcome::kHarmless : Outcome::kWrong;
    } else {
      const bool prefix = reference_->text.compare(0, w.text.size(), w.text) == 0;
      const bool expected = w.status == BAKEFS_ECHECKSUM || w.status == BAKEFS_ECORRUPT ||
                            w.status == BAKEFS_ENOTSUP;
      outcome = prefix && expected && !w.over_limit ? Outcome::kDetected : Outcome::kWrong;
    }
    // Every byte is covered by a checksum: the full check must never call the damage sound.
    FileSystem fs;
    if (fs.mount(damaged.data(), damaged.size(), posix::platform()) == BAKEFS_OK) {
      std::vector<std::string> problems;
      if (fs.check(problems, 1) == BAKEFS_OK) outcome = Outcome::kWrong;
    }
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    return {bit, outcome, static_cast<uint32_t>(micros.count()), w.status};
  }

  // Runs the flips in worker processes; a flip that takes longer than timeout is killed and
  // counted as hung, and a new worker goes on after it.
  static std::vector<Result> run(const std::vector<uint64_t>& bits, int timeout_ms) {
    std::vector<Result> results;
    size_t next = 0;
    while (next < bits.size()) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
      pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        ::close(fds[0]);
        for (size_t i = next; i < bits.size(); ++i) {
          Result r = classify(bits[i]);
          if (::write(fds[1], &r, sizeof(r)) != static_cast<ssize_t>(sizeof(r))) ::_exit(3);
        }
        ::_exit(0);
      }
      ::close(fds[1]);
      while (next < bits.size()) {
        pollfd p{fds[0], POLLIN, 0};
        int ready = ::poll(&p, 1, timeout_ms);
        Result r{};
        if (ready == 1 && ::read(fds[0], &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r))) {
          results.push_back(r);
          ++next;
          continue;
        }
        // No answer in time (or the worker died): that flip hung or crashed the reader.
        ::kill(pid, SIGKILL);
        results.push_back({bits[next], Outcome::kHung, static_cast<uint32_t>(timeout_ms) * 1000,
                           ready == 1 ? -1 : 0});
        ++next;
        break;
      }
      ::close(fds[0]);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
    return results;
  }

  static TempDir* dir_;
  static std::vector<uint8_t>* image_;
  static Walk* reference_;
};
TempDir* BitFlip::dir_ = nullptr;
std::vector<uint8_t>* BitFlip::image_ = nullptr;
Walk* BitFlip::reference_ = nullptr;

TEST_F(BitFlip, TheReferenceImageHasEveryStructure) {
  ASSERT_EQ(reference_->status, BAKEFS_OK) << bakefs_strerror(reference_->status);
  FileSystem fs;
  ASSERT_EQ(fs.mount(image_->data(), image_->size(), posix::platform()), BAKEFS_OK);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_OK);
  bakefs_fsstat st;
  ASSERT_EQ(fs.statfs(st), BAKEFS_OK);
  EXPECT_NE(st.feature_incompat & format::kIncompatZstd, 0u) << "some blocks are compressed";
  EXPECT_NE(st.feature_incompat & format::kIncompatDictionary, 0u) << "with a dictionary";
  std::printf("reference image: %zu bytes, features incompat %#x compat %#x\n", image_->size(),
              st.feature_incompat, st.feature_compat);
  for (const char* needle : {"boot 1 {\"cmdline\"", "boot 2 /tmp", "boot 3 ", "data:leaf",
                             "/many/entry_119", "user.note=hello", "-> sub/small"}) {
    EXPECT_NE(reference_->text.find(needle), std::string::npos) << needle;
  }
  EXPECT_LT(image_->size(), 48u * 1024) << "keep the reference small: every bit is flipped";
}

TEST_F(BitFlip, EveryFlipIsDetectedOrHarmlessAndNoneHangs) {
  const uint64_t total_bits = uint64_t{image_->size()} * 8;
  const char* all = std::getenv("BAKEFS_FLIP_ALL");
  std::vector<uint64_t> bits;
  if (all != nullptr && *all == '1') {
    for (uint64_t b = 0; b < total_bits; ++b) bits.push_back(b);
  } else {
    // Every bit of the superblock (it steers everything else), then a seeded sample.
    for (uint64_t b = 0; b < uint64_t{format::kSuperblockSize} * 8; ++b) bits.push_back(b);
    std::mt19937_64 rng(env_number("BAKEFS_FLIP_SEED", 20261202));
    const uint64_t sample = env_number("BAKEFS_FLIP_SAMPLE", 20000);
    for (uint64_t i = 0; i < sample; ++i) {
      bits.push_back(format::kSuperblockSize * 8 +
                     rng() % (total_bits - uint64_t{format::kSuperblockSize} * 8));
    }
    std::sort(bits.begin(), bits.end());
    bits.erase(std::unique(bits.begin(), bits.end()), bits.end());
  }
  const int timeout_ms = static_cast<int>(env_number("BAKEFS_FLIP_TIMEOUT_MS", 5000));
  const auto start = std::chrono::steady_clock::now();
  std::vector<Result> results = run(bits, timeout_ms);

  uint64_t counts[4] = {};
  for (const Result& r : results) ++counts[static_cast<int>(r.outcome)];
  std::vector<Result> slowest = results;
  std::sort(slowest.begin(), slowest.end(),
            [](const Result& a, const Result& b) { return a.micros > b.micros; });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu of %llu bits of a %zu-byte image flipped in %.1f s:", results.size(),
              static_cast<unsigned long long>(total_bits), image_->size(), seconds);
  for (int i = 0; i < 4; ++i) {
    std::printf(" %s %llu", kOutcomeNames[i], static_cast<unsigned long long>(counts[i]));
  }
  std::printf("\nslowest:");
  for (size_t i = 0; i < std::min<size_t>(5, slowest.size()); ++i) {
    std::printf(" bit %llu %.1f ms;", static_cast<unsigned long long>(slowest[i].bit),
                slowest[i].micros / 1000.0);
  }
  std::printf("\n");
  for (const Result& r : results) {
    if (r.outcome == Outcome::kWrong || r.outcome == Outcome::kHung) {
      ADD_FAILURE() << "bit " << r.bit << " (byte " << r.bit / 8 << "): "
                    << kOutcomeNames[static_cast<int>(r.outcome)]
                    << (r.outcome == Outcome::kWrong ? std::string(", walk: ") +
                                                           bakefs_strerror(r.status)
                                                     : std::string());
    }
  }
  EXPECT_EQ(results.size(), bits.size());
  EXPECT_GT(counts[static_cast<int>(Outcome::kDetected)], 0u);
}

}  // namespace
}  // namespace bakefs::test
