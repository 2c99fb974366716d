// mkimage's size levers (format 1.1): the x86 branch filter and its feature bit, fragments by
// kind of file, zstd parameters tuned to the block size; each reads back the same bytes and
// builds the same image every time.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "test_support.h"
#include "writer/classify.h"
#include "x86_filter.h"

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;

std::vector<uint8_t> bytes_of(std::initializer_list<int> list) {
  std::vector<uint8_t> v;
  for (int b : list) v.push_back(static_cast<uint8_t>(b));
  return v;
}

TEST(X86Filter, MakesNearBranchTargetsAbsoluteAndLeavesTheRest) {
  // CALL +0 at 0 (target 5); JMP -5 at 5 (target 5); a far CALL (top byte 0x12) and an E8
  // with fewer than 4 bytes after it stay as they are.
  std::vector<uint8_t> b = bytes_of({0xe8, 0x00, 0x00, 0x00, 0x00, 0xe9, 0xfb, 0xff, 0xff, 0xff,
                                     0xe8, 0x00, 0x00, 0x00, 0x12, 0x90, 0xe8, 0x01, 0x02});
  const std::vector<uint8_t> original = b;
  x86_filter::encode(b.data(), b.size());
  EXPECT_EQ(b, bytes_of({0xe8, 0x05, 0x00, 0x00, 0x00, 0xe9, 0x05, 0x00, 0x00, 0x00, 0xe8, 0x00,
                         0x00, 0x00, 0x12, 0x90, 0xe8, 0x01, 0x02}));
  x86_filter::decode(b.data(), b.size());
  EXPECT_EQ(b, original);
  // Targets wrap within 25 bits, sign-extended: a backward call near the start.
  std::vector<uint8_t> back = bytes_of({0xe8, 0xf0, 0xff, 0xff, 0xff});  // target -11
  x86_filter::encode(back.data(), back.size());
  EXPECT_EQ(back, bytes_of({0xe8, 0xf5, 0xff, 0xff, 0xff}));
}

// The filter as FORMAT.md states it, one byte at a time.
void reference_encode(std::vector<uint8_t>& b) {
  for (size_t i = 0; i + 5 <= b.size();) {
    if (b[i] != 0xe8 && b[i] != 0xe9) {
      ++i;
      continue;
    }
    if (b[i + 4] == 0x00 || b[i + 4] == 0xff) {
      uint32_t v = uint32_t{b[i + 1]} | uint32_t{b[i + 2]} << 8 | uint32_t{b[i + 3]} << 16 |
                   uint32_t{b[i + 4]} << 24;
      v = (v + static_cast<uint32_t>(i + 5)) & 0x1ffffffu;
      if (v & 0x1000000u) v |= 0xfe000000u;
      for (int k = 0; k < 4; ++k)
        b[i + 1 + static_cast<size_t>(k)] = static_cast<uint8_t>(v >> (8 * k));
    }
    i += 5;
  }
}

TEST(X86Filter, EncodesAsTheByteByByteDefinition) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::string r = random_bytes(seed % 97 + (seed % 5 == 0 ? 5000 : 0), seed);
    for (size_t i = 0; i < r.size(); ++i) {
      const uint8_t pick = static_cast<uint8_t>(r[i]) % 6;
      if (pick < 4)
        r[i] = static_cast<char>(pick == 0 ? 0xe8 : pick == 1 ? 0xe9 : pick == 2 ? 0 : 0xff);
    }
    std::vector<uint8_t> fast(r.begin(), r.end()), slow = fast;
    x86_filter::encode(fast.data(), fast.size());
    reference_encode(slow);
    ASSERT_EQ(fast, slow) << seed;
  }
}

TEST(X86Filter, DecodeUndoesEncodeOnAnyBytes) {
  // Dense E8/E9 bytes (windows that overlap, converted or not) and real machine code.
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    std::string r = random_bytes(4096 + seed * 37, seed);
    for (size_t i = 0; i < r.size(); i += 1 + (seed + i) % 7) {
      r[i] = static_cast<char>((seed + i) % 3 == 0 ? 0xe9 : 0xe8);
      if (i + 4 < r.size() && (i & 1)) r[i + 4] = static_cast<char>(i & 2 ? 0xff : 0x00);
    }
    std::vector<uint8_t> b(r.begin(), r.end());
    const std::vector<uint8_t> original = b;
    x86_filter::encode(b.data(), b.size());
    EXPECT_NE(b, original) << seed;
    x86_filter::decode(b.data(), b.size());
    ASSERT_EQ(b, original) << seed;
  }
  std::vector<uint8_t> code = read_bytes("/proc/self/exe");
  const std::vector<uint8_t> original = code;
  x86_filter::encode(code.data(), code.size());
  x86_filter::decode(code.data(), code.size());
  EXPECT_TRUE(code == original);
}

