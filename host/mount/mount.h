// bakefs mount: the -o options split between FUSE and bakefs, the checks on the mount point,
// and the image served through platform/fuse.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_MOUNT_MOUNT_H
#define BAKEFS_HOST_MOUNT_MOUNT_H

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace bakefs::tool {

// mount -o takes FUSE options and ours (cache=SIZE), split by libfuse's own option parser
// (commas separate options, '\\,' is a comma inside one); returns false on a malformed size
// or option list.
bool split_mount_options(const std::vector<std::string>& given, std::vector<std::string>& fuse,
                         size_t& cache_bytes);

// The mount points a /proc/self/mountinfo lists (field 5, with its octal escapes undone).
std::vector<std::string> parse_mountinfo(std::istream& in);

// Why `mountpoint` cannot take the image (empty if it can): it must be a directory, and one
// that holds no mount already (in /proc/self/mountinfo) unless `over` asks to mount on top.
std::string mount_point_problem(const std::string& mountpoint, bool over);

struct MountRequest {
  std::string image, mountpoint;
  bool foreground = false, debug = false, over = false;
  std::vector<std::string> options;  // the -o groups, as given
};

// Checks the mount point and the options, opens the image and serves it until it is
// unmounted. Problems with the mount point or the options are printed ("bakefs: mount: ...");
// returns kExitOk, kExitFailure or kExitUsage (inspect.h); a damaged image throws.
int mount_image(const MountRequest& request);

}  // namespace bakefs::tool

#endif  // BAKEFS_HOST_MOUNT_MOUNT_H
