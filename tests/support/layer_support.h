// Layer tests' helpers: tar archives written with libarchive (every entry type, pax nanosecond
// times, xattrs, sparse members, any compression libarchive writes), and images of layers.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_LAYER_SUPPORT_H
#define BAKEFS_TESTS_LAYER_SUPPORT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sources/layers.h"
#include "writer/build.h"

namespace bakefs::test {

struct TarMember {
  std::string name;
  unsigned mode = 0100644;  // type and permissions
  std::string data;         // a regular file's bytes (the whole file, holes included)
  std::string link;         // a symlink's target, or with `hardlink` the linked member
  bool hardlink = false;
  int64_t uid = 0, gid = 0;
  int64_t mtime_sec = 1700000000;
  long mtime_nsec = 0;
  uint64_t rdev_major = 0, rdev_minor = 0;  // wider than the image's, to test the range
  std::vector<std::pair<std::string, std::string>> xattrs;
  // Sparse: the (offset, length) ranges that hold data; the rest of `data` is a hole.
  std::vector<std::pair<int64_t, int64_t>> sparse;
};

TarMember tar_file(const std::string& name, const std::string& data, unsigned mode = 0644);
TarMember tar_dir(const std::string& name, unsigned mode = 0755);
TarMember tar_symlink(const std::string& name, const std::string& target);
TarMember tar_hardlink(const std::string& name, const std::string& target);
// A device, fifo or socket.
TarMember tar_special(const std::string& name, unsigned mode, uint64_t major = 0,
                      uint64_t minor = 0);

// Writes a pax archive of `members` to `path`, through `filter` ("gzip", "xz", "zstd", ...;
// empty: none). Throws std::runtime_error on failure.
void write_tar(const std::string& path, const std::vector<TarMember>& members,
               const std::string& filter = "");

// Builds an image of `sources` merged in order (then `removes` removed) with the library.
build::Stats make_layered_image(const std::vector<std::string>& sources, const std::string& image,
                                const build::LayerOptions& layers = {},
                                const std::vector<std::string>& removes = {},
                                build::Options options = {});

}  // namespace bakefs::test

#endif  // BAKEFS_TESTS_LAYER_SUPPORT_H
