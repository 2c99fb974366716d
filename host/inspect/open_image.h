// Opening an image for the bakefs command: an image file, or a program with an image linked
// into it (found by the superblock magic, checked by its checksum).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_INSPECT_OPEN_IMAGE_H
#define BAKEFS_HOST_INSPECT_OPEN_IMAGE_H

#include <bakefs/posix.h>

#include <string>

namespace bakefs::tool {

struct OpenImage {
  posix::Image file;  // the whole file, mapped
  size_t offset = 0;  // where the image starts in it
  size_t length = 0;  // the image's bytes
  FileSystem fs;
  std::string name;  // the path, for messages
  // How the commands take paths and print names: symlinks inside the image followed (as in a
  // chroot at its root; --no-follow clears it), names escaped (--raw clears it).
  bool follow = true;
  bool raw = false;

  const uint8_t* data() const { return file.data() + offset; }
};

// Maps `path` and mounts the image in it; throws std::runtime_error naming the path and the
// cause. `cache_bytes` sets the driver's block cache (0: default).
OpenImage open_image(const std::string& path, size_t cache_bytes = 0);

// The offset of the first sound bakefs superblock in [data, data + size), or SIZE_MAX.
size_t find_embedded_image(const uint8_t* data, size_t size);

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_INSPECT_OPEN_IMAGE_H
