// The posix platform: callbacks on malloc and pthreads, and images from files or memory.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/posix.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace bakefs::posix {
namespace {

void* do_alloc(void*, size_t size, size_t align) {
  if (align < sizeof(void*)) align = sizeof(void*);
  void* p = nullptr;
  return posix_memalign(&p, align, size == 0 ? 1 : size) == 0 ? p : nullptr;
}
void do_free(void*, void* p, size_t) {
  std::free(p);
}
void* do_lock_create(void*) {
  auto* m = static_cast<pthread_mutex_t*>(std::malloc(sizeof(pthread_mutex_t)));
  if (m != nullptr && pthread_mutex_init(m, nullptr) != 0) {
    std::free(m);
    return nullptr;
  }
  return m;
}
void do_lock_destroy(void*, void* lock) {
  pthread_mutex_destroy(static_cast<pthread_mutex_t*>(lock));
  std::free(lock);
}
void do_lock(void*, void* lock) {
  pthread_mutex_lock(static_cast<pthread_mutex_t*>(lock));
}
void do_unlock(void*, void* lock) {
  pthread_mutex_unlock(static_cast<pthread_mutex_t*>(lock));
}
int do_trylock(void*, void* lock) {
  return pthread_mutex_trylock(static_cast<pthread_mutex_t*>(lock)) == 0;
}
void do_log(void*, int level, const char* message) {
  std::fprintf(stderr, "%s%s\n", level == 0 ? "error: " : level == 1 ? "warning: " : "", message);
}

constexpr bakefs_platform kQuiet = {nullptr, do_alloc,  do_free, do_lock_create, do_lock_destroy,
                                    do_lock, do_unlock, nullptr, do_trylock};
constexpr bakefs_platform kLogging = {nullptr, do_alloc,  do_free, do_lock_create, do_lock_destroy,
                                      do_lock, do_unlock, do_log,  do_trylock};

}  // namespace

const bakefs_platform& platform() {
  return kQuiet;
}
const bakefs_platform& logging_platform() {
  return kLogging;
}

Image::~Image() {
  release();
}

Image::Image(Image&& other) noexcept {
  *this = std::move(other);
}

Image& Image::operator=(Image&& other) noexcept {
  if (this == &other) return *this;
  release();
  owned_ = std::move(other.owned_);
  mapped_ = other.mapped_;
  size_ = other.size_;
  data_ = owned_.empty() ? other.data_ : owned_.data();
  other.data_ = nullptr;
  other.size_ = 0;
  other.mapped_ = false;
  return *this;
}

void Image::release() {
  if (mapped_ && size_ != 0) munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
  owned_.clear();
}

const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFREG:
      return "a regular file";
    default:
      return "not a regular file";
  }
}

namespace {

[[noreturn]] void fail(int error, const std::string& path, int fd = -1) {
  if (fd >= 0) ::close(fd);
  throw std::system_error(error, std::generic_category(), path);
}

}  // namespace

Image Image::map_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked before any read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) fail(errno, path);
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno, path, fd);
  size_t size = 0;
  if (S_ISREG(st.st_mode)) {
    size = static_cast<size_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    // A block device holding an image (dd'ed onto a disk or a partition): its whole size.
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) fail(errno, path, fd);
    size = static_cast<size_t>(end);
  } else {
    ::close(fd);
    throw std::runtime_error(path + ": is " + file_kind(st.st_mode) +
                             ", not an image (an image is a regular file, a block device or a "
                             "program with one linked in)");
  }
  Image image;
  image.mapped_ = true;
  image.size_ = size;
  if (image.size_ != 0) {
    void* p = mmap(nullptr, image.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) fail(errno, path, fd);
    image.data_ = static_cast<const uint8_t*>(p);
  } else {
    static const uint8_t kEmpty = 0;
    image.data_ = &kEmpty;
  }
  ::close(fd);
  return image;
}

Image Image::own(std::vector<uint8_t> bytes) {
  Image image;
  image.owned_ = std::move(bytes);
  image.data_ = image.owned_.data();
  image.size_ = image.owned_.size();
  return image;
}

Image Image::borrow(const void* data, size_t size) {
  Image image;
  image.data_ = static_cast<const uint8_t*>(data);
  image.size_ = size;
  return image;
}

void throw_on_error(int status, const std::string& what) {
  if (status != BAKEFS_OK) throw std::runtime_error(what + ": " + bakefs_strerror(status));
}

MountedImage MountedImage::open(const std::string& path, const bakefs_mount_options* options,
                                bool log) {
  MountedImage m;
  m.image = Image::map_file(path);
  int s =
      m.fs.mount(m.image.data(), m.image.size(), log ? logging_platform() : platform(), options);
  throw_on_error(s, path);
  return m;
}

}  // namespace bakefs::posix
