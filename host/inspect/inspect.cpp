// ls, cat, stat, info and verify over the driver core.
// SPDX-License-Identifier: BSD-2-Clause
#include "inspect/inspect.h"

#include "inspect/image_walk.h"
#include "util/text_escape.h"

#include <bakefs/format.h>

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <vector>

namespace bakefs::tool {
namespace {

using format::kTypeMask;

// "bakefs: IMAGE: PATH: what", escaped; `message` or, when empty, the status's text.
void report(const OpenImage& image, const std::string& path, int status,
            const std::string& message = "") {
  std::fprintf(stderr, "bakefs: %s: %s: %s\n", escape_text(image.name).c_str(),
               escape_text(path.empty() ? "/" : path).c_str(),
               message.empty() ? bakefs_strerror(status) : escape_text(message).c_str());
}
void error(const OpenImage& image, const std::string& path, int status) {
  report(image, path, status);
}

// A name or a path as printed on standard output: escaped unless --raw.
std::string shown_text(const OpenImage& image, const std::string& text) {
  return image.raw ? text : escape_text(text);
}

std::string time_string(int64_t sec, uint32_t nsec, bool full) {
  time_t t = static_cast<time_t>(sec);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  if (!full) return buf;
  char ns[16];
  std::snprintf(ns, sizeof(ns), ".%09u", nsec);
  return std::string(buf) + ns + " UTC";
}

std::string join(const std::string& dir, const std::string& name) { return join_path(dir, name); }

int print_entry(const OpenImage& image, const std::string& path, const std::string& shown,
                bakefs_ino ino, bool long_format) {
  if (!long_format) {
    std::printf("%s\n", shown_text(image, shown).c_str());
    return BAKEFS_OK;
  }
  bakefs_attr a;
  int s = image.fs.getattr(ino, a);
  if (s != BAKEFS_OK) return s;
  std::string size = std::to_string(a.size);
  if ((a.mode & kTypeMask) == format::kTypeChar || (a.mode & kTypeMask) == format::kTypeBlock) {
    size = std::to_string(a.rdev_major) + ", " + std::to_string(a.rdev_minor);
  }
  std::string target;
  if ((a.mode & kTypeMask) == format::kTypeSymlink) {
    s = image.fs.readlink(ino, target);
    if (s != BAKEFS_OK) return s;
    target = " -> " + shown_text(image, target);
  }
  std::printf("%s %3u %5u %5u %10s %s %s%s\n", mode_string(a.mode).c_str(), a.nlink, a.uid, a.gid,
              size.c_str(), time_string(a.mtime_sec, a.mtime_nsec, false).c_str(),
              shown_text(image, shown).c_str(),
              target.c_str());
  (void)path;
  return BAKEFS_OK;
}

int list_dir(const OpenImage& image, const std::string& path, bakefs_ino dir, bool long_format,
             bool recursive) {
  // The listing of each directory as it is entered; with -R, subdirectories after it, in
  // order, each once (DirectoryWalk).
  class Lister : public DirectoryWalk {
   public:
    Lister(const OpenImage& image, bool long_format, bool recursive)
        : DirectoryWalk(image.fs), image_(image), long_(long_format), recursive_(recursive) {}
    int status = kExitOk;

   protected:
    bool enter(const Directory& dir) override {
      if (recursive_) {
        std::printf("%s%s:\n", first_ ? "" : "\n", shown_text(image_, dir.path).c_str());
      }
      first_ = false;
      for (const Dirent& e : dir.entries) {
        int s = print_entry(image_, join(dir.path, e.name), e.name, e.ino, long_);
        if (s != BAKEFS_OK) problem(join(dir.path, e.name), s, "");
      }
      return true;
    }
    bool entry(const Directory&, const Dirent& e, const std::string&) override {
      return recursive_ && (e.type << 12) == format::kTypeDir;
    }
    void problem(const std::string& where, int s, const std::string& message) override {
      report(image_, where, s, message);
      status = kExitFailure;
    }

   private:
    const OpenImage& image_;
    bool long_, recursive_;
    bool first_ = true;
  } lister(image, long_format, recursive);
  if (!lister.run(dir, path.empty() ? "/" : path)) lister.status = kExitFailure;
  return lister.status;
}

// Statistics of the whole image, gathered by walking every inode and every extent.
struct Census {
  uint64_t files = 0, directories = 0, symlinks = 0, devices = 0, fifos = 0, sockets = 0;
  uint64_t file_bytes = 0;  // sum of sizes
  uint64_t hole_bytes = 0;
  uint64_t referenced = 0;  // stored file bytes as the files see them (holes excluded)
  uint64_t distinct = 0;    // of those, the bytes of distinct pieces of blocks
  uint64_t raw_blocks = 0, compressed_blocks = 0, fragment_blocks = 0;
  uint64_t hard_links = 0;  // names beyond the first
  uint64_t xattr_inodes = 0;
};

int take_census(const OpenImage& image, Census& c) {
  bakefs_fsstat st;
  image.fs.statfs(st);
  std::set<uint32_t> blocks, fragments;
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> pieces;  // (block, offset, length)
  for (bakefs_ino ino = 1; ino <= st.max_ino; ++ino) {
    bakefs_attr a;
    int s = image.fs.getattr(ino, a);
    if (s == BAKEFS_EINVAL) continue;  // the second slot of an extended inode
    if (s != BAKEFS_OK) return s;
    std::vector<std::string> names;
    if (image.fs.listxattr(ino, names) == BAKEFS_OK && !names.empty()) ++c.xattr_inodes;
    switch (a.mode & kTypeMask) {
      case format::kTypeRegular: {
        ++c.files;
        if (a.nlink > 1) c.hard_links += a.nlink - 1;
        c.file_bytes += a.size;
        struct Walk {
          Census* c;
          std::set<uint32_t>* blocks;
          std::set<uint32_t>* fragments;
          std::set<std::tuple<uint32_t, uint32_t, uint32_t>>* pieces;
        } walk{&c, &blocks, &fragments, &pieces};
        auto emit = [](void* ctx, const bakefs_extent* e) {
          auto* w = static_cast<Walk*>(ctx);
          if (e->block == BAKEFS_HOLE) {
            w->c->hole_bytes += e->length;
            return 0;
          }
          w->c->referenced += e->length;
          if (w->pieces->emplace(e->block, e->in_block, e->length).second)
            w->c->distinct += e->length;
          if (w->blocks->insert(e->block).second) {
            if (e->flags & BAKEFS_EXTENT_FRAGMENT) w->fragments->insert(e->block);
            if (e->stored_size == e->raw_size) {
              ++w->c->raw_blocks;
            } else {
              ++w->c->compressed_blocks;
            }
          }
          return 0;
        };
        s = bakefs_extents(image.fs.get(), ino, emit, &walk);
        if (s != BAKEFS_OK) return s;
        break;
      }
      case format::kTypeDir:
        ++c.directories;
        break;
      case format::kTypeSymlink:
        ++c.symlinks;
        if (a.nlink > 1) c.hard_links += a.nlink - 1;
        break;
      case format::kTypeChar:
      case format::kTypeBlock:
        ++c.devices;
        if (a.nlink > 1) c.hard_links += a.nlink - 1;
        break;
      case format::kTypeFifo:
        ++c.fifos;
        if (a.nlink > 1) c.hard_links += a.nlink - 1;
        break;
      case format::kTypeSocket:
        ++c.sockets;
        if (a.nlink > 1) c.hard_links += a.nlink - 1;
        break;
      default:
        break;
    }
  }
  c.fragment_blocks = fragments.size();
  return BAKEFS_OK;
}

std::vector<std::string> feature_names(uint32_t incompat, uint32_t compat) {
  std::vector<std::string> names;
  if (incompat & format::kIncompatZstd) names.push_back("zstd");
  if (incompat & format::kIncompatDictionary) names.push_back("dictionary");
  if (incompat & format::kIncompatX86Filter) names.push_back("x86-filter");
  for (int bit = 3; bit < 32; ++bit) {
    if (incompat & (1u << bit)) names.push_back("incompat-" + std::to_string(bit));
  }
  if (compat & format::kCompatBoot) names.push_back("boot-records");
  for (int bit = 1; bit < 32; ++bit) {
    if (compat & (1u << bit)) names.push_back("compat-" + std::to_string(bit));
  }
  return names;
}

}  // namespace

int read_stored(const OpenImage& image, bakefs_ino ino, std::vector<char>& buf,
                const std::function<void(uint64_t offset, const char* data, size_t length)>& fn) {
  struct Run {
    uint64_t offset = 0, length = 0;
  };
  std::vector<Run> runs;
  auto collect = [](void* ctx, const bakefs_extent* e) {
    auto* list = static_cast<std::vector<Run>*>(ctx);
    if (e->block == BAKEFS_HOLE) return 0;
    if (!list->empty() && list->back().offset + list->back().length == e->file_offset) {
      list->back().length += e->length;
    } else {
      list->push_back({e->file_offset, e->length});
    }
    return 0;
  };
  int s = bakefs_extents(image.fs.get(), ino, collect, &runs);
  if (s != BAKEFS_OK) return s;
  for (const Run& r : runs) {
    for (uint64_t offset = r.offset, end = r.offset + r.length; offset < end;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - offset));
      size_t done = 0;
      s = image.fs.read(ino, offset, buf.data(), want, done);
      if (s != BAKEFS_OK) return s;
      if (done != want) return BAKEFS_ECORRUPT;
      fn(offset, buf.data(), done);
      offset += done;
    }
  }
  return BAKEFS_OK;
}

