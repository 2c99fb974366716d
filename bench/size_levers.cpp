// bakefs-size-levers: what each of mkimage's size levers is worth on a tree. Builds the tree
// with every lever off (the 1.0 layout: zstd's parameters for the level, one fragment stream,
// no filter), then with each lever alone, then with all (mkimage's default), then with the
// dictionary for full blocks too (not a default), and prints the
// image bytes, the ratio to the 1.0 layout, the blocks filtered and the build's CPU seconds.
// --placements: the 1.0 layout, then all levers as mkimage sets them for the block size (zstd
// tuned only up to 256 KiB, as without --optimize size) with each placement of files' data
// (Options::placement: by names, the 1.1 layout; by extension; by similarity, the default).
// --only NAME,NAME... builds only those variants (the first is what the ratios are to).
// --keep DIR keeps the images (base.img, all.img, ...) for bakefs-readall.
// SPDX-License-Identifier: BSD-2-Clause
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sources/scan_dir.h"
#include "util/size_option.h"
#include "writer/build.h"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

using bakefs::build::Placement;

struct Variant {
  const char* name;
  bool tuned, by_kind, x86, full_dictionary;
  Placement placement = Placement::kNames;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string keep, tree_path, block = "128K";
  int level = bakefs::build::Options{}.level;
  unsigned threads = 0;
  bool placements = false;
  std::string only;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--placements") {
      placements = true;
    } else if (args[i] == "--only" && i + 1 < args.size()) {
      only = "," + args[++i] + ",";
    } else if (args[i] == "--keep" && i + 1 < args.size()) {
      keep = args[++i];
    } else if (args[i] == "-b" && i + 1 < args.size()) {
      block = args[++i];
    } else if (args[i] == "-l" && i + 1 < args.size()) {
      level = std::atoi(args[++i].c_str());
    } else if (args[i] == "-j" && i + 1 < args.size()) {
      threads = static_cast<unsigned>(std::atoi(args[++i].c_str()));
    } else if (tree_path.empty() && args[i][0] != '-') {
      tree_path = args[i];
    } else {
      tree_path.clear();
      break;
    }
  }
  auto log = bakefs::build::parse_block_size(block);
  if (tree_path.empty() || !log) {
    std::fprintf(stderr,
                 "usage: bakefs-size-levers TREE [-b 128K] [-l LEVEL] [-j THREADS] "
                 "[--placements] [--only NAME,...] [--keep DIR]\n");
    return 2;
  }
  const std::vector<Variant> levers = {
      {"base", false, false, false, false},
      {"tuned", true, false, false, false},
      {"by_kind", false, true, false, false},
      {"x86", false, false, true, false},
      {"all", true, true, true, false, Placement::kSimilarity},
      {"all+full_dictionary", true, true, true, true, Placement::kSimilarity},
  };
  const std::vector<Variant> orders = {
      {"base", false, false, false, false},
      {"names", true, true, true, false},
      {"extension", true, true, true, false, Placement::kExtension},
      {"similarity", true, true, true, false, Placement::kSimilarity},
  };
  const std::vector<Variant>& variants = placements ? orders : levers;
  const std::string dir = keep.empty() ? std::string("/tmp") : keep;
  bakefs::build::Tree tree = bakefs::build::scan_directory(tree_path);
  std::printf("%s, %s blocks, zstd level %d\n", tree_path.c_str(), block.c_str(), level);
  std::printf("| variant | image bytes | / base | x86 blocks | fragments | build CPU s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  uint64_t base = 0;
  for (const Variant& v : variants) {
    if (!only.empty() && only.find("," + std::string(v.name) + ",") == std::string::npos) continue;
    bakefs::build::Options o;
    o.block_log = *log;
    o.level = level;
    o.threads = threads;
    o.tuned_parameters = v.tuned && (!placements || *log <= 18);  // mkimage_main.cpp's rule
    o.fragments_by_kind = v.by_kind;
    o.x86_filter = v.x86;
    o.dictionary_for_full_blocks = v.full_dictionary;
    o.placement = v.placement;
    const std::string image = dir + "/" + v.name + (keep.empty() ? ".levers.img" : ".img");
    const double before = cpu_seconds();
    bakefs::build::Stats s = bakefs::build::write_image(tree, o, image);
    const double cpu = cpu_seconds() - before;
    if (base == 0) base = s.image_bytes;
    std::printf("| %s | %llu | %.4f | %llu | %llu | %.2f |\n", v.name,
                static_cast<unsigned long long>(s.image_bytes),
                static_cast<double>(s.image_bytes) / static_cast<double>(base),
                static_cast<unsigned long long>(s.x86_blocks),
                static_cast<unsigned long long>(s.fragment_blocks), cpu);
    if (keep.empty()) std::remove(image.c_str());
  }
  return 0;
}
