// serve(): a libfuse3 session that mounts and carries the request handlers of
// bakefs_fuse_ops.cpp.
// SPDX-License-Identifier: BSD-2-Clause
#define FUSE_USE_VERSION 312
#include "bakefs_fuse.h"

#include <fuse_lowlevel.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include "bakefs_fuse_ops.h"

namespace bakefs::fuse {
namespace {

// Owns the libfuse objects of one mount.
class Session {
 public:
  Session(const std::vector<std::string>& args, Context& context) {
    for (const auto& a : args) argv_.push_back(const_cast<char*>(a.c_str()));
    fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv_.size()), argv_.data());
    static const fuse_lowlevel_ops ops = make_ops();
    se_ = fuse_session_new(&fargs, &ops, sizeof(ops), &context);
    fuse_opt_free_args(&fargs);
    if (se_ == nullptr) throw std::runtime_error("cannot create the FUSE session (bad -o option?)");
  }
  ~Session() {
    if (mounted_) fuse_session_unmount(se_);
    if (signals_) fuse_remove_signal_handlers(se_);
    fuse_session_destroy(se_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void mount(const std::string& mountpoint) {
    if (fuse_set_signal_handlers(se_) != 0) throw std::runtime_error("cannot set signal handlers");
    signals_ = true;
    if (fuse_session_mount(se_, mountpoint.c_str()) != 0) {
      throw std::runtime_error(mountpoint +
                               ": cannot mount (is /dev/fuse there, is it a directory?)");
    }
    mounted_ = true;
  }
  int loop(unsigned max_threads) {
    fuse_loop_config* config = fuse_loop_cfg_create();
    if (max_threads != 0) fuse_loop_cfg_set_max_threads(config, max_threads);
    int r = fuse_session_loop_mt(se_, config);
    fuse_loop_cfg_destroy(config);
    return r;
  }

 private:
  std::vector<char*> argv_;
  fuse_session* se_ = nullptr;
  bool signals_ = false;
  bool mounted_ = false;
};

}  // namespace

int serve(const FileSystem& fs, const std::string& mountpoint, const ServeOptions& options) {
  DirectoryNames directory_names;
  bakefs_fsstat st{};
  if (fs.statfs(st) != BAKEFS_OK) throw std::runtime_error("cannot stat the file system");
  Context context{&fs, &directory_names, options.timeout, st.block_size};
  std::vector<std::string> args{"bakefs"};
  std::string opts = "ro,default_permissions,subtype=bakefs";
  if (!options.fsname.empty()) {
    std::string name;
    for (char ch : options.fsname) {  // commas separate options; escape them
      if (ch == ',' || ch == '\\') name += '\\';
      name += ch;
    }
    opts += ",fsname=" + name;
  }
  for (const auto& o : options.fuse_options) opts += "," + o;
  args.push_back("-o");
  args.push_back(opts);
  if (options.debug) args.push_back("-d");
  Session session(args, context);
  session.mount(mountpoint);
  if (fuse_daemonize(options.foreground || options.debug ? 1 : 0) != 0) {
    throw std::runtime_error("cannot go to the background");
  }
  // libfuse's signal handlers leave the signal number as the loop's result: a clean stop.
  int r = session.loop(options.max_threads);
  return r == 0 || r == SIGINT || r == SIGTERM || r == SIGHUP ? 0 : 1;
}

}  // namespace bakefs::fuse
