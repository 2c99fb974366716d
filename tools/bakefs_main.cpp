// bakefs: look into, check, extract and mount bakefs images (or programs with one linked in).
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "inspect/extract.h"
#include "inspect/inspect.h"
#include "inspect/open_image.h"
#include "mount/mount.h"
#include "util/process_limits.h"
#include "util/text_escape.h"

namespace {

using bakefs::tool::kExitFailure;
using bakefs::tool::kExitOk;
using bakefs::tool::kExitUsage;

struct Args {
  std::string image, path, dest, mountpoint, cache = "0";
  bool long_format = false, recursive = false, json = false, quiet = false;
  bool foreground = false, debug = false, owners = false, no_owners = false, no_xattrs = false;
  bool verbose = false, no_follow = false, raw = false, over = false;
  std::vector<std::string> fuse_options;
};

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

  // Every value is named for what it is (IMAGE, PATH, DIR, ...), not its C++ type.
  auto add_image = [&a](CLI::App* command) {
    command
        ->add_option("image", a.image,
                     "the image: a file, a block device, or a program with one linked in")
        ->type_name("IMAGE")
        ->required();
  };
  auto add_no_follow = [&a](CLI::App* command) {
    command->add_flag("--no-follow", a.no_follow,
                      "do not follow symlinks inside the image while resolving PATH (by "
                      "default they are followed as in a chroot at the image's root)");
  };

  auto* ls = app.add_subcommand("ls", "list a directory (or a file) of the image");
  add_image(ls);
  ls->add_option("path", a.path, "path inside the image (default /)")->type_name("PATH");
  ls->add_flag("-l", a.long_format, "long format: mode, links, owner, size, time");
  ls->add_flag("-R", a.recursive, "list subdirectories too");
  ls->add_flag("--raw", a.raw,
               "print names as they are; by default control bytes and bytes that are not "
               "UTF-8 are escaped (\\n, \\ooo) as ls -b does");
  add_no_follow(ls);

  auto* cat = app.add_subcommand("cat", "write a file of the image to standard output");
  add_image(cat);
  cat->add_option("path", a.path, "path inside the image")->type_name("PATH")->required();
  add_no_follow(cat);

  auto* stat = app.add_subcommand("stat", "show every attribute of a path in the image");
  add_image(stat);
  stat->add_option("path", a.path, "path inside the image")->type_name("PATH")->required();
  add_no_follow(stat);

  auto* info = app.add_subcommand("info", "format, features, counts, sizes, compression, dedup");
  add_image(info);
  info->add_flag("--json", a.json, "print JSON");

  auto* config = app.add_subcommand(
      "config", "write the launch configuration stored with mkimage --config to standard output");
  add_image(config);

  auto* verify = app.add_subcommand(
      "verify", "check every checksum and structural rule; exit 0 only if sound");
  add_image(verify);
  verify->add_flag("-q,--quiet", a.quiet, "print only problems");

  auto* extract = app.add_subcommand("extract", "restore the tree (or PATH of it) into DEST");
  add_image(extract);
  extract->add_option("dest", a.dest, "destination directory (created if missing)")
      ->type_name("DEST")
      ->required();
  extract->add_option("path", a.path, "path inside the image (default /)")->type_name("PATH");
  extract->add_flag("--owners", a.owners, "restore owners (the default as root)");
  extract->add_flag("--no-owners", a.no_owners, "do not restore owners");
  extract->add_flag("--no-xattrs", a.no_xattrs, "do not restore extended attributes");
  extract->add_flag("-v,--verbose", a.verbose, "print each path (escaped unless --raw)");
  extract->add_flag("--raw", a.raw, "print the paths of -v as they are");
  add_no_follow(extract);

  auto* mount = app.add_subcommand("mount", "mount the image with FUSE, read-only");
  add_image(mount);
  mount->add_option("mountpoint", a.mountpoint, "directory to mount on")
      ->type_name("MOUNTPOINT")
      ->required();
  mount->add_flag("-f,--foreground", a.foreground, "stay in the foreground");
  mount->add_flag("-d,--debug", a.debug, "log every FUSE request (implies -f)");
  mount->add_flag("--over", a.over,
                  "mount even if something is mounted on MOUNTPOINT already (on top of it)");
  mount
      ->add_option("-o", a.fuse_options,
                   "options: cache=SIZE (block cache, default 64M), and FUSE's own such as "
                   "allow_other")
      ->type_name("OPTIONS")
      ->allow_extra_args(false);
  mount->footer("Unmount with: fusermount3 -u MOUNTPOINT (or SIGINT/SIGTERM to the process).");

  // An unknown command is named, with the known ones (CLI11 would only say that one is needed).
  std::string known;
  bool is_known = false;
  for (const CLI::App* command : {ls, cat, stat, info, config, verify, extract, mount}) {
    known += (known.empty() ? "" : ", ") + command->get_name();
    is_known = is_known || (argc >= 2 && command->get_name() == argv[1]);
  }
  if (argc < 2) {
    std::fprintf(stderr, "bakefs: a command is needed: %s (bakefs --help tells more)\n",
                 known.c_str());
    return kExitUsage;
  }
  if (argv[1][0] != '-' && !is_known) {
    std::fprintf(stderr, "bakefs: unknown command '%s'; the commands are: %s\n",
                 bakefs::tool::escape_text(argv[1]).c_str(), known.c_str());
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  bakefs::tool::raise_open_file_limit();
  try {
    if (*mount) {
      bakefs::tool::MountRequest request;
      request.image = a.image;
      request.mountpoint = a.mountpoint;
      request.foreground = a.foreground;
      request.debug = a.debug;
      request.over = a.over;
      request.options = a.fuse_options;
      return bakefs::tool::mount_image(request);
    }
    auto image = bakefs::tool::open_image(a.image);
    image.follow = !a.no_follow;
    image.raw = a.raw;
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
    std::fprintf(stderr, "bakefs: %s\n", bakefs::tool::escape_text(e.what()).c_str());
    return kExitFailure;
  }
  return kExitUsage;
}
