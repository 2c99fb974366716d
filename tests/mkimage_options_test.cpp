// mkimage's deployment options: --exclude, --ignore-errors, the time clamp, --sort, --optimize
// and the progress line.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "test_support.h"
#include "util/progress.h"
#include "util/size_option.h"
#include "writer/tree_ops.h"

namespace bakefs::test {
namespace {

CommandResult mkimage(const std::string& args, const std::string& env = "") {
  return run_command(env + " " MKIMAGE_PATH " " + args);
}

TEST(Exclude, NamesAtAnyDepthAndPathsFromTheRoot) {
  TempDir dir;
  const std::string src = dir / "src";
  for (const char* d : {"", "/app", "/app/__pycache__", "/usr", "/usr/share", "/usr/share/doc",
                        "/usr/share/doc/pkg", "/usr/share/man"}) {
    make_dir(src + d);
  }
  for (const char* f : {"/app/main.py", "/app/main.pyc", "/app/__pycache__/x.pyc", "/keep.pyc.txt",
                        "/usr/share/doc/pkg/README", "/usr/share/man/page.1", "/.hidden.pyc"}) {
    write_file(src + f, f);
  }
  write_file(dir / "patterns", "# comments and blank lines are skipped\n\n/usr/share/doc/*\n");
  auto r = mkimage(src + " -o " + dir / "img --exclude '*.pyc' --exclude __pycache__ " +
                   "--exclude-from " + dir / "patterns");
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_TRUE(exists_in(m.fs, "/app/main.py"));
  EXPECT_TRUE(exists_in(m.fs, "/keep.pyc.txt"));
  EXPECT_TRUE(exists_in(m.fs, "/usr/share/doc"));  // "doc/*" leaves doc itself
  EXPECT_TRUE(exists_in(m.fs, "/usr/share/man/page.1"));
  EXPECT_FALSE(exists_in(m.fs, "/app/main.pyc"));
  EXPECT_FALSE(exists_in(m.fs, "/.hidden.pyc"));  // wildcards match a leading dot, as tar's
  EXPECT_FALSE(exists_in(m.fs, "/app/__pycache__"));
  EXPECT_FALSE(exists_in(m.fs, "/usr/share/doc/pkg"));
  r = mkimage(src + " -o " + dir / "img --exclude-from " + dir / "missing");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing: cannot open"), std::string::npos) << r.output;
}

TEST(Exclude, AppliesToTreesFromAnySource) {
  build::Tree tree;
  tree.root = std::make_shared<build::Inode>();
  tree.root->mode = 0040755;
  auto dir = std::make_shared<build::Inode>();
  dir->mode = 0040755;
  auto file = std::make_shared<build::Inode>();
  file->mode = 0100644;
  dir->children["a.o"] = file;
  dir->children["a.c"] = file;
  tree.root->children["src"] = dir;
  EXPECT_EQ(build::exclude_paths(tree, build::ExcludeFilter({"*.o", "/nothing/here"})), 1u);
  EXPECT_EQ(dir->children.size(), 1u);
  EXPECT_EQ(build::find_path(tree, "/src/a.c"), file.get());
  EXPECT_EQ(build::find_path(tree, "src/a.o"), nullptr);
}

// As an unprivileged user (root reads everything), unreadable entries fail the build, or are
// left out with a warning under --ignore-errors.
TEST(IgnoreErrors, UnreadableEntriesAreErrorsOrLeftOut) {
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/closed");
  write_file(src + "/closed/inside", "x");
  write_file(src + "/secret", "s");
  write_file(src + "/open", "o");
  ASSERT_EQ(chmod((src + "/closed").c_str(), 0), 0);
  ASSERT_EQ(chmod((src + "/secret").c_str(), 0), 0);
  const auto prefix = unprivileged_prefix();
  if (!prefix) GTEST_SKIP() << "root without setpriv";
  const std::string as_user = *prefix;
  auto r = run_command(as_user + MKIMAGE_PATH " " + src + " -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("Permission denied"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));
  r = run_command(as_user + MKIMAGE_PATH " " + src + " -o " + dir / "img --ignore-errors");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: " + src + "/secret: cannot open"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(src + "/closed"), std::string::npos) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_TRUE(exists_in(m.fs, "/open"));
  EXPECT_FALSE(exists_in(m.fs, "/secret"));
  EXPECT_FALSE(exists_in(m.fs, "/closed"));
}

TEST(TimeClamp, LaterTimesBecomeTheEpochAndTheImageTime) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  write_file(src + "/old", "o");
  write_file(src + "/new", "n");
  set_mtime(src + "/old", 1000000000, 5);
  set_mtime(src + "/new", 1900000000, 7);
  set_mtime(src, 1800000000, 0);
  auto check = [&](const std::string& image, int64_t epoch) {
    auto m = posix::MountedImage::open(image);
    bakefs_fsstat st;
    ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
    EXPECT_EQ(st.build_time_sec, epoch);
    bakefs_ino ino = 0;
    bakefs_attr a;
    ASSERT_EQ(m.fs.resolve("/old", ino), BAKEFS_OK);
    ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
    EXPECT_EQ(a.mtime_sec, 1000000000);  // earlier times stay as they are
    EXPECT_EQ(a.mtime_nsec, 5u);
    ASSERT_EQ(m.fs.resolve("/new", ino), BAKEFS_OK);
    ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
    EXPECT_EQ(a.mtime_sec, epoch);
    EXPECT_EQ(a.mtime_nsec, 0u);
    ASSERT_EQ(m.fs.getattr(BAKEFS_ROOT_INO, a), BAKEFS_OK);
    EXPECT_EQ(a.mtime_sec, epoch);
  };
  ASSERT_EQ(mkimage(src + " -o " + dir / "a", "SOURCE_DATE_EPOCH=1500000000").status, 0);
  check(dir / "a", 1500000000);
  ASSERT_EQ(mkimage(src + " -o " + dir / "b --mtime 1600000000", "SOURCE_DATE_EPOCH=1").status, 0);
  check(dir / "b", 1600000000);  // --mtime wins
  auto r = mkimage(src + " -o " + dir / "c --mtime yesterday");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--mtime is not a number"), std::string::npos) << r.output;
  r = mkimage(src + " -o " + dir / "c", "SOURCE_DATE_EPOCH=12x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("SOURCE_DATE_EPOCH"), std::string::npos) << r.output;
}

// Two copies of a tree made at different moments (so with other mtimes after the epoch), in
// different orders: with SOURCE_DATE_EPOCH the images are the same bytes.
TEST(TimeClamp, TreesMadeAtOtherTimesGiveTheSameImage) {
  TempDir dir;
  for (const char* name : {"a", "b"}) {
    const std::string src = dir / name;
    make_dir(src);
    std::vector<int> order{0, 1, 2, 3, 4, 5, 6, 7};
    if (name[0] == 'b') std::reverse(order.begin(), order.end());
    for (int i : order) {
      make_dir(src + "/d" + std::to_string(i % 3));
      write_file(src + "/d" + std::to_string(i % 3) + "/f" + std::to_string(i),
                 text_bytes(1000 * static_cast<size_t>(i), static_cast<uint64_t>(i)));
    }
    usleep(20000);  // the second tree's times differ by at least this much
  }
  const std::string env = "SOURCE_DATE_EPOCH=1700000000";
  ASSERT_EQ(mkimage(dir / "a" + " -o " + dir / "a.img -j1", env).status, 0);
  ASSERT_EQ(mkimage(dir / "b" + " -o " + dir / "b.img -j2", env).status, 0);
  EXPECT_TRUE(read_bytes(dir / "a.img") == read_bytes(dir / "b.img"));
}

// The same tree on another file system (tmpfs here, the temporary directory's otherwise) gives
// the same image: nothing of the source file system (inode numbers, directory order, block
// allocation, holes) reaches the bytes.
TEST(TimeClamp, SameBytesFromAnotherFileSystem) {
  if (access("/dev/shm", W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  TempDir dir;
  const std::string a = dir / "tree";
  make_dir(a);
  make_dir(a + "/sub");
  for (int i = 0; i < 12; ++i) {
    write_file(a + "/sub/f" + std::to_string(i),
               text_bytes(700 * static_cast<size_t>(i), static_cast<uint64_t>(i)));
  }
  write_file(a + "/big", random_bytes(300000, 5));
  ::symlink("sub/f1", (a + "/link").c_str());
  const std::string b =
      std::string("/dev/shm/") + std::filesystem::path(dir.path()).filename().string();
  ASSERT_EQ(run_command("rm -rf " + b + " && cp -a " + a + " " + b).status, 0);
  const std::string env = "SOURCE_DATE_EPOCH=1700000000";
  ASSERT_EQ(mkimage(a + " -o " + dir / "a.img", env).status, 0);
  ASSERT_EQ(mkimage(b + " -o " + dir / "b.img", env).status, 0);
  run_command("rm -rf " + b);
  EXPECT_TRUE(read_bytes(dir / "a.img") == read_bytes(dir / "b.img"));
}

// A file that changes between the scan and the read is an error naming it; no image is left.
TEST(ChangedInput, AFileThatChangesAfterTheScanIsAnError) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  write_file(src + "/stable", "stable\n");
  write_file(src + "/moving", text_bytes(10000, 1));
  for (const char* change : {"append", "rewrite", "replace"}) {
    build::Tree tree = build::scan_directory(src);
    const std::string path = src + "/moving";
    if (std::string(change) == "append") {
      write_file(path, text_bytes(10000, 1) + "more");
    } else if (std::string(change) == "rewrite") {
      write_file(path, text_bytes(10000, 2));  // same size, new mtime
      set_mtime(path, 1, 0);
    } else {
      ASSERT_EQ(std::rename((src + "/stable").c_str(), path.c_str()), 0);  // another inode
      write_file(src + "/stable", "stable\n");
    }
    try {
      build::write_image(tree, build::Options{}, dir / "img");
      ADD_FAILURE() << change << ": no error";
    } catch (const build::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": "), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "img")) << change;
    write_file(path, text_bytes(10000, 1));
  }
}

// The first block id of a file's data (its first piece), via bakefs_extents.
uint32_t first_block(const FileSystem& fs, const std::string& path) {
  bakefs_ino ino = 0;
  EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK) << path;
  uint32_t block = UINT32_MAX;
  auto emit = [](void* ctx, const bakefs_extent* e) {
    *static_cast<uint32_t*>(ctx) = e->block;
    return 1;
  };
  EXPECT_EQ(bakefs_extents(fs.get(), ino, emit, &block), BAKEFS_OK);
  return block;
}

TEST(Sort, ListedFilesComeFirstInTheirOrder) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/lib");
  for (const char* f : {"/a", "/b", "/c", "/lib/x", "/lib/y"}) {
    write_file(src + f, random_bytes(9000, static_cast<uint64_t>(f[1] + f[std::strlen(f) - 1])));
  }
  write_file(dir / "order", "/c\nlib\n/nowhere\n/a\n");
  auto r = mkimage(src + " -o " + dir / "img -b 4K --sort " + dir / "order");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("/nowhere: not in the image"), std::string::npos) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  // Each 9000-byte file takes two full blocks and a tail: c, lib/x, lib/y, a, then b.
  EXPECT_EQ(first_block(m.fs, "/c"), 0u);
  EXPECT_EQ(first_block(m.fs, "/lib/x"), 2u);
  EXPECT_EQ(first_block(m.fs, "/lib/y"), 4u);
  EXPECT_EQ(first_block(m.fs, "/a"), 6u);
  EXPECT_EQ(first_block(m.fs, "/b"), 8u);
  expect_same_tree(src, m.fs);
}

