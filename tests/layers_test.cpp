// Layers: directories and tar archives merged in order, whiteouts, opaque directories,
// --remove, conflicts, hard links across layers, standard input, and determinism.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "layer_support.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

CommandResult run(const std::string& args) {
  return run_command(MKIMAGE_PATH " " + args);
}

// Every path in the image, "a/b" style, in readdir order.
std::vector<std::string> all_paths(const FileSystem& fs) {
  std::vector<std::string> out;
  std::function<void(bakefs_ino, const std::string&)> walk = [&](bakefs_ino dir,
                                                                 const std::string& prefix) {
    std::vector<Dirent> entries;
    EXPECT_EQ(fs.readdir(dir, entries), BAKEFS_OK);
    for (const Dirent& e : entries) {
      out.push_back(prefix + e.name);
      if (e.type == (S_IFDIR >> 12)) walk(e.ino, prefix + e.name + "/");
    }
  };
  walk(BAKEFS_ROOT_INO, "");
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const build::Error& e) {
    return e.what();
  }
  return "";
}

// base/: the lowest layer, a directory.
void make_base(const std::string& base) {
  make_dir(base);
  make_dir(base + "/etc");
  write_file(base + "/etc/conf", "base");
  write_file(base + "/etc/keep", "kept from base");
  make_dir(base + "/data", 0755);
  write_file(base + "/data/old", "old data");
  write_file(base + "/file_then_dir", "a file in base");
  make_dir(base + "/empty_then_link");
  make_dir(base + "/usr");
  set_mtime(base + "/usr", 1500000000, 1);
  set_mtime(base + "/data", 1500000000, 2);
  set_mtime(base + "/etc", 1500000000, 3);
  set_mtime(base, 1500000000, 4);
}

TEST(Layers, ThreeLayersMergeInOrderLaterWinning) {
  TempDir dir;
  make_base(dir / "base");
  std::vector<TarMember> app;
  app.push_back(tar_file("etc/conf", "app"));  // no entry for etc/: base's attributes stay
  app.push_back(tar_dir("data/", 0700));
  app.back().mtime_nsec = 77;
  app.push_back(tar_file("data/new", "new data"));
  app.push_back(tar_dir("file_then_dir/"));
  app.push_back(tar_file("file_then_dir/inside", "now a directory"));
  app.push_back(tar_symlink("empty_then_link", "data"));
  app.push_back(tar_file("usr/share/doc/readme", "deep"));
  write_tar(dir / "app.tar.gz", app, "gzip");
  make_dir(dir / "site");
  make_dir(dir / "site/etc", 0750);
  write_file(dir / "site/etc/conf", "site");
  write_file(dir / "site/etc/added", "from site");
  set_mtime(dir / "site/etc", 1600000000, 9);
  set_mtime(dir / "site", 1600000000, 10);

  ASSERT_EQ(run(dir / "base " + dir / "app.tar.gz " + dir / "site -o " + dir / "img").status, 0);
  auto image = posix::MountedImage::open(dir / "img");
  const FileSystem& fs = image.fs;
  EXPECT_EQ(content_of(fs, "etc/conf"), "site");
  EXPECT_EQ(content_of(fs, "etc/keep"), "kept from base");
  EXPECT_EQ(content_of(fs, "etc/added"), "from site");
  EXPECT_EQ(attr_of(fs, "etc").mode, S_IFDIR | 0750u) << "site's attributes win";
  EXPECT_EQ(attr_of(fs, "etc").mtime_nsec, 9u);
  EXPECT_EQ(attr_of(fs, "").mtime_nsec, 10u);
  EXPECT_EQ(content_of(fs, "data/old"), "old data");
  EXPECT_EQ(content_of(fs, "data/new"), "new data");
  EXPECT_EQ(attr_of(fs, "data").mode, S_IFDIR | 0700u);
  EXPECT_EQ(attr_of(fs, "data").mtime_nsec, 77u);
  EXPECT_EQ(content_of(fs, "file_then_dir/inside"), "now a directory");
  EXPECT_EQ(attr_of(fs, "empty_then_link").mode, S_IFLNK | 0777u);
  EXPECT_EQ(content_of(fs, "usr/share/doc/readme"), "deep");
  // A directory the archive only implies keeps the lower layer's attributes.
  EXPECT_EQ(attr_of(fs, "usr").mtime_sec, 1500000000);
  EXPECT_EQ(attr_of(fs, "usr").mtime_nsec, 1u);
  EXPECT_EQ(attr_of(fs, "usr/share").mtime_sec, 0);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems, 10), BAKEFS_OK) << (problems.empty() ? "" : problems.front());
}

