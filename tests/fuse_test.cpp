// The FUSE mount through the real kernel VFS: contents and attributes, everyday tools, many
// readers, mmap, read-only behaviour, statfs, and clean unmounts.
// SPDX-License-Identifier: BSD-2-Clause
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <dirent.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "fuse_mount.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

// FuseMount with this build's bakefs.
class FuseMount : public test::FuseMount {
 public:
  FuseMount(const std::string& image, const std::string& mountpoint,
            std::vector<std::string> extra = {})
      : test::FuseMount(BAKEFS_PATH, image, mountpoint, std::move(extra)) {}
};

class FuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fuse_available()) GTEST_SKIP() << "/dev/fuse is missing: FUSE tests skipped";
  }
  TempDir dir_;
};

TEST_F(FuseTest, GeneratedTreeMatchesThroughTheKernel) {
  make_rich_tree(dir_ / "src");
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt");
  ASSERT_TRUE(m.mounted());
  expect_same_host_trees(dir_ / "src", dir_ / "mnt");
}

TEST_F(FuseTest, RealTreesMatch) {
  for (const char* tree : {"/usr/include", "/etc"}) {
    const std::string image = dir_ / "real.img", mnt = dir_ / "real";
    make_image(tree, image);
    FuseMount m(image, mnt);
    ASSERT_TRUE(m.mounted()) << tree;
    expect_same_host_trees(tree, mnt);
  }
}

TEST_F(FuseTest, EverydayToolsWork) {
  make_rich_tree(dir_ / "src");
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt");
  ASSERT_TRUE(m.mounted());
  const std::string mnt = dir_ / "mnt";
  EXPECT_EQ(shell("find " + mnt + " > " + dir_ / "find.txt"), 0);
  EXPECT_EQ(shell("ls -lR " + mnt + " > /dev/null"), 0);
  EXPECT_EQ(shell("du -s " + mnt + " > /dev/null"), 0);
  EXPECT_EQ(shell("tar -C " + mnt + " -cf " + dir_ / "t.tar" + " . 2>/dev/null"), 0);
  // tar leaves sockets out.
  EXPECT_EQ(shell("cd " + dir_ / "src" + " && find . ! -type s | sort > " + dir_ / "want.txt"), 0);
  EXPECT_EQ(shell("tar -tf " + dir_ / "t.tar" + " | sed 's,/$,,' | sort > " + dir_ / "got.txt"), 0);
  EXPECT_EQ(shell("diff " + dir_ / "want.txt" + " " + dir_ / "got.txt"), 0);
  EXPECT_EQ(shell("mkdir " + dir_ / "untar" + " && tar -C " + dir_ / "untar" + " -xf " +
                  dir_ / "t.tar" + " && cmp " + dir_ / "untar/sizes/random_400000" + " " +
                  dir_ / "src/sizes/random_400000"),
            0);
}

