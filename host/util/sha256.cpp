// Sha256::hex_digest.
// SPDX-License-Identifier: BSD-2-Clause
#include "util/sha256.h"

namespace bakefs::build {

std::string Sha256::hex_digest() {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx_, sizeof(digest), digest);  // also resets ctx_
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof(digest));
  for (uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace bakefs::build
