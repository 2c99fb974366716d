// compose(): the order in which mkimage assembles a tree (README.md, "Order"), a test per step
// against the one after it. (The --stub-etc databases rebuilt from the final master.passwd are
// tested through the command line in stub_etc_test.)
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compose/compose.h"
#include "test_support.h"
#include "writer/source_file.h"
#include "writer/tree_ops.h"
#include "writer/tree_path.h"

namespace bakefs::test {
namespace {

// The bytes of a regular file of the tree, read as the image writer reads them.
std::string bytes_of(const build::Inode* n) {
  if (n == nullptr || !n->is_regular()) return "<not a file>";
  std::string bytes(n->size, '\0');
  if (n->size != 0) {
    build::SourceFile file(*n);
    file.read(0, bytes.data(), bytes.size());
    file.finish();
  }
  return bytes;
}

class Compose : public ::testing::Test {
 protected:
  void SetUp() override {
    lower_ = dir_ / "lower";
    upper_ = dir_ / "upper";
    make_dir(lower_);
    make_dir(upper_);
  }
  build::Inode* find(const build::Tree& tree, const std::string& path) {
    return build::find_path(tree, path);
  }
  TempDir dir_;
  std::string lower_, upper_;
};

TEST_F(Compose, SourcesMergeInOrderLessWhatIsExcluded) {
  write_file(lower_ + "/both", "lower");
  write_file(lower_ + "/only-lower", "l");
  write_file(lower_ + "/cache.pyc", "x");
  write_file(upper_ + "/both", "upper");
  build::Recipe recipe;
  recipe.sources = {lower_, upper_};
  recipe.excludes = {"*.pyc"};
  build::Tree tree = build::compose(recipe);
  EXPECT_EQ(bytes_of(find(tree, "both")), "upper") << "the later source wins";
  EXPECT_EQ(bytes_of(find(tree, "only-lower")), "l");
  EXPECT_EQ(find(tree, "cache.pyc"), nullptr) << "--exclude applies to every source";
  recipe.sources = {upper_, lower_};
  EXPECT_EQ(bytes_of(find(build::compose(recipe), "both")), "lower");
}

TEST_F(Compose, TheStubLiesBeneathTheSources) {
  make_dir(lower_ + "/etc");
  write_file(lower_ + "/etc/hosts", "10.0.0.1 mine\n");
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.stub_etc = true;
  build::Tree tree = build::compose(recipe);
  EXPECT_EQ(bytes_of(find(tree, "etc/hosts")), "10.0.0.1 mine\n") << "the source's file wins";
  EXPECT_NE(bytes_of(find(tree, "etc/master.passwd")).find("app:"), std::string::npos)
      << "the stub fills in what the source lacks";
}

TEST_F(Compose, SpecsComeAfterTheSourcesAndSeeTheStubsUsers) {
  write_file(lower_ + "/f", "data");
  write_file(dir_ / "spec", "./f type=file uname=app mode=0600\n");
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.stub_etc = true;
  recipe.specs = {dir_ / "spec"};
  build::Tree tree = build::compose(recipe);
  ASSERT_NE(find(tree, "f"), nullptr);
  EXPECT_EQ(find(tree, "f")->uid, 1000u) << "uname=app is the stub's user";
  EXPECT_EQ(find(tree, "f")->mode & 07777, 0600u);
}

TEST_F(Compose, RemoveComesAfterTheSpecs) {
  write_file(dir_ / "made", "by the spec");
  write_file(dir_ / "spec", "./new type=file contents=" + dir_ / "made" + "\n");
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.specs = {dir_ / "spec"};
  EXPECT_EQ(bytes_of(find(build::compose(recipe), "new")), "by the spec");
  recipe.removes = {"/new"};
  EXPECT_EQ(find(build::compose(recipe), "new"), nullptr) << "--remove sees what a spec made";
}

TEST_F(Compose, IdMapsComeAfterTheSpecsAndAllRootAfterTheMaps) {
  write_file(lower_ + "/f", "data");
  write_file(dir_ / "spec", "./f type=file uid=5 gid=6\n");
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.specs = {dir_ / "spec"};
  recipe.id_maps.uids = {*build::parse_id_range("5:7")};
  build::Tree tree = build::compose(recipe);
  EXPECT_EQ(find(tree, "f")->uid, 7u) << "the map rewrites the spec's owner";
  EXPECT_EQ(find(tree, "f")->gid, 6u);
  recipe.id_maps.all_root = true;
  tree = build::compose(recipe);
  EXPECT_EQ(find(tree, "f")->uid, 0u);
  EXPECT_EQ(find(tree, "f")->gid, 0u);
}

TEST_F(Compose, BootDirectoriesComeAfterRemove) {
  make_dir(lower_ + "/tmp");
  write_file(lower_ + "/tmp/junk", "x");
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.removes = {"/tmp"};
  recipe.tmpfs = {"/tmp"};
  recipe.mount_points = {"/data"};
  recipe.disk_mount_points = {"/disk"};
  build::Tree tree = build::compose(recipe);
  ASSERT_NE(find(tree, "tmp"), nullptr) << "--tmpfs makes what --remove took";
  EXPECT_TRUE(find(tree, "tmp")->is_dir());
  EXPECT_TRUE(find(tree, "tmp")->children.empty());
  ASSERT_NE(find(tree, "data"), nullptr);
  EXPECT_TRUE(find(tree, "data")->is_dir());
  ASSERT_NE(find(tree, "disk"), nullptr);
  // A mount point that the tree has as something else is an error naming the option.
  write_file(lower_ + "/data", "a file");
  recipe.tmpfs = {};
  try {
    build::compose(recipe);
    ADD_FAILURE() << "a file as mount point was accepted";
  } catch (const build::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--mount-point"), std::string::npos) << e.what();
  }
}

TEST_F(Compose, TheTimeClampIsLastAndCoversWhatTheStepsMade) {
  write_file(lower_ + "/f", "data");
  set_mtime(lower_ + "/f", 2'000'000'000, 5);
  set_mtime(lower_, 2'000'000'000, 0);
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.stub_etc = true;
  recipe.mount_points = {"/data"};
  recipe.build_time = 1'000'000'000;
  build::Tree tree = build::compose(recipe);
  EXPECT_EQ(find(tree, "f")->mtime_sec, 1'000'000'000);
  EXPECT_EQ(find(tree, "f")->mtime_nsec, 0u);
  for (const char* made : {"data", "etc/passwd", "etc/pwd.db"}) {
    ASSERT_NE(find(tree, made), nullptr) << made;
    EXPECT_LE(find(tree, made)->mtime_sec, 1'000'000'000) << made;
  }
  EXPECT_LE(tree.root->mtime_sec, 1'000'000'000);
}

TEST_F(Compose, WarningsReachTheCaller) {
  make_dir(lower_ + "/tmp");
  write_file(lower_ + "/tmp/hidden", "x");
  std::vector<std::string> warnings;
  build::Recipe recipe;
  recipe.sources = {lower_};
  recipe.tmpfs = {"/tmp"};
  recipe.warn = [&warnings](const std::string& w) { warnings.push_back(w); };
  build::compose(recipe);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("--tmpfs /tmp"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace bakefs::test

namespace bakefs::test {
namespace {

// The one rule for paths in the tree that every source and option uses.
TEST(TreePath, OneRuleForEverySourceAndOption) {
  using build::TreePath;
  auto names = [](std::string_view p) { return build::split_tree_path(p).names; };
  EXPECT_EQ(names("/a//b/./c/"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(names("a/b/c"), (std::vector<std::string>{"a", "b", "c"}));
  for (const char* root : {"", "/", ".", "./", "//./"}) EXPECT_TRUE(names(root).empty()) << root;
  EXPECT_TRUE(build::split_tree_path("./x").had_dot);
  EXPECT_FALSE(build::split_tree_path("/x/y").had_dot);
  EXPECT_EQ(build::split_tree_path("a/../b").problem, TreePath::Problem::dot_dot);
  EXPECT_EQ(build::split_tree_path("..").problem, TreePath::Problem::dot_dot);
  EXPECT_TRUE(build::split_tree_path("a/..b/c..").ok()) << "only a whole '..' part";
  std::string deep;
  for (size_t i = 0; i < build::kMaxTreeDepth; ++i) deep += "/d";
  EXPECT_TRUE(build::split_tree_path(deep).ok());
  EXPECT_EQ(build::split_tree_path(deep + "/d").problem, TreePath::Problem::too_deep);
  EXPECT_EQ(build::join_tree_path({"a", "b", "c"}), "a/b/c");
  EXPECT_EQ(build::join_tree_path({"a", "b", "c"}, 2), "a/b");
  EXPECT_EQ(build::join_tree_path({}), "");
}

}  // namespace
}  // namespace bakefs::test
