// bakefs-readall: read a whole image through the driver core, or a mounted directory through
// the kernel, with the access patterns of docs/PERFORMANCE.md: every file in tree order
// (cold, then warm), stat of every entry, every file in random order, and random 4 KiB reads.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/posix.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr size_t kChunk = 1u << 20;

struct File {
  std::string path;  // relative to the root
  uint64_t id;       // inode number in the image; unused for directories
  uint64_t size;
};

// What is read: an image through the driver, or a directory through system calls.
class Target {
 public:
  virtual ~Target() = default;
  // Visits every entry depth-first in directory order; stats each one.
  virtual void walk(const std::function<void(const File&, bool regular)>& visit) = 0;
  // Reads the whole file (in 1 MiB calls); returns the bytes read.
  virtual uint64_t read_file(const File& f, std::vector<uint8_t>& buf) = 0;
  virtual void read_at(const File& f, uint64_t offset, uint8_t* buf, size_t size) = 0;
  // Blocks decompressed since mount (a bakefs image; 0 for a directory): the read cost that
  // does not depend on the machine's load.
  virtual uint64_t decompressions() { return 0; }
};

class ImageTarget : public Target {
 public:
  ImageTarget(const std::string& path, const bakefs_mount_options& options, bool spans)
      : m_(bakefs::posix::MountedImage::open(path, &options, true)), spans_(spans) {}

  void walk(const std::function<void(const File&, bool)>& visit) override {
    walk_dir(BAKEFS_ROOT_INO, "", visit);
  }
  uint64_t read_file(const File& f, std::vector<uint8_t>& buf) override {
    if (spans_) return read_spans(f, buf);
    uint64_t total = 0;
    for (;;) {
      size_t done = 0;
      check(m_.fs.read(static_cast<bakefs_ino>(f.id), total, buf.data(), buf.size(), done), f.path);
      total += done;
      if (done < buf.size()) return total;
    }
  }
  void read_at(const File& f, uint64_t offset, uint8_t* buf, size_t size) override {
    size_t done = 0;
    check(m_.fs.read(static_cast<bakefs_ino>(f.id), offset, buf, size, done), f.path);
  }
  uint64_t decompressions() override {
    bakefs_fsstat st;
    check(m_.fs.statfs(st), "statfs");
    return st.decompressions;
  }

 private:
  static void check(int status, const std::string& what) {
    bakefs::posix::throw_on_error(status, what);
  }
  // As a FUSE reply is made: a handle, then the spans of each buffer-sized range (copied into
  // the buffer here, where FUSE hands them to writev).
  uint64_t read_spans(const File& f, std::vector<uint8_t>& buf) {
    bakefs_file file;
    check(m_.fs.open(static_cast<bakefs_ino>(f.id), file), f.path);
    bakefs_span spans[64];
    uint64_t total = 0;
    for (size_t used = 0;; used = 0) {
      while (used < buf.size()) {
        size_t count = 0;
        check(m_.fs.read_spans(file, total, buf.size() - used, spans, 64, count), f.path);
        if (count == 0) break;
        for (size_t i = 0; i < count; ++i) {
          if (spans[i].data != nullptr) {
            std::memcpy(buf.data() + used, spans[i].data, spans[i].length);
          } else {
            std::memset(buf.data() + used, 0, spans[i].length);
          }
          used += spans[i].length;
          total += spans[i].length;
        }
        m_.fs.release(spans, count);
      }
      if (used < buf.size()) return total;
    }
  }
  void walk_dir(bakefs_ino dir, const std::string& prefix,
                const std::function<void(const File&, bool)>& visit) {
    std::vector<bakefs::Dirent> entries;
    check(m_.fs.readdir(dir, entries), prefix);
    for (const auto& e : entries) {
      // Look the name up as a path walk would, then stat it.
      bakefs_ino ino = 0;
      check(m_.fs.lookup(dir, e.name, ino), prefix + e.name);
      bakefs_attr attr;
      check(m_.fs.getattr(ino, attr), prefix + e.name);
      File f{prefix + e.name, ino, attr.size};
      bool regular = (attr.mode & 0170000) == 0100000;
      visit(f, regular);
      if ((attr.mode & 0170000) == 0040000) walk_dir(ino, f.path + "/", visit);
    }
  }
  bakefs::posix::MountedImage m_;
  bool spans_;
};

