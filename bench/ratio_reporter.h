// A Google Benchmark reporter that passes every run to the usual reporter and, at the end,
// prints speed ratios between benchmarks of the same run: the goals are ratios against a
// baseline measured alongside, never absolute times.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_BENCH_RATIO_REPORTER_H
#define BAKEFS_BENCH_RATIO_REPORTER_H

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace bakefs::bench {

// One side of a ratio: a value of a benchmark's run divided by `scale`. The value is the CPU
// time per iteration in seconds ("cpu_time", the default: the machine may be shared, and CPU
// time does not count the time other processes take), the real time ("real_time"), or one
// of its counters (a rate such as "items_per_second").
struct Metric {
  std::string benchmark;
  std::string value = "cpu_time";
  double scale = 1.0;
};

enum class Goal { kAtMost, kAtLeast, kInfo };

struct Ratio {
  std::string label;
  Metric numerator, denominator;
  Goal goal = Goal::kInfo;
  double bound = 0;  // the goal: ratio <= bound (kAtMost) or >= bound (kAtLeast)
  std::string note;  // what the ratio means, printed after it
};

class RatioReporter : public benchmark::BenchmarkReporter {
 public:
  // `inner` prints the runs as usual; the ratio table goes to `table`.
  RatioReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, std::ostream& table)
      : inner_(std::move(inner)), table_(table) {}

  void add(Ratio ratio) { ratios_.push_back(std::move(ratio)); }

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

  // Runs that reported an error (SkipWithError), by name.
  const std::vector<std::string>& errors() const { return errors_; }
  // Ratios that missed their goal in the table just printed.
  int missed() const { return missed_; }

 private:
  // The values of a benchmark's runs, one per repetition, and the medians the library
  // computed when it repeated the benchmark.
  struct Samples {
    std::map<std::string, std::vector<double>> runs;
    std::map<std::string, double> medians;
  };

  bool value_of(const Metric& m, double& out) const;

  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  std::ostream& table_;
  std::vector<Ratio> ratios_;
  std::map<std::string, Samples> samples_;
  std::vector<std::string> errors_;
  int missed_ = 0;
};

}  // namespace bakefs::bench

#endif  // BAKEFS_BENCH_RATIO_REPORTER_H
