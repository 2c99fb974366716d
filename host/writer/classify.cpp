// classify: magic numbers, a printable-text test, and the program headers of x86-64 ELF files.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/classify.h"

#include <algorithm>
#include <cstring>

namespace bakefs::build {
namespace {

constexpr uint16_t kMachineX86_64 = 62;  // EM_X86_64
constexpr uint32_t kLoadSegment = 1;     // PT_LOAD
constexpr uint32_t kExecutable = 1;      // PF_X
constexpr size_t kProgramHeaderSize = 56;
constexpr size_t kMaxProgramHeaders = 256;  // real files have about a dozen

template <typename T>
T load(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}

bool starts_with(const uint8_t* head, size_t size, const char* magic, size_t length) {
  return size >= length && std::memcmp(head, magic, length) == 0;
}

bool compressed_magic(const uint8_t* head, size_t size) {
  return starts_with(head, size, "\x1f\x8b", 2) ||  // gzip
         starts_with(head, size,
                     "\xfd"
                     "7zXZ\0",
                     6) ||                                  // xz
         starts_with(head, size, "\x28\xb5\x2f\xfd", 4) ||  // zstd
         starts_with(head, size, "BZh", 3) ||               // bzip2
         starts_with(head, size, "PK\x03\x04", 4) ||        // zip, jar, apk
         starts_with(head, size, "\x89PNG", 4) ||           // PNG
         starts_with(head, size, "\xff\xd8\xff", 3) ||      // JPEG
         starts_with(head, size, "\x04\x22\x4d\x18", 4);    // lz4
}

bool text(const uint8_t* head, size_t size) {
  size_t odd = 0;
  for (size_t i = 0; i < size; ++i) {
    uint8_t c = head[i];
    if (c == 0) return false;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ++odd;
  }
  return odd * 32 <= size;
}

// An x86-64 little-endian ELF64 file's executable PT_LOAD segments, as file ranges.
void code_ranges(const uint8_t* head, size_t head_size, uint64_t size, SourceFile& source,
                 FileClass& c) {
  if (head_size < 64 || head[4] != 2 || head[5] != 1) return;  // ELFCLASS64, ELFDATA2LSB
  if (load<uint16_t>(head + 18) != kMachineX86_64) return;
  const uint64_t phoff = load<uint64_t>(head + 32);
  const uint16_t phentsize = load<uint16_t>(head + 54);
  const uint16_t phnum = load<uint16_t>(head + 56);
  if (phentsize != kProgramHeaderSize || phnum == 0 || phnum > kMaxProgramHeaders) return;
  const uint64_t bytes = uint64_t{phnum} * kProgramHeaderSize;
  if (phoff > size || bytes > size - phoff) return;
  std::vector<uint8_t> table(bytes);
  if (phoff + bytes <= head_size) {
    std::memcpy(table.data(), head + phoff, bytes);
  } else {
    source.read(phoff, table.data(), bytes);
  }
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = table.data() + size_t{i} * kProgramHeaderSize;
    if (load<uint32_t>(ph) != kLoadSegment || (load<uint32_t>(ph + 4) & kExecutable) == 0) continue;
    const uint64_t offset = load<uint64_t>(ph + 8), filesz = load<uint64_t>(ph + 32);
    if (offset >= size || filesz == 0) continue;
    c.code.emplace_back(offset, offset + std::min(filesz, size - offset));
  }
}

}  // namespace

bool FileClass::code_in(uint64_t offset, uint64_t size) const {
  for (const auto& [first, end] : code) {
    if (first < offset + size && offset < end) return true;
  }
  return false;
}

FileClass classify(const uint8_t* head, size_t head_size, uint64_t size, SourceFile& source) {
  FileClass c;
  if (starts_with(head, head_size,
                  "\x7f"
                  "ELF",
                  4)) {
    c.kind = Kind::kElf;
    code_ranges(head, head_size, size, source, c);
  } else if (compressed_magic(head, head_size)) {
    c.kind = Kind::kCompressed;
  } else if (text(head, head_size)) {
    c.kind = Kind::kText;
  }
  return c;
}

}  // namespace bakefs::build
