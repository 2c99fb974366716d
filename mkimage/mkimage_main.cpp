// mkimage: build a bakefs image from a directory tree.
// SPDX-License-Identifier: BSD-2-Clause
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "build.h"
#include "embed_object.h"
#include "size_option.h"
#include "stub_etc.h"

namespace {

void raise_fd_limit() {
  // A deep tree keeps one directory open per level while it is scanned.
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void print_summary(const bakefs::build::Stats& s, double seconds) {
  auto mib = [](uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); };
  std::printf("inodes %llu: %llu directories, %llu files, %llu symlinks, %llu other\n",
              static_cast<unsigned long long>(s.inodes),
              static_cast<unsigned long long>(s.directories),
              static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.symlinks),
              static_cast<unsigned long long>(s.specials));
  std::printf(
      "file data %.2f MiB -> %.2f MiB stored in %llu blocks (%llu raw, %llu fragments), "
      "ratio %.3f\n",
      mib(s.file_bytes), mib(s.data_bytes), static_cast<unsigned long long>(s.blocks_stored),
      static_cast<unsigned long long>(s.blocks_raw),
      static_cast<unsigned long long>(s.fragment_blocks),
      s.file_bytes != 0 ? static_cast<double>(s.data_bytes) / static_cast<double>(s.file_bytes)
                        : 0.0);
  std::printf("deduplicated %llu blocks and tails (%.2f MiB), %llu holes\n",
              static_cast<unsigned long long>(s.dedup_blocks), mib(s.dedup_bytes),
              static_cast<unsigned long long>(s.hole_blocks));
  if (s.dictionary_bytes != 0) {
    std::printf("zstd dictionary of %.1f KiB trained on the tree\n",
                static_cast<double>(s.dictionary_bytes) / 1024.0);
  }
  std::printf("metadata %.2f MiB, image %.2f MiB, %u threads, %.2f s\n", mib(s.metadata_bytes),
              mib(s.image_bytes), s.threads, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mkimage: build a compressed, read-only bakefs image from a directory tree.\n"
      "The tree is read without following symlinks and keeps every file type, mode,\n"
      "owner, time and extended attribute. The same input gives the same image."};
  app.set_version_flag("--version", "mkimage (bakefs) 0.1");
  std::string source, output, block_size = "128K";
  bakefs::build::Options options;
  bool verbose = false, no_fragments = false, no_dedup = false;
  app.add_option("source", source, "directory to build the image from")->required();
  app.add_option("-o,--output", output, "image file to write (replaced atomically)")->required();
  app.add_option("-b,--block-size", block_size, "data block size, 4K..1M, a power of two")
      ->capture_default_str();
  app.add_option("-l,--level", options.level, "zstd compression level, 1..22")
      ->check(CLI::Range(1, 22))
      ->capture_default_str();
  app.add_option("-j,--threads", options.threads, "compression threads (default: all cores)");
  app.add_flag("--no-fragments", no_fragments, "store file tails in blocks of their own");
  app.add_flag("--no-dedup", no_dedup, "store identical blocks again");
  bool no_dictionary = false;
  std::string dictionary_size = "112K";
  app.add_option("--dictionary", dictionary_size,
                 "largest zstd dictionary to train on the tree (it is left out when there is "
                 "too little to learn from)")
      ->capture_default_str();
  app.add_flag("--no-dictionary", no_dictionary, "compress every block on its own");
  app.add_flag("-v,--verbose", verbose, "print a summary");
  bool stub_etc = false;
  app.add_flag("--stub-etc", stub_etc,
               "add a minimal NetBSD /etc (users and their databases, groups, hosts, services, "
               "...) beneath the source's own files");
  std::string emit_object, emit_asm, target;
  app.add_option("--emit-object", emit_object,
                 "also write an ELF object holding the image, to link into a program "
                 "(section bakefs_image, see bakefs/embed.h)");
  app.add_option("--emit-asm", emit_asm,
                 "also write assembly that .incbin's the image into that section (for any "
                 "cross toolchain; preferred for arm and riscv64)");
  std::string targets;
  for (const auto& t : bakefs::build::elf_targets())
    targets += (targets.empty() ? "" : ", ") + t.name;
  app.add_option("--target", target,
                 "architecture of --emit-object: " + targets + " (default: the host's)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  auto log = bakefs::build::parse_block_size(block_size);
  if (!log) {
    std::fprintf(stderr, "mkimage: invalid block size '%s' (4K..1M, a power of two)\n",
                 block_size.c_str());
    return 2;
  }
  options.block_log = *log;
  options.fragments = !no_fragments;
  auto dictionary_bytes = bakefs::build::parse_size(dictionary_size);
  if (!dictionary_bytes || *dictionary_bytes > (1u << 20)) {
    std::fprintf(stderr, "mkimage: invalid dictionary size '%s' (up to 1M)\n",
                 dictionary_size.c_str());
    return 2;
  }
  options.dictionary_size = no_dictionary ? 0 : static_cast<size_t>(*dictionary_bytes);
  options.dedup = !no_dedup;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    char* end = nullptr;
    long long value = std::strtoll(epoch, &end, 10);
    if (*end != '\0') {
      std::fprintf(stderr, "mkimage: SOURCE_DATE_EPOCH is not a number: %s\n", epoch);
      return 2;
    }
    options.build_time = value;
  }
  raise_fd_limit();
  auto start = std::chrono::steady_clock::now();
  try {
    bakefs::build::Tree tree = bakefs::build::scan_directory(source);
    if (stub_etc) bakefs::build::apply_stub_etc(tree, {.mtime = options.build_time});
    bakefs::build::Stats stats = bakefs::build::write_image(tree, options, output);
    if (!emit_object.empty()) {
      auto elf = target.empty() ? bakefs::build::host_elf_target()
                                : bakefs::build::find_elf_target(target);
      if (!elf) throw bakefs::build::Error("--target: unknown architecture '" + target + "'");
      bakefs::build::write_elf_object(output, emit_object, *elf);
    }
    if (!emit_asm.empty()) bakefs::build::write_assembly(output, emit_asm);
    if (verbose) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      print_summary(stats, took.count());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mkimage: %s\n", e.what());
    return 1;
  }
  return 0;
}
