// Boot records: what an image tells whoever boots from it beyond its files (a launch
// configuration, directories to cover with a tmpfs). A short list, walked on each call.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

namespace bakefs {
namespace {

// A tmpfs record names an absolute directory: "/" or "/a/b", no NUL, no trailing '/'.
bool valid_tmpfs_path(const uint8_t* p, uint32_t length) {
  if (length == 0 || length > fmt::kMaxSymlinkLength || p[0] != '/') return false;
  if (length > 1 && p[length - 1] == '/') return false;
  for (uint32_t i = 0; i < length; ++i) {
    if (p[i] == 0) return false;
  }
  // No empty, "." or ".." component: "/.." would name the root, which a MOUNT path is not.
  for (uint32_t i = 0; i < length && length > 1;) {
    uint32_t end = i + 1;
    while (end < length && p[end] != '/') ++end;
    const uint32_t n = end - i - 1;  // the component after the '/' at i
    if (n == 0 || (n == 1 && p[i + 1] == '.') || (n == 2 && p[i + 1] == '.' && p[i + 2] == '.')) {
      return false;
    }
    i = end;
  }
  return true;
}

Status bad_record(const bakefs_fs& fs, uint64_t offset, const char* what) {
  fs.report(0, Message() << "bakefs: boot record at " << offset << ": " << what);
  return Error::kCorrupt;
}

Status boot_record(bakefs_fs& fs, uint32_t type, uint32_t index, const void** data,
                   size_t* length) {
  uint64_t offset = 0;
  while (offset < fs.geo.boot.size) {
    if (!fs.geo.boot.contains(offset, sizeof(fmt::BootRecord)))
      return bad_record(fs, offset, "cut");
    const auto header = BAKEFS_TRY(fs.meta_load<fmt::BootRecord>(fs.geo.boot, offset));
    const uint32_t size = header.length.load();
    if (header.flags.load() != 0) return bad_record(fs, offset, "flags");
    if (size > fmt::kMaxBootRecord || !fs.geo.boot.contains(offset + sizeof(header), size)) {
      return bad_record(fs, offset, "length");
    }
    const uint16_t record_type = header.type.load();
    if (record_type == fmt::kBootRoot && size != 4) return bad_record(fs, offset, "root flags");
    if (record_type == type || record_type == fmt::kBootTmpfs || record_type == fmt::kBootMount) {
      const uint8_t* payload =
          BAKEFS_TRY(fs.meta_bytes(fs.geo.boot, offset + sizeof(header), size));
      if (record_type == fmt::kBootTmpfs && !valid_tmpfs_path(payload, size)) {
        return bad_record(fs, offset, "tmpfs path");
      }
      if (record_type == fmt::kBootMount && (!valid_tmpfs_path(payload, size) || size == 1)) {
        return bad_record(fs, offset, "mount path");
      }
      if (record_type == type && index-- == 0) {
        *data = payload;
        *length = size;
        return {};
      }
    }
    offset += (sizeof(header) + uint64_t{size} + 7) & ~uint64_t{7};
  }
  return Error::kNotFound;
}

}  // namespace

Status check_boot_records(bakefs_fs& fs) {
  const void* data;
  size_t length;
  Status s = boot_record(fs, 0, 0, &data, &length);  // type 0: walks and checks every record
  if (s.error() != Error::kNotFound) return s.ok() ? Error::kCorrupt : s;
  const uint32_t single[] = {fmt::kBootConfig, fmt::kBootRoot,
                             fmt::kBootMount};  // types of at most one record
  for (uint32_t type : single) {
    s = boot_record(fs, type, 1, &data, &length);
    if (s.ok()) return bad_record(fs, 0, "more than one record of a single-record type");
    if (s.error() != Error::kNotFound) return s;
  }
  return {};
}

}  // namespace bakefs

using namespace bakefs;

extern "C" int bakefs_boot_record(bakefs_fs* fs, uint32_t type, uint32_t index, const void** data,
                                  size_t* length) {
  if (fs == nullptr || data == nullptr || length == nullptr) return BAKEFS_EINVAL;
  *data = nullptr;
  *length = 0;
  return to_status(boot_record(*fs, type, index, data, length));
}

extern "C" int bakefs_boot_root(bakefs_fs* fs, uint32_t* flags) {
  if (flags != nullptr) *flags = BAKEFS_BOOT_ROOT_DEFAULT;
  if (fs == nullptr || flags == nullptr) return BAKEFS_EINVAL;
  const void* data;
  size_t length;
  int s = to_status(boot_record(*fs, fmt::kBootRoot, 0, &data, &length));
  if (s != BAKEFS_OK) return s;
  fmt::le32 record;  // 4 bytes: boot_record() checked the length
  copy_bytes(&record, data, sizeof(record));
  *flags = record.load();
  return BAKEFS_OK;
}
