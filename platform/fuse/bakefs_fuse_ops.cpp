// The request handlers behind serve(): libfuse3 low-level operations over the driver core.
// Inode numbers are the image's (the root is 1, as FUSE wants), so hard links share st_ino;
// everything is read-only and immutable, so the kernel may cache entries, attributes and pages
// for as long as it likes.
// SPDX-License-Identifier: BSD-2-Clause
#include "bakefs_fuse_ops.h"

#include <bakefs/errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace bakefs::fuse {
namespace {

const Context& context(fuse_req_t req) {
  return *static_cast<const Context*>(fuse_req_userdata(req));
}

struct stat to_stat(const bakefs_attr& a) {
  struct stat st = {};
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_blksize = a.block_size;
  st.st_rdev = makedev(a.rdev_major, a.rdev_minor);
  st.st_mtim.tv_sec = a.mtime_sec;
  st.st_mtim.tv_nsec = a.mtime_nsec;
  st.st_atim = st.st_mtim;
  st.st_ctim = st.st_mtim;
  return st;
}

void reply_error(fuse_req_t req, int status) {
  fuse_reply_err(req, bakefs_to_errno(status));
}

// Fills an entry for ino; returns a bakefs status.
int make_entry(const Context& c, bakefs_ino ino, fuse_entry_param& e) {
  bakefs_attr a;
  int s = c.fs->getattr(ino, a);
  if (s != BAKEFS_OK) return s;
  e = {};
  e.ino = ino;
  e.generation = 1;
  e.attr = to_stat(a);
  e.attr_timeout = c.timeout;
  e.entry_timeout = c.timeout;
  return BAKEFS_OK;
}

// Nothing here needs to know about opens: the image is immutable and read-only. Where the
// kernel allows it, open and opendir cost no round trip at all (the first answer ENOSYS tells
// it so), and symlink targets are cached like pages.
void op_init(void* userdata, fuse_conn_info* conn) {
  auto* c = static_cast<Context*>(userdata);
  c->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
  c->no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  const Context& c = context(req);
  bakefs_ino ino = 0;
  int s = c.fs->lookup(static_cast<bakefs_ino>(parent), name, ino);
  fuse_entry_param e = {};
  if (s == BAKEFS_ENOENT) {
    e.ino = 0;  // a negative entry: the kernel remembers the name is absent
    e.entry_timeout = c.timeout;
    fuse_reply_entry(req, &e);
    return;
  }
  if (s == BAKEFS_OK) s = make_entry(c, ino, e);
  if (s == BAKEFS_OK && S_ISDIR(e.attr.st_mode) && !c.directory_names->claim(ino, parent, name)) {
    s = BAKEFS_ECORRUPT;
  }
  if (s != BAKEFS_OK) return reply_error(req, s);
  fuse_reply_entry(req, &e);
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) {
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  const Context& c = context(req);
  bakefs_attr a;
  int s = c.fs->getattr(static_cast<bakefs_ino>(ino), a);
  if (s != BAKEFS_OK) return reply_error(req, s);
  struct stat st = to_stat(a);
  fuse_reply_attr(req, &st, c.timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  std::string target;
  int s = context(req).fs->readlink(static_cast<bakefs_ino>(ino), target);
  if (s != BAKEFS_OK) return reply_error(req, s);
  fuse_reply_readlink(req, target.c_str());
}

// The file's handle is decoded here once and kept until release: reads need nothing else.
void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
  if (context(req).no_open) return (void)fuse_reply_err(req, ENOSYS);
  auto file = std::make_unique<bakefs_file>();
  int s = context(req).fs->open(static_cast<bakefs_ino>(ino), *file);
  if (s != BAKEFS_OK) return reply_error(req, s);
  fi->fh = reinterpret_cast<uint64_t>(file.get());
  fi->keep_cache = 1;  // the bytes never change: keep pages across opens
  if (fuse_reply_open(req, fi) == 0) (void)file.release();  // op_release deletes it
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<bakefs_file*>(fi->fh);
  fuse_reply_err(req, 0);
}

// Holes are sent from here; a longer hole takes several iovecs.
constexpr size_t kZeroBytes = 128 << 10;
const char kZeros[kZeroBytes] = {};

// The reply is written straight from the spans (fuse_reply_iov: one writev, no copy in
// libfuse): raw bytes from the image, decompressed ones from pinned cache entries, holes from
// kZeros. One call covers the request unless the cache has fewer entries to pin than the
// request has compressed blocks; the rest is then copied (bakefs_read), as it must be whole.
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  const Context& c = context(req);
  bakefs_file opened;
  const bakefs_file* file = fi != nullptr ? reinterpret_cast<const bakefs_file*>(fi->fh) : nullptr;
  if (file == nullptr) {  // the kernel did not ask to open (FUSE_CAP_NO_OPEN_SUPPORT)
    int s = c.fs->open(static_cast<bakefs_ino>(ino), opened);
    if (s != BAKEFS_OK) return reply_error(req, s);
    file = &opened;
  }
  const uint64_t offset = static_cast<uint64_t>(off);
  // Every piece lies in one block: this many spans always suffice.
  thread_local std::vector<bakefs_span> spans;
  thread_local std::vector<iovec> iov;
  spans.resize(size / c.block_size + 2);
  size_t count = 0;
  int s = c.fs->read_spans(*file, offset, size, spans.data(), spans.size(), count);
  if (s != BAKEFS_OK) return reply_error(req, s);
  iov.clear();
  size_t covered = 0;
  for (size_t i = 0; i < count; ++i) {
    covered += spans[i].length;
    if (spans[i].data != nullptr) {
      iov.push_back({const_cast<void*>(spans[i].data), spans[i].length});
      continue;
    }
    for (size_t left = spans[i].length; left > 0;) {
      const size_t n = std::min(left, kZeroBytes);
      iov.push_back({const_cast<char*>(kZeros), n});
      left -= n;
    }
  }
  std::unique_ptr<char[]> rest;
  const uint64_t end = std::min<uint64_t>(file->size, offset + size);
  if (offset + covered < end) {
    const size_t want = static_cast<size_t>(end - offset - covered);
    rest.reset(new char[want]);
    size_t done = 0;
    s = c.fs->read(file->ino, offset + covered, rest.get(), want, done);
    if (s != BAKEFS_OK) {
      c.fs->release(spans.data(), count);
      return reply_error(req, s);
    }
    iov.push_back({rest.get(), done});
  }
  fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
  c.fs->release(spans.data(), count);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (context(req).no_opendir) return (void)fuse_reply_err(req, ENOSYS);
  bakefs_attr a;
  int s = context(req).fs->getattr(static_cast<bakefs_ino>(ino), a);
  if (s != BAKEFS_OK) return reply_error(req, s);
  if ((a.mode & S_IFMT) != S_IFDIR) return (void)fuse_reply_err(req, ENOTDIR);
  fi->cache_readdir = 1;
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

// readdir and readdirplus: fill at most size bytes from position off.
void fill_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  const Context& c = context(req);
  struct Fill {
    fuse_req_t req;
    const Context* c;
    fuse_ino_t dir;
    bool plus;
    char* buf;
    size_t size;
    size_t used = 0;
    std::string name;
    int status = BAKEFS_OK;
  } fill{req, &c, ino, plus, nullptr, size, 0, {}, BAKEFS_OK};
  // The kernel asks with buffers of up to max_pages pages and most replies fill a few hundred
  // bytes: a buffer per thread, grown once, not one zero-filled per call (that memset was a
  // fifth of the daemon's instructions in a cold walk).
  thread_local std::vector<char> buffer;
  if (buffer.size() < size) buffer.resize(size);
  fill.buf = buffer.data();
  auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino entry, uint32_t type,
                 uint64_t, uint64_t next) -> int {
    auto* f = static_cast<Fill*>(ctx);
    f->name.assign(name, length);
    const bool dots = f->name == "." || f->name == "..";
    if (!dots && (type << 12) == S_IFDIR &&
        !f->c->directory_names->claim(entry, f->dir, f->name.c_str())) {
      f->status = BAKEFS_ECORRUPT;
      return 1;
    }
    char* at = f->buf + f->used;
    size_t room = f->size - f->used;
    size_t need;
    if (f->plus) {
      fuse_entry_param e = {};
      if (!dots) {
        f->status = make_entry(*f->c, entry, e);
        if (f->status != BAKEFS_OK) return 1;
      } else {
        e.attr.st_ino = entry;
        e.attr.st_mode = type << 12;
      }
      need =
          fuse_add_direntry_plus(f->req, at, room, f->name.c_str(), &e, static_cast<off_t>(next));
    } else {
      struct stat st = {};
      st.st_ino = entry;
      st.st_mode = type << 12;
      need = fuse_add_direntry(f->req, at, room, f->name.c_str(), &st, static_cast<off_t>(next));
    }
    if (need > room) return 1;  // full: this entry comes next time
    f->used += need;
    return 0;
  };
  int s = bakefs_readdir(c.fs->get(), static_cast<bakefs_ino>(ino), static_cast<uint64_t>(off),
                         emit, &fill);
  if (s == BAKEFS_OK) s = fill.status;
  if (s != BAKEFS_OK && fill.used == 0) return reply_error(req, s);
  fuse_reply_buf(req, fill.buf, fill.used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  fill_dir(req, ino, size, off, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  fill_dir(req, ino, size, off, true);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  bakefs_fsstat st;
  int s = context(req).fs->statfs(st);
  if (s != BAKEFS_OK) return reply_error(req, s);
  struct statvfs v = {};
  v.f_bsize = st.block_size;
  v.f_frsize = st.block_size;
  v.f_blocks = (st.image_size + st.block_size - 1) / st.block_size;
  v.f_files = st.inode_count;
  v.f_namemax = st.name_max;
  v.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
  fuse_reply_statfs(req, &v);
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  const FileSystem& fs = *context(req).fs;
  size_t needed = 0;
  std::string value(size, '\0');
  int s =
      bakefs_getxattr(fs.get(), static_cast<bakefs_ino>(ino), name, value.data(), size, &needed);
  if (s != BAKEFS_OK) return reply_error(req, s);
  if (size == 0) return (void)fuse_reply_xattr(req, needed);
  fuse_reply_buf(req, value.data(), needed);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  const FileSystem& fs = *context(req).fs;
  size_t needed = 0;
  std::string names(size, '\0');
  int s = bakefs_listxattr(fs.get(), static_cast<bakefs_ino>(ino), names.data(), size, &needed);
  if (s != BAKEFS_OK) return reply_error(req, s);
  if (size == 0) return (void)fuse_reply_xattr(req, needed);
  fuse_reply_buf(req, names.data(), needed);
}

}  // namespace

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops = {};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.getattr = op_getattr;
  ops.readlink = op_readlink;
  ops.open = op_open;
  ops.read = op_read;
  ops.release = op_release;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.statfs = op_statfs;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  return ops;
}

}  // namespace bakefs::fuse
