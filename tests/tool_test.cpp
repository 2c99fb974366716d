// The bakefs command: ls, cat, stat, info, verify, extract (hostile images too), and images
// found inside programs.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace bakefs::test {
namespace {

struct Output {
  int status;
  std::string out;  // standard output
  std::string err;  // standard error
};

Output bakefs(const std::string& args) {
  TempDir tmp;
  std::string command = BAKEFS_PATH " " + args + " >" + tmp / "out" + " 2>" + tmp / "err";
  int status = std::system(command.c_str());
  auto text = [](const std::string& path) {
    auto bytes = read_bytes(path);
    return std::string(bytes.begin(), bytes.end());
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text(tmp / "out"), text(tmp / "err")};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ToolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    make_rich_tree(*dir_ / "src");
    make_image(*dir_ / "src", *dir_ / "img");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string image() { return *dir_ / "img"; }
  static TempDir* dir_;
};
TempDir* ToolTest::dir_ = nullptr;

TEST_F(ToolTest, LsListsNamesAndLongFormat) {
  Output o = bakefs("ls " + image());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "linked3\n"));
  o = bakefs("ls -l " + image() + " /dir");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "-rw-r----- ")) << o.out;
  EXPECT_TRUE(contains(o.out, " file\n")) << o.out;
  o = bakefs("ls -l " + image() + " relative");
  EXPECT_TRUE(contains(o.out, "relative -> dir/file")) << o.out;
  o = bakefs("ls -lR " + image());
  ASSERT_EQ(o.status, 0);
  EXPECT_TRUE(contains(o.out, "/sizes:\n")) << o.out;
  EXPECT_TRUE(contains(o.out, "-rwsr-xr-x")) << o.out;
  o = bakefs("ls " + image() + " /no/such");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, image()) && contains(o.err, "/no/such") && contains(o.err, "no such"))
      << o.err;
}

TEST_F(ToolTest, CatWritesTheExactBytes) {
  Output o = bakefs("cat " + image() + " sizes/random_131073");
  ASSERT_EQ(o.status, 0);
  auto want = read_bytes(*dir_ / "src/sizes/random_131073");
  EXPECT_TRUE(std::string(want.begin(), want.end()) == o.out);
  EXPECT_EQ(bakefs("cat " + image() + " dir").status, 1) << "a directory";
}

TEST_F(ToolTest, StatShowsEveryAttribute) {
  Output o = bakefs("stat " + image() + " /dir/file");
  ASSERT_EQ(o.status, 0);
  EXPECT_TRUE(contains(o.out, "Size: 8")) << o.out;
  EXPECT_TRUE(contains(o.out, "(0640/-rw-r-----)")) << o.out;
  EXPECT_TRUE(contains(o.out, "2023-11-14 22:13:20.123456789 UTC")) << o.out;
  EXPECT_TRUE(contains(o.out, "Xattr: user.empty")) << o.out;
  if (is_root()) {
    EXPECT_TRUE(contains(o.out, "Uid: 1234\tGid: 5678")) << o.out;
  }
}

TEST_F(ToolTest, InfoCountsWhatIsInside) {
  Output o = bakefs("info --json " + image());
  ASSERT_EQ(o.status, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["version"], "1.1");
  EXPECT_EQ(j["symlinks"], 4);
  EXPECT_EQ(j["directories"], 5);
  EXPECT_EQ(j["sockets"], 1);
  EXPECT_EQ(j["fifos"], 1);
  EXPECT_EQ(j["extra_hard_links"], 3);
  EXPECT_GT(j["dedup_saved_bytes"].get<uint64_t>(), 399000u) << "copy_of_text_400000";
  EXPECT_LT(j["compression_ratio"].get<double>(), 1.0);
  Output text = bakefs("info " + image());
  EXPECT_TRUE(contains(text.out, "block_size:")) << text.out;
}

TEST_F(ToolTest, VerifyPassesASoundImageAndNamesDamage) {
  Output o = bakefs("verify " + image());
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "sound")) << o.out;
  // Damage the first stored block: the checksum and the path of the file are named.
  auto bytes = read_bytes(image());
  bytes[format::kSuperblockSize + 5] ^= 0x10;
  write_bytes(*dir_ / "damaged.img", bytes);
  o = bakefs("verify " + *dir_ / "damaged.img");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "block 0: checksum mismatch")) << o.err;
  EXPECT_TRUE(contains(o.err, "DAMAGED")) << o.err;
  EXPECT_TRUE(contains(o.err, ": /")) << "a path is named: " << o.err;
  o = bakefs("ls " + *dir_ / "nothing");
  EXPECT_EQ(o.status, 1);
  write_file(*dir_ / "text", "not an image at all, just some text that is long enough");
  o = bakefs("verify " + *dir_ / "text");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "not a bakefs image")) << o.err;
}

TEST_F(ToolTest, ExtractRestoresTheTree) {
  TempDir out;
  Output o = bakefs("extract " + image() + " " + out / "dest");
  ASSERT_EQ(o.status, 0) << o.err;
  expect_same_host_trees(*dir_ / "src", out / "dest", is_root());
  // A single file, and a subtree.
  ASSERT_EQ(bakefs("extract " + image() + " " + out / "one /dir/file").status, 0);
  EXPECT_EQ(read_bytes(out / "one/file"), read_bytes(*dir_ / "src/dir/file"));
  ASSERT_EQ(bakefs("extract " + image() + " " + out / "sub /sizes").status, 0);
  expect_same_host_trees(*dir_ / "src/sizes", out / "sub", is_root());
  // Extracting over an existing tree stops at the first existing file.
  o = bakefs("extract " + image() + " " + out / "dest");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "exists")) << o.err;
}

