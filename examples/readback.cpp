// bakefs-example: mount an image file through the driver core, list it, print a file, and run
// the full check. Until the bakefs command exists, this is the way to look into an image.
// SPDX-License-Identifier: BSD-2-Clause
#include <bakefs_posix.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace {

char type_char(uint32_t mode) {
  switch (mode & 0170000) {
    case 0040000:
      return 'd';
    case 0120000:
      return 'l';
    case 0020000:
      return 'c';
    case 0060000:
      return 'b';
    case 0010000:
      return 'p';
    case 0140000:
      return 's';
    default:
      return '-';
  }
}

std::string mode_string(uint32_t mode) {
  std::string s(1, type_char(mode));
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (mode & (0400u >> i)) ? rwx[i] : '-';
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  return s;
}

int list(const bakefs::FileSystem& fs, bakefs_ino dir, const std::string& path) {
  std::vector<bakefs::Dirent> entries;
  if (int s = fs.readdir(dir, entries); s != BAKEFS_OK) return s;
  for (const auto& e : entries) {
    bakefs_attr a;
    if (int s = fs.getattr(e.ino, a); s != BAKEFS_OK) return s;
    std::string child = path + "/" + e.name;
    std::string extra;
    if ((a.mode & 0170000) == 0120000) {
      std::string target;
      if (int s = fs.readlink(e.ino, target); s != BAKEFS_OK) return s;
      extra = " -> " + target;
    }
    std::printf("%s %3u %5u %5u %10llu %s%s\n", mode_string(a.mode).c_str(), a.nlink, a.uid, a.gid,
                static_cast<unsigned long long>(a.size), child.c_str(), extra.c_str());
    if ((a.mode & 0170000) == 0040000) {
      if (int s = list(fs, e.ino, child); s != BAKEFS_OK) return s;
    }
  }
  return BAKEFS_OK;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr,
                 "usage: bakefs-example IMAGE [PATH]\n"
                 "Lists IMAGE through the bakefs driver core, prints the file PATH,\n"
                 "and checks every checksum.\n");
    return 2;
  }
  try {
    auto m = bakefs::posix::MountedImage::open(argv[1], nullptr, true);
    bakefs_fsstat st;
    m.fs.statfs(st);
    std::printf(
        "%s: bakefs %u.%u, %llu inodes, %u-byte blocks, %llu bytes of files in %llu bytes\n",
        argv[1], st.version_major, st.version_minor,
        static_cast<unsigned long long>(st.inode_count), st.block_size,
        static_cast<unsigned long long>(st.file_bytes),
        static_cast<unsigned long long>(st.image_size));
    bakefs::posix::throw_on_error(list(m.fs, BAKEFS_ROOT_INO, ""), argv[1]);
    if (argc == 3) {
      bakefs_ino ino;
      bakefs::posix::throw_on_error(m.fs.resolve(argv[2], ino), argv[2]);
      std::string content;
      bakefs::posix::throw_on_error(m.fs.read_all(ino, content), argv[2]);
      std::printf("--- %s ---\n", argv[2]);
      std::fwrite(content.data(), 1, content.size(), stdout);
    }
    std::vector<std::string> problems;
    int s = m.fs.check(problems, 20);
    for (const auto& p : problems) std::fprintf(stderr, "%s: %s\n", argv[1], p.c_str());
    bakefs::posix::throw_on_error(s, std::string(argv[1]) + ": full check");
    std::printf("--- full check: every checksum and structure is sound ---\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bakefs-example: %s\n", e.what());
    return 1;
  }
  return 0;
}
