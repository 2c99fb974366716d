// craft_badfs OUTDIR: writes the crafted images of the badfs corpus (tests/badfs/README.md):
// small trees built with the mkimage library, then edited so that their directory graph lies
// while every checksum holds (the edits are resealed). Each image is written as
// OUTDIR/<first 16 hex digits of its SHA-256>.img, with a line "<name> <what>" on standard
// output for the corpus's MANIFEST. The images are committed; this program is how they were
// made and how to make more.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <bakefs/posix.h>
#include <nettle/sha2.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.h"

namespace bakefs::test {
namespace {

namespace fmt = ::bakefs::format;

fmt::Superblock superblock(const std::vector<uint8_t>& image) {
  fmt::Superblock sb;
  std::memcpy(&sb, image.data(), sizeof(sb));
  return sb;
}

uint32_t load32(const std::vector<uint8_t>& image, uint64_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | image.at(at + static_cast<uint64_t>(i));
  return v;
}

void store32(std::vector<uint8_t>& image, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) image.at(at + static_cast<uint64_t>(i)) = static_cast<uint8_t>(v >> (8 * i));
}

// Image offset of the entry record `name` in directory `dir`.
uint64_t entry_offset(const std::vector<uint8_t>& image, bakefs_ino dir, const std::string& name) {
  const fmt::Superblock sb = superblock(image);
  const uint64_t slot = sb.inodes.offset.load() + uint64_t{dir - 1} * fmt::kSlotSize;
  const uint16_t flags = static_cast<uint16_t>(image.at(slot + 2) | image.at(slot + 3) << 8);
  const bool extended = (flags & fmt::kInodeExtended) != 0;
  const uint64_t block = sb.heap.offset.load() +
                         uint64_t{load32(image, slot + (extended ? 40 : 12))} * 4;
  const uint32_t count = load32(image, slot + (extended ? 48 : 24));
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t record = block + uint64_t{i} * sizeof(fmt::DirEntry);
    const uint32_t name_offset = load32(image, record + 4);
    const uint16_t length = static_cast<uint16_t>(image.at(record + 8) | image.at(record + 9) << 8);
    if (length == name.size() &&
        std::memcmp(image.data() + block + name_offset, name.data(), length) == 0) {
      return record;
    }
  }
  throw std::runtime_error("no entry " + name + " in directory " + std::to_string(dir));
}

// Points entry `name` of `dir` at inode `to`, and reseals the checksums.
void redirect(std::vector<uint8_t>& image, bakefs_ino dir, const std::string& name, bakefs_ino to) {
  store32(image, entry_offset(image, dir, name), to);
  reseal_image(image);
}

bakefs_ino ino_of(const std::vector<uint8_t>& image, const std::string& path) {
  FileSystem fs;
  if (fs.mount(image.data(), image.size(), posix::platform()) != BAKEFS_OK) {
    throw std::runtime_error("the unedited image does not mount");
  }
  bakefs_ino ino = 0;
  if (fs.resolve(path, ino) != BAKEFS_OK) throw std::runtime_error("no " + path);
  return ino;
}

std::vector<uint8_t> build(const std::string& src, const TempDir& dir) {
  build::Options options;
  options.block_log = 12;
  options.unit_log = 9;
  const std::string image = dir / "image";
  make_image(src, image, options);
  return read_bytes(image);
}

void emit(const std::string& out_dir, const std::vector<uint8_t>& image, const char* what) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, image.size(), image.data());
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof(digest), digest);
  char name[17];
  for (int i = 0; i < 8; ++i) std::snprintf(name + 2 * i, 3, "%02x", digest[i]);
  write_bytes(out_dir + "/" + name + ".img", image);
  std::printf("%s.img %s\n", name, what);
}

// A directory that lists its own grandparent: /a/b/c/up is /a.
void cycle(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/a");
  make_dir(src + "/a/b");
  make_dir(src + "/a/b/c");
  make_dir(src + "/a/b/c/up");
  write_file(src + "/a/b/c/file", "in c\n");
  std::vector<uint8_t> image = build(src, dir);
  redirect(image, ino_of(image, "a/b/c"), "up", ino_of(image, "a"));
  emit(out, image, "cycle: /a/b/c/up names /a, its own grandparent");
}

