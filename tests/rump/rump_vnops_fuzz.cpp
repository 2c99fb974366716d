// rump_vnops_fuzz: the rump kernel's vnode operations against arbitrary images. Each input
// image, and seeded mutations of it (half of them with every checksum recomputed, so that
// they reach the structural checks behind the checksums), is mounted both in a real
// user-space rump kernel (rump_sys_mount "bakefs" from memory) and in-process through the C
// ABI, and walked through the rump kernel's system calls: every directory read to its end,
// every name lstat'ed, `..` of every directory, every file read whole and in preads, every
// symlink read. The rump kernel must never panic or hang (the time bound), and what it
// answers must agree with the core: the same mount outcome, the same names and inode numbers,
// the same types, sizes and link counts, the same bytes, the same link targets, and an error
// (never data) wherever the core gives one. With --device each image is written to a file that
// the rump kernel has as a block device (etfs) and mounted from there (BAKEFS_RUMP_ARGS_DEVICE):
// the core then reads it through the kernel's buffer cache.
//
// Usage: rump_vnops_fuzz [--device] [--mutations N] [--seed S] [--mutation M] [--seconds T] PATH...
//   PATH: image files or directories of them. N mutations per input (default 16); S varies
//   them; --mutation M runs only mutation M of each input (0 is the input itself) to
//   reproduce a finding. Prints RUMP VNOPS FUZZ OK when nothing disagreed.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/bakefs.h>
#include <bakefs/posix.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern "C" {
#include <rump/rump.h>
#include <rump/rump_syscalls.h>
#include <rump/rumpdefs.h>
}

#include "bakefs_rump.h"
#include "netbsd_abi.h"
#include "fuzz_image.h"

