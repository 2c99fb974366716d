// extract(): a walk over the image that creates each entry relative to its parent's
// descriptor, never following a symlink, and restores metadata after the data (directories
// after their children, so that a read-only directory can still be filled).
// SPDX-License-Identifier: BSD-2-Clause
#include "extract.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "inspect.h"

namespace bakefs::tool {
namespace {

constexpr uint32_t kTypeMask = 0170000;

// Stops the extraction: a message naming the entry has been printed.
struct Stop {};

// Closes a descriptor when it goes out of scope (a Stop unwinds through many of them).
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class Extractor {
 public:
  Extractor(const OpenImage& image, const ExtractOptions& options, int dest_fd)
      : image_(image), options_(options), dest_fd_(dest_fd) {}

  void extract_dir_contents(bakefs_ino dir, int dir_fd, const std::string& rel);
  void extract_entry(bakefs_ino ino, int parent_fd, const std::string& name,
                     const std::string& rel);
  int warnings() const { return warnings_; }
  // Metadata of the image directory `ino` onto the open directory `fd`.
  void restore_dir_metadata(bakefs_ino ino, const bakefs_attr& a, int fd,
                            const std::string& shown) {
    restore_metadata(ino, a, -1, "", fd, shown);
  }

 private:
  [[noreturn]] void stop(const std::string& rel, const std::string& why) {
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", image_.name.c_str(), rel.c_str(), why.c_str());
    throw Stop{};
  }
  [[noreturn]] void stop_errno(const std::string& rel, const std::string& what) {
    stop(rel, what + ": " + std::strerror(errno));
  }
  void warn(const std::string& rel, const std::string& why) {
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", image_.name.c_str(), rel.c_str(), why.c_str());
    ++warnings_;
  }
  void check(int status, const std::string& rel) {
    if (status != BAKEFS_OK) stop(rel, bakefs_strerror(status));
  }

  void write_file(bakefs_ino ino, const bakefs_attr& a, int fd, const std::string& rel);
  void restore_metadata(bakefs_ino ino, const bakefs_attr& a, int parent_fd,
                        const std::string& name, int fd, const std::string& rel);
  bool link_again(bakefs_ino ino, int parent_fd, const std::string& name, const std::string& rel);

  const OpenImage& image_;
  const ExtractOptions& options_;
  int dest_fd_;
  int warnings_ = 0;
  std::map<bakefs_ino, std::string> first_name_;  // hard-linked inode -> where it was written
  std::vector<char> buf_ = std::vector<char>(1 << 20);
};

// A name from an image may be anything its bytes say: only plain names are written.
bool safe_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos && name.size() <= 255;
}

// Opens a directory beneath root without following any symlink.
int open_beneath(int root, const std::string& rel) {
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(
      syscall(SYS_openat2, root, rel.empty() ? "." : rel.c_str(), &how, sizeof(how)));
}

void Extractor::extract_dir_contents(bakefs_ino dir, int dir_fd, const std::string& rel) {
  std::vector<Dirent> entries;
  if (int s = image_.fs.readdir(dir, entries); s != BAKEFS_OK) {
    // The driver refuses entries with unsafe names ('/', NUL, "..") or out of order; what came
    // before was listed.
    std::string where = rel.empty() ? "/" : rel;
    std::string after =
        entries.empty() ? "the first entry" : "the entry after \"" + entries.back().name + "\"";
    stop(where, std::string("unsafe or corrupt name in the image at ") + after + " (" +
                    bakefs_strerror(s) + "); nothing is written for it");
  }
  const std::string* previous = nullptr;
  for (const Dirent& e : entries) {
    std::string child_rel = rel.empty() ? e.name : rel + "/" + e.name;
    if (!safe_name(e.name))
      stop(rel + "/" + e.name, "unsafe name in the image; nothing is written for it");
    if (previous != nullptr && !(*previous < e.name))
      stop(child_rel, "duplicate name in the image");
    previous = &e.name;
    bakefs_ino child;
    check(image_.fs.lookup(dir, e.name, child), child_rel);
    extract_entry(child, dir_fd, e.name, child_rel);
  }
}

bool Extractor::link_again(bakefs_ino ino, int parent_fd, const std::string& name,
                           const std::string& rel) {
  auto it = first_name_.find(ino);
  if (it == first_name_.end()) {
    first_name_.emplace(ino, rel);
    return false;
  }
  const std::string& first = it->second;
  size_t slash = first.rfind('/');
  std::string first_dir = slash == std::string::npos ? "" : first.substr(0, slash);
  std::string first_base = slash == std::string::npos ? first : first.substr(slash + 1);
  UniqueFd from(open_beneath(dest_fd_, first_dir));
  if (from.get() < 0) stop_errno(rel, "cannot open the directory of " + first);
  if (linkat(from.get(), first_base.c_str(), parent_fd, name.c_str(), 0) != 0) {
    stop_errno(rel, "cannot link to " + first);
  }
  return true;
}

void Extractor::extract_entry(bakefs_ino ino, int parent_fd, const std::string& name,
                              const std::string& rel) {
  bakefs_attr a;
  check(image_.fs.getattr(ino, a), rel);
  if (options_.verbose) std::printf("%s\n", rel.c_str());
  const uint32_t type = a.mode & kTypeMask;
  if (type != 0040000 && a.nlink > 1 && link_again(ino, parent_fd, name, rel)) return;
  switch (type) {
    case 0040000: {
      if (mkdirat(parent_fd, name.c_str(), 0700) != 0 && errno != EEXIST)
        stop_errno(rel, "cannot create directory");
      // An existing directory is reused; anything else there (a symlink above all) stops us.
      UniqueFd fd(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (fd.get() < 0) stop_errno(rel, "cannot open directory (is something else there?)");
      extract_dir_contents(ino, fd.get(), rel);
      restore_metadata(ino, a, parent_fd, name, fd.get(), rel);
      return;
    }
    case 0100000: {
      UniqueFd fd(openat(parent_fd, name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd.get() < 0) stop_errno(rel, "cannot create file");
      write_file(ino, a, fd.get(), rel);
      restore_metadata(ino, a, parent_fd, name, fd.get(), rel);
      return;
    }
    case 0120000: {
      std::string target;
      check(image_.fs.readlink(ino, target), rel);
      // Stored as it is, absolute or not: it is never followed here.
      if (symlinkat(target.c_str(), parent_fd, name.c_str()) != 0)
        stop_errno(rel, "cannot create symlink");
      break;
    }
    case 0010000:
      if (mknodat(parent_fd, name.c_str(), S_IFIFO | 0600, 0) != 0)
        stop_errno(rel, "cannot create fifo");
      break;
    case 0140000:
      if (mknodat(parent_fd, name.c_str(), S_IFSOCK | 0600, 0) != 0)
        stop_errno(rel, "cannot create socket");
      break;
    case 0020000:
    case 0060000:
      if (mknodat(parent_fd, name.c_str(), type | 0600, makedev(a.rdev_major, a.rdev_minor)) != 0) {
        if (errno == EPERM) {
          warn(rel, "device node not created: needs root");
          return;
        }
        stop_errno(rel, "cannot create device node");
      }
      break;
    default:
      stop(rel, "unknown file type");
  }
  restore_metadata(ino, a, parent_fd, name, -1, rel);
}

void Extractor::write_file(bakefs_ino ino, const bakefs_attr& a, int fd, const std::string& rel) {
  // Holes stay holes: only stored bytes are written, and ftruncate sets the size.
  check(read_stored(image_, ino, buf_,
                    [&](uint64_t offset, const char* data, size_t n) {
                      if (pwrite(fd, data, n, static_cast<off_t>(offset)) !=
                          static_cast<ssize_t>(n)) {
                        stop_errno(rel, "cannot write");
                      }
                    }),
        rel);
  if (ftruncate(fd, static_cast<off_t>(a.size)) != 0) stop_errno(rel, "cannot set the size");
}

void Extractor::restore_metadata(bakefs_ino ino, const bakefs_attr& a, int parent_fd,
                                 const std::string& name, int fd, const std::string& rel) {
  const bool symlink = (a.mode & kTypeMask) == 0120000;
  // Owners first: chown clears setuid and setgid bits, chmod then sets them.
  if (options_.owners) {
    int r = fd >= 0 ? fchown(fd, a.uid, a.gid)
                    : fchownat(parent_fd, name.c_str(), a.uid, a.gid, AT_SYMLINK_NOFOLLOW);
    if (r != 0) warn(rel, std::string("cannot set owner: ") + std::strerror(errno));
  }
  if (!symlink) {
    int r =
        fd >= 0 ? fchmod(fd, a.mode & 07777) : fchmodat(parent_fd, name.c_str(), a.mode & 07777, 0);
    if (r != 0) warn(rel, std::string("cannot set mode: ") + std::strerror(errno));
  }
  if (options_.xattrs) {
    std::vector<std::string> names;
    check(image_.fs.listxattr(ino, names), rel);
    const std::string path = "/proc/self/fd/" + std::to_string(parent_fd) + "/" + name;
    for (const auto& xname : names) {
      std::string value;
      check(image_.fs.getxattr(ino, xname, value), rel);
      int r = fd >= 0 ? fsetxattr(fd, xname.c_str(), value.data(), value.size(), 0)
                      : lsetxattr(path.c_str(), xname.c_str(), value.data(), value.size(), 0);
      if (r != 0) warn(rel, "cannot set extended attribute " + xname + ": " + std::strerror(errno));
    }
  }
  struct timespec times[2];
  times[0].tv_sec = a.mtime_sec;
  times[0].tv_nsec = a.mtime_nsec;
  times[1] = times[0];
  int r = fd >= 0 ? futimens(fd, times)
                  : utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (r != 0) warn(rel, std::string("cannot set times: ") + std::strerror(errno));
}

}  // namespace

int extract(const OpenImage& image, const std::string& dest, const std::string& path,
            const ExtractOptions& options) {
  bakefs_ino ino;
  if (!resolve(image, path, ino)) return kExitFailure;
  bakefs_attr a;
  if (int s = image.fs.getattr(ino, a); s != BAKEFS_OK) {
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", image.name.c_str(), path.c_str(),
                 bakefs_strerror(s));
    return kExitFailure;
  }
  // A destination made here takes the metadata of the image's directory; one that existed is
  // left as it was.
  bool made = mkdir(dest.c_str(), 0700) == 0;
  if (!made && errno != EEXIST) {
    std::fprintf(stderr, "bakefs: %s: cannot create: %s\n", dest.c_str(), std::strerror(errno));
    return kExitFailure;
  }
  int dest_fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest_fd < 0) {
    std::fprintf(stderr, "bakefs: %s: cannot open: %s\n", dest.c_str(), std::strerror(errno));
    return kExitFailure;
  }
  Extractor x(image, options, dest_fd);
  int status = kExitOk;
  try {
    if ((a.mode & kTypeMask) == 0040000) {
      x.extract_dir_contents(ino, dest_fd, "");
      if (made) x.restore_dir_metadata(ino, a, dest_fd, dest);
    } else {
      std::string name = path.substr(path.rfind('/') + 1);
      x.extract_entry(ino, dest_fd, name, name);
    }
  } catch (const Stop&) {
    status = kExitFailure;
  }
  ::close(dest_fd);
  if (status == kExitOk && x.warnings() != 0) status = kExitFailure;
  return status;
}

}  // namespace bakefs::tool
