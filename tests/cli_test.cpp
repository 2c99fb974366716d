// The command line where a new user stumbles: symlinks followed inside the image (never out of
// it), names escaped, unknown commands named, things that are not images or not outputs
// refused at once with what they are, mount points that hold a mount, and the help text.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "fuse_mount.h"
#include "sources/layers.h"
#include "test_support.h"
#include "writer/build.h"

namespace bakefs::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every command is time-bounded: a FIFO or a stray read of standard input must not hang the
// suite (timeout exits 124).
CommandResult bakefs(const std::string& args) {
  return run_command("timeout 20 " BAKEFS_PATH " " + args + " </dev/null");
}
CommandResult mkimage(const std::string& args) {
  return run_command("timeout 60 " MKIMAGE_PATH " " + args + " </dev/null");
}

std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One image with symlinks of every kind, a name with control bytes, and a loop.
class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string src = *dir_ / "src";
    make_dir(src);
    make_dir(src + "/dir");
    make_dir(src + "/dir/sub");
    write_file(src + "/dir/file", "content\n");
    write_file(src + "/bad\n\033name", "x");
    auto link = [&](const std::string& target, const std::string& name) {
      ASSERT_EQ(symlink(target.c_str(), (src + "/" + name).c_str()), 0) << name;
    };
    link("dir/file", "link");                 // to a file
    link("dir", "dlink");                     // to a directory
    link("../../../../dir/file", "dir/sub/up");  // climbs past the root: clamped there
    link("/dir/file", "dir/abs");             // absolute: from the image's root
    link("/etc/passwd", "escape");            // absolute, not in the image: never the host's
    link("loop2", "loop1");
    link("loop1", "loop2");
    link("dangling", "broken");
    make_image(src, image());
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string image() { return *dir_ / "img"; }
  static TempDir* dir_;
};
TempDir* Cli::dir_ = nullptr;

TEST_F(Cli, CatFollowsSymlinksInsideTheImage) {
  for (const char* path : {"/link", "dlink/file", "/dlink/../dlink/file", "dir/sub/up",
                           "dir/abs", "/dir/./sub/../file"}) {
    auto r = bakefs("cat " + image() + " " + path);
    EXPECT_EQ(r.status, 0) << path << ": " << r.output;
    EXPECT_EQ(r.output, "content\n") << path;
  }
}

TEST_F(Cli, ResolutionNeverLeavesTheImage) {
  auto r = bakefs("cat " + image() + " /escape");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/escape") && contains(r.output, "no such")) << r.output;
  EXPECT_FALSE(contains(r.output, "root:")) << "read the host's /etc/passwd";
  r = bakefs("cat " + image() + " ../../../../etc/passwd");
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(contains(r.output, "root:")) << r.output;
}

TEST_F(Cli, LoopsAndBadPathsAreNamed) {
  auto r = bakefs("cat " + image() + " /loop1");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/loop1: too many levels of symbolic links")) << r.output;
  r = bakefs("stat " + image() + " /broken");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/broken") && contains(r.output, "no such")) << r.output;
  r = bakefs("cat " + image() + " /dir/file/");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "not a directory")) << r.output;
}

TEST_F(Cli, NoFollowKeepsTheLinkItself) {
  auto r = bakefs("cat --no-follow " + image() + " /link");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "a symbolic link (to dir/file)")) << r.output;
  r = bakefs("cat --no-follow " + image() + " dlink/file");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "not a directory")) << r.output;
  r = bakefs("stat --no-follow " + image() + " /link");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "File: /link -> dir/file\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "/lrwxrwxrwx)")) << r.output;
  EXPECT_FALSE(contains(r.output, "At:")) << r.output;
}

TEST_F(Cli, StatSaysWhereResolutionEnded) {
  auto r = bakefs("stat " + image() + " /link");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "File: /link\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "At: /dir/file\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "(0644/-rw-r--r--)")) << r.output;
}

TEST_F(Cli, LsTreatsALastSymlinkAsLsDoes) {
  // Without -l the directory behind the link is listed; with -l the link itself is shown, and
  // a trailing '/' lists the directory again.
  auto r = bakefs("ls " + image() + " dlink");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "abs\nfile\nsub\n");
  r = bakefs("ls -l " + image() + " dlink");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "dlink -> dir")) << r.output;
  r = bakefs("ls -l " + image() + " dlink/");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, " file\n")) << r.output;
  r = bakefs("ls --no-follow " + image() + " dlink");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "dlink\n");
}

