// Emitting an image so that a program can link it in (the contract of bakefs/embed.h): as an
// ELF relocatable object, or as an assembly file that any GNU-compatible assembler builds.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_EMBED_OBJECT_H
#define BAKEFS_HOST_WRITER_EMBED_OBJECT_H

#include <optional>
#include <string>
#include <vector>

namespace bakefs::build {

struct ElfTarget {
  std::string name;  // "x86_64", "aarch64", "i386", "arm", "riscv64"
  bool is64;
  uint16_t machine;  // e_machine
  uint32_t flags;    // e_flags
};

// The targets --emit-object knows; the first is the host's when the host is one of them.
const std::vector<ElfTarget>& elf_targets();
std::optional<ElfTarget> find_elf_target(const std::string& name);
// The host's target, if known.
std::optional<ElfTarget> host_elf_target();

// Writes an ELF relocatable object holding the image at `image_path` in section bakefs_image
// (allocated, read-only, aligned to BAKEFS_EMBED_ALIGN), with a global object symbol
// `bakefs_image_data` at its start (weak, so that several image objects link into one program). Throws Error naming the path on failure.
void write_elf_object(const std::string& image_path, const std::string& object_path,
                      const ElfTarget& target);

// Writes assembly source that .incbin's the image (by absolute path) into that section.
void write_assembly(const std::string& image_path, const std::string& asm_path);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_EMBED_OBJECT_H
