/* <limits.h> for the freestanding kernel build of zstd (compiled with -nostdinc).
 *
 * GCC's own <limits.h> chains to the C library's (#include_next through syslimits.h) unless
 * _LIBC_LIMITS_H_ is defined; the C limits themselves (CHAR_BIT, INT_MAX, ULLONG_MAX, ...)
 * are all in the compiler's header. Clang's only chains in hosted mode.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_FREESTANDING_LIMITS_H
#define BAKEFS_FREESTANDING_LIMITS_H
#ifndef _LIBC_LIMITS_H_
#define _LIBC_LIMITS_H_ 1
#endif
#include_next <limits.h>
#endif