TEST(Layers, ASingleDirectoryGivesTheSameImageAsBefore) {
  TempDir dir;
  make_rich_tree(dir / "src");
  make_image(dir / "src", dir / "scan.img");
  make_layered_image({dir / "src"}, dir / "layered.img");
  EXPECT_TRUE(read_bytes(dir / "scan.img") == read_bytes(dir / "layered.img"));
}

// A tar of a tree holds what mkimage keeps of it: the image of the archive is the image of the
// tree, byte for byte.
TEST(Layers, TheTarOfATreeGivesTheImageOfTheTree) {
  TempDir dir;
  make_rich_tree(dir / "src");
  // What a tar cannot say: sockets; GNU tar does not link fifos; and libarchive 3.6 reads a
  // pax time before 1970 with a fraction of a second wrongly ("-1.5" as -1 s + 0.5 s).
  std::filesystem::remove(dir / "src/socket");
  std::filesystem::remove(dir / "src/fifo_link");
  set_mtime(dir / "src/empty", -86400 * 365, 0);
  std::string command = "tar --format=posix --xattrs --xattrs-include='*' --sparse -C " +
                        dir / "src" + " -cf " + dir / "src.tar" + " . 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  make_image(dir / "src", dir / "dir.img");
  make_layered_image({dir / "src.tar"}, dir / "tar.img");
  auto image = posix::MountedImage::open(dir / "tar.img");
  expect_same_tree(dir / "src", image.fs);
  EXPECT_TRUE(read_bytes(dir / "dir.img") == read_bytes(dir / "tar.img"));
}

void expect_no_whiteouts(const FileSystem& fs) {
  for (const std::string& path : all_paths(fs)) {
    EXPECT_EQ(path.find(".wh."), std::string::npos) << path;
  }
}

// The upper layer's whiteouts, as tar members.
std::vector<TarMember> whiteout_members() {
  std::vector<TarMember> m;
  m.push_back(tar_file(".wh.gone", ""));     // removes a file
  m.push_back(tar_file("dir/.wh.sub", ""));  // removes a directory
  m.push_back(tar_file(".wh.missing", ""));  // removes nothing
  m.push_back(tar_file(".wh.readded", ""));  // removed below, added again here
  m.push_back(tar_file("readded", "new"));
  m.push_back(tar_dir("opaque/"));  // hides everything below
  m.push_back(tar_file("opaque/.wh..wh..opq", ""));
  m.push_back(tar_file("opaque/fresh", "only this"));
  m.push_back(tar_file("newdir/.wh.nothing", ""));  // in a directory new in this layer
  m.push_back(tar_file("newdir/file", "x"));
  return m;
}

void make_whiteout_lower(const std::string& lower) {
  make_dir(lower);
  write_file(lower + "/gone", "removed above");
  write_file(lower + "/kept", "stays");
  write_file(lower + "/readded", "old");
  make_dir(lower + "/dir");
  make_dir(lower + "/dir/sub");
  write_file(lower + "/dir/sub/deep", "removed with its directory");
  write_file(lower + "/dir/other", "stays");
  make_dir(lower + "/opaque");
  write_file(lower + "/opaque/hidden", "hidden by the opaque marker");
  make_dir(lower + "/opaque/hidden_dir");
}

void expect_whiteouts_applied(const FileSystem& fs) {
  EXPECT_FALSE(exists_in(fs, "gone"));
  EXPECT_TRUE(exists_in(fs, "kept"));
  EXPECT_FALSE(exists_in(fs, "dir/sub"));
  EXPECT_TRUE(exists_in(fs, "dir/other"));
  EXPECT_EQ(content_of(fs, "readded"), "new");
  EXPECT_FALSE(exists_in(fs, "opaque/hidden"));
  EXPECT_FALSE(exists_in(fs, "opaque/hidden_dir"));
  EXPECT_EQ(content_of(fs, "opaque/fresh"), "only this");
  EXPECT_TRUE(exists_in(fs, "newdir/file"));
  expect_no_whiteouts(fs);
}

