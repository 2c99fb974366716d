// `bakefs mount -f` in a child process for the tests: mounted when constructed (or the child
// has exited), unmounted when destroyed.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TEST_FUSE_MOUNT_H
#define BAKEFS_TEST_FUSE_MOUNT_H

#include <sys/types.h>

#include <string>
#include <vector>

namespace bakefs::test {

bool fuse_available();            // /dev/fuse can be opened
bool is_mounted(const std::string& path);  // path is the root of a mount
int shell(const std::string& command);     // exit status of sh -c command (-1 if killed)

class FuseMount {
 public:
  FuseMount(const std::string& bakefs, const std::string& image, const std::string& mountpoint,
            std::vector<std::string> extra = {});
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;
  bool mounted() const { return is_mounted(mountpoint_); }
  // Sends a signal and returns the exit status of bakefs.
  int stop(int signal);
  int wait_exit();

 private:
  std::string mountpoint_;
  pid_t pid_ = -1;
};

}  // namespace bakefs::test

#endif  // BAKEFS_TEST_FUSE_MOUNT_H
