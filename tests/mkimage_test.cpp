// mkimage as users run it: deterministic output, exit codes, messages, and no partial images.
// SPDX-License-Identifier: BSD-2-Clause
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bakefs/format.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "test_support.h"

namespace bakefs::test {
namespace {

CommandResult run(const std::string& args, const std::string& env = "") {
  return run_command(env + " " MKIMAGE_PATH " " + args);
}

// A tree with a bit of everything, built in the order given, with all times fixed.
void make_tree(const std::string& root, bool reverse) {
  make_dir(root);
  std::vector<int> order;
  for (int i = 0; i < 60; ++i) order.push_back(i);
  if (reverse) std::reverse(order.begin(), order.end());
  for (int d : {0, 1, 2}) make_dir(root + "/d" + std::to_string(reverse ? 2 - d : d));
  for (int i : order) {
    std::string dir = root + "/d" + std::to_string(i % 3);
    size_t size = static_cast<size_t>(i) * 7919 % 300000;
    write_file(dir + "/f" + std::to_string(i), i % 2
                                                   ? text_bytes(size, static_cast<uint64_t>(i))
                                                   : random_bytes(size, static_cast<uint64_t>(i)));
    set_mtime(dir + "/f" + std::to_string(i), 1700000000 + i, static_cast<uint32_t>(i));
  }
  ::link((root + "/d0/f0").c_str(), (root + "/d1/hard").c_str());
  ::symlink("../d0/f3", (root + "/d2/sym").c_str());
  set_mtime(root + "/d2/sym", 1600000000, 0);
  for (int d : {0, 1, 2}) set_mtime(root + "/d" + std::to_string(d), 1650000000 + d, 1);
  set_mtime(root, 1650000000, 0);
}

TEST(Determinism, SameBytesForAnyThreadCount) {
  TempDir dir;
  make_tree(dir / "src", false);
  std::vector<uint8_t> first;
  for (unsigned threads : {1u, 2u, 4u, 7u}) {
    build::Options options;
    options.threads = threads;
    options.level = 5;
    options.block_log = 14;
    make_image(dir / "src", dir / "img", options);
    std::vector<uint8_t> bytes = read_bytes(dir / "img");
    if (first.empty()) {
      first = bytes;
    } else {
      EXPECT_TRUE(bytes == first) << threads << " threads gave other bytes";
    }
  }
}

TEST(Determinism, SameBytesWhateverTheCreationOrder) {
  TempDir dir;
  make_tree(dir / "a", false);
  make_tree(dir / "b", true);
  ASSERT_EQ(run("-j1 " + dir / "a" + " -o " + dir / "a.img").status, 0);
  ASSERT_EQ(run("-j2 " + dir / "b" + " -o " + dir / "b.img").status, 0);
  EXPECT_TRUE(read_bytes(dir / "a.img") == read_bytes(dir / "b.img"));
}

TEST(Mkimage, BuildTimeIsTheNewestMtimeOrSourceDateEpoch) {
  TempDir dir;
  make_tree(dir / "src", false);
  ASSERT_EQ(run(dir / "src" + " -o " + dir / "img").status, 0);
  auto m = posix::MountedImage::open(dir / "img");
  bakefs_fsstat st;
  ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(st.build_time_sec, 1700000000 + 59);
  ASSERT_EQ(run(dir / "src" + " -o " + dir / "img2", "SOURCE_DATE_EPOCH=1234567890").status, 0);
  auto m2 = posix::MountedImage::open(dir / "img2");
  ASSERT_EQ(m2.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(st.build_time_sec, 1234567890);
}

TEST(Mkimage, UsageErrorsExitWithTwo) {
  TempDir dir;
  make_dir(dir / "src");
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run(dir / "src").status, 2) << "no output given";
  CommandResult r = run(dir / "src" + " -o " + dir / "img -b 3000");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("block size"), std::string::npos) << r.output;
  EXPECT_EQ(run(dir / "src" + " -o " + dir / "img -l 30").status, 2);
  CommandResult help = run("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--block-size"), std::string::npos);
}

