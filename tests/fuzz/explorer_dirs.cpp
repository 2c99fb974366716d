// The explorer on directories: the walk from the root, readdir and its resumption, lookup.
// SPDX-License-Identifier: BSD-2-Clause
#include "explorer.h"

#include <algorithm>
#include <cstring>

namespace bakefs::fuzz {
namespace {

// Names that lookup should not find next to `name`: longer, shorter, one byte further.
std::vector<std::string> absent_variants(const std::string& name) {
  std::vector<std::string> out = {name + "~", name + std::string(1, '\0')};
  if (name.size() > 1) out.push_back(name.substr(0, name.size() - 1));
  std::string next = name;
  next.back() = static_cast<char>(next.back() + 1);
  out.push_back(next);
  return out;
}

}  // namespace

void Explorer::walk(bakefs_ino dir, std::vector<bakefs_ino>& ancestors) {
  if (ancestors.size() >= limits_.depth || listed_dirs_.size() >= limits_.directories || !more()) {
    return;
  }
  if (!listed_dirs_.insert(dir).second) {
    anomaly("check-missed:directory-reached-twice");
    return;
  }
  const Listing all = list(dir, 0, limits_.listed + 2);
  if (dir == fmt::kRootIno && all.entries.size() >= 2 && all.entries[1].ino != fmt::kRootIno) {
    anomaly("check-missed:root-parent");
  }
  const std::vector<bakefs_ino> children = exercise_dir(dir, all);
  check_resume(dir, all);
  ancestors.push_back(dir);
  for (bakefs_ino child : children) {
    if (std::find(ancestors.begin(), ancestors.end(), child) != ancestors.end()) {
      anomaly("check-missed:lookup-loop");
      continue;
    }
    walk(child, ancestors);
  }
  ancestors.pop_back();
}

Explorer::Listing Explorer::list(bakefs_ino dir, uint64_t pos, size_t limit) {
  struct Context {
    Listing* listing;
    size_t limit;
    bakefs_ino dir;
    bakefs_ino max_ino;
  };
  auto emit = [](void* ctx, const char* name, size_t length, bakefs_ino ino, uint32_t type,
                 uint64_t at, uint64_t next) -> int {
    auto& c = *static_cast<Context*>(ctx);
    require(name != nullptr && length >= 1 && length <= fmt::kMaxNameLength, "readdir-name-length");
    require(next == at + 1, "readdir-next");
    require(ino >= 1 && ino <= c.max_ino, "readdir-ino");
    if (!c.listing->entries.empty()) require(at == c.listing->entries.back().next, "readdir-order");
    const std::string_view n(name, length);
    if (at == 0) require(n == "." && ino == c.dir && type == (fmt::kTypeDir >> 12), "readdir-dot");
    if (at == 1) require(n == ".." && type == (fmt::kTypeDir >> 12), "readdir-dotdot");
    if (c.listing->entries.size() >= c.limit) {
      c.listing->stopped = true;
      c.listing->stopped_at = at;
      return 1;
    }
    c.listing->entries.push_back({std::string(n), ino, type, at, next});
    return 0;
  };
  Listing l;
  Context c{&l, limit, dir, stat_.max_ino};
  l.status = checked(bakefs_readdir(fs_, dir, pos, emit, &c));
  // EINVAL: the number (the root, or one the image gave) is no inode, as the second slot of
  // an extended inode is not.
  require(l.status == BAKEFS_OK || l.status == BAKEFS_ENOTDIR || l.status == BAKEFS_EINVAL ||
              is_damage(l.status),
          "readdir-status");
  if (l.status == BAKEFS_EINVAL) anomaly("check-missed:einval-for-image-inode");
  require(!l.stopped || l.status == BAKEFS_OK, "readdir-stop-ok");
  if (!l.entries.empty()) require(l.entries.front().pos == pos, "readdir-first-pos");
  std::string digest;
  for (const Dirent& e : l.entries) {
    if (e.pos >= 2 && (e.name == "." || e.name == ".." ||
                       e.name.find_first_of(std::string("/\0", 2)) != std::string::npos)) {
      anomaly("check-missed:readdir-bad-name");
    }
    const uint64_t fields[] = {e.ino, e.type, e.pos, e.name.size()};
    digest.append(reinterpret_cast<const char*>(fields), sizeof(fields));
    digest += e.name;
  }
  t_.record("readdir", dir, pos, l.status, digest.data(), digest.size());
  return l;
}

int Explorer::lookup(bakefs_ino dir, std::string_view name, const Listing& all, bakefs_ino& out) {
  out = 0;
  int s = checked(bakefs_lookup(fs_, dir, name.data(), name.size(), &out));
  t_.record("lookup", dir, out, s, name.data(), name.size());
  require(s == BAKEFS_OK || s == BAKEFS_ENOENT || s == BAKEFS_ENOTDIR || s == BAKEFS_EINVAL ||
              is_damage(s),
          "lookup-status");
  if (s == BAKEFS_EINVAL) anomaly("check-missed:einval-for-image-inode");
  if (s != BAKEFS_OK) return s;
  require(out >= 1 && out <= stat_.max_ino, "lookup-ino");
  if (name == ".") {
    require(out == dir, "lookup-dot");
  } else if (name == "..") {
    if (all.entries.size() >= 2) require(out == all.entries[1].ino, "lookup-dotdot");
  } else if (all.complete()) {
    // Lookup finds only what readdir lists, whatever the order of the entries.
    bool listed = std::any_of(all.entries.begin() + 2, all.entries.end(),
                              [&](const Dirent& e) { return e.name == name && e.ino == out; });
    require(listed, "lookup-listed");
  }
  return s;
}

std::vector<bakefs_ino> Explorer::exercise_dir(bakefs_ino dir, const Listing& all) {
  std::vector<bakefs_ino> children;
  if (all.entries.empty()) return children;  // not a directory, or damaged
  bakefs_ino out = 0;
  require(lookup(dir, ".", all, out) == BAKEFS_OK, "lookup-dot");
  if (all.entries.size() >= 2) require(lookup(dir, "..", all, out) == BAKEFS_OK, "lookup-dotdot");
  require(lookup(dir, "", all, out) == BAKEFS_ENOENT, "lookup-empty");
  require(lookup(dir, std::string(fmt::kMaxNameLength + 1, 'n'), all, out) == BAKEFS_ENOENT,
          "lookup-too-long");
  const Listing none;
  for (size_t i = 2; i < all.entries.size() && more(); ++i) {
    const Dirent& e = all.entries[i];
    auto known = attrs_.find(e.ino);
    if (known != attrs_.end() && known->second.mode >> 12 != e.type) {
      anomaly("check-missed:readdir-type");
    }
    // An entry named "." or ".." (damage readdir lets through) is shadowed by the real ones.
    if (e.name == "." || e.name == "..") continue;
    int s = lookup(dir, e.name, all, out);
    if (s == BAKEFS_ENOENT) anomaly("check-missed:listed-name-not-found");
    bakefs_attr a;
    // getattr reads more than lookup does (a sparse file's hole count), and may fail.
    int g = s == BAKEFS_OK ? checked(bakefs_getattr(fs_, out, &a)) : s;
    require(g == BAKEFS_OK || is_damage(g) || s != BAKEFS_OK, "getattr-after-lookup");
    if (g == BAKEFS_OK && all.complete()) {
      bool match = std::any_of(all.entries.begin() + 2, all.entries.end(), [&](const Dirent& d) {
        return d.name == e.name && d.ino == out && d.type == a.mode >> 12;
      });
      require(match, "lookup-type");
    }
    if (g == BAKEFS_OK && type_of(a.mode) == fmt::kTypeDir) {
      children.push_back(out);
      bakefs_ino parent = 0;
      if (lookup(out, "..", none, parent) == BAKEFS_OK) require(parent == dir, "child-parent");
    }
    if (i < 6 || i + 1 == all.entries.size()) {
      for (const std::string& absent : absent_variants(e.name)) lookup(dir, absent, all, out);
    }
  }
  return children;
}

void Explorer::check_resume(bakefs_ino dir, const Listing& all) {
  if (all.entries.empty()) return;
  const uint64_t n = all.entries.size();
  const uint64_t starts[] = {1, 2, 3, n / 2, n - 1, n, n + 1, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t start : starts) {
    if (!more()) return;
    const Listing part = list(dir, start, 3);
    for (const Dirent& e : part.entries) {
      if (e.pos < n) require(e == all.entries[e.pos], "readdir-resume");
    }
    if (start < n) {
      // What the full listing read before, a resumed one reads again.
      require(part.entries.size() >= std::min<uint64_t>(3, n - start), "readdir-resume-count");
    } else if (all.complete()) {
      require(part.entries.empty() && part.status == BAKEFS_OK, "readdir-past-end");
    }
  }
  // A caller with a small buffer: batches, each resumed where the last one stopped.
  const size_t batch = 1 + dir % 4;
  const size_t goal = std::min<size_t>(n, 40);
  std::vector<Dirent> got;
  uint64_t pos = 0;
  bool ended = false;
  while (got.size() < goal && more()) {
    const Listing part = list(dir, pos, batch);
    got.insert(got.end(), part.entries.begin(), part.entries.end());
    if (!part.stopped) {
      ended = part.status == BAKEFS_OK;
      break;
    }
    require(part.entries.size() == batch && part.stopped_at == part.entries.back().next,
            "readdir-stop-pos");
    pos = part.stopped_at;
  }
  for (size_t i = 0; i < got.size() && i < n; ++i)
    require(got[i] == all.entries[i], "readdir-batches");
  if (ended && all.complete()) require(got.size() == n, "readdir-batches-count");
}

}  // namespace bakefs::fuzz
