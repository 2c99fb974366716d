// bakefs mount's own work (host/mount/mount.h): -o split between FUSE and bakefs, mountinfo
// read, the mount point checked. (The mount itself is tested in fuse_test and cli_test.)
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "mount/mount.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

TEST(MountOptions, CacheIsOursTheRestGoesToFuse) {
  std::vector<std::string> fuse;
  size_t cache = 7;
  ASSERT_TRUE(tool::split_mount_options({"cache=2M,noatime", "fsname=one\\,two"}, fuse, cache));
  EXPECT_EQ(cache, 2u << 20);
  // FUSE gets the rest as one list, its "\\," kept for FUSE's own parser to unescape.
  EXPECT_EQ(fuse, (std::vector<std::string>{"noatime,fsname=one\\,two"}));

  fuse.clear();
  cache = 7;
  ASSERT_TRUE(tool::split_mount_options({"allow_other"}, fuse, cache));
  EXPECT_EQ(cache, 7u) << "no cache=: the caller's default stays";
  EXPECT_EQ(fuse, (std::vector<std::string>{"allow_other"}));

  fuse.clear();
  EXPECT_FALSE(tool::split_mount_options({"cache=1X"}, fuse, cache)) << "a malformed size";
}

TEST(MountInfo, TheFifthFieldWithItsEscapesUndone) {
  std::istringstream in(
      "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
      "36 22 98:0 /mnt1 /mnt/with\\040space\\011tab rw,noatime master:1 - ext3 /dev/sda1 rw\n"
      "37 22 0:5 / /back\\134slash rw - tmpfs none rw\n"
      "short line\n");
  EXPECT_EQ(tool::parse_mountinfo(in),
            (std::vector<std::string>{"/", "/mnt/with space\ttab", "/back\\slash"}));
}

TEST(MountPoint, ADirectoryWithoutAMountOnIt) {
  TempDir dir;
  make_dir(dir / "mnt");
  write_file(dir / "file", "x");
  EXPECT_EQ(tool::mount_point_problem(dir / "mnt", false), "");
  EXPECT_EQ(tool::mount_point_problem(dir / "file", false), "not a directory");
  EXPECT_EQ(tool::mount_point_problem(dir / "missing", false), std::strerror(ENOENT));
  // "/" is a mount in every mount namespace.
  EXPECT_NE(tool::mount_point_problem("/", false).find("something is mounted there already"),
            std::string::npos);
  EXPECT_EQ(tool::mount_point_problem("/", true), "") << "--over mounts on top";
}

}  // namespace
}  // namespace bakefs::test
