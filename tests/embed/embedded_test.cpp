// A real linked-in blob: this test program carries an image of examples/sample in its own
// binary (bakefs_embed_image), mounts it from the linker's section bounds and compares it with
// the source tree.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/embed.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace bakefs::test {
namespace {

TEST(Embedded, TheLinkedInImageMountsAndMatchesItsSource) {
  ASSERT_NE(__start_bakefs_image, nullptr) << "no image linked in";
  const size_t length = static_cast<size_t>(__stop_bakefs_image - __start_bakefs_image);
  FileSystem fs;
  ASSERT_EQ(fs.mount(__start_bakefs_image, length, posix::platform()), BAKEFS_OK);
  expect_same_tree(EMBEDDED_SOURCE, fs);
  bakefs_ino ino = 0;
  ASSERT_EQ(fs.resolve("etc/motd", ino), BAKEFS_OK);
  // The bytes are read in place: map hands out a span of the program's own section.
  const void* data = nullptr;
  size_t mapped = 0;
  int s = bakefs_map(fs.get(), ino, 0, &data, &mapped);
  if (s == BAKEFS_OK) {
    EXPECT_GE(static_cast<const unsigned char*>(data), __start_bakefs_image);
    EXPECT_LE(static_cast<const unsigned char*>(data) + mapped, __stop_bakefs_image);
  } else {
    EXPECT_EQ(s, BAKEFS_ENOTSUP) << "compressed: read, not mapped";
  }
}

}  // namespace
}  // namespace bakefs::test
