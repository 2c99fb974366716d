// mkimage: build a bakefs image from directory trees and tar archives.
// SPDX-License-Identifier: BSD-2-Clause
#include <unistd.h>

#include <bakefs/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "compose/build_image.h"
#include "sources/idmap.h"
#include "util/process_limits.h"
#include "util/progress.h"
#include "util/size_option.h"
#include "util/text_escape.h"
#include "writer/embed_object.h"
#include "writer/output.h"

namespace {

void print_summary(const bakefs::build::Stats& s, double seconds) {
  using bakefs::build::format_size;
  auto ull = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("inodes %llu: %llu directories, %llu files, %llu symlinks, %llu other\n",
              ull(s.inodes), ull(s.directories), ull(s.files), ull(s.symlinks), ull(s.specials));
  std::printf("file data %s -> %s stored in %llu blocks (%llu raw, %llu fragments), ratio %.3f\n",
              format_size(s.file_bytes).c_str(), format_size(s.data_bytes).c_str(),
              ull(s.blocks_stored), ull(s.blocks_raw), ull(s.fragment_blocks),
              s.file_bytes != 0 ? static_cast<double>(s.data_bytes) / static_cast<double>(s.file_bytes)
                                : 0.0);
  std::printf("deduplicated %llu blocks and tails (%s), %llu holes\n", ull(s.dedup_blocks),
              format_size(s.dedup_bytes).c_str(), ull(s.hole_blocks));
  if (s.dictionary_bytes != 0) {
    std::printf("zstd dictionary of %s trained on the tree\n",
                format_size(s.dictionary_bytes).c_str());
  }
  std::printf("metadata %s, image %s, %u threads, %.2f s\n", format_size(s.metadata_bytes).c_str(),
              format_size(s.image_bytes).c_str(), s.threads, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mkimage: build a compressed, read-only bakefs image from directory trees and tar\n"
      "archives, merged in order as layers. Trees are read without following symlinks;\n"
      "every file type, mode, owner, time and extended attribute is kept. The same input\n"
      "gives the same image."};
  app.set_version_flag("--version", "mkimage (bakefs) " BAKEFS_VERSION "\nwrites bakefs image format " +
                                        std::to_string(bakefs::format::kVersionMajor) + "." +
                                        std::to_string(bakefs::format::kVersionMinor));
  std::vector<std::string> sources, removes;
  std::string output, block_size = "128K";
  bakefs::build::Options options;
  bool verbose = false, no_fragments = false, no_dedup = false;
  app.add_option("sources", sources,
                 "directories and tar archives (plain or gzip, bzip2, xz, zstd, lz4; '-' reads "
                 "one from standard input), merged in order: later ones win")
      ->type_name("SOURCE")
      ->required();
  bool whiteouts = false;
  app.add_flag("--whiteouts", whiteouts,
               "honour whiteouts (.wh.NAME, .wh..wh..opq) in directory sources too; tar "
               "sources always honour them");
  app.add_option("--remove", removes,
                 "remove PATH and everything below it from the merged tree (repeatable); a "
                 "PATH that is not there is an error")
      ->type_name("PATH")
      ->allow_extra_args(false);  // one PATH per --remove: what follows is a source
  app.add_option("-o,--output", output,
                 "image FILE to write (replaced atomically; checked before any work: it must be "
                 "a new name or a regular file, in a writable directory)")
      ->type_name("FILE")
      ->required();
  app.add_option("-b,--block-size", block_size, "data block size, 4K..1M, a power of two")
      ->type_name("SIZE")
      ->capture_default_str();
  app.add_option("-l,--level", options.level, "zstd compression level, 1..22")
      ->type_name("LEVEL")
      ->capture_default_str();  // the range is checked after parsing, with a clear message
  app.add_option("-j,--threads", options.threads,
                 "compression threads; 0 (the default) means one per core")
      ->type_name("N");
  app.add_flag("--no-fragments", no_fragments, "store file tails in blocks of their own");
  app.add_flag("--no-dedup", no_dedup, "store identical blocks again");
  bool no_dictionary = false;
  std::string dictionary_size = "112K";
  app.add_option("--dictionary", dictionary_size,
                 "largest zstd dictionary to train on the tree (it is left out when there is "
                 "too little to learn from)")
      ->type_name("SIZE")
      ->capture_default_str();
  app.add_flag("--no-dictionary", no_dictionary, "compress every block on its own");
  app.add_flag("-v,--verbose", verbose, "print a summary");
  std::string optimize;
  app.add_option("--optimize", optimize,
                 "presets: size (1M blocks, level 19, zstd tuned to the block size: smallest, "
                 "slower reads), balanced (128K, level 14: the default), "
                 "speed (64K, level 6: faster builds and random reads); -b and -l still win")
      ->type_name("PRESET")
      ->check(CLI::IsMember({"size", "balanced", "speed"}));
  std::vector<std::string> excludes, exclude_files;
  app.add_option("--exclude", excludes,
                 "leave out entries matching PATTERN: a name at any depth ('*.pyc'), or, with a "
                 "'/', a path from the root ('usr/share/doc/*'); repeatable")
      ->type_name("PATTERN")
      ->allow_extra_args(false);
  app.add_option("--exclude-from", exclude_files, "read --exclude patterns from FILE, one a line")
      ->type_name("FILE")
      ->allow_extra_args(false);
  std::string sort_file;
  app.add_option("--sort", sort_file,
                 "write the data of the files FILE lists first, in its order (a directory "
                 "stands for the files beneath it): what a program reads at boot, together")
      ->type_name("FILE");
  std::string mtime;
  app.add_option("--mtime", mtime,
                 "clamp every time to SECONDS since the epoch and make it the image's time, "
                 "for reproducible builds (as SOURCE_DATE_EPOCH does; --mtime wins)")
      ->type_name("SECONDS");
  bool ignore_errors = false, no_progress = false;
  app.add_flag("--ignore-errors", ignore_errors,
               "leave out unreadable files and directories with a warning, instead of failing");
  app.add_flag("--no-progress", no_progress, "no progress line, even on a terminal");
  std::string root_mount;
  app.add_option("--root-mount", root_mount,
                 "how the rump component mounts the image as / at boot: plain (the default: "
                 "the image alone; the component adds /dev, /tmp and /etc where the image has "
                 "none) or union (over the rump kernel's own root; see platform/rump/README.md "
                 "for what that breaks)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"union", "plain"}));
  std::string mount_at;
  app.add_option("--mount-at", mount_at,
                 "the rump component mounts this image at PATH, after the image at /, when both "
                 "are linked into one program (a base image and an application image); PATH "
                 "must be a directory of the image at / (--mount-point there; at its top level "
                 "the component adds it)")
      ->type_name("PATH");
  std::string config_file;
  bool config_raw = false;
  std::vector<std::string> tmpfs_lists;
  app.add_option("--config", config_file,
                 "store FILE as the launch configuration (rumprun: its JSON), for the boot "
                 "code to find in the image")
      ->type_name("FILE");
  app.add_flag("--config-raw", config_raw, "store --config as is, without checking it is JSON");
  app.add_option("--tmpfs", tmpfs_lists,
                 "directories to cover with a tmpfs at boot, after / is mounted: "
                 "--tmpfs /tmp,/var/run (created in the image if missing)")
      ->type_name("DIR[,DIR...]")
      ->allow_extra_args(false);
  std::vector<std::string> mount_point_lists;
  app.add_option("--mount-point", mount_point_lists,
                 "directories something is mounted on at run time (rumprun -b disk,/data): "
                 "created in the image if missing, since nothing can be made at / once it is "
                 "mounted; the disks of --config are added by themselves")
      ->type_name("DIR[,DIR...]");
  bool stub_etc = false;
  app.add_flag("--stub-etc", stub_etc,
               "add a minimal NetBSD /etc (users and their databases, groups, hosts, services, "
               "...) beneath the source's own files");
  std::string base_etc;
  app.add_option("--base-etc", base_etc,
                 "merge the files of DIR into the image's /etc, beneath the sources' and "
                 "--stub-etc's (theirs win): a platform's own /etc, such as rumprun's "
                 "RRDEST/share/rumprun/rumprunfs_base/etc, owned by root, 0644 (master.passwd "
                 "and spwd.db 0600), dated like the newest source file")
      ->type_name("DIR");
  std::string emit_object, emit_asm, target;
  app.add_option("--emit-object", emit_object,
                 "also write an ELF object holding the image, to link into a program "
                 "(section bakefs_image, see bakefs/embed.h)")
      ->type_name("FILE");
  app.add_option("--emit-asm", emit_asm,
                 "also write assembly that .incbin's the image into that section (for any "
                 "cross toolchain; preferred for arm and riscv64)")
      ->type_name("FILE");
  std::string targets;
  for (const auto& t : bakefs::build::elf_targets())
    targets += (targets.empty() ? "" : ", ") + t.name;
  app.add_option("--target", target,
                 "architecture of --emit-object: " + targets + " (default: the host's)")
      ->type_name("ARCH");
  std::vector<std::string> specs, uid_maps, gid_maps;
  bool all_root = false;
  app.add_option("--spec", specs,
                 "mtree(5) spec file that sets, creates or removes entries (repeatable; "
                 "applied in order, after the source)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--uid-map", uid_maps,
                 "FROM:TO or FIRST-LAST:TO: rewrite owners after the spec (repeatable; the "
                 "first rule that covers an id wins)")
      ->type_name("RULE")
      ->allow_extra_args(false);
  app.add_option("--gid-map", gid_maps, "FROM:TO or FIRST-LAST:TO, as --uid-map for groups")
      ->type_name("RULE")
      ->allow_extra_args(false);
  app.add_flag("--all-root", all_root, "make every owner and group 0, after the maps");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!optimize.empty()) {
    const bool size = optimize == "size", speed = optimize == "speed";
    if (app.count("--block-size") == 0) block_size = size ? "1M" : speed ? "64K" : "128K";
    if (app.count("--level") == 0) options.level = size ? 19 : speed ? 6 : 14;
    std::printf("mkimage: --optimize %s: %s blocks, zstd level %d%s\n", optimize.c_str(),
                block_size.c_str(), options.level,
                size ? ", zstd's search tuned to the block size" : "");
  }
  if (options.level < 1 || options.level > 22) {
    std::fprintf(stderr, "mkimage: invalid zstd level %d (1..22)\n", options.level);
    return 2;
  }
  auto log = bakefs::build::parse_block_size(block_size);
  if (!log) {
    std::fprintf(stderr, "mkimage: invalid block size '%s' (4K..1M, a power of two)\n",
                 block_size.c_str());
    return 2;
  }
  options.block_log = *log;
  // zstd's parameters tuned to the block size: up to 256 KiB smaller and faster to read; above,
  // smaller but 1.4-1.7x slower to read (docs/PERFORMANCE.md), so only for --optimize size.
  options.tuned_parameters = optimize == "size" || options.block_log <= 18;
  // Alike tails together: up to 256 KiB 0.4-0.9% smaller for 6% more blocks decompressed by a
  // read of the whole tree in order; at 1 MiB 0.2-0.6% smaller for 12-30% more, so there
  // only for --optimize size (docs/PERFORMANCE.md, "Placement by similarity").
  options.placement = optimize == "size" || options.block_log <= 18
                          ? bakefs::build::Placement::kSimilarity
                          : bakefs::build::Placement::kNames;
  options.fragments = !no_fragments;
  auto dictionary_bytes = bakefs::build::parse_size(dictionary_size);
  if (!dictionary_bytes || *dictionary_bytes > (1u << 20)) {
    std::fprintf(stderr, "mkimage: invalid dictionary size '%s' (up to 1M)\n",
                 dictionary_size.c_str());
    return 2;
  }
  options.dictionary_size = no_dictionary ? 0 : static_cast<size_t>(*dictionary_bytes);
  options.dedup = !no_dedup;
  const char* epoch_env = std::getenv("SOURCE_DATE_EPOCH");
  const bool from_env = mtime.empty() && epoch_env != nullptr && *epoch_env != '\0';
  if (from_env) mtime = epoch_env;
  if (!mtime.empty()) {
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(mtime.c_str(), &end, 10);
    if (*end != '\0' || errno != 0) {
      std::fprintf(stderr, "mkimage: %s is not a number of seconds: %s\n",
                   from_env ? "SOURCE_DATE_EPOCH" : "--mtime", mtime.c_str());
      return 2;
    }
    options.build_time = value;
  }
  if (std::count(sources.begin(), sources.end(), "-") > 1) {
    std::fprintf(stderr, "mkimage: standard input ('-') can be read only once\n");
    return 2;
  }
  bakefs::build::IdMaps id_maps;
  id_maps.all_root = all_root;
  for (auto [rules, out, name] : {std::tuple{&uid_maps, &id_maps.uids, "--uid-map"},
                                  std::tuple{&gid_maps, &id_maps.gids, "--gid-map"}}) {
    for (const std::string& rule : *rules) {
      auto range = bakefs::build::parse_id_range(rule);
      if (!range) {
        std::fprintf(stderr, "mkimage: %s: invalid rule '%s' (FROM:TO or FIRST-LAST:TO)\n", name,
                     rule.c_str());
        return 2;
      }
      out->push_back(*range);
    }
  }
  bakefs::tool::raise_open_file_limit();
  bakefs::build::remove_temporaries_on_signals();
  auto warn = [](const std::string& message) {
    std::fprintf(stderr, "mkimage: warning: %s\n", bakefs::tool::escape_text(message).c_str());
  };
  bakefs::build::ImageRecipe image;
  image.recipe.sources = sources;
  image.recipe.whiteouts = whiteouts;
  image.recipe.excludes = excludes;
  image.exclude_files = exclude_files;
  image.recipe.ignore_errors = ignore_errors;
  image.recipe.stub_etc = stub_etc;
  image.recipe.base_etc = base_etc;
  image.recipe.specs = specs;
  image.recipe.removes = removes;
  image.recipe.id_maps = id_maps;
  image.recipe.warn = warn;
  image.options = options;
  image.output = output;
  image.config_file = config_file;
  image.config_raw = config_raw;
  image.tmpfs_lists = tmpfs_lists;
  image.mount_point_lists = mount_point_lists;
  image.root_mount = root_mount;
  image.mount_at = mount_at;
  image.sort_file = sort_file;
  image.emit_object = emit_object;
  image.emit_asm = emit_asm;
  image.target = target;
  auto start = std::chrono::steady_clock::now();
  try {
    std::unique_ptr<bakefs::build::ProgressMeter> meter;
    if (!no_progress && isatty(STDERR_FILENO)) {
      // The line starts when the writer does, not while the sources are read.
      image.composed = [&meter] { meter = std::make_unique<bakefs::build::ProgressMeter>(stderr); };
      image.options.progress = [&meter](uint64_t files, uint64_t bytes, uint64_t total_files,
                                        uint64_t total_bytes) {
        meter->update(files, bytes, total_files, total_bytes);
      };
    }
    bakefs::build::Stats stats = bakefs::build::build_image(image);
    if (meter) meter->finish();
    if (verbose) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      print_summary(stats, took.count());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mkimage: %s\n", bakefs::tool::escape_text(e.what()).c_str());
    return 1;
  }
  return 0;
}
