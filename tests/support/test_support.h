// Shared test helpers: temporary trees, images built in-process, and a full comparison of a
// source tree with an image read back through the driver core.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_SUPPORT_H
#define BAKEFS_TESTS_SUPPORT_H

#include <bakefs/posix.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sources/scan_dir.h"
#include "temp_dir.h"
#include "writer/build.h"

namespace bakefs::test {

void write_file(const std::string& path, const std::string& content, unsigned mode = 0644);
void make_dir(const std::string& path, unsigned mode = 0755);
void set_mtime(const std::string& path, int64_t sec, uint32_t nsec);
std::string random_bytes(size_t size, uint64_t seed);
// Text that compresses like source code.
std::string text_bytes(size_t size, uint64_t seed);
std::vector<uint8_t> read_bytes(const std::string& path);
bool is_root();

void make_socket(const std::string& path);
// A tree with every file type and attribute mkimage keeps: nested directories, empty and
// boundary-sized files, setuid/setgid/sticky modes, relative, absolute, long and dangling
// symlinks, hard links (three names in two directories), a fifo and a socket, xattrs on files,
// directories and symlinks, times before 1970 and after 2038; as root also device nodes,
// foreign owners and trusted.* xattrs.
void make_rich_tree(const std::string& src);

// Builds an image of `source` at `image` with the mkimage library.
build::Stats make_image(const std::string& source, const std::string& image,
                        build::Options options = {});

// Compares the tree at `source` with the mounted image, attribute by attribute and byte by
// byte, with GoogleTest assertions; hard links must map to one image inode.
void expect_same_tree(const std::string& source, const FileSystem& fs);

// Compares two trees on the host (a source and, say, a FUSE mount or an extraction of its
// image): types, modes, owners, sizes, mtimes with nanoseconds, link counts, device numbers,
// symlink targets, xattrs, contents, and hard link groups (same inode in `a` <=> same inode
// in `b`). `check_owners` false skips uid/gid (an extraction without root).
void expect_same_host_trees(const std::string& a, const std::string& b, bool check_owners = true);

// Recomputes every metadata unit checksum and the superblock checksum of an image, so that a
// test can forge an image whose checksums hold (as an attacker could).
void reseal_image(std::vector<uint8_t>& image);

// Replaces the only occurrence of `from` in the image's metadata with `to` (same length) and
// reseals; fails the test if `from` is not there exactly once.
void patch_metadata(std::vector<uint8_t>& image, const std::string& from, const std::string& to);

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Runs a shell command; its exit status (-1 if it did not exit) and stdout and stderr together.
struct CommandResult {
  int status;
  std::string output;
};
CommandResult run_command(const std::string& command);

// The attributes and the contents of a path in a mounted image, with GoogleTest assertions
// that it resolves and reads.
bakefs_attr attr_of(const FileSystem& fs, const std::string& path);
bool exists_in(const FileSystem& fs, const std::string& path);

// The prefix that runs a command as an unprivileged user: "" when the tests are not root,
// setpriv to 65534:65534 when they are; nullopt when root without setpriv.
std::optional<std::string> unprivileged_prefix();
std::string content_of(const FileSystem& fs, const std::string& path);

// Image offset of inode ino's first slot.
uint64_t inode_offset(const std::vector<uint8_t>& image, uint32_t ino);
// Overwrites bytes at an image offset with a little-endian value of N bytes, and reseals.
void patch_le(std::vector<uint8_t>& image, uint64_t offset, uint64_t value, size_t bytes);

}  // namespace bakefs::test

#endif  // BAKEFS_TESTS_SUPPORT_H
