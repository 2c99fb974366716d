// libFuzzer target for the driver core: mount any bytes, drive every call, cross-check.
//
// Each input is mounted up to four ways, and each mount is explored the same way (explorer.h):
//   1. with every checksum recomputed (fuzz_image.h), verified, a small cache: mutations get
//      past the checksums and reach the structural checks;
//   2. the same bytes with BAKEFS_MOUNT_NO_VERIFY and a one-block cache: every call must
//      return what it returned in 1;
//   3. when the input's own checksums do not all hold: the input as it is, verified;
//   4. and a copy of it with every byte that no valid checksum covers scrambled: every call
//      must return what it returned in 3, or the driver used bytes it had not verified.
// Mounts 1 and 3 are also compared, call by call, with the same bytes read through a
// bakefs_source (lockstep.h), once with a storage that fails now and then.
// Every mount's platform checks the driver's use of memory and locks (tracking_platform.h),
// and mount 1 is repeated with each allocation of mount and of bakefs_check failing in turn.
// Invariant failures call __builtin_trap() after naming the invariant on stderr.
//
// Build and run (clang; see README.md for more):
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DBAKEFS_SANITIZE=ON -DBAKEFS_FUZZ=ON
//   cmake --build build-fuzz --target mount_fuzzer
//   mkdir -p /tmp/corpus
//   build-fuzz/tests/fuzz/mount_fuzzer /tmp/corpus tests/fuzz/corpus
//       -dict=tests/fuzz/bakefs.dict -max_len=65536 -max_total_time=1800
// Replay the corpus without libFuzzer (any compiler; CTest runs it as fuzz_replay):
//   build/tests/fuzz/mount_fuzzer_replay tests/fuzz/corpus [more files or directories]
//
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/posix.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "explorer.h"
#include "fuzz_image.h"
#include "lockstep.h"
#include "tracking_platform.h"

namespace {

using bakefs::fuzz::require;
using bakefs::fuzz::TrackingPlatform;

struct MountConfig {
  const char* label;
  bakefs_mount_options options;
};

// Cache sizes, verify slots and contexts differ between the mounts compared, so that the
// cache and the verified-unit record are checked against each other too.
constexpr MountConfig kVerified{"verified", {32u << 10, 1, 16, 0}};
constexpr MountConfig kUnverified{"unverified", {1, 2, 1, BAKEFS_MOUNT_NO_VERIFY}};
constexpr MountConfig kVerifiedTiny{"verified-tiny", {1, 1, 2, 0}};

// Mounts and explores; returns the digest of everything the calls returned.
uint64_t explore(const uint8_t* image, size_t size, const MountConfig& config) {
  static const uint8_t kEmpty = 0;
  if (size == 0) image = &kEmpty;  // mount refuses a null image before it looks at the size
  bakefs::fuzz::Transcript transcript(config.label);
  TrackingPlatform platform;
  bakefs_fs* fs = nullptr;
  int s = bakefs_mount(image, size, &platform.callbacks(), &config.options, &fs);
  require(s == BAKEFS_OK || s == BAKEFS_ECORRUPT || s == BAKEFS_ECHECKSUM || s == BAKEFS_ENOTSUP,
          "mount-status");
  require((s == BAKEFS_OK) == (fs != nullptr), "mount-out");
  transcript.record("mount", size, 0, s);
  if (fs != nullptr) {
    // What mount must refuse even of a sound image: bad options and arguments.
    bakefs_mount_options bad = config.options;
    bad.verify_slots = 3;
    bakefs_fs* other = nullptr;
    const bakefs_platform& callbacks = platform.callbacks();
    bakefs_platform no_alloc = callbacks;
    no_alloc.alloc = nullptr;
    require(bakefs_mount(image, size, &callbacks, &bad, &other) == BAKEFS_EINVAL &&
                bakefs_mount(nullptr, size, &callbacks, nullptr, &other) == BAKEFS_EINVAL &&
                bakefs_mount(image, size, &no_alloc, nullptr, &other) == BAKEFS_EINVAL &&
                bakefs_mount(image, size, &callbacks, nullptr, nullptr) == BAKEFS_EINVAL &&
                other == nullptr,
            "mount-arguments");
    bakefs::fuzz::Explorer(fs, image, size, transcript).run();
    bakefs_unmount(fs);
  }
  platform.require_released();
  return transcript.digest();
}

// Memory that runs out: each allocation of mount in turn fails, then each of bakefs_check.
// Mount must say ENOMEM and give everything back; check must not call that damage.
void exhaust_memory(const uint8_t* image, size_t size, const MountConfig& config) {
  uint64_t mount_requests = 0, check_requests = 0;
  int full_check = BAKEFS_OK;
  {
    TrackingPlatform platform;
    bakefs_fs* fs = nullptr;
    if (bakefs_mount(image, size, &platform.callbacks(), &config.options, &fs) != BAKEFS_OK) return;
    mount_requests = platform.requests();
    full_check = bakefs_check(fs, nullptr, nullptr, 0);
    check_requests = platform.requests() - mount_requests;
    bakefs_unmount(fs);
  }
  for (uint64_t n = 0; n < mount_requests + check_requests; ++n) {
    TrackingPlatform platform;
    platform.fail_from(n);
    bakefs_fs* fs = nullptr;
    int s = bakefs_mount(image, size, &platform.callbacks(), &config.options, &fs);
    if (n < mount_requests) {
      require(s == BAKEFS_ENOMEM && fs == nullptr, "mount-out-of-memory");
    } else {
      require(s == BAKEFS_OK, "mount-deterministic");
      s = bakefs_check(fs, nullptr, nullptr, 0);
      require(s == full_check || s == BAKEFS_ENOMEM, "check-out-of-memory");
      bakefs_unmount(fs);
    }
    platform.require_released();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bakefs::fuzz::FixedImage fixed = bakefs::fuzz::fix_checksums(data, size);
  const uint64_t verified = explore(fixed.bytes.data(), size, kVerified);
  exhaust_memory(fixed.bytes.data(), size, kVerified);
  // The same bytes read through a bakefs_source: call for call what the image in place gives;
  // and through a storage whose every 5th read fails: that or BAKEFS_EIO, never other bytes.
  bakefs::fuzz::compare_through_source(fixed.bytes.data(), size, kVerified.options, 0);
  bakefs::fuzz::compare_through_source(fixed.bytes.data(), size, kVerifiedTiny.options, 5);
  const uint64_t unverified = explore(fixed.bytes.data(), size, kUnverified);
  if (fixed.complete) require(verified == unverified, "verify-changes-nothing-when-sound");
  if (size == 0 || std::memcmp(fixed.bytes.data(), data, size) == 0) return 0;

  const uint64_t as_is = explore(data, size, kVerified);
  bakefs::fuzz::compare_through_source(data, size, kVerified.options, 0);
  const std::vector<uint8_t> scrambled = bakefs::fuzz::scramble_unverified(data, size);
  if (!scrambled.empty()) {
    require(explore(scrambled.data(), size, kVerifiedTiny) == as_is, "unverified-bytes-unused");
  }
  return 0;
}
