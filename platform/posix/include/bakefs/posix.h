// The posix platform: the driver core in a user-space process (malloc, pthreads, mmap).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_PLATFORM_POSIX_H
#define BAKEFS_PLATFORM_POSIX_H

#include <bakefs/bakefs.hpp>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bakefs::posix {

// malloc/free and pthread mutexes; log messages go nowhere.
const bakefs_platform& platform();
// The same, with log messages on standard error.
const bakefs_platform& logging_platform();

// The bytes of an image: a read-only mapping of a file, or memory owned or borrowed.
// What a file of this mode is, for messages: "a directory", "a FIFO", "a character device",
// "a block device", "a socket", "a symbolic link", "a regular file".
const char* file_kind(mode_t mode);

class Image {
 public:
  Image() = default;
  ~Image();
  Image(Image&& other) noexcept;
  Image& operator=(Image&& other) noexcept;
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  // Maps a regular file or a block device read-only; throws std::system_error naming the path,
  // or std::runtime_error naming what the path is when it is neither (a directory, a FIFO, ...).
  static Image map_file(const std::string& path);
  static Image own(std::vector<uint8_t> bytes);
  static Image borrow(const void* data, size_t size);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<uint8_t> owned_;
};

// An image and the file system mounted from it, kept together.
struct MountedImage {
  Image image;
  FileSystem fs;

  // Maps and mounts the file; throws std::runtime_error naming the path and the cause.
  static MountedImage open(const std::string& path, const bakefs_mount_options* options = nullptr,
                           bool log = false);
};

// Throws std::runtime_error("<what>: <bakefs_strerror(status)>") unless status is BAKEFS_OK.
void throw_on_error(int status, const std::string& what);

}  // namespace bakefs::posix

#endif  // BAKEFS_PLATFORM_POSIX_H
