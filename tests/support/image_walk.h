// Everything a reader of a mounted image can see, as text in a fixed order: the damage tests'
// and the bit-flip campaign's way to tell a detected flip from a harmless or a wrong one.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TEST_IMAGE_WALK_H
#define BAKEFS_TEST_IMAGE_WALK_H

#include <bakefs/bakefs.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bakefs::test {

struct Walk {
  std::string text;  // a line per path: attributes, xattrs, contents or target; boot records
  int status = BAKEFS_OK;
  uint64_t nodes = 0;       // paths visited
  bool over_limit = false;  // stopped at max_nodes (status is BAKEFS_ECORRUPT then)
};

// Walks the whole tree from the root without recursion (depth comes from the image): every
// attribute, xattr, file byte (up to 1 MiB a file) and symlink target, then every boot record.
// Children are found with readdir and followed through lookup. Stops at the first error, and
// after max_nodes paths (an image can list directories more than once).
Walk walk_image(const FileSystem& fs, uint64_t max_nodes = 1'000'000);

// Mounts bytes with a small cache (so that the walk takes the cache's miss paths too) and
// walks them; a mount failure is the walk's status.
Walk walk_bytes(const std::vector<uint8_t>& bytes, uint32_t mount_flags = 0,
                uint64_t max_nodes = 1'000'000);

}  // namespace bakefs::test

#endif  // BAKEFS_TEST_IMAGE_WALK_H