TEST(Whiteouts, InTarLayersRemoveAndHide) {
  TempDir dir;
  make_whiteout_lower(dir / "lower");
  write_tar(dir / "upper.tar", whiteout_members());
  make_layered_image({dir / "lower", dir / "upper.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  expect_whiteouts_applied(image.fs);
}

void make_whiteout_upper_dir(const std::string& upper) {
  make_dir(upper);
  for (const TarMember& m : whiteout_members()) {
    if (S_ISDIR(m.mode)) {
      make_dir(upper + "/" + m.name);
      continue;
    }
    std::string path = upper + "/" + m.name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    write_file(path, m.data);
  }
}

TEST(Whiteouts, InDirectoryLayersOnlyWithTheOption) {
  TempDir dir;
  make_whiteout_lower(dir / "lower");
  make_whiteout_upper_dir(dir / "upper");
  ASSERT_EQ(run("--whiteouts " + dir / "lower " + dir / "upper -o " + dir / "on.img").status, 0);
  auto on = posix::MountedImage::open(dir / "on.img");
  expect_whiteouts_applied(on.fs);

  // Without --whiteouts they are files like any other, and remove nothing.
  ASSERT_EQ(run(dir / "lower " + dir / "upper -o " + dir / "off.img").status, 0);
  auto off = posix::MountedImage::open(dir / "off.img");
  EXPECT_TRUE(exists_in(off.fs, "gone"));
  EXPECT_TRUE(exists_in(off.fs, ".wh.gone"));
  EXPECT_TRUE(exists_in(off.fs, "dir/sub/deep"));
  EXPECT_TRUE(exists_in(off.fs, "opaque/hidden"));
  EXPECT_TRUE(exists_in(off.fs, "opaque/.wh..wh..opq"));
}

TEST(Whiteouts, NeverReachTheImageEvenFromTheFirstLayer) {
  TempDir dir;
  write_tar(dir / "only.tar", whiteout_members());
  make_layered_image({dir / "only.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  expect_no_whiteouts(image.fs);
  EXPECT_EQ(content_of(image.fs, "opaque/fresh"), "only this");
}

TEST(Layers, AFileOverANonEmptyDirectoryIsAnError) {
  TempDir dir;
  make_dir(dir / "base");
  make_dir(dir / "base/sub");
  make_dir(dir / "base/sub/d");
  write_file(dir / "base/sub/d/f", "x");
  make_dir(dir / "base/sub/empty");
  write_tar(dir / "file.tar", {tar_file("sub/d", "a file now")});
  std::string e = error_of([&] {
    make_layered_image({dir / "base", dir / "file.tar"}, dir / "img");
  });
  EXPECT_NE(e.find("/sub/d: "), std::string::npos) << e;
  EXPECT_NE(e.find(dir / "file.tar has a file"), std::string::npos) << e;
  EXPECT_NE(e.find(dir / "base has a non-empty directory"), std::string::npos) << e;
  CommandResult r = run(dir / "base " + dir / "file.tar -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("non-empty directory"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));

  // Allowed: over an empty directory, after a whiteout, or below an opaque directory.
  write_tar(dir / "empty.tar", {tar_symlink("sub/empty", "d")});
  write_tar(dir / "whiteout.tar", {tar_file("sub/.wh.d", ""), tar_file("sub/d", "a file now")});
  write_tar(dir / "opaque.tar",
            {tar_file("sub/.wh..wh..opq", ""), tar_file("sub/d", "a file now")});
  for (const char* upper : {"empty.tar", "whiteout.tar", "opaque.tar"}) {
    make_layered_image({dir / "base", dir / upper}, dir / "img");
    auto image = posix::MountedImage::open(dir / "img");
    if (std::string(upper) == "empty.tar") {
      EXPECT_EQ(attr_of(image.fs, "sub/empty").mode, S_IFLNK | 0777u);
    } else {
      EXPECT_EQ(content_of(image.fs, "sub/d"), "a file now") << upper;
    }
  }
}

TEST(Layers, HardLinksAcrossLayers) {
  TempDir dir;
  make_dir(dir / "base");
  write_file(dir / "base/a", "old");
  ASSERT_EQ(link((dir / "base/a").c_str(), (dir / "base/b").c_str()), 0);
  ASSERT_EQ(link((dir / "base/a").c_str(), (dir / "base/c").c_str()), 0);
  write_file(dir / "base/p", "pair");
  ASSERT_EQ(link((dir / "base/p").c_str(), (dir / "base/q").c_str()), 0);
  // The upper layer replaces a (copy-up: a leaves its group), removes p, and links a new
  // group of its own.
  write_tar(dir / "upper.tar", {tar_file("a", "new"), tar_file(".wh.p", ""), tar_file("x", "group"),
                                tar_hardlink("y", "x")});
  make_layered_image({dir / "base", dir / "upper.tar"}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  const FileSystem& fs = image.fs;
  EXPECT_EQ(content_of(fs, "a"), "new");
  EXPECT_EQ(attr_of(fs, "a").nlink, 1u);
  EXPECT_EQ(content_of(fs, "b"), "old");
  EXPECT_EQ(attr_of(fs, "b").ino, attr_of(fs, "c").ino);
  EXPECT_EQ(attr_of(fs, "b").nlink, 2u);
  EXPECT_FALSE(exists_in(fs, "p"));
  EXPECT_EQ(attr_of(fs, "q").nlink, 1u);
  EXPECT_EQ(content_of(fs, "q"), "pair");
  EXPECT_EQ(attr_of(fs, "x").ino, attr_of(fs, "y").ino);
  EXPECT_EQ(attr_of(fs, "y").nlink, 2u);
}

TEST(Layers, RemovePaths) {
  TempDir dir;
  make_base(dir / "base");
  // One PATH per --remove: the source after the first is not taken for a second PATH.
  CommandResult r =
      run("--remove /etc/conf " + dir / "base -o " + dir / "img --remove data --remove ./usr/");
  ASSERT_EQ(r.status, 0) << r.output;
  auto image = posix::MountedImage::open(dir / "img");
  EXPECT_FALSE(exists_in(image.fs, "etc/conf"));
  EXPECT_TRUE(exists_in(image.fs, "etc/keep"));
  EXPECT_FALSE(exists_in(image.fs, "data"));
  EXPECT_FALSE(exists_in(image.fs, "usr"));

  // What is not there cannot be removed: a typo is an error, not a silent no-op.
  for (std::string path : {"/etc/missing", "etc/conf/below_a_file", "/", "../etc"}) {
    r = run(dir / "base -o " + dir / "bad.img --remove " + path);
    EXPECT_EQ(r.status, 1) << path;
    EXPECT_NE(r.output.find("cannot remove " + path), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "bad.img"));
  }
}

TEST(Layers, ExcludeLeavesTarMembersOutBeforeTheyMerge) {
  TempDir dir;
  write_tar(dir / "lower.tar",
            {tar_file("cache/a", "a"), tar_file("keep/x.pyc", "x"), tar_file("keep/y", "y")});
  write_tar(dir / "upper.tar", {tar_file("cache", "a file over a directory")});
  // Without the exclusion the upper file over the lower directory is an error...
  CommandResult r = run(dir / "lower.tar " + dir / "upper.tar -o " + dir / "img");
  EXPECT_EQ(r.status, 1) << r.output;
  // ...but neither reaches the image, so they cannot clash; patterns match as they do in a
  // directory source.
  r = run(dir / "lower.tar " + dir / "upper.tar --exclude cache --exclude '*.pyc' -o " +
          dir / "img");
  ASSERT_EQ(r.status, 0) << r.output;
  auto image = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(all_paths(image.fs), (std::vector<std::string>{"keep", "keep/y"}));
  // The stub lies beneath the sources: --exclude applies to the sources only.
  r = run(dir / "lower.tar --stub-etc --exclude '*.db' --exclude '*.pyc' -o " + dir / "img2");
  ASSERT_EQ(r.status, 0) << r.output;
  auto stub = posix::MountedImage::open(dir / "img2");
  EXPECT_TRUE(exists_in(stub.fs, "etc/pwd.db"));
  EXPECT_FALSE(exists_in(stub.fs, "keep/x.pyc"));
}

TEST(Layers, TarFromStandardInput) {
  TempDir dir;
  make_base(dir / "base");
  write_tar(dir / "app.tar.zst", {tar_file("etc/conf", "from stdin")}, "zstd");
  CommandResult r =
      run(dir / "base - -o " + dir / "img < " + dir / "app.tar.zst");  // '-' between others
  ASSERT_EQ(r.status, 0) << r.output;
  auto image = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(image.fs, "etc/conf"), "from stdin");
  EXPECT_EQ(content_of(image.fs, "etc/keep"), "kept from base");

  r = run("-o " + dir / "img2 - < /dev/null");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("standard input"), std::string::npos) << r.output;
  r = run("-o " + dir / "img2 - - < " + dir / "app.tar.zst");
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(std::filesystem::exists(dir / "img2"));
}

TEST(Layers, BadArchivesFailTheCommandWithoutAnImage) {
  TempDir dir;
  write_tar(dir / "good.tar", {tar_file("one", "1"), tar_file("two", random_bytes(100000, 1))});
  std::vector<uint8_t> bytes = read_bytes(dir / "good.tar");
  bytes.resize(50000);
  write_bytes(dir / "cut.tar", bytes);
  write_tar(dir / "dotdot.tar", {tar_file("ok", ""), tar_file("x/../../escape", "")});
  struct Case {
    const char* file;
    const char* expected;
  };
  for (const Case& c :
       {Case{"cut.tar", "cut.tar: two: Truncated"},
        Case{"dotdot.tar", "dotdot.tar: x/../../escape: a '..' in the name is not allowed"}}) {
    CommandResult r = run(dir / c.file + " -o " + dir / "img");
    EXPECT_EQ(r.status, 1) << c.file;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "img"));
  }
}

TEST(Layers, TheMergedTreeKeepsEveryLayersDescriptors) {
  TempDir dir;
  make_base(dir / "one");
  make_base(dir / "two");
  write_tar(dir / "three.tar", {tar_file("etc/conf", "three")});
  build::Tree tree = build::empty_tree();
  for (const char* source : {"one", "two", "three.tar"}) build::add_layer(tree, dir / source, {});
  EXPECT_EQ(tree.open_fds.size(), 3u);
  // The lower layers' files are still read through their directories' descriptors.
  build::write_image(tree, {}, dir / "img");
  auto image = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(image.fs, "etc/keep"), "kept from base");
  EXPECT_EQ(content_of(image.fs, "etc/conf"), "three");
}