std::string mode_string(uint32_t mode) {
  static const std::map<uint32_t, char> kTypes = {{format::kTypeDir, 'd'}, {format::kTypeSymlink, 'l'}, {format::kTypeChar, 'c'},
                                                  {format::kTypeBlock, 'b'}, {format::kTypeFifo, 'p'}, {format::kTypeSocket, 's'}};
  auto it = kTypes.find(mode & kTypeMask);
  std::string s(1, it == kTypes.end() ? '-' : it->second);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (0400u >> i)) ? rwx[i] : '-';
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  return s;
}

bool resolve(const OpenImage& image, const std::string& path, bakefs_ino& ino,
             std::string* reached, bool follow_last) {
  std::string canonical;
  int s = image.follow ? image.fs.resolve_following(path, ino, follow_last, &canonical)
                       : image.fs.resolve(path, ino);
  if (reached != nullptr) *reached = image.follow ? canonical : path.empty() ? "/" : path;
  if (s == BAKEFS_OK) return true;
  error(image, path, s);
  return false;
}

int ls(const OpenImage& image, const std::string& path, bool long_format, bool recursive) {
  // As ls does: a symlink named last is shown itself with -l, and without -l (or with a
  // trailing '/') the directory it leads to is listed.
  bakefs_ino ino;
  if (!resolve(image, path, ino, nullptr, false)) return kExitFailure;
  bakefs_attr a;
  int s = image.fs.getattr(ino, a);
  if (s == BAKEFS_OK && (a.mode & kTypeMask) == format::kTypeSymlink && image.follow &&
      (!long_format || (!path.empty() && path.back() == '/'))) {
    bakefs_ino target;
    bakefs_attr ta;
    if (image.fs.resolve_following(path, target) == BAKEFS_OK &&
        image.fs.getattr(target, ta) == BAKEFS_OK && (ta.mode & kTypeMask) == format::kTypeDir) {
      ino = target;
      a = ta;
    }
  }
  if (s != BAKEFS_OK) {
    error(image, path, s);
    return kExitFailure;
  }
  std::string shown = path.empty() ? "/" : path;
  if ((a.mode & kTypeMask) != format::kTypeDir) {
    s = print_entry(image, shown, shown, ino, long_format);
    if (s != BAKEFS_OK) error(image, path, s);
    return s == BAKEFS_OK ? kExitOk : kExitFailure;
  }
  return list_dir(image, shown == "/" ? "" : shown, ino, long_format, recursive);
}