// A tree with machine code (this test program, whole and cut short), text, compressed data
// and random bytes.
void make_mixed_tree(const std::string& root) {
  make_dir(root);
  make_dir(root + "/bin");
  make_dir(root + "/etc");
  const std::vector<uint8_t> exe = read_bytes("/proc/self/exe");
  const std::string program(exe.begin(), exe.end());
  write_file(root + "/bin/program", program, 0755);
  write_file(root + "/bin/small", program.substr(0, 300000), 0755);
  for (int i = 0; i < 40; ++i) {
    write_file(root + "/etc/conf" + std::to_string(i),
               text_bytes(700 + static_cast<size_t>(i) * 97, static_cast<uint64_t>(i)));
  }
  write_file(root + "/etc/data.gz", "\x1f\x8b\x08" + random_bytes(50000, 7));
  write_file(root + "/random.bin", random_bytes(200000, 8));
}

uint32_t incompat_of(const std::vector<uint8_t>& image) {
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  return sb.feature_incompat.load();
}

TEST(X86Filter, MachineCodeShrinksAndReadsBackTheSame) {
  TempDir dir;
  make_mixed_tree(dir / "src");
  build::Options options;
  build::Stats with = make_image(dir / "src", dir / "x86.img", options);
  options.x86_filter = false;
  build::Stats without = make_image(dir / "src", dir / "plain.img", options);
  EXPECT_GT(with.x86_blocks, 0u);
  EXPECT_EQ(without.x86_blocks, 0u);
  EXPECT_LT(with.image_bytes, without.image_bytes) << "the filter pays on machine code";
  EXPECT_NE(incompat_of(read_bytes(dir / "x86.img")) & fmt::kIncompatX86Filter, 0u);
  EXPECT_EQ(incompat_of(read_bytes(dir / "plain.img")) & fmt::kIncompatX86Filter, 0u);
  for (const char* image : {"x86.img", "plain.img"}) {
    auto m = posix::MountedImage::open(dir / image);
    bakefs_fsstat st;
    ASSERT_EQ(m.fs.statfs(st), BAKEFS_OK);
    EXPECT_EQ(st.version_major, 1u);
    EXPECT_EQ(st.version_minor, 1u);
    expect_same_tree(dir / "src", m.fs);
  }
}

TEST(X86Filter, OnlyMachineCodeIsFiltered) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/text", text_bytes(1u << 20, 1));
  // An ELF header for another machine (AArch64): not x86 code.
  std::string arm =
      "\x7f"
      "ELF" +
      std::string(60, '\0') + text_bytes(500000, 2);
  arm[4] = 2;
  arm[5] = 1;
  arm[18] = static_cast<char>(183);
  write_file(dir / "src/arm", arm);
  build::Stats s = make_image(dir / "src", dir / "img");
  EXPECT_EQ(s.x86_blocks, 0u);
  EXPECT_EQ(incompat_of(read_bytes(dir / "img")) & fmt::kIncompatX86Filter, 0u);
}

TEST(X86Filter, TheBlockFlagNeedsTheFeatureAndACompressedBlock) {
  TempDir dir;
  make_mixed_tree(dir / "src");
  build::Options options;
  options.threads = 1;
  make_image(dir / "src", dir / "img", options);
  const std::vector<uint8_t> image = read_bytes(dir / "img");
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  ASSERT_NE(sb.feature_incompat.load() & fmt::kIncompatX86Filter, 0u);
  const uint64_t table = sb.blocks.offset.load();
  auto entry = [&](uint32_t id) {
    fmt::BlockEntry e;
    std::memcpy(&e, image.data() + table + uint64_t{id} * sizeof(e), sizeof(e));
    return e;
  };
  auto read_file = [&](const std::vector<uint8_t>& bytes, const std::string& path) {
    FileSystem fs;
    EXPECT_EQ(fs.mount(bytes.data(), bytes.size(), posix::platform()), BAKEFS_OK);
    bakefs_ino ino = 0;
    EXPECT_EQ(fs.resolve(path, ino), BAKEFS_OK);
    std::string content;
    return fs.read_all(ino, content);
  };
  EXPECT_EQ(read_file(image, "bin/program"), BAKEFS_OK);
  // Without the feature bit, a flagged block is damage, not a block to read.
  std::vector<uint8_t> no_bit = image;
  patch_le(no_bit, offsetof(fmt::Superblock, feature_incompat),
           sb.feature_incompat.load() & ~fmt::kIncompatX86Filter, 4);
  EXPECT_EQ(read_file(no_bit, "bin/program"), BAKEFS_ECORRUPT);
  // A raw block (random.bin's) with the flag: damage too (raw blocks are mapped in place).
  uint32_t raw_id = UINT32_MAX;
  for (uint32_t id = 0; id < sb.block_count.load(); ++id) {
    fmt::BlockEntry e = entry(id);
    if (e.stored_size.load() == e.raw_size.load() && e.raw_size.load() == 1u << 17) raw_id = id;
  }
  ASSERT_NE(raw_id, UINT32_MAX);
  std::vector<uint8_t> flagged = image;
  patch_le(flagged,
           table + uint64_t{raw_id} * sizeof(fmt::BlockEntry) + offsetof(fmt::BlockEntry, raw_size),
           (1u << 17) | fmt::kBlockX86Filter, 4);
  EXPECT_EQ(read_file(flagged, "random.bin"), BAKEFS_ECORRUPT);
  std::vector<uint8_t> unflagged = image;
  patch_le(unflagged,
           table + uint64_t{raw_id} * sizeof(fmt::BlockEntry) + offsetof(fmt::BlockEntry, raw_size),
           1u << 17, 4);
  EXPECT_EQ(read_file(unflagged, "random.bin"), BAKEFS_OK);  // the patch itself is harmless
  // A reader that knows no filter refuses the image at mount (an unknown incompat bit).
  std::vector<uint8_t> unknown = image;
  patch_le(unknown, offsetof(fmt::Superblock, feature_incompat),
           sb.feature_incompat.load() | (1u << 29), 4);
  FileSystem fs;
  EXPECT_EQ(fs.mount(unknown.data(), unknown.size(), posix::platform()), BAKEFS_ENOTSUP);
}