TEST_F(Cli, ExtractOfAPathThroughASymlink) {
  TempDir out;
  auto r = bakefs("extract " + image() + " " + out / "x" + " dlink");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(text_of(out / "x/file"), "content\n");
  r = bakefs("extract --no-follow " + image() + " " + out / "y" + " dlink/file");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "not a directory")) << r.output;
}

TEST_F(Cli, ControlBytesInNamesAreEscapedUnlessRaw) {
  auto r = bakefs("ls " + image());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "bad\\n\\033name\n")) << r.output;
  EXPECT_FALSE(contains(r.output, "\033")) << "a raw escape byte reached the terminal";
  r = bakefs("ls --raw " + image());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "bad\n\033name\n")) << r.output;
  r = bakefs("ls -lR " + image());
  EXPECT_FALSE(contains(r.output, "\033")) << r.output;
  // In errors too: the path as given, escaped.
  r = bakefs("cat " + image() + " \"$(printf '/no\\nsuch\\033')\"");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/no\\nsuch\\033")) << r.output;
}

TEST_F(Cli, MkimageEscapesNamesInItsErrors) {
  TempDir out;
  auto r = mkimage(*dir_ / "src" + " --remove \"$(printf '/no\\nsuch\\033')\" -o " + out / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/no\\nsuch\\033")) << r.output;
  EXPECT_FALSE(contains(r.output, "\033")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out / "img"));
}

TEST(CliCommands, UnknownOrMissingCommandIsNamed) {
  auto r = bakefs("frob x");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "unknown command 'frob'")) << r.output;
  for (const char* command : {"ls", "cat", "stat", "info", "config", "verify", "extract", "mount"})
    EXPECT_TRUE(contains(r.output, command)) << r.output;
  r = bakefs("");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "a command is needed: ls, cat")) << r.output;
}

TEST(CliImages, WhatIsNotAnImageIsNamedAndNothingBlocks) {
  TempDir dir;
  make_dir(dir / "adir");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  make_dir(dir / "mnt");
  const std::vector<std::string> commands = {
      "ls %", "cat % /f", "stat % /f", "info %", "config %", "verify %",
      "extract % " + dir / "out", "mount % " + dir / "mnt"};
  for (const auto& [name, kind] : {std::pair{"adir", "is a directory, not an image"},
                                   std::pair{"fifo", "is a FIFO, not an image"},
                                   std::pair{"/dev/null", "is a character device, not an image"}}) {
    const std::string path = name[0] == '/' ? name : dir / name;
    for (std::string command : commands) {
      command.replace(command.find('%'), 1, path);
      auto r = bakefs(command);
      EXPECT_EQ(r.status, 1) << command << ": " << r.output;  // 124 would be a hang
      EXPECT_TRUE(contains(r.output, path + ": " + kind)) << command << ": " << r.output;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out")) << "extract made its destination";
}

TEST(CliImages, ATruncatedImageSaysSoWithBothLengths) {
  TempDir dir;
  make_rich_tree(dir / "src");
  make_image(dir / "src", dir / "img");
  auto bytes = read_bytes(dir / "img");
  const size_t full = bytes.size();
  bytes.resize(full / 2);
  write_bytes(dir / "half", bytes);
  auto r = bakefs("ls " + dir / "half");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "image is truncated: its superblock gives " +
                                     std::to_string(full) + " bytes, " +
                                     std::to_string(full / 2) + " are there"))
      << r.output;
  bytes.resize(100);
  write_bytes(dir / "stub", bytes);
  r = bakefs("verify " + dir / "stub");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "image is truncated: 100 bytes, less than its superblock's"))
      << r.output;
}

TEST(CliMount, AMountPointThatHoldsAMountIsRefusedUnlessOver) {
  if (!fuse_available()) GTEST_SKIP() << "/dev/fuse is missing";
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/first", "1");
  make_image(dir / "src", dir / "one");
  write_file(dir / "src/second", "2");
  make_image(dir / "src", dir / "two");
  make_dir(dir / "mnt");
  FuseMount first(BAKEFS_PATH, dir / "one", dir / "mnt");
  ASSERT_TRUE(first.mounted());
  auto r = bakefs("mount " + dir / "two" + " " + dir / "mnt");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "something is mounted there already")) << r.output;
  EXPECT_TRUE(contains(r.output, "--over")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "mnt/second")) << "a second mount was stacked";
  {
    FuseMount second(BAKEFS_PATH, dir / "two", dir / "mnt", {"--over"});
    // The mount point was a mount already, so wait for the second one to show.
    for (int i = 0; i < 200 && !std::filesystem::exists(dir / "mnt/second"); ++i) usleep(50000);
    EXPECT_TRUE(std::filesystem::exists(dir / "mnt/second")) << "--over did not mount on top";
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "mnt/first"));
  EXPECT_FALSE(std::filesystem::exists(dir / "mnt/second"));
  r = bakefs("mount " + dir / "two" + " " + dir / "src/first");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "not a directory")) << r.output;
}