namespace {

constexpr uint32_t kNbTypeMask = 0170000, kNbDir = 0040000, kNbRegular = 0100000,
                   kNbSymlink = 0120000;
constexpr int kWalkMax = 4096;       // directories walked per image
constexpr uint64_t kReadMax = 1 << 22; // bytes read per file

struct Stats {
  uint64_t images = 0, refused = 0, names = 0, bytes = 0, disagreements = 0;
};
Stats stats;
std::string current;  // what is being checked, for messages

void disagree(const char* what, const std::string& path) {
  ++stats.disagreements;
  if (stats.disagreements <= 50) std::printf("DISAGREE: %s: %s: %s\n", current.c_str(), path.c_str(), what);
}

uint64_t next_random(uint64_t& state) {  // splitmix64
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Mutation m (> 0) of `input`: 1 to 8 edits at seeded places (a bit, a byte, a 32- or 64-bit
// word set to a value that structures meet at their edges), then for odd m every checksum
// recomputed.
std::vector<uint8_t> mutate(const std::vector<uint8_t>& input, uint64_t seed, uint64_t m) {
  std::vector<uint8_t> out = input;
  if (m == 0 || out.size() < 8) return out;
  uint64_t state = seed ^ (m * 0xd1342543de82ef95ull);
  static const uint64_t kEdges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff,
                                    0x80000000u, 0xfffffffeu, 0xffffffffu, 0x8000000000000000ull,
                                    0xffffffffffffffffull};
  const uint64_t edits = 1 + next_random(state) % 8;
  for (uint64_t e = 0; e < edits; ++e) {
    const uint64_t r = next_random(state);
    const size_t at = static_cast<size_t>(next_random(state) % (out.size() - 8));
    switch (r % 4) {
      case 0: out[at] ^= static_cast<uint8_t>(1u << (r >> 8) % 8); break;
      case 1: out[at] = static_cast<uint8_t>(r >> 16); break;
      case 2: {
        const uint64_t v = kEdges[(r >> 8) % (sizeof(kEdges) / sizeof(kEdges[0]))];
        for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
        break;
      }
      default: {
        const uint64_t v = kEdges[(r >> 8) % (sizeof(kEdges) / sizeof(kEdges[0]))];
        for (int i = 0; i < 8; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
        break;
      }
    }
  }
  if (m % 2 == 1) out = bakefs::fuzz::fix_checksums(out.data(), out.size()).bytes;
  return out;
}

struct CoreEntry {
  std::string name;
  bakefs_ino ino;
};

int collect(void* ctx, const char* name, size_t length, bakefs_ino ino, uint32_t, uint64_t, uint64_t) {
  auto* list = static_cast<std::vector<CoreEntry>*>(ctx);
  if (list->size() > 100000) return 1;
  list->push_back({std::string(name, length), ino});
  return 0;
}

// The whole file through the core, or false on an error.
bool core_bytes(bakefs_fs* fs, bakefs_ino ino, uint64_t size, std::vector<uint8_t>& out) {
  out.assign(static_cast<size_t>(size), 0);
  uint64_t at = 0;
  while (at < size) {
    size_t done = 0;
    if (bakefs_read(fs, ino, at, out.data() + at, static_cast<size_t>(size - at), &done) != BAKEFS_OK) {
      return false;
    }
    if (done == 0) return false;  // short before the size the inode gives
    at += done;
  }
  return true;
}

void check_file(bakefs_fs* fs, const std::string& path, const nb_stat& st) {
  bakefs_attr a{};
  if (bakefs_getattr(fs, st.st_ino, &a) != BAKEFS_OK) return;  // lstat agreed already
  if (a.size > kReadMax) return;
  std::vector<uint8_t> want;
  const bool core_ok = core_bytes(fs, st.st_ino, a.size, want);
  const int fd = rump_sys_open(path.c_str(), RUMP_O_RDONLY);
  if (fd < 0) {
    if (core_ok) disagree("open failed where the core reads the file", path);
    return;
  }
  std::vector<uint8_t> got;
  bool rump_ok = true;
  uint8_t buf[20000];  // not a block size: requests straddle blocks
  for (;;) {
    const ssize_t n = rump_sys_read(fd, buf, sizeof(buf));
    if (n < 0) {
      rump_ok = false;
      break;
    }
    if (n == 0) break;
    got.insert(got.end(), buf, buf + n);
    if (got.size() > kReadMax + sizeof(buf)) {
      disagree("read ran past the size", path);
      break;
    }
  }
  stats.bytes += got.size();
  if (rump_ok && !core_ok) disagree("read gave data where the core gives an error", path);
  if (!rump_ok && core_ok) disagree("read failed where the core reads the file", path);
  if (rump_ok && core_ok && got != want) disagree("read gave other bytes than the core", path);
  if (core_ok && !want.empty()) {  // a pread at a few offsets, after the cache is warm
    for (uint64_t off : {uint64_t{0}, a.size / 2, a.size - 1}) {
      uint8_t b = 0;
      const ssize_t n = rump_sys_pread(fd, &b, 1, static_cast<int64_t>(off));
      if (n != 1 || b != want[off]) disagree("pread of one byte differs from the core", path);
    }
  }
  rump_sys_close(fd);
}

void check_symlink(bakefs_fs* fs, const std::string& path, const nb_stat& st) {
  char want[8192], got[8192];
  size_t length = 0;
  const bool core_ok = bakefs_readlink(fs, st.st_ino, want, sizeof(want), &length) == BAKEFS_OK;
  const ssize_t n = rump_sys_readlink(path.c_str(), got, sizeof(got));
  if ((n >= 0) != core_ok && !(core_ok && length > 1024 && n < 0)) {
    disagree(core_ok ? "readlink failed where the core reads the link" : "readlink gave a target where the core fails", path);
  } else if (n >= 0 && (static_cast<size_t>(n) != length || std::memcmp(want, got, length) != 0)) {
    disagree("readlink gave another target than the core", path);
  }
}

// The entry's attributes through both; false when they disagree or the rump lstat failed.
bool check_lstat(bakefs_fs* fs, const std::string& path, bakefs_ino ino, nb_stat& st) {
  const bool rump_ok = rump_sys_lstat(path.c_str(), reinterpret_cast<struct stat*>(&st)) == 0;
  bakefs_attr a{};
  const bool core_ok = bakefs_getattr(fs, ino, &a) == BAKEFS_OK;
  if (rump_ok && !core_ok) disagree("lstat succeeded where the core's getattr fails", path);
  if (!rump_ok) return false;
  if (!core_ok) return false;
  if (st.st_ino != ino) disagree("lstat gives another inode than the directory entry", path);
  if ((st.st_mode & kNbTypeMask) != (a.mode & kNbTypeMask) || (st.st_mode & 07777) != (a.mode & 07777)) {
    disagree("lstat gives another mode than the core", path);
  }
  if (static_cast<uint64_t>(st.st_size) != a.size) disagree("lstat gives another size than the core", path);
  if (st.st_nlink != a.nlink) disagree("lstat gives another link count than the core", path);
  return true;
}

// Reads a directory through the rump kernel: its names (without . and ..) and whether it
// was read to its end without an error.
bool rump_names(const std::string& dir, std::vector<CoreEntry>& out, uint64_t& dotdot) {
  const int fd = rump_sys_open(dir.c_str(), RUMP_O_RDONLY | RUMP_O_DIRECTORY);
  if (fd < 0) return false;
  char buf[8192];
  int n;
  while ((n = rump_sys_getdents(fd, buf, sizeof(buf))) > 0) {
    for (int at = 0; at < n;) {
      const auto* d = reinterpret_cast<const nb_dirent*>(buf + at);
      if (d->d_reclen == 0) break;
      at += d->d_reclen;
      const std::string name(d->d_name, d->d_namlen);
      if (name == ".") continue;
      if (name == "..") {
        dotdot = d->d_fileno;
        continue;
      }
      out.push_back({name, d->d_fileno});
      if (out.size() > 100000) break;
    }
  }
  rump_sys_close(fd);
  return n == 0;
}

void walk(bakefs_fs* fs) {
  struct Dir {
    std::string path;
    bakefs_ino ino, parent;
  };
  std::vector<Dir> queue{{"/mnt", BAKEFS_ROOT_INO, BAKEFS_ROOT_INO}};
  for (size_t done = 0; done < queue.size(); ++done) {
    const Dir dir = queue[done];
    std::vector<CoreEntry> want, got;
    const bool core_ok = bakefs_readdir(fs, dir.ino, 2, collect, &want) == BAKEFS_OK;
    uint64_t dotdot = 0;
    const bool rump_ok = rump_names(dir.path, got, dotdot);
    if (rump_ok && !core_ok) disagree("readdir ended cleanly where the core's fails", dir.path);
    if (got.size() > want.size()) disagree("readdir gave more names than the core", dir.path);
    for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
      if (got[i].name != want[i].name || got[i].ino != want[i].ino) {
        disagree("readdir gave another name or inode than the core", dir.path + "/" + got[i].name);
        break;
      }
    }
    if (rump_ok && core_ok && got.size() != want.size()) disagree("readdir gave fewer names than the core", dir.path);
    if (dotdot != 0 && dotdot != dir.parent && dir.path != "/mnt") disagree("`..` names another directory", dir.path);
    nb_stat up{};
    if (dir.path != "/mnt" && rump_sys_lstat((dir.path + "/..").c_str(), reinterpret_cast<struct stat*>(&up)) == 0 && up.st_ino != dir.parent) {
      disagree("lstat of `..` names another directory", dir.path);
    }
    for (const CoreEntry& e : got) {
      ++stats.names;
      const std::string path = dir.path + "/" + e.name;
      nb_stat st{};
      if (!check_lstat(fs, path, e.ino, st)) continue;
      switch (st.st_mode & kNbTypeMask) {
        case kNbRegular: check_file(fs, path, st); break;
        case kNbSymlink: check_symlink(fs, path, st); break;
        case kNbDir:
          if (queue.size() < kWalkMax) queue.push_back({path, e.ino, dir.ino});
          break;
        default: break;
      }
    }
  }
}

// --device: the file behind the block device kDevice, rewritten for each image.
std::string device_file;
constexpr const char* kDevice = "/dev/fuzzimg";

void run(const std::vector<uint8_t>& bytes) {
  ++stats.images;
  bakefs_fs* fs = nullptr;
  const bool core_ok = bakefs_mount(bytes.data(), bytes.size(), &bakefs::posix::platform(), nullptr, &fs) == BAKEFS_OK;
  bakefs_rump_args args{};
  args.version = BAKEFS_RUMP_ARGS_VERSION;
  args.image = bytes.data();
  args.length = bytes.size();
  args.cache_bytes = 3 * 4096;  // small: the walk takes the cache's miss paths too
  if (!device_file.empty()) {
    // The device's size is taken when it is registered: a new registration for each image.
    rump_pub_etfs_remove(kDevice);
    FILE* f = std::fopen(device_file.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
        std::fclose(f) != 0 || rump_pub_etfs_register(kDevice, device_file.c_str(), RUMP_ETFS_BLK) != 0) {
      std::fprintf(stderr, "rump_vnops_fuzz: the device file %s: %s\n", device_file.c_str(), std::strerror(errno));
      std::exit(2);
    }
    args.version = BAKEFS_RUMP_ARGS_DEVICE;
    args.image = kDevice;
    args.length = 0;
  }
  const bool rump_ok = rump_sys_mount("bakefs", "/mnt", RUMP_MNT_RDONLY, &args, sizeof(args)) == 0;
  if (core_ok != rump_ok) disagree(rump_ok ? "the rump kernel mounts what the core refuses" : "the rump kernel refuses what the core mounts", "/mnt");
  if (!core_ok) ++stats.refused;
  if (core_ok && rump_ok) walk(fs);
  if (rump_ok && rump_sys_unmount("/mnt", 0) != 0) disagree("unmount failed", "/mnt");
  if (core_ok) bakefs_unmount(fs);
}

bool read_whole(const std::string& path, std::vector<uint8_t>& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out.clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return true;
}

void add_inputs(const std::string& path, std::vector<std::string>& out) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "rump_vnops_fuzz: %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    out.push_back(path);
    return;
  }
  DIR* d = opendir(path.c_str());
  std::vector<std::string> names;
  while (dirent* e = d != nullptr ? readdir(d) : nullptr) {
    if (e->d_name[0] != '.') names.push_back(path + "/" + e->d_name);
  }
  if (d != nullptr) closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    struct stat s{};
    if (stat(n.c_str(), &s) == 0 && S_ISREG(s.st_mode)) out.push_back(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 16, seed = 1, only = UINT64_MAX, seconds = 600;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device") {
      char name[] = "/tmp/rump_vnops_fuzz.XXXXXX";
      const int fd = mkstemp(name);
      if (fd < 0) return 2;
      close(fd);
      device_file = name;
    } else if ((a == "--mutations" || a == "--seed" || a == "--mutation" || a == "--seconds") && i + 1 < argc) {
      const uint64_t v = std::strtoull(argv[++i], nullptr, 0);
      (a == "--mutations" ? mutations : a == "--seed" ? seed : a == "--mutation" ? only : seconds) = v;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "usage: rump_vnops_fuzz [--device] [--mutations N] [--seed S] [--mutation M] [--seconds T] PATH...\n");
      return 2;
    } else {
      add_inputs(a, inputs);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "rump_vnops_fuzz: no input images\n");
    return 2;
  }
  alarm(static_cast<unsigned>(seconds));  // a hang is a failure: SIGALRM ends the run
  if (rump_init() != 0 || rump_sys_mkdir("/mnt", 0755) != 0) {
    std::fprintf(stderr, "rump_init or mkdir /mnt failed\n");
    return 1;
  }
  const time_t start = std::time(nullptr);
  for (const std::string& path : inputs) {
    std::vector<uint8_t> input;
    if (!read_whole(path, input)) {
      std::fprintf(stderr, "rump_vnops_fuzz: %s: %s\n", path.c_str(), std::strerror(errno));
      return 2;
    }
    const uint64_t input_seed = bakefs::fuzz::hash_bytes(input.data(), input.size(), seed);
    for (uint64_t m = 0; m <= mutations; ++m) {
      if (only != UINT64_MAX && m != only) continue;
      current = path + " mutation " + std::to_string(m);
      run(mutate(input, input_seed, m));
    }
  }
  std::printf("%llu images (%llu refused at mount) from %zu inputs, %llu names and %llu bytes compared, "
              "%llu disagreements, %lld s\n",
              static_cast<unsigned long long>(stats.images), static_cast<unsigned long long>(stats.refused),
              inputs.size(), static_cast<unsigned long long>(stats.names),
              static_cast<unsigned long long>(stats.bytes),
              static_cast<unsigned long long>(stats.disagreements),
              static_cast<long long>(std::time(nullptr) - start));
  if (!device_file.empty()) unlink(device_file.c_str());
  std::printf(stats.disagreements == 0 ? "RUMP VNOPS FUZZ OK\n" : "RUMP VNOPS FUZZ FAILED\n");
  return stats.disagreements == 0 ? 0 : 1;
}
