// The metadata of an image: the inode table (compact and extended inodes), the id table and the
// heap (directory entry blocks, symlink targets, block lists, xattr sets).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_METADATA_H
#define BAKEFS_HOST_WRITER_METADATA_H

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "writer/data.h"
#include "writer/numbering.h"
#include "writer/options.h"

namespace bakefs::build {

// Heap objects, each 4-byte aligned; identical block lists and xattr sets are stored once.
class Heap {
 public:
  // Returns the heap word (offset / 4) of the object.
  uint32_t append(const std::string& bytes);
  uint32_t append_unique(const std::string& bytes);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  std::unordered_map<std::string, uint32_t> unique_;
};

struct Metadata {
  std::string inodes;  // the inode table
  std::string ids;     // the id table
  Heap heap;
  int64_t newest_mtime = INT64_MIN;
};

// Encodes every inode of `num`; `layouts` and `data` tell where regular files' bytes went.
Metadata encode_metadata(const Numbering& num, const std::vector<FileLayout>& layouts,
                         const DataWriter& data, Stats& stats);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_METADATA_H
