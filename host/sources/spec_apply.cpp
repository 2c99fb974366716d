// Applying spec entries to the tree: change what an entry names, create what is missing (no
// root needed, nothing is created on the host), remove on request, and check sizes and
// digests.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "sources/spec.h"
#include "util/sha256.h"
#include "writer/source_file.h"
#include "writer/tree_path.h"

namespace bakefs::build {
namespace {

using format::kTypeMask;

const char* type_name(uint16_t type) {
  switch (type) {
    case format::kTypeRegular:
      return "file";
    case format::kTypeDir:
      return "dir";
    case format::kTypeSymlink:
      return "link";
    case format::kTypeChar:
      return "char";
    case format::kTypeBlock:
      return "block";
    case format::kTypeFifo:
      return "fifo";
    case format::kTypeSocket:
      return "socket";
    default:
      return "unknown";
  }
}

// /etc/passwd and /etc/group are read whole; a sanity limit, as for --stub-etc's master.passwd.
constexpr uint64_t kMaxNamesFile = 64u << 20;

std::string read_whole(const Inode& n) {
  SourceFile file(n);
  if (n.size > kMaxNamesFile) {
    throw Error(file.name() + ": larger than 64 MiB, too large to look names up in");
  }
  std::string bytes(n.size, '\0');
  file.read(0, bytes.data(), bytes.size());
  file.finish();
  return bytes;
}

// Users and groups named in the tree's own /etc/passwd and /etc/group, read when the first
// name needs them: the image is for another system, so the build host's are no guide.
class Names {
 public:
  explicit Names(const Tree& tree) : tree_(tree) {}

  std::optional<uint32_t> user(const std::string& name) { return find(name, users_, "passwd"); }
  std::optional<uint32_t> group(const std::string& name) { return find(name, groups_, "group"); }
  bool has(const std::string& file) const {
    const Inode* etc = child(tree_.root.get(), "etc");
    const Inode* n = child(etc, file);
    return n != nullptr && n->is_regular();
  }

 private:
  static const Inode* child(const Inode* dir, const std::string& name) {
    if (dir == nullptr || !dir->is_dir()) return nullptr;
    auto it = dir->children.find(name);
    return it == dir->children.end() ? nullptr : it->second.get();
  }

  std::optional<uint32_t> find(const std::string& name,
                               std::optional<std::map<std::string, uint32_t>>& table,
                               const std::string& file) {
    if (!table) table = load(file);
    auto it = table->find(name);
    if (it != table->end()) return it->second;
    if (name == "root" || (file == "group" && name == "wheel")) return 0;
    return std::nullopt;
  }

  // "name:password:id:..." lines; the id is the third field in both files.
  std::map<std::string, uint32_t> load(const std::string& file) const {
    std::map<std::string, uint32_t> table;
    const Inode* n = child(child(tree_.root.get(), "etc"), file);
    if (n == nullptr || !n->is_regular()) return table;
    std::istringstream in(read_whole(*n));
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> fields;
      std::istringstream f(line);
      for (std::string field; std::getline(f, field, ':');) fields.push_back(field);
      if (fields.size() < 3 || fields[0].empty() || fields[0][0] == '#') continue;
      char* end = nullptr;
      unsigned long id = std::strtoul(fields[2].c_str(), &end, 10);
      if (fields[2].empty() || *end != '\0' || id > UINT32_MAX) continue;
      table.emplace(fields[0], static_cast<uint32_t>(id));  // the first line for a name wins
    }
    return table;
  }

  const Tree& tree_;
  std::optional<std::map<std::string, uint32_t>> users_, groups_;
};

class Applier {
 public:
  Applier(Tree& tree, const Spec& spec) : tree_(tree), spec_(spec), names_(tree) {}

