// open_image and find_embedded_image.
// SPDX-License-Identifier: BSD-2-Clause
#include "inspect/open_image.h"

#include <bakefs/embed.h>
#include <bakefs/format.h>
#include <elf.h>

#include <cstring>
#include <stdexcept>

namespace bakefs::tool {
namespace {

namespace fmt = ::bakefs::format;

// What the core's superblock check (bakefs_probe) says of the bytes at p.
bakefs_probe_info probe(const uint8_t* p, size_t available) {
  bakefs_probe_info info;
  (void)bakefs_probe(p, available, &info);
  return info;
}

// The image size a superblock at p gives, if its magic and checksum hold (0 otherwise), however
// many bytes follow it.
uint64_t superblock_size(const uint8_t* p, size_t available) {
  return probe(p, available).image_size;
}

// A superblock at p whose checksum holds and whose image fits in `available`; its size.
size_t sound_superblock(const uint8_t* p, size_t available) {
  uint64_t size = superblock_size(p, available);
  return size <= available ? static_cast<size_t>(size) : 0;
}

// The message for an image whose superblock holds but whose bytes end early.
std::string truncated(const std::string& path, uint64_t want, size_t have) {
  return path + ": image is truncated: its superblock gives " + std::to_string(want) +
         " bytes, " + std::to_string(have) + " are there";
}

// The file offset and size of the ELF section named `wanted`, for 32- and 64-bit little-endian
// ELF files; false if there is none or the headers do not fit the file.
template <typename Ehdr, typename Shdr>
bool find_section(const uint8_t* data, size_t size, const char* wanted, size_t& offset,
                  size_t& length) {
  Ehdr eh;
  if (size < sizeof(eh)) return false;
  std::memcpy(&eh, data, sizeof(eh));
  if (eh.e_shentsize != sizeof(Shdr) || eh.e_shoff == 0 || eh.e_shstrndx >= eh.e_shnum)
    return false;
  if (eh.e_shoff > size || uint64_t{eh.e_shnum} * sizeof(Shdr) > size - eh.e_shoff) return false;
  auto section = [&](size_t i) {
    Shdr sh;
    std::memcpy(&sh, data + eh.e_shoff + i * sizeof(Shdr), sizeof(sh));
    return sh;
  };
  Shdr names = section(eh.e_shstrndx);
  if (names.sh_offset > size || names.sh_size > size - names.sh_offset) return false;
  const size_t wanted_length = std::strlen(wanted);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    Shdr sh = section(i);
    if (sh.sh_name >= names.sh_size || names.sh_size - sh.sh_name <= wanted_length) continue;
    const char* name = reinterpret_cast<const char*>(data + names.sh_offset + sh.sh_name);
    if (std::memcmp(name, wanted, wanted_length + 1) != 0 || sh.sh_type == SHT_NOBITS) continue;
    if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) return false;
    offset = static_cast<size_t>(sh.sh_offset);
    length = static_cast<size_t>(sh.sh_size);
    return true;
  }
  return false;
}

bool find_elf_section(const uint8_t* data, size_t size, size_t& offset, size_t& length) {
  if (size < EI_NIDENT || data[EI_DATA] != ELFDATA2LSB) return false;
  if (data[EI_CLASS] == ELFCLASS64) {
    return find_section<Elf64_Ehdr, Elf64_Shdr>(data, size, BAKEFS_EMBED_SECTION, offset, length);
  }
  if (data[EI_CLASS] == ELFCLASS32) {
    return find_section<Elf32_Ehdr, Elf32_Shdr>(data, size, BAKEFS_EMBED_SECTION, offset, length);
  }
  return false;
}

}  // namespace

size_t find_embedded_image(const uint8_t* data, size_t size) {
  const uint8_t* end = data + size;
  const uint8_t* p = data;
  while (static_cast<size_t>(end - p) >= fmt::kSuperblockSize) {
    const void* hit =
        std::memchr(p, fmt::kMagic[0], static_cast<size_t>(end - p) - fmt::kSuperblockSize + 1);
    if (hit == nullptr) break;
    p = static_cast<const uint8_t*>(hit);
    if (sound_superblock(p, static_cast<size_t>(end - p)) != 0)
      return static_cast<size_t>(p - data);
    ++p;
  }
  return SIZE_MAX;
}

OpenImage open_image(const std::string& path, size_t cache_bytes) {
  OpenImage o;
  o.name = path;
  o.file = posix::Image::map_file(path);
  const uint8_t* data = o.file.data();
  size_t size = o.file.size();
  static const uint8_t kElf[4] = {0x7f, 'E', 'L', 'F'};
  if (size >= 4 && std::memcmp(data, kElf, 4) == 0) {
    // The section of the embedding contract (bakefs/embed.h); else, as in a program whose
    // section was renamed, the first sound superblock anywhere.
    size_t section_offset = 0, section_length = 0;
    if (find_elf_section(data, size, section_offset, section_length)) {
      o.offset = section_offset;
      o.length = sound_superblock(data + section_offset, section_length);
      uint64_t want = superblock_size(data + section_offset, section_length);
      if (o.length == 0 && want > section_length) {
        throw std::runtime_error(truncated(path + ": section " BAKEFS_EMBED_SECTION, want,
                                           section_length));
      }
      if (o.length == 0) {
        throw std::runtime_error(path + ": section " BAKEFS_EMBED_SECTION " holds no sound image");
      }
    } else {
      o.offset = find_embedded_image(data, size);
      if (o.offset == SIZE_MAX) {
        throw std::runtime_error(path + ": no bakefs image linked into this program");
      }
      o.length = sound_superblock(data + o.offset, size - o.offset);
    }
  } else {
    o.length = size;
    uint64_t want = superblock_size(data, size);
    if (want > size) throw std::runtime_error(truncated(path, want, size));
    if (size < fmt::kSuperblockSize && probe(data, size).magic) {
      throw std::runtime_error(path + ": image is truncated: " + std::to_string(size) +
                               " bytes, less than its superblock's " +
                               std::to_string(fmt::kSuperblockSize));
    }
  }
  bakefs_mount_options options{};
  options.cache_bytes = cache_bytes;
  int s = o.fs.mount(o.data(), o.length, posix::platform(), &options);
  if (s != BAKEFS_OK) {
    std::string why = bakefs_strerror(s);
    if (s == BAKEFS_ECORRUPT && (size < fmt::kSuperblockSize || !probe(data, size).magic)) {
      why = "not a bakefs image";
    }
    throw std::runtime_error(path + ": " + why);
  }
  return o;
}

}  // namespace bakefs::tool
