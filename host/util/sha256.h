// SHA-256, to check the digests a spec file gives for its files: nettle's, behind a small class.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_UTIL_SHA256_H
#define BAKEFS_HOST_UTIL_SHA256_H

#include <nettle/sha2.h>

#include <cstddef>
#include <string>

namespace bakefs::build {

class Sha256 {
 public:
  Sha256() { sha256_init(&ctx_); }
  void update(const void* data, size_t size) {
    sha256_update(&ctx_, size, static_cast<const uint8_t*>(data));
  }
  // The digest as 64 lowercase hex digits; the object starts over afterwards.
  std::string hex_digest();

 private:
  sha256_ctx ctx_;
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_UTIL_SHA256_H
