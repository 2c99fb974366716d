// Everything the driver core takes from its environment, in one place.
//
// The core is freestanding C++: the only headers it includes are <stddef.h>, <stdint.h>,
// <type_traits>, <atomic> (lock-free 32-bit operations only) and placement <new>, plus zstd.h
// and xxhash.h (inlined, XXH_INLINE_ALL). Its undefined symbols must stay within: memcpy,
// memmove, memset, memcmp (what the compiler emits for the builtins below), the zstd
// decompression entry points (ZSTD_*), and nothing else. tests/check_symbols.sh enforces it.
// Memory, locks and logging come from the bakefs_platform callbacks given at mount.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_DEPS_H
#define BAKEFS_DRIVER_DEPS_H

#include <stddef.h>
#include <stdint.h>

namespace bakefs {

inline void copy_bytes(void* dst, const void* src, size_t n) {
  __builtin_memcpy(dst, src, n);
}
inline void zero_bytes(void* dst, size_t n) {
  __builtin_memset(dst, 0, n);
}
inline int compare_bytes(const void* a, const void* b, size_t n) {
  return __builtin_memcmp(a, b, n);
}

// strlen, written out so that the core does not depend on the C library's.
inline size_t string_length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

template <typename T>
constexpr T min_of(T a, T b) {
  return a < b ? a : b;
}
template <typename T>
constexpr T max_of(T a, T b) {
  return a < b ? b : a;
}

// True if [offset, offset + length) lies inside [0, size), without overflow.
constexpr bool fits(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_DEPS_H