TEST(Optimize, PresetsChooseBlockSizeAndLevelAndSaySo) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/f", text_bytes(3000, 1));
  auto block_size = [&](const std::string& image) {
    auto m = posix::MountedImage::open(image);
    bakefs_fsstat st;
    EXPECT_EQ(m.fs.statfs(st), BAKEFS_OK);
    return st.block_size;
  };
  auto r = mkimage(dir / "src" + " -o " + dir / "img --optimize size");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("--optimize size: 1M blocks, zstd level 19"), std::string::npos)
      << r.output;
  EXPECT_EQ(block_size(dir / "img"), 1u << 20);
  r = mkimage(dir / "src" + " -o " + dir / "img --optimize speed -b 16K");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("--optimize speed: 16K blocks, zstd level 6"), std::string::npos)
      << r.output;
  EXPECT_EQ(block_size(dir / "img"), 16u << 10);
  EXPECT_EQ(mkimage(dir / "src" + " -o " + dir / "img --optimize tiny").status, 2);
}

// The recipe of README.md, word for word, as an unprivileged user: the service's files owned by
// the stub's "app", the configuration and tmpfs directories stored, the users in pwd.db.
TEST(Recipe, TheServiceImageOfTheReadme) {
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  // A copy, so that the unprivileged user can read it wherever the checkout lies.
  const std::string example = dir / "service";
  ASSERT_EQ(run_command("cp -R " + std::string(EXAMPLES_DIR) + "/service " + example +
                        " && chmod -R a+rX " + example)
                .status,
            0);
  const auto prefix = unprivileged_prefix();
  if (!prefix) GTEST_SKIP() << "root without setpriv";
  const std::string as_user = *prefix;
  auto r = run_command("cd " + example + " && " + as_user + MKIMAGE_PATH +
                       " rootfs --stub-etc --spec ownership.mtree --config app.json"
                       " --tmpfs /tmp,/var/run -o " +
                       dir / "service.img --emit-object " + dir / "service-image.o");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: the image has its own /etc"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "service-image.o"));
  auto m = posix::MountedImage::open(dir / "service.img");
  auto attr = [&m](const std::string& path) { return attr_of(m.fs, path); };
  for (const char* path : {"/srv/www", "/srv/www/index.html", "/var/log/httpd.log"}) {
    bakefs_attr a = attr(path);
    EXPECT_EQ(a.uid, 1000u) << path;
    EXPECT_EQ(a.gid, 1000u) << path;
  }
  EXPECT_EQ(attr("/srv/www/index.html").mode & 07777, 0640u);
  EXPECT_EQ(attr("/etc/httpd.conf").gid, 1000u);
  EXPECT_EQ(attr("/etc/spwd.db").mode & 07777, 0600u);
  EXPECT_TRUE(S_ISDIR(attr("/var/run").mode));
  std::string config;
  ASSERT_EQ(m.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, config), BAKEFS_OK);
  EXPECT_NE(config.find("\"cmdline\": \"httpd -f /etc/httpd.conf\""), std::string::npos);
  std::vector<std::string> tmpfs;
  ASSERT_EQ(m.fs.boot_records(BAKEFS_BOOT_TMPFS, tmpfs), BAKEFS_OK);
  EXPECT_EQ(tmpfs, (std::vector<std::string>{"/tmp", "/var/run"}));
}

