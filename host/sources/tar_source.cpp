// read_tar: libarchive entries to tree inodes, member bytes to a spill file.
// SPDX-License-Identifier: BSD-2-Clause
#include "sources/tar_source.h"

#include <archive.h>
#include <bakefs/posix.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "sources/spill_file.h"
#include "writer/tree_ops.h"
#include "writer/tree_path.h"

namespace bakefs::build {
namespace {

constexpr size_t kReadBlock = 64 * 1024;
// How long a FIFO source may go without a process writing to it before mkimage gives up.
constexpr auto kFifoWriterWait = std::chrono::seconds(10);

// A source opened for libarchive: a file descriptor, and for a FIFO the byte read to learn
// that a writer is there, handed back first.
struct Stream {
  int fd = -1;
  bool has_first = false;
  char first = 0;
  std::vector<char> buffer = std::vector<char>(kReadBlock);
  ~Stream() {
    if (fd > 0) ::close(fd);  // fd 0 ('-') stays open
  }

  static la_ssize_t read(archive* a, void* self, const void** out) {
    auto* s = static_cast<Stream*>(self);
    size_t n = 0;
    if (s->has_first) {
      s->buffer[n++] = s->first;
      s->has_first = false;
    }
    for (;;) {
      ssize_t got = ::read(s->fd, s->buffer.data() + n, s->buffer.size() - n);
      if (got >= 0) {
        n += static_cast<size_t>(got);
        break;
      }
      if (errno == EINTR) continue;
      archive_set_error(a, errno, "read: %s", std::strerror(errno));
      return -1;
    }
    *out = s->buffer.data();
    return static_cast<la_ssize_t>(n);
  }
};

std::shared_ptr<Inode> implicit_dir() {
  auto n = std::make_shared<Inode>();
  n->mode = 0040755;
  n->implicit = true;
  return n;
}


class TarReader {
 public:
  TarReader(const std::string& path, const std::function<void(const std::string&)>& warn)
      : path_(path),
        shown_(std::make_shared<const std::string>(tar_display_name(path))),
        warn_(warn) {
    if (archive_ == nullptr) throw Error(*shown_ + ": libarchive: out of memory");
    tree_.root = implicit_dir();
  }
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  Tree read() {
    open();
    std::string last;  // the last member read, for errors between members
    for (;;) {
      archive_entry* entry = nullptr;
      int r = archive_read_next_header(archive_.get(), &entry);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {  // ARCHIVE_RETRY too: a damaged header
        throw Error(*shown_ + ": " + (last.empty() ? "" : "after member " + last + ": ") +
                    library_error());
      }
      const char* name = archive_entry_pathname(entry);
      if (name == nullptr || *name == '\0') {
        throw Error(*shown_ + ": " + (last.empty() ? "" : "after member " + last + ": ") +
                    "a member without a name");
      }
      member_ = name;
      if (r == ARCHIVE_WARN) warn_library();
      add(entry);
      last = member_;
    }
    if (archive_read_close(archive_.get()) != ARCHIVE_OK)
      throw Error(*shown_ + ": " + library_error());
    tree_.open_fds.push_back(spill_.release());
    return std::move(tree_);
  }

 private:
  std::string library_error() const {
    const char* e = archive_error_string(archive_.get());
    return e != nullptr ? e : "unknown libarchive error";
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(*shown_ + ": " + shown_member() + ": " + what);
  }
  void warn(const std::string& what) const {
    if (warn_) warn_(*shown_ + ": " + shown_member() + ": " + what);
  }
  // The member's name for messages, cut short: a pax name can be a megabyte long.
  std::string shown_member() const {
    constexpr size_t kShown = 200;
    return member_.size() <= kShown ? member_ : member_.substr(0, kShown) + "...";
  }
  // libarchive's warnings, but for failed name conversions: the C locale keeps names byte for
  // byte, which is what the image wants.
  void warn_library() const {
    std::string e = library_error();
    if (e.find("can't be converted") == std::string::npos) warn(e);
  }

  void open() {
    // Tar in all its dialects, and the compressions libarchive decodes itself (no external
    // programs). The raw, mtree and other formats stay off: a layer is a tar archive.
    archive_read_support_format_tar(archive_.get());
    archive_read_support_filter_gzip(archive_.get());
    archive_read_support_filter_bzip2(archive_.get());
    archive_read_support_filter_xz(archive_.get());
    archive_read_support_filter_lzma(archive_.get());
    archive_read_support_filter_lzip(archive_.get());
    archive_read_support_filter_zstd(archive_.get());
    archive_read_support_filter_lz4(archive_.get());
    open_stream();
    int r = archive_read_open(archive_.get(), &stream_, nullptr, Stream::read, nullptr);
    if (r != ARCHIVE_OK) {
      throw Error(*shown_ +
                  ": not a directory, nor a tar archive that can be read: " + library_error());
    }
  }

