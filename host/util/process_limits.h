// What mkimage and bakefs do to their process first: trees keep one directory open per level
// while they are scanned or extracted, so the soft limit on open files goes up to the hard one.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_UTIL_PROCESS_LIMITS_H
#define BAKEFS_HOST_UTIL_PROCESS_LIMITS_H

namespace bakefs::tool {

void raise_open_file_limit();

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_UTIL_PROCESS_LIMITS_H
