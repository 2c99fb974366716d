// bakefs: look into, check, extract and mount bakefs images (or programs with one linked in).
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs_fuse.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bakefs/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "extract.h"
#include "inspect.h"
#include "open_image.h"
#include "size_option.h"

namespace {

using bakefs::tool::kExitFailure;
using bakefs::tool::kExitOk;
using bakefs::tool::kExitUsage;

struct Args {
  std::string image, path, dest, mountpoint, cache = "0";
  bool long_format = false, recursive = false, json = false, quiet = false;
  bool foreground = false, debug = false, owners = false, no_owners = false, no_xattrs = false;
  bool verbose = false;
  std::vector<std::string> fuse_options;
};

void raise_fd_limit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// mount -o takes FUSE options and ours (cache=SIZE); returns false on a malformed size.
bool split_mount_options(const std::vector<std::string>& given, std::vector<std::string>& fuse,
                         size_t& cache_bytes) {
  for (const auto& group : given) {
    size_t start = 0;
    while (start <= group.size()) {
      size_t comma = group.find(',', start);
      std::string opt = group.substr(start, comma - start);
      start = comma == std::string::npos ? group.size() + 1 : comma + 1;
      if (opt.empty()) continue;
      if (opt.rfind("cache=", 0) == 0) {
        auto bytes = bakefs::build::parse_size(opt.substr(6));
        if (!bytes) return false;
        cache_bytes = static_cast<size_t>(*bytes);
        continue;
      }
      fuse.push_back(opt);
    }
  }
  return true;
}

int run_mount(const Args& a) {
  std::vector<std::string> fuse_options;
  size_t cache_bytes = 64u << 20;
  if (!split_mount_options(a.fuse_options, fuse_options, cache_bytes)) {
    std::fprintf(stderr, "bakefs: mount: bad cache size in -o\n");
    return kExitUsage;
  }
  auto image = bakefs::tool::open_image(a.image, cache_bytes);
  bakefs::fuse::ServeOptions options;
  options.foreground = a.foreground;
  options.debug = a.debug;
  options.fuse_options = fuse_options;
  options.fsname = a.image;
  return bakefs::fuse::serve(image.fs, a.mountpoint, options) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bakefs: look into, check, extract and mount bakefs images.\n"
      "IMAGE may also be a program with an image linked into it."};
  const std::string major = std::to_string(bakefs::format::kVersionMajor);
  const std::string minor = std::to_string(bakefs::format::kVersionMinor);
  app.set_version_flag("--version", "bakefs " BAKEFS_VERSION "\nreads bakefs image format " +
                                        major + ".0" +
                                        (minor == "0" ? "" : " to " + major + "." + minor) +
                                        " (later " + major +
                                        ".x images too, unless they need a feature it lacks)");
  app.require_subcommand(1);
  Args a;

  auto* ls = app.add_subcommand("ls", "list a directory (or a file) of the image");
  ls->add_option("image", a.image, "image")->required();
  ls->add_option("path", a.path, "path inside the image (default /)");
  ls->add_flag("-l", a.long_format, "long format: mode, links, owner, size, time");
  ls->add_flag("-R", a.recursive, "list subdirectories too");

  auto* cat = app.add_subcommand("cat", "write a file of the image to standard output");
  cat->add_option("image", a.image, "image")->required();
  cat->add_option("path", a.path, "path inside the image")->required();

  auto* stat = app.add_subcommand("stat", "show every attribute of a path in the image");
  stat->add_option("image", a.image, "image")->required();
  stat->add_option("path", a.path, "path inside the image")->required();

  auto* info = app.add_subcommand("info", "format, features, counts, sizes, compression, dedup");
  info->add_option("image", a.image, "image")->required();
  info->add_flag("--json", a.json, "print JSON");

  auto* config = app.add_subcommand(
      "config", "write the launch configuration stored with mkimage --config to standard output");
  config->add_option("image", a.image, "image")->required();

  auto* verify = app.add_subcommand(
      "verify", "check every checksum and structural rule; exit 0 only if sound");
  verify->add_option("image", a.image, "image")->required();
  verify->add_flag("-q,--quiet", a.quiet, "print only problems");

  auto* extract = app.add_subcommand("extract", "restore the tree (or PATH of it) into DEST");
  extract->add_option("image", a.image, "image")->required();
  extract->add_option("dest", a.dest, "destination directory (created if missing)")->required();
  extract->add_option("path", a.path, "path inside the image (default /)");
  extract->add_flag("--owners", a.owners, "restore owners (the default as root)");
  extract->add_flag("--no-owners", a.no_owners, "do not restore owners");
  extract->add_flag("--no-xattrs", a.no_xattrs, "do not restore extended attributes");
  extract->add_flag("-v,--verbose", a.verbose, "print each path");

  auto* mount = app.add_subcommand("mount", "mount the image with FUSE, read-only");
  mount->add_option("image", a.image, "image")->required();
  mount->add_option("mountpoint", a.mountpoint, "directory to mount on")->required();
  mount->add_flag("-f,--foreground", a.foreground, "stay in the foreground");
  mount->add_flag("-d,--debug", a.debug, "log every FUSE request (implies -f)");
  mount
      ->add_option("-o", a.fuse_options,
                   "options: cache=SIZE (block cache, default 64M), and FUSE's own such as "
                   "allow_other")
      ->allow_extra_args(false);
  mount->footer("Unmount with: fusermount3 -u MOUNTPOINT (or SIGINT/SIGTERM to the process).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  raise_fd_limit();
  try {
    if (*mount) return run_mount(a);
    auto image = bakefs::tool::open_image(a.image);
    if (*ls) return bakefs::tool::ls(image, a.path, a.long_format, a.recursive);
    if (*cat) return bakefs::tool::cat(image, a.path);
    if (*stat) return bakefs::tool::stat(image, a.path);
    if (*info) return bakefs::tool::info(image, a.json);
    if (*verify) return bakefs::tool::verify(image, a.quiet);
    if (*config) return bakefs::tool::config(image);
    if (*extract) {
      bakefs::tool::ExtractOptions options;
      options.owners = (a.owners || geteuid() == 0) && !a.no_owners;
      options.xattrs = !a.no_xattrs;
      options.verbose = a.verbose;
      return bakefs::tool::extract(image, a.dest, a.path, options);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakefs: %s\n", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
