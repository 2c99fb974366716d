/* One name for each directory: the first name under which lookup or readdir handed a
 * directory to the kernel, kept per mount, so that a second name for it is EIO.
 *
 * The core refuses a directory whose entry is not in the directory it names as its parent (so
 * no loop and no second parent), but a directory listed twice in its one parent passes every
 * rule that costs O(1), and the kernel would take it for two directories: a walk of `/` (find)
 * would go down both, twice at every level of such a doubled tree, 2^n paths from n levels.
 * Only a forged image has one; `bakefs verify` names it.
 *
 * The table: open addressing over (directory, parent, hash of the name), grown by doubling
 * under the mount's name lock. 12 bytes a directory the kernel has seen.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <sys/param.h> /* first: every other kernel header needs it */
#include <sys/types.h>

#include <sys/errno.h>
#include <sys/kmem.h>
#include <sys/mutex.h>
#include <sys/systm.h>

#include "bakefs_rump_impl.h"

struct bakefs_name_slot {
  uint32_t ns_dir; /* 0: empty */
  uint32_t ns_parent;
  uint32_t ns_hash;
};

static uint32_t bakefs_name_hash(const char* name, size_t length) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < length; ++i) h = (h ^ (uint8_t)name[i]) * 16777619u;
  return h;
}

static struct bakefs_name_slot* bakefs_names_find(struct bakefs_name_slot* slots, size_t cap,
                                                  uint32_t dir) {
  size_t i = (dir * 2654435761u) & (cap - 1);
  while (slots[i].ns_dir != 0 && slots[i].ns_dir != dir) i = (i + 1) & (cap - 1);
  return &slots[i];
}

void bakefs_rump_names_init(struct bakefs_mount* bmp) {
  mutex_init(&bmp->bm_names_lock, MUTEX_DEFAULT, IPL_NONE);
  bmp->bm_names = NULL;
  bmp->bm_names_cap = 0;
  bmp->bm_names_used = 0;
}

void bakefs_rump_names_fini(struct bakefs_mount* bmp) {
  if (bmp->bm_names != NULL) kmem_free(bmp->bm_names, bmp->bm_names_cap * sizeof(struct bakefs_name_slot));
  mutex_destroy(&bmp->bm_names_lock);
}

/* Doubles the table (at least 64 slots); false when there is no memory for it. */
static bool bakefs_names_grow(struct bakefs_mount* bmp) {
  const size_t cap = bmp->bm_names_cap == 0 ? 64 : bmp->bm_names_cap * 2;
  struct bakefs_name_slot* slots = kmem_zalloc(cap * sizeof(*slots), KM_NOSLEEP);
  if (slots == NULL) return false;
  struct bakefs_name_slot* old = bmp->bm_names;
  for (size_t i = 0; i < bmp->bm_names_cap; ++i) {
    if (old[i].ns_dir != 0) *bakefs_names_find(slots, cap, old[i].ns_dir) = old[i];
  }
  if (old != NULL) kmem_free(old, bmp->bm_names_cap * sizeof(*old));
  bmp->bm_names = slots;
  bmp->bm_names_cap = cap;
  return true;
}

int bakefs_rump_claim_dir(struct bakefs_mount* bmp, bakefs_ino dir, bakefs_ino parent,
                          const char* name, size_t length) {
  const uint32_t hash = bakefs_name_hash(name, length);
  int error = 0;
  mutex_enter(&bmp->bm_names_lock);
  if ((bmp->bm_names_used + 1) * 2 > bmp->bm_names_cap && !bakefs_names_grow(bmp)) {
    error = ENOMEM;
  } else {
    struct bakefs_name_slot* slot = bakefs_names_find(bmp->bm_names, bmp->bm_names_cap, dir);
    if (slot->ns_dir == 0) {
      slot->ns_dir = dir;
      slot->ns_parent = parent;
      slot->ns_hash = hash;
      bmp->bm_names_used++;
    } else if (slot->ns_parent != parent || slot->ns_hash != hash) {
      error = EIO;
    }
  }
  mutex_exit(&bmp->bm_names_lock);
  if (error == EIO) {
    printf("bakefs: directory %u is listed again as \"%.*s\" in directory %u: the image's tree "
           "is not a tree (EIO)\n",
           dir, (int)MIN(length, 64), name, parent);
  }
  return error;
}
