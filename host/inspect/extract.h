// bakefs extract: restore a tree from an image without ever writing outside the destination.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_INSPECT_EXTRACT_H
#define BAKEFS_HOST_INSPECT_EXTRACT_H

#include <string>

#include "inspect/open_image.h"

namespace bakefs::tool {

struct ExtractOptions {
  bool owners = false;   // restore uid/gid (needs root; the default when running as root)
  bool xattrs = true;    // restore extended attributes
  bool verbose = false;  // print each path
};

// Extracts PATH of the image (a directory's contents, or one file) into DEST, which is created
// if missing. Every name is checked and every file is created relative to its parent
// directory's descriptor with O_NOFOLLOW, so no symlink, in the image or already in DEST, is
// ever followed while writing. Unsafe names, duplicates and existing entries stop the
// extraction; the exit code is 0 only if everything, metadata included, was restored.
int extract(const OpenImage& image, const std::string& dest, const std::string& path,
            const ExtractOptions& options);

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_INSPECT_EXTRACT_H
