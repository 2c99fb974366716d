/* zstd's environment in a kernel: force-included (-include) before every zstd source.
 *
 * zstd takes everything it needs from libc through lib/common/zstd_deps.h, whose sections
 * are each guarded by a macro (ZSTD_DEPS_COMMON, ZSTD_DEPS_MALLOC, ...). Defining those
 * guards here first makes zstd_deps.h a no-op and gives zstd these definitions instead, as
 * Linux's lib/zstd/common/zstd_deps.h does: memcpy/memmove/memset as compiler builtins (at
 * worst calls to the kernel's memcpy, memmove, memset), no allocator at all (the driver
 * hands zstd its memory through ZSTD_initStaticDCtx and ZSTD_initStaticDDict, and any other
 * path gets NULL), no assert, no stdio. Only the compiler's own freestanding headers are
 * used: <stddef.h>, <stdint.h> and <limits.h>.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_ZSTD_DEPS_H
#define BAKEFS_ZSTD_DEPS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* The memory functions every kernel has; the bundled xxhash.c calls memset by name. */
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);

#define ZSTD_DEPS_COMMON
#define ZSTD_memcpy(d, s, l) __builtin_memcpy((d), (s), (l))
#define ZSTD_memmove(d, s, l) __builtin_memmove((d), (s), (l))
#define ZSTD_memset(p, v, l) __builtin_memset((p), (v), (l))

/* No heap: every allocation zstd would make fails. */
#define ZSTD_DEPS_MALLOC
#define ZSTD_malloc(s) ((void)(s), (void*)0)
#define ZSTD_calloc(n, s) ((void)(n), (void)(s), (void*)0)
#define ZSTD_free(p) ((void)(p))

#define ZSTD_DEPS_MATH64
#define ZSTD_div64(dividend, divisor) ((dividend) / (divisor))

/* DEBUGLEVEL is 0: assert() is never expanded; keep it defined to nothing regardless. */
#define ZSTD_DEPS_ASSERT
#ifndef assert
#define assert(condition) ((void)0)
#endif

#define ZSTD_DEPS_IO
#define ZSTD_DEBUG_PRINT(...) ((void)0)

#define ZSTD_DEPS_STDINT

#endif /* BAKEFS_ZSTD_DEPS_H */
