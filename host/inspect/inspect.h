// The read-only commands of the bakefs tool: ls, cat, stat, info, verify.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_INSPECT_INSPECT_H
#define BAKEFS_HOST_INSPECT_INSPECT_H

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "inspect/open_image.h"

namespace bakefs::tool {

// Exit codes the commands return.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the image is damaged, or a path is missing
inline constexpr int kExitUsage = 2;

// "drwxr-xr-x", as ls -l shows a mode.
std::string mode_string(uint32_t mode);

// Resolves a path inside the image ("/" and "" are the root), following symlinks inside the
// image unless image.follow is false; prints an error naming the image and the path and
// returns false when it cannot. `reached` gets the path resolution ended at. With
// follow_last false a symlink named last is the result itself.
bool resolve(const OpenImage& image, const std::string& path, bakefs_ino& ino,
             std::string* reached = nullptr, bool follow_last = true);

// Reads every stored (non-hole) byte of a regular file in order, in chunks of up to
// buf.size() bytes, and hands each to fn(offset, data, length); returns a bakefs status.
int read_stored(const OpenImage& image, bakefs_ino ino, std::vector<char>& buf,
                const std::function<void(uint64_t offset, const char* data, size_t length)>& fn);

int ls(const OpenImage& image, const std::string& path, bool long_format, bool recursive);
int cat(const OpenImage& image, const std::string& path);
int stat(const OpenImage& image, const std::string& path);
int info(const OpenImage& image, bool json);
int verify(const OpenImage& image, bool quiet);
// Writes the launch configuration to standard output; kExitFailure if there is none.
int config(const OpenImage& image);

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_INSPECT_INSPECT_H
