// An outside program built against an installed bakefs: find_package(bakefs) or pkg-config.
// Usage: consumer IMAGE PATH — writes PATH's contents from IMAGE to standard output, read
// once through the C++ wrapper and the posix platform and once through the C ABI alone.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs/bakefs.h>
#include <bakefs/posix.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer IMAGE PATH\n");
    return 2;
  }
  try {
    auto mounted = bakefs::posix::MountedImage::open(argv[1]);
    bakefs_ino ino;
    bakefs::posix::throw_on_error(mounted.fs.resolve(argv[2], ino), argv[2]);
    std::string wrapped;
    bakefs::posix::throw_on_error(mounted.fs.read_all(ino, wrapped), argv[2]);

    // The C ABI on the same bytes, with the posix platform's memory and locks.
    bakefs_fs* fs = nullptr;
    bakefs::posix::throw_on_error(bakefs_mount(mounted.image.data(), mounted.image.size(),
                                               &bakefs::posix::platform(), nullptr, &fs),
                                  "bakefs_mount");
    bakefs_attr attr;
    std::string plain;
    int s = bakefs_getattr(fs, ino, &attr);
    if (s == BAKEFS_OK) {
      plain.resize(attr.size);
      size_t done = 0;
      s = bakefs_read(fs, ino, 0, plain.data(), plain.size(), &done);
      if (s == BAKEFS_OK && done != plain.size()) s = BAKEFS_ECORRUPT;
    }
    bakefs_unmount(fs);
    bakefs::posix::throw_on_error(s, "bakefs_read");
    if (plain != wrapped) {
      std::fprintf(stderr, "consumer: the C ABI and the wrapper disagree on %s\n", argv[2]);
      return 1;
    }
    std::fwrite(plain.data(), 1, plain.size(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
