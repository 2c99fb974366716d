// The x86 branch filter of format 1.1 (docs/FORMAT.md, "Filters"): the 32-bit displacements of
// CALL (E8) and JMP (E9) instructions made absolute before compression, so that calls of the
// same function from different places become the same bytes. Freestanding: the driver undoes
// it after decompression, mkimage applies it; one linear pass, in place, bounded by `size`.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_X86_FILTER_H
#define BAKEFS_DRIVER_X86_FILTER_H

#include <stddef.h>
#include <stdint.h>

namespace bakefs::x86_filter {

// A displacement is converted only when its top byte is 0x00 or 0xff (a target within 16 MiB,
// as real branches are), and the converted value keeps that property: 25 bits, sign-extended.
// So the decoder takes the same decision on the converted bytes as the encoder on the
// original ones, and the two passes step through the block identically.
inline uint32_t sign_extend_25(uint32_t v) {
  return ((v & 0x1ffffffu) ^ 0x1000000u) - 0x1000000u;
}

inline bool convertible(const uint8_t* p) {
  return p[3] == 0x00 || p[3] == 0xff;
}

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

inline void store_le32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

// encode: displacement -> target (relative to the block start); decode: the reverse.
template <bool kEncode>
inline void apply(uint8_t* data, size_t size) {
  if (size < 5) return;
  const size_t last = size - 5;  // an instruction needs its opcode and 4 bytes
  for (size_t i = 0; i <= last;) {
    if ((data[i] & 0xfe) != 0xe8) {
      ++i;
      continue;
    }
    // An E8 or E9 always takes its 4 bytes, converted or not: windows never overlap, so no
    // conversion changes bytes that the test of another window looked at.
    if (convertible(data + i + 1)) {
      const uint32_t next = static_cast<uint32_t>(i + 5);  // what the displacement is from
      const uint32_t v = load_le32(data + i + 1);
      store_le32(data + i + 1, sign_extend_25(kEncode ? v + next : v - next));
    }
    i += 5;
  }
}

inline void encode(uint8_t* data, size_t size) {
  apply<true>(data, size);
}
inline void decode(uint8_t* data, size_t size) {
  apply<false>(data, size);
}

}  // namespace bakefs::x86_filter

#endif  // BAKEFS_DRIVER_X86_FILTER_H
