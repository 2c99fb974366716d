// The image in place against the same bytes read through a bakefs_source, call by call.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_FUZZ_LOCKSTEP_H
#define BAKEFS_TESTS_FUZZ_LOCKSTEP_H

#include <bakefs/bakefs.h>

#include <cstddef>
#include <cstdint>

namespace bakefs::fuzz {

// Mounts image in place and through a source that copies from it, and walks both at once: the
// mount, statfs, every directory listed and looked up, getattr, reads of each file (bakefs_read
// and bakefs_file_read spans), extents, readlink, xattrs, boot records and bakefs_check must
// return the same status and the same bytes through both. bakefs_map through a source never
// maps (BAKEFS_ENOTSUP, or nothing at EOF, or the damage the in-place call saw). With
// fail_every n > 0 the source's every n-th read fails: a call through it then returns what
// the in-place call returned or BAKEFS_EIO, never other bytes, and nothing is left pinned or
// allocated. Traps (require()) on a difference.
void compare_through_source(const uint8_t* image, size_t size, const bakefs_mount_options& options,
                            uint32_t fail_every);

}  // namespace bakefs::fuzz

#endif  // BAKEFS_TESTS_FUZZ_LOCKSTEP_H