// Builds a small image and forges names in it with valid checksums, as an attacker could.
class HostileTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> image_with(const std::function<void(const std::string&)>& make) {
    make_dir(dir_ / "src");
    make(dir_ / "src");
    // The same bytes in every run (times pinned), so that the names patch_metadata looks for
    // are there exactly once: a time or a temporary path holding "ab" made it flaky.
    EXPECT_EQ(run_command("find " + dir_ / "src" + " -exec touch -h -d @1000000000 {} +").status, 0);
    make_image(dir_ / "src", dir_ / "img");
    return read_bytes(dir_ / "img");
  }
  // Extracts into a fresh destination next to an "outside" directory that must stay empty.
  Output extract(const std::vector<uint8_t>& bytes) {
    write_bytes(dir_ / "hostile.img", bytes);
    make_dir(dir_ / "outside");
    return bakefs("extract " + dir_ / "hostile.img" + " " + dir_ / "dest");
  }
  void expect_nothing_outside() {
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "outside")) << "written outside DEST";
  }
  TempDir dir_;
};

TEST_F(HostileTest, DotDotNameStops) {
  auto bytes = image_with([](const std::string& src) { write_file(src + "/xx", "escape"); });
  patch_metadata(bytes, "xx", "..");
  Output o = extract(bytes);
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "unsafe or corrupt name")) << o.err;
  expect_nothing_outside();
}

TEST_F(HostileTest, SlashInANameStops) {
  auto bytes =
      image_with([](const std::string& src) { write_file(src + "/outsideXpwned", "escape"); });
  patch_metadata(bytes, "outsideXpwned", "../outside/xx");
  Output o = extract(bytes);
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "unsafe or corrupt name")) << o.err;
  expect_nothing_outside();
}

TEST_F(HostileTest, SymlinkThenFileOfTheSamePathStops) {
  // "a" is a symlink to the outside directory, then a directory "b" renamed to "a" holding a
  // file: an extractor that follows the symlink would write outside/pwned.
  auto bytes = image_with([&](const std::string& src) {
    ASSERT_EQ(symlink("../outside", (src + "/a").c_str()), 0);  // from DEST: dir_/outside
    make_dir(src + "/b");
    write_file(src + "/b/pwned", "escape");
  });
  // Directory entries of the root: names "a", "b" are 1 byte each; patch the name area "ab".
  patch_metadata(bytes, "ab", "aa");
  Output o = extract(bytes);
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "unsafe or corrupt name") && contains(o.err, "after \"a\"")) << o.err;
  expect_nothing_outside();
}

TEST_F(HostileTest, ExistingSymlinkInDestinationIsNotFollowed) {
  auto bytes = image_with([](const std::string& src) {
    make_dir(src + "/etc");
    write_file(src + "/etc/passwd", "root::0:0::/:/bin/sh\n");
  });
  make_dir(dir_ / "dest");
  make_dir(dir_ / "outside");
  ASSERT_EQ(symlink((dir_ / "outside").c_str(), (dir_ / "dest/etc").c_str()), 0);
  Output o = extract(bytes);
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "/etc") || contains(o.err, "etc:")) << o.err;
  expect_nothing_outside();
}

TEST_F(HostileTest, AbsoluteSymlinksAreStoredNotFollowed) {
  auto bytes = image_with([&](const std::string& src) {
    ASSERT_EQ(symlink((dir_ / "outside/file").c_str(), (src + "/link").c_str()), 0);
  });
  Output o = extract(bytes);
  EXPECT_EQ(o.status, 0) << o.err;
  char target[4096];
  ssize_t n = readlink((dir_ / "dest/link").c_str(), target, sizeof(target));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(target, static_cast<size_t>(n)), dir_ / "outside/file");
  expect_nothing_outside();
}

TEST(ToolEmbedded, FindsAnImageInsideAProgram) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/hello", "hello from inside a program\n");
  make_image(dir / "src", dir / "img");
  // An ELF object holding the image as data, the way a linker embeds a blob.
  std::string command = "cd " + dir.path() + " && objcopy -I binary -O elf64-x86-64 img blob.o";
  ASSERT_EQ(std::system(command.c_str()), 0);
  Output o = bakefs("cat " + dir / "blob.o" + " /hello");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "hello from inside a program\n");
  write_file(dir / "empty.c", "int main(void) { return 0; }\n");
  ASSERT_EQ(std::system(("cc -o " + dir / "prog" + " " + dir / "empty.c").c_str()), 0);
  o = bakefs("ls " + dir / "prog");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "no bakefs image")) << o.err;

  // A stripped program with the image in the section of bakefs/embed.h, and another image
  // placed before it in .rodata: the section wins; without the section, the magic finds one.
  make_dir(dir / "decoy");
  write_file(dir / "decoy/hello", "decoy\n");
  make_image(dir / "decoy", dir / "decoy.img");
  command = "cd " + dir.path() +
            " && objcopy -I binary -O elf64-x86-64 --rename-section "
            ".data=.rodata,alloc,load,readonly,data,contents decoy.img decoy.o"
            " && objcopy -I binary -O elf64-x86-64 --rename-section "
            ".data=bakefs_image,alloc,load,readonly,data,contents img image.o"
            " && cc -o app empty.c decoy.o image.o 2>/dev/null && strip app"
            " && objcopy --remove-section bakefs_image app app-without-section";
  ASSERT_EQ(std::system(command.c_str()), 0);
  o = bakefs("cat " + dir / "app" + " /hello");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "hello from inside a program\n");
  o = bakefs("cat " + dir / "app-without-section" + " /hello");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "decoy\n");
}

}  // namespace
}  // namespace bakefs::test
