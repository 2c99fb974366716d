// escape_text.
// SPDX-License-Identifier: BSD-2-Clause
#include "util/text_escape.h"

#include <cstdint>

namespace bakefs::tool {
namespace {

void octal(std::string& out, uint8_t byte) {
  out += '\\';
  out += static_cast<char>('0' + (byte >> 6));
  out += static_cast<char>('0' + ((byte >> 3) & 7));
  out += static_cast<char>('0' + (byte & 7));
}

// The length of a valid UTF-8 sequence of two or more bytes at text[i], or 0 if there is none
// there (overlong forms, surrogates and code points past U+10FFFF are not valid).
size_t utf8_sequence(std::string_view text, size_t i, uint32_t& code) {
  const auto lead = static_cast<uint8_t>(text[i]);
  size_t length;
  uint32_t min;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80, code = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800, code = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000, code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<uint8_t>(text[i + k]);
    if ((next & 0xc0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

}  // namespace

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte >= 0x80) {
      uint32_t code = 0;
      size_t length = utf8_sequence(text, i, code);
      if (length == 0 || (code >= 0x80 && code <= 0x9f)) {
        // Not UTF-8, or a C1 control: each byte on its own.
        size_t bytes = length == 0 ? 1 : length;
        for (size_t k = 0; k < bytes; ++k) octal(out, static_cast<uint8_t>(text[i + k]));
        i += bytes;
        continue;
      }
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    ++i;
    switch (byte) {
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (byte < 0x20 || byte == 0x7f) {
      octal(out, byte);
    } else {
      out += static_cast<char>(byte);
    }
  }
  return out;
}

}  // namespace bakefs::tool
