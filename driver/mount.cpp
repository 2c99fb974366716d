// Mount: validate the superblock and the table extents (O(1), no scan), set up the cache.
// SPDX-License-Identifier: BSD-2-Clause
#include "fs.h"

namespace bakefs {
namespace {

constexpr size_t kDefaultCacheBytes = 8u << 20;
constexpr uint32_t kDefaultDecompressors = 4;
constexpr uint32_t kMaxDecompressors = 256;
constexpr uint32_t kDefaultVerifySlots = 4096;
constexpr uint32_t kMaxVerifySlots = 1u << 24;
// Pins one bakefs_file_read call may take: a quarter of the cache's entries, so that a few
// callers at once leave room for the rest; no more than a 1 MiB request of 4 KiB blocks needs.
constexpr uint32_t kMaxPinsPerRead = 256;

Range to_range(const fmt::Extent& e) {
  return {e.offset.load(), e.size.load()};
}

// Extent `inner` lies inside `outer`.
bool inside(const Range& inner, const Range& outer) {
  return inner.offset >= outer.offset && fits(inner.offset - outer.offset, inner.size, outer.size);
}

Status corrupt(const bakefs_fs& fs, const char* what) {
  Message m;
  m << "bakefs: bad superblock: " << what;
  fs.report(0, m);
  return Error::kCorrupt;
}

Status parse_superblock(bakefs_fs& fs, const uint8_t* image, size_t length) {
  if (length < fmt::kSuperblockSize) return corrupt(fs, "image shorter than a superblock");
  fmt::Superblock sb;
  copy_bytes(&sb, image, sizeof(sb));
  if (compare_bytes(sb.magic, fmt::kMagic, sizeof(sb.magic)) != 0) {
    return corrupt(fs, "no bakefs magic");
  }
  if (checksum64(image, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock) !=
      sb.checksum.load()) {
    fs.report(0, Message() << "bakefs: superblock checksum mismatch");
    return Error::kChecksum;
  }
  if (sb.version_major.load() != fmt::kVersionMajor) {
    fs.report(
        0, Message() << "bakefs: unsupported format version " << uint32_t{sb.version_major.load()});
    return Error::kNotSupported;
  }
  uint32_t unknown = sb.feature_incompat.load() & ~fmt::kIncompatSupported;
  if (unknown != 0) {
    fs.report(0, Message() << "bakefs: unsupported incompatible features " << unknown);
    return Error::kNotSupported;
  }
  if (sb.superblock_size.load() != fmt::kSuperblockSize) return corrupt(fs, "superblock size");
  if (sb.block_log < fmt::kMinBlockLog || sb.block_log > fmt::kMaxBlockLog) {
    return corrupt(fs, "block size");
  }
  if (sb.unit_log < fmt::kMinUnitLog || sb.unit_log > fmt::kMaxUnitLog) {
    return corrupt(fs, "checksum unit size");
  }
  uint64_t image_size = sb.image_size.load();
  if (image_size > length) return corrupt(fs, "image truncated");
  if (image_size < fmt::kSuperblockSize) return corrupt(fs, "image size");
  if (sb.build_time_nsec.load() >= 1000000000u) return corrupt(fs, "build time");

  fs.image = image;
  fs.image_size = image_size;
  fs.block_log = sb.block_log;
  fs.block_size = 1u << sb.block_log;
  fs.unit_log = sb.unit_log;
  fs.inode_count = sb.inode_count.load();
  fs.block_count = sb.block_count.load();
  fs.data = to_range(sb.data);
  fs.meta = to_range(sb.meta);
  fs.inodes = to_range(sb.inodes);
  fs.blocks = to_range(sb.blocks);
  fs.ids = to_range(sb.ids);
  fs.dictionary = to_range(sb.dictionary);
  fs.boot = to_range(sb.boot);
  fs.heap = to_range(sb.heap);
  fs.checksums = to_range(sb.checksums);

  // The layout: [superblock][data][meta][checksums], nothing else, no gaps.
  const Range whole{0, image_size};
  const Range* parts[] = {&fs.data, &fs.meta, &fs.checksums};
  for (const Range* r : parts) {
    if (!inside(*r, whole)) return corrupt(fs, "extent outside the image");
  }
  if (fs.data.offset != fmt::kSuperblockSize || fs.meta.offset != fs.data.offset + fs.data.size ||
      fs.checksums.offset != fs.meta.offset + fs.meta.size ||
      fs.checksums.offset + fs.checksums.size != image_size) {
    return corrupt(fs, "extents not back to back");
  }
  const Range* tables[] = {&fs.inodes, &fs.blocks, &fs.ids, &fs.heap};
  for (const Range* r : tables) {
    if (!inside(*r, fs.meta)) return corrupt(fs, "table outside the metadata extent");
  }
  if (fs.dictionary.size != 0 ? !inside(fs.dictionary, fs.meta) : fs.dictionary.offset != 0) {
    return corrupt(fs, "dictionary outside the metadata extent");
  }
  const bool has_boot = (sb.feature_compat.load() & fmt::kCompatBoot) != 0;
  if (has_boot != (fs.boot.size != 0) || fs.boot.size % 8 != 0 ||
      (fs.boot.size != 0 ? !inside(fs.boot, fs.meta) : fs.boot.offset != 0)) {
    return corrupt(fs, "boot records");
  }
  uint64_t slots = fs.inodes.size / fmt::kSlotSize;
  if (fs.inodes.size % fmt::kSlotSize != 0 || slots == 0 || slots >= UINT32_MAX ||
      fs.inode_count == 0 || fs.inode_count > slots) {
    return corrupt(fs, "inode table size");
  }
  fs.slot_count = static_cast<uint32_t>(slots);
  if (fs.ids.size % sizeof(fmt::IdPair) != 0 || fs.ids.size / sizeof(fmt::IdPair) > 65536) {
    return corrupt(fs, "id table size");
  }
  fs.id_count = static_cast<uint32_t>(fs.ids.size / sizeof(fmt::IdPair));
  if (fs.heap.size > (uint64_t{UINT32_MAX} + 1) * fmt::kHeapAlign) return corrupt(fs, "heap size");
  if (fs.blocks.size / sizeof(fmt::BlockEntry) != fs.block_count ||
      fs.blocks.size % sizeof(fmt::BlockEntry) != 0) {
    return corrupt(fs, "block table size");
  }
  const bool has_dictionary = (sb.feature_incompat.load() & fmt::kIncompatDictionary) != 0;
  if (has_dictionary != (fs.dictionary.size != 0) || fs.dictionary.size > fmt::kMaxDictionarySize) {
    return corrupt(fs, "dictionary");
  }
  uint64_t units = (fs.meta.size + (uint64_t{1} << fs.unit_log) - 1) >> fs.unit_log;
  if (units >= UINT32_MAX || fs.checksums.size != units * 8)
    return corrupt(fs, "checksum table size");
  fs.unit_count = static_cast<uint32_t>(units);

  fs.stats.block_size = fs.block_size;
  fs.stats.name_max = fmt::kMaxNameLength;
  fs.stats.image_size = image_size;
  fs.stats.inode_count = fs.inode_count;
  fs.stats.max_ino = fs.slot_count;
  fs.stats.block_count = fs.block_count;
  fs.stats.file_bytes = sb.file_bytes.load();
  fs.stats.stored_bytes = sb.stored_bytes.load();
  fs.stats.version_major = sb.version_major.load();
  fs.stats.version_minor = sb.version_minor.load();
  fs.stats.feature_compat = sb.feature_compat.load();
  fs.stats.feature_incompat = sb.feature_incompat.load();
  fs.stats.build_time_sec = static_cast<int64_t>(sb.build_time_sec.load());
  fs.stats.build_time_nsec = sb.build_time_nsec.load();
  return {};
}

bool valid_platform(const bakefs_platform* p) {
  return p != nullptr && p->alloc != nullptr && p->free != nullptr && p->lock_create != nullptr &&
         p->lock_destroy != nullptr && p->lock != nullptr && p->unlock != nullptr;
}

void destroy(bakefs_fs* fs) {
  const Platform platform = fs->platform;
  fs->cache.fini(platform);
  fs->decompressors.fini(platform);
  fs->ordered_dirs.fini(platform);
  fs->verified_blocks.fini(platform);
  fs->verified_units.fini(platform);
  fs->~bakefs_fs();
  platform.free(fs, sizeof(bakefs_fs));
}

Status setup(bakefs_fs& fs, const bakefs_mount_options& o) {
  uint32_t slots = o.verify_slots != 0 ? o.verify_slots : kDefaultVerifySlots;
  if ((slots & (slots - 1)) != 0 || slots > kMaxVerifySlots) return Error::kInvalid;
  uint32_t contexts = o.decompressors != 0 ? o.decompressors : kDefaultDecompressors;
  if (contexts > kMaxDecompressors) return Error::kInvalid;
  size_t cache = o.cache_bytes != 0 ? o.cache_bytes : kDefaultCacheBytes;
  fs.verify = (o.flags & BAKEFS_MOUNT_NO_VERIFY) == 0;
  BAKEFS_CHECK(fs.verified_units.init(fs.platform, slots));
  BAKEFS_CHECK(fs.verified_blocks.init(fs.platform, slots));
  BAKEFS_CHECK(fs.ordered_dirs.init(fs.platform, slots));
  // The dictionary is loaded at mount (at most kMaxDictionarySize bytes, checked first).
  const uint8_t* dictionary = nullptr;
  if (fs.dictionary.size != 0) {
    dictionary = BAKEFS_TRY(fs.meta_bytes(fs.dictionary, 0, fs.dictionary.size));
  }
  BAKEFS_CHECK(fs.decompressors.init(fs.platform, contexts, dictionary,
                                     static_cast<size_t>(fs.dictionary.size)));
  BAKEFS_CHECK(fs.cache.init(fs.platform, cache, fs.block_size));
  fs.keep_whole = (o.flags & BAKEFS_MOUNT_NO_PAGE_CACHE) != 0;
  fs.max_pins = max_of<uint32_t>(1, min_of<uint32_t>(kMaxPinsPerRead, fs.cache.entries() / 4));
  fs.stats.max_pins = fs.max_pins;
  return {};
}

// The root must be a directory: one inode load, so mount stays O(1).
Status check_root(bakefs_fs& fs) {
  auto root = fs.load_linked_inode(fmt::kRootIno);
  if (!root.ok()) return root.error();
  if (!root.value().is_dir()) {
    fs.report(0, Message() << "bakefs: the root inode is not a directory");
    return Error::kCorrupt;
  }
  return {};
}

}  // namespace
}  // namespace bakefs