int cat(const OpenImage& image, const std::string& path) {
  bakefs_ino ino;
  if (!resolve(image, path, ino)) return kExitFailure;
  bakefs_attr attr;
  if (int s = image.fs.getattr(ino, attr); s != BAKEFS_OK) {
    error(image, path, s);
    return kExitFailure;
  }
  if ((attr.mode & kTypeMask) == format::kTypeSymlink) {  // only with --no-follow
    std::string target;
    image.fs.readlink(ino, target);
    report(image, path, BAKEFS_EINVAL,
           "a symbolic link (to " + target + "), not a file: without --no-follow it is followed");
    return kExitFailure;
  }
  std::vector<char> buf(1 << 20);
  for (uint64_t offset = 0;;) {
    size_t done = 0;
    int s = image.fs.read(ino, offset, buf.data(), buf.size(), done);
    if (s != BAKEFS_OK) {
      error(image, path, s);
      return kExitFailure;
    }
    if (done == 0) break;
    if (std::fwrite(buf.data(), 1, done, stdout) != done) {
      std::perror("bakefs: write");
      return kExitFailure;
    }
    offset += done;
  }
  return kExitOk;
}

int stat(const OpenImage& image, const std::string& path) {
  bakefs_ino ino;
  std::string reached;
  if (!resolve(image, path, ino, &reached)) return kExitFailure;
  bakefs_attr a;
  int s = image.fs.getattr(ino, a);
  std::vector<std::string> xattrs;
  if (s == BAKEFS_OK) s = image.fs.listxattr(ino, xattrs);
  std::string target;
  if (s == BAKEFS_OK && (a.mode & kTypeMask) == format::kTypeSymlink) s = image.fs.readlink(ino, target);
  if (s != BAKEFS_OK) {
    error(image, path, s);
    return kExitFailure;
  }
  const std::string asked = path.empty() ? "/" : path;
  std::printf("  File: %s%s\n", shown_text(image, asked).c_str(),
              target.empty() ? "" : (" -> " + shown_text(image, target)).c_str());
  // Symlinks on the way (or at the end) were followed: where that led.
  if (reached != asked && reached != "/" + asked) {
    std::printf("    At: %s\n", shown_text(image, reached).c_str());
  }
  std::printf("  Size: %llu\tBlocks: %llu\tIO Block: %u\n", static_cast<unsigned long long>(a.size),
              static_cast<unsigned long long>(a.blocks), a.block_size);
  std::printf(" Inode: %u\tLinks: %u", a.ino, a.nlink);
  if ((a.mode & kTypeMask) == format::kTypeChar || (a.mode & kTypeMask) == format::kTypeBlock) {
    std::printf("\tDevice type: %u,%u", a.rdev_major, a.rdev_minor);
  }
  std::printf("\nAccess: (%04o/%s)\tUid: %u\tGid: %u\n", a.mode & 07777,
              mode_string(a.mode).c_str(), a.uid, a.gid);
  std::printf("Modify: %s\n", time_string(a.mtime_sec, a.mtime_nsec, true).c_str());
  for (const auto& name : xattrs) {
    std::string value;
    if (image.fs.getxattr(ino, name, value) != BAKEFS_OK) continue;
    bool text = !value.empty();
    for (unsigned char ch : value) text = text && ch >= 32 && ch < 127;
    std::printf(" Xattr: %s=%s\n", shown_text(image, name).c_str(),
                text ? ("\"" + value + "\"").c_str()
                     : ("(" + std::to_string(value.size()) + " bytes)").c_str());
  }
  return kExitOk;
}

