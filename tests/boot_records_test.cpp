// Boot records: mkimage --config and --tmpfs store them, the driver hands them back checked,
// the tools show them, and damaged records are errors, not bytes handed out.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "compose/boot_config.h"
#include "test_support.h"
#include "writer/tree_path.h"

namespace bakefs::test {
namespace {

CommandResult run(const std::string& command) {
  return run_command(command);
}

constexpr const char* kConfig = R"({"cmdline": "httpd -f /etc/httpd.conf", "env": "TZ=UTC"})";

// A small tree with a non-empty /var/run and a file named /srv.
void make_source(const std::string& src) {
  make_dir(src);
  make_dir(src + "/var");
  make_dir(src + "/var/run");
  write_file(src + "/var/run/stale.pid", "42\n");
  write_file(src + "/srv", "not a directory\n");
  write_file(src + "/app", text_bytes(5000, 1));
}

std::vector<uint8_t> image_with_records(const std::string& dir) {
  make_source(dir + "/src");
  build::Options options;
  options.config = kConfig;
  options.tmpfs = {"/tmp", "/var/run"};
  make_image(dir + "/src", dir + "/img", options);
  return read_bytes(dir + "/img");
}

TEST(BootRecords, ConfigAndTmpfsComeBackAsStored) {
  TempDir dir;
  std::vector<uint8_t> bytes = image_with_records(dir.path());
  FileSystem fs;
  ASSERT_EQ(fs.mount(bytes.data(), bytes.size(), posix::platform()), BAKEFS_OK);
  bakefs_fsstat st;
  ASSERT_EQ(fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(st.feature_compat, format::kCompatBoot);
  std::string config;
  ASSERT_EQ(fs.boot_record(BAKEFS_BOOT_CONFIG, 0, config), BAKEFS_OK);
  EXPECT_EQ(config, kConfig);
  EXPECT_EQ(fs.boot_record(BAKEFS_BOOT_CONFIG, 1, config), BAKEFS_ENOENT);
  std::vector<std::string> tmpfs;
  ASSERT_EQ(fs.boot_records(BAKEFS_BOOT_TMPFS, tmpfs), BAKEFS_OK);
  EXPECT_EQ(tmpfs, (std::vector<std::string>{"/tmp", "/var/run"}));
  EXPECT_EQ(fs.boot_record(77, 0, config), BAKEFS_ENOENT);  // unknown types are skipped
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_OK) << (problems.empty() ? "" : problems[0]);
}

TEST(BootRecords, AnImageWithoutThemHasNone) {
  TempDir dir;
  make_source(dir / "src");
  make_image(dir / "src", dir / "img");
  auto m = posix::MountedImage::open(dir / "img");
  bakefs_fsstat st;
  ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
  EXPECT_EQ(st.feature_compat, 0u);
  std::string config;
  EXPECT_EQ(m.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, config), BAKEFS_ENOENT);
  EXPECT_EQ(m.fs.boot_record(BAKEFS_BOOT_TMPFS, 0, config), BAKEFS_ENOENT);
}

TEST(BootRecords, TmpfsPathsAreNormalisedSortedAndChecked) {
  EXPECT_EQ(build::tmpfs_paths({"/var/run/,//tmp", "/var", "/tmp"}),
            (std::vector<std::string>{"/tmp", "/var", "/var/run"}));
  EXPECT_THROW(build::tmpfs_paths({"/"}), build::Error);
  EXPECT_THROW(build::tmpfs_paths({"tmp"}), build::Error);
  EXPECT_THROW(build::tmpfs_paths({"/a/../b"}), build::Error);
}

TEST(BootRecords, TmpfsDirectoriesAreCreatedInTheImage) {
  TempDir dir;
  make_source(dir / "src");
  std::string img = dir / "img";
  auto r = run(std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + img +
               " --tmpfs /tmp --tmpfs /var/run,/run/lock");
  ASSERT_EQ(r.status, 0) << r.output;
  // The non-empty /var/run is covered at boot: its entries are hidden, and mkimage says so.
  EXPECT_NE(r.output.find("/var/run: the image's 1 entries there are hidden"), std::string::npos)
      << r.output;
  auto m = posix::MountedImage::open(img);
  for (const char* path : {"/tmp", "/run", "/run/lock", "/var/run"}) {
    bakefs_ino ino = 0;
    ASSERT_EQ(m.fs.resolve(path, ino), BAKEFS_OK) << path;
    bakefs_attr a;
    ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
    EXPECT_TRUE(S_ISDIR(a.mode)) << path;
    if (std::strcmp(path, "/var/run") != 0) {
      EXPECT_EQ(a.mode & 07777, 0755u) << path;
      EXPECT_EQ(a.uid, 0u);
    }
  }
  std::vector<std::string> tmpfs;
  ASSERT_EQ(m.fs.boot_records(BAKEFS_BOOT_TMPFS, tmpfs), BAKEFS_OK);
  EXPECT_EQ(tmpfs, (std::vector<std::string>{"/run/lock", "/tmp", "/var/run"}));
}

TEST(BootRecords, BadOptionsAreErrorsThatNameTheCause) {
  TempDir dir;
  make_source(dir / "src");
  std::string base = std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img");
  auto r = run(base + " --tmpfs /srv/cache");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/srv is in the image and is not a directory"), std::string::npos)
      << r.output;
  r = run(base + " --tmpfs /");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("root cannot be covered"), std::string::npos) << r.output;
  write_file(dir / "bad.json", "{\"cmdline\": \"x\",\n  oops}\n");
  r = run(base + " --config " + (dir / "bad.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bad.json: not JSON"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
  r = run(base + " --config " + (dir / "missing.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("missing.json: cannot open configuration"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));
  // --config-raw stores any bytes.
  r = run(base + " --config-raw --config " + (dir / "bad.json"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run(std::string(BAKEFS_PATH) + " config " + (dir / "img"));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "{\"cmdline\": \"x\",\n  oops}\n");
}

TEST(BootRecords, TheToolShowsThem) {
  TempDir dir;
  image_with_records(dir.path());
  auto r = run(std::string(BAKEFS_PATH) + " config " + (dir / "img"));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, kConfig);
  r = run(std::string(BAKEFS_PATH) + " info " + (dir / "img"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("boot-records"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tmpfs:               /tmp /var/run"), std::string::npos) << r.output;
  make_image(dir / "src", dir / "plain");
  r = run(std::string(BAKEFS_PATH) + " config " + (dir / "plain"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("no launch configuration"), std::string::npos) << r.output;
}

TEST(BootRecords, AnImageForBootIsToldWhatItsRootGetsAndLacks) {
  TempDir dir;
  make_source(dir / "src");
  std::string base = std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img");
  auto r = run(base + " --emit-object " + (dir / "img.o"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("the image alone is / at boot, read-only: the rump component adds "
                          "/dev, /tmp and /etc as mount points"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--mount-point"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("its own /etc"), std::string::npos) << r.output;
  make_dir(dir / "src/etc");
  r = run(base + " --emit-object " + (dir / "img.o"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("warning: the image has its own /etc"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("remove -lrumprunfs_base"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("adds /dev and /tmp as mount points"), std::string::npos) << r.output;
  // A file where the boot code would mount something.
  write_file(dir / "src/tmp", "x");
  r = run(base + " --emit-object " + (dir / "img.o"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("/tmp is not a directory"), std::string::npos) << r.output;
  r = run(base);  // an image file only (FUSE, tools): no such warning
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(BootRecords, MountPointsAreInTheImageGivenOrFromTheConfigsDisks) {
  TempDir dir;
  make_source(dir / "src");
  // rumprun's launcher repeats "blk", once a disk: every one counts.
  write_file(dir / "app.json",
             "{\"cmdline\": \"app\", \"blk\": {\"source\": \"dev\", \"path\": \"/dev/ld0a\", "
             "\"fstype\": \"blk\", \"mountpoint\": \"/data\"}, \"blk\": {\"source\": \"etfs\", "
             "\"path\": \"ld1a\", \"fstype\": \"blk\", \"mountpoint\": \"/var//cache/\"}, "
             "\"net\": {\"mountpoint\": \"/not-a-disk\"}}");
  auto r = run(std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img") +
               " --config " + (dir / "app.json") + " --mount-point /mnt/usb,/media");
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  for (const char* path : {"/data", "/var/cache", "/mnt/usb", "/media"}) {
    bakefs_ino ino = 0;
    bakefs_attr a;
    ASSERT_EQ(m.fs.resolve(path, ino), BAKEFS_OK) << path;
    ASSERT_EQ(m.fs.getattr(ino, a), BAKEFS_OK);
    EXPECT_EQ(a.mode, 040755u) << path;
  }
  bakefs_ino ino = 0;
  EXPECT_EQ(m.fs.resolve("/not-a-disk", ino), BAKEFS_ENOENT);
  EXPECT_EQ(build::config_mount_points("{\"blk\": {\"mountpoint\": \"/a/\"}}"),
            std::vector<std::string>{"/a"});
  EXPECT_TRUE(build::config_mount_points("not json").empty());
  // A file in the way, or a relative path, is an error naming the option.
  write_file(dir / "src/media", "x");
  r = run(std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img2") +
          " --mount-point /media");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--mount-point /media: /media is in the image and is not a directory"),
            std::string::npos)
      << r.output;
  r = run(std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img2") +
          " --mount-point data");
  EXPECT_NE(r.output.find("--mount-point data: the path must be absolute"), std::string::npos)
      << r.output;
}

TEST(BootRecords, TheRootMountIsPlainUnlessUnionIsAskedFor) {
  TempDir dir;
  make_source(dir / "src");
  std::string base = std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o ";
  struct Case {
    std::string option, image;
    int record;  // -1: none
    const char* shown;
  };
  for (const Case& c :
       {Case{"", "default", -1, "plain"}, Case{"--root-mount plain", "plain", 1, "plain"},
        Case{"--root-mount union", "union", 0, "union"}}) {
    auto r = run(base + (dir / c.image) + " " + c.option);
    ASSERT_EQ(r.status, 0) << c.option << r.output;
    auto m = posix::MountedImage::open(dir / c.image);
    std::string flags;
    uint32_t decoded = 0;
    if (c.record < 0) {
      EXPECT_EQ(m.fs.boot_record(BAKEFS_BOOT_ROOT, 0, flags), BAKEFS_ENOENT);
      EXPECT_EQ(bakefs_boot_root(m.fs.get(), &decoded), BAKEFS_ENOENT);
      EXPECT_EQ(decoded, uint32_t{BAKEFS_BOOT_ROOT_DEFAULT});
    } else {
      ASSERT_EQ(m.fs.boot_record(BAKEFS_BOOT_ROOT, 0, flags), BAKEFS_OK);
      EXPECT_EQ(flags, std::string(1, static_cast<char>(c.record)) + std::string(3, '\0'));
      EXPECT_EQ(bakefs_boot_root(m.fs.get(), &decoded), BAKEFS_OK);
      EXPECT_EQ(decoded, static_cast<uint32_t>(c.record));
    }
    // The image is the tree: mount points are the boot code's to add, not mkimage's.
    bakefs_ino ino = 0;
    EXPECT_EQ(m.fs.resolve("/dev", ino), BAKEFS_ENOENT) << c.option;
    EXPECT_EQ(m.fs.resolve("/tmp", ino), BAKEFS_ENOENT) << c.option;
    r = run(std::string(BAKEFS_PATH) + " info " + (dir / c.image));
    EXPECT_NE(r.output.find(std::string("root_mount:          ") + c.shown), std::string::npos)
        << c.option << r.output;
  }
  EXPECT_EQ(run(base + (dir / "x") + " --root-mount sideways").status, 2);
}

// Forged records whose checksums hold (as an attacker could make them) are still refused.
TEST(BootRecords, ForgedRecordsAreCorruptNotHandedOut) {
  TempDir dir;
  const std::vector<uint8_t> good = image_with_records(dir.path());
  auto boot_status = [](const std::vector<uint8_t>& bytes, uint32_t type, uint32_t index = 0) {
    FileSystem fs;
    int s = fs.mount(bytes.data(), bytes.size(), posix::platform());
    if (s != BAKEFS_OK) return s;
    std::string out;
    return fs.boot_record(type, index, out);
  };
  // A tmpfs path that is not absolute.
  std::vector<uint8_t> bytes = good;
  patch_metadata(bytes, "/var/run", "var/run/");
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_TMPFS, 0), BAKEFS_OK);  // "/tmp" comes first
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_TMPFS, 1), BAKEFS_ECORRUPT);
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_CONFIG, 1), BAKEFS_ECORRUPT);  // walks past it
  // Paths with a "..", "." or empty component (mkimage never writes them; "/.." would be /).
  for (const char* forged : {"/vr/../r", "/var/./r", "/var//rn"}) {
    bytes = good;
    patch_metadata(bytes, "/var/run", forged);
    EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_TMPFS, 1), BAKEFS_ECORRUPT) << forged;
  }
  // A record longer than the extent, and flags that are not zero.
  uint64_t boot = 0;
  std::memcpy(&boot, good.data() + offsetof(format::Superblock, boot), 8);
  ASSERT_NE(boot, 0u);
  bytes = good;
  patch_le(bytes, boot + offsetof(format::BootRecord, length), 1u << 16, 4);
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_CONFIG), BAKEFS_ECORRUPT);
  bytes = good;
  patch_le(bytes, boot + offsetof(format::BootRecord, flags), 1, 2);
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_TMPFS), BAKEFS_ECORRUPT);
  // A root record that is not 4 bytes.
  {
    TempDir d2;
    make_source(d2 / "src");
    build::Options options;
    options.root_flags = 1;
    options.tmpfs = {"/tmp"};
    make_image(d2 / "src", d2 / "img", options);
    std::vector<uint8_t> root = read_bytes(d2 / "img");
    uint64_t at = 0;
    std::memcpy(&at, root.data() + offsetof(format::Superblock, boot), 8);
    // Records: "/tmp" (8 + 8 bytes), then the root record, whose length is at +4.
    patch_le(root, at + 16 + offsetof(format::BootRecord, length), 3, 4);
    EXPECT_EQ(boot_status(root, BAKEFS_BOOT_ROOT), BAKEFS_ECORRUPT);
    FileSystem fs;
    ASSERT_EQ(fs.mount(root.data(), root.size(), posix::platform()), BAKEFS_OK);
    uint32_t decoded = 0;
    EXPECT_EQ(bakefs_boot_root(fs.get(), &decoded), BAKEFS_ECORRUPT);
    EXPECT_EQ(decoded, uint32_t{BAKEFS_BOOT_ROOT_DEFAULT});  // the image alone at /
  }
  // An extent outside the metadata, or without the feature bit: mount refuses the image.
  bytes = good;
  patch_le(bytes, offsetof(format::Superblock, boot) + 8, good.size(), 8);
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_CONFIG), BAKEFS_ECORRUPT);
  bytes = good;
  patch_le(bytes, offsetof(format::Superblock, feature_compat), 0, 4);
  EXPECT_EQ(boot_status(bytes, BAKEFS_BOOT_CONFIG), BAKEFS_ECORRUPT);
  // The full check names the damage.
  bytes = good;
  patch_le(bytes, boot + offsetof(format::BootRecord, length), 1u << 16, 4);
  FileSystem fs;
  ASSERT_EQ(fs.mount(bytes.data(), bytes.size(), posix::platform()), BAKEFS_OK);
  std::vector<std::string> problems;
  EXPECT_EQ(fs.check(problems), BAKEFS_ECORRUPT);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.back().find("boot records"), std::string::npos) << problems.back();
}

