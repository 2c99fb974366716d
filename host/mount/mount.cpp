// bakefs mount: -o split by libfuse's parser, the mount point checked, the image served.
// SPDX-License-Identifier: BSD-2-Clause
#define FUSE_USE_VERSION 312
#include "mount/mount.h"

#include <bakefs_fuse.h>
#include <fuse3/fuse_opt.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "inspect/inspect.h"
#include "inspect/open_image.h"
#include "util/size_option.h"
#include "util/text_escape.h"

namespace bakefs::tool {

bool split_mount_options(const std::vector<std::string>& given, std::vector<std::string>& fuse,
                         size_t& cache_bytes) {
  struct Ours {
    char* cache = nullptr;
  } ours;
  static const fuse_opt kOurs[] = {{"cache=%s", offsetof(Ours, cache), 0}, FUSE_OPT_END};
  fuse_args args = FUSE_ARGS_INIT(0, nullptr);
  bool ok = fuse_opt_add_arg(&args, "bakefs") == 0;
  for (const auto& group : given) {
    ok = ok && fuse_opt_add_arg(&args, "-o") == 0 && fuse_opt_add_arg(&args, group.c_str()) == 0;
  }
  ok = ok && fuse_opt_parse(&args, &ours, kOurs, nullptr) == 0;
  // What is not ours comes back as "-o" followed by the options, or as "-oOPTIONS".
  for (int i = 1; ok && i < args.argc; ++i) {
    const std::string arg = args.argv[i];
    if (arg == "-o" && i + 1 < args.argc) {
      fuse.push_back(args.argv[++i]);
    } else if (arg.size() > 2 && arg.rfind("-o", 0) == 0) {
      fuse.push_back(arg.substr(2));
    } else {
      ok = false;
    }
  }
  fuse_opt_free_args(&args);
  if (ours.cache != nullptr) {
    auto bytes = bakefs::build::parse_size(ours.cache);
    std::free(ours.cache);
    if (!bytes) return false;
    cache_bytes = static_cast<size_t>(*bytes);
  }
  return ok;
}

std::vector<std::string> parse_mountinfo(std::istream& in) {
  std::vector<std::string> points;
  for (std::string line; std::getline(in, line);) {
    size_t start = 0;
    for (int field = 0; field < 4 && start != std::string::npos; ++field) {
      start = line.find(' ', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) continue;
    std::string escaped = line.substr(start, line.find(' ', start) - start), point;
    for (size_t i = 0; i < escaped.size(); ++i) {
      if (escaped[i] == '\\' && i + 3 < escaped.size() && escaped[i + 1] >= '0' &&
          escaped[i + 1] <= '3') {
        point += static_cast<char>(std::strtol(escaped.substr(i + 1, 3).c_str(), nullptr, 8));
        i += 3;
      } else {
        point += escaped[i];
      }
    }
    points.push_back(point);
  }
  return points;
}

std::string mount_point_problem(const std::string& mountpoint, bool over) {
  struct stat st;
  if (::stat(mountpoint.c_str(), &st) != 0) {
    if (errno == ENOTCONN) {
      return "a FUSE mount whose server has gone; unmount it first (fusermount3 -u " +
             mountpoint + ")";
    }
    return std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  if (over) return "";
  char resolved[PATH_MAX];
  if (realpath(mountpoint.c_str(), resolved) == nullptr) return std::strerror(errno);
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (const auto& point : parse_mountinfo(mountinfo)) {
    if (point == resolved) {
      return "something is mounted there already; unmount it first, or give --over to mount "
             "on top of it";
    }
  }
  return "";
}

int mount_image(const MountRequest& a) {
  if (std::string why = mount_point_problem(a.mountpoint, a.over); !why.empty()) {
    std::fprintf(stderr, "bakefs: mount: %s: %s\n", escape_text(a.mountpoint).c_str(),
                 escape_text(why).c_str());
    return kExitFailure;
  }
  std::vector<std::string> fuse_options;
  size_t cache_bytes = 64u << 20;
  if (!split_mount_options(a.options, fuse_options, cache_bytes)) {
    std::fprintf(stderr, "bakefs: mount: bad -o options (cache=SIZE takes 64M, 1G, ...)\n");
    return kExitUsage;
  }
  auto image = open_image(a.image, cache_bytes);
  bakefs::fuse::ServeOptions options;
  options.foreground = a.foreground;
  options.debug = a.debug;
  options.fuse_options = fuse_options;
  options.fsname = a.image;
  return bakefs::fuse::serve(image.fs, a.mountpoint, options) == 0 ? kExitOk : kExitFailure;
}

}  // namespace bakefs::tool