// -o is split by libfuse's option parser: cache= is ours, the rest goes to FUSE, "\\," is a
// comma inside an option.
TEST(CliMount, OptionsAreSplitAsLibfuseDoes) {
  if (!fuse_available()) GTEST_SKIP() << "/dev/fuse is missing";
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/f", "1");
  make_image(dir / "src", dir / "img");
  make_dir(dir / "mnt");
  auto r = bakefs("mount -o cache=1X " + dir / "img " + dir / "mnt");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "bad -o options")) << r.output;
  FuseMount m(BAKEFS_PATH, dir / "img", dir / "mnt",
              {"-o", "cache=2M,noatime", "-o", "fsname=one\\,two"});
  ASSERT_TRUE(m.mounted());
  const std::string mounts = text_of("/proc/self/mounts");
  EXPECT_TRUE(contains(mounts, "one,two " + dir / "mnt" + " fuse.bakefs ro,")) << mounts;
  EXPECT_TRUE(contains(mounts, "noatime")) << mounts;
}

// The output path is checked before any source is read: the source named here does not exist,
// and the error is about the output.
class CliOutput : public ::testing::Test {
 protected:
  void SetUp() override { make_dir(dir_ / "src"); }
  CommandResult build_to(const std::string& output, const std::string& prefix = "") {
    return run_command(prefix + "timeout 60 " MKIMAGE_PATH " " + dir_ / "missing-source" +
                       " -o " + output + " </dev/null");
  }
  TempDir dir_;
};

TEST_F(CliOutput, AnExistingDirectoryIsRefusedAtOnce) {
  auto r = build_to(dir_ / "src");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "-o " + dir_ / "src" + ": is a directory; give the file to write"))
      << r.output;
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "src")) << "something was written into it";
  r = build_to(dir_ / "newdir/");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "names a directory")) << r.output;
}

TEST_F(CliOutput, AMissingOrUnwritableDirectoryIsRefusedAtOnce) {
  auto r = build_to(dir_ / "no/such/img");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "its directory " + dir_ / "no/such" + " cannot be used"))
      << r.output;
  write_file(dir_ / "plain", "x");
  r = build_to(dir_ / "plain/img");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "is not a directory")) << r.output;
  // Read-only for the user who runs it (root writes anywhere, so run as nobody).
  auto prefix = unprivileged_prefix();
  if (!prefix) GTEST_SKIP() << "root without setpriv";
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  make_dir(dir_ / "ro", 0555);
  r = build_to(dir_ / "ro/img", *prefix);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "its directory " + dir_ / "ro" + " is not writable")) << r.output;
}

