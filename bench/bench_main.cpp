// bakefs-bench: build the benchmark images, run the driver-core benchmarks, print the ratios.
// Options of its own (before Google Benchmark's --benchmark_* ones):
//   --bakefs_smoke          small trees and a short pass, for CTest (also BAKEFS_BENCH_SMOKE=1)
//   --bakefs_big=N          entries of the large directory (default 100000)
//   --bakefs_data_mib=N     MiB of each data file (default 32)
//   --bakefs_level=N        zstd level of the images (default: mkimage's)
//   --bakefs_block=LOG      block size as a power of two, 12..20 (default 17: 128 KiB)
// SPDX-License-Identifier: BSD-2-Clause
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "driver_bench.h"
#include "writer/build.h"

namespace {

using bakefs::bench::TreeConfig;

bool take_number(const char* arg, const char* flag, long& out) {
  size_t n = std::strlen(flag);
  if (std::strncmp(arg, flag, n) != 0 || arg[n] != '=') return false;
  char* end = nullptr;
  out = std::strtol(arg + n + 1, &end, 10);
  if (end == arg + n + 1 || *end != '\0') {
    std::fprintf(stderr, "bakefs-bench: %s wants a number\n", flag);
    std::exit(2);
  }
  return true;
}

// Takes our options out of argv and leaves the rest to Google Benchmark.
TreeConfig parse_options(int& argc, char** argv, std::string& format) {
  TreeConfig config;
  config.level = bakefs::build::Options{}.level;
  const char* env = std::getenv("BAKEFS_BENCH_SMOKE");
  bool smoke = env != nullptr && *env != '\0' && std::strcmp(env, "0") != 0;
  long big = -1, mib = -1, level = -1, block = -1;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--bakefs_smoke") == 0) {
      smoke = true;
    } else if (take_number(a, "--bakefs_big", big) || take_number(a, "--bakefs_data_mib", mib) ||
               take_number(a, "--bakefs_level", level) || take_number(a, "--bakefs_block", block)) {
    } else {
      if (std::strncmp(a, "--benchmark_format=", 19) == 0) format = a + 19;
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (smoke) {
    config.big_entries = 10000;
    config.data_bytes = 4u << 20;
    config.level = 3;
  }
  if (big > 0) config.big_entries = static_cast<uint32_t>(big);
  if (mib > 0) config.data_bytes = static_cast<size_t>(mib) << 20;
  if (level > 0) config.level = static_cast<int>(level);
  if (block > 0) config.block_log = static_cast<uint32_t>(block);
  return config;
}

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(const std::string& format) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  return std::make_unique<benchmark::ConsoleReporter>(isatty(STDOUT_FILENO)
                                                          ? benchmark::ConsoleReporter::OO_Color
                                                          : benchmark::ConsoleReporter::OO_None);
}

}  // namespace

int main(int argc, char** argv) {
  std::string format = "console";
  TreeConfig config = parse_options(argc, argv, format);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  int status = 0;
  try {
    bakefs::bench::TempDir dir("bakefs-bench");
    bakefs::bench::Fixture fixture;
    fixture.images = bakefs::bench::build_images(dir, config);
    bakefs::bench::set_up(fixture);
    // The ratio table goes with the console output, or to stderr when stdout is JSON.
    bakefs::bench::RatioReporter reporter(make_reporter(format),
                                          format == "console" ? std::cout : std::cerr);
    bakefs::bench::register_benchmarks(fixture, reporter);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    for (const std::string& e : reporter.errors()) {
      std::fprintf(stderr, "bakefs-bench: error: %s\n", e.c_str());
      status = 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakefs-bench: %s\n", e.what());
    status = 1;
  }
  benchmark::Shutdown();
  return status;
}
