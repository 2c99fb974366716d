// The explorer on other inodes: reads, maps and extents of files, symlinks and xattrs.
// SPDX-License-Identifier: BSD-2-Clause
#include "explorer.h"

#include <algorithm>
#include <cstring>

namespace bakefs::fuzz {

void Explorer::exercise_inode(bakefs_ino ino, const bakefs_attr& attr) {
  const uint32_t type = type_of(attr.mode);
  switch (type) {
    case fmt::kTypeRegular:
      exercise_file(ino, attr.size);
      break;
    case fmt::kTypeSymlink:
      exercise_symlink(ino, attr);
      break;
    case fmt::kTypeDir:
      if (listed_dirs_.size() < limits_.directories && listed_dirs_.insert(ino).second) {
        const Listing all = list(ino, 0, limits_.listed + 2);
        exercise_dir(ino, all);
        check_resume(ino, all);
      }
      break;
    default:
      break;
  }
  char small[16];
  size_t length = 0;
  if (type != fmt::kTypeSymlink) {
    int s = checked(bakefs_readlink(fs_, ino, small, sizeof(small), &length));
    require(s == BAKEFS_ENOTLNK, "readlink-type");
  }
  if (type != fmt::kTypeRegular) {
    const int expect = type == fmt::kTypeDir ? BAKEFS_EISDIR : BAKEFS_EINVAL;
    int s = checked(bakefs_read(fs_, ino, 0, small, sizeof(small), &length));
    require(s == expect && length == 0, "read-type");
    const void* p = nullptr;
    s = checked(bakefs_map(fs_, ino, 0, &p, &length));
    require(s == expect && p == nullptr && length == 0, "map-type");
  }
  if (type != fmt::kTypeDir) {
    const Listing none = list(ino, 0, 4);
    require(none.status == BAKEFS_ENOTDIR && none.entries.empty(), "readdir-not-dir");
    bakefs_ino out = 0;
    require(lookup(ino, "x", none, out) == BAKEFS_ENOTDIR, "lookup-not-dir");
  }
  exercise_xattrs(ino);
}

void Explorer::exercise_file(bakefs_ino ino, uint64_t size) {
  size_t done = 7;
  int s = checked(bakefs_read(fs_, ino, 0, nullptr, 0, &done));
  require(s == BAKEFS_OK && done == 0, "read-empty");
  const uint64_t bs = stat_.block_size;
  const uint64_t tail_start = size & ~(bs - 1);  // where the short last piece begins
  const uint64_t offsets[] = {0,
                              1,
                              bs - 1,
                              bs,
                              bs + 1,
                              2 * bs - 3,
                              size / 2,
                              (size / 2) & ~(bs - 1),
                              tail_start,
                              tail_start - 1,
                              size - 1,
                              size - 2,
                              size,
                              size + 1,
                              size + bs,
                              0xffffffffull,
                              0x100000000ull,
                              INT64_MAX,
                              UINT64_MAX};
  const size_t lengths[] = {1, 7, 511, bs - 1, bs, bs + 1, 3 * bs + 5, limits_.window};
  const size_t kinds = sizeof(lengths) / sizeof(lengths[0]);
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); ++i) {
    if (!more() || bytes_left_ == 0) break;
    const size_t length = static_cast<size_t>(
        std::min<uint64_t>({lengths[(ino + i) % kinds], limits_.window, bytes_left_}));
    read_window(ino, size, offsets[i], length, i);
  }
  walk_map(ino, size);
  exercise_extents(ino, size);
}

