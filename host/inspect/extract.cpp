// extract(): a walk over the image that creates each entry relative to its parent's
// descriptor, never following a symlink, and restores metadata after the data (directories
// after their children, so that a read-only directory can still be filled).
// SPDX-License-Identifier: BSD-2-Clause
#include "inspect/extract.h"

#include <bakefs/format.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "inspect/image_walk.h"
#include "inspect/inspect.h"
#include "util/text_escape.h"

namespace bakefs::tool {
namespace {

using format::kTypeMask;

// Stops the extraction: a message naming the entry has been printed.
struct Stop {};

// Closes a descriptor when it goes out of scope (a Stop unwinds through many of them).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The walk that writes: each directory is made and opened when its entry is reached, filled
// while it is on the walk's stack, and gets its metadata when the walk leaves it.
class Extractor : public DirectoryWalk {
 public:
  Extractor(const OpenImage& image, const ExtractOptions& options, int dest_fd)
      : DirectoryWalk(image.fs), image_(image), options_(options), dest_fd_(dest_fd) {}

  // The contents of directory `dir` into dest_fd (rel "" is dest itself); throws Stop.
  void extract_tree(bakefs_ino dir, const std::string& shown);
  void extract_entry(bakefs_ino ino, int parent_fd, const std::string& name,
                     const std::string& rel);
  int warnings() const { return warnings_; }
  // Metadata of the image directory `ino` onto the open directory `fd`.
  void restore_dir_metadata(bakefs_ino ino, const bakefs_attr& a, int fd,
                            const std::string& shown) {
    restore_metadata(ino, a, -1, "", fd, shown);
  }

 protected:
  bool enter(const Directory& dir) override;
  bool entry(const Directory& dir, const Dirent& e, const std::string& path) override;
  void leave(const Directory& dir) override;
  void problem(const std::string& path, int status, const std::string& message) override {
    pending_ = {};
    stop(relative(path), message.empty() ? bakefs_strerror(status) : message);
  }

 private:
  // A directory made and opened for the walk to fill.
  struct Open {
    UniqueFd fd;
    bakefs_ino ino = 0;
    bakefs_attr attr{};
    int parent_fd = -1;
    std::string name, rel;
  };

  [[noreturn]] void stop(const std::string& rel, const std::string& why) {
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", escape_text(image_.name).c_str(),
                 escape_text(rel).c_str(), escape_text(why).c_str());
    throw Stop{};
  }
  [[noreturn]] void stop_errno(const std::string& rel, const std::string& what) {
    stop(rel, what + ": " + std::strerror(errno));
  }
  void warn(const std::string& rel, const std::string& why) {
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", escape_text(image_.name).c_str(),
                 escape_text(rel).c_str(), escape_text(why).c_str());
    ++warnings_;
  }
  std::string shown(const std::string& rel) const {
    return image_.raw ? rel : escape_text(rel);
  }
  void check(int status, const std::string& rel) {
    if (status != BAKEFS_OK) stop(rel, bakefs_strerror(status));
  }
  // A walk path ("/a/b" below the start) as the relative path messages and links use.
  std::string relative(const std::string& path) const {
    std::string rel = path.substr(std::min(path.size(), start_.size()));
    while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
    return rel.empty() ? "/" : rel;
  }
  int current_fd() const { return open_.empty() ? dest_fd_ : open_.back().fd.get(); }

  void write_file(bakefs_ino ino, const bakefs_attr& a, int fd, const std::string& rel);
  void restore_metadata(bakefs_ino ino, const bakefs_attr& a, int parent_fd,
                        const std::string& name, int fd, const std::string& rel);
  bool link_again(bakefs_ino ino, int parent_fd, const std::string& name, const std::string& rel);

