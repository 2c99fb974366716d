// What the writer is asked to do (Options) and what it reports (Stats): shared by write_image
// and the parts of the writer it drives (data, metadata).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_OPTIONS_H
#define BAKEFS_HOST_WRITER_OPTIONS_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// The order in which files' data is written, and so which tails share fragment blocks
// (placement.h).
enum class Placement : uint8_t {
  kNames,       // inode order, files that share a name together (format 1.0's mkimage)
  kExtension,   // by extension, then name
  kSimilarity,  // tails chained by a fingerprint of their bytes, within each kind of file
};

struct Options {
  uint32_t block_log = 17;  // 128 KiB blocks
  int level = 14;           // zstd level, 1..22: with the dictionary, smaller and faster than
                            // mksquashfs at its level 15 (docs/PERFORMANCE.md)
  unsigned threads = 0;     // compression threads; 0: all cores
  bool fragments = true;    // pack tails and small files together
  bool dedup = true;        // store identical blocks and tails once
  // Tails of text, ELF, compressed and other files go to fragment blocks of their own kind.
  bool fragments_by_kind = true;
  // Which tails share fragment blocks: by default alike ones by a fingerprint of their bytes,
  // 0.4-0.9% smaller images than by names at 128 KiB, for about 6% more blocks decompressed
  // by a read of the whole tree in order; mkimage keeps names above 256 KiB blocks without
  // --optimize size (docs/PERFORMANCE.md, "Placement by similarity").
  Placement placement = Placement::kSimilarity;
  // Blocks of x86-64 machine code go through the x86 branch filter before compression
  // (format 1.1, kIncompatX86Filter; only when a block uses it).
  bool x86_filter = true;
  // zstd parameters tuned to the block size (compressor.h, block_parameters): at 1 MiB, the
  // search of zstd's 256 KiB table; false: zstd's own for the level and each block's size.
  // Smaller 1 MiB images (0.91x on the service tree) for reads 1.4-1.7x slower: mkimage sets it
  // for blocks up to 256 KiB, where it costs no read time, and for --optimize size
  // (docs/PERFORMANCE.md, "Format 1.1").
  bool tuned_parameters = true;
  // Full blocks too are compressed with the trained dictionary (when there is one); false:
  // only fragments and short blocks, where it pays most.
  bool dictionary_for_full_blocks = false;
  uint32_t unit_log = 12;  // metadata checksum unit: 4 KiB
  // A zstd dictionary of up to this many bytes, trained on the tree (0: none). It pays for
  // itself on trees of many small files; mkimage leaves it out when there is little to learn.
  size_t dictionary_size = 112 * 1024;
  // The image's build time; by default the newest mtime in the tree, so that the same input
  // gives the same bytes.
  std::optional<int64_t> build_time;
  // Boot records: a launch configuration (opaque bytes; empty: none) and directories to cover
  // with a tmpfs at boot (absolute, normalised; see normalise_tmpfs_path).
  std::string config;
  std::vector<std::string> tmpfs;
  // Flags of a BOOT_ROOT record (format::kBootRoot*); none: no record, mount / as a union.
  std::optional<uint32_t> root_flags;
  // Where the boot code mounts the image when it is not / (a MOUNT record, --mount-at):
  // absolute, normalised, not "/"; empty: none, the image is a root image.
  std::string mount_at;
  // Regular files whose data comes first, in this order (--sort: boot locality); the rest
  // follow in the default order. Inodes of the tree given to write_image.
  std::vector<const Inode*> data_first;
  // Called after each regular file's data is read and queued: files and bytes done so far of
  // the totals. Empty: no progress reports.
  std::function<void(uint64_t files, uint64_t bytes, uint64_t total_files, uint64_t total_bytes)>
      progress;
};

struct Stats {
  uint64_t inodes = 0, directories = 0, files = 0, symlinks = 0, specials = 0;
  uint64_t file_bytes = 0;     // sum of regular file sizes (each inode once)
  uint64_t blocks_stored = 0;  // stored blocks, fragments included
  uint64_t blocks_raw = 0;     // of those, stored uncompressed
  uint64_t fragment_blocks = 0;
  uint64_t x86_blocks = 0;    // stored compressed after the x86 filter
  uint64_t data_bytes = 0;    // bytes of stored blocks
  uint64_t dedup_blocks = 0;  // blocks and tails found identical to earlier ones
  uint64_t dedup_bytes = 0;   // their raw bytes
  uint64_t hole_blocks = 0;
  uint64_t metadata_bytes = 0;  // inode table, block table, heap, checksums, dictionary
  uint64_t dictionary_bytes = 0;
  uint64_t image_bytes = 0;
  unsigned threads = 0;
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_OPTIONS_H
