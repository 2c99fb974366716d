// The badfs corpus (tests/badfs/): every image there is refused cleanly and quickly by the
// core (a bounded walk ends with an error, the full check never calls it sound), by every
// bakefs command (an exit status of 0 or 1, never a signal or a time-out; the walking ones
// fail), and through a FUSE mount (find and cat end, with EIO somewhere).
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuse_mount.h"
#include "image_walk.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(BADFS_DIR "/corpus")) {
    if (e.path().extension() == ".img") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string path_of(const std::string& name) {
  return std::string(BADFS_DIR) + "/corpus/" + name;
}

// A command under a time bound; its exit status (124: timed out, 128+N: killed by N).
int bounded(const std::string& command, std::string* output = nullptr) {
  CommandResult r = run_command("{ timeout -s KILL 20 " + command + "; echo \"exit:$?\"; }");
  const size_t at = r.output.rfind("exit:");
  if (output != nullptr) *output = r.output.substr(0, at);
  return at == std::string::npos ? -1 : std::stoi(r.output.substr(at + 5));
}

class Badfs : public ::testing::TestWithParam<std::string> {};

TEST_P(Badfs, TheCoreRefusesIt) {
  const std::vector<uint8_t> image = read_bytes(path_of(GetParam()));
  Walk w = walk_bytes(image, 0, 100000);
  EXPECT_NE(w.status, BAKEFS_OK) << "a walk of every path ended without an error";
  FileSystem fs;
  if (fs.mount(image.data(), image.size(), posix::platform()) == BAKEFS_OK) {
    std::vector<std::string> problems;
    EXPECT_NE(fs.check(problems, 10), BAKEFS_OK) << "the full check called it sound";
  }
}

TEST_P(Badfs, EveryCommandEndsAndTheWalkingOnesFail) {
  TempDir dir;
  const std::string image = path_of(GetParam());
  const std::string bakefs = BAKEFS_PATH;
  struct Case {
    std::string args;
    bool must_fail;
  };
  const std::vector<Case> cases = {
      {"ls -R " + image, true},
      {"ls -lR " + image, true},
      {"verify " + image, true},
      {"extract " + image + " " + (dir / "out"), true},
      {"info " + image, false},
      {"info --json " + image, false},
      {"stat " + image + " /", false},
      {"ls " + image + " /", false},
  };
  for (const Case& c : cases) {
    std::string output;
    const int status = bounded(bakefs + " " + c.args + " >/dev/null", &output);
    EXPECT_TRUE(status == 0 || status == 1) << "bakefs " << c.args << ": exit " << status
                                            << (status == 124 ? " (timed out)" : "") << "\n"
                                            << output.substr(0, 2000);
    if (c.must_fail) {
      EXPECT_EQ(status, 1) << "bakefs " << c.args << "\n" << output.substr(0, 2000);
    }
  }
}

TEST_P(Badfs, AFuseMountOfItEndsEveryWalkWithAnError) {
  if (!fuse_available()) GTEST_SKIP() << "no /dev/fuse";
  TempDir dir;
  FuseMount mount(BAKEFS_PATH, path_of(GetParam()), dir / "mnt");
  if (!mount.mounted()) {
    // Refusing to mount is refusing cleanly too.
    EXPECT_EQ(mount.wait_exit(), 1);
    return;
  }
  std::string output;
  const int status = bounded("find " + dir / "mnt" + " -type f -exec cat {} + >/dev/null", &output);
  EXPECT_NE(status, 124) << "find on the mount timed out";
  EXPECT_LT(status, 124) << "find was killed: " << status;
  EXPECT_NE(output.find("Input/output error"), std::string::npos)
      << "no EIO anywhere:\n"
      << output.substr(0, 2000);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Badfs, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return "img_" + param.param.substr(0, param.param.find('.'));
                         });

}  // namespace
}  // namespace bakefs::test
