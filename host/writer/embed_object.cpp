// write_elf_object and write_assembly: a linkable image, by hand-written ELF (no toolchain
// needed on the build host) or by .incbin (for any cross toolchain).
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/embed_object.h"

#include <bakefs/embed.h>
#include <elf.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "writer/output.h"
#include "writer/tree.h"

namespace bakefs::build {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read image");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void pad(std::string& out, size_t align) {
  while (out.size() % align != 0) out.push_back('\0');
}

// The object's layout, the same for 32- and 64-bit ELF but for the struct types.
template <typename Ehdr, typename Shdr, typename Sym>
std::string elf_object(const std::string& image, const ElfTarget& target) {
  // Sections: null, bakefs_image, .note.GNU-stack, .symtab, .strtab, .shstrtab.
  const std::string shstrtab = std::string("\0", 1) + BAKEFS_EMBED_SECTION + '\0' +
                               ".note.GNU-stack" + '\0' + ".symtab" + '\0' + ".strtab" + '\0' +
                               ".shstrtab" + '\0';
  auto name_at = [&](const char* name) {
    return static_cast<uint32_t>(shstrtab.find(std::string(name) + '\0', 1));
  };
  const std::string strtab = std::string("\0bakefs_image_data\0", 20);

  std::string file(sizeof(Ehdr), '\0');
  pad(file, BAKEFS_EMBED_ALIGN);
  const size_t image_offset = file.size();
  file += image;
  pad(file, 8);
  const size_t symtab_offset = file.size();
  Sym syms[3] = {};
  syms[1].st_info = ELF32_ST_INFO(STB_LOCAL, STT_SECTION);  // same macro value for ELF64
  syms[1].st_shndx = 1;
  syms[2].st_name = 1;
  // Weak: several image objects link into one program (an image at / and others with
  // --mount-at); a global symbol would be defined twice.
  syms[2].st_info = ELF32_ST_INFO(STB_WEAK, STT_OBJECT);
  syms[2].st_shndx = 1;
  syms[2].st_size = image.size();
  for (const Sym& s : syms) put(file, s);
  const size_t strtab_offset = file.size();
  file += strtab;
  const size_t shstrtab_offset = file.size();
  file += shstrtab;
  pad(file, 8);
  const size_t sections_offset = file.size();

  Shdr sh[6] = {};
  sh[1].sh_name = name_at(BAKEFS_EMBED_SECTION);
  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_flags = SHF_ALLOC;
  sh[1].sh_offset = image_offset;
  sh[1].sh_size = image.size();
  sh[1].sh_addralign = BAKEFS_EMBED_ALIGN;
  sh[2].sh_name = name_at(".note.GNU-stack");  // no executable stack wanted
  sh[2].sh_type = SHT_PROGBITS;
  sh[2].sh_offset = shstrtab_offset;
  sh[2].sh_addralign = 1;
  sh[3].sh_name = name_at(".symtab");
  sh[3].sh_type = SHT_SYMTAB;
  sh[3].sh_offset = symtab_offset;
  sh[3].sh_size = sizeof(syms);
  sh[3].sh_link = 4;
  sh[3].sh_info = 2;  // index of the first global symbol
  sh[3].sh_addralign = 8;
  sh[3].sh_entsize = sizeof(Sym);
  sh[4].sh_name = name_at(".strtab");
  sh[4].sh_type = SHT_STRTAB;
  sh[4].sh_offset = strtab_offset;
  sh[4].sh_size = strtab.size();
  sh[4].sh_addralign = 1;
  sh[5].sh_name = name_at(".shstrtab");
  sh[5].sh_type = SHT_STRTAB;
  sh[5].sh_offset = shstrtab_offset;
  sh[5].sh_size = shstrtab.size();
  sh[5].sh_addralign = 1;
  for (const Shdr& s : sh) put(file, s);

  Ehdr eh = {};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = target.is64 ? ELFCLASS64 : ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = target.machine;
  eh.e_version = EV_CURRENT;
  eh.e_flags = target.flags;
  eh.e_ehsize = sizeof(Ehdr);
  eh.e_shoff = sections_offset;
  eh.e_shentsize = sizeof(Shdr);
  eh.e_shnum = 6;
  eh.e_shstrndx = 5;
  std::memcpy(file.data(), &eh, sizeof(eh));
  return file;
}

void write_all(const std::string& path, const std::string& bytes) {
  OutputFile out(path);
  out.append(bytes.data(), bytes.size());
  out.commit();
}

}  // namespace

const std::vector<ElfTarget>& elf_targets() {
  static const std::vector<ElfTarget> targets = [] {
    std::vector<ElfTarget> all = {
        {"x86_64", true, EM_X86_64, 0},   {"aarch64", true, EM_AARCH64, 0},
        {"riscv64", true, EM_RISCV, 0x5},  // RVC, double-float ABI
        {"i386", false, EM_386, 0},       {"arm", false, EM_ARM, 0x05000000},  // EABI 5
    };
    return all;
  }();
  return targets;
}

std::optional<ElfTarget> find_elf_target(const std::string& name) {
  for (const ElfTarget& t : elf_targets()) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::optional<ElfTarget> host_elf_target() {
#if defined(__x86_64__)
  return find_elf_target("x86_64");
#elif defined(__aarch64__)
  return find_elf_target("aarch64");
#elif defined(__riscv) && __riscv_xlen == 64
  return find_elf_target("riscv64");
#elif defined(__i386__)
  return find_elf_target("i386");
#elif defined(__arm__)
  return find_elf_target("arm");
#else
  return std::nullopt;
#endif
}

void write_elf_object(const std::string& image_path, const std::string& object_path,
                      const ElfTarget& target) {
  const std::string image = read_file(image_path);
  write_all(object_path, target.is64
                             ? elf_object<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(image, target)
                             : elf_object<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(image, target));
}

void write_assembly(const std::string& image_path, const std::string& asm_path) {
  std::string path = std::filesystem::absolute(image_path).string();
  std::string escaped;
  for (char c : path) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  std::string text =
      "/* A bakefs image to link into a program: see bakefs/embed.h. */\n"
      "\t.section " BAKEFS_EMBED_SECTION
      ",\"a\"\n"
      "\t.balign 16\n"
      "\t.weak bakefs_image_data\n"
      "bakefs_image_data:\n"
      "\t.incbin \"" +
      escaped +
      "\"\n"
      "\t.section .note.GNU-stack,\"\",%progbits\n";
  write_all(asm_path, text);
}

}  // namespace bakefs::build
