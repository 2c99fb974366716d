// The fuse platform: a mounted bakefs image served to the Linux kernel through libfuse3's
// low-level API, read-only, with kernel caching on.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_PLATFORM_FUSE_H
#define BAKEFS_PLATFORM_FUSE_H

#include <bakefs/bakefs.hpp>

#include <string>
#include <vector>

namespace bakefs::fuse {

struct ServeOptions {
  bool foreground = false;   // stay in the foreground (else daemonize once mounted)
  bool debug = false;        // libfuse's request log (implies foreground)
  double timeout = 86400.0;  // entry and attribute cache timeout: the image never changes
  unsigned max_threads = 0;  // 0: libfuse's default
  std::vector<std::string> fuse_options;  // passed on as -o options (allow_other, ...)
  std::string fsname;                     // shown in /proc/mounts (default: the image path)
};

// Mounts `fs` on `mountpoint` and serves requests until it is unmounted (fusermount3 -u,
// umount) or the process gets SIGINT, SIGTERM or SIGHUP; then unmounts. Returns 0 after a
// clean unmount; throws std::runtime_error if the mount cannot be set up.
int serve(const FileSystem& fs, const std::string& mountpoint, const ServeOptions& options);

}  // namespace bakefs::fuse

#endif  // BAKEFS_PLATFORM_FUSE_H
