// Reading a tar archive (plain or compressed, from a file or standard input) into a tree.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_TAR_SOURCE_H
#define BAKEFS_HOST_SOURCES_TAR_SOURCE_H

#include <functional>
#include <string>

#include "writer/tree.h"

namespace bakefs::build {

// Reads the tar archive at `path` ("-": standard input) with libarchive: ustar, pax and GNU
// tar, plain or compressed with gzip, bzip2, xz, lzma, lzip, zstd or lz4. Every entry type,
// numeric owners, nanosecond times, xattrs, sparse members (their holes stay holes) and hard
// links (to an earlier member) are kept. Names lose a leading "/" or "./"; a name with a ".."
// component is an error. A later member of the same name replaces an earlier one (a directory
// only takes the later attributes). Directories that hold members but have no entry of their
// own are made up with mode 0755, owner 0:0 and mtime 0, and marked implicit.
//
// Members' bytes are copied to one unnamed temporary file in $TMPDIR, which the returned tree
// keeps open (Tree::open_fds) and its Content points into. `warn` gets messages that do not
// stop the build (nullptr: none). Throws Error naming the archive and the member.
Tree read_tar(const std::string& path,
              const std::function<void(const std::string&)>& warn = nullptr);

// How an archive is named in messages: its path, or "standard input" for "-".
std::string tar_display_name(const std::string& path);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_TAR_SOURCE_H