TEST_F(FuseTest, HundredThousandEntryDirectoryListsCompletely) {
  make_dir(dir_ / "src");
  make_dir(dir_ / "src/big");
  for (int i = 0; i < 100000; ++i) {
    int fd = open((dir_ / "src/big/f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt");
  ASSERT_TRUE(m.mounted());
  DIR* d = opendir((dir_ / "mnt/big").c_str());
  ASSERT_NE(d, nullptr);
  size_t count = 0;
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++count;
  }
  closedir(d);
  EXPECT_EQ(count, 100000u);
  struct stat st;
  EXPECT_EQ(stat((dir_ / "mnt/big/f99999").c_str(), &st), 0);
  EXPECT_NE(stat((dir_ / "mnt/big/f100000").c_str(), &st), 0);
}

TEST_F(FuseTest, RandomReadsMmapAndManyThreads) {
  make_dir(dir_ / "src");
  const std::string text = text_bytes(3000000, 1), random = random_bytes(1000000, 2);
  write_file(dir_ / "src/text", text);
  write_file(dir_ / "src/random", random);
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt", {"-o", "cache=1M"});
  ASSERT_TRUE(m.mounted());
  // Seeks and reads at random offsets.
  int fd = open((dir_ / "mnt/text").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::mt19937 rng(1);
  std::vector<char> buf(200000);
  for (int i = 0; i < 300; ++i) {
    off_t offset = static_cast<off_t>(rng() % text.size());
    size_t length = 1 + rng() % buf.size();
    ASSERT_EQ(lseek(fd, offset, SEEK_SET), offset);
    ssize_t n = read(fd, buf.data(), length);
    ASSERT_EQ(n, static_cast<ssize_t>(
                     std::min<size_t>(length, text.size() - static_cast<size_t>(offset))));
    ASSERT_EQ(std::memcmp(buf.data(), text.data() + offset, static_cast<size_t>(n)), 0) << offset;
  }
  close(fd);
  // mmap sees the same bytes (raw blocks and compressed ones).
  for (const auto& [name, want] : {std::pair{"text", &text}, std::pair{"random", &random}}) {
    int mfd = open((dir_ / "mnt/" + name).c_str(), O_RDONLY);
    ASSERT_GE(mfd, 0);
    void* p = mmap(nullptr, want->size(), PROT_READ, MAP_SHARED, mfd, 0);
    ASSERT_NE(p, MAP_FAILED) << name;
    EXPECT_EQ(std::memcmp(p, want->data(), want->size()), 0) << name;
    munmap(p, want->size());
    close(mfd);
  }
  // Eight threads at once, with the page cache dropped so that they reach the daemon.
  shell("sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null");
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string& want = t % 2 ? text : random;
      int tfd = open((dir_ / (t % 2 ? "mnt/text" : "mnt/random")).c_str(), O_RDONLY | O_DIRECT);
      if (tfd < 0) tfd = open((dir_ / (t % 2 ? "mnt/text" : "mnt/random")).c_str(), O_RDONLY);
      std::mt19937 r(static_cast<unsigned>(t));
      std::vector<char> b(65536);
      for (int i = 0; i < 200; ++i) {
        off_t offset = static_cast<off_t>(r() % want.size());
        ssize_t n = pread(tfd, b.data(), b.size(), offset);
        if (n < 0 || std::memcmp(b.data(), want.data() + offset, static_cast<size_t>(n)) != 0)
          bad++;
      }
      close(tfd);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

// Replies made of many spans: 4 KiB blocks alternating raw and compressed, holes, and a cache
// too small for a request's compressed blocks (the rest of the reply is then copied).
TEST_F(FuseTest, ManySpansPerReplyGiveTheRightBytes) {
  make_dir(dir_ / "src");
  std::string mixed, sparse(3000000, '\0');
  for (int i = 0; i < 600; ++i) {
    mixed += i % 3 == 0 ? random_bytes(4096, 100 + i) : text_bytes(4096, i);
  }
  mixed += text_bytes(1234, 9);  // and a tail in a fragment
  for (size_t at = 100000; at + 50000 < sparse.size(); at += 400000) {
    sparse.replace(at, 50000, random_bytes(50000, at));
  }
  const std::string raw = random_bytes(2000000, 3);
  const std::vector<std::pair<std::string, const std::string*>> files{
      {"mixed", &mixed}, {"sparse", &sparse}, {"raw", &raw}};
  for (const auto& [name, bytes] : files) write_file(dir_ / "src/" + name, *bytes);
  build::Options options;
  options.block_log = 12;
  make_image(dir_ / "src", dir_ / "img", options);
  {  // the image holds what the test is about
    auto image = posix::MountedImage::open(dir_ / "img");
    bakefs_ino ino = 0;
    ASSERT_EQ(image.fs.resolve("mixed", ino), BAKEFS_OK);
    size_t raw_blocks = 0, compressed_blocks = 0;
    auto count = [](void* ctx, const bakefs_extent* e) -> int {
      auto* n = static_cast<std::pair<size_t*, size_t*>*>(ctx);
      ++*(e->stored_size == e->raw_size ? n->first : n->second);
      return 0;
    };
    std::pair<size_t*, size_t*> counts{&raw_blocks, &compressed_blocks};
    ASSERT_EQ(bakefs_extents(image.fs.get(), ino, count, &counts), BAKEFS_OK);
    EXPECT_GE(raw_blocks, 150u);
    EXPECT_GE(compressed_blocks, 300u);
  }
  for (const char* cache : {"cache=64M", "cache=16K"}) {
    FuseMount m(dir_ / "img", dir_ / "mnt", {"-o", cache});
    ASSERT_TRUE(m.mounted()) << cache;
    for (const auto& [name, want] : files) {
      // Whole, through the page cache (readahead-sized requests).
      const std::vector<uint8_t> whole = read_bytes(dir_ / "mnt/" + name);
      EXPECT_TRUE(std::string(whole.begin(), whole.end()) == *want) << name << " " << cache;
      // Direct, in requests of many sizes at odd offsets.
      int fd = open((dir_ / "mnt/" + name).c_str(), O_RDONLY | O_DIRECT);
      if (fd < 0) fd = open((dir_ / "mnt/" + name).c_str(), O_RDONLY);
      ASSERT_GE(fd, 0);
      std::mt19937 rng(4);
      std::vector<char> buf(1 << 20);
      for (int i = 0; i < 60; ++i) {
        const size_t length = 1 + rng() % buf.size();
        const off_t offset = static_cast<off_t>(rng() % want->size());
        const ssize_t n = pread(fd, buf.data(), length, offset);
        const size_t expect = std::min<size_t>(length, want->size() - static_cast<size_t>(offset));
        ASSERT_EQ(n, static_cast<ssize_t>(expect)) << name << " " << cache << " at " << offset;
        ASSERT_EQ(std::memcmp(buf.data(), want->data() + offset, expect), 0)
            << name << " " << cache << " at " << offset << " length " << length;
      }
      close(fd);
    }
  }
}

TEST_F(FuseTest, ReadOnlyStatfsAndXattrs) {
  make_rich_tree(dir_ / "src");
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt");
  ASSERT_TRUE(m.mounted());
  const std::string mnt = dir_ / "mnt";
  EXPECT_EQ(open((mnt + "/dir/file").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(open((mnt + "/new").c_str(), O_WRONLY | O_CREAT, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(mkdir((mnt + "/newdir").c_str(), 0755), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(unlink((mnt + "/empty").c_str()), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(chmod((mnt + "/empty").c_str(), 0600), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(setxattr((mnt + "/empty").c_str(), "user.x", "1", 1, 0), -1);
  EXPECT_EQ(errno, EROFS);
  char value[16] = {};
  EXPECT_EQ(getxattr((mnt + "/").c_str(), "user.root", value, sizeof(value)), 1);
  EXPECT_EQ(value[0], 'r');
  EXPECT_EQ(getxattr((mnt + "/empty").c_str(), "user.none", value, sizeof(value)), -1);
  EXPECT_EQ(errno, ENODATA);
  struct statvfs v;
  ASSERT_EQ(statvfs(mnt.c_str(), &v), 0);
  EXPECT_TRUE(v.f_flag & ST_RDONLY);
  EXPECT_EQ(v.f_namemax, 255u);
  auto image = posix::MountedImage::open(dir_ / "img");
  bakefs_fsstat st;
  ASSERT_EQ(image.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(v.f_files, st.inode_count);
  EXPECT_EQ(v.f_bsize, st.block_size);
  EXPECT_GE(v.f_blocks * v.f_frsize, st.image_size);
  // Hard links share st_ino.
  struct stat a, b;
  ASSERT_EQ(stat((mnt + "/linked").c_str(), &a), 0);
  ASSERT_EQ(stat((mnt + "/dir/linked2").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
}

TEST_F(FuseTest, PermissionsAreEnforced) {
  if (!is_root()) GTEST_SKIP() << "needs root to mount with allow_other and switch users";
  make_dir(dir_ / "src");
  write_file(dir_ / "src/secret", "root only", 0600);
  write_file(dir_ / "src/public", "anyone", 0644);
  make_image(dir_ / "src", dir_ / "img");
  FuseMount m(dir_ / "img", dir_ / "mnt", {"-o", "allow_other"});
  ASSERT_TRUE(m.mounted());
  chmod(dir_.path().c_str(), 0755);
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    int denied = open((dir_ / "mnt/secret").c_str(), O_RDONLY) < 0 && errno == EACCES;
    int allowed = open((dir_ / "mnt/public").c_str(), O_RDONLY) >= 0;
    _exit(denied && allowed ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "default_permissions must apply modes and owners";
}

TEST_F(FuseTest, UnmountsCleanlyOnSignalsAndFusermount) {
  make_dir(dir_ / "src");
  write_file(dir_ / "src/f", "x");
  make_image(dir_ / "src", dir_ / "img");
  for (int signal : {SIGTERM, SIGINT}) {
    FuseMount m(dir_ / "img", dir_ / "mnt");
    ASSERT_TRUE(m.mounted());
    EXPECT_EQ(m.stop(signal), 0) << "signal " << signal;
    EXPECT_FALSE(is_mounted(dir_ / "mnt"));
  }
  FuseMount m(dir_ / "img", dir_ / "mnt");
  ASSERT_TRUE(m.mounted());
  EXPECT_EQ(shell("fusermount3 -u " + dir_ / "mnt"), 0);
  EXPECT_EQ(m.wait_exit(), 0);
  EXPECT_FALSE(is_mounted(dir_ / "mnt"));
}

}  // namespace
}  // namespace bakefs::test
