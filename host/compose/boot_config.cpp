// Launch configuration and tmpfs directories: checked and normalised before they are stored.
// SPDX-License-Identifier: BSD-2-Clause
#include "compose/boot_config.h"

#include <bakefs/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "writer/tree_path.h"

namespace bakefs::build {

std::string read_config(const std::string& path, bool raw) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, "cannot open configuration", errno);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw_errno(path, "cannot read configuration", errno);
  std::string config = bytes.str();
  if (config.empty()) throw Error(path + ": the configuration is empty");
  if (config.size() > format::kMaxBootRecord) {
    throw Error(path + ": the configuration is larger than 1 MiB");
  }
  if (!raw) {
    try {
      const auto parsed = nlohmann::json::parse(config);
      (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
      // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
      std::string what = e.what();
      size_t at = what.find("at line");
      throw Error(path + ": not JSON (use --config-raw for other formats): " +
                  (at == std::string::npos ? what : what.substr(at)));
    }
  }
  return config;
}

namespace {

// "/a//b/" -> "/a/b", for the directories of option `what` (--tmpfs, --mount-point).
std::string normalise(const std::string& given, const std::string& what) {
  if (given.empty() || given[0] != '/') {
    throw Error(what + " " + given + ": the path must be absolute");
  }
  const TreePath parts = split_tree_path(given);
  if (parts.had_dot || parts.problem == TreePath::Problem::dot_dot) {
    throw Error(what + " " + given + ": '.' and '..' are not allowed");
  }
  if (!parts.ok()) throw Error(what + " " + given + ": path too long");
  const std::string path = parts.names.empty() ? "" : "/" + join_tree_path(parts.names);
  if (path.empty()) {
    throw Error(what + " /: " +
                (what == "--tmpfs" ? std::string("the root cannot be covered by a tmpfs")
                                   : std::string("the root is mounted by the boot code itself")));
  }
  if (path.find('\0') != std::string::npos) throw Error(what + " " + given + ": a NUL byte");
  for (const std::string& name : parts.names) {
    if (name.size() > format::kMaxNameLength) {
      throw Error(what + " " + path + ": the name " + name.substr(0, 16) + "... is " +
                  std::to_string(name.size()) + " bytes, longer than the " +
                  std::to_string(format::kMaxNameLength) + " an image's names can have");
    }
  }
  if (path.size() > kMaxBootPathLength) {
    throw Error(what + " " + path + ": the path is " + std::to_string(path.size()) +
                " bytes, longer than the " + std::to_string(kMaxBootPathLength) +
                " the rump kernel looks up (NetBSD's MAXPATHLEN - 1)");
  }
  return path;
}

// The "mountpoint" of every "blk" object at the top of a rumprun configuration. rumprun's own
// launcher repeats the "blk" key, once for each disk, so the document is read event by event
// rather than into a json object (which keeps one value of a repeated key).
class BlkMountPoints : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::string> found;

  bool key(string_t& k) override {
    if (depth_ == 1) in_blk_ = k == "blk";
    if (depth_ == 2 && in_blk_) wanted_ = k == "mountpoint";
    return true;
  }
  bool string(string_t& v) override {
    if (depth_ == 2 && in_blk_ && wanted_) found.push_back(v);
    wanted_ = false;
    return true;
  }
  bool start_object(std::size_t) override { return enter(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool end_array() override { return leave(); }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool enter() {
    ++depth_;
    wanted_ = false;
    return true;
  }
  bool leave() {
    --depth_;
    wanted_ = false;  // in_blk_ is set again by the next top-level key
    return true;
  }
  bool value() {
    wanted_ = false;
    return true;
  }
  int depth_ = 0;
  bool in_blk_ = false, wanted_ = false;
};

}  // namespace

std::vector<std::string> directory_paths(const std::vector<std::string>& lists,
                                         const std::string& what) {
  std::vector<std::string> paths;
  for (const std::string& list : lists) {
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t end = list.find(',', pos);
      if (end == std::string::npos) end = list.size();
      if (end > pos) paths.push_back(normalise(list.substr(pos, end - pos), what));
      pos = end + 1;
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

std::vector<std::string> config_mount_points(const std::string& config) {
  BlkMountPoints sax;
  if (!nlohmann::json::sax_parse(config, &sax)) return {};
  std::vector<std::string> paths;
  for (const std::string& p : sax.found) paths.push_back(normalise(p, "--config: blk mountpoint"));
  return paths;
}

std::vector<std::string> add_directories(Tree& tree, const std::vector<std::string>& paths,
                                         const std::string& what) {
  std::vector<std::string> warnings;
  for (const std::string& path : paths) {
    Inode* dir = tree.root.get();
    const std::vector<std::string> names = split_tree_path(path).names;  // normalised
    for (size_t i = 0; i < names.size(); ++i) {
      auto& child = dir->children[names[i]];
      if (child == nullptr) {
        child = std::make_shared<Inode>();
        child->mode = 0040755;
        child->mtime_sec = dir->mtime_sec;
        child->mtime_nsec = dir->mtime_nsec;
      } else if (!child->is_dir()) {
        throw Error(what + " " + path + ": /" + join_tree_path(names, i + 1) +
                    " is in the image and is not a directory");
      }
      dir = child.get();
    }
    if (what == "--tmpfs" && !dir->children.empty()) {
      warnings.push_back("--tmpfs " + path + ": the image's " +
                         std::to_string(dir->children.size()) +
                         " entries there are hidden once the tmpfs is mounted");
    }
  }
  return warnings;
}

std::vector<std::string> boot_root_warnings(const Tree& tree, bool union_root, bool base_etc) {
  std::vector<std::string> warnings;
  const bool has_etc = tree.root != nullptr && tree.root->children.count("etc") != 0;
  if (has_etc && !base_etc) {
    warnings.push_back(
        std::string("the image has its own /etc") +
        (union_root ? ", which hides the rump kernel's /etc entirely at boot" : "") +
        ": rumprun then needs its base /etc left out (platform/rump/bakefs.mk does it; by "
        "hand: rumprun-bake -m \"remove -lrumprunfs_base\"), else it halts with 'platefs: "
        "open'; --stub-etc fills in what libc needs, --base-etc merges rumprun's own /etc "
        "(docs/RUMPRUN.md)");
  }
  if (!union_root) {
    for (const char* name : {"dev", "tmp"}) {
      if (tree.root == nullptr) break;
      auto it = tree.root->children.find(name);
      if (it != tree.root->children.end() && !it->second->is_dir()) {
        warnings.push_back(
            std::string("/") + name + " is not a directory: nothing is mounted there at boot (" +
            (std::string(name) == "dev" ? "no device nodes" : "no writable /tmp") + ")");
      }
    }
    warnings.push_back(
        std::string("the image alone is / at boot, read-only: the rump component adds ") +
        (has_etc ? "/dev and /tmp" : "/dev, /tmp and /etc") +
        " as mount points where it has none; any other directory something is mounted on at "
        "run time (rumprun -b disk,/data) must be in the image (--mount-point)");
  }
  return warnings;
}

}  // namespace bakefs::build
