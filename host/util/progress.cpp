// The progress line: drawn in place with '\r', cleared at the end.
// SPDX-License-Identifier: BSD-2-Clause
#include "util/progress.h"

#include <cinttypes>

#include "util/size_option.h"

namespace bakefs::build {

ProgressMeter::ProgressMeter(std::FILE* out, Clock::duration delay, Clock::duration interval)
    : out_(out), start_(Clock::now()), last_(start_), delay_(delay), interval_(interval) {}

std::string ProgressMeter::line(uint64_t files, uint64_t bytes, uint64_t total_files,
                                uint64_t total_bytes, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
  char text[160];
  int n = std::snprintf(text, sizeof(text), "%" PRIu64 "/%" PRIu64 " files, %s/%s", files,
                        total_files, format_size(bytes).c_str(), format_size(total_bytes).c_str());
  std::string s(text, static_cast<size_t>(n));
  if (rate > 0) {
    s += ", " + format_size(static_cast<uint64_t>(rate)) + "/s";
    // A time left only once the rate means something: a few seconds in and a twentieth of
    // the bytes done (the first blocks go to a dictionary and to warming caches).
    if (bytes < total_bytes && seconds >= kSettleSeconds && bytes * 20 >= total_bytes) {
      const auto left = static_cast<uint64_t>(static_cast<double>(total_bytes - bytes) / rate);
      std::snprintf(text, sizeof(text), ", %" PRIu64 ":%02" PRIu64 " left", left / 60, left % 60);
      s += text;
    }
  }
  return s;
}

void ProgressMeter::update(uint64_t files, uint64_t bytes, uint64_t total_files,
                           uint64_t total_bytes) {
  const Clock::time_point now = Clock::now();
  if (now - start_ < delay_ || (drawn_ != 0 && now - last_ < interval_)) return;
  last_ = now;
  const std::chrono::duration<double> seconds = now - start_;
  std::string text = "mkimage: " + line(files, bytes, total_files, total_bytes, seconds.count());
  const size_t length = text.size();
  if (length < drawn_) text.append(drawn_ - length, ' ');  // wipe the longer line before
  std::fprintf(out_, "\r%s", text.c_str());
  std::fflush(out_);
  drawn_ = length;
}

void ProgressMeter::finish() {
  if (drawn_ == 0) return;
  std::fprintf(out_, "\r%s\r", std::string(drawn_, ' ').c_str());
  std::fflush(out_);
  drawn_ = 0;
}

}  // namespace bakefs::build
