// The driver's view of its host: allocation, locks and logging through bakefs_platform.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_PLATFORM_H
#define BAKEFS_DRIVER_PLATFORM_H

#include <bakefs/bakefs.h>

#include <new>  // placement new only

#include "deps.h"

namespace bakefs {

class Platform {
 public:
  explicit Platform(const bakefs_platform& callbacks) : cb_(callbacks) {}

  void* alloc(size_t size, size_t align = 16) const { return cb_.alloc(cb_.ctx, size, align); }
  void free(void* ptr, size_t size) const {
    if (ptr != nullptr) cb_.free(cb_.ctx, ptr, size);
  }
  void* lock_create() const { return cb_.lock_create(cb_.ctx); }
  void lock_destroy(void* lock) const {
    if (lock != nullptr) cb_.lock_destroy(cb_.ctx, lock);
  }
  void lock(void* lock) const { cb_.lock(cb_.ctx, lock); }
  void unlock(void* lock) const { cb_.unlock(cb_.ctx, lock); }
  bool can_trylock() const { return cb_.trylock != nullptr; }
  bool trylock(void* lock) const { return cb_.trylock(cb_.ctx, lock) != 0; }
  void log(int level, const char* message) const {
    if (cb_.log != nullptr) cb_.log(cb_.ctx, level, message);
  }

  // An array of n default-constructed T, or nullptr. T must be trivially destructible.
  template <typename T>
  T* alloc_array(size_t n) const {
    if (n > SIZE_MAX / sizeof(T)) return nullptr;
    void* p = alloc(n * sizeof(T), alignof(T) < 16 ? 16 : alignof(T));
    if (p == nullptr) return nullptr;
    T* items = static_cast<T*>(p);
    for (size_t i = 0; i < n; ++i) new (&items[i]) T();
    return items;
  }
  template <typename T>
  void free_array(T* items, size_t n) const {
    free(items, n * sizeof(T));
  }

 private:
  bakefs_platform cb_;
};

// Holds a platform lock for a scope.
class LockGuard {
 public:
  LockGuard(const Platform& platform, void* lock) : platform_(platform), lock_(lock) {
    platform_.lock(lock_);
  }
  ~LockGuard() { platform_.unlock(lock_); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  const Platform& platform_;
  void* lock_;
};

// A one-line log message built without printf: text and unsigned numbers.
class Message {
 public:
  Message& operator<<(const char* text) {
    while (*text != '\0' && used_ + 1 < sizeof(buf_)) buf_[used_++] = *text++;
    buf_[used_] = '\0';
    return *this;
  }
  Message& operator<<(uint64_t value) {
    char digits[21];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n > 0 && used_ + 1 < sizeof(buf_)) buf_[used_++] = digits[--n];
    buf_[used_] = '\0';
    return *this;
  }
  Message& operator<<(uint32_t value) { return *this << static_cast<uint64_t>(value); }
  const char* c_str() const { return buf_; }

 private:
  char buf_[192] = {};
  size_t used_ = 0;
};

}  // namespace bakefs

#endif  // BAKEFS_DRIVER_PLATFORM_H
