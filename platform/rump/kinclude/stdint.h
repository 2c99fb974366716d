/* <stdint.h> for kernel glue built with -nostdinc: the kernel's fixed-width types.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_RUMP_KINCLUDE_STDINT_H
#define BAKEFS_RUMP_KINCLUDE_STDINT_H
#include <sys/stdint.h>
#endif
