// libFuzzer target for mkimage's mtree(5) reader: any text is parsed, and what parses is
// applied to a small tree. Errors are fine; crashes, hangs and sanitizer reports are not.
// SPDX-License-Identifier: BSD-2-Clause
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sources/layers.h"
#include "sources/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace build = bakefs::build;
  build::Spec spec;
  try {
    spec = build::parse_spec(std::string_view(reinterpret_cast<const char*>(data), size),
                             "fuzz.mtree", "/nonexistent");
  } catch (const build::Error&) {
    return 0;
  }
  // contents= and sha256= would read host files: not what is fuzzed here.
  for (build::SpecEntry& e : spec.entries) {
    e.contents.reset();
    e.sha256.reset();
  }
  build::Tree tree = build::empty_tree();
  try {
    build::apply_spec(tree, spec);
  } catch (const build::Error&) {
  }
  return 0;
}