  const OpenImage& image_;
  const ExtractOptions& options_;
  int dest_fd_;
  int warnings_ = 0;
  std::string start_;
  std::vector<Open> open_;  // the directories on the walk's stack below the start
  Open pending_;            // made and opened by entry(), taken by enter()
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

void Extractor::extract_tree(bakefs_ino dir, const std::string& shown) {
  start_ = shown;
  open_.clear();
  run(dir, shown);
}

bool Extractor::enter(const Directory& dir) {
  if (dir.depth == 0) return true;  // the destination itself, already open
  open_.push_back(std::move(pending_));
  pending_ = {};
  return true;
}

bool Extractor::entry(const Directory& dir, const Dirent& e, const std::string& path) {
  const std::string rel = relative(path);
  if (!safe_name(e.name)) stop(rel, "unsafe name in the image; nothing is written for it");
  // The driver's readdir gives names in strictly ascending order, so an equal name could
  // only be the entry just before: compare with it.
  const size_t index = static_cast<size_t>(&e - dir.entries.data());
  if (index > 0 && !(dir.entries[index - 1].name < e.name)) stop(rel, "duplicate name in the image");
  bakefs_ino child;
  check(image_.fs.lookup(dir.ino, e.name, child), rel);
  if (child != e.ino) stop(rel, "readdir and lookup disagree about this name");
  if ((e.type << 12) != format::kTypeDir) {
    extract_entry(child, current_fd(), e.name, rel);
    return false;
  }
  bakefs_attr a;
  check(image_.fs.getattr(child, a), rel);
  if (options_.verbose) std::printf("%s\n", shown(rel).c_str());
  if (mkdirat(current_fd(), e.name.c_str(), 0700) != 0 && errno != EEXIST)
    stop_errno(rel, "cannot create directory");
  // An existing directory is reused; anything else there (a symlink above all) stops us.
  UniqueFd fd(openat(current_fd(), e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) stop_errno(rel, "cannot open directory (is something else there?)");
  pending_ = Open{std::move(fd), child, a, current_fd(), e.name, rel};
  return true;
}

void Extractor::leave(const Directory& dir) {
  if (dir.depth == 0) return;
  Open done = std::move(open_.back());
  open_.pop_back();
  restore_metadata(done.ino, done.attr, done.parent_fd, done.name, done.fd.get(), done.rel);
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
  if (options_.verbose) std::printf("%s\n", shown(rel).c_str());
  const uint32_t type = a.mode & kTypeMask;
  if (type != format::kTypeDir && a.nlink > 1 && link_again(ino, parent_fd, name, rel)) return;
  switch (type) {
    case format::kTypeDir:
      stop(rel, "internal: directories are extracted by the walk");
    case format::kTypeRegular: {
      UniqueFd fd(openat(parent_fd, name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd.get() < 0) stop_errno(rel, "cannot create file");
      write_file(ino, a, fd.get(), rel);
      restore_metadata(ino, a, parent_fd, name, fd.get(), rel);
      return;
    }
    case format::kTypeSymlink: {
      std::string target;
      check(image_.fs.readlink(ino, target), rel);
      // Stored as it is, absolute or not: it is never followed here.
      if (symlinkat(target.c_str(), parent_fd, name.c_str()) != 0)
        stop_errno(rel, "cannot create symlink");
      break;
    }
    case format::kTypeFifo:
      if (mknodat(parent_fd, name.c_str(), S_IFIFO | 0600, 0) != 0)
        stop_errno(rel, "cannot create fifo");
      break;
    case format::kTypeSocket:
      if (mknodat(parent_fd, name.c_str(), S_IFSOCK | 0600, 0) != 0)
        stop_errno(rel, "cannot create socket");
      break;
    case format::kTypeChar:
    case format::kTypeBlock:
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
  const bool symlink = (a.mode & kTypeMask) == format::kTypeSymlink;
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
    std::fprintf(stderr, "bakefs: %s: %s: %s\n", escape_text(image.name).c_str(),
                 escape_text(path).c_str(), bakefs_strerror(s));
    return kExitFailure;
  }
  // A destination made here takes the metadata of the image's directory; one that existed is
  // left as it was.
  bool made = mkdir(dest.c_str(), 0700) == 0;
  if (!made && errno != EEXIST) {
    std::fprintf(stderr, "bakefs: %s: cannot create: %s\n", escape_text(dest).c_str(),
                 std::strerror(errno));
    return kExitFailure;
  }
  int dest_fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest_fd < 0) {
    std::fprintf(stderr, "bakefs: %s: cannot open: %s\n", escape_text(dest).c_str(),
                 std::strerror(errno));
    return kExitFailure;
  }
  Extractor x(image, options, dest_fd);
  int status = kExitOk;
  try {
    if ((a.mode & kTypeMask) == format::kTypeDir) {
      x.extract_tree(ino, path.empty() ? "/" : path);
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
