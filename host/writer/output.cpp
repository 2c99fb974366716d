// OutputFile: an unnamed (O_TMPFILE) file while the image is written, so that nothing is left
// however the process ends; at commit it gets a temporary name for an instant and is renamed
// over the target. Where O_TMPFILE is missing, a named temporary file that a signal handler
// removes.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/output.h"

#include <bakefs/posix.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "writer/tree.h"

namespace bakefs::build {
namespace {
constexpr size_t kBufferSize = 1u << 20;

// The temporary files that exist now, for the signal handler: fixed slots, claimed and
// published with atomics, so that the handler only reads memory and calls unlink(2), both
// async-signal-safe. One mkimage writes at most an image and an object at a time.
struct TempSlot {
  std::atomic<bool> claimed{false};
  std::atomic<bool> live{false};  // path is complete and the file exists
  char path[PATH_MAX];
};
TempSlot g_temps[4];

TempSlot* remember_temp(const std::string& path) {
  if (path.size() >= PATH_MAX) return nullptr;  // not removed on a signal; the rest still is
  for (TempSlot& slot : g_temps) {
    bool expected = false;
    if (slot.claimed.compare_exchange_strong(expected, true)) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.live.store(true, std::memory_order_release);
      return &slot;
    }
  }
  return nullptr;
}

void forget_temp(void* handle) {
  if (handle == nullptr) return;
  auto* slot = static_cast<TempSlot*>(handle);
  slot->live.store(false, std::memory_order_release);
  slot->claimed.store(false, std::memory_order_release);
}

extern "C" void remove_temps_and_die(int sig) {
  const int saved = errno;
  for (TempSlot& slot : g_temps) {
    if (slot.live.load(std::memory_order_acquire)) ::unlink(slot.path);
  }
  errno = saved;
  // SA_RESETHAND made the disposition the default again; the signal is blocked until this
  // returns, then ends the process as it would have.
  ::raise(sig);
}
}  // namespace

void remove_temporaries_on_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;  // nohup
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_die;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, nullptr);
  }
}

void check_output_path(const std::string& path, const std::string& what) {
  auto fail = [&](const std::string& why) { throw Error(what + " " + path + ": " + why); };
  if (path.empty()) fail("an empty name");
  if (path.back() == '/') fail("names a directory; give the file to write");
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) fail("is a directory; give the file to write (say, " +
                                  path + "/image.img)");
    if (S_ISLNK(st.st_mode)) fail("is a symbolic link; give the path it points to");
    if (!S_ISREG(st.st_mode)) {
      fail(std::string("is ") + posix::file_kind(st.st_mode) +
           "; only a regular file is replaced by the image");
    }
  } else if (errno != ENOENT && errno != ENOTDIR) {  // ENOTDIR: said below, of the directory
    fail(std::strerror(errno));
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (stat(dir.c_str(), &st) != 0) {
    fail("its directory " + dir + " cannot be used: " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) fail(dir + " is not a directory");
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    fail("its directory " + dir + " is not writable: " + std::strerror(errno));
  }
}

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  base_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  if (base_.empty()) throw Error(path_ + ": output is a directory name");
  mode_t mask = umask(0);
  umask(mask);
  const mode_t mode = 0666 & ~mask;  // an image is an ordinary file: 0666 less the umask
  fd_ = ::open(dir_.empty() ? "." : dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (fd_ >= 0 && access(("/proc/self/fd/" + std::to_string(fd_)).c_str(), F_OK) != 0) {
    // No /proc (a bare chroot): the unnamed file could not be named at commit.
    ::close(fd_);
    fd_ = -1;
    errno = EOPNOTSUPP;
  }
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this file system, or no /proc: a named temporary file from the start.
    temp_path_ = dir_ + "." + base_ + ".tmp.XXXXXX";
    fd_ = mkostemp(temp_path_.data(), O_CLOEXEC);
    if (fd_ >= 0) {
      slot_ = remember_temp(temp_path_);
      fchmod(fd_, mode);  // mkstemp makes 0600
    }
  }
  if (fd_ < 0) throw_errno(path_, "cannot create output file", errno);
  buffer_.reserve(kBufferSize);
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
  forget_temp(slot_);
}

// Gives the unnamed file a name beside the target: linkat of /proc/self/fd/N, which needs no
// privilege (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). The name is registered with the
// signal handler right after the link: only that instant is uncovered.
void OutputFile::name_temporary() {
  const std::string from = "/proc/self/fd/" + std::to_string(fd_);
  static const char kLetters[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char random[6];
    if (getrandom(random, sizeof(random), 0) != static_cast<ssize_t>(sizeof(random))) {
      fail("cannot name the image", errno);
    }
    std::string name = dir_ + "." + base_ + ".tmp.";
    for (unsigned char r : random) name += kLetters[r % (sizeof(kLetters) - 1)];
    if (linkat(AT_FDCWD, from.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      temp_path_ = name;
      slot_ = remember_temp(temp_path_);
      return;
    }
    if (errno != EEXIST) fail("cannot name the image", errno);
  }
  fail("cannot name the image", EEXIST);
}

void OutputFile::fail(const std::string& what, int error) {
  throw_errno(path_, what, error);
}

void OutputFile::flush() {
  const uint8_t* p = buffer_.data();
  size_t left = buffer_.size();
  uint64_t offset = size_ - left;
  while (left > 0) {
    ssize_t n = pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write image", errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  buffer_.clear();
}

void OutputFile::append(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (buffer_.size() + size > kBufferSize) flush();
  size_ += size;
  if (size >= kBufferSize) {
    buffer_.assign(p, p + size);
    flush();
    return;
  }
  buffer_.insert(buffer_.end(), p, p + size);
}

void OutputFile::append_zeros(size_t size) {
  std::vector<uint8_t> zeros(size);
  append(zeros.data(), zeros.size());
}

void OutputFile::write_at(uint64_t offset, const void* data, size_t size) {
  flush();
  if (pwrite(fd_, data, size, static_cast<off_t>(offset)) != static_cast<ssize_t>(size)) {
    fail("cannot write image", errno);
  }
}

void OutputFile::commit() {
  flush();
  if (fsync(fd_) != 0) fail("cannot sync image", errno);
  if (temp_path_.empty()) name_temporary();
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("cannot close image", errno);
  }
  fd_ = -1;
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) fail("cannot rename image into place", errno);
  committed_ = true;
  forget_temp(slot_);
  slot_ = nullptr;
}

}  // namespace bakefs::build