void Explorer::exercise_extents(bakefs_ino ino, uint64_t size) {
  struct Context {
    std::vector<bakefs_extent> extents;
    size_t limit;
    bool stopped;
  };
  auto emit = [](void* ctx, const bakefs_extent* e) -> int {
    auto& c = *static_cast<Context*>(ctx);
    require(e != nullptr, "extents-emit");
    if (c.extents.size() >= c.limit) {
      c.stopped = true;
      return 1;
    }
    c.extents.push_back(*e);
    return 0;
  };
  Context c{{}, 48, false};
  const int s = checked(bakefs_extents(fs_, ino, emit, &c));
  require(s == BAKEFS_OK || is_damage(s), "extents-status");
  require(!c.stopped || s == BAKEFS_OK, "extents-stop-ok");
  std::vector<uint64_t> fields;
  const uint64_t bs = stat_.block_size;
  uint64_t expect = 0;
  for (const bakefs_extent& e : c.extents) {
    fields.insert(fields.end(), {e.file_offset, e.length, e.block, e.in_block, e.raw_size,
                                 e.stored_size, e.flags});
    require(e.file_offset == expect && e.length > 0 && e.length <= size - e.file_offset,
            "extents-contiguous");
    if (e.block == BAKEFS_HOLE) {
      require(e.raw_size == 0 && e.stored_size == 0 && e.flags == 0, "extents-hole");
    } else {
      require(e.block < stat_.block_count && e.raw_size >= 1 && e.raw_size <= bs &&
                  e.stored_size >= 1 && e.stored_size <= e.raw_size && e.in_block <= e.raw_size &&
                  e.length <= e.raw_size - e.in_block && (e.flags & ~BAKEFS_EXTENT_FRAGMENT) == 0,
              "extents-block");
    }
    expect += e.length;
  }
  t_.record("extents", ino, c.extents.size(), s, fields.data(), fields.size() * sizeof(uint64_t));
  if (s == BAKEFS_OK && !c.stopped) require(expect == size, "extents-cover-file");
  // The first pieces through read and map: holes read as zeros and do not map, pieces of
  // compressed blocks do not map, raw ones map to exactly the piece.
  for (size_t i = 0; i < c.extents.size() && i < 6 && more(); ++i) {
    const bakefs_extent& e = c.extents[i];
    const bool hole = e.block == BAKEFS_HOLE;
    const size_t want = std::min<size_t>(e.length, 2048);
    std::vector<uint8_t> buf(want, kFill);
    size_t got = SIZE_MAX;
    const int r = checked(bakefs_read(fs_, ino, e.file_offset, buf.data(), want, &got));
    if (hole) {
      static const std::vector<uint8_t> zeros(2048, 0);
      require(r == BAKEFS_OK && got == want && std::memcmp(buf.data(), zeros.data(), want) == 0,
              "hole-reads-zero");
    }
    const void* p = nullptr;
    size_t length = SIZE_MAX;
    const int m = checked(bakefs_map(fs_, ino, e.file_offset, &p, &length));
    if (hole || e.stored_size != e.raw_size) {
      require(m == BAKEFS_ENOTSUP, "map-of-unmappable-extent");
      continue;
    }
    require(m == BAKEFS_OK || m == BAKEFS_ECHECKSUM, "map-of-raw-extent");
    if (m != BAKEFS_OK) continue;
    require(length == e.length, "map-length-is-extent");
    if (r == BAKEFS_OK) require(std::memcmp(p, buf.data(), want) == 0, "map-equals-read");
  }
}

void Explorer::read_window(bakefs_ino ino, uint64_t size, uint64_t offset, size_t length,
                           size_t variant) {
  std::vector<uint8_t> buf(length, kFill);
  size_t done = SIZE_MAX;
  int s = checked(bakefs_read(fs_, ino, offset, buf.data(), length, &done));
  bytes_left_ -= std::min<uint64_t>(bytes_left_, length);
  require(s == BAKEFS_OK || is_damage(s), "read-status");
  require(done <= length, "read-done");
  t_.record("read", offset, length, s, buf.data(), done);
  check_spans(ino, offset, buf.data(), s == BAKEFS_OK ? done : length, s);
  if (s != BAKEFS_OK) {
    check_map(ino, size, offset, nullptr, 0);
    return;
  }
  const uint64_t expect = offset >= size ? 0 : std::min<uint64_t>(length, size - offset);
  require(done == expect, "read-length");
  require(untouched(buf.data() + done, length - done), "read-past-done");
  // The same bytes again, through other call sizes and offsets.
  static constexpr size_t kChunks[] = {1, 3, 17, 512, 4093, 4099, 65537};
  for (size_t j = 0; j <= 8 && done > 0 && more(); ++j) {
    const size_t at = j < 8 ? done * j / 8 : done - std::min<size_t>(done, 5);
    const size_t want = std::min(kChunks[(variant + j) % 7], done - at);
    if (want == 0) continue;
    std::vector<uint8_t> part(want, kFill);
    size_t got = SIZE_MAX;
    int ps = checked(bakefs_read(fs_, ino, offset + at, part.data(), want, &got));
    require(ps == BAKEFS_OK && got == want, "read-subrange");
    require(std::memcmp(part.data(), buf.data() + at, want) == 0, "read-subrange-bytes");
  }
  check_map(ino, size, offset, buf.data(), done);
  if (done > 1) check_map(ino, size, offset + done / 2, buf.data() + done / 2, done - done / 2);
}

