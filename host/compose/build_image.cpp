// build_image(): mkimage's work after its command line, in its order.
// SPDX-License-Identifier: BSD-2-Clause
#include "compose/build_image.h"

#include <bakefs/format.h>

#include "compose/boot_config.h"
#include "writer/build.h"
#include "writer/embed_object.h"
#include "writer/output.h"
#include "writer/tree_ops.h"

namespace bakefs::build {

Stats build_image(const ImageRecipe& image) {
  Options options = image.options;
  Recipe recipe = image.recipe;
  auto warn = [&recipe](const std::string& message) {
    if (recipe.warn) recipe.warn(message);
  };
  // Where the results go is checked before any source is read.
  check_output_path(image.output, "-o");
  if (!image.emit_object.empty()) check_output_path(image.emit_object, "--emit-object");
  if (!image.emit_asm.empty()) check_output_path(image.emit_asm, "--emit-asm");
  if (!image.config_file.empty()) options.config = read_config(image.config_file, image.config_raw);
  options.tmpfs = tmpfs_paths(image.tmpfs_lists);
  // No record is the default, plain; an explicit choice is recorded either way.
  if (image.root_mount == "plain") options.root_flags = format::kBootRootNoUnion;
  if (image.root_mount == "union") options.root_flags = 0;
  if (!image.mount_at.empty()) {
    if (!image.root_mount.empty() || !image.tmpfs_lists.empty()) {
      throw Error("--mount-at: --root-mount and --tmpfs describe the image at /, not one mounted at " +
                  image.mount_at);
    }
    options.mount_at = directory_paths({image.mount_at}, "--mount-at").at(0);
  }

  for (const auto& file : image.exclude_files) {
    for (auto& pattern : read_list_file(file)) recipe.excludes.push_back(pattern);
  }
  recipe.tmpfs = options.tmpfs;
  recipe.mount_points = directory_paths(image.mount_point_lists, "--mount-point");
  // Where the configuration's disks are mounted at run time (rumprun -b).
  if (!image.config_raw) recipe.disk_mount_points = config_mount_points(options.config);
  recipe.disks_from = "--config " + image.config_file;
  recipe.build_time = options.build_time;
  Tree tree = compose(recipe);

  if (!image.sort_file.empty()) {
    std::vector<std::string> missing;
    options.data_first = sort_order(tree, read_list_file(image.sort_file), missing);
    for (const auto& path : missing) warn(image.sort_file + ": " + path + ": not in the image");
  }
  if (image.composed) image.composed();
  // An image with --mount-at is not /: what / gets and lacks does not concern it.
  if ((!image.emit_object.empty() || !image.emit_asm.empty()) && options.mount_at.empty()) {
    for (const auto& warning :
         boot_root_warnings(tree, image.root_mount == "union", !recipe.base_etc.empty())) {
      warn(warning);
    }
  }
  Stats stats = write_image(tree, options, image.output);
  if (!image.emit_object.empty()) {
    auto elf = image.target.empty() ? host_elf_target() : find_elf_target(image.target);
    if (!elf) throw Error("--target: unknown architecture '" + image.target + "'");
    write_elf_object(image.output, image.emit_object, *elf);
  }
  if (!image.emit_asm.empty()) write_assembly(image.output, image.emit_asm);
  return stats;
}

}  // namespace bakefs::build
