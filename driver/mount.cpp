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

// What the superblock gives, once checked: the geometry mount keeps, and why not.
struct Superblock {
  fmt::Superblock sb;       // the bytes, once they fit
  bool magic = false;       // the bytes start with the magic
  uint64_t image_size = 0;  // once magic and checksum hold, however many bytes follow
  const char* reason = nullptr;
  uint32_t value = 0;  // kNotSupported: the version or the unknown feature bits
  Geometry geo;        // complete once the check passed
};

Status bad(Superblock& out, Error error, const char* why, uint32_t value = 0) {
  out.reason = why;
  out.value = value;
  return error;
}

// The one check of a superblock: mount's and bakefs_probe's (the host tools'). O(1): the header
// and the extents, nothing behind them. head holds the first head_length bytes of an image
// that has `length` bytes available (the same, in memory; a source's size).
Status check_superblock(const uint8_t* head, size_t head_length, uint64_t length, Superblock& out) {
  const uint8_t* image = head;
  out.magic = head_length >= sizeof(fmt::kMagic) &&
              compare_bytes(image, fmt::kMagic, sizeof(fmt::kMagic)) == 0;
  if (head_length < fmt::kSuperblockSize || length < fmt::kSuperblockSize) {
    return bad(out, Error::kCorrupt, "image shorter than a superblock");
  }
  fmt::Superblock& sb = out.sb;
  Geometry& g = out.geo;
  copy_bytes(&sb, image, sizeof(sb));
  if (!out.magic) return bad(out, Error::kCorrupt, "no bakefs magic");
  if (checksum64(image, offsetof(fmt::Superblock, checksum), fmt::kSeedSuperblock) !=
      sb.checksum.load()) {
    return bad(out, Error::kChecksum, "superblock checksum mismatch");
  }
  out.image_size = sb.image_size.load();
  if (sb.version_major.load() != fmt::kVersionMajor) {
    return bad(out, Error::kNotSupported, "unsupported format version", sb.version_major.load());
  }
  uint32_t unknown = sb.feature_incompat.load() & ~fmt::kIncompatSupported;
  if (unknown != 0) {
    return bad(out, Error::kNotSupported, "unsupported incompatible features", unknown);
  }
  auto corrupt = [&](const char* what) { return bad(out, Error::kCorrupt, what); };
  if (sb.superblock_size.load() != fmt::kSuperblockSize) return corrupt("superblock size");
  if (sb.block_log < fmt::kMinBlockLog || sb.block_log > fmt::kMaxBlockLog) {
    return corrupt("block size");
  }
  if (sb.unit_log < fmt::kMinUnitLog || sb.unit_log > fmt::kMaxUnitLog) {
    return corrupt("checksum unit size");
  }
  const uint64_t image_size = out.image_size;
  if (image_size > length) return corrupt("image truncated");
  if (image_size < fmt::kSuperblockSize) return corrupt("image size");
  if (sb.build_time_nsec.load() >= 1000000000u) return corrupt("build time");

  g.data = to_range(sb.data);
  g.meta = to_range(sb.meta);
  g.inodes = to_range(sb.inodes);
  g.blocks = to_range(sb.blocks);
  g.ids = to_range(sb.ids);
  g.dictionary = to_range(sb.dictionary);
  g.boot = to_range(sb.boot);
  g.heap = to_range(sb.heap);
  g.checksums = to_range(sb.checksums);

  // The layout: [superblock][data][meta][checksums], nothing else, no gaps.
  const Range whole{0, image_size};
  const Range* parts[] = {&g.data, &g.meta, &g.checksums};
  for (const Range* r : parts) {
    if (!inside(*r, whole)) return corrupt("extent outside the image");
  }
  if (g.data.offset != fmt::kSuperblockSize || g.meta.offset != g.data.offset + g.data.size ||
      g.checksums.offset != g.meta.offset + g.meta.size ||
      g.checksums.offset + g.checksums.size != image_size) {
    return corrupt("extents not back to back");
  }
  const Range* tables[] = {&g.inodes, &g.blocks, &g.ids, &g.heap};
  for (const Range* r : tables) {
    if (!inside(*r, g.meta)) return corrupt("table outside the metadata extent");
  }
  if (g.dictionary.size != 0 ? !inside(g.dictionary, g.meta) : g.dictionary.offset != 0) {
    return corrupt("dictionary outside the metadata extent");
  }
  const bool has_boot = (sb.feature_compat.load() & fmt::kCompatBoot) != 0;
  if (has_boot != (g.boot.size != 0) || g.boot.size % 8 != 0 ||
      (g.boot.size != 0 ? !inside(g.boot, g.meta) : g.boot.offset != 0)) {
    return corrupt("boot records");
  }
  const uint32_t inode_count = sb.inode_count.load();
  uint64_t slots = g.inodes.size / fmt::kSlotSize;
  if (g.inodes.size % fmt::kSlotSize != 0 || slots == 0 || slots >= UINT32_MAX ||
      inode_count == 0 || inode_count > slots) {
    return corrupt("inode table size");
  }
  g.slot_count = static_cast<uint32_t>(slots);
  if (g.ids.size % sizeof(fmt::IdPair) != 0 || g.ids.size / sizeof(fmt::IdPair) > 65536) {
    return corrupt("id table size");
  }
  g.id_count = static_cast<uint32_t>(g.ids.size / sizeof(fmt::IdPair));
  if (g.heap.size > (uint64_t{UINT32_MAX} + 1) * fmt::kHeapAlign) return corrupt("heap size");
  if (g.blocks.size / sizeof(fmt::BlockEntry) != sb.block_count.load() ||
      g.blocks.size % sizeof(fmt::BlockEntry) != 0) {
    return corrupt("block table size");
  }
  const bool has_dictionary = (sb.feature_incompat.load() & fmt::kIncompatDictionary) != 0;
  if (has_dictionary != (g.dictionary.size != 0) || g.dictionary.size > fmt::kMaxDictionarySize) {
    return corrupt("dictionary");
  }
  uint64_t units = (g.meta.size + (uint64_t{1} << sb.unit_log) - 1) >> sb.unit_log;
  if (units >= UINT32_MAX || g.checksums.size != units * 8) {
    return corrupt("checksum table size");
  }
  g.unit_count = static_cast<uint32_t>(units);

  g.image = image;  // (mount from a source clears it)
  g.image_size = image_size;
  g.block_log = sb.block_log;
  g.block_size = 1u << sb.block_log;
  g.unit_log = sb.unit_log;
  g.inode_count = inode_count;
  g.block_count = sb.block_count.load();
  g.feature_incompat = sb.feature_incompat.load();
  bakefs_fsstat& f = g.figures;
  f.block_size = g.block_size;
  f.name_max = fmt::kMaxNameLength;
  f.image_size = image_size;
  f.inode_count = g.inode_count;
  f.max_ino = g.slot_count;
  f.block_count = g.block_count;
  f.file_bytes = sb.file_bytes.load();
  f.stored_bytes = sb.stored_bytes.load();
  f.version_major = sb.version_major.load();
  f.version_minor = sb.version_minor.load();
  f.feature_compat = sb.feature_compat.load();
  f.feature_incompat = sb.feature_incompat.load();
  f.build_time_sec = static_cast<int64_t>(sb.build_time_sec.load());
  f.build_time_nsec = sb.build_time_nsec.load();
  return {};
}