  // Opens the source without blocking and takes only what can hold a tar archive: a regular
  // file, standard input, or a FIFO that a process writes to (as <(zcat ...) gives). A device
  // is refused (/dev/zero would read as an endless run of empty tar blocks), and a FIFO with
  // no writer for kFifoWriterWait is an error, not a hang.
  void open_stream() {
    if (path_ == "-") {
      stream_.fd = 0;
      return;
    }
    stream_.fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (stream_.fd < 0) {
      throw Error(*shown_ + ": cannot open: " + std::strerror(errno));
    }
    struct stat st;
    if (fstat(stream_.fd, &st) != 0) throw Error(*shown_ + ": cannot stat: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
      throw Error(*shown_ + ": is " + posix::file_kind(st.st_mode) + ", not a directory or a tar archive (give a tar "
                  "archive on a device through '-': mkimage - < DEVICE)");
    }
    if (S_ISFIFO(st.st_mode)) wait_for_writer();
    int flags = fcntl(stream_.fd, F_GETFL);
    if (flags < 0 || fcntl(stream_.fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
      throw Error(*shown_ + ": " + std::strerror(errno));
    }
  }

  // A FIFO opened without blocking reads 0 while no process has it open for writing, and
  // EAGAIN while one has but wrote nothing yet.
  void wait_for_writer() {
    const auto deadline = std::chrono::steady_clock::now() + kFifoWriterWait;
    for (;;) {
      ssize_t n = ::read(stream_.fd, &stream_.first, 1);
      if (n == 1) {
        stream_.has_first = true;
        return;
      }
      if (n < 0 && errno == EAGAIN) return;  // a writer: blocking reads from here on
      if (n < 0 && errno != EINTR) throw Error(*shown_ + ": read: " + std::strerror(errno));
      if (std::chrono::steady_clock::now() >= deadline) {
        throw Error(*shown_ + ": a FIFO that no process wrote to for " +
                    std::to_string(kFifoWriterWait.count()) +
                    " s (start its writer first, or give the archive through '-')");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // "./a//b/" -> {"a", "b"}; "/" and "./" -> {} (the root).
  std::vector<std::string> split(const std::string& name) const {
    TreePath path = split_tree_path(name);
    if (path.problem == TreePath::Problem::dot_dot) fail("a '..' in the name is not allowed");
    if (path.problem == TreePath::Problem::too_deep) {
      fail("nested more than " + std::to_string(kMaxTreeDepth) + " directories deep");
    }
    return std::move(path.names);
  }

  std::shared_ptr<Inode> lookup(const std::vector<std::string>& parts) const {
    std::shared_ptr<Inode> n = tree_.root;
    for (const std::string& part : parts) {
      if (!n->is_dir()) return nullptr;
      auto it = n->children.find(part);
      if (it == n->children.end()) return nullptr;
      n = it->second;
    }
    return n;
  }

  // The directory that holds parts.back(), made up where the archive has no entry for it.
  Inode& parent_of(const std::vector<std::string>& parts) {
    Inode* dir = tree_.root.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      std::shared_ptr<Inode>& slot = dir->children[parts[i]];
      if (slot == nullptr) {
        slot = implicit_dir();
      } else if (!slot->is_dir()) {
        fail(join_tree_path(parts, i + 1) + " is not a directory in this archive");
      }
      dir = slot.get();
    }
    return *dir;
  }

  // A later member replaces an earlier one of the same name; a directory over a directory
  // takes its attributes only.
  void place(Inode& parent, const std::string& name, std::shared_ptr<Inode> node) {
    auto [it, fresh] = parent.children.try_emplace(name, node);
    if (fresh) return;
    Inode& old = *it->second;
    if (node->is_dir() && old.is_dir()) {
      take_attributes(old, *node);
      return;
    }
    if (old.is_dir() && !old.children.empty()) {
      fail("would replace a non-empty directory of earlier members");
    }
    it->second = std::move(node);
  }

  void add(archive_entry* entry) {
    const std::vector<std::string> parts = split(member_);
    if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
      std::shared_ptr<Inode> n = lookup(split(target));
      if (n == nullptr) fail(std::string("hard link to ") + target + ", not an earlier member");
      if (n->is_dir()) fail(std::string("hard link to the directory ") + target);
      if (parts.empty()) fail("a hard link cannot be the root");
      place(parent_of(parts), parts.back(), std::move(n));
      return;
    }
    std::shared_ptr<Inode> n = make_inode(entry, join_tree_path(parts));
    if (parts.empty()) {
      if (!n->is_dir()) fail("the root of the archive is not a directory");
      take_attributes(*tree_.root, *n);
      return;
    }
    place(parent_of(parts), parts.back(), std::move(n));
  }

  std::shared_ptr<Inode> make_inode(archive_entry* entry, const std::string& path) {
    auto n = std::make_shared<Inode>();
    const unsigned type = archive_entry_filetype(entry);
    switch (type) {
      case AE_IFREG:
      case AE_IFDIR:
      case AE_IFLNK:
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
      case AE_IFSOCK:
        break;
      default:
        fail("unsupported entry type (mode " + std::to_string(archive_entry_mode(entry)) + ")");
    }
    n->mode = static_cast<uint16_t>(type | (archive_entry_perm(entry) & 07777));
    const int64_t uid = archive_entry_uid(entry), gid = archive_entry_gid(entry);
    if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX) {
      fail("owner " + std::to_string(uid) + ":" + std::to_string(gid) + " out of range");
    }
    n->uid = static_cast<uint32_t>(uid);
    n->gid = static_cast<uint32_t>(gid);
    if (archive_entry_mtime_is_set(entry)) {
      n->mtime_sec = archive_entry_mtime(entry);
      n->mtime_nsec = static_cast<uint32_t>(archive_entry_mtime_nsec(entry));
    }
    if (type == AE_IFCHR || type == AE_IFBLK) {
      // pax (SCHILY.devmajor) and GNU base-256 fields hold numbers of any size.
      const uint64_t major = archive_entry_rdevmajor(entry), minor = archive_entry_rdevminor(entry);
      if (major > UINT32_MAX || minor > UINT32_MAX) {
        fail("device " + std::to_string(major) + "," + std::to_string(minor) + " out of range");
      }
      n->rdev_major = static_cast<uint32_t>(major);
      n->rdev_minor = static_cast<uint32_t>(minor);
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr || *target == '\0') fail("a symlink without a target");
      n->target = target;
    }
    read_xattrs(entry, *n);
    if (archive_entry_acl_types(entry) != 0 && !warned_acl_) {
      warned_acl_ = true;
      warn("ACLs in the archive are not kept (only xattrs are)");
    }
    if (type == AE_IFREG) read_content(entry, path, *n);
    return n;
  }

