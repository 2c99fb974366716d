// Reading a regular file's bytes from its source, checked against what the scan saw.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_SOURCE_FILE_H
#define BAKEFS_HOST_WRITER_SOURCE_FILE_H

#include <cstdint>
#include <string>

#include "writer/tree.h"

namespace bakefs::build {

class SourceFile {
 public:
  // Opens the content of n; throws Error if it cannot, or if it is no longer the file the
  // scan saw (another inode, size or modification time).
  explicit SourceFile(const Inode& n);
  ~SourceFile();
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;

  // Reads exactly size bytes at offset; throws if the file is shorter than the scan saw.
  void read(uint64_t offset, void* buf, size_t size);
  // True if [offset, offset + size) is known to be a hole (no data), without reading it.
  bool is_hole(uint64_t offset, uint64_t size);
  // Throws if the file changed while it was read.
  void finish();
  const std::string& name() const { return name_; }

 private:
  const Inode& inode_;
  std::string name_;
  int fd_ = -1;
  uint64_t base_ = 0;       // where the content starts in fd_ (a spill file)
  uint64_t hole_from_ = 0;  // [hole_from_, hole_to_) is known to be a hole
  uint64_t hole_to_ = 0;
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_SOURCE_FILE_H
