// A bakefs_platform that checks how the driver uses it, and fails allocations on demand.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_FUZZ_TRACKING_PLATFORM_H
#define BAKEFS_TESTS_FUZZ_TRACKING_PLATFORM_H

#include <bakefs/bakefs.h>

#include <cstddef>
#include <cstdint>
#include <map>

namespace bakefs::fuzz {

// Memory and locks come from the posix platform; on top, every free must give back the size
// that alloc was asked for, locks are never taken twice or released unheld (one thread), and
// nothing may be left at the end. A violation traps, as the fuzzer's invariants do.
class TrackingPlatform {
 public:
  TrackingPlatform();
  TrackingPlatform(const TrackingPlatform&) = delete;
  TrackingPlatform& operator=(const TrackingPlatform&) = delete;

  const bakefs_platform& callbacks() const { return callbacks_; }
  // Allocations and lock creations from the n-th on (counting from 0) fail.
  void fail_from(uint64_t n) { fail_from_ = n; }
  uint64_t requests() const { return requests_; }
  // Traps unless every allocation was freed and every lock destroyed.
  void require_released() const;

 private:
  static void* alloc(void* ctx, size_t size, size_t align);
  static void free(void* ctx, void* ptr, size_t size);
  static void* lock_create(void* ctx);
  static void lock_destroy(void* ctx, void* handle);
  static void lock(void* ctx, void* handle);
  static void unlock(void* ctx, void* handle);
  static int trylock(void* ctx, void* handle);
  bool refuse();

  bakefs_platform callbacks_;
  std::map<void*, size_t> memory_;  // live allocations and their sizes
  std::map<void*, bool> locks_;     // live locks, and whether held
  uint64_t requests_ = 0;
  uint64_t fail_from_ = UINT64_MAX;
};

}  // namespace bakefs::fuzz

#endif  // BAKEFS_TESTS_FUZZ_TRACKING_PLATFORM_H