class DirTarget : public Target {
 public:
  explicit DirTarget(std::string root) : root_(std::move(root)) {
    root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0) fail(root_);
  }
  ~DirTarget() override { ::close(root_fd_); }

  void walk(const std::function<void(const File&, bool)>& visit) override {
    walk_dir(::dup(root_fd_), "", visit);
  }
  uint64_t read_file(const File& f, std::vector<uint8_t>& buf) override {
    int fd = ::openat(root_fd_, f.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail(f.path);
    uint64_t total = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) fail(f.path);
      total += static_cast<uint64_t>(n);
      if (n == 0) break;
    }
    ::close(fd);
    return total;
  }
  void read_at(const File& f, uint64_t offset, uint8_t* buf, size_t size) override {
    int fd = ::openat(root_fd_, f.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || ::pread(fd, buf, size, static_cast<off_t>(offset)) < 0) fail(f.path);
    ::close(fd);
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
  }
  void walk_dir(int fd, const std::string& prefix,
                const std::function<void(const File&, bool)>& visit) {
    DIR* d = fdopendir(fd);
    if (d == nullptr) fail(prefix);
    rewinddir(d);  // a dup shares the offset of the descriptor it copies
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        names.emplace_back(e->d_name);
    }
    for (const auto& name : names) {
      struct stat st;
      if (fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail(prefix + name);
      File f{prefix + name, static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size)};
      visit(f, S_ISREG(st.st_mode));
      if (S_ISDIR(st.st_mode)) {
        int child = ::openat(dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (child < 0) fail(f.path);
        walk_dir(child, f.path + "/", visit);
      }
    }
    closedir(d);
  }
  std::string root_;
  int root_fd_ = -1;
};

// Empties the kernel's page, dentry and inode caches (root only): what "cold" means for a
// mount, and for the image file under the in-process reader.
void drop_caches() {
  ::sync();
  FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
  if (f == nullptr || std::fputs("3\n", f) < 0 || std::fclose(f) != 0) {
    throw std::runtime_error("cannot write /proc/sys/vm/drop_caches (--drop-caches needs root)");
  }
}

double seconds_of(const std::function<void()>& work) {
  auto start = std::chrono::steady_clock::now();
  work();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return took.count();
}

