// SPDX-License-Identifier: BSD-2-Clause
#include "lockstep.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "explorer.h"
#include "tracking_platform.h"

namespace bakefs::fuzz {
namespace {

// Work limits, so that one input stays in milliseconds whatever it claims.
constexpr size_t kMaxDirs = 64;
constexpr size_t kMaxEntries = 256;  // per directory
constexpr size_t kMaxInodes = 512;
constexpr size_t kWindow = 70000;  // bytes per read
constexpr size_t kMaxListBytes = 1 << 16;

// memcmp for buffers that may be empty (and then have no address).
bool equal_bytes(const void* a, const void* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n) == 0;
}

// Storage that copies from the image, and fails every n-th read when asked to.
struct Storage {
  const uint8_t* bytes;
  size_t size;
  uint32_t fail_every;
  uint64_t reads = 0;

  static int read(void* ctx, uint64_t offset, void* dst, size_t length) {
    auto* s = static_cast<Storage*>(ctx);
    require(offset <= s->size && length <= s->size - offset, "source-read-inside-storage");
    ++s->reads;
    if (s->fail_every != 0 && s->reads % s->fail_every == 0) return 5;  // EIO
    std::memcpy(dst, s->bytes + offset, length);
    return 0;
  }
};

class Lockstep {
 public:
  Lockstep(bakefs_fs* in_place, bakefs_fs* source, bool failing)
      : a_(in_place), b_(source), failing_(failing) {}

  void run() {
    bakefs_fsstat sa{}, sb{};
    require(bakefs_statfs(a_, &sa) == BAKEFS_OK && bakefs_statfs(b_, &sb) == BAKEFS_OK,
            "lockstep-statfs");
    require(sa.image_size == sb.image_size && sa.inode_count == sb.inode_count &&
                sa.max_ino == sb.max_ino && sa.block_count == sb.block_count &&
                sa.block_size == sb.block_size,
            "lockstep-statfs-equal");
    max_ino_ = sa.max_ino;
    walk();
    for (bakefs_ino ino = 1; ino <= max_ino_ && ino <= kMaxInodes; ++ino) inode(ino);
    boot_records();
    check();
    require(bakefs_statfs(b_, &sb) == BAKEFS_OK && sb.pinned == 0, "lockstep-pins-given-back");
  }

 private:
  // Same status, or (failing storage) an EIO through the source. True when both succeeded.
  bool same(int a, int b, const char* what) {
    require(a != BAKEFS_EIO, "lockstep-no-eio-in-place");
    if (failing_ && b == BAKEFS_EIO) return false;
    require(a == b, what);
    return a == BAKEFS_OK;
  }

  struct Entry {
    std::string name;
    bakefs_ino ino;
    uint32_t type;
    uint64_t pos;
    bool operator==(const Entry&) const = default;
  };
  static int list(bakefs_fs* fs, bakefs_ino dir, std::vector<Entry>& out) {
    out.clear();
    auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino ino, uint32_t type,
                   uint64_t pos, uint64_t) -> int {
      auto* v = static_cast<std::vector<Entry>*>(ctx);
      v->push_back({std::string(name, length), ino, type, pos});
      return v->size() >= kMaxEntries ? 1 : 0;
    };
    return bakefs_readdir(fs, dir, 0, emit, &out);
  }

  void walk() {
    std::vector<bakefs_ino> dirs{BAKEFS_ROOT_INO};
    std::vector<bakefs_ino> seen;
    while (!dirs.empty() && seen.size() < kMaxDirs) {
      const bakefs_ino dir = dirs.back();
      dirs.pop_back();
      if (std::find(seen.begin(), seen.end(), dir) != seen.end()) continue;
      seen.push_back(dir);
      std::vector<Entry> ea, eb;
      const int sa = list(a_, dir, ea), sb = list(b_, dir, eb);
      if (failing_ && sb == BAKEFS_EIO) {
        require(eb.size() <= ea.size() && std::equal(eb.begin(), eb.end(), ea.begin()),
                "lockstep-readdir-prefix");
        continue;
      }
      require(sa == sb && ea == eb, "lockstep-readdir");
      for (const Entry& e : ea) {
        if (e.pos < 2) continue;
        bakefs_ino ia = 0, ib = 0;
        const int la = bakefs_lookup(a_, dir, e.name.data(), e.name.size(), &ia);
        const int lb = bakefs_lookup(b_, dir, e.name.data(), e.name.size(), &ib);
        if (same(la, lb, "lockstep-lookup")) require(ia == ib, "lockstep-lookup-ino");
        if (e.type == (fmt::kTypeDir >> 12)) dirs.push_back(e.ino);
      }
    }
  }

