// SourceFile: open beneath the source root without following symlinks (or a stretch of a
// spill file, or bytes held in memory), hole detection with SEEK_DATA/SEEK_HOLE, and change
// detection.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/source_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace bakefs::build {
namespace {

// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it; a path longer
// than PATH_MAX is opened one directory at a time.
int open_beneath(int root_fd, const std::string& rel) {
  if (root_fd < 0) return ::open(rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (rel.size() < PATH_MAX - 1) {
    open_how how{};
    how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    long fd = syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    return openat(root_fd, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  int dir = root_fd;
  size_t pos = 0;
  for (;;) {
    size_t slash = rel.find('/', pos);
    std::string part = rel.substr(pos, slash - pos);
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash == std::string::npos ? 0 : O_DIRECTORY);
    int fd = openat(dir, part.c_str(), flags);
    int error = errno;
    if (dir != root_fd) ::close(dir);
    if (fd < 0 || slash == std::string::npos) {
      errno = error;
      return fd;
    }
    dir = fd;
    pos = slash + 1;
  }
}

}  // namespace

SourceFile::SourceFile(const Inode& n) : inode_(n) {
  const Content& c = n.content;
  if (c.data != nullptr) {  // generated in memory: nothing to open or to check
    name_ = c.host_path;
    if (c.data->size() != n.size) throw Error(name_ + ": size differs from the source listing");
    return;
  }
  name_ = c.root_name != nullptr ? *c.root_name + "/" + c.host_path : c.host_path;
  if (c.spill_fd >= 0) {
    // A stretch of a spill file the tree owns: nothing on the host can change it.
    fd_ = fcntl(c.spill_fd, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) throw_errno(name_, "cannot open its spilled content", errno);
    base_ = c.spill_offset;
    return;
  }
  fd_ = open_beneath(c.root_fd, c.host_path);
  if (fd_ < 0) throw_errno(name_, "cannot open", errno);
  struct stat st;
  if (fstat(fd_, &st) != 0) throw_errno(name_, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) throw Error(name_ + ": changed while it was read (no longer a file)");
  if (c.checked &&
      (st.st_dev != c.device || st.st_ino != c.inode ||
       static_cast<uint64_t>(st.st_size) != n.size || st.st_mtim.tv_sec != c.mtime_sec ||
       static_cast<uint32_t>(st.st_mtim.tv_nsec) != c.mtime_nsec)) {
    throw Error(name_ + ": changed while it was read");
  }
  if (static_cast<uint64_t>(st.st_size) != n.size) {
    throw Error(name_ + ": size differs from the source listing");
  }
}

SourceFile::~SourceFile() {
  if (fd_ >= 0) ::close(fd_);
}

void SourceFile::read(uint64_t offset, void* buf, size_t size) {
  if (const auto& data = inode_.content.data; data != nullptr) {
    if (offset > data->size() || size > data->size() - offset) {
      throw Error(name_ + ": read beyond the end");
    }
    std::memcpy(buf, data->data() + offset, size);
    return;
  }
  auto* p = static_cast<uint8_t*>(buf);
  while (size > 0) {
    ssize_t n = pread(fd_, p, size, static_cast<off_t>(base_ + offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(name_, "cannot read", errno);
    }
    if (n == 0) throw Error(name_ + ": changed while it was read (file shrank)");
    p += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
}

bool SourceFile::is_hole(uint64_t offset, uint64_t size) {
  if (fd_ < 0) return false;  // in memory: zero blocks are still found by reading them
  if (offset < hole_from_ || offset >= hole_to_) {
    // Find the next data at or after offset; what lies before it is a hole.
    off_t data = lseek(fd_, static_cast<off_t>(base_ + offset), SEEK_DATA);
    if (data < 0) {
      if (errno != ENXIO) return false;  // no SEEK_DATA here: read everything
      data = static_cast<off_t>(base_ + inode_.size);
    }
    hole_from_ = offset;
    hole_to_ = static_cast<uint64_t>(data) - base_;
  }
  return offset + size <= hole_to_;
}

void SourceFile::finish() {
  if (fd_ < 0 || inode_.content.spill_fd >= 0) return;  // in memory or spilled: cannot change
  struct stat st;
  if (fstat(fd_, &st) != 0) throw_errno(name_, "cannot stat", errno);
  const Content& c = inode_.content;
  if (static_cast<uint64_t>(st.st_size) != inode_.size ||
      (c.checked && (st.st_mtim.tv_sec != c.mtime_sec ||
                     static_cast<uint32_t>(st.st_mtim.tv_nsec) != c.mtime_nsec))) {
    throw Error(name_ + ": changed while it was read");
  }
}

}  // namespace bakefs::build
