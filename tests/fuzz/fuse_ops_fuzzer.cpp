// libFuzzer target for the FUSE request handlers (platform/fuse/bakefs_fuse_ops.cpp): any
// bytes, with their checksums recomputed (fuzz_image.h) so that mutations reach the structure,
// mounted through the core and walked through the very handlers that serve a FUSE mount:
// readdirplus and readdir in pages of sizes the input picks, lookup of every name, getattr,
// readlink, open, read in request sizes the input picks, release, listxattr and getxattr of
// every name, statfs, forget. libfuse is replaced by the recorder below, so no kernel and no
// /dev/fuse are involved: each call fills one reply.
//
// Invariants (a failure names the invariant and traps):
//   - every request gets exactly one reply, of a kind the request allows;
//   - errors are errnos (positive), never 0 where a reply with data was due;
//   - read replies carry exactly the bytes FileSystem::read gives, all of them up to the end
//     of the file, and nothing past it;
//   - readdir pages chain (each offset resumes after the last) and end; readdir and
//     readdirplus list the same names (readdirplus may stop sooner on a damaged inode); lookup
//     of a listed name gives the listed inode or ENOENT, never another inode;
//   - a directory is walked at most once, the walk ends within a budget of requests;
//   - the platform's memory and locks are all given back (tracking_platform.h).
//
// Build and run like mount_fuzzer (tests/fuzz/README.md), target fuse_ops_fuzzer; CTest replays
// the corpus through it as fuse_ops_replay.
// SPDX-License-Identifier: BSD-2-Clause
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "bakefs_fuse_ops.h"
#include "explorer.h"
#include "fuzz_image.h"
#include "tracking_platform.h"

namespace {

using bakefs::fuzz::require;

enum class Kind { nothing, none, error, entry, attr, readlink, open, data, statfs, xattr_size };

struct Reply {
  Kind kind = Kind::nothing;
  int replies = 0;  // how many reply calls the handler made: exactly one is right
  int error = 0;
  fuse_entry_param entry{};
  struct stat attr{};
  std::string data;  // readlink target, buf and iov bytes
  fuse_file_info fi{};
  size_t xattr_size = 0;
};

}  // namespace

// The request: the handlers see only a pointer to it, and libfuse's accessors below.
struct fuse_req {
  void* userdata;
  Reply reply;
};

namespace {

int record(fuse_req_t req, Kind kind) {
  req->reply.kind = kind;
  ++req->reply.replies;
  return 0;
}

// Directory entries as this recorder lays them out (the handlers treat them as opaque bytes
// of the size fuse_add_direntry returns): ino, the offset of the next entry, type, name.
struct Dirent {
  uint64_t ino;
  uint64_t next;
  uint32_t type;
  uint32_t length;
};
size_t dirent_size(size_t name_length, bool plus) {
  // FUSE's own sizes: fuse_dirent (24 bytes + name, 8-aligned), fuse_direntplus 128 more.
  return (plus ? 128 : 0) + ((24 + name_length + 7) & ~size_t{7});
}
size_t add_dirent(char* buf, size_t room, const char* name, uint64_t ino, uint32_t mode,
                  off_t next, bool plus) {
  const size_t length = std::strlen(name);
  const size_t size = dirent_size(length, plus);
  if (buf == nullptr || size > room) return size;
  require(sizeof(Dirent) + length <= size, "recorder: a dirent fits its size");
  Dirent d{ino, static_cast<uint64_t>(next), mode >> 12, static_cast<uint32_t>(length)};
  std::memcpy(buf, &d, sizeof(d));
  std::memcpy(buf + sizeof(d), name, length);
  return size;
}

}  // namespace

