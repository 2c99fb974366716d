// compose(): the tree an image is made of, assembled from a recipe in the order the README
// gives (mkimage's main only fills the recipe from the command line).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_COMPOSE_COMPOSE_H
#define BAKEFS_HOST_COMPOSE_COMPOSE_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sources/idmap.h"
#include "writer/tree.h"

namespace bakefs::build {

// What goes into the tree, each field one command-line option.
struct Recipe {
  std::vector<std::string> sources;   // directories and tar archives, lowest first
  bool whiteouts = false;             // --whiteouts
  std::vector<std::string> excludes;  // --exclude patterns (--exclude-from already read)
  bool ignore_errors = false;         // --ignore-errors
  bool stub_etc = false;              // --stub-etc
  std::string base_etc;               // --base-etc DIR (empty: none)
  std::vector<std::string> specs;     // --spec files, in order
  std::vector<std::string> removes;   // --remove paths
  IdMaps id_maps;                     // --uid-map, --gid-map, --all-root
  std::vector<std::string> tmpfs;     // --tmpfs directories (made if missing)
  std::vector<std::string> mount_points;       // --mount-point directories
  std::vector<std::string> disk_mount_points;  // the "blk" disks of --config
  std::string disks_from;                      // names them in messages: "--config FILE"
  std::optional<int64_t> build_time;  // --mtime / SOURCE_DATE_EPOCH: the clamp
  std::function<void(const std::string&)> warn;  // messages that do not stop the build
};

// Assembles the tree, each step seeing the result of the ones before:
//   1. the sources, merged in order (later ones win; --exclude leaves entries out, whiteouts
//      remove lower ones),
//   2. --stub-etc beneath them (it adds only what their /etc lacks), then --base-etc beneath
//      both,
//   3. the spec files in order (their uname= lookups see the image's /etc/passwd),
//   4. --remove,
//   5. the id maps, then --all-root,
//   6. the --stub-etc and --base-etc password databases, rebuilt from the master.passwd the
//      image has now,
//   7. the --tmpfs directories and the mount points (made where missing),
//   8. the time clamp.
// Throws Error naming the source, spec line or path when a step fails.
Tree compose(const Recipe& recipe);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_COMPOSE_COMPOSE_H
