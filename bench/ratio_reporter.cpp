// RatioReporter: collect per-benchmark times and counters, print the ratio table at the end.
// SPDX-License-Identifier: BSD-2-Clause
#include "ratio_reporter.h"

#include <algorithm>
#include <cstdio>

namespace bakefs::bench {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

bool RatioReporter::ReportContext(const Context& context) {
  inner_->SetOutputStream(&GetOutputStream());
  inner_->SetErrorStream(&GetErrorStream());
  return inner_->ReportContext(context);
}

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    // The name without the aggregate suffix: repetitions of one benchmark share it.
    const std::string name = run.run_name.str();
    if (run.error_occurred) {
      errors_.push_back(name + ": " + run.error_message);
      continue;
    }
    const bool aggregate = run.run_type == Run::RT_Aggregate;
    if (aggregate && run.aggregate_name != "median") continue;
    std::map<std::string, double> values;
    const double unit = benchmark::GetTimeUnitMultiplier(run.time_unit);
    values["cpu_time"] = run.GetAdjustedCPUTime() / unit;
    values["real_time"] = run.GetAdjustedRealTime() / unit;
    for (const auto& [key, counter] : run.counters) values[key] = counter.value;
    Samples& s = samples_[name];
    for (const auto& [key, value] : values) {
      if (aggregate) {
        s.medians[key] = value;
      } else {
        s.runs[key].push_back(value);
      }
    }
  }
  inner_->ReportRuns(runs);
}

bool RatioReporter::value_of(const Metric& m, double& out) const {
  auto it = samples_.find(m.benchmark);
  if (it == samples_.end()) return false;
  const Samples& s = it->second;
  if (auto med = s.medians.find(m.value); med != s.medians.end()) {
    out = med->second;
  } else if (auto run = s.runs.find(m.value); run != s.runs.end() && !run->second.empty()) {
    out = median(run->second);
  } else {
    return false;
  }
  out /= m.scale;
  return true;
}

void RatioReporter::Finalize() {
  inner_->Finalize();
  missed_ = 0;
  char line[512];
  table_ << "\nRatios of CPU time per operation unless noted (same run; medians when repeated):\n";
  std::snprintf(line, sizeof(line), "  %-52s %10s  %-12s %s\n", "ratio", "value", "goal", "");
  table_ << line;
  for (const Ratio& r : ratios_) {
    double num = 0, den = 0;
    if (!value_of(r.numerator, num) || !value_of(r.denominator, den) || den == 0) continue;
    const double value = num / den;
    char goal[32] = "";
    const char* verdict = "";
    if (r.goal == Goal::kAtMost) {
      std::snprintf(goal, sizeof(goal), "<= %.3g", r.bound);
      verdict = value <= r.bound ? "meets" : "MISSES";
    } else if (r.goal == Goal::kAtLeast) {
      std::snprintf(goal, sizeof(goal), ">= %.3g", r.bound);
      verdict = value >= r.bound ? "meets" : "MISSES";
    }
    if (r.goal != Goal::kInfo && verdict[0] == 'M') ++missed_;
    std::snprintf(line, sizeof(line), "  %-52s %10.3f  %-12s %-6s  %s\n", r.label.c_str(), value,
                  goal, verdict, r.note.c_str());
    table_ << line;
  }
  table_.flush();
}

}  // namespace bakefs::bench