int info(const OpenImage& image, bool json) {
  bakefs_fsstat st;
  image.fs.statfs(st);
  Census c;
  int s = take_census(image, c);
  if (s != BAKEFS_OK) {
    error(image, "/", s);
    return kExitFailure;
  }
  uint64_t metadata = st.image_size - format::kSuperblockSize - st.stored_bytes;
  uint64_t stored_file_bytes = c.file_bytes - c.hole_bytes;
  double ratio = stored_file_bytes != 0
                     ? static_cast<double>(st.stored_bytes) / static_cast<double>(stored_file_bytes)
                     : 0.0;
  nlohmann::ordered_json j;
  j["image"] = image.name;
  j["offset"] = image.offset;
  j["version"] = std::to_string(st.version_major) + "." + std::to_string(st.version_minor);
  j["features"] = feature_names(st.feature_incompat, st.feature_compat);
  j["block_size"] = st.block_size;
  j["build_time"] = time_string(st.build_time_sec, st.build_time_nsec, true);
  j["image_bytes"] = st.image_size;
  j["inodes"] = st.inode_count;
  j["files"] = c.files;
  j["directories"] = c.directories;
  j["symlinks"] = c.symlinks;
  j["devices"] = c.devices;
  j["fifos"] = c.fifos;
  j["sockets"] = c.sockets;
  j["extra_hard_links"] = c.hard_links;
  j["inodes_with_xattrs"] = c.xattr_inodes;
  j["file_bytes"] = c.file_bytes;
  j["hole_bytes"] = c.hole_bytes;
  j["data_bytes"] = st.stored_bytes;
  j["metadata_bytes"] = metadata;
  j["stored_blocks"] = st.block_count;
  j["compressed_blocks"] = c.compressed_blocks;
  j["raw_blocks"] = c.raw_blocks;
  j["fragment_blocks"] = c.fragment_blocks;
  j["compression_ratio"] = ratio;
  j["dedup_saved_bytes"] = c.referenced - c.distinct;
  std::string launch_config;
  if (image.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, launch_config) == BAKEFS_OK) {
    j["config_bytes"] = launch_config.size();
  }
  std::vector<std::string> tmpfs;
  if (int t = image.fs.boot_records(BAKEFS_BOOT_TMPFS, tmpfs); t != BAKEFS_OK) {
    error(image, "boot records", t);
    return kExitFailure;
  }
  if (!tmpfs.empty()) j["tmpfs"] = tmpfs;
  // The core's decoder, as the rump boot hook reads it: without a record, the image alone at /.
  uint32_t root_flags;
  (void)bakefs_boot_root(image.fs.get(), &root_flags);
  const bool union_root = (root_flags & BAKEFS_BOOT_ROOT_NOUNION) == 0;
  j["root_mount"] = union_root ? "union" : "plain";
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& [key, value] : j.items()) {
    std::string text;
    if (value.is_array()) {
      for (const auto& item : value) text += (text.empty() ? "" : " ") + item.get<std::string>();
    } else {
      text = value.is_string() ? value.get<std::string>() : value.dump();
    }
    std::printf("%-20s %s\n", (key + ":").c_str(), text.c_str());
  }
  return kExitOk;
}

