// Drives every call of the driver's C ABI over one mounted image and checks what must hold.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_FUZZ_EXPLORER_H
#define BAKEFS_TESTS_FUZZ_EXPLORER_H

#include <bakefs/bakefs.h>
#include <bakefs/format.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bakefs::fuzz {

namespace fmt = ::bakefs::format;

// Helpers shared by the explorer's files.
inline constexpr uint8_t kFill = 0xcc;  // what a buffer holds where a call must not write

inline bool is_damage(int status) {
  return status == BAKEFS_ECORRUPT || status == BAKEFS_ECHECKSUM;
}

inline uint32_t type_of(uint32_t mode) {
  return mode & fmt::kTypeMask;
}

inline bool known_type(uint32_t mode) {
  return fmt::known_type(mode);
}

// True if n bytes at p all still hold kFill.
bool untouched(const void* p, size_t n);

// Stops the process with __builtin_trap() (a crash for libFuzzer) unless `ok`, after naming
// the invariant on stderr. Names listed in the environment variable BAKEFS_FUZZ_ALLOW
// (comma-separated) are let through, so that fuzzing can go on past a known bug.
void require(bool ok, const char* invariant);

// What each call returned, folded into a digest: two mounts of equivalent images must end
// with equal digests. BAKEFS_FUZZ_TRACE=1 prints every record, to diff two runs.
class Transcript {
 public:
  explicit Transcript(const char* label);
  void record(const char* call, uint64_t a, uint64_t b, int status, const void* bytes = nullptr,
              size_t length = 0);
  // Text for the trace only, such as the problems that bakefs_check reports.
  void note(const std::string& text) const;
  uint64_t digest() const { return digest_; }

 private:
  const char* label_;
  bool trace_;
  uint64_t digest_ = 0;
};

// Work limits per mount, so that one input takes milliseconds whatever sizes it claims.
struct Limits {
  uint32_t inodes = 1024;         // inodes swept by getattr and exercised by type
  uint32_t depth = 24;            // directory levels walked from the root
  uint32_t directories = 128;     // directories listed
  size_t listed = 320;            // entries listed per directory
  uint64_t calls = 6000;          // driver calls
  uint64_t read_bytes = 1 << 20;  // bytes read
  size_t window = 40000;          // bytes per read call
  size_t buffer = 1 << 16;        // largest symlink target or xattr buffer fetched
};

class Explorer {
 public:
  Explorer(bakefs_fs* fs, const uint8_t* image, size_t length, Transcript& transcript,
           const Limits& limits = {});
  // statfs, a walk from the root, every inode by type, then bakefs_check; traps on a
  // violated invariant.
  void run();

 private:
  struct Dirent {
    std::string name;
    bakefs_ino ino;
    uint32_t type;
    uint64_t pos, next;
    bool operator==(const Dirent&) const = default;
  };
  struct Listing {
    std::vector<Dirent> entries;
    int status = BAKEFS_OK;
    bool stopped = false;  // emit said stop at stopped_at: more entries may follow
    uint64_t stopped_at = 0;
    bool complete() const { return status == BAKEFS_OK && !stopped; }
  };

  bool more() const { return calls_left_ > 0; }
  int checked(int status);
  void anomaly(const char* what);

  void check_arguments();
  void check_statfs();
  void sweep_inodes();
  void walk(bakefs_ino dir, std::vector<bakefs_ino>& ancestors);
  Listing list(bakefs_ino dir, uint64_t pos, size_t limit);
  std::vector<bakefs_ino> exercise_dir(bakefs_ino dir, const Listing& all);
  void check_resume(bakefs_ino dir, const Listing& all);
  int lookup(bakefs_ino dir, std::string_view name, const Listing& all, bakefs_ino& out);
  void exercise_inode(bakefs_ino ino, const bakefs_attr& attr);
  void exercise_file(bakefs_ino ino, uint64_t size);
  void read_window(bakefs_ino ino, uint64_t size, uint64_t offset, size_t length, size_t variant);
  // The same range through bakefs_file_read spans: the bytes bakefs_read gave (read_status
  // OK) or a clean stop; every pin given back.
  void check_spans(bakefs_ino ino, uint64_t offset, const uint8_t* read_bytes, size_t length,
                   int read_status);
  // Maps `offset` and compares with `read_bytes` (a successful read there), or with a read of
  // its own when there is none. Returns the length mapped, 0 unless BAKEFS_OK.
  size_t check_map(bakefs_ino ino, uint64_t size, uint64_t offset, const uint8_t* read_bytes,
                   size_t read_length, int* status = nullptr);
  void walk_map(bakefs_ino ino, uint64_t size);
  void exercise_extents(bakefs_ino ino, uint64_t size);
  void exercise_symlink(bakefs_ino ino, const bakefs_attr& attr);
  void exercise_xattrs(bakefs_ino ino);
  void exercise_boot_records();
  void run_check();

  bakefs_fs* fs_;
  const uint8_t* image_;
  size_t length_;
  Transcript& t_;
  Limits limits_;
  bakefs_fsstat stat_ = {};
  std::map<bakefs_ino, bakefs_attr> attrs_;
  std::set<bakefs_ino> listed_dirs_;
  std::vector<const char*> anomalies_;  // damage that bakefs_check must not call sound
  uint64_t calls_left_;
  uint64_t bytes_left_;
};

}  // namespace bakefs::fuzz

#endif  // BAKEFS_TESTS_FUZZ_EXPLORER_H