// --mount-at: the image is not /, but goes at a path after it (several images in one program).
TEST(BootRecords, MountAtIsStoredNormalisedAndChecked) {
  TempDir dir;
  make_source(dir / "src");
  std::string base = std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img");
  auto r = run(base + " --mount-at /opt//app/ --emit-object " + (dir / "img.o"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "what / gets at boot is no concern of an image mounted elsewhere";
  auto m = posix::MountedImage::open(dir / "img");
  std::string path;
  ASSERT_EQ(m.fs.boot_record(BAKEFS_BOOT_MOUNT, 0, path), BAKEFS_OK);
  EXPECT_EQ(path, "/opt/app");
  EXPECT_EQ(m.fs.boot_record(BAKEFS_BOOT_ROOT, 0, path), BAKEFS_ENOENT);
  std::vector<std::string> problems;
  EXPECT_EQ(m.fs.check(problems), BAKEFS_OK) << (problems.empty() ? "" : problems[0]);
  for (const char* bad : {" --mount-at /", " --mount-at opt", " --mount-at /a/../b",
                          " --mount-at /app --root-mount plain", " --mount-at /app --tmpfs /tmp"}) {
    r = run(base + bad);
    EXPECT_EQ(r.status, 1) << bad << r.output;
    EXPECT_NE(r.output.find("--mount-at"), std::string::npos) << bad << r.output;
  }
  // A forged path, not absolute, or "/": corrupt, for the reader and the full check.
  make_image(dir / "src", dir / "img2", [] {
    build::Options o;
    o.mount_at = "/opt";
    return o;
  }());
  for (const char* forged : {"opt/", "/\0pt"}) {
    std::vector<uint8_t> bytes = read_bytes(dir / "img2");
    patch_metadata(bytes, "/opt", std::string(forged, 4));
    FileSystem fs;
    ASSERT_EQ(fs.mount(bytes.data(), bytes.size(), posix::platform()), BAKEFS_OK);
    EXPECT_EQ(fs.boot_record(BAKEFS_BOOT_MOUNT, 0, path), BAKEFS_ECORRUPT) << forged;
    EXPECT_EQ(fs.check(problems), BAKEFS_ECORRUPT) << forged;
  }
}

// An absolute path of exactly `length` bytes, of names of at most 200 bytes.
std::string long_path(size_t length) {
  std::string path;
  while (path.size() < length) {
    const size_t name = std::min<size_t>(200, length - path.size() - 1);
    path += "/" + std::string(name == 0 ? 1 : name, static_cast<char>('a' + path.size() % 26));
  }
  return path;
}

// The kernel looks paths up only up to MAXPATHLEN - 1 bytes: what the boot code and rumprun
// could not mount on is refused when the image is made, naming the option, path and limit.
TEST(BootRecords, PathsLongerThanTheKernelTakesAreRefused) {
  const std::string fits = long_path(build::kMaxBootPathLength);
  const std::string over = long_path(build::kMaxBootPathLength + 1);
  ASSERT_EQ(fits.size(), 1023u);
  ASSERT_EQ(over.size(), 1024u);
  EXPECT_EQ(build::tmpfs_paths({fits}), std::vector<std::string>{fits});
  EXPECT_EQ(build::directory_paths({fits + "//"}, "--mount-at"), std::vector<std::string>{fits});
  try {
    build::directory_paths({"/tmp," + over}, "--mount-point");
    ADD_FAILURE() << "a 1024-byte path was taken";
  } catch (const build::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--mount-point " + over + ": the path is 1024 bytes"), std::string::npos)
        << what;
    EXPECT_NE(what.find("longer than the 1023"), std::string::npos) << what;
  }
  // A name longer than an image's names can be, even in a short path.
  try {
    build::tmpfs_paths({"/var/" + std::string(256, 'n')});
    ADD_FAILURE() << "a 256-byte name was taken";
  } catch (const build::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is 256 bytes, longer than the 255"), std::string::npos)
        << e.what();
  }

  TempDir dir;
  make_source(dir / "src");
  std::string base = std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img");
  write_file(dir / "disk.json",
             "{\"blk\": {\"source\": \"dev\", \"path\": \"/dev/ld0a\", "
             "\"fstype\": \"blk\", \"mountpoint\": \"" +
                 over + "\"}}");
  for (const std::string& option :
       {std::string("--mount-at"), std::string("--tmpfs"), std::string("--mount-point")}) {
    auto r = run(base + " " + option + " " + over);
    EXPECT_EQ(r.status, 1) << option << r.output;
    EXPECT_NE(r.output.find(option + " " + over + ": the path is 1024 bytes, longer than the 1023"),
              std::string::npos)
        << option << r.output;
    EXPECT_FALSE(std::filesystem::exists(dir / "img")) << option;
  }
  auto r = run(base + " --config " + (dir / "disk.json"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("blk mountpoint " + over + ": the path is 1024 bytes"), std::string::npos)
      << r.output;
  // The longest the kernel takes is stored as given.
  r = run(base + " --mount-at " + fits);
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  std::string path;
  ASSERT_EQ(m.fs.boot_record(BAKEFS_BOOT_MOUNT, 0, path), BAKEFS_OK);
  EXPECT_EQ(path, fits);
  r = run(std::string(MKIMAGE_PATH) + " " + (dir / "src") + " -o " + (dir / "img2") +
          " --mount-point " + fits);
  ASSERT_EQ(r.status, 0) << r.output;
  auto m2 = posix::MountedImage::open(dir / "img2");
  bakefs_ino ino = BAKEFS_ROOT_INO;
  for (const std::string& name : build::split_tree_path(fits).names) {
    ASSERT_EQ(m2.fs.lookup(ino, name, ino), BAKEFS_OK) << name;
  }
}

// Images back to back, as several linked into one program: each one's length from its
// superblock, and what is not an image is told apart from a damaged one.
TEST(BootRecords, ImageLengthFindsTheNextImage) {
  TempDir dir;
  make_source(dir / "src");
  make_image(dir / "src", dir / "img");
  const std::vector<uint8_t> image = read_bytes(dir / "img");
  std::vector<uint8_t> two = image;
  two.resize((image.size() + 15) / 16 * 16 + 32, 0);  // alignment, then zero padding
  const size_t second = two.size();
  two.insert(two.end(), image.begin(), image.end());
  uint64_t length = 0;
  ASSERT_EQ(bakefs_image_length(two.data(), two.size(), &length), BAKEFS_OK);
  EXPECT_EQ(length, image.size());
  ASSERT_EQ(bakefs_image_length(two.data() + second, two.size() - second, &length), BAKEFS_OK);
  EXPECT_EQ(length, image.size());
  EXPECT_EQ(bakefs_image_length(two.data() + image.size() + 1, 300, &length), BAKEFS_EINVAL);
  EXPECT_EQ(length, 0u);
  EXPECT_EQ(bakefs_image_length(image.data(), image.size() - 1, &length), BAKEFS_ECORRUPT);
  EXPECT_EQ(bakefs_image_length(image.data(), 100, &length), BAKEFS_ECORRUPT);
  std::vector<uint8_t> damaged = image;
  damaged[40] ^= 1;
  EXPECT_EQ(bakefs_image_length(damaged.data(), damaged.size(), &length), BAKEFS_ECHECKSUM);
  EXPECT_EQ(bakefs_image_length(nullptr, 0, &length), BAKEFS_EINVAL);
}

}  // namespace
}  // namespace bakefs::test
