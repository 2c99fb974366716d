// compose(): the order of assembly, in one place.
// SPDX-License-Identifier: BSD-2-Clause
#include "compose/compose.h"

#include "compose/boot_config.h"
#include "netbsd_etc/base_etc.h"
#include "netbsd_etc/stub_etc.h"
#include "sources/layers.h"
#include "sources/spec.h"
#include "writer/tree_ops.h"

namespace bakefs::build {

Tree compose(const Recipe& recipe) {
  const ExcludeFilter filter(recipe.excludes);
  LayerOptions layers;
  layers.whiteouts = recipe.whiteouts;
  layers.warn = recipe.warn;
  if (!filter.empty()) {
    layers.scan.skip = [&filter](const std::string& name, const std::string& path) {
      return filter.excluded(name, path);
    };
  }
  layers.scan.ignore_errors = recipe.ignore_errors;
  layers.scan.warn = recipe.warn;

  // 1. The sources.
  Tree tree = empty_tree();
  for (const std::string& source : recipe.sources) add_layer(tree, source, layers);

  // 2. --stub-etc beneath them, then --base-etc beneath both, dated like the newest of their
  // files so that the image's time does not move; 3. the specs look names up in the
  // /etc/passwd that results.
  Tree stub, base;
  StubEtcOptions stub_options;
  if (recipe.stub_etc || !recipe.base_etc.empty()) {
    stub_options.mtime = recipe.build_time.value_or(newest_mtime(*tree.root));
  }
  if (recipe.stub_etc) {
    stub = stub_etc_tree(stub_options);
    merge_stub_etc(tree, stub);
    regenerate_password_files(tree, stub, stub_options);
  }
  if (!recipe.base_etc.empty()) {
    base = base_etc_tree(recipe.base_etc, *stub_options.mtime);
    merge_base_etc(tree, base);
    regenerate_password_files(tree, base, stub_options);
  }
  for (const std::string& spec : recipe.specs) apply_spec(tree, read_spec(spec));

  // 4. --remove; 5. the id maps.
  for (const std::string& path : recipe.removes) remove_path(tree, path);
  apply_id_maps(tree, recipe.id_maps);

  // 6. The password databases follow the master.passwd the image ends up with (a spec may
  // have given one), keeping the modes and owners the specs and the id maps gave them.
  if (recipe.stub_etc) regenerate_password_files(tree, stub, stub_options);
  if (!recipe.base_etc.empty()) regenerate_password_files(tree, base, stub_options);

  // 7. Directories the image needs at boot: nothing can be made at / once it is mounted.
  for (const auto& warning : add_directories(tree, recipe.tmpfs, "--tmpfs")) {
    if (recipe.warn) recipe.warn(warning);
  }
  add_directories(tree, recipe.mount_points, "--mount-point");
  add_directories(tree, recipe.disk_mount_points,
                  (recipe.disks_from.empty() ? "--config" : recipe.disks_from) + ": blk");

  // 8. The time clamp, last: it covers what the steps above made too.
  if (recipe.build_time) clamp_mtimes(tree, *recipe.build_time);
  return tree;
}

}  // namespace bakefs::build