TEST(Layers, SameLayersGiveTheSameBytesForAnyThreadCount) {
  TempDir dir;
  make_base(dir / "base");
  std::vector<TarMember> app;
  for (int i = 0; i < 40; ++i) {
    app.push_back(tar_file("app/f" + std::to_string(i),
                           i % 2 ? text_bytes(static_cast<size_t>(i) * 5000, i)
                                 : random_bytes(static_cast<size_t>(i) * 3000, i)));
  }
  write_tar(dir / "app.tar.xz", app, "xz");
  make_dir(dir / "site");
  write_file(dir / "site/f", "site");
  std::vector<uint8_t> first;
  for (const char* threads : {"-j1", "-j2", "-j2"}) {
    std::string args = std::string(threads) + " -l 5 " + dir / "base " + dir / "app.tar.xz " +
                       dir / "site -o " + dir / "img";
    ASSERT_EQ(run(args).status, 0);
    std::vector<uint8_t> bytes = read_bytes(dir / "img");
    if (first.empty()) {
      first = bytes;
    } else {
      EXPECT_TRUE(bytes == first) << threads;
    }
  }
}

TEST(Layers, HelpDescribesLayers) {
  CommandResult r = run("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* word : {"sources", "--whiteouts", "--remove", "standard input"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace bakefs::test
