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

// Little-endian loads and stores; __builtin_memcpy compiles to one move, where byte loops
// were seen to halve the filter's speed.
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

inline void store_le32(uint8_t* p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  __builtin_memcpy(p, &v, sizeof(v));
}

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// Converts (or leaves) the E8/E9 instruction at i; returns where the next one may start.
// An E8 or E9 always takes its 4 bytes, converted or not: windows never overlap, so no
// conversion changes bytes that the test of another window looked at. Whether it is converted
// is a select, not a branch: it is hard to predict.
template <bool kEncode>
inline size_t convert_at(uint8_t* data, size_t i) {
  const uint32_t next = static_cast<uint32_t>(i + 5);  // what the displacement is from
  const uint32_t v = load_le32(data + i + 1);
  const uint32_t converted = sign_extend_25(kEncode ? v + next : v - next);
  store_le32(data + i + 1, convertible(data + i + 1) ? converted : v);
  return i + 5;
}

// encode: displacement -> target (relative to the block start); decode: the reverse.
// Eight bytes at a time: a mask of the E8/E9 bytes among them (the zero bytes of
// (word ^ E8..E8) & FE..FE, exactly), visited lowest first; then the last bytes one by one.
// Either way the same instructions are found as by a byte-by-byte scan.
template <bool kEncode>
inline void apply(uint8_t* data, size_t size) {
  if (size < 5) return;
  const size_t last = size - 5;  // an instruction needs its opcode and 4 bytes
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;
  size_t i = 0;
  while (i + 8 <= size && i <= last) {
    const size_t base = i;
    const uint64_t y = (load_le64(data + base) ^ 0xe8e8e8e8e8e8e8e8ull) & 0xfefefefefefefefeull;
    uint64_t opcodes = ~(((y & kLow7) + kLow7) | y | kLow7);  // 0x80 in each zero byte of y
    i = base + 8;
    while (opcodes != 0) {
      const size_t at = base + static_cast<size_t>(__builtin_ctzll(opcodes)) / 8;
      if (at > last) return;  // no room for 4 bytes: nothing after it can be converted
      const size_t after = convert_at<kEncode>(data, at);
      if (after >= base + 8) {
        i = after;
        break;
      }
      opcodes &= ~uint64_t{0} << (8 * (after - base));
    }
  }
  while (i <= last) i = (data[i] & 0xfe) == 0xe8 ? convert_at<kEncode>(data, i) : i + 1;
}

inline void encode(uint8_t* data, size_t size) {
  apply<true>(data, size);
}
inline void decode(uint8_t* data, size_t size) {
  apply<false>(data, size);
}

}  // namespace bakefs::x86_filter

#endif  // BAKEFS_DRIVER_X86_FILTER_H