void Explorer::check_spans(bakefs_ino ino, uint64_t offset, const uint8_t* read_bytes,
                           size_t length, int read_status) {
  bakefs_file file{};
  int s = checked(bakefs_open(fs_, ino, &file));
  require(s == BAKEFS_OK || is_damage(s), "open-status");
  if (s != BAKEFS_OK) return;
  bakefs_span spans[3];
  size_t covered = 0;
  while (covered < length && more()) {
    size_t count = SIZE_MAX;
    s = checked(bakefs_file_read(fs_, &file, offset + covered, length - covered, spans, 3, &count));
    require(s == BAKEFS_OK || is_damage(s), "spans-status");
    require(s == BAKEFS_OK ? count <= 3 : count == 0, "spans-count");
    if (s != BAKEFS_OK || count == 0) break;
    for (size_t i = 0; i < count; ++i) {
      require(spans[i].length > 0 && spans[i].length <= length - covered, "span-length");
      if (read_status == BAKEFS_OK) {
        const uint8_t* want = read_bytes + covered;
        const bool same = spans[i].data != nullptr
                              ? std::memcmp(spans[i].data, want, spans[i].length) == 0
                              : std::all_of(want, want + spans[i].length,
                                            [](uint8_t b) { return b == 0; });
        require(same, "spans-equal-read");
      }
      covered += spans[i].length;
    }
    bakefs_release(fs_, spans, count);
  }
  // A read that failed fails here too once the spans reach the same place (they may stop
  // short of it where the budget of pins ends a call, and go on from there).
  if (read_status == BAKEFS_OK) require(s == BAKEFS_OK, "spans-fail-where-read-worked");
  bakefs_fsstat st{};
  require(bakefs_statfs(fs_, &st) == BAKEFS_OK && st.pinned == 0, "pins-given-back");
}

size_t Explorer::check_map(bakefs_ino ino, uint64_t size, uint64_t offset,
                           const uint8_t* read_bytes, size_t read_length, int* status) {
  static const uint8_t kSentinel = 0;
  const void* p = &kSentinel;
  size_t length = SIZE_MAX;
  int s = checked(bakefs_map(fs_, ino, offset, &p, &length));
  if (status != nullptr) *status = s;
  require(s == BAKEFS_OK || s == BAKEFS_ENOTSUP || is_damage(s), "map-status");
  if (s != BAKEFS_OK) {
    t_.record("map", offset, 0, s);
    return 0;
  }
  const auto* bytes = static_cast<const uint8_t*>(p);
  if (offset >= size) {
    require(length == 0, "map-eof");
    t_.record("map", offset, 0, s);
    return 0;
  }
  require(length > 0 && length <= stat_.block_size && length <= size - offset, "map-length");
  const auto begin = reinterpret_cast<uintptr_t>(image_);
  const auto at = reinterpret_cast<uintptr_t>(bytes);
  require(
      at >= begin && at - begin <= stat_.image_size && length <= stat_.image_size - (at - begin),
      "map-inside-image");
  t_.record("map", offset, length, s, bytes, length);
  if (read_bytes != nullptr) {
    const size_t n = std::min(length, read_length);
    require(std::memcmp(bytes, read_bytes, n) == 0, "map-equals-read");
    return length;
  }
  const size_t want = std::min<size_t>(length, 4096);
  std::vector<uint8_t> part(want, kFill);
  size_t got = SIZE_MAX;
  int rs = checked(bakefs_read(fs_, ino, offset, part.data(), want, &got));
  require(rs == BAKEFS_OK && got == want, "read-where-mapped");
  require(std::memcmp(bytes, part.data(), want) == 0, "map-equals-read");
  return length;
}

void Explorer::walk_map(bakefs_ino ino, uint64_t size) {
  const uint64_t bs = stat_.block_size;
  uint64_t offset = 0;
  for (int step = 0; step < 8 && offset < size && more(); ++step) {
    int s = BAKEFS_OK;
    const size_t length = check_map(ino, size, offset, nullptr, 0, &s);
    if (s == BAKEFS_ENOTSUP) {
      offset = (offset / bs + 1) * bs;
      continue;
    }
    if (s != BAKEFS_OK) return;
    offset += length;
  }
}

