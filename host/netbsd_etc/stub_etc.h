// --stub-etc: the minimal /etc that programs linked with NetBSD's libc (rumprun unikernels)
// need to run: users and groups with the hashed password databases getpwnam(3) reads, hosts,
// services, protocols, nsswitch.conf and resolv.conf. It is the lowest layer: any /etc file
// the sources provide replaces the stub's.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_NETBSD_ETC_STUB_ETC_H
#define BAKEFS_HOST_NETBSD_ETC_STUB_ETC_H

#include <cstdint>
#include <memory>
#include <optional>

#include "netbsd_etc/bdb_hash.h"
#include "writer/tree.h"

namespace bakefs::build {

struct StubEtcOptions {
  ByteOrder byte_order = ByteOrder::little;  // the target's (NetBSD/amd64: little)
  // Modification time of the generated files; apply_stub_etc uses the newest in the tree when
  // unset, so that the stub does not change the image's build time.
  std::optional<int64_t> mtime;
};

// A tree holding only /etc with the stub's files, owned by root, with NetBSD's modes
// (master.passwd and spwd.db 0600, the others 0644). Their bytes are held in memory.
Tree stub_etc_tree(const StubEtcOptions& options);

// Puts the stub beneath `tree`: adds copies of the /etc entries `tree` lacks (all of /etc if it
// has none) and keeps every one it has. Throws Error if `tree` has an /etc that is no directory.
void merge_stub_etc(Tree& tree, const Tree& stub);

// A tree that holds `etc` as /etc and nothing else, its root a 0755 directory dated `mtime`
// (what stub_etc_tree and base_etc_tree give).
Tree etc_only_tree(std::shared_ptr<Inode> etc, int64_t mtime);

// When /etc/master.passwd in `tree` is not the stub's, rebuilds from it those of pwd.db,
// spwd.db and passwd that are still the stub's (the ones the sources provide are kept), so
// that getpwnam sees the users of the image's master.passwd. The rebuilt files keep the mode,
// owner and xattrs the tree's file has, and are dated like master.passwd. Stub files are
// recognised by their content, so the trees may have been merged by copying inodes. The files
// it makes count as the stub's afterwards (it updates `stub`): call it again after the tree
// changed (a spec, id maps) and they follow the master.passwd the tree has then. Throws Error
// naming the line if that master.passwd is malformed.
void regenerate_password_files(Tree& tree, Tree& stub, const StubEtcOptions& options);

// All of the above, for a tree read from a single source.
void apply_stub_etc(Tree& tree, StubEtcOptions options);

// The newest modification time in the tree (0 for an empty one).
int64_t newest_mtime(const Inode& root);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_NETBSD_ETC_STUB_ETC_H
