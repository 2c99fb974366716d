// Sizes on the command line ("128K", "1M") and in messages ("812 B", "4.2 KiB", "1.50 GiB").
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_UTIL_SIZE_OPTION_H
#define BAKEFS_HOST_UTIL_SIZE_OPTION_H

#include <cstdint>
#include <optional>
#include <string>

namespace bakefs::build {

// "4096", "4K", "4k", "4KiB", "1M": bytes, or nothing if malformed or too large.
std::optional<uint64_t> parse_size(const std::string& text);
// A block size: log2 of a power of two from 4 KiB to 1 MiB.
std::optional<uint32_t> parse_block_size(const std::string& text);
// A byte count in the unit that fits it: "0 B", "812 B", "4.2 KiB", "310.2 MiB", "1.50 GiB".
std::string format_size(uint64_t bytes);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_UTIL_SIZE_OPTION_H
