// Layers: sources merged in order into one tree, later ones winning, with OCI whiteouts; and
// paths removed from the result.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_LAYERS_H
#define BAKEFS_HOST_SOURCES_LAYERS_H

#include <functional>
#include <string>

#include "sources/scan_dir.h"
#include "writer/tree.h"

namespace bakefs::build {

struct LayerOptions {
  // Honour whiteouts in directory sources too (tar sources always honour them): ".wh.NAME"
  // removes NAME of the lower layers, ".wh..wh..opq" hides all of a directory's lower contents.
  bool whiteouts = false;
  // Messages that do not stop the build; nullptr: none.
  std::function<void(const std::string&)> warn;
  // How directory sources are read (exclusions, unreadable entries); tar sources lose what
  // scan.skip excludes too.
  ScanOptions scan;
};

// A tree with only a root directory (mode 0755, owner 0:0, mtime 0, implicit): what the first
// source is merged into.
Tree empty_tree();

// Reads one source: a directory ("-" is never one), or else a tar archive ("-": standard
// input). Every directory of the result names the source (Inode::layer).
Tree read_source(const std::string& source, const LayerOptions& options);

// Merges `upper` over `lower`, with `whiteouts` deciding whether upper's ".wh." entries are
// whiteouts (they never reach the result then) or plain files:
// - a name only in upper is added, one in both takes upper's entry, where both are directories
//   they merge and upper's attributes win (unless upper's directory is implicit);
// - a non-directory of upper over a non-empty directory of lower is an error naming both
//   sources and the path, unless upper removed that directory first (a whiteout, an opaque
//   parent);
// - inodes move, so a hard-link group of either side stays one; a name that upper replaces
//   leaves its group, whose other names keep the old content.
// The descriptors that upper's contents are read through move to lower.
void overlay(Tree& lower, Tree&& upper, bool whiteouts);

// read_source() and overlay() in one: the whiteouts of tar sources are always honoured.
void add_layer(Tree& tree, const std::string& source, const LayerOptions& options);

// Removes `path` ("/a/b", "a/b"; never the root, no "..") and everything below it. Throws Error
// if there is no such path: a removal that removes nothing is a mistake in the command line.
void remove_path(Tree& tree, const std::string& path);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_LAYERS_H
