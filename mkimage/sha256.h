// SHA-256 (FIPS 180-4), to check the digests a spec file gives for its files.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_MKIMAGE_SHA256_H
#define BAKEFS_MKIMAGE_SHA256_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bakefs::build {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed
};

}  // namespace bakefs::build

#endif  // BAKEFS_MKIMAGE_SHA256_H