int config(const OpenImage& image) {
  std::string bytes;
  int s = image.fs.boot_record(BAKEFS_BOOT_CONFIG, 0, bytes);
  if (s == BAKEFS_ENOENT) {
    std::fprintf(stderr, "bakefs: %s: no launch configuration in the image\n",
                 escape_text(image.name).c_str());
    return kExitFailure;
  }
  if (s != BAKEFS_OK) {
    error(image, "configuration", s);
    return kExitFailure;
  }
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

int verify(const OpenImage& image, bool quiet) {
  // Every checksum and structural rule of the image, then everything a reader can reach by
  // name, so that damage is also named by the paths it touches.
  std::vector<std::string> problems;
  int s = image.fs.check(problems, 1000);
  for (const auto& p : problems)
    std::fprintf(stderr, "bakefs: %s: %s\n", escape_text(image.name).c_str(),
                 escape_text(p).c_str());
  // Every path: its attributes, xattrs, target or stored bytes; every directory once.
  class Walker : public DirectoryWalk {
   public:
    explicit Walker(const OpenImage& image) : DirectoryWalk(image.fs), image_(image) {}
    uint64_t inodes = 0, bytes = 0;
    int failures = 0;

    // One path; false if it cannot be read.
    bool visit(bakefs_ino ino, const std::string& path) {
      ++inodes;
      bakefs_attr a;
      int st = image_.fs.getattr(ino, a);
      std::vector<std::string> names;
      if (st == BAKEFS_OK) st = image_.fs.listxattr(ino, names);
      for (const auto& name : names) {
        std::string value;
        if (st == BAKEFS_OK) st = image_.fs.getxattr(ino, name, value);
      }
      if (st == BAKEFS_OK && (a.mode & kTypeMask) == format::kTypeSymlink) {
        std::string target;
        st = image_.fs.readlink(ino, target);
      } else if (st == BAKEFS_OK && (a.mode & kTypeMask) == format::kTypeRegular) {
        // Every stored byte; holes hold none.
        st = read_stored(image_, ino, buf_, [&](uint64_t, const char*, size_t n) { bytes += n; });
      }
      if (st == BAKEFS_OK) return true;
      problem(path, st, "");
      return false;
    }

   protected:
    bool entry(const Directory& dir, const Dirent& e, const std::string& path) override {
      bakefs_ino child;
      int st = image_.fs.lookup(dir.ino, e.name, child);
      if (st == BAKEFS_OK && child != e.ino) st = BAKEFS_ECORRUPT;  // readdir and lookup agree
      if (st != BAKEFS_OK) {
        problem(path, st, "");
        return false;
      }
      return visit(child, path) && (e.type << 12) == format::kTypeDir;
    }
    void problem(const std::string& path, int status, const std::string& message) override {
      report(image_, path, status, message);
      ++failures;
    }

   private:
    const OpenImage& image_;
    std::vector<char> buf_ = std::vector<char>(1 << 20);
  } walker{image};
  if (walker.visit(BAKEFS_ROOT_INO, "/")) walker.run(BAKEFS_ROOT_INO, "/");
  if (s == BAKEFS_OK && walker.failures == 0) {
    if (!quiet) {
      std::printf(
          "%s: sound: %llu names reached, %llu stored bytes of files read, every checksum holds\n",
          escape_text(image.name).c_str(), static_cast<unsigned long long>(walker.inodes),
          static_cast<unsigned long long>(walker.bytes));
    }
    return kExitOk;
  }
  std::fprintf(stderr, "bakefs: %s: DAMAGED: %zu problems in the structure, %d paths unreadable\n",
               escape_text(image.name).c_str(), problems.size(), walker.failures);
  return kExitFailure;
}

}  // namespace bakefs::tool
