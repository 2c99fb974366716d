// What kind of bytes a regular file holds, from its first bytes: so that its tail shares a
// fragment block with alike tails, and its blocks of x86-64 machine code get the x86 filter.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_CLASSIFY_H
#define BAKEFS_HOST_WRITER_CLASSIFY_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "writer/source_file.h"

namespace bakefs::build {

enum class Kind : uint8_t {
  kText,        // no NUL and mostly printable in its first bytes
  kElf,         // an ELF object
  kCompressed,  // a format that is compressed already (gzip, xz, zstd, bzip2, zip, PNG, JPEG)
  kBinary,      // anything else
};
inline constexpr size_t kKinds = 4;
inline constexpr size_t kClassifyBytes = 4096;  // what classify() wants to see of the file

struct FileClass {
  Kind kind = Kind::kBinary;
  // x86-64 ELF: the file ranges [first, second) of its executable segments.
  std::vector<std::pair<uint64_t, uint64_t>> code;

  // Whether bytes [offset, offset + size) of the file hold machine code.
  bool code_in(uint64_t offset, uint64_t size) const;
};

// `head`: the first min(size, kClassifyBytes) bytes of the file; `source` reads the program
// headers of an ELF file when they lie beyond them. Deterministic: the bytes decide.
FileClass classify(const uint8_t* head, size_t head_size, uint64_t size, SourceFile& source);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_CLASSIFY_H