TEST(Mkimage, FailuresNameThePathAndLeaveNothingBehind) {
  TempDir dir;
  CommandResult r = run(dir / "missing" + " -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(dir / "missing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No such file"), std::string::npos) << r.output;
  make_dir(dir / "src");
  r = run(dir / "src" + " -o " + dir / "nodir/img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(dir / "nodir/img"), std::string::npos) << r.output;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
        << "temporary file left: " << entry.path();
  }
}

// A chain of `levels` directories "a" beneath `root`, made and removed through descriptors:
// its paths are longer than PATH_MAX.
class DeepDirectory {
 public:
  DeepDirectory(const std::string& root, size_t levels) : root_(root) {
    int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < levels && dir >= 0; ++i) {
      fds_.push_back(dir);
      if (mkdirat(dir, "a", 0755) != 0) break;
      dir = openat(dir, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (dir >= 0) fds_.push_back(dir);
  }
  ~DeepDirectory() {
    for (size_t i = fds_.size(); i-- > 0;) {
      if (i + 1 < fds_.size()) unlinkat(fds_[i], "a", AT_REMOVEDIR);
      ::close(fds_[i]);
    }
  }
  size_t levels() const { return fds_.empty() ? 0 : fds_.size() - 1; }

 private:
  std::string root_;
  std::vector<int> fds_;
};

TEST(Mkimage, DirectorySourcesDeeperThanTheBoundAreRefused) {
  TempDir dir;
  make_dir(dir / "deepest");
  make_dir(dir / "deeper");
  {
    DeepDirectory chain(dir / "deepest", build::kMaxTreeDepth);
    ASSERT_EQ(chain.levels(), build::kMaxTreeDepth);
    build::Tree tree = build::scan_directory(dir / "deepest");
    size_t depth = 0;
    for (const build::Inode* n = tree.root.get(); !n->children.empty();) {
      n = n->children.begin()->second.get();
      ++depth;
    }
    EXPECT_EQ(depth, build::kMaxTreeDepth);
  }
  DeepDirectory chain(dir / "deeper", build::kMaxTreeDepth + 1);
  ASSERT_EQ(chain.levels(), build::kMaxTreeDepth + 1);
  try {
    build::scan_directory(dir / "deeper");
    FAIL() << "no error";
  } catch (const build::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/a/a: nested more than 2048 directories deep"),
              std::string::npos)
        << e.what();
  }
}

TEST(Mkimage, ReplacesAnExistingImageAtomically) {
  TempDir dir;
  make_tree(dir / "src", false);
  write_file(dir / "img", "old contents");
  ASSERT_EQ(run(dir / "src" + " -o " + dir / "img").status, 0);
  auto m = posix::MountedImage::open(dir / "img");
  expect_same_tree(dir / "src", m.fs);
}

TEST(Mkimage, AFullDiskIsAClearErrorWithoutAPartialFile) {
  if (!is_root()) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  make_dir(dir / "small");
  if (mount("tmpfs", (dir / "small").c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount tmpfs here";
  }
  make_dir(dir / "src");
  write_file(dir / "src/big", random_bytes(2 << 20, 1));
  CommandResult r = run(dir / "src" + " -o " + dir / "small/img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("No space left"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::is_empty(dir / "small")) << "partial output left behind";
  umount2((dir / "small").c_str(), MNT_DETACH);
}

// Many small files of the same kind in small blocks (4 KiB): what a trained dictionary is for,
// since each block alone has little context to learn from.
void make_small_texts(const std::string& root, int count) {
  make_dir(root);
  make_dir(root + "/notes");
  for (int i = 0; i < count; ++i) {
    std::string path = root + "/notes/n" + std::to_string(i) + ".txt";
    write_file(path,
               text_bytes(500 + static_cast<size_t>(i) * 13 % 2500, static_cast<uint64_t>(i)));
    set_mtime(path, 1700000000, 0);
  }
  set_mtime(root + "/notes", 1700000000, 0);
  set_mtime(root, 1700000000, 0);
}

TEST(Dictionary, SmallFilesShrinkAndReadBackTheSame) {
  TempDir dir;
  make_small_texts(dir / "src", 1500);
  build::Options options;
  options.block_log = 12;
  build::Stats with = make_image(dir / "src", dir / "dict.img", options);
  options.dictionary_size = 0;
  build::Stats without = make_image(dir / "src", dir / "plain.img", options);
  ASSERT_GT(with.dictionary_bytes, 0u);
  EXPECT_EQ(without.dictionary_bytes, 0u);
  EXPECT_LT(with.image_bytes, without.image_bytes) << "the dictionary pays for itself";
  auto m = posix::MountedImage::open(dir / "dict.img");
  bakefs_fsstat st;
  ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
  EXPECT_NE(st.feature_incompat & format::kIncompatDictionary, 0u);
  expect_same_tree(dir / "src", m.fs);
  // Threads do not change the bytes, dictionary or not.
  options.dictionary_size = 112 * 1024;
  options.threads = 1;
  make_image(dir / "src", dir / "j1.img", options);
  options.threads = 3;
  make_image(dir / "src", dir / "j3.img", options);
  EXPECT_TRUE(read_bytes(dir / "j1.img") == read_bytes(dir / "j3.img"));
  EXPECT_TRUE(read_bytes(dir / "j1.img") == read_bytes(dir / "dict.img"));
}

TEST(Dictionary, LeftOutWhenThereIsLittleToLearn) {
  TempDir dir;
  make_small_texts(dir / "src", 10);
  build::Stats stats = make_image(dir / "src", dir / "img");
  EXPECT_EQ(stats.dictionary_bytes, 0u);
  auto m = posix::MountedImage::open(dir / "img");
  bakefs_fsstat st;
  ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(st.feature_incompat & format::kIncompatDictionary, 0u);
}

TEST(Dictionary, AWrongDictionaryIsAnError) {
  TempDir dir;
  make_small_texts(dir / "src", 1500);
  build::Options options;
  options.block_log = 12;
  make_image(dir / "src", dir / "img", options);
  std::vector<uint8_t> image = read_bytes(dir / "img");
  format::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  ASSERT_NE(sb.dictionary.size.load(), 0u);
  // Without the feature bit the extent is corrupt; without the dictionary the frames are.
  std::vector<uint8_t> no_bit = image;
  patch_le(no_bit, offsetof(format::Superblock, feature_incompat), format::kIncompatZstd, 4);
  FileSystem fs;
  EXPECT_EQ(fs.mount(no_bit.data(), no_bit.size(), posix::platform()), BAKEFS_ECORRUPT);
  // A dictionary whose bytes changed: its checksum fails at mount.
  std::vector<uint8_t> damaged = image;
  damaged[sb.dictionary.offset.load() + 100] ^= 1;
  EXPECT_EQ(fs.mount(damaged.data(), damaged.size(), posix::platform()), BAKEFS_ECHECKSUM);
  // No dictionary at all (extent and bit gone, checksums resealed): the frames that name it
  // fail to decode, as errors.
  std::vector<uint8_t> none = no_bit;
  patch_le(none, offsetof(format::Superblock, dictionary), 0, 16);
  ASSERT_EQ(fs.mount(none.data(), none.size(), posix::platform()), BAKEFS_OK);
  bakefs_ino ino = 0;
  ASSERT_EQ(fs.resolve("notes/n1.txt", ino), BAKEFS_OK);
  std::string content;
  EXPECT_EQ(fs.read_all(ino, content), BAKEFS_ECORRUPT);
}

TEST(Mkimage, EmitsALinkableObjectAndAssembly) {
  TempDir dir;
  make_tree(dir / "src", false);
  CommandResult r = run(dir / "src" + " -o " + dir / "img --emit-object " + dir / "img.o" +
                        " --emit-asm " + dir / "img.S");
  ASSERT_EQ(r.status, 0) << r.output;
  write_file(dir / "main.c",
             "#include <stdio.h>\n"
             "extern const unsigned char __start_bakefs_image[] __attribute__((weak));\n"
             "extern const unsigned char __stop_bakefs_image[] __attribute__((weak));\n"
             "int main(int argc, char **argv) {\n"
             "  FILE *f = fopen(argv[1], \"wb\");\n"
             "  fwrite(__start_bakefs_image, 1, __stop_bakefs_image - __start_bakefs_image, f);\n"
             "  return fclose(f);\n"
             "}\n");
  for (const char* blob : {"img.o", "img.S"}) {
    std::string command = "cd " + dir.path() + " && cc -o prog main.c " + blob + " && ./prog out";
    ASSERT_EQ(std::system(command.c_str()), 0) << blob;
    EXPECT_TRUE(read_bytes(dir / "out") == read_bytes(dir / "img")) << blob;
  }
  EXPECT_EQ(
      run(dir / "src" + " -o " + dir / "img2 --emit-object " + dir / "x.o --target vax").status, 1);
}

}  // namespace
}  // namespace bakefs::test
