// --base-etc DIR: a platform's own /etc merged into the image's, beneath the image's files.
// For rumprun, DIR is the /etc of librumprunfs_base as its toolchain installs it
// (RRDEST/share/rumprun/rumprunfs_base/etc): with it in the image, the unikernel is baked
// without -lrumprunfs_base (whose start-up code would try to create the same files in the
// read-only image and halt).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_NETBSD_ETC_BASE_ETC_H
#define BAKEFS_HOST_NETBSD_ETC_BASE_ETC_H

#include <cstdint>
#include <string>

#include "writer/tree.h"

namespace bakefs::build {

// Reads DIR (its regular files, directories and symlinks, at any depth) into a tree holding
// /etc with DIR's entries. What the install of DIR decided is not kept, so that the same files
// give the same image on every machine: every entry is owned by 0:0, has no xattrs and is
// dated `mtime`; directories are 0755, symlinks 0777, files 0644 except /etc/master.passwd
// and /etc/spwd.db (0600, as NetBSD has them). File bytes are read into memory. Throws Error
// naming the path for anything else (a device, a fifo, a socket, a file over 16 MiB, more
// than 64 MiB or 10000 entries in all) or when DIR is not a directory.
Tree base_etc_tree(const std::string& dir, int64_t mtime);

// Merges base's /etc beneath tree's, at every depth: an entry the image lacks is added (a
// copy), one it has stays as it is (the image's own files win), directories of both merge.
// The password files go together: when the image's /etc has pwd.db or spwd.db but no
// master.passwd, none of base's master.passwd, passwd, pwd.db, spwd.db is added (the image's
// databases are its users). Throws Error if tree's /etc is not a directory.
// regenerate_password_files(tree, base, ...) (stub_etc.h) then rebuilds the databases that
// came from base from a master.passwd the image has of its own.
void merge_base_etc(Tree& tree, const Tree& base);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_NETBSD_ETC_BASE_ETC_H