// Mount's superblock check, its failure logged as mount has always logged it.
Status parse_superblock(const Platform& platform, const uint8_t* head, size_t head_length,
                        uint64_t length, Geometry& geo) {
  Superblock checked;
  Status s = check_superblock(head, head_length, length, checked);
  if (s.ok()) {
    geo = checked.geo;
    return s;
  }
  Message m;
  if (s.error() == Error::kCorrupt) {
    m << "bakefs: bad superblock: " << checked.reason;
  } else if (s.error() == Error::kNotSupported) {
    m << "bakefs: " << checked.reason << " " << checked.value;
  } else {
    m << "bakefs: " << checked.reason;
  }
  platform.log(0, m.c_str());
  return s;
}

bool valid_platform(const bakefs_platform* p) {
  return p != nullptr && p->alloc != nullptr && p->free != nullptr && p->lock_create != nullptr &&
         p->lock_destroy != nullptr && p->lock != nullptr && p->unlock != nullptr;
}

void destroy(bakefs_fs* fs) {
  const Platform platform = fs->platform;
  fs->fini();
  fs->~bakefs_fs();
  platform.free(fs, sizeof(bakefs_fs));
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

Status bakefs_fs::init_source(const bakefs_source& source) {
  source_ = source;
  // The metadata and its checksum table, back to back as in the image; the table read now.
  const uint64_t bytes = geo.meta.size + geo.checksums.size;
  if (bytes > SIZE_MAX) return Error::kNoMemory;
  meta_copy_ = static_cast<uint8_t*>(platform.alloc(static_cast<size_t>(bytes), 64));
  loaded_ = platform.alloc_array<std::atomic<uint32_t>>((geo.unit_count + 31) / 32);
  load_lock_ = platform.lock_create();
  if (meta_copy_ == nullptr || loaded_ == nullptr || load_lock_ == nullptr) {
    return Error::kNoMemory;
  }
  meta_ = meta_copy_;
  sums_ = meta_copy_ + geo.meta.size;
  return read_source(geo.checksums.offset, meta_copy_ + geo.meta.size,
                     static_cast<size_t>(geo.checksums.size), "metadata checksum table", 0);
}

Status bakefs_fs::init(const bakefs_mount_options& o, const bakefs_source* source) {
  uint32_t slots = o.verify_slots != 0 ? o.verify_slots : kDefaultVerifySlots;
  if ((slots & (slots - 1)) != 0 || slots > kMaxVerifySlots) return Error::kInvalid;
  uint32_t contexts = o.decompressors != 0 ? o.decompressors : kDefaultDecompressors;
  if (contexts > kMaxDecompressors) return Error::kInvalid;
  size_t cache = o.cache_bytes != 0 ? o.cache_bytes : kDefaultCacheBytes;
  verify_ = (o.flags & BAKEFS_MOUNT_NO_VERIFY) == 0;
  if (source != nullptr) {
    BAKEFS_CHECK(init_source(*source));
  } else {
    meta_ = geo.image + geo.meta.offset;
    sums_ = geo.image + geo.checksums.offset;
  }
  BAKEFS_CHECK(verified_units_.init(platform, slots));
  BAKEFS_CHECK(verified_blocks_.init(platform, slots));
  BAKEFS_CHECK(ordered_dirs_.init(platform, slots));
  // The dictionary is loaded at mount (at most kMaxDictionarySize bytes, checked first).
  const uint8_t* dictionary = nullptr;
  if (geo.dictionary.size != 0) {
    dictionary = BAKEFS_TRY(meta_bytes(geo.dictionary, 0, geo.dictionary.size));
  }
  BAKEFS_CHECK(decompressors_.init(platform, contexts, dictionary,
                                   static_cast<size_t>(geo.dictionary.size)));
  BAKEFS_CHECK(cache_.init(platform, cache, geo.block_size));
  keep_whole_ = (o.flags & BAKEFS_MOUNT_NO_PAGE_CACHE) != 0;
  max_pins_ = max_of<uint32_t>(1, min_of<uint32_t>(kMaxPinsPerRead, cache_.entries() / 4));
  return {};
}

void bakefs_fs::fini() {
  cache_.fini(platform);
  decompressors_.fini(platform);
  ordered_dirs_.fini(platform);
  verified_blocks_.fini(platform);
  verified_units_.fini(platform);
  if (meta_copy_ != nullptr) {
    platform.free(meta_copy_, static_cast<size_t>(geo.meta.size + geo.checksums.size));
  }
  platform.free_array(loaded_, (geo.unit_count + 31) / 32);
  platform.lock_destroy(load_lock_);
  meta_copy_ = nullptr;
  loaded_ = nullptr;
  load_lock_ = nullptr;
}

bakefs_fsstat bakefs_fs::statfs() const {
  bakefs_fsstat out = geo.figures;
  out.max_pins = max_pins_;
  out.decompressions = decompressors_.count(platform);
  out.uncached_fills = cache_.uncached(platform);
  out.pinned = cache_.pinned(platform);
  return out;
}

namespace bakefs {
namespace {

// What both mounts share once the superblock passed: the file system, set up and its root
// checked, or nothing.
int finish_mount(const bakefs_platform& platform, const Geometry& geo,
                 const bakefs_mount_options* options, const bakefs_source* source,
                 bakefs_fs** out) {
  void* memory = platform.alloc(platform.ctx, sizeof(bakefs_fs), alignof(bakefs_fs));
  if (memory == nullptr) return BAKEFS_ENOMEM;
  bakefs_fs* fs = new (memory) bakefs_fs(platform, geo);
  bakefs_mount_options defaults = {};
  Status s = fs->init(options != nullptr ? *options : defaults, source);
  if (s.ok()) s = check_root(*fs);
  if (!s.ok()) {
    destroy(fs);
    return s.code();
  }
  *out = fs;
  return BAKEFS_OK;
}

}  // namespace
}  // namespace bakefs

extern "C" int bakefs_mount(const void* image, size_t length, const bakefs_platform* platform,
                            const bakefs_mount_options* options, bakefs_fs** out) {
  if (out == nullptr) return BAKEFS_EINVAL;
  *out = nullptr;
  if (image == nullptr || !valid_platform(platform)) return BAKEFS_EINVAL;
  Geometry geo;
  const uint8_t* bytes = static_cast<const uint8_t*>(image);
  Status s = parse_superblock(Platform(*platform), bytes, length, length, geo);
  if (!s.ok()) return s.code();
  return finish_mount(*platform, geo, options, nullptr, out);
}

extern "C" int bakefs_mount_source(const bakefs_source* source, const bakefs_platform* platform,
                                   const bakefs_mount_options* options, bakefs_fs** out) {
  if (out == nullptr) return BAKEFS_EINVAL;
  *out = nullptr;
  if (source == nullptr || source->read == nullptr || !valid_platform(platform)) {
    return BAKEFS_EINVAL;
  }
  const Platform p(*platform);
  uint8_t head[fmt::kSuperblockSize];
  const size_t head_length = static_cast<size_t>(min_of<uint64_t>(sizeof(head), source->size));
  if (head_length != 0 && source->read(source->ctx, 0, head, head_length) != 0) {
    p.log(0, "bakefs: cannot read the superblock");
    return BAKEFS_EIO;
  }
  Geometry geo;
  Status s = parse_superblock(p, head, head_length, source->size, geo);
  if (!s.ok()) return s.code();
  geo.image = nullptr;  // every byte from here on through the source
  return finish_mount(*platform, geo, options, source, out);
}

extern "C" int bakefs_probe(const void* image, size_t length, bakefs_probe_info* out) {
  if (out == nullptr) return BAKEFS_EINVAL;
  *out = {};
  if (image == nullptr) return BAKEFS_EINVAL;
  Superblock checked;
  Status s = check_superblock(static_cast<const uint8_t*>(image), length, length, checked);
  out->image_size = checked.image_size;
  out->magic = checked.magic ? 1 : 0;
  out->reason = checked.reason;
  return s.code();
}

extern "C" void bakefs_unmount(bakefs_fs* fs) {
  if (fs != nullptr) destroy(fs);
}

extern "C" int bakefs_statfs(bakefs_fs* fs, bakefs_fsstat* out) {
  if (fs == nullptr || out == nullptr) return BAKEFS_EINVAL;
  *out = fs->statfs();
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
    case BAKEFS_EIO:
      return "cannot read the image's storage";
    default:
      return "unknown error";
  }
}
