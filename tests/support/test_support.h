// Shared test helpers: temporary trees, images built in-process, and a full comparison of a
// source tree with an image read back through the driver core.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_SUPPORT_H
#define BAKEFS_TESTS_SUPPORT_H

#include <bakefs_posix.h>

#include <cstdint>
#include <string>
#include <vector>

#include "build.h"

namespace bakefs::test {

// A directory under $TMPDIR (or /tmp), removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content, unsigned mode = 0644);
void make_dir(const std::string& path, unsigned mode = 0755);
void set_mtime(const std::string& path, int64_t sec, uint32_t nsec);
std::string random_bytes(size_t size, uint64_t seed);
// Text that compresses like source code.
std::string text_bytes(size_t size, uint64_t seed);
std::vector<uint8_t> read_bytes(const std::string& path);
bool is_root();

// Builds an image of `source` at `image` with the mkimage library.
build::Stats make_image(const std::string& source, const std::string& image,
                        build::Options options = {});

// Compares the tree at `source` with the mounted image, attribute by attribute and byte by
// byte, with GoogleTest assertions; hard links must map to one image inode.
void expect_same_tree(const std::string& source, const FileSystem& fs);

}  // namespace bakefs::test

#endif  // BAKEFS_TESTS_SUPPORT_H
