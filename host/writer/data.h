// The data side of an image: files cut into blocks, holes found, identical blocks and tails
// stored once, tails packed into fragment blocks, and blocks compressed in parallel but
// written in a fixed order, so the bytes do not depend on the thread count.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_DATA_H
#define BAKEFS_HOST_WRITER_DATA_H

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "writer/classify.h"
#include "writer/options.h"
#include "writer/output.h"

namespace bakefs::build {

// Where one regular file's bytes went.
struct FileLayout {
  std::vector<uint32_t> blocks;  // listed block ids, kHoleBlock for holes
  bool has_tail = false;         // the tail is in a fragment:
  uint32_t fragment = 0;         //   fragment number (a block id after finish())
  uint32_t tail_offset = 0;      //   offset of the tail in it
  uint32_t holes = 0;
};

struct StoredBlock {
  uint64_t offset;
  uint32_t stored_size;
  uint32_t raw_size;
  uint64_t checksum;
  bool x86;  // compressed after the x86 filter
};

class CompressorPool;

class DataWriter {
 public:
  // `dictionary`: the image's zstd dictionary, or "" for none.
  DataWriter(OutputFile& out, const Options& options, const std::string& dictionary, Stats& stats);
  ~DataWriter();
  DataWriter(const DataWriter&) = delete;
  DataWriter& operator=(const DataWriter&) = delete;

  FileLayout add_file(const Inode& n);
  // Stores the last fragment and waits for every block to be written.
  void finish();
  // The block id of fragment number n (after finish()).
  uint32_t fragment_block(uint32_t n) const { return fragment_ids_.at(n); }
  const std::vector<StoredBlock>& blocks() const { return blocks_; }

 private:
  struct Key {
    uint64_t low, high;
    uint32_t size;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.low ^ k.size); }
  };
  // Where bytes with a given key were first seen, to compare before sharing.
  struct Seen {
    const Inode* source;
    uint64_t offset;
    uint32_t block;     // block id, or fragment number for tails
    uint32_t in_block;  // tails: offset in the fragment
  };

  // Fragments and short blocks (small files, tails) use the dictionary: that is where it pays;
  // a full block has context enough of its own, and compresses faster without. Blocks of
  // machine code go through the x86 filter.
  uint32_t submit(std::vector<uint8_t> raw, bool with_dictionary, bool x86 = false);
  void add_tail(const Inode& n, const FileClass& kind, const uint8_t* tail, uint32_t size,
                FileLayout& layout);
  void flush_fragment(Kind kind);
  bool same_bytes(const Seen& seen, const uint8_t* bytes, uint32_t size);
  Key key_of(const uint8_t* bytes, uint32_t size) const;

  OutputFile& out_;
  const Options& options_;
  Stats& stats_;
  uint32_t block_size_;
  void* cdict_ = nullptr;  // ZSTD_CDict of the dictionary, shared by the compressors
  std::unique_ptr<CompressorPool> pool_;
  std::vector<StoredBlock> blocks_;
  uint32_t next_id_ = 0;
  std::unordered_map<Key, Seen, KeyHash> seen_blocks_;
  std::unordered_map<Key, Seen, KeyHash> seen_tails_;
  // One open fragment block per kind of file (classify.h): alike tails compress together.
  struct OpenFragment {
    std::vector<uint8_t> bytes;
    uint32_t number = 0;      // its fragment number, given when it was opened
    uint64_t code_bytes = 0;  // of tails that hold x86-64 machine code
  };
  OpenFragment fragments_[kKinds];
  std::vector<uint32_t> fragment_ids_;  // fragment number -> block id, once it is stored
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_DATA_H
