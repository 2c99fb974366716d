// Generated trees and images for the benchmarks.
// SPDX-License-Identifier: BSD-2-Clause
#include "bench_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "sources/scan_dir.h"
#include "writer/build.h"

namespace bakefs::bench {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void fail(const std::string& path, const char* what) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

void write_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create");
  for (size_t done = 0; done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      fail(path, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) fail(path, "cannot create directory");
}

std::string entry_name(uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof(name), "file%06u.dat", i);
  return name;
}

// A directory of `count` empty files, on disk.
std::vector<std::string> make_flat_dir(const std::string& path, uint32_t count) {
  make_dir(path);
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    names.push_back(entry_name(i));
    write_file(path + "/" + names.back(), "");
  }
  return names;
}

// The same, in memory, grafted into a scanned tree.
std::vector<std::string> add_flat_dir(build::Inode& parent, const std::string& name,
                                      uint32_t count) {
  auto dir = std::make_shared<build::Inode>();
  dir->mode = 0040755;
  dir->mtime_sec = 1700000000;
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    auto file = std::make_shared<build::Inode>();
    file->mode = 0100644;
    file->mtime_sec = 1700000000;
    names.push_back(entry_name(i));
    dir->children.emplace(names.back(), std::move(file));
  }
  parent.children.emplace(name, std::move(dir));
  return names;
}

// deep/d00/d01/.../leaf, with `siblings` empty files next to each directory.
std::string make_deep(const std::string& root, uint32_t depth, uint32_t siblings) {
  std::string rel = "deep";
  make_dir(root + "/" + rel);
  for (uint32_t level = 0; level < depth; ++level) {
    for (uint32_t s = 0; s < siblings; ++s) {
      write_file(root + "/" + rel + "/" + entry_name(s), "");
    }
    char name[16];
    std::snprintf(name, sizeof(name), "d%02u", level);
    rel += "/";
    rel += name;
    make_dir(root + "/" + rel);
  }
  rel += "/leaf";
  write_file(root + "/" + rel, "leaf\n");
  return rel;
}

}  // namespace

std::string random_bytes(size_t size, uint64_t seed) {
  std::string s(size, '\0');
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = splitmix64(state);
    std::memcpy(s.data() + i, &v, size - i < 8 ? size - i : 8);
  }
  return s;
}

std::string text_bytes(size_t size, uint64_t seed) {
  uint64_t state = seed;
  // A vocabulary of identifier-like words; the product of two uniform picks favours the first
  // words, as real code favours a few keywords and names.
  constexpr uint32_t kWords = 2048;
  std::vector<std::string> words(kWords);
  for (auto& w : words) {
    uint32_t length = 2 + static_cast<uint32_t>(splitmix64(state) % 9);
    for (uint32_t i = 0; i < length; ++i) {
      w += static_cast<char>('a' + splitmix64(state) % 26);
      if (i > 0 && i + 1 < length && splitmix64(state) % 7 == 0) w += '_';
    }
  }
  static const char* kPunct[] = {"(", ")", ";", " = ", ", ", "->", " {", "}", "[0]", " + "};
  std::string s;
  s.reserve(size + 256);
  while (s.size() < size) {
    uint64_t r = splitmix64(state);
    s.append(2 * (r % 4), ' ');
    uint32_t tokens = 3 + static_cast<uint32_t>((r >> 8) % 8);
    for (uint32_t t = 0; t < tokens; ++t) {
      uint64_t a = splitmix64(state);
      uint64_t pick = ((a & 0xffff) % kWords) * (((a >> 16) & 0xffff) % kWords) / kWords;
      s += words[pick];
      s += ((a >> 40) % 3 == 0) ? kPunct[(a >> 48) % 10] : " ";
    }
    s += '\n';
  }
  s.resize(size);
  return s;
}

BenchImages build_images(const TempDir& dir, const TreeConfig& config) {
  BenchImages out;
  auto start = std::chrono::steady_clock::now();
  build::Options options;
  options.block_log = config.block_log;
  options.level = config.level;

  // The small image: the baseline of the mount ratio.
  const std::string small_root = dir / "small-tree";
  make_dir(small_root);
  make_flat_dir(small_root + "/dir", config.small_entries);
  write_file(small_root + "/hello.txt", text_bytes(64u << 10, 1));
  out.small_image = dir / "small.img";
  build::write_image(build::scan_directory(small_root), options, out.small_image);

  // The large image.
  const std::string root = dir / "large-tree";
  make_dir(root);
  out.small_names = make_flat_dir(root + "/small", config.small_entries);
  out.deep_path = make_deep(root, config.depth, config.siblings);
  out.deep_components = config.depth + 2;
  make_dir(root + "/data");
  out.compressed_text = text_bytes(config.data_bytes, 2);
  out.raw_bytes = random_bytes(config.data_bytes, 3);
  write_file(root + "/data/compressed.txt", out.compressed_text);
  write_file(root + "/data/raw.bin", out.raw_bytes);
  build::Tree tree = build::scan_directory(root);
  out.big_names = add_flat_dir(*tree.root, "big", config.big_entries);
  out.large_image = dir / "large.img";
  build::Stats stats = build::write_image(tree, options, out.large_image);

  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  out.build_seconds = took.count();
  std::fprintf(stderr,
               "bench images: large %.1f MiB (%llu inodes, %llu blocks, %llu raw), "
               "built in %.2f s at zstd level %d\n",
               static_cast<double>(stats.image_bytes) / (1 << 20),
               static_cast<unsigned long long>(stats.inodes),
               static_cast<unsigned long long>(stats.blocks_stored),
               static_cast<unsigned long long>(stats.blocks_raw), out.build_seconds, config.level);
  return out;
}

}  // namespace bakefs::bench