  void inode(bakefs_ino ino) {
    bakefs_attr aa{}, ab{};
    if (!same(bakefs_getattr(a_, ino, &aa), bakefs_getattr(b_, ino, &ab), "lockstep-getattr")) {
      return;
    }
    require(aa.ino == ab.ino && aa.mode == ab.mode && aa.nlink == ab.nlink && aa.uid == ab.uid &&
                aa.gid == ab.gid && aa.size == ab.size && aa.blocks == ab.blocks &&
                aa.mtime_sec == ab.mtime_sec && aa.mtime_nsec == ab.mtime_nsec &&
                aa.rdev_major == ab.rdev_major && aa.rdev_minor == ab.rdev_minor,
            "lockstep-getattr-equal");
    const uint32_t type = type_of(aa.mode);
    if (type == fmt::kTypeRegular) file(ino, aa.size);
    if (type == fmt::kTypeSymlink) {
      std::vector<char> ta(4096), tb(4096);
      size_t na = 0, nb = 0;
      if (same(bakefs_readlink(a_, ino, ta.data(), ta.size(), &na),
               bakefs_readlink(b_, ino, tb.data(), tb.size(), &nb), "lockstep-readlink")) {
        require(na == nb && equal_bytes(ta.data(), tb.data(), na), "lockstep-target");
      }
    }
    xattrs(ino);
  }

  void read_both(bakefs_ino ino, uint64_t offset, size_t length) {
    std::vector<uint8_t> ra(length, kFill), rb(length, kFill);
    size_t da = 0, db = 0;
    if (same(bakefs_read(a_, ino, offset, ra.data(), length, &da),
             bakefs_read(b_, ino, offset, rb.data(), length, &db), "lockstep-read")) {
      require(da == db && equal_bytes(ra.data(), rb.data(), da), "lockstep-read-bytes");
    }
    // The same range as spans through the source: the bytes the in-place read gave.
    bakefs_file f{};
    if (bakefs_open(b_, ino, &f) != BAKEFS_OK) return;
    std::vector<uint8_t> got;
    bakefs_span spans[4];
    int s = BAKEFS_OK;
    while (got.size() < length) {
      size_t count = 0;
      s = bakefs_file_read(b_, &f, offset + got.size(), length - got.size(), spans, 4, &count);
      if (s != BAKEFS_OK || count == 0) break;
      for (size_t i = 0; i < count; ++i) {
        require(spans[i].data == nullptr || spans[i].pin_ != nullptr, "lockstep-spans-pinned");
        const auto* p = static_cast<const uint8_t*>(spans[i].data);
        if (p == nullptr) {
          got.insert(got.end(), spans[i].length, 0);
        } else {
          got.insert(got.end(), p, p + spans[i].length);
        }
      }
      bakefs_release(b_, spans, count);
    }
    if (s == BAKEFS_OK && da == length) {
      require(got.size() == da && equal_bytes(got.data(), ra.data(), da), "lockstep-spans-bytes");
    }
    const void* p = nullptr;
    size_t n = 0;
    const int m = bakefs_map(b_, ino, offset, &p, &n);
    require(m == BAKEFS_ENOTSUP || is_damage(m) || m == BAKEFS_EIO || (m == BAKEFS_OK && n == 0),
            "lockstep-map-never-maps");
  }

  void file(bakefs_ino ino, uint64_t size) {
    read_both(ino, 0, static_cast<size_t>(std::min<uint64_t>(size, kWindow)));
    if (size > kWindow) {
      read_both(ino, size / 2, static_cast<size_t>(std::min<uint64_t>(size - size / 2, 5000)));
      read_both(ino, size - std::min<uint64_t>(size, 3000), 3000);
    }
    std::vector<bakefs_extent> xa, xb;
    auto emit = [](void* ctx, const bakefs_extent* e) {
      auto* v = static_cast<std::vector<bakefs_extent>*>(ctx);
      v->push_back(*e);
      return v->size() >= 256 ? 1 : 0;
    };
    if (same(bakefs_extents(a_, ino, emit, &xa), bakefs_extents(b_, ino, emit, &xb),
             "lockstep-extents")) {
      require(xa.size() == xb.size(), "lockstep-extents-count");
      for (size_t i = 0; i < xa.size(); ++i) {
        require(std::memcmp(&xa[i], &xb[i], sizeof(bakefs_extent)) == 0, "lockstep-extent");
      }
    }
  }

