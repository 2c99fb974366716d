// Images back to back: where one image linked into a program ends, so that the next one in
// the bakefs_image section can be found (bakefs/embed.h). The superblock is read by
// bakefs_probe, the one check of it (mount.cpp).
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

static_assert(BAKEFS_BOOT_MOUNT == bakefs::fmt::kBootMount);

extern "C" int bakefs_image_length(const void* data, size_t length, uint64_t* image_length) {
  if (data == nullptr || image_length == nullptr) return BAKEFS_EINVAL;
  *image_length = 0;
  bakefs_probe_info info;
  const int status = bakefs_probe(data, length, &info);
  if (!info.magic) return length < bakefs::fmt::kSuperblockSize ? BAKEFS_ECORRUPT : BAKEFS_EINVAL;
  // The size is known once the magic and the superblock's checksum hold, whatever the rest.
  if (info.image_size == 0) return status != BAKEFS_OK ? status : BAKEFS_ECORRUPT;
  if (info.image_size < bakefs::fmt::kSuperblockSize || info.image_size > length) {
    return BAKEFS_ECORRUPT;
  }
  *image_length = info.image_size;
  return BAKEFS_OK;
}
