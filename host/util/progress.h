// A progress line for long builds on a terminal: files, bytes, rate and time left.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_UTIL_PROGRESS_H
#define BAKEFS_HOST_UTIL_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace bakefs::build {

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;
  // Draws on `out` (a terminal) once a build has run for `delay`, at most every `interval`.
  explicit ProgressMeter(std::FILE* out, Clock::duration delay = std::chrono::seconds(1),
                         Clock::duration interval = std::chrono::milliseconds(250));
  ~ProgressMeter() { finish(); }
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  void update(uint64_t files, uint64_t bytes, uint64_t total_files, uint64_t total_bytes);
  // Clears the line, if one was drawn.
  void finish();

  // The text of one progress line, e.g.
  // "1200/5000 files, 310.2 MiB/1.00 GiB, 85.3 MiB/s, 0:08 left"; the time left only once
  // kSettleSeconds have passed and a twentieth of the bytes is done.
  static constexpr double kSettleSeconds = 3.0;
  static std::string line(uint64_t files, uint64_t bytes, uint64_t total_files,
                          uint64_t total_bytes, double seconds);

 private:
  std::FILE* out_;
  Clock::time_point start_, last_;
  Clock::duration delay_, interval_;
  size_t drawn_ = 0;  // length of the line on screen
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_UTIL_PROGRESS_H
