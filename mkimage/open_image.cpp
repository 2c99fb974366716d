// open_image and find_embedded_image.
// SPDX-License-Identifier: BSD-2-Clause
#include "open_image.h"

#include <bakefs/format.h>

#include <cstring>
#include <stdexcept>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace bakefs::tool {
namespace {

namespace fmt = ::bakefs::format;

// A superblock at p (with at least kSuperblockSize bytes) whose checksum holds; its size.
size_t sound_superblock(const uint8_t* p, size_t available) {
  fmt::Superblock sb;
  std::memcpy(&sb, p, sizeof(sb));
  if (std::memcmp(sb.magic, fmt::kMagic, sizeof(sb.magic)) != 0) return 0;
  if (XXH3_64bits_withSeed(p, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock) !=
      sb.checksum.load()) {
    return 0;
  }
  uint64_t size = sb.image_size.load();
  return size <= available ? static_cast<size_t>(size) : 0;
}

}  // namespace

size_t find_embedded_image(const uint8_t* data, size_t size) {
  const uint8_t* end = data + size;
  const uint8_t* p = data;
  while (static_cast<size_t>(end - p) >= fmt::kSuperblockSize) {
    const void* hit =
        std::memchr(p, fmt::kMagic[0], static_cast<size_t>(end - p) - fmt::kSuperblockSize + 1);
    if (hit == nullptr) break;
    p = static_cast<const uint8_t*>(hit);
    if (sound_superblock(p, static_cast<size_t>(end - p)) != 0)
      return static_cast<size_t>(p - data);
    ++p;
  }
  return SIZE_MAX;
}

OpenImage open_image(const std::string& path, size_t cache_bytes) {
  OpenImage o;
  o.name = path;
  o.file = posix::Image::map_file(path);
  const uint8_t* data = o.file.data();
  size_t size = o.file.size();
  static const uint8_t kElf[4] = {0x7f, 'E', 'L', 'F'};
  if (size >= 4 && std::memcmp(data, kElf, 4) == 0) {
    o.offset = find_embedded_image(data, size);
    if (o.offset == SIZE_MAX)
      throw std::runtime_error(path + ": no bakefs image linked into this program");
    o.length = sound_superblock(data + o.offset, size - o.offset);
  } else {
    o.length = size;
  }
  bakefs_mount_options options{};
  options.cache_bytes = cache_bytes;
  int s = o.fs.mount(o.data(), o.length, posix::platform(), &options);
  if (s != BAKEFS_OK) {
    std::string why = bakefs_strerror(s);
    if (s == BAKEFS_ECORRUPT &&
        (size < fmt::kSuperblockSize || std::memcmp(data, fmt::kMagic, 8) != 0)) {
      why = "not a bakefs image";
    }
    throw std::runtime_error(path + ": " + why);
  }
  return o;
}

}  // namespace bakefs::tool
