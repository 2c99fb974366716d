// FuseMount.
// SPDX-License-Identifier: BSD-2-Clause
#include "fuse_mount.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "test_support.h"

namespace bakefs::test {

bool fuse_available() {
  return access("/dev/fuse", R_OK | W_OK) == 0;
}

bool is_mounted(const std::string& path) {
  struct stat here, parent;
  if (stat(path.c_str(), &here) != 0 || stat((path + "/..").c_str(), &parent) != 0) return false;
  return here.st_dev != parent.st_dev;
}

int shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

FuseMount::FuseMount(const std::string& bakefs, const std::string& image,
                     const std::string& mountpoint, std::vector<std::string> extra)
    : mountpoint_(mountpoint) {
  make_dir(mountpoint);
  pid_ = fork();
  if (pid_ == 0) {
    std::vector<std::string> args{bakefs, "mount", "-f", image, mountpoint};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bakefs.c_str(), argv.data());
    _exit(127);
  }
  for (int i = 0; i < 200 && !is_mounted(mountpoint); ++i) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

FuseMount::~FuseMount() {
  if (pid_ > 0) {
    shell("fusermount3 -u " + mountpoint_ + " 2>/dev/null");
    int status;
    waitpid(pid_, &status, 0);
  }
}

int FuseMount::stop(int signal) {
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int FuseMount::wait_exit() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace bakefs::test
