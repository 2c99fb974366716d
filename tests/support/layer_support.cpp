// write_tar: libarchive's pax writer, one entry per member; make_layered_image.
// SPDX-License-Identifier: BSD-2-Clause
#include "layer_support.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <stdexcept>

namespace bakefs::test {

TarMember tar_file(const std::string& name, const std::string& data, unsigned mode) {
  TarMember m;
  m.name = name;
  m.mode = S_IFREG | mode;
  m.data = data;
  return m;
}

TarMember tar_dir(const std::string& name, unsigned mode) {
  TarMember m;
  m.name = name;
  m.mode = S_IFDIR | mode;
  return m;
}

TarMember tar_symlink(const std::string& name, const std::string& target) {
  TarMember m;
  m.name = name;
  m.mode = S_IFLNK | 0777;
  m.link = target;
  return m;
}

TarMember tar_hardlink(const std::string& name, const std::string& target) {
  TarMember m;
  m.name = name;
  m.link = target;
  m.hardlink = true;
  return m;
}

TarMember tar_special(const std::string& name, unsigned mode, uint64_t major, uint64_t minor) {
  TarMember m;
  m.name = name;
  m.mode = mode;
  m.rdev_major = major;
  m.rdev_minor = minor;
  return m;
}

void write_tar(const std::string& path, const std::vector<TarMember>& members,
               const std::string& filter) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), archive_write_free);
  auto check = [&](int r, const std::string& what) {
    if (r != ARCHIVE_OK) {
      const char* e = archive_error_string(a.get());
      throw std::runtime_error(path + ": " + what + ": " + (e != nullptr ? e : "?"));
    }
  };
  check(archive_write_set_format_pax(a.get()), "pax");
  if (!filter.empty()) check(archive_write_add_filter_by_name(a.get(), filter.c_str()), filter);
  check(archive_write_open_filename(a.get(), path.c_str()), "open");
  for (const TarMember& m : members) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_copy_pathname(e.get(), m.name.c_str());
    archive_entry_set_mode(e.get(), m.mode);
    archive_entry_set_uid(e.get(), m.uid);
    archive_entry_set_gid(e.get(), m.gid);
    archive_entry_set_mtime(e.get(), m.mtime_sec, m.mtime_nsec);
    if (m.hardlink) {
      archive_entry_copy_hardlink(e.get(), m.link.c_str());
      archive_entry_set_size(e.get(), 0);
    } else if (S_ISLNK(m.mode)) {
      archive_entry_copy_symlink(e.get(), m.link.c_str());
    } else if (S_ISCHR(m.mode) || S_ISBLK(m.mode)) {
      archive_entry_set_rdevmajor(e.get(), m.rdev_major);
      archive_entry_set_rdevminor(e.get(), m.rdev_minor);
    }
    if (S_ISREG(m.mode)) archive_entry_set_size(e.get(), static_cast<la_int64_t>(m.data.size()));
    for (const auto& [offset, length] : m.sparse) {
      archive_entry_sparse_add_entry(e.get(), offset, length);
    }
    for (const auto& [name, value] : m.xattrs) {
      archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
    }
    check(archive_write_header(a.get(), e.get()), "header of " + m.name);
    if (S_ISREG(m.mode) && !m.hardlink && !m.data.empty()) {
      la_ssize_t n = archive_write_data(a.get(), m.data.data(), m.data.size());
      if (n != static_cast<la_ssize_t>(m.data.size())) check(ARCHIVE_FATAL, "data of " + m.name);
    }
  }
  check(archive_write_close(a.get()), "close");
}

build::Stats make_layered_image(const std::vector<std::string>& sources, const std::string& image,
                                const build::LayerOptions& layers,
                                const std::vector<std::string>& removes, build::Options options) {
  build::Tree tree = build::empty_tree();
  for (const std::string& source : sources) build::add_layer(tree, source, layers);
  for (const std::string& path : removes) build::remove_path(tree, path);
  return build::write_image(tree, options, image);
}

}  // namespace bakefs::test
