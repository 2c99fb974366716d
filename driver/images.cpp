// Images back to back: where one image linked into a program ends, so that the next one in
// the bakefs_image section can be found (bakefs/embed.h).
// SPDX-License-Identifier: BSD-2-Clause
#include "checksum.h"
#include "fs.h"

namespace bakefs {
namespace {

static_assert(BAKEFS_BOOT_MOUNT == fmt::kBootMount);

int image_length(const uint8_t* data, size_t length, uint64_t* out) {
  if (length < fmt::kSuperblockSize) return BAKEFS_ECORRUPT;
  fmt::Superblock sb;
  copy_bytes(&sb, data, sizeof(sb));
  if (compare_bytes(sb.magic, fmt::kMagic, sizeof(sb.magic)) != 0) return BAKEFS_EINVAL;
  if (checksum64(data, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock) !=
      sb.checksum.load()) {
    return BAKEFS_ECHECKSUM;
  }
  const uint64_t size = sb.image_size.load();
  if (size < fmt::kSuperblockSize || size > length) return BAKEFS_ECORRUPT;
  *out = size;
  return BAKEFS_OK;
}

}  // namespace
}  // namespace bakefs

extern "C" int bakefs_image_length(const void* data, size_t length, uint64_t* image_length) {
  if (data == nullptr || image_length == nullptr) return BAKEFS_EINVAL;
  *image_length = 0;
  return bakefs::image_length(static_cast<const uint8_t*>(data), length, image_length);
}
