// Owner rewriting for the image: --uid-map / --gid-map rules and --all-root, applied to the
// whole tree after the sources, the spec files and the removals.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_IDMAP_H
#define BAKEFS_HOST_SOURCES_IDMAP_H

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// Ids first..last become to, to + 1, ..., to + (last - first).
struct IdRange {
  uint32_t first = 0, last = 0, to = 0;
  bool operator==(const IdRange&) const = default;
};

// "FROM:TO" or "FIRST-LAST:TO", decimal; nothing if malformed, if FIRST > LAST, or if the
// range would map past 4294967295.
std::optional<IdRange> parse_id_range(std::string_view text);

struct IdMaps {
  std::vector<IdRange> uids, gids;  // the first rule that covers an id maps it
  bool all_root = false;            // then every uid and gid becomes 0
  bool empty() const { return uids.empty() && gids.empty() && !all_root; }
};

// Rewrites every inode's uid and gid once (hard links share their inode). Ids no rule covers
// stay as they are. Only owners change: the users and ids an /etc/master.passwd lists, and the
// databases --stub-etc makes from it, describe the running system and stay as they are.
void apply_id_maps(Tree& tree, const IdMaps& maps);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_IDMAP_H
