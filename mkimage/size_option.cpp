// parse_size and parse_block_size.
// SPDX-License-Identifier: BSD-2-Clause
#include "size_option.h"

#include <bakefs/format.h>

#include <cctype>

namespace bakefs::build {

std::optional<uint64_t> parse_size(const std::string& text) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  unsigned shift = 0;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else if (unit == "k" || unit == "kib" || unit == "kb") {
    shift = 10;
  } else if (unit == "m" || unit == "mib" || unit == "mb") {
    shift = 20;
  } else if (unit == "g" || unit == "gib" || unit == "gb") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (shift != 0 && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<uint32_t> parse_block_size(const std::string& text) {
  auto bytes = parse_size(text);
  if (!bytes) return std::nullopt;
  for (uint32_t log = format::kMinBlockLog; log <= format::kMaxBlockLog; ++log) {
    if (*bytes == (uint64_t{1} << log)) return log;
  }
  return std::nullopt;
}

}  // namespace bakefs::build
