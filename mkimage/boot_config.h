// What an image carries for whoever boots from it: a launch configuration and the directories
// to cover with a tmpfs (boot records, format.h).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_MKIMAGE_BOOT_CONFIG_H
#define BAKEFS_MKIMAGE_BOOT_CONFIG_H

#include <string>
#include <vector>

#include "tree.h"

namespace bakefs::build {

// Reads a launch configuration from `path`. Unless raw, it must be one JSON value (rumprun's
// configuration is a JSON object); errors name the file, line and column.
std::string read_config(const std::string& path, bool raw);

// Splits "/tmp,/var/run" lists, normalises each path ("/a//b/" -> "/a/b") and sorts them, so a
// directory is mounted before the ones inside it. "/" and relative paths are errors.
std::vector<std::string> tmpfs_paths(const std::vector<std::string>& lists);

// Makes sure each path is a directory in the tree: missing ones (and their parents) are
// created, 0755 and owned by root; a path that exists as something else is an error.
// Returns warnings: a non-empty directory's entries are hidden once the tmpfs covers it.
std::vector<std::string> add_tmpfs_directories(Tree& tree, const std::vector<std::string>& paths);

// For an image linked into a program and mounted at / at boot (--emit-object, --emit-asm):
// what its top-level names will hide of the rump kernel's own root, or, mounted alone
// (`union` false), what it lacks. /dev and /tmp are taken care of at boot (platform/rump);
// /etc is the image's to provide.
std::vector<std::string> boot_root_warnings(const Tree& tree, bool union_root);

// --root-mount plain: the image alone is /, so it needs the mount points the boot code covers:
// /dev (0755) and /tmp (1777) are created when missing, owned by root.
void add_root_mount_points(Tree& tree);

}  // namespace bakefs::build

#endif  // BAKEFS_MKIMAGE_BOOT_CONFIG_H