// A directory that lists itself, and one that lists the root.
void self_and_root(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/d");
  make_dir(src + "/d/me");
  make_dir(src + "/d/top");
  std::vector<uint8_t> image = build(src, dir);
  const bakefs_ino d = ino_of(image, "d");
  redirect(image, d, "me", d);
  redirect(image, d, "top", BAKEFS_ROOT_INO);
  emit(out, image, "self and root: /d/me names /d, /d/top names the root");
}

// One directory with two parents: /p2/alias is /p1/shared.
void two_parents(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/p1");
  make_dir(src + "/p1/shared");
  write_file(src + "/p1/shared/file", "shared\n");
  make_dir(src + "/p2");
  make_dir(src + "/p2/alias");
  std::vector<uint8_t> image = build(src, dir);
  redirect(image, ino_of(image, "p2"), "alias", ino_of(image, "p1/shared"));
  emit(out, image, "two parents: /p2/alias names /p1/shared");
}

// 2^40 paths from 40 directories: each level lists the next one twice (x and y), so every
// step passes the parent check and only a walk that remembers directories sees the doubling.
void doubled_levels(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  std::string path = src + "/top";
  make_dir(path);
  std::vector<std::string> levels;
  std::string rel = "top";
  for (int i = 0; i < 40; ++i) {
    make_dir(path + "/y");
    levels.push_back(rel);
    path += "/x";
    rel += "/x";
    make_dir(path);
  }
  write_file(path + "/leaf", "2^40 paths lead here\n");
  std::vector<uint8_t> image = build(src, dir);
  std::vector<std::pair<uint64_t, bakefs_ino>> edits;  // found before any edit breaks the sums
  for (const std::string& level : levels) {
    edits.emplace_back(entry_offset(image, ino_of(image, level), "y"), ino_of(image, level + "/x"));
  }
  for (const auto& [offset, to] : edits) store32(image, offset, to);
  reseal_image(image);
  emit(out, image, "doubled levels: 40 directories each listed twice by the one above (2^40 paths)");
}

// A file entry that names a directory and a directory entry whose type says file.
void types_disagree(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  make_dir(src + "/sub");
  write_file(src + "/file", "plain\n");
  write_file(src + "/sub/inner", "inner\n");
  std::vector<uint8_t> image = build(src, dir);
  redirect(image, BAKEFS_ROOT_INO, "file", ino_of(image, "sub"));
  emit(out, image, "types disagree: the regular entry /file names the directory /sub");
}

// A regular file whose extended inode says it holds 2^64 - 1 bytes: a kernel keeps sizes in a
// signed off_t, and NetBSD's uvm_vnp_setsize asserted on the -1 it became (a rump kernel panic
// that rump_vnops_fuzz found before the core refused sizes above 2^63 - 1).
void huge_size(const std::string& out) {
  TempDir dir;
  const std::string src = dir / "src";
  make_dir(src);
  write_file(src + "/big", "small really\n");
  const struct timespec before_1970[2] = {{-1, 0}, {-1, 0}};  // the extended inode form
  if (utimensat(AT_FDCWD, (src + "/big").c_str(), before_1970, 0) != 0) {
    throw std::runtime_error("utimensat " + src + "/big failed");
  }
  std::vector<uint8_t> image = build(src, dir);
  const fmt::Superblock sb = superblock(image);
  const uint64_t slot = sb.inodes.offset.load() + uint64_t{ino_of(image, "big") - 1} * fmt::kSlotSize;
  const uint16_t flags = static_cast<uint16_t>(image.at(slot + 2) | image.at(slot + 3) << 8);
  if ((flags & fmt::kInodeExtended) == 0) throw std::runtime_error("/big is not an extended inode");
  store32(image, slot + offsetof(fmt::ExtendedInode, size), 0xffffffffu);
  store32(image, slot + offsetof(fmt::ExtendedInode, size) + 4, 0xffffffffu);
  reseal_image(image);
  emit(out, image, "huge size: the regular file /big says it holds 2^64 - 1 bytes");
}

}  // namespace
}  // namespace bakefs::test

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: craft_badfs OUTDIR\n");
    return 2;
  }
  using namespace bakefs::test;
  try {
    cycle(argv[1]);
    self_and_root(argv[1]);
    two_parents(argv[1]);
    doubled_levels(argv[1]);
    types_disagree(argv[1]);
    huge_size(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "craft_badfs: %s\n", e.what());
    return 1;
  }
  return 0;
}
