// The tree mkimage builds an image from: inodes with every attribute, shared by hard links.
// Sources (directories, tar archives, spec files) fill it, layers merge into it, the writer
// reads it.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_TREE_H
#define BAKEFS_HOST_WRITER_TREE_H

#include <bakefs/format.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bakefs::build {

// A build failure; the message names the path and the cause.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// No entry of a tree lies more than this many levels below its root. The functions that walk
// a tree recurse once per level, so without a bound a small tar archive with one long member
// name could overflow the stack. 2048 is the depth of the deepest path that fits in Linux's
// PATH_MAX ("a/a/.../a").
inline constexpr size_t kMaxTreeDepth = 2048;

// "path: what: strerror(errno)"
[[noreturn]] void throw_errno(const std::string& path, const std::string& what, int error);

struct Xattr {
  std::string name;  // full name, namespace included: "user.mime_type"
  std::string value;
  bool operator==(const Xattr&) const = default;
};

// Where a regular file's bytes come from.
struct Content {
  std::string host_path;  // a file on the host, relative to root_fd (or absolute)
  int root_fd = -1;       // directory the path is relative to; -1 for an absolute path
  std::shared_ptr<const std::string> root_name;  // how to show root_fd in messages
  // Identity seen when the tree was scanned, to catch files that change before they are read.
  uint64_t device = 0, inode = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  bool checked = false;  // identity above is known
  // Or a stretch of an open file that the tree keeps (a tar member's bytes spilled to a
  // temporary file): the content is [spill_offset, spill_offset + size) of spill_fd.
  int spill_fd = -1;
  uint64_t spill_offset = 0;
  // Bytes held in memory (files mkimage generates, such as --stub-etc's); when set, they are
  // the content and host_path only names the file in messages.
  std::shared_ptr<const std::string> data;
};

struct Inode {
  uint16_t mode = 0;  // S_IFMT type | permissions
  uint32_t uid = 0, gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;                                       // regular files
  uint32_t rdev_major = 0, rdev_minor = 0;                 // devices
  std::string target;                                      // symlinks
  std::vector<Xattr> xattrs;                               // sorted by name
  Content content;                                         // regular files
  std::map<std::string, std::shared_ptr<Inode>> children;  // directories, in byte order
  // A directory made up to hold members below it (a tar archive without the directory's own
  // entry): its attributes yield to those of the same directory in a lower layer.
  bool implicit = false;
  std::shared_ptr<const std::string> layer;  // directories: the source that gave it, for messages

  uint16_t type() const { return mode & format::kTypeMask; }
  bool is_dir() const { return type() == format::kTypeDir; }
  bool is_regular() const { return type() == format::kTypeRegular; }
};

struct Tree {
  std::shared_ptr<Inode> root;
  // Keeps what file contents are read through open for the tree's life: the directories of
  // directory sources, the spill files of tar sources.
  std::vector<int> open_fds;
  Tree() = default;
  Tree(Tree&&) noexcept;
  Tree& operator=(Tree&&) noexcept;
  Tree(const Tree&) = delete;
  ~Tree();
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_TREE_H
