// Placement of files' data (writer/placement.h): the fingerprint, the similarity order that
// puts alike tails next to each other, and images that stay reproducible and read back.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_support.h"
#include "writer/numbering.h"
#include "writer/placement.h"

namespace bakefs::test {
namespace {

using build::Placement;

const uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

TEST(Fingerprint, AlikeBytesShareBinsUnrelatedOnesDoNot) {
  const std::string a = random_bytes(4096, 1);
  std::string edited = a;
  for (size_t i = 100; i < 4096; i += 1000) edited[i] = static_cast<char>(edited[i] ^ 0x55);
  const build::Fingerprint fa = build::fingerprint(bytes(a), a.size());
  EXPECT_EQ(build::similarity(fa, fa), build::kFingerprintBins);
  EXPECT_GE(build::similarity(fa, build::fingerprint(bytes(edited), edited.size())), 24u);
  const std::string b = random_bytes(4096, 2);
  EXPECT_LE(build::similarity(fa, build::fingerprint(bytes(b), b.size())), 2u);
  // Nothing to compare: empty bins match nothing, not even themselves.
  const build::Fingerprint empty = build::fingerprint(nullptr, 0);
  EXPECT_EQ(build::similarity(empty, empty), 0u);
  // A few bytes still make one shingle; other few bytes another.
  const build::Fingerprint tiny = build::fingerprint(bytes(std::string("abc")), 3);
  EXPECT_EQ(build::similarity(tiny, tiny), 1u);
  EXPECT_EQ(build::similarity(tiny, build::fingerprint(bytes(std::string("abd")), 3)), 0u);
}

// Four families of five alike files (a family's random base with a few bytes of its own each),
// named so that name order interleaves the families: f00 is family 0, f01 family 1, ...
void make_families(const std::string& root, size_t size = 3000) {
  make_dir(root);
  make_dir(root + "/sub");
  for (int i = 0; i < 20; ++i) {
    std::string content = random_bytes(size, static_cast<uint64_t>(100 + i % 4));
    for (size_t k = 7; k < content.size(); k += 611) content[k] = static_cast<char>('a' + i);
    const std::string name =
        std::string(i < 10 ? "/f" : "/sub/f") + (i < 10 ? "0" : "") + std::to_string(i);
    write_file(root + name, content);
  }
}

int family_of(const std::string& name) {
  return std::stoi(name.substr(1)) % 4;
}

std::vector<std::string> names_in_order(const build::Tree& tree, const build::Options& options) {
  const build::Numbering num = build::number_inodes(*tree.root);
  std::vector<std::string> names;
  for (size_t i : build::data_order(num, {}, options)) names.emplace_back(num.names[i]);
  return names;
}

size_t family_changes(const std::vector<std::string>& names) {
  size_t changes = 0;
  for (size_t i = 1; i < names.size(); ++i)
    changes += family_of(names[i]) != family_of(names[i - 1]);
  return changes;
}

TEST(Placement, SimilarityPutsAlikeFilesNextToEachOther) {
  TempDir dir;
  make_families(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  build::Options options;
  options.block_log = 14;
  options.placement = Placement::kNames;
  const std::vector<std::string> by_names = names_in_order(tree, options);
  options.placement = Placement::kSimilarity;
  const std::vector<std::string> by_similarity = names_in_order(tree, options);
  ASSERT_EQ(by_names.size(), 20u);
  EXPECT_EQ(family_changes(by_names), 19u) << "name order interleaves the families";
  EXPECT_EQ(family_changes(by_similarity), 3u) << "each family in one run";
  EXPECT_EQ(std::set<std::string>(by_similarity.begin(), by_similarity.end()),
            std::set<std::string>(by_names.begin(), by_names.end()));
}

TEST(Placement, AlikeTailsShareFragmentBlocksAndTheImageShrinks) {
  TempDir dir;
  make_families(dir / "src");
  build::Options options;
  options.block_log = 14;  // 16 KiB: five tails of 3000 bytes to a fragment block
  options.dictionary_size = 0;
  options.placement = Placement::kNames;
  build::Stats names = make_image(dir / "src", dir / "names.img", options);
  options.placement = Placement::kSimilarity;
  build::Stats alike = make_image(dir / "src", dir / "alike.img", options);
  EXPECT_EQ(alike.fragment_blocks, names.fragment_blocks);
  // By names each fragment block holds at most two of a family; by similarity five.
  EXPECT_LT(alike.data_bytes * 2, names.data_bytes);
  for (const char* image : {"names.img", "alike.img"}) {
    auto m = posix::MountedImage::open(dir / image);
    expect_same_tree(dir / "src", m.fs);
  }
}

TEST(Placement, NamesGroupsFilesThatShareANameExtensionSortsBySuffix) {
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/a");
  make_dir(dir / "src/b");
  for (const char* path : {"a/copyright", "a/x.h", "a/y.c", "b/copyright", "b/z.h", "top.c"}) {
    write_file(dir / "src" + "/" + path, random_bytes(100, 1) + path);
  }
  build::Tree tree = build::scan_directory(dir / "src");
  build::Options options;
  options.placement = Placement::kNames;
  // Breadth first: top.c, then a's files, then b's; b/copyright joins a/copyright.
  EXPECT_EQ(names_in_order(tree, options),
            (std::vector<std::string>{"top.c", "copyright", "copyright", "x.h", "y.c", "z.h"}));
  options.placement = Placement::kExtension;
  EXPECT_EQ(names_in_order(tree, options),
            (std::vector<std::string>{"copyright", "copyright", "top.c", "y.c", "x.h", "z.h"}));
}

TEST(Placement, EveryFileOnceDataFirstFirstFilesWithoutTailBeforeTheRest) {
  TempDir dir;
  make_families(dir / "src");
  write_file(dir / "src/empty", "");
  write_file(dir / "src/whole", random_bytes(2 * 16384, 9));  // no tail at 16 KiB blocks
  ASSERT_EQ(::link((dir / "src/f03").c_str(), (dir / "src/link").c_str()), 0);
  build::Tree tree = build::scan_directory(dir / "src");
  const build::Numbering num = build::number_inodes(*tree.root);
  build::Options options;
  options.block_log = 14;
  const build::Inode* first = tree.root->children.at("sub")->children.at("f17").get();
  const std::vector<size_t> order = build::data_order(num, {first}, options);
  ASSERT_EQ(order.size(), 22u) << "20 family files, empty and whole; the link is f03";
  EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), order.size());
  EXPECT_EQ(num.inodes[order[0]], first);
  EXPECT_EQ(num.names[order[1]], "empty");
  EXPECT_EQ(num.names[order[2]], "whole");
}

TEST(Placement, TheSameTreeGivesTheSameBytesWhateverTheScanOrderAndThreads) {
  TempDir dir;
  // The same files created in two orders (readdir order differs) and built with 1 and 3
  // threads, at each placement.
  std::vector<int> creation(20);
  for (int i = 0; i < 20; ++i) creation[static_cast<size_t>(i)] = i;
  for (const std::string tree : {"a", "b"}) {
    const std::string root = dir / tree;
    make_dir(root);
    make_dir(root + "/sub");
    for (int i : creation) {
      std::string content =
          random_bytes(3000 + static_cast<size_t>(i) * 50, static_cast<uint64_t>(100 + i % 4));
      content[5] = static_cast<char>(i);
      const std::string path = root + (i % 2 ? "/sub/g" : "/g") + std::to_string(i);
      write_file(path, content);
      set_mtime(path, 1700000000, 0);
    }
    set_mtime(root + "/sub", 1700000000, 0);
    set_mtime(root, 1700000000, 0);
    std::reverse(creation.begin(), creation.end());
  }
  for (Placement placement : {Placement::kNames, Placement::kExtension, Placement::kSimilarity}) {
    SCOPED_TRACE(static_cast<int>(placement));
    build::Options options;
    options.block_log = 14;
    options.level = 3;
    options.placement = placement;
    options.threads = 1;
    make_image(dir / "a", dir / "a.img", options);
    options.threads = 3;
    make_image(dir / "b", dir / "b.img", options);
    EXPECT_TRUE(read_bytes(dir / "a.img") == read_bytes(dir / "b.img"));
    auto m = posix::MountedImage::open(dir / "b.img");
    expect_same_tree(dir / "b", m.fs);
  }
}

}  // namespace
}  // namespace bakefs::test
