// A temporary file that holds the bytes of tar members until the image is written: one file
// per archive, written once from front to back, read back by stretches. All-zero pages are not
// written, so sparse members and runs of zeros stay holes that the data writer skips.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_SPILL_FILE_H
#define BAKEFS_HOST_SOURCES_SPILL_FILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bakefs::build {

class SpillFile {
 public:
  // An unnamed file in $TMPDIR (or /tmp), for `owner` (named in messages).
  explicit SpillFile(const std::string& owner);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Gives the descriptor away (to the tree that reads the stretches later).
  int release();
  int fd() const { return fd_; }

  // Starts a stretch of `size` bytes and returns its offset. Large stretches start on a page,
  // so that their holes line up with the file system's.
  uint64_t begin(uint64_t size);
  // Writes bytes at `offset` within the current stretch (offsets only grow).
  void write(uint64_t offset, const void* bytes, size_t size);
  // Ends the stretch; its bytes can be read from then on.
  void end();

 private:
  void flush();

  std::string shown_;  // for messages
  int fd_ = -1;
  uint64_t start_ = 0;         // the current stretch
  uint64_t stretch_size_ = 0;  // its size
  uint64_t end_ = 0;           // end of the last stretch
  uint64_t length_ = 0;        // the file's length
  uint64_t buffered_at_ = 0;   // file offset of buffer_[0]
  std::vector<uint8_t> buffer_;
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_SPILL_FILE_H