extern "C" {
void* fuse_req_userdata(fuse_req_t req) { return req->userdata; }
int fuse_reply_err(fuse_req_t req, int err) {
  req->reply.error = err;
  return record(req, Kind::error);
}
void fuse_reply_none(fuse_req_t req) { record(req, Kind::none); }
int fuse_reply_entry(fuse_req_t req, const fuse_entry_param* e) {
  req->reply.entry = *e;
  return record(req, Kind::entry);
}
int fuse_reply_attr(fuse_req_t req, const struct stat* attr, double) {
  req->reply.attr = *attr;
  return record(req, Kind::attr);
}
int fuse_reply_readlink(fuse_req_t req, const char* link) {
  req->reply.data = link;
  return record(req, Kind::readlink);
}
int fuse_reply_open(fuse_req_t req, const fuse_file_info* fi) {
  req->reply.fi = *fi;
  return record(req, Kind::open);
}
int fuse_reply_buf(fuse_req_t req, const char* buf, size_t size) {
  req->reply.data.assign(buf, size);
  return record(req, Kind::data);
}
int fuse_reply_iov(fuse_req_t req, const struct iovec* iov, int count) {
  req->reply.data.clear();
  for (int i = 0; i < count; ++i)
    req->reply.data.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return record(req, Kind::data);
}
int fuse_reply_statfs(fuse_req_t req, const struct statvfs*) { return record(req, Kind::statfs); }
int fuse_reply_xattr(fuse_req_t req, size_t count) {
  req->reply.xattr_size = count;
  return record(req, Kind::xattr_size);
}
size_t fuse_add_direntry(fuse_req_t, char* buf, size_t bufsize, const char* name,
                         const struct stat* stbuf, off_t off) {
  return add_dirent(buf, bufsize, name, stbuf->st_ino, stbuf->st_mode, off, false);
}
size_t fuse_add_direntry_plus(fuse_req_t, char* buf, size_t bufsize, const char* name,
                              const fuse_entry_param* e, off_t off) {
  // As libfuse does: the dirent's ino is attr.st_ino (e->ino is the lookup's, 0 for the dots).
  return add_dirent(buf, bufsize, name, e->attr.st_ino, e->attr.st_mode, off, true);
}
}  // extern "C"