TEST_F(CliOutput, DevicesFifosAndSymlinksAreNeverReplaced) {
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  ASSERT_EQ(symlink("elsewhere", (dir_ / "link").c_str()), 0);
  std::vector<std::pair<std::string, std::string>> cases = {
      {dir_ / "fifo", "is a FIFO"}, {dir_ / "link", "is a symbolic link"}};
  if (is_root()) {
    ASSERT_EQ(mknod((dir_ / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    cases.emplace_back(dir_ / "null", "is a character device");
  }
  for (const auto& [path, kind] : cases) {
    auto r = build_to(path);
    EXPECT_EQ(r.status, 1) << path << ": " << r.output;
    EXPECT_TRUE(contains(r.output, path + ": " + kind)) << r.output;
  }
  struct stat st;
  ASSERT_EQ(lstat((dir_ / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(lstat((dir_ / "link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  if (is_root()) {
    ASSERT_EQ(lstat((dir_ / "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced";
  }
  // --emit-object and --emit-asm are checked the same way.
  auto r = run_command("timeout 60 " MKIMAGE_PATH " " + dir_ / "src" + " -o " + dir_ / "img" +
                       " --emit-object " + dir_ / "fifo");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "--emit-object " + dir_ / "fifo" + ": is a FIFO")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "img")) << "the image was written anyway";
}

// Sources that cannot hold a tar archive are refused; a FIFO is read when a process writes to
// it and is an error, not a hang, when none does.
TEST(CliSources, DevicesAreRefusedAndFifosNeedAWriter) {
  TempDir dir;
  auto r = mkimage("/dev/zero -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/dev/zero: is a character device, not a directory or a tar"))
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));

  make_dir(dir / "src");
  write_file(dir / "src/f", "through a FIFO\n");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  r = mkimage(dir / "fifo -o " + dir / "img");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 1) << r.output;  // timeout's 124 would be the old hang
  EXPECT_TRUE(contains(r.output, "fifo: a FIFO that no process wrote to")) << r.output;
  EXPECT_LT(took, std::chrono::seconds(40));
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));

  // A writer that starts late, and process substitution, are read as any tar archive.
  r = run_command("(sleep 1; tar cf " + dir / "fifo" + " -C " + dir / "src" + " .) & timeout 60 " +
                  MKIMAGE_PATH + " " + dir / "fifo -o " + dir / "img; wait");
  ASSERT_EQ(r.status, 0) << r.output;
  auto listed = bakefs("cat " + dir / "img" + " /f");
  EXPECT_EQ(listed.output, "through a FIFO\n");
  r = run_command("bash -c 'timeout 60 " MKIMAGE_PATH " <(tar czf - -C " + dir / "src" +
                  " .) -o " + dir / "img2'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_bytes(dir / "img"), read_bytes(dir / "img2"));
}

// SIGINT and SIGTERM end mkimage as they would, and leave no temporary image behind.
TEST(CliSignals, AnInterruptedBuildLeavesNoTemporaryFile) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/big", random_bytes(48u << 20, 7));  // slow at level 19, one thread
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string out = dir / "out";
    make_dir(out);
    std::vector<std::string> args = {MKIMAGE_PATH, dir / "src", "-l", "19", "-j", "1",
                                     "--no-progress", "-o", out + "/img"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, sig);  // the default action, whatever this test inherited
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), environ), 0);
    posix_spawnattr_destroy(&attr);
    // Wait until the image is being written (an unnamed O_TMPFILE file in `out`, or where the
    // file system has none a .img.tmp.XXXXXX), then interrupt the build.
    auto writing = [&] {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(out, ec))
        if (e.path().filename().string().starts_with(".img.tmp.")) return true;
      const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
      for (const auto& e : std::filesystem::directory_iterator(fds, ec)) {
        std::string target = std::filesystem::read_symlink(e.path(), ec).string();
        if (target.starts_with(out + "/")) return true;
      }
      return false;
    };
    bool seen = false;
    for (int i = 0; i < 3000 && !(seen = writing()); ++i) usleep(10000);
    ASSERT_TRUE(seen) << "the image was never being written";
    kill(pid, sig);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << "signal " << sig << ": status " << status;
    EXPECT_TRUE(std::filesystem::is_empty(out)) << "signal " << sig << " left a file";
    std::filesystem::remove_all(out);
  }
}

// An image nested deeper than any tool walks (mkimage refuses such sources, so the tree is
// made in memory): every tool stops at the same bound with an error naming the depth, none
// crashes, and verify never calls it sound.
TEST(CliDeep, AnImageDeeperThanTheWalkBoundFailsCleanlyEverywhere) {
  TempDir dir;
  build::Tree tree = build::empty_tree();
  build::Inode* at = tree.root.get();
  for (size_t level = 0; level < 3 * build::kMaxTreeDepth; ++level) {
    auto child = std::make_shared<build::Inode>();
    child->mode = 0040755;
    at->children["d"] = child;
    at = child.get();
  }
  auto leaf = std::make_shared<build::Inode>();
  leaf->mode = 0100644;
  leaf->content.data = std::make_shared<const std::string>("deep");
  leaf->size = 4;
  at->children["leaf"] = leaf;
  build::write_image(tree, build::Options{}, dir / "deep.img");
  for (const std::string& command :
       {"verify " + dir / "deep.img", "ls -R " + dir / "deep.img",
        "extract " + dir / "deep.img " + dir / "out", "info " + dir / "deep.img"}) {
    auto r = bakefs(command);
    if (command.starts_with("info")) {
      EXPECT_EQ(r.status, 0) << command << ": " << r.output;  // info walks nothing by name
      continue;
    }
    EXPECT_EQ(r.status, 1) << command << ": " << r.output;  // not a crash, not a hang
    EXPECT_TRUE(contains(r.output, "deeper than " + std::to_string(build::kMaxTreeDepth)))
        << command << ": " << r.output.substr(0, 2000);
    EXPECT_FALSE(contains(r.output, "sound:")) << command;
  }
}

