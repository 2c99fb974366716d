// A bakefs_platform that checks how the driver uses it, and fails allocations on demand.
// SPDX-License-Identifier: BSD-2-Clause
#include "tracking_platform.h"

#include <bakefs/posix.h>

#include "explorer.h"

namespace bakefs::fuzz {
namespace {

TrackingPlatform& self(void* ctx) {
  return *static_cast<TrackingPlatform*>(ctx);
}

const bakefs_platform& posix() {
  return bakefs::posix::platform();
}

}  // namespace

TrackingPlatform::TrackingPlatform()
    : callbacks_{this, alloc, free, lock_create, lock_destroy, lock, unlock, nullptr,
                 trylock} {}

bool TrackingPlatform::refuse() {
  return requests_++ >= fail_from_;
}

void* TrackingPlatform::alloc(void* ctx, size_t size, size_t align) {
  require(align != 0 && (align & (align - 1)) == 0 && align <= 64, "alloc-align");
  TrackingPlatform& p = self(ctx);
  if (p.refuse()) return nullptr;
  void* ptr = posix().alloc(posix().ctx, size, align);
  require(ptr != nullptr, "alloc-host");
  p.memory_[ptr] = size;
  return ptr;
}

void TrackingPlatform::free(void* ctx, void* ptr, size_t size) {
  TrackingPlatform& p = self(ctx);
  auto it = p.memory_.find(ptr);
  require(it != p.memory_.end(), "free-of-unknown-pointer");
  require(it->second == size, "free-size-is-alloc-size");
  p.memory_.erase(it);
  posix().free(posix().ctx, ptr, size);
}

void* TrackingPlatform::lock_create(void* ctx) {
  TrackingPlatform& p = self(ctx);
  if (p.refuse()) return nullptr;
  void* handle = posix().lock_create(posix().ctx);
  require(handle != nullptr, "lock-create-host");
  p.locks_[handle] = false;
  return handle;
}

void TrackingPlatform::lock_destroy(void* ctx, void* handle) {
  TrackingPlatform& p = self(ctx);
  auto it = p.locks_.find(handle);
  require(it != p.locks_.end() && !it->second, "lock-destroy-unknown-or-held");
  p.locks_.erase(it);
  posix().lock_destroy(posix().ctx, handle);
}

void TrackingPlatform::lock(void* ctx, void* handle) {
  TrackingPlatform& p = self(ctx);
  auto it = p.locks_.find(handle);
  // One thread: taking a held lock again would deadlock.
  require(it != p.locks_.end() && !it->second, "lock-unknown-or-held");
  it->second = true;
  posix().lock(posix().ctx, handle);
}

void TrackingPlatform::unlock(void* ctx, void* handle) {
  TrackingPlatform& p = self(ctx);
  auto it = p.locks_.find(handle);
  require(it != p.locks_.end() && it->second, "unlock-unknown-or-unheld");
  it->second = false;
  posix().unlock(posix().ctx, handle);
}

// One thread: a lock is free unless this thread holds it, and then the core must move on.
int TrackingPlatform::trylock(void* ctx, void* handle) {
  TrackingPlatform& p = self(ctx);
  auto it = p.locks_.find(handle);
  require(it != p.locks_.end(), "trylock-unknown");
  if (it->second) return 0;
  lock(ctx, handle);
  return 1;
}

void TrackingPlatform::require_released() const {
  require(memory_.empty() && locks_.empty(), "platform-resources-released");
}

}  // namespace bakefs::fuzz