  void apply(const SpecEntry& e) {
    entry_ = &e;
    std::shared_ptr<Inode> parent;
    std::string name;
    std::shared_ptr<Inode> node = tree_.root;
    if (!e.path.empty()) {
      size_t slash = e.path.rfind('/');
      name = e.path.substr(slash == std::string::npos ? 0 : slash + 1);
      parent = find_parent(slash == std::string::npos ? "" : e.path.substr(0, slash));
      if (parent == nullptr) return;  // optional, and its directory is missing
      auto it = parent->children.find(name);
      node = it == parent->children.end() ? nullptr : it->second;
    }
    if (e.remove) {
      if (node == nullptr && !e.optional) fail("does not exist, so it cannot be removed");
      if (parent == nullptr && node != nullptr) fail("the root cannot be removed");
      if (node != nullptr) parent->children.erase(name);
      return;
    }
    if (node != nullptr) {
      change(*node);
    } else if (!e.optional) {
      parent->children[name] = create(*parent);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::string shown = entry_->path.empty() ? "." : "./" + entry_->path;
    throw Error(spec_.name + ":" + std::to_string(entry_->line) + ": " + shown + ": " + what);
  }

  // The directory an entry goes in; nullptr for an optional entry whose directory is missing.
  std::shared_ptr<Inode> find_parent(const std::string& dir_path) {
    std::shared_ptr<Inode> dir = tree_.root;
    std::string walked;
    for (const std::string& part : split_tree_path(dir_path).names) {  // spec paths are clean
      walked += (walked.empty() ? "" : "/") + part;
      auto it = dir->children.find(part);
      if (it == dir->children.end()) {
        if (entry_->optional) return nullptr;
        fail("its directory ./" + walked + " does not exist (create it on an earlier line)");
      }
      dir = it->second;
      if (!dir->is_dir()) fail("./" + walked + " is not a directory");
    }
    return dir;
  }

  void change(Inode& n) {
    const SpecEntry& e = *entry_;
    if (e.type && *e.type != n.type()) {
      fail(std::string("is a ") + type_name(n.type()) + " in the tree, but the spec says type=" +
           type_name(*e.type) + (e.type_from_set ? " (a /set default)" : ""));
    }
    set_common(n);
    set_specific(n);
    check_file(n);
  }

  std::shared_ptr<Inode> create(const Inode& parent) {
    const SpecEntry& e = *entry_;
    if (!e.type) fail("does not exist; give type= to create it, or mark it optional");
    auto n = std::make_shared<Inode>();
    uint16_t permissions = *e.type == format::kTypeDir ? 0755 : *e.type == format::kTypeSymlink ? 0777 : 0644;
    n->mode = static_cast<uint16_t>(*e.type | permissions);
    // A created entry has the time of its directory unless the spec or its contents give one,
    // so that the same spec always gives the same tree.
    n->mtime_sec = parent.mtime_sec;
    n->mtime_nsec = parent.mtime_nsec;
    if (*e.type == format::kTypeSymlink && !e.link) fail("a new symlink needs link=");
    if ((*e.type == format::kTypeChar || *e.type == format::kTypeBlock) && !e.device) {
      fail("a new device node needs device=");
    }
    if (*e.type == format::kTypeRegular && !e.contents && e.size.value_or(0) != 0) {
      fail("size=" + std::to_string(*e.size) + " but no contents= to take the bytes from");
    }
    creating_ = true;
    set_specific(*n);
    creating_ = false;
    set_common(*n);
    check_file(*n);
    return n;
  }

  // mode, owner and time: apply to every type.
  void set_common(Inode& n) {
    const SpecEntry& e = *entry_;
    if (e.mode) n.mode = static_cast<uint16_t>((n.mode & kTypeMask) | *e.mode);
    if (e.uid) {
      n.uid = *e.uid;
    } else if (e.uname) {
      n.uid = resolve(*e.uname, true);
    }
    if (e.gid) {
      n.gid = *e.gid;
    } else if (e.gname) {
      n.gid = resolve(*e.gname, false);
    }
    if (e.time_sec) {
      n.mtime_sec = *e.time_sec;
      n.mtime_nsec = e.time_nsec;
    }
  }

  uint32_t resolve(const std::string& name, bool user) {
    std::optional<uint32_t> id;
    try {
      id = user ? names_.user(name) : names_.group(name);
    } catch (const Error& e) {
      fail(e.what());
    }
    if (id) return *id;
    std::string file = user ? "passwd" : "group";
    std::string what = user ? "user" : "group";
    if (names_.has(file))
      fail("unknown " + what + " '" + name + "' (not in the tree's /etc/" + file + ")");
    fail("unknown " + what + " '" + name + "': the tree has no /etc/" + file +
         " to look it up in; give " + (user ? "uid=" : "gid="));
  }

  // link, device and contents: only for their own types.
  void set_specific(Inode& n) {
    const SpecEntry& e = *entry_;
    if (e.link) {
      if (n.type() != format::kTypeSymlink) fail(std::string("link= on a ") + type_name(n.type()));
      n.target = *e.link;
    }
    if (e.device) {
      if (n.type() != format::kTypeChar && n.type() != format::kTypeBlock) {
        fail(std::string("device= on a ") + type_name(n.type()));
      }
      n.rdev_major = e.device->first;
      n.rdev_minor = e.device->second;
    }
    if (e.contents) {
      if (!n.is_regular()) fail(std::string("contents= on a ") + type_name(n.type()));
      take_contents(n, *e.contents);
    }
  }

  // The file's bytes come from a host file from now on: its size, and (for a new entry) its
  // permissions and time unless the spec gives them.
  void take_contents(Inode& n, const std::string& path) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) fail("contents " + path + ": " + std::strerror(errno));
    std::string resolved = real;
    std::free(real);
    struct stat st;
    if (::stat(resolved.c_str(), &st) != 0) fail("contents " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail("contents " + path + " is not a regular file");
    n.size = static_cast<uint64_t>(st.st_size);
    n.content = Content{};
    n.content.host_path = resolved;
    n.content.device = st.st_dev;
    n.content.inode = st.st_ino;
    n.content.mtime_sec = st.st_mtim.tv_sec;
    n.content.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    n.content.checked = true;
    if (creating_) {
      n.mode = static_cast<uint16_t>(format::kTypeRegular | (st.st_mode & 07777));
      n.mtime_sec = st.st_mtim.tv_sec;
      n.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    }
  }