TEST(CliOptions, LevelAndThreads) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/f", "data");
  auto r = mkimage(dir / "src -l 23 -o " + dir / "img");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "invalid zstd level 23 (1..22)")) << r.output;
  // -j 0 means one thread per core.
  r = mkimage(dir / "src -j 0 -v -o " + dir / "img");
  ASSERT_EQ(r.status, 0) << r.output;
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_TRUE(contains(r.output, ", " + std::to_string(cores) + " threads,")) << r.output;
  // Sizes in units that fit: a tiny tree is bytes, not "0.00 MiB".
  EXPECT_TRUE(std::regex_search(r.output, std::regex("file data 4 B -> [0-9]+ B stored")))
      << r.output;
  EXPECT_FALSE(contains(r.output, "0.00 MiB")) << r.output;
}

// Every value is named for what it is, and every option is documented in the README and in the
// man pages.
TEST(CliHelp, ValuesAreNamedAndEveryOptionIsDocumented) {
  const std::string readme = text_of(std::string(SOURCE_DIR) + "/README.md");
  ASSERT_FALSE(readme.empty());
  struct Tool {
    std::string path, man;
    std::vector<std::string> helps;
  };
  const std::vector<Tool> tools = {
      {MKIMAGE_PATH, "mkimage.1.scd", {""}},
      {BAKEFS_PATH,
       "bakefs.1.scd",
       {"", "ls", "cat", "stat", "info", "config", "verify", "extract", "mount"}}};
  for (const Tool& tool : tools) {
    const std::string man = text_of(std::string(SOURCE_DIR) + "/docs/man/" + tool.man);
    ASSERT_FALSE(man.empty()) << tool.man;
    for (const std::string& command : tool.helps) {
      auto r = run_command(tool.path + " " + command + " --help");
      ASSERT_EQ(r.status, 0) << command << ": " << r.output;
      EXPECT_FALSE(contains(r.output, "TEXT")) << tool.path << " " << command << ":\n" << r.output;
      EXPECT_FALSE(std::regex_search(r.output, std::regex("\\bINT\\b|UINT")))
          << tool.path << " " << command << ":\n" << r.output;
      std::regex option("(^|[ ,])(--[a-z][a-z-]+)");
      for (std::sregex_iterator it(r.output.begin(), r.output.end(), option), end; it != end;
           ++it) {
        const std::string name = (*it)[2];
        if (name == "--help" || name == "--version") continue;
        EXPECT_TRUE(contains(readme, name)) << name << " (" << command << ") is not in README.md";
        EXPECT_TRUE(contains(man, name)) << name << " (" << command << ") is not in " << tool.man;
      }
      if (!command.empty()) {
        EXPECT_TRUE(contains(readme, "bakefs " + command)) << command << " not in README.md";
        EXPECT_TRUE(contains(man, command)) << command << " not in " << tool.man;
      }
    }
  }
  auto r = run_command(MKIMAGE_PATH " --help");
  for (const char* value : {"-o,--output FILE", "-l,--level LEVEL", "--exclude PATTERN",
                            "--mtime SECONDS", "-j,--threads N", "--config FILE"})
    EXPECT_TRUE(contains(r.output, value)) << value << " in\n" << r.output;
}

TEST(CliVersion, ProjectAndFormatVersions) {
  for (const char* tool : {MKIMAGE_PATH, BAKEFS_PATH}) {
    auto r = run_command(std::string(tool) + " --version");
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(contains(r.output, BAKEFS_VERSION)) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("format [0-9]+\\.[0-9]+"))) << r.output;
  }
}

// The README's service recipe writes its outputs into examples/service: git ignores them.
TEST(CliRecipe, TheServiceRecipeLeavesNothingUntracked) {
  const std::string source = SOURCE_DIR;
  if (!std::filesystem::exists(source + "/.git") ||
      run_command("git --version").status != 0)
    GTEST_SKIP() << "not a git checkout";
  for (const char* output : {"service.img", "service-image.o", "service-image.s"}) {
    auto r = run_command("cd " + source + "/examples/service && git check-ignore -q " + output);
    EXPECT_EQ(r.status, 0) << output << " is not ignored: " << r.output;
  }
}

}  // namespace
}  // namespace bakefs::test