void Explorer::exercise_symlink(bakefs_ino ino, const bakefs_attr& attr) {
  size_t length = SIZE_MAX;
  int s = checked(bakefs_readlink(fs_, ino, nullptr, 0, &length));
  require(s == BAKEFS_OK || s == BAKEFS_ERANGE || is_damage(s), "readlink-status");
  t_.record("readlink-size", ino, is_damage(s) ? 0 : length, s);
  if (is_damage(s)) return;
  require(length == attr.size, "readlink-length");
  require((s == BAKEFS_OK) == (length == 0), "readlink-erange");
  if (length == 0) anomaly("check-missed:symlink-empty");
  if (length > limits_.buffer) return;
  std::vector<char> target(length, static_cast<char>(kFill));
  size_t got = SIZE_MAX;
  s = checked(bakefs_readlink(fs_, ino, target.data(), target.size(), &got));
  // The size comes from the inode alone: the target's bytes may still turn out damaged.
  require((s == BAKEFS_OK && got == length) || is_damage(s), "readlink-full");
  t_.record("readlink", ino, got, s, target.data(), s == BAKEFS_OK ? target.size() : 0);
  if (s != BAKEFS_OK) return;
  if (length != 0 && std::memchr(target.data(), '\0', length) != nullptr) {
    anomaly("check-missed:symlink-nul");
  }
  if (length == 0) return;
  std::vector<char> short_buf(length - 1, static_cast<char>(kFill));
  s = checked(bakefs_readlink(fs_, ino, short_buf.data(), short_buf.size(), &got));
  require(s == BAKEFS_ERANGE && got == length, "readlink-short");
  require(untouched(short_buf.data(), short_buf.size()), "readlink-short-untouched");
}

void Explorer::exercise_xattrs(bakefs_ino ino) {
  size_t needed = SIZE_MAX;
  int s = checked(bakefs_listxattr(fs_, ino, nullptr, 0, &needed));
  require(s == BAKEFS_OK || is_damage(s), "listxattr-status");
  t_.record("listxattr-size", ino, needed, s);
  size_t value_size = SIZE_MAX;
  s = checked(bakefs_getxattr(fs_, ino, "user.bakefs.fuzz.absent", nullptr, 0, &value_size));
  require(s == BAKEFS_OK || s == BAKEFS_ENODATA || is_damage(s), "getxattr-status");
  t_.record("getxattr-absent", ino, value_size, s);
  if (needed == 0 || needed > limits_.buffer || !more()) return;
  std::vector<char> names(needed, static_cast<char>(kFill));
  size_t again = SIZE_MAX;
  s = checked(bakefs_listxattr(fs_, ino, names.data(), names.size(), &again));
  require(s == BAKEFS_OK && again == needed, "listxattr-full");
  require(names.back() == '\0', "listxattr-terminated");
  t_.record("listxattr", ino, needed, s, names.data(), names.size());
  if (needed > 1) {
    std::vector<char> short_buf(needed - 1);
    s = checked(bakefs_listxattr(fs_, ino, short_buf.data(), short_buf.size(), &again));
    require(s == BAKEFS_ERANGE && again == needed, "listxattr-short");
  }
  size_t tried = 0;
  for (size_t start = 0; start < names.size() && tried < 64 && more(); ++tried) {
    const std::string name(names.data() + start);
    start += name.size() + 1;
    size_t size = SIZE_MAX;
    int g = checked(bakefs_getxattr(fs_, ino, name.c_str(), nullptr, 0, &size));
    // listxattr walked every entry, so getxattr meets no damage on its way.
    require(g == BAKEFS_OK || g == BAKEFS_ENODATA, "getxattr-after-list");
    t_.record("getxattr-size", ino, g == BAKEFS_OK ? size : 0, g, name.data(), name.size());
    if (g == BAKEFS_ENODATA) anomaly("check-missed:listed-xattr-not-found");
    if (g != BAKEFS_OK || size > limits_.buffer) continue;
    std::vector<uint8_t> value(size, kFill);
    size_t got = SIZE_MAX;
    g = checked(bakefs_getxattr(fs_, ino, name.c_str(), value.data(), value.size(), &got));
    require(g == BAKEFS_OK && got == size, "getxattr-full");
    t_.record("getxattr", ino, got, g, value.data(), value.size());
    if (size <= 1) continue;  // a size of 0 would only ask for the size
    std::vector<uint8_t> short_buf(size - 1, kFill);
    g = checked(bakefs_getxattr(fs_, ino, name.c_str(), short_buf.data(), short_buf.size(), &got));
    require(g == BAKEFS_ERANGE && got == size, "getxattr-short");
    require(untouched(short_buf.data(), short_buf.size()), "getxattr-short-untouched");
  }
}

}  // namespace bakefs::fuzz