  // size= and sha256= are promises about the bytes: a file that breaks one is an error.
  void check_file(const Inode& n) {
    const SpecEntry& e = *entry_;
    if (!n.is_regular()) return;
    if (e.size && *e.size != n.size) {
      fail("size is " + std::to_string(n.size) +
           ", but the spec says size=" + std::to_string(*e.size));
    }
    if (!e.sha256) return;
    Sha256 hash;
    if (n.size != 0) {
      SourceFile file(n);
      std::string buf(std::min<uint64_t>(n.size, 1 << 20), '\0');
      for (uint64_t off = 0; off < n.size; off += buf.size()) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(buf.size(), n.size - off));
        file.read(off, buf.data(), take);
        hash.update(buf.data(), take);
      }
      file.finish();
    }
    std::string digest = hash.hex_digest();
    if (digest != *e.sha256) {
      fail("sha256 is " + digest + ", but the spec says sha256=" + *e.sha256);
    }
  }

  Tree& tree_;
  const Spec& spec_;
  Names names_;
  const SpecEntry* entry_ = nullptr;
  bool creating_ = false;
};

}  // namespace

void apply_spec(Tree& tree, const Spec& spec) {
  if (tree.root == nullptr) throw Error(spec.name + ": no tree to apply the spec to");
  Applier applier(tree, spec);
  for (const SpecEntry& e : spec.entries) applier.apply(e);
}

}  // namespace bakefs::build