TEST(Progress, TheLineShowsCountsRateAndTimeLeft) {
  EXPECT_EQ(build::ProgressMeter::line(1200, 300 << 20, 5000, 1200 << 20, 10.0),
            "1200/5000 files, 300.0 MiB/1.17 GiB, 30.0 MiB/s, 0:30 left");
  EXPECT_EQ(build::ProgressMeter::line(5, 64 << 20, 5, 64 << 20, 2.0),
            "5/5 files, 64.0 MiB/64.0 MiB, 32.0 MiB/s");
  EXPECT_EQ(build::ProgressMeter::line(3, 2000, 9, 9000, 5.0), 
            "3/9 files, 2.0 KiB/8.8 KiB, 400 B/s, 0:17 left");
}

TEST(Progress, NoTimeLeftUntilTheRateMeansSomething) {
  // One second in, or a sliver of the bytes done: a rate, but no guess at the time left (a
  // build once showed "494:21 left" on its first line).
  EXPECT_EQ(build::ProgressMeter::line(10, 100 << 20, 5000, 1000ull << 20, 1.0),
            "10/5000 files, 100.0 MiB/1000.0 MiB, 100.0 MiB/s");
  EXPECT_EQ(build::ProgressMeter::line(10, 1 << 20, 5000, 1000ull << 20, 30.0),
            "10/5000 files, 1.0 MiB/1000.0 MiB, 34.1 KiB/s");
  EXPECT_EQ(build::ProgressMeter::line(10, 50ull << 20, 5000, 1000ull << 20, 5.0),
            "10/5000 files, 50.0 MiB/1000.0 MiB, 10.0 MiB/s, 1:35 left");
}

TEST(SizeText, UnitsFitTheSize) {
  EXPECT_EQ(build::format_size(0), "0 B");
  EXPECT_EQ(build::format_size(812), "812 B");
  EXPECT_EQ(build::format_size(4300), "4.2 KiB");
  EXPECT_EQ(build::format_size(310u << 20), "310.0 MiB");
  EXPECT_EQ(build::format_size(3ull << 29), "1.50 GiB");
}

TEST(Progress, SilentWhenNotATerminal) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/f", random_bytes(4 << 20, 3));
  auto r = mkimage(dir / "src" + " -o " + dir / "img");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "");
}

TEST(Progress, DrawnInPlaceAndClearedOnATerminalLikeStream) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    build::ProgressMeter meter(out, std::chrono::seconds(0), std::chrono::seconds(0));
    meter.update(1, 10, 2, 20);
    meter.update(2, 20, 2, 20);
  }
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.substr(0, 21), "\rmkimage: 1/2 files, ");
  EXPECT_EQ(text.back(), '\r');  // the last line is wiped
}

}  // namespace
}  // namespace bakefs::test
