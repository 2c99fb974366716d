// Names as the tools print them: control bytes escaped, as `ls -b` and unsquashfs do, so that a
// name holding a newline or an escape sequence cannot forge lines or drive the terminal.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_UTIL_TEXT_ESCAPE_H
#define BAKEFS_HOST_UTIL_TEXT_ESCAPE_H

#include <string>
#include <string_view>

namespace bakefs::tool {

// `text` with a backslash doubled, \n \t \r \a \b \f \v for those bytes, \ooo (three octal
// digits) for every other C0 control byte, DEL, C1 control characters (U+0080..U+009F in
// UTF-8) and bytes that are not valid UTF-8; everything else (UTF-8 text) unchanged.
std::string escape_text(std::string_view text);

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_UTIL_TEXT_ESCAPE_H
