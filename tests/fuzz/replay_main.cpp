// Replays fuzzer inputs without libFuzzer: LLVMFuzzerTestOneInput on every file named, and on
// every file under every directory named. CTest runs it over the corpus as fuzz_replay.
// SPDX-License-Identifier: BSD-2-Clause
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// In sanitizer builds: called before a sanitizer ends the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

// The input being replayed, named when the process dies on it.
const char* current_input = nullptr;

void name_current_input() {
  if (current_input == nullptr) return;
  const char* what = "mount_fuzzer_replay: died on input ";
  (void)!write(STDERR_FILENO, what, std::strlen(what));
  (void)!write(STDERR_FILENO, current_input, std::strlen(current_input));
  (void)!write(STDERR_FILENO, "\n", 1);
}

void on_signal(int number) {
  name_current_input();
  ::signal(number, SIG_DFL);
  raise(number);
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    if (!fs::exists(arg)) {
      std::fprintf(stderr, "%s: no such file or directory: %s\n", argv[0], argv[i]);
      return 2;
    }
    if (!fs::is_directory(arg)) {
      inputs.push_back(arg);
      continue;
    }
    for (const auto& entry : fs::recursive_directory_iterator(arg)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...: no inputs found\n", argv[0]);
    return 2;
  }
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(name_current_input);
  for (int number : {SIGILL, SIGABRT, SIGSEGV, SIGBUS, SIGFPE}) ::signal(number, on_signal);
  double slowest = 0;
  std::string slowest_name;
  for (const fs::path& path : inputs) {
    const std::string name = path.string();
    current_input = name.c_str();
    const std::vector<uint8_t> bytes = read_file(path);
    const auto start = std::chrono::steady_clock::now();
    // A copy of exactly the input's size, so that AddressSanitizer sees any overread.
    std::vector<uint8_t> exact(bytes);
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    if (took.count() > slowest) {
      slowest = took.count();
      slowest_name = path.string();
    }
  }
  std::printf("replayed %zu inputs; slowest %.1f ms: %s\n", inputs.size(), slowest,
              slowest_name.c_str());
  return 0;
}
