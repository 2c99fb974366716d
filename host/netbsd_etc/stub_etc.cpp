// The --stub-etc tree, its merge beneath a source, and the password databases rebuilt from a
// master.passwd the sources provide.
// SPDX-License-Identifier: BSD-2-Clause
#include "netbsd_etc/stub_etc.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "netbsd_etc/pwd_db.h"
#include "netbsd_etc/stub_etc_files.h"
#include "writer/source_file.h"

namespace bakefs::build {
namespace {

constexpr uint16_t kDirMode = 0040755;
constexpr uint16_t kPublic = 0100644, kSecret = 0100600;
constexpr uint64_t kMaxMasterPasswd = 64u << 20;  // a sanity limit on what is read into memory

// The files pwd_mkdb derives from master.passwd, and their modes.
struct Derived {
  const char* name;
  uint16_t mode;
  std::string PasswordFiles::*bytes;
};
constexpr Derived kDerived[] = {
    {"pwd.db", kPublic, &PasswordFiles::pwd_db},
    {"spwd.db", kSecret, &PasswordFiles::spwd_db},
    {"passwd", kPublic, &PasswordFiles::passwd},
};

std::shared_ptr<Inode> make_file(const std::string& name, std::string bytes, uint16_t mode,
                                 int64_t mtime) {
  auto n = std::make_shared<Inode>();
  n->mode = mode;
  n->mtime_sec = mtime;
  n->size = bytes.size();
  n->content.host_path = "--stub-etc /etc/" + name;
  n->content.data = std::make_shared<const std::string>(std::move(bytes));
  return n;
}

Inode* child(const Inode& dir, const std::string& name) {
  auto it = dir.children.find(name);
  return it == dir.children.end() ? nullptr : it->second.get();
}

// True if n is the stub's file `name` (same bytes in memory, wherever the inode was copied).
bool is_stub_file(const Inode* n, const Inode& stub_etc, const std::string& name) {
  const Inode* s = child(stub_etc, name);
  return n != nullptr && s != nullptr && n->is_regular() && n->content.data != nullptr &&
         n->content.data == s->content.data;
}

std::string read_all(const Inode& n) {
  SourceFile source(n);
  if (n.size > kMaxMasterPasswd) throw Error(source.name() + ": too large for a master.passwd");
  std::string text(static_cast<size_t>(n.size), '\0');
  source.read(0, text.data(), text.size());
  source.finish();
  return text;
}

}  // namespace

Tree stub_etc_tree(const StubEtcOptions& options) {
  int64_t mtime = options.mtime.value_or(0);
  auto etc = std::make_shared<Inode>();
  etc->mode = kDirMode;
  etc->mtime_sec = mtime;
  auto add = [&](const std::string& name, std::string bytes, uint16_t mode) {
    etc->children[name] = make_file(name, std::move(bytes), mode, mtime);
  };
  namespace text = stub_etc_files;
  add("master.passwd", text::kMasterPasswd, kSecret);
  auto users = parse_master_passwd(text::kMasterPasswd, "--stub-etc master.passwd");
  PasswordFiles files = make_password_files(users, options.byte_order);
  for (const auto& d : kDerived) add(d.name, std::move(files.*d.bytes), d.mode);
  add("group", text::kGroup, kPublic);
  add("hosts", text::kHosts, kPublic);
  add("nsswitch.conf", text::kNsswitch, kPublic);
  add("protocols", text::kProtocols, kPublic);
  add("resolv.conf", text::kResolvConf, kPublic);
  add("services", text::kServices, kPublic);
  return etc_only_tree(etc, mtime);
}

Tree etc_only_tree(std::shared_ptr<Inode> etc, int64_t mtime) {
  Tree tree;
  tree.root = std::make_shared<Inode>();
  tree.root->mode = kDirMode;
  tree.root->mtime_sec = mtime;
  tree.root->children["etc"] = std::move(etc);
  return tree;
}

void merge_stub_etc(Tree& tree, const Tree& stub) {
  const auto& stub_etc = stub.root->children.at("etc");
  auto it = tree.root->children.find("etc");
  if (it == tree.root->children.end()) {
    // Copies, so that what is done to the merged /etc (a spec's modes, id maps) leaves the
    // stub as it is.
    auto etc = std::make_shared<Inode>(*stub_etc);
    for (auto& [name, n] : etc->children) n = std::make_shared<Inode>(*n);
    tree.root->children["etc"] = etc;
    return;
  }
  Inode& etc = *it->second;
  if (!etc.is_dir()) throw Error("--stub-etc: /etc in the source is not a directory");
  for (const auto& [name, n] : stub_etc->children) {
    if (!etc.children.contains(name)) etc.children.emplace(name, std::make_shared<Inode>(*n));
  }
}

void regenerate_password_files(Tree& tree, Tree& stub, const StubEtcOptions& options) {
  Inode* etc = child(*tree.root, "etc");
  Inode* stub_etc = child(*stub.root, "etc");
  if (etc == nullptr || !etc->is_dir() || stub_etc == nullptr) return;
  const Inode* master = child(*etc, "master.passwd");
  if (master == nullptr || !master->is_regular() ||
      is_stub_file(master, *stub_etc, "master.passwd")) {
    return;
  }
  std::vector<const Derived*> stale;
  for (const auto& d : kDerived) {
    if (is_stub_file(child(*etc, d.name), *stub_etc, d.name)) stale.push_back(&d);
  }
  if (stale.empty()) return;
  auto users = parse_master_passwd(read_all(*master), "/etc/master.passwd");
  PasswordFiles files = make_password_files(users, options.byte_order);
  for (const Derived* d : stale) {
    // New bytes in the file the tree has: its mode, owner and xattrs stay (a spec or the id
    // maps may have changed them). As if pwd_mkdb had been run, it is dated like master.passwd.
    std::shared_ptr<Inode>& slot = etc->children[d->name];
    auto n = std::make_shared<Inode>(*slot);
    auto bytes = std::make_shared<const std::string>(std::move(files.*d->bytes));
    n->size = bytes->size();
    n->content.data = bytes;
    n->mtime_sec = master->mtime_sec;
    n->mtime_nsec = 0;
    slot = std::move(n);
    // They count as the stub's from now on, to be made again by a later call.
    Inode& s = *stub_etc->children.at(d->name);
    s.size = bytes->size();
    s.content.data = std::move(bytes);
  }
}

void apply_stub_etc(Tree& tree, StubEtcOptions options) {
  if (!options.mtime) options.mtime = newest_mtime(*tree.root);
  Tree stub = stub_etc_tree(options);
  merge_stub_etc(tree, stub);
  regenerate_password_files(tree, stub, options);
}

int64_t newest_mtime(const Inode& root) {
  int64_t newest = INT64_MIN;
  std::vector<const Inode*> pending{&root};
  while (!pending.empty()) {
    const Inode* n = pending.back();
    pending.pop_back();
    newest = std::max(newest, n->mtime_sec);
    for (const auto& [name, c] : n->children) pending.push_back(c.get());
  }
  return newest == INT64_MIN ? 0 : newest;
}

}  // namespace bakefs::build
