// What an image carries for whoever boots from it: a launch configuration and the directories
// to cover with a tmpfs (boot records, format.h).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_COMPOSE_BOOT_CONFIG_H
#define BAKEFS_HOST_COMPOSE_BOOT_CONFIG_H

#include <cstddef>
#include <string>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// Reads a launch configuration from `path`. Unless raw, it must be one JSON value (rumprun's
// configuration is a JSON object); errors name the file, line and column.
std::string read_config(const std::string& path, bool raw);

// The longest path the boot code and rumprun can mount on: the NetBSD kernel looks paths up
// only up to MAXPATHLEN - 1 bytes (1024 - 1), and names up to the image's kMaxNameLength.
inline constexpr size_t kMaxBootPathLength = 1023;

// Splits "/tmp,/var/run" lists of option `what` (--tmpfs, --mount-point, --mount-at),
// normalises each path ("/a//b/" -> "/a/b") and sorts them, so a directory is mounted before
// the ones inside it. "/", relative paths, and paths or names longer than the kernel takes
// (kMaxBootPathLength, format::kMaxNameLength) are errors naming the option and the path.
std::vector<std::string> directory_paths(const std::vector<std::string>& lists,
                                         const std::string& what);
inline std::vector<std::string> tmpfs_paths(const std::vector<std::string>& lists) {
  return directory_paths(lists, "--tmpfs");
}

// The mount points of the disks a rumprun launch configuration names (the "mountpoint" of
// each top-level "blk" object, however many there are), normalised; none if it is not JSON.
std::vector<std::string> config_mount_points(const std::string& config);

// Makes sure each path is a directory in the tree: missing ones (and their parents) are
// created, 0755 and owned by root; a path that exists as something else is an error naming
// option `what`. Returns warnings: for --tmpfs, a non-empty directory's entries are hidden
// once the tmpfs covers it.
std::vector<std::string> add_directories(Tree& tree, const std::vector<std::string>& paths,
                                         const std::string& what);

// For an image linked into a program and mounted at / at boot (--emit-object, --emit-asm):
// what a user must know. Alone at / (the default, `union_root` false) the boot code adds
// /dev, /tmp and /etc where the image has none (platform/rump); any other mount point must be
// in the image. Over the rump kernel's root, its top-level names hide the kernel's.
// `base_etc`: rumprun's own /etc was merged in (--base-etc), so an /etc is no surprise.
std::vector<std::string> boot_root_warnings(const Tree& tree, bool union_root,
                                            bool base_etc = false);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_COMPOSE_BOOT_CONFIG_H
