// A temporary directory for tests and benchmarks, removed with everything in it. Header-only,
// so that the benchmarks use it without the GoogleTest-based test support.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_TESTS_TEMP_DIR_H
#define BAKEFS_TESTS_TEMP_DIR_H

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace bakefs::test {

// A directory under $TMPDIR (or /tmp), removed with everything in it when destroyed.
class TempDir {
 public:
  explicit TempDir(const char* prefix = "bakefs-test") {
    const char* base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error(templ + ": mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace bakefs::test

#endif  // BAKEFS_TESTS_TEMP_DIR_H