  static void read_xattrs(archive_entry* entry, Inode& n) {
    if (archive_entry_xattr_reset(entry) <= 0) return;
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      if (name == nullptr || *name == '\0') continue;
      n.xattrs.push_back({name, std::string(static_cast<const char*>(value), size)});
    }
    // By name; of two with one name, the later one.
    std::stable_sort(n.xattrs.begin(), n.xattrs.end(),
                     [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    std::vector<Xattr> unique;
    for (Xattr& x : n.xattrs) {
      if (!unique.empty() && unique.back().name == x.name) {
        unique.back() = std::move(x);
      } else {
        unique.push_back(std::move(x));
      }
    }
    n.xattrs = std::move(unique);
  }

  // Copies the member's bytes to the spill file; a sparse member's holes are never written.
  void read_content(archive_entry* entry, const std::string& path, Inode& n) {
    const int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (size < 0) fail("negative size");
    n.size = static_cast<uint64_t>(size);
    Content& c = n.content;
    c.host_path = path;
    c.root_name = shown_;
    c.spill_fd = spill_.fd();
    c.spill_offset = spill_.begin(n.size);
    try {
      for (;;) {
        const void* bytes = nullptr;
        size_t length = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(archive_.get(), &bytes, &length, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail(library_error());
        if (r == ARCHIVE_WARN) warn_library();
        if (offset < 0 || static_cast<uint64_t>(offset) > n.size ||
            length > n.size - static_cast<uint64_t>(offset)) {
          fail("data beyond the member's size");
        }
        spill_.write(static_cast<uint64_t>(offset), bytes, length);
      }
      spill_.end();
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.rfind(*shown_ + ": ", 0) == 0) throw;  // named already
      fail(what);
    }
  }

  std::string path_;
  std::shared_ptr<const std::string> shown_;
  std::function<void(const std::string&)> warn_;
  Stream stream_;  // outlives archive_, which reads from it
  std::unique_ptr<archive, int (*)(archive*)> archive_{archive_read_new(), archive_read_free};
  std::string member_;  // the member being read, as the archive names it
  SpillFile spill_{*shown_};
  Tree tree_;
  bool warned_acl_ = false;
};

}  // namespace

std::string tar_display_name(const std::string& path) {
  return path == "-" ? "standard input" : path;
}

Tree read_tar(const std::string& path, const std::function<void(const std::string&)>& warn) {
  return TarReader(path, warn).read();
}

}  // namespace bakefs::build