  void xattrs(bakefs_ino ino) {
    std::vector<char> la(kMaxListBytes), lb(kMaxListBytes);
    size_t na = 0, nb = 0;
    if (!same(bakefs_listxattr(a_, ino, la.data(), la.size(), &na),
              bakefs_listxattr(b_, ino, lb.data(), lb.size(), &nb), "lockstep-listxattr")) {
      return;
    }
    require(na == nb && equal_bytes(la.data(), lb.data(), na), "lockstep-xattr-names");
    for (size_t at = 0; at < na;) {
      const char* name = la.data() + at;
      const size_t length = strnlen(name, na - at);
      if (at + length >= na) break;  // no NUL: listxattr's own invariants are the explorer's
      std::vector<char> va(kMaxListBytes), vb(kMaxListBytes);
      size_t ga = 0, gb = 0;
      if (same(bakefs_getxattr(a_, ino, name, va.data(), va.size(), &ga),
               bakefs_getxattr(b_, ino, name, vb.data(), vb.size(), &gb), "lockstep-getxattr")) {
        require(ga == gb && equal_bytes(va.data(), vb.data(), ga), "lockstep-xattr-value");
      }
      at += length + 1;
    }
  }

  void boot_records() {
    for (uint32_t type = 1; type <= 5; ++type) {
      for (uint32_t index = 0; index < 16; ++index) {
        const void *pa = nullptr, *pb = nullptr;
        size_t na = 0, nb = 0;
        const int sa = bakefs_boot_record(a_, type, index, &pa, &na);
        const int sb = bakefs_boot_record(b_, type, index, &pb, &nb);
        if (same(sa, sb, "lockstep-boot-record")) {
          require(na == nb && equal_bytes(pa, pb, na), "lockstep-boot-record-bytes");
        }
        if (sa != BAKEFS_OK) break;
      }
    }
    uint32_t fa = 0, fb = 0;
    if (same(bakefs_boot_root(a_, &fa), bakefs_boot_root(b_, &fb), "lockstep-boot-root")) {
      require(fa == fb, "lockstep-boot-root-flags");
    }
  }

  void check() {
    auto report = [](void* ctx, const char* message) {
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(message);
    };
    std::vector<std::string> pa, pb;
    const int sa = bakefs_check(a_, report, &pa, 64), sb = bakefs_check(b_, report, &pb, 64);
    if (same(sa, sb, "lockstep-check")) require(pa == pb, "lockstep-check-problems");
    if (!failing_ && sa != BAKEFS_OK) require(pa == pb, "lockstep-check-problems");
  }

  bakefs_fs* a_;
  bakefs_fs* b_;
  bool failing_;
  bakefs_ino max_ino_ = 0;
};

}  // namespace

void compare_through_source(const uint8_t* image, size_t size, const bakefs_mount_options& options,
                            uint32_t fail_every) {
  static const uint8_t kEmpty = 0;
  if (size == 0) image = &kEmpty;
  TrackingPlatform pa, pb;
  Storage storage{image, size, fail_every};
  const bakefs_source source{&storage, &Storage::read, size};
  bakefs_fs* a = nullptr;
  bakefs_fs* b = nullptr;
  const int ma = bakefs_mount(image, size, &pa.callbacks(), &options, &a);
  const int mb = bakefs_mount_source(&source, &pb.callbacks(), &options, &b);
  require(ma != BAKEFS_EIO && (mb == ma || (fail_every != 0 && mb == BAKEFS_EIO)),
          "lockstep-mount");
  require((mb == BAKEFS_OK) == (b != nullptr), "lockstep-mount-out");
  if (a != nullptr && b != nullptr) Lockstep(a, b, fail_every != 0).run();
  if (a != nullptr) bakefs_unmount(a);
  if (b != nullptr) bakefs_unmount(b);
  pa.require_released();
  pb.require_released();
}

}  // namespace bakefs::fuzz
