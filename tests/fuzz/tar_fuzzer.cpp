// libFuzzer target for mkimage's tar reader: any bytes are read as a (possibly compressed) tar
// archive through libarchive into a tree, which is then merged over another as a layer.
// Errors are fine; crashes, leaks of descriptors and sanitizer reports are not.
// SPDX-License-Identifier: BSD-2-Clause
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sources/layers.h"
#include "sources/tar_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace build = bakefs::build;
  int fd = memfd_create("tar_fuzzer", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  try {
    build::Tree tree = build::read_tar("/proc/self/fd/" + std::to_string(fd));
    build::Tree lower = build::empty_tree();
    build::overlay(lower, std::move(tree), true);
  } catch (const build::Error&) {
  }
  close(fd);
  return 0;
}