TEST(SizeLevers, EachLeverReadsBackAndBuildsTheSameBytes) {
  TempDir dir;
  make_mixed_tree(dir / "src");
  for (uint32_t block_log : {12u, 17u, 20u}) {
    for (int lever = 0; lever < 4; ++lever) {
      SCOPED_TRACE("block_log " + std::to_string(block_log) + ", lever " + std::to_string(lever));
      build::Options options;
      options.block_log = block_log;
      options.level = 3;
      options.tuned_parameters = lever == 0 || lever == 1;
      options.fragments_by_kind = lever == 0 || lever == 2;
      options.x86_filter = lever == 0 || lever == 3;
      options.threads = 1;
      make_image(dir / "src", dir / "a.img", options);
      options.threads = 3;
      make_image(dir / "src", dir / "b.img", options);
      EXPECT_TRUE(read_bytes(dir / "a.img") == read_bytes(dir / "b.img"));
      auto m = posix::MountedImage::open(dir / "b.img");
      expect_same_tree(dir / "src", m.fs);
    }
  }
}

TEST(SizeLevers, TailsOfAKindShareFragmentBlocks) {
  TempDir dir;
  make_dir(dir / "src");
  // Text and random tails, alternating in data order: by kind they fill separate fragments.
  for (int i = 0; i < 20; ++i) {
    write_file(dir / "src" + "/t" + std::to_string(i) + ".a",
               i % 2 ? text_bytes(3000, static_cast<uint64_t>(i))
                     : random_bytes(3000, static_cast<uint64_t>(i)));
  }
  build::Options options;
  options.block_log = 14;
  options.dictionary_size = 0;
  build::Stats by_kind = make_image(dir / "src", dir / "kind.img", options);
  options.fragments_by_kind = false;
  build::Stats mixed = make_image(dir / "src", dir / "mixed.img", options);
  EXPECT_GT(by_kind.blocks_raw, mixed.blocks_raw) << "random tails now fill blocks of their own";
  EXPECT_LT(by_kind.data_bytes, mixed.data_bytes);
  auto m = posix::MountedImage::open(dir / "kind.img");
  expect_same_tree(dir / "src", m.fs);
}

TEST(Classify, KindsFromTheFirstBytes) {
  TempDir dir;
  make_dir(dir / "src");
  auto kind_of = [&](const std::string& bytes) {
    write_file(dir / "src/f", bytes);
    build::Tree tree = build::scan_directory(dir / "src");
    const build::Inode& n = *tree.root->children.at("f");
    build::SourceFile source(n);
    std::vector<uint8_t> head(std::min<size_t>(bytes.size(), build::kClassifyBytes));
    source.read(0, head.data(), head.size());
    return build::classify(head.data(), head.size(), n.size, source);
  };
  EXPECT_EQ(kind_of("int main(void) {\n  return 0;\n}\n").kind, build::Kind::kText);
  EXPECT_EQ(kind_of("\x1f\x8b\x08" + random_bytes(100, 1)).kind, build::Kind::kCompressed);
  EXPECT_EQ(kind_of("\x28\xb5\x2f\xfd" + random_bytes(100, 1)).kind, build::Kind::kCompressed);
  EXPECT_EQ(kind_of(std::string("ab\0cd", 5)).kind, build::Kind::kBinary);
  const std::vector<uint8_t> exe = read_bytes("/proc/self/exe");
  build::FileClass program = kind_of(std::string(exe.begin(), exe.end()));
  EXPECT_EQ(program.kind, build::Kind::kElf);
  ASSERT_FALSE(program.code.empty()) << "this program has an executable segment";
  EXPECT_TRUE(program.code_in(program.code[0].first, 1));
  // Program headers that point outside the file: an ELF file without code ranges.
  std::string bad(exe.begin(), exe.begin() + 64);
  bad[32] = '\x7f';
  EXPECT_TRUE(kind_of(bad).code.empty());
}

}  // namespace
}  // namespace bakefs::test