namespace {

// Sizes the input picks for requests, from the bytes after the image's end (or fixed ones).
class Choices {
 public:
  Choices(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t pick(size_t low, size_t high) {
    if (size_ == 0) return high;
    const size_t low_byte = data_[at_++ % size_];
    const size_t v = low_byte | (size_t{data_[at_++ % size_]} << 8);
    return low + v % (high - low + 1);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

class Walker {
 public:
  Walker(const fuse_lowlevel_ops& ops, bakefs::fuse::Context& context, Choices& choices)
      : ops_(ops), context_(context), choices_(choices) {}

  void walk() {
    Reply r = call([&](fuse_req_t q) { ops_.statfs(q, 1); });
    require(r.kind == Kind::statfs || r.kind == Kind::error, "statfs: statfs or an error");
    std::vector<fuse_ino_t> dirs{1};
    visit_attrs(1);
    while (!dirs.empty() && budget_ > 0) {
      fuse_ino_t dir = dirs.back();
      dirs.pop_back();
      if (!walked_.insert(dir).second) continue;  // the handlers give a directory one name
      for (const Listed& listed : list(dir)) {
        const fuse_ino_t ino = listed.ino;  // (clang 14 cannot capture structured bindings)
        Reply e = call([&](fuse_req_t q) { ops_.lookup(q, dir, listed.name.c_str()); });
        require(e.kind == Kind::entry || e.kind == Kind::error, "lookup: an entry or an error");
        // A negative entry (ino 0) is ENOENT: in a damaged directory readdir hands out the
        // names before the entry it refuses, and lookup may not find them. Another inode never.
        if (e.kind != Kind::entry || e.entry.ino == 0) continue;
        require(e.entry.ino == ino, "lookup gives the inode readdir listed");
        visit(ino, e.entry.attr.st_mode);
        if (S_ISDIR(e.entry.attr.st_mode)) dirs.push_back(ino);
        Reply f = call([&](fuse_req_t q) { ops_.forget(q, ino, 1); });
        require(f.kind == Kind::none, "forget: no reply but none");
      }
    }
  }

 private:
  struct Listed {
    std::string name;
    fuse_ino_t ino;
    uint32_t type;
  };

  template <typename Op>
  Reply call(Op op) {
    --budget_;
    fuse_req req{&context_, {}};
    op(&req);
    require(req.reply.replies == 1, "every request gets exactly one reply");
    if (req.reply.kind == Kind::error) {
      require(req.reply.error >= 0, "an error reply is an errno (release answers 0)");
    }
    return req.reply;
  }

  // readdir and readdirplus in pages; both must list the same names.
  std::vector<Listed> list(fuse_ino_t dir) {
    fuse_file_info fi{};
    Reply o = call([&](fuse_req_t q) { ops_.opendir(q, dir, &fi); });
    require(o.kind == Kind::open || o.kind == Kind::error, "opendir: open or an error");
    std::vector<Listed> plain = pages(dir, false), plus = pages(dir, true);
    if (budget_ <= 0) return {};  // a listing cut short by the budget proves nothing
    // readdirplus also reads each entry's inode, so on a damaged image it may stop sooner.
    require(plus.size() <= plain.size(), "readdirplus lists no more than readdir");
    for (size_t i = 0; i < plus.size(); ++i) {
      require(plain[i].name == plus[i].name && plain[i].ino == plus[i].ino,
              "readdir and readdirplus list the same entries");
    }
    std::vector<Listed> names;
    for (auto& e : plus)
      if (e.name != "." && e.name != "..") names.push_back(std::move(e));
    return names;
  }

  std::vector<Listed> pages(fuse_ino_t dir, bool plus) {
    std::vector<Listed> out;
    off_t off = 0;
    for (int page = 0; budget_ > 0; ++page) {
      // At least one entry of the longest name (255 bytes) fits, as the kernel's pages do.
      const size_t size = choices_.pick(dirent_size(255, plus), 8192);
      Reply r = call([&](fuse_req_t q) {
        plus ? ops_.readdirplus(q, dir, size, off, nullptr) : ops_.readdir(q, dir, size, off, nullptr);
      });
      require(r.kind == Kind::data || r.kind == Kind::error, "readdir: bytes or an error");
      if (r.kind != Kind::data || r.data.empty()) break;
      require(r.data.size() <= size, "readdir fills at most the size asked for");
      for (size_t at = 0; at < r.data.size();) {
        Dirent d;
        require(r.data.size() - at >= sizeof(d), "readdir: whole entries");
        std::memcpy(&d, r.data.data() + at, sizeof(d));
        require(static_cast<off_t>(d.next) > off, "readdir offsets move forward");
        out.push_back({r.data.substr(at + sizeof(d), d.length), d.ino, d.type});
        off = static_cast<off_t>(d.next);
        at += dirent_size(d.length, plus);
      }
      require(page < (1 << 20), "readdir ends");
    }
    return out;
  }

  void visit_attrs(fuse_ino_t ino) {
    Reply a = call([&](fuse_req_t q) { ops_.getattr(q, ino, nullptr); });
    require(a.kind == Kind::attr || a.kind == Kind::error, "getattr: attributes or an error");
    Reply l = call([&](fuse_req_t q) { ops_.listxattr(q, ino, 0); });
    require(l.kind == Kind::xattr_size || l.kind == Kind::error, "listxattr 0: a size or an error");
    if (l.kind != Kind::xattr_size) return;
    Reply names = call([&](fuse_req_t q) { ops_.listxattr(q, ino, l.xattr_size); });
    if (names.kind != Kind::data) return;
    require(names.data.size() == l.xattr_size, "listxattr gives the size it said");
    for (size_t at = 0; at < names.data.size();) {
      size_t end = names.data.find('\0', at);
      require(end != std::string::npos, "listxattr: NUL-terminated names");
      const std::string name = names.data.substr(at, end - at);
      at = end + 1;
      Reply v = call([&](fuse_req_t q) { ops_.getxattr(q, ino, name.c_str(), 0); });
      if (v.kind != Kind::xattr_size) continue;
      Reply value = call([&](fuse_req_t q) { ops_.getxattr(q, ino, name.c_str(), v.xattr_size); });
      require(value.kind != Kind::data || value.data.size() == v.xattr_size,
              "getxattr gives the size it said");
    }
  }

  void visit(fuse_ino_t ino, mode_t mode) {
    visit_attrs(ino);
    if (S_ISLNK(mode)) {
      Reply r = call([&](fuse_req_t q) { ops_.readlink(q, ino); });
      require(r.kind == Kind::readlink || r.kind == Kind::error, "readlink: a target or an error");
    } else if (S_ISREG(mode)) {
      read_file(ino);
    }
  }

  // open, reads of sizes the input picks to the end of the file, release; the bytes must be
  // what the core's own read gives.
  void read_file(fuse_ino_t ino) {
    fuse_file_info fi{};
    fi.flags = O_RDONLY;
    Reply o = call([&](fuse_req_t q) { ops_.open(q, ino, &fi); });
    require(o.kind == Kind::open || o.kind == Kind::error, "open: open or an error");
    if (o.kind != Kind::open) return;
    bakefs_attr a{};
    require(context_.fs->getattr(static_cast<bakefs_ino>(ino), a) == BAKEFS_OK,
            "an opened file has attributes");
    const uint64_t end = std::min<uint64_t>(a.size, 4u << 20);  // bounded work per file
    std::string want;
    for (uint64_t off = 0; off < end && budget_ > 0;) {
      const size_t size = choices_.pick(1, 256 << 10);
      Reply r = call([&](fuse_req_t q) { ops_.read(q, ino, size, static_cast<off_t>(off), &o.fi); });
      require(r.kind == Kind::data || r.kind == Kind::error, "read: bytes or an error");
      if (r.kind != Kind::data) break;
      want.assign(std::min<uint64_t>(size, a.size - off), '\0');
      size_t done = 0;
      int s = context_.fs->read(static_cast<bakefs_ino>(ino), off, want.data(), want.size(), done);
      require(s == BAKEFS_OK, "a read FUSE served, the core serves too");
      want.resize(done);
      require(r.data == want, "read replies carry exactly the core's bytes");
      if (r.data.empty()) break;
      off += r.data.size();
    }
    Reply rel = call([&](fuse_req_t q) { ops_.release(q, ino, &o.fi); });
    require(rel.kind == Kind::error && rel.error == 0, "release answers 0");
    // Past the end: nothing.
    Reply past = call([&](fuse_req_t q) { ops_.read(q, ino, 4096, static_cast<off_t>(a.size), nullptr); });
    require(past.kind == Kind::error || past.data.empty(), "nothing past the end of a file");
  }

  const fuse_lowlevel_ops& ops_;
  bakefs::fuse::Context& context_;
  Choices& choices_;
  std::set<fuse_ino_t> walked_;
  long budget_ = 20000;  // requests per input
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bakefs::fuzz::FixedImage fixed = bakefs::fuzz::fix_checksums(data, size);
  if (fixed.bytes.empty()) return 0;
  static const fuse_lowlevel_ops ops = bakefs::fuse::make_ops();
  bakefs::fuzz::TrackingPlatform platform;
  {
    bakefs::FileSystem fs;
    const bakefs_mount_options options{64u << 10, 2, 4, 0};
    if (fs.mount(fixed.bytes.data(), fixed.bytes.size(), platform.callbacks(), &options) !=
        BAKEFS_OK) {
      return 0;
    }
    bakefs_fsstat st{};
    if (fs.statfs(st) != BAKEFS_OK || st.block_size == 0) return 0;
    bakefs::fuse::DirectoryNames names;
    bakefs::fuse::Context context{&fs, &names, 1.0, st.block_size};
    fuse_conn_info conn{};
    ops.init(&context, &conn);
    // The choices come from the input itself, so that libFuzzer steers them too.
    Choices choices(data, size);
    Walker(ops, context, choices).walk();
  }
  platform.require_released();
  return 0;
}
