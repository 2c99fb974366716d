// The writer's entry point: the image of a tree, written to a file.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_BUILD_H
#define BAKEFS_HOST_WRITER_BUILD_H

#include <string>

#include "writer/options.h"
#include "writer/tree.h"

namespace bakefs::build {

// Writes the image of `tree` to `output` (through a temporary file renamed into place).
// Throws Error naming the path and the cause; then no output file is left behind.
Stats write_image(const Tree& tree, const Options& options, const std::string& output);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_BUILD_H
