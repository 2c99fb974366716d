// The explorer's frame: invariants, the transcript, statfs, the inode sweep and the check.
// SPDX-License-Identifier: BSD-2-Clause
#include "explorer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_image.h"

namespace bakefs::fuzz {
namespace {

bool allowed(const char* invariant) {
  static const std::string list = [] {
    const char* env = std::getenv("BAKEFS_FUZZ_ALLOW");
    return "," + std::string(env != nullptr ? env : "") + ",";
  }();
  return list.find("," + std::string(invariant) + ",") != std::string::npos;
}

}  // namespace

// True if n bytes at p all still hold kFill (memcmp: a byte loop is slow under coverage).
bool untouched(const void* p, size_t n) {
  static const std::vector<uint8_t> fill(4096, kFill);
  const auto* bytes = static_cast<const uint8_t*>(p);
  for (size_t at = 0; at < n; at += fill.size()) {
    if (std::memcmp(bytes + at, fill.data(), std::min(fill.size(), n - at)) != 0) return false;
  }
  return true;
}

void require(bool ok, const char* invariant) {
  if (ok || allowed(invariant)) return;
  std::fprintf(stderr, "mount_fuzzer: invariant violated: %s\n", invariant);
  std::fflush(stderr);
  __builtin_trap();
}

Transcript::Transcript(const char* label) : label_(label) {
  static const bool trace = std::getenv("BAKEFS_FUZZ_TRACE") != nullptr;
  trace_ = trace;
}

void Transcript::record(const char* call, uint64_t a, uint64_t b, int status, const void* bytes,
                        size_t length) {
  const uint64_t bytes_hash = length != 0 ? hash_bytes(bytes, length, 0) : 0;
  const uint64_t fields[] = {hash_bytes(call, std::strlen(call), 0), a,      b,
                             static_cast<uint64_t>(status),          length, bytes_hash};
  digest_ = hash_bytes(fields, sizeof(fields), digest_);
  if (trace_) {
    std::fprintf(stderr, "[%s] %s %llu %llu -> %d, %zu bytes %016llx\n", label_, call,
                 static_cast<unsigned long long>(a), static_cast<unsigned long long>(b), status,
                 length, static_cast<unsigned long long>(bytes_hash));
  }
}

void Transcript::note(const std::string& text) const {
  if (trace_) std::fprintf(stderr, "[%s]   %s\n", label_, text.c_str());
}

Explorer::Explorer(bakefs_fs* fs, const uint8_t* image, size_t length, Transcript& transcript,
                   const Limits& limits)
    : fs_(fs),
      image_(image),
      length_(length),
      t_(transcript),
      limits_(limits),
      calls_left_(limits.calls),
      bytes_left_(limits.read_bytes) {}

int Explorer::checked(int status) {
  if (calls_left_ > 0) --calls_left_;
  require(status >= BAKEFS_OK && status <= BAKEFS_ENOTLNK, "status-is-known");
  require(status != BAKEFS_ENOMEM, "no-enomem");
  if (is_damage(status)) anomaly("check-missed:damage-reported");
  return status;
}

void Explorer::anomaly(const char* what) {
  if (std::find(anomalies_.begin(), anomalies_.end(), what) == anomalies_.end()) {
    anomalies_.push_back(what);
  }
}

void Explorer::run() {
  check_arguments();
  check_statfs();
  sweep_inodes();
  auto root = attrs_.find(fmt::kRootIno);
  if (root != attrs_.end() && type_of(root->second.mode) != fmt::kTypeDir) {
    anomaly("check-missed:root-not-directory");
  }
  std::vector<bakefs_ino> ancestors;
  walk(fmt::kRootIno, ancestors);
  for (const auto& [ino, attr] : attrs_) {
    if (!more()) break;
    exercise_inode(ino, attr);
  }
  exercise_boot_records();
  run_check();
}

void Explorer::check_arguments() {
  // Null pointers the C ABI refuses, on a mounted image (ino 1 may or may not be sound).
  bakefs_fsstat st;
  bakefs_attr a;
  bakefs_ino ino = 0;
  size_t n = 0;
  const void* p = nullptr;
  char c = 0;
  auto emit = [](void*, const char*, size_t, bakefs_ino, uint32_t, uint64_t, uint64_t) {
    return 0;
  };
  require(bakefs_statfs(nullptr, &st) == BAKEFS_EINVAL &&
              bakefs_statfs(fs_, nullptr) == BAKEFS_EINVAL &&
              bakefs_getattr(nullptr, 1, &a) == BAKEFS_EINVAL &&
              bakefs_getattr(fs_, 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_lookup(fs_, 1, nullptr, 1, &ino) == BAKEFS_EINVAL &&
              bakefs_lookup(fs_, 1, "x", 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_readdir(fs_, 1, 0, nullptr, nullptr) == BAKEFS_EINVAL &&
              bakefs_readdir(nullptr, 1, 0, emit, nullptr) == BAKEFS_EINVAL &&
              bakefs_read(fs_, 1, 0, nullptr, 1, &n) == BAKEFS_EINVAL &&
              bakefs_read(fs_, 1, 0, &c, 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_map(fs_, 1, 0, nullptr, &n) == BAKEFS_EINVAL &&
              bakefs_map(fs_, 1, 0, &p, nullptr) == BAKEFS_EINVAL &&
              bakefs_readlink(fs_, 1, nullptr, 1, &n) == BAKEFS_EINVAL &&
              bakefs_readlink(fs_, 1, &c, 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_listxattr(fs_, 1, nullptr, 1, &n) == BAKEFS_EINVAL &&
              bakefs_listxattr(fs_, 1, &c, 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_getxattr(fs_, 1, nullptr, &c, 1, &n) == BAKEFS_EINVAL &&
              bakefs_getxattr(fs_, 1, "user.x", nullptr, 1, &n) == BAKEFS_EINVAL &&
              bakefs_getxattr(fs_, 1, "user.x", &c, 1, nullptr) == BAKEFS_EINVAL &&
              bakefs_boot_record(nullptr, 1, 0, &p, &n) == BAKEFS_EINVAL &&
              bakefs_boot_record(fs_, 1, 0, nullptr, &n) == BAKEFS_EINVAL &&
              bakefs_boot_record(fs_, 1, 0, &p, nullptr) == BAKEFS_EINVAL &&
              bakefs_check(nullptr, nullptr, nullptr, 0) == BAKEFS_EINVAL,
          "null-arguments");
}

void Explorer::check_statfs() {
  bakefs_fsstat st;
  std::memset(&st, kFill, sizeof(st));
  int s = checked(bakefs_statfs(fs_, &st));
  require(s == BAKEFS_OK, "statfs-ok");
  require(st.block_size >= (1u << fmt::kMinBlockLog) &&
              st.block_size <= (1u << fmt::kMaxBlockLog) &&
              (st.block_size & (st.block_size - 1)) == 0,
          "statfs-block-size");
  require(st.name_max == fmt::kMaxNameLength, "statfs-name-max");
  require(st.image_size >= fmt::kSuperblockSize && st.image_size <= length_, "statfs-image-size");
  require(st.inode_count >= 1 && st.inode_count <= st.max_ino && st.max_ino < UINT32_MAX,
          "statfs-inode-count");
  require(st.version_major == fmt::kVersionMajor, "statfs-version");
  require((st.feature_incompat & ~fmt::kIncompatSupported) == 0, "statfs-features");
  require(st.build_time_nsec < 1000000000u, "statfs-build-time");
  const uint64_t fields[] = {st.block_size,
                             st.image_size,
                             st.inode_count,
                             st.max_ino,
                             st.block_count,
                             st.file_bytes,
                             st.stored_bytes,
                             st.version_minor,
                             st.feature_compat,
                             st.feature_incompat,
                             static_cast<uint64_t>(st.build_time_sec),
                             st.build_time_nsec};
  t_.record("statfs", 0, 0, s, fields, sizeof(fields));
  stat_ = st;
}

void Explorer::sweep_inodes() {
  auto probe = [&](bakefs_ino ino) {
    bakefs_attr a;
    std::memset(&a, kFill, sizeof(a));
    int s = checked(bakefs_getattr(fs_, ino, &a));
    require(s == BAKEFS_OK || s == BAKEFS_EINVAL || is_damage(s), "getattr-status");
    if (ino == 0 || ino > stat_.max_ino) require(s == BAKEFS_EINVAL, "getattr-range");
    if (s != BAKEFS_OK) {
      t_.record("getattr", ino, 0, s);
      return s;
    }
    require(a.ino == ino, "getattr-ino");
    require(known_type(a.mode) && a.mode <= 0177777, "getattr-mode");
    require(a.mtime_nsec < 1000000000u, "getattr-mtime");
    require(a.block_size == stat_.block_size, "getattr-block-size");
    const uint32_t type = type_of(a.mode);
    if (type != fmt::kTypeChar && type != fmt::kTypeBlock) {
      require(a.rdev_major == 0 && a.rdev_minor == 0, "getattr-rdev");
    }
    if (type == fmt::kTypeRegular) require(a.blocks <= a.size / 512 + 1, "getattr-blocks");
    const uint64_t fields[] = {a.mode,
                               a.nlink,
                               a.uid,
                               a.gid,
                               a.size,
                               a.blocks,
                               static_cast<uint64_t>(a.mtime_sec),
                               a.mtime_nsec,
                               a.rdev_major,
                               a.rdev_minor};
    t_.record("getattr", ino, 0, s, fields, sizeof(fields));
    attrs_[ino] = a;
    return s;
  };
  probe(0);
  // Not every number is an inode (an extended inode takes two slots), but none past max_ino.
  const bakefs_ino last = stat_.max_ino;
  for (bakefs_ino ino = 1; ino <= last && ino <= limits_.inodes; ++ino) probe(ino);
  if (last > limits_.inodes) probe(last);
  require(probe(last + 1) == BAKEFS_EINVAL && probe(UINT32_MAX) == BAKEFS_EINVAL, "getattr-range");
}

void Explorer::exercise_boot_records() {
  // Every record of each type (and of a type no image has): pointers into the image, tmpfs
  // paths as the format promises them, and the same answer when asked twice.
  for (uint32_t type : {BAKEFS_BOOT_CONFIG, BAKEFS_BOOT_TMPFS, BAKEFS_BOOT_ROOT, 9u}) {
    for (uint32_t index = 0; index < 64 && more(); ++index) {
      const void* data = nullptr;
      size_t length = 0;
      const int s = checked(bakefs_boot_record(fs_, type, index, &data, &length));
      t_.record("boot_record", type, index, s, s == BAKEFS_OK ? data : nullptr,
                s == BAKEFS_OK ? length : 0);
      if (s != BAKEFS_OK) {
        require(s == BAKEFS_ENOENT || is_damage(s), "boot-record-status");
        require(data == nullptr && length == 0, "boot-record-cleared");
        if (s != BAKEFS_ENOENT) anomaly("boot-record-damaged");
        break;
      }
      const auto* p = static_cast<const uint8_t*>(data);
      require(p >= image_ && length <= fmt::kMaxBootRecord &&
                  static_cast<size_t>(p - image_) + length <= length_,
              "boot-record-inside-image");
      if (type == BAKEFS_BOOT_TMPFS) {
        require(length > 0 && p[0] == '/' && std::memchr(p, 0, length) == nullptr &&
                    (length == 1 || p[length - 1] != '/'),
                "boot-record-tmpfs-path");
      }
      if (type == BAKEFS_BOOT_ROOT) require(length == 4, "boot-record-root-length");
      if ((type == BAKEFS_BOOT_CONFIG || type == BAKEFS_BOOT_ROOT) && index > 0) {
        anomaly("boot-record-two-of-a-single-type");
      }
      const void* again = nullptr;
      size_t again_length = 0;
      require(bakefs_boot_record(fs_, type, index, &again, &again_length) == BAKEFS_OK &&
                  again == data && again_length == length,
              "boot-record-stable");
    }
  }
}

void Explorer::run_check() {
  auto report = [](void* ctx, const char* message) {
    require(message != nullptr, "check-message");
    const size_t length = strnlen(message, 4096);
    require(length > 0 && length < 192 && std::strchr(message, '\n') == nullptr, "check-message");
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(message);
  };
  std::vector<std::string> first, all;
  const int s1 = bakefs_check(fs_, report, &first, 1);
  for (const std::string& line : first) t_.note("check, at most 1: " + line);
  const int s2 = bakefs_check(fs_, report, &all, 0);
  for (const std::string& line : all) t_.note("check: " + line);
  for (int s : {s1, s2}) require(s == BAKEFS_OK || is_damage(s), "check-status");
  require(first.size() <= 1, "check-max-problems");
  require((s1 == BAKEFS_OK) == first.empty() && (s2 == BAKEFS_OK) == all.empty(),
          "check-status-matches-reports");
  require((s1 == BAKEFS_OK) == (s2 == BAKEFS_OK), "check-stable");
  std::string text;
  for (const std::string& line : all) text += line + "\n";
  t_.record("check", first.size(), all.size(), s2, text.data(), text.size());
  // A sound image cannot have shown damage or broken a rule of the format.
  if (s2 == BAKEFS_OK) {
    for (const char* what : anomalies_) require(false, what);
  } else {
    for (const char* what : anomalies_) t_.note(std::string("damage seen: ") + what);
  }
}

}  // namespace bakefs::fuzz
