// build_image(): mkimage's work around compose() (host/compose/build_image.h), a test per step:
// the outputs checked first, the boot choices, --exclude-from, --sort, the boot-root warnings,
// the writer and the linkable copies, in that order.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <bakefs/posix.h>

#include <string>
#include <vector>

#include "compose/build_image.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class BuildImage : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_ / "src";
    make_dir(source_);
    write_file(source_ + "/keep", "kept");
    image_.recipe.sources = {source_};
    image_.recipe.warn = [this](const std::string& message) { warnings_.push_back(message); };
    image_.output = dir_ / "img";
  }
  // The error build_image() throws, or "" if it throws none.
  std::string error_of() {
    try {
      build::build_image(image_);
    } catch (const build::Error& e) {
      return e.what();
    }
    return "";
  }
  bool warned(const std::string& part) const {
    for (const auto& w : warnings_) {
      if (w.find(part) != std::string::npos) return true;
    }
    return false;
  }
  TempDir dir_;
  std::string source_;
  build::ImageRecipe image_;
  std::vector<std::string> warnings_;
};

TEST_F(BuildImage, TheOutputsAreCheckedBeforeAnySourceIsRead) {
  image_.recipe.sources = {dir_ / "no-such-source"};
  image_.output = dir_.path();  // a directory
  std::string error = error_of();
  EXPECT_NE(error.find("-o " + dir_.path() + ": is a directory"), std::string::npos) << error;
  image_.output = dir_ / "img";
  image_.emit_object = dir_.path();
  error = error_of();
  EXPECT_NE(error.find("--emit-object " + dir_.path()), std::string::npos) << error;
  image_.emit_object.clear();
  image_.emit_asm = dir_.path();
  error = error_of();
  EXPECT_NE(error.find("--emit-asm " + dir_.path()), std::string::npos) << error;
  EXPECT_FALSE(file_exists(dir_ / "img"));
  image_.emit_asm.clear();
  error = error_of();
  EXPECT_NE(error.find("no-such-source"), std::string::npos)
      << "with good outputs, the source is read (and missing): " << error;
}

TEST_F(BuildImage, ExcludeFilesAddToTheExcludes) {
  write_file(source_ + "/a.pyc", "x");
  write_file(source_ + "/b.o", "x");
  write_file(dir_ / "excludes", "# a comment\n*.pyc\n");
  image_.recipe.excludes = {"*.o"};
  image_.exclude_files = {dir_ / "excludes"};
  build::build_image(image_);
  auto m = posix::MountedImage::open(dir_ / "img");
  EXPECT_TRUE(exists_in(m.fs, "keep"));
  EXPECT_FALSE(exists_in(m.fs, "a.pyc")) << "--exclude-from";
  EXPECT_FALSE(exists_in(m.fs, "b.o")) << "--exclude still applies";
  image_.exclude_files = {dir_ / "no-such-list"};
  EXPECT_NE(error_of().find("no-such-list"), std::string::npos);
}

TEST_F(BuildImage, TheConfigsDisksTmpfsAndMountPointsAreDirectoriesAndRecords) {
  const std::string config = "{\"blk\": {\"source\": \"etfs\", \"mountpoint\": \"/data//\"}}";
  write_file(dir_ / "config.json", config);
  image_.config_file = dir_ / "config.json";
  image_.tmpfs_lists = {"/tmp,/var/run"};
  image_.mount_point_lists = {"/mnt/a"};
  build::build_image(image_);
  auto m = posix::MountedImage::open(dir_ / "img");
  std::string stored;
  ASSERT_EQ(m.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, stored), BAKEFS_OK);
  EXPECT_EQ(stored, config);
  std::vector<std::string> tmpfs;
  ASSERT_EQ(m.fs.boot_records(BAKEFS_BOOT_TMPFS, tmpfs), BAKEFS_OK);
  EXPECT_EQ(tmpfs, (std::vector<std::string>{"/tmp", "/var/run"}));
  for (const char* path : {"data", "tmp", "var/run", "mnt/a"}) {
    EXPECT_EQ(attr_of(m.fs, path).mode, S_IFDIR | 0755u) << path;
  }

  // --config-raw: the bytes are stored as they are, and nothing is read from them.
  image_.config_raw = true;
  image_.tmpfs_lists.clear();
  build::build_image(image_);
  auto raw = posix::MountedImage::open(dir_ / "img");
  EXPECT_FALSE(exists_in(raw.fs, "data"));
  EXPECT_EQ(raw.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, stored), BAKEFS_OK);
}

TEST_F(BuildImage, TheRootMountIsRecordedOnlyWhenChosen) {
  for (const std::string mode : {"", "plain", "union"}) {
    image_.root_mount = mode;
    build::build_image(image_);
    auto m = posix::MountedImage::open(dir_ / "img");
    std::string record;
    const int status = m.fs.boot_record(BAKEFS_BOOT_ROOT, 0, record);
    if (mode.empty()) {
      EXPECT_EQ(status, BAKEFS_ENOENT) << "no --root-mount: no record";
      continue;
    }
    ASSERT_EQ(status, BAKEFS_OK) << mode;
    const char no_union = mode == "plain" ? BAKEFS_BOOT_ROOT_NOUNION : 0;
    EXPECT_EQ(record, std::string({no_union, 0, 0, 0})) << mode;
  }
}

TEST_F(BuildImage, SortPathsNotInTheTreeAreWarnings) {
  write_file(dir_ / "order", "keep\nmissing\n");
  image_.sort_file = dir_ / "order";
  build::build_image(image_);
  EXPECT_EQ(warnings_, (std::vector<std::string>{dir_ / "order" + ": missing: not in the image"}));
}

TEST_F(BuildImage, BootRootWarningsOnlyForAnImageToLinkIn) {
  build::build_image(image_);
  EXPECT_TRUE(warnings_.empty());
  image_.emit_asm = dir_ / "img.s";
  build::build_image(image_);
  EXPECT_TRUE(warned("the image alone is / at boot"));
  const std::vector<uint8_t> assembly = read_bytes(dir_ / "img.s");
  EXPECT_NE(std::string(assembly.begin(), assembly.end()).find(".incbin"), std::string::npos);
}

TEST_F(BuildImage, TheObjectComesAfterTheImage) {
  image_.emit_object = dir_ / "img.o";
  build::build_image(image_);
  const std::vector<uint8_t> object = read_bytes(dir_ / "img.o");
  ASSERT_GE(object.size(), 4u);
  EXPECT_EQ(std::string(object.begin(), object.begin() + 4), "\177ELF");
  EXPECT_GT(object.size(), read_bytes(dir_ / "img").size()) << "the object holds the image";

  image_.target = "vax";
  EXPECT_EQ(error_of(), "--target: unknown architecture 'vax'");
}

TEST_F(BuildImage, ComposedIsCalledOnceBeforeTheWriter) {
  std::vector<std::string> events;
  image_.composed = [&events] { events.push_back("composed"); };
  image_.options.progress = [&events](uint64_t, uint64_t, uint64_t, uint64_t) {
    if (events.empty() || events.back() != "progress") events.push_back("progress");
  };
  build::build_image(image_);
  EXPECT_EQ(events, (std::vector<std::string>{"composed", "progress"}));
}

}  // namespace
}  // namespace bakefs::test
