// SpillFile: an O_TMPFILE file (unnamed, gone when closed), buffered writes, zero pages skipped.
// SPDX-License-Identifier: BSD-2-Clause
#include "sources/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "writer/tree.h"

namespace bakefs::build {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kBufferSize = size_t{1} << 20;
constexpr uint64_t kAlignFrom = 64 * 1024;  // smaller stretches are packed byte to byte

bool all_zero(const uint8_t* p, size_t n) {
  static const uint8_t kZeros[kPage] = {};
  while (n > 0) {
    size_t k = std::min<size_t>(n, sizeof(kZeros));
    if (std::memcmp(p, kZeros, k) != 0) return false;
    p += k;
    n -= k;
  }
  return true;
}

void write_all(int fd, const uint8_t* p, size_t size, uint64_t offset, const std::string& shown) {
  while (size > 0) {
    ssize_t n = pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(shown, "cannot write", errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

}  // namespace

SpillFile::SpillFile(const std::string& owner) {
  const char* env = std::getenv("TMPDIR");
  std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  shown_ = "temporary spill file in " + dir;
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this file system: a named file, unlinked at once.
    std::string path = dir + "/mkimage-spill.XXXXXX";
    fd_ = mkostemp(path.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(path.c_str());
  }
  if (fd_ < 0) throw_errno(owner, "cannot create a temporary spill file in " + dir, errno);
  buffer_.reserve(kBufferSize);
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

int SpillFile::release() {
  return std::exchange(fd_, -1);
}

uint64_t SpillFile::begin(uint64_t size) {
  start_ = size >= kAlignFrom ? (end_ + kPage - 1) / kPage * kPage : end_;
  stretch_size_ = size;
  buffered_at_ = start_;
  buffer_.clear();
  return start_;
}

void SpillFile::write(uint64_t offset, const void* bytes, size_t size) {
  const uint64_t at = start_ + offset;
  if (at != buffered_at_ + buffer_.size()) flush();
  if (buffer_.empty()) buffered_at_ = at;
  const auto* p = static_cast<const uint8_t*>(bytes);
  while (size > 0) {
    size_t n = std::min(size, kBufferSize - buffer_.size());
    buffer_.insert(buffer_.end(), p, p + n);
    p += n;
    size -= n;
    if (buffer_.size() == kBufferSize) flush();
  }
}

// Writes the buffer but for its all-zero pages: nothing was ever written there, so they read
// as zeros and SEEK_DATA passes over them.
void SpillFile::flush() {
  uint64_t pos = buffered_at_;
  const uint64_t stop = buffered_at_ + buffer_.size();
  while (pos < stop) {
    uint64_t page_end = std::min(stop, (pos / kPage + 1) * kPage);
    const uint8_t* p = buffer_.data() + (pos - buffered_at_);
    if (all_zero(p, page_end - pos)) {
      pos = page_end;
      continue;
    }
    // A run of pages with data.
    uint64_t run_end = page_end;
    while (run_end < stop) {
      uint64_t next = std::min(stop, run_end + kPage);
      if (all_zero(buffer_.data() + (run_end - buffered_at_), next - run_end)) break;
      run_end = next;
    }
    write_all(fd_, p, run_end - pos, pos, shown_);
    length_ = std::max(length_, run_end);
    pos = run_end;
  }
  buffered_at_ = stop;
  buffer_.clear();
}

void SpillFile::end() {
  flush();
  end_ = start_ + stretch_size_;
  if (length_ < end_) {
    // Trailing zeros (or a trailing hole): make them part of the file, so that reads see them.
    if (ftruncate(fd_, static_cast<off_t>(end_)) != 0) {
      throw_errno(shown_, "cannot extend", errno);
    }
    length_ = end_;
  }
}

}  // namespace bakefs::build
