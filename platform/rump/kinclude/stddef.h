/* <stddef.h> for kernel glue built with -nostdinc: bakefs.h needs only size_t and NULL.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef BAKEFS_RUMP_KINCLUDE_STDDEF_H
#define BAKEFS_RUMP_KINCLUDE_STDDEF_H
#include <sys/null.h>
#include <sys/types.h>
#endif