uint64_t next_random(uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: bakefs-readall [--random N] [--cache MIB] [--cold-only] [--spans] [--drop-caches]\n"
      "                      (IMAGE | --dir DIR)\n"
      "Reads every file of a bakefs IMAGE through the driver core (a fresh mount:\n"
      "the driver's cache is cold, the image file may be in the page cache), or of\n"
      "a mounted DIR, and prints the seconds of each pass:\n"
      "  cold      every file in tree order, first pass\n"
      "  warm      the same again\n"
      "  stat      lookup and stat of every entry\n"
      "  shuffled  every file in random order\n"
      "  random4k  N (10000) random 4 KiB reads, uniform over the file bytes\n"
      "and, for an IMAGE, the blocks the core decompressed in the cold and random4k\n"
      "passes (cold_blocks, random_blocks: a read cost that the machine's load does\n"
      "not change);\n"
      "--cache sets the driver's block cache (default: the driver's, 8 MiB);\n"
      "--cold-only stops after the first pass (for valgrind --tool=callgrind);\n"
      "--spans reads whole files through bakefs_file_read spans, as the FUSE daemon\n"
      "does, instead of bakefs_read;\n"
      "--drop-caches (root) drops the kernel's caches before the first pass, and adds\n"
      "stat_cold and random4k_cold passes after a drop (random4k then reads the same\n"
      "pages again, warm).\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  bool dir = false;
  long random_reads = 10000;
  bool cold_only = false;
  bool spans = false;
  bool drop = false;
  bakefs_mount_options options{};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir") {
      dir = true;
    } else if (a == "--cold-only") {
      cold_only = true;
    } else if (a == "--spans") {
      spans = true;
    } else if (a == "--drop-caches") {
      drop = true;
    } else if (a == "--cache" && i + 1 < argc) {
      options.cache_bytes = static_cast<size_t>(std::atol(argv[++i])) << 20;
    } else if (a == "--random" && i + 1 < argc) {
      random_reads = std::atol(argv[++i]);
    } else if (!a.empty() && a[0] != '-' && path.empty()) {
      path = a;
    } else {
      return usage();
    }
  }
  if (path.empty()) return usage();
  try {
    std::unique_ptr<Target> t;
    if (dir) {
      t = std::make_unique<DirTarget>(path);
    } else {
      t = std::make_unique<ImageTarget>(path, options, spans);
    }
    std::vector<uint8_t> buf(kChunk);
    std::vector<File> files;
    uint64_t bytes = 0, entries = 0;
    if (drop) drop_caches();
    double cold = seconds_of([&] {
      t->walk([&](const File& f, bool regular) {
        ++entries;
        if (!regular) return;
        bytes += t->read_file(f, buf);
        files.push_back(f);
      });
    });
    const uint64_t cold_blocks = t->decompressions();
    if (cold_only) {
      std::printf("entries=%llu files=%zu bytes=%llu cold=%.4f cold_blocks=%llu\n",
                  static_cast<unsigned long long>(entries), files.size(),
                  static_cast<unsigned long long>(bytes), cold,
                  static_cast<unsigned long long>(cold_blocks));
      return 0;
    }
    double warm = seconds_of([&] {
      t->walk([&](const File& f, bool regular) {
        if (regular) t->read_file(f, buf);
      });
    });
    double stat = seconds_of([&] { t->walk([](const File&, bool) {}); });
    std::vector<size_t> order(files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[next_random(state) % i]);
    double shuffled = seconds_of([&] {
      for (size_t i : order) t->read_file(files[i], buf);
    });
    // After the warm passes, so that they stay warm.
    double stat_cold = 0;
    if (drop) {
      drop_caches();
      stat_cold = seconds_of([&] { t->walk([](const File&, bool) {}); });
    }
    // Random 4 KiB reads: a byte uniform over all file bytes, its file, its 4 KiB page.
    std::vector<uint64_t> starts;
    uint64_t total = 0;
    for (const File& f : files) {
      starts.push_back(total);
      total += f.size;
    }
    // The same reads twice with --drop-caches: cold, then warm.
    auto random_pass = [&](uint64_t seed) {
      return seconds_of([&] {
        for (long i = 0; i < random_reads; ++i) {
          uint64_t byte = next_random(seed) % total;
          size_t k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), byte) -
                                         starts.begin() - 1);
          uint64_t offset = (byte - starts[k]) & ~uint64_t{4095};
          t->read_at(files[k], offset, buf.data(), 4096);
        }
      });
    };
    double random4k = 0, random4k_cold = 0;
    uint64_t random_blocks = 0;
    if (total > 0) {
      if (drop) {
        drop_caches();
        random4k_cold = random_pass(state);
      }
      const uint64_t before = t->decompressions();
      random4k = random_pass(state);
      random_blocks = t->decompressions() - before;
    }
    std::printf(
        "entries=%llu files=%zu bytes=%llu cold=%.4f warm=%.4f stat=%.4f shuffled=%.4f "
        "random4k=%.4f",
        static_cast<unsigned long long>(entries), files.size(),
        static_cast<unsigned long long>(bytes), cold, warm, stat, shuffled, random4k);
    if (drop) std::printf(" stat_cold=%.4f random4k_cold=%.4f", stat_cold, random4k_cold);
    // Names that hold no "cold=" or "random4k=", which the scripts look for.
    std::printf(" cold_blocks=%llu random_blocks=%llu\n",
                static_cast<unsigned long long>(cold_blocks),
                static_cast<unsigned long long>(random_blocks));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakefs-readall: %s\n", e.what());
    return 1;
  }
  return 0;
}
