// --uid-map, --gid-map and --all-root: parsing the rules and rewriting the tree's owners.
// SPDX-License-Identifier: BSD-2-Clause
#include "sources/idmap.h"

#include <charconv>
#include <unordered_set>

namespace bakefs::build {
namespace {

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t value = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

uint32_t map_id(uint32_t id, const std::vector<IdRange>& rules) {
  for (const IdRange& r : rules) {
    if (id >= r.first && id <= r.last) return r.to + (id - r.first);
  }
  return id;
}

void rewrite(Inode& n, const IdMaps& maps, std::unordered_set<const Inode*>& seen) {
  if (!seen.insert(&n).second) return;
  n.uid = maps.all_root ? 0 : map_id(n.uid, maps.uids);
  n.gid = maps.all_root ? 0 : map_id(n.gid, maps.gids);
  for (auto& [name, child] : n.children) rewrite(*child, maps, seen);
}

}  // namespace

std::optional<IdRange> parse_id_range(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view from = text.substr(0, colon);
  size_t dash = from.find('-');
  std::optional<uint32_t> first = parse_id(from.substr(0, dash));
  std::optional<uint32_t> last =
      dash == std::string_view::npos ? first : parse_id(from.substr(dash + 1));
  std::optional<uint32_t> to = parse_id(text.substr(colon + 1));
  if (!first || !last || !to || *first > *last) return std::nullopt;
  if (*last - *first > UINT32_MAX - *to) return std::nullopt;
  return IdRange{*first, *last, *to};
}

void apply_id_maps(Tree& tree, const IdMaps& maps) {
  if (maps.empty() || tree.root == nullptr) return;
  std::unordered_set<const Inode*> seen;
  rewrite(*tree.root, maps, seen);
}

}  // namespace bakefs::build
