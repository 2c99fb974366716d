// Spec files: NetBSD mtree(5) specifications that set, create and remove entries of the tree
// without root, as NetBSD makefs -F reads them.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_SOURCES_SPEC_H
#define BAKEFS_HOST_SOURCES_SPEC_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "writer/tree.h"

namespace bakefs::build {

// One entry of a spec: the keywords of its line merged over the /set defaults in force.
// Keywords the entry does not name stay empty and leave the tree's attribute alone.
struct SpecEntry {
  int line = 0;                  // line of the spec file (the first, for continued lines)
  std::string path;              // relative to the root, "a/b"; "" is the root
  std::optional<uint16_t> type;  // S_IFMT bits
  bool type_from_set = false;    // the type came from /set, not from the entry's own line
  std::optional<uint16_t> mode;  // permission bits, 07777
  std::optional<uint32_t> uid, gid;
  std::optional<std::string> uname, gname;
  std::optional<int64_t> time_sec;
  uint32_t time_nsec = 0;
  std::optional<std::string> link;                      // symlink target
  std::optional<std::pair<uint32_t, uint32_t>> device;  // major, minor
  std::optional<std::string> contents;                  // host path of a file's bytes
  std::optional<uint64_t> size;                         // checked, not set
  std::optional<std::string> sha256;                    // lowercase hex; checked
  bool optional = false;                                // skip it if the path is missing
  bool remove = false;  // bakefs extension: remove the entry and everything below it
};

struct Spec {
  std::string name;  // the spec file as given, for messages: "spec.mtree:12: ..."
  std::vector<SpecEntry> entries;
};

// Parses mtree text, in the hierarchical form `mtree -c` writes (/set, /unset, relative names,
// "..") or the full-path form of `mtree -C`, or both mixed. Names and link and contents
// values are decoded as vis(3) writes them (\s, \ooo, \M-x, \#, ...). A relative contents=
// path is taken relative to base_dir. Throws Error "name:line: what" on the first problem.
//
// Keywords: type, mode (octal or symbolic), uid, gid, uname, gname, time (seconds, a dot and
// an unpadded count of nanoseconds, as mtree writes it), link, device (format,major,minor;
// major,minor; or a Linux dev_t number), contents, size, sha256/sha256digest, optional, and
// `remove`, a bakefs extension without a value. nlink, flags, tags, ignore, nochange, cksum
// and the other digests are accepted and ignored: they are checks mtree makes, or BSD file
// flags, which bakefs does not store. Any other keyword is an error.
Spec parse_spec(std::string_view text, const std::string& name, const std::string& base_dir);

// Reads and parses a spec file; contents= paths are relative to the file's directory.
Spec read_spec(const std::string& path);

// Applies the entries in order. An entry for an existing path changes only the attributes it
// names (a type that differs is an error); an entry for a missing path creates it when its
// parent exists and it has a type, unless it is optional; `remove` takes an entry out. Names
// given as uname/gname without uid/gid are looked up in the tree's own /etc/passwd and
// /etc/group ("root" and "wheel" are 0 without them), never in the build host's. Throws Error
// "name:line: ./path: what".
void apply_spec(Tree& tree, const Spec& spec);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_SOURCES_SPEC_H
