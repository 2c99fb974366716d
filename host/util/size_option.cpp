// parse_size, parse_block_size and format_size.
// SPDX-License-Identifier: BSD-2-Clause
#include "util/size_option.h"

#include <bakefs/format.h>

#include <cctype>
#include <cstdio>

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

std::string format_size(uint64_t bytes) {
  char text[32];
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) {
    std::snprintf(text, sizeof(text), "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1u << 20)) {
    std::snprintf(text, sizeof(text), "%.1f KiB", b / 1024.0);
  } else if (bytes < (1u << 30)) {
    std::snprintf(text, sizeof(text), "%.1f MiB", b / (1024.0 * 1024.0));
  } else {
    std::snprintf(text, sizeof(text), "%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
  }
  return text;
}

}  // namespace bakefs::build
