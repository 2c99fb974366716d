// The tree model's own functions: its errors, and the descriptors a tree keeps open.
// SPDX-License-Identifier: BSD-2-Clause
#include "writer/tree.h"

#include <unistd.h>

#include <cstring>
#include <utility>

namespace bakefs::build {

void throw_errno(const std::string& path, const std::string& what, int error) {
  throw Error(path + ": " + what + ": " + std::strerror(error));
}

Tree::Tree(Tree&& other) noexcept
    : root(std::move(other.root)), open_fds(std::exchange(other.open_fds, {})) {}
Tree& Tree::operator=(Tree&& other) noexcept {
  if (this != &other) {
    for (int fd : open_fds) ::close(fd);
    root = std::move(other.root);
    open_fds = std::exchange(other.open_fds, {});
  }
  return *this;
}
Tree::~Tree() {
  for (int fd : open_fds) ::close(fd);
}

}  // namespace bakefs::build