using namespace bakefs;

extern "C" int bakefs_mount(const void* image, size_t length, const bakefs_platform* platform,
                            const bakefs_mount_options* options, bakefs_fs** out) {
  if (out == nullptr) return BAKEFS_EINVAL;
  *out = nullptr;
  if (image == nullptr || !valid_platform(platform)) return BAKEFS_EINVAL;
  void* memory = platform->alloc(platform->ctx, sizeof(bakefs_fs), alignof(bakefs_fs));
  if (memory == nullptr) return BAKEFS_ENOMEM;
  bakefs_fs* fs = new (memory) bakefs_fs(*platform);
  bakefs_mount_options defaults = {};
  Status s = parse_superblock(*fs, static_cast<const uint8_t*>(image), length);
  if (s.ok()) s = setup(*fs, options != nullptr ? *options : defaults);
  if (s.ok()) s = check_root(*fs);
  if (!s.ok()) {
    destroy(fs);
    return s.code();
  }
  *out = fs;
  return BAKEFS_OK;
}

extern "C" void bakefs_unmount(bakefs_fs* fs) {
  if (fs != nullptr) destroy(fs);
}

extern "C" int bakefs_statfs(bakefs_fs* fs, bakefs_fsstat* out) {
  if (fs == nullptr || out == nullptr) return BAKEFS_EINVAL;
  *out = fs->stats;
  out->decompressions = fs->decompressors.count(fs->platform);
  out->uncached_fills = fs->cache.uncached(fs->platform);
  out->pinned = fs->cache.pinned(fs->platform);
  return BAKEFS_OK;
}

extern "C" const char* bakefs_strerror(int status) {
  switch (status) {
    case BAKEFS_OK:
      return "success";
    case BAKEFS_ENOENT:
      return "no such file or directory";
    case BAKEFS_ENOTDIR:
      return "not a directory";
    case BAKEFS_EISDIR:
      return "is a directory";
    case BAKEFS_EINVAL:
      return "invalid argument";
    case BAKEFS_ENOMEM:
      return "out of memory";
    case BAKEFS_ERANGE:
      return "buffer too small";
    case BAKEFS_ENODATA:
      return "no such attribute";
    case BAKEFS_ENOTSUP:
      return "not supported";
    case BAKEFS_ECORRUPT:
      return "image is corrupt";
    case BAKEFS_ECHECKSUM:
      return "checksum mismatch: image is damaged";
    case BAKEFS_ENOTLNK:
      return "not a symbolic link";
    case BAKEFS_ELOOP:
      return "too many levels of symbolic links";
    default:
      return "unknown error";
  }
}
