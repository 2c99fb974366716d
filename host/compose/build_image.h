// build_image(): all that mkimage does between its command line and its exit, as one function
// that the tests call: the outputs checked, the boot choices read, the tree composed
// (compose.h), the data order, the writer, the linkable copies of the image.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_COMPOSE_BUILD_IMAGE_H
#define BAKEFS_HOST_COMPOSE_BUILD_IMAGE_H

#include <functional>
#include <string>
#include <vector>

#include "compose/compose.h"
#include "writer/options.h"

namespace bakefs::build {

// What mkimage's options ask for, as given; build_image() reads the files they name. The tree's
// boot directories (recipe.tmpfs, mount_points, disk_mount_points, disks_from) and its
// build_time are filled from the fields below, and recipe.warn receives every warning.
struct ImageRecipe {
  Recipe recipe;                           // the tree (compose.h)
  std::vector<std::string> exclude_files;  // --exclude-from: more patterns, one a line
  Options options;                         // the writer's; config, tmpfs, root_flags, data_first
                                           // are filled from the fields below
  std::string output;                      // -o
  std::string config_file;                 // --config (empty: none)
  bool config_raw = false;                 // --config-raw
  std::vector<std::string> tmpfs_lists;    // --tmpfs: "/tmp,/var/run" lists
  std::vector<std::string> mount_point_lists;  // --mount-point lists
  std::string root_mount;                      // --root-mount: "plain", "union", empty (no record)
  std::string mount_at;                        // --mount-at (empty: the image is /)
  std::string sort_file;                       // --sort (empty: none)
  std::string emit_object;                     // --emit-object (empty: none)
  std::string emit_asm;                        // --emit-asm (empty: none)
  std::string target;                          // --target (empty: the host's)
  // Called once the tree is composed and its data order known, before the writer starts
  // (mkimage starts its progress line there). Empty: nothing.
  std::function<void()> composed;
};

// In this order: the outputs are checked before any source is read (-o, then --emit-object,
// --emit-asm); --config and --tmpfs are read, --mount-at checked; the --exclude-from files; compose(); the --sort
// list, whose missing paths are warnings; `composed`; the boot-root warnings when the image is
// to be linked in as /; the image written; then the ELF object and the assembly. Throws Error naming the
// option or path.
Stats build_image(const ImageRecipe& image);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_COMPOSE_BUILD_IMAGE_H
