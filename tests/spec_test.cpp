// Spec files and owner maps: the mtree parser in both forms, application to a scanned tree
// (every type created without root), removals, host contents with digests, id maps, and
// mkimage runs whose images are read back through the driver.
// SPDX-License-Identifier: BSD-2-Clause
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "sources/idmap.h"
#include "sources/spec.h"
#include "test_support.h"
#include "util/sha256.h"

namespace bakefs::test {
namespace {

using build::Error;
using build::Spec;
using build::SpecEntry;

Spec parse(const std::string& text, const std::string& base = "/specs") {
  return build::parse_spec(text, "spec.mtree", base);
}

// The message of the Error that parsing (or applying) throws; "" if none is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& text) {
  return error_of([&] { parse(text); });
}

const SpecEntry& entry(const Spec& spec, const std::string& path) {
  for (const SpecEntry& e : spec.entries) {
    if (e.path == path) return e;
  }
  throw std::runtime_error("no entry " + path);
}

TEST(SpecParse, HierarchicalFormAsMtreeWritesIt) {
  Spec spec = parse(
      "#\t   user: someone\n"
      "\n"
      "# .\n"
      "/set type=file uname=root gname=wheel mode=0644 nlink=1 flags=none\n"
      ".               type=dir mode=0755 nlink=3 time=1700000000.103973358\n"
      "    a           size=3 time=1700000001.91973358 \\\n"
      "                sha256=98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4\n"
      "    l           type=link mode=0777 time=1700000002.5 link=a\n"
      "# ./sub\n"
      "sub             type=dir mode=0750 nlink=2 time=1700000003\n"
      "    inner       mode=0600\n"
      "deeper          type=dir\n"
      "    x           uid=7\n"
      "# ./sub/deeper\n"
      "..\n"
      "    y           uid=8\n"
      "..\n"
      "top             gid=9\n");
  ASSERT_EQ(spec.entries.size(), 9u);
  EXPECT_EQ(spec.name, "spec.mtree");
  const SpecEntry& root = spec.entries[0];
  EXPECT_EQ(root.path, "");
  EXPECT_EQ(root.type, 0040000);
  EXPECT_FALSE(root.type_from_set);
  EXPECT_EQ(root.mode, 0755);
  EXPECT_EQ(root.uname, "root");
  EXPECT_EQ(root.gname, "wheel");
  EXPECT_EQ(root.time_sec, 1700000000);
  EXPECT_EQ(root.time_nsec, 103973358u);
  const SpecEntry& a = entry(spec, "a");
  EXPECT_EQ(a.line, 6);
  EXPECT_EQ(a.type, 0100000);
  EXPECT_TRUE(a.type_from_set);
  EXPECT_EQ(a.mode, 0644);
  EXPECT_EQ(a.size, 3u);
  EXPECT_EQ(a.time_nsec, 91973358u) << "nanoseconds are an integer, not a fraction";
  EXPECT_EQ(a.sha256, "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4");
  EXPECT_EQ(entry(spec, "l").link, "a");
  EXPECT_EQ(entry(spec, "l").time_nsec, 5u);
  EXPECT_EQ(entry(spec, "sub").mode, 0750);
  EXPECT_EQ(entry(spec, "sub/inner").mode, 0600);
  EXPECT_EQ(entry(spec, "sub/deeper/x").uid, 7u);
  EXPECT_EQ(entry(spec, "sub/y").uid, 8u);
  EXPECT_EQ(entry(spec, "top").gid, 9u);
  EXPECT_EQ(entry(spec, "top").line, 18);
}

TEST(SpecParse, FullPathFormAsMtreeDumpsIt) {
  Spec spec = parse(
      ". type=dir uid=0 gid=0 mode=0755 nlink=3 time=1.5 flags=none\n"
      "./usr type=dir mode=0755\n"
      "./usr/bin/x type=file uid=0 gid=0 mode=0755 size=0 time=2.0\n"
      "usr/lib//y.so type=file\n"
      "./usr/bin/ type=dir mode=0711\n"
      "rel type=file\n");
  ASSERT_EQ(spec.entries.size(), 6u);
  EXPECT_EQ(spec.entries[0].path, "");
  EXPECT_EQ(spec.entries[2].path, "usr/bin/x");
  EXPECT_EQ(spec.entries[2].mode, 0755);
  EXPECT_EQ(spec.entries[3].path, "usr/lib/y.so");
  EXPECT_EQ(spec.entries[4].path, "usr/bin");
  // After a full path the current directory is that directory (or a file's directory).
  EXPECT_EQ(spec.entries[5].path, "usr/bin/rel");
}

TEST(SpecParse, NamesAreDecodedAsVisWritesThem) {
  Spec spec = parse(
      "sp\\sace type=file\n"
      "h\\#ash type=file # a comment after the entry\n"
      "e\\M-C\\M-) type=file\n"
      "\\101\\102C type=file\n"
      "tab\\tnl\\n type=file\n"
      "ctl\\^A\\M^B type=file\n"
      "back\\\\slash type=file\n"
      "lnk type=link link=to\\sa\\040place\n");
  ASSERT_EQ(spec.entries.size(), 8u);
  EXPECT_EQ(spec.entries[0].path, "sp ace");
  EXPECT_EQ(spec.entries[1].path, "h#ash");
  EXPECT_EQ(spec.entries[2].path, "e\xc3\xa9");
  EXPECT_EQ(spec.entries[3].path, "ABC");
  EXPECT_EQ(spec.entries[4].path, "tab\tnl\n");
  EXPECT_EQ(spec.entries[5].path, std::string("ctl\x01") + static_cast<char>(0x82));
  EXPECT_EQ(spec.entries[6].path, "back\\slash");
  EXPECT_EQ(spec.entries[7].link, "to a place");
  EXPECT_NE(parse_error("bad\\ type=file\n").find("spec.mtree:1: malformed name"),
            std::string::npos);
}

TEST(SpecParse, SetAndUnset) {
  Spec spec = parse(
      "/set type=file mode=0640 uid=5 gid=6\n"
      "a\n"
      "b mode=0600 type=fifo\n"
      "/unset mode uid\n"
      "c\n"
      "/set mode=0444\n"
      "/unset all\n"
      "d\n"
      "/set optional\n"
      "e type=dir\n");
  ASSERT_EQ(spec.entries.size(), 5u);
  EXPECT_EQ(spec.entries[0].mode, 0640);
  EXPECT_EQ(spec.entries[0].uid, 5u);
  EXPECT_EQ(spec.entries[1].mode, 0600);
  EXPECT_EQ(spec.entries[1].type, 0010000);
  EXPECT_FALSE(spec.entries[1].type_from_set);
  EXPECT_FALSE(spec.entries[2].mode.has_value());
  EXPECT_FALSE(spec.entries[2].uid.has_value());
  EXPECT_EQ(spec.entries[2].gid, 6u);
  EXPECT_EQ(spec.entries[2].type, 0100000);
  EXPECT_FALSE(spec.entries[3].type.has_value());
  EXPECT_FALSE(spec.entries[3].mode.has_value());
  EXPECT_FALSE(spec.entries[3].optional);
  EXPECT_TRUE(spec.entries[4].optional);
}

TEST(SpecParse, EveryKeyword) {
  Spec spec = parse(
      "f1 type=file mode=4755 uid=4294967295 gid=0 time=-5.999999999 size=12 "
      "sha256=98EA6E4F216F2FB4B69FFF9B3A44842C38686CA685F3F55DC48C5D3FB1107BE4 "
      "contents=data/f1.bin\n"
      "f2 type=file contents=/abs/f2 uname=daemon gname=staff\n"
      "d1 type=char device=netbsd,1,2\n"
      "d2 type=block device=8,1\n"
      "d3 type=char device=0x103\n"
      "d4 type=block device=0x11110370\n"
      "d5 type=char device=linux,0x10,010\n"
      "p type=fifo\n"
      "s type=socket\n"
      "dir type=dir ignore\n"
      "..\n"
      "o optional tags=a,b nlink=3 flags=uchg,nodump cksum=1 md5=00 md5digest=00 sha1=00 "
      "sha1digest=00 rmd160=00 rmd160digest=00 sha384=00 sha384digest=00 sha512=00 "
      "sha512digest=00 sha256digest=" +
      std::string(64, 'a') +
      " nochange\n"
      "gone remove\n"
      "maybe remove optional\n");
  const SpecEntry& f1 = entry(spec, "f1");
  EXPECT_EQ(f1.mode, 04755);
  EXPECT_EQ(f1.uid, 4294967295u);
  EXPECT_EQ(f1.gid, 0u);
  EXPECT_EQ(f1.time_sec, -5);
  EXPECT_EQ(f1.time_nsec, 999999999u);
  EXPECT_EQ(f1.size, 12u);
  EXPECT_EQ(f1.sha256, "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4");
  EXPECT_EQ(f1.contents, "/specs/data/f1.bin") << "relative to the spec file's directory";
  EXPECT_EQ(entry(spec, "f2").contents, "/abs/f2");
  EXPECT_EQ(entry(spec, "f2").uname, "daemon");
  EXPECT_EQ(entry(spec, "f2").gname, "staff");
  using Dev = std::pair<uint32_t, uint32_t>;
  EXPECT_EQ(entry(spec, "d1").device, Dev(1, 2));
  EXPECT_EQ(entry(spec, "d1").type, 0020000);
  EXPECT_EQ(entry(spec, "d2").device, Dev(8, 1));
  EXPECT_EQ(entry(spec, "d2").type, 0060000);
  EXPECT_EQ(entry(spec, "d3").device, Dev(1, 3));
  EXPECT_EQ(entry(spec, "d4").device, Dev(259, 70000));
  EXPECT_EQ(entry(spec, "d5").device, Dev(16, 8));
  EXPECT_EQ(entry(spec, "p").type, 0010000);
  EXPECT_EQ(entry(spec, "s").type, 0140000);
  EXPECT_EQ(entry(spec, "dir").type, 0040000);
  EXPECT_TRUE(entry(spec, "o").optional);
  EXPECT_EQ(entry(spec, "o").sha256, std::string(64, 'a'));
  EXPECT_FALSE(entry(spec, "o").type.has_value());
  EXPECT_TRUE(entry(spec, "gone").remove);
  EXPECT_TRUE(entry(spec, "maybe").remove);
  EXPECT_TRUE(entry(spec, "maybe").optional);
}

TEST(SpecParse, SymbolicModes) {
  auto mode = [](const std::string& m) { return parse("x mode=" + m + "\n").entries[0].mode; };
  EXPECT_EQ(mode("u=rwx,go=rx"), 0755);
  EXPECT_EQ(mode("a=r"), 0444);
  EXPECT_EQ(mode("u=rwxs,g=x"), 04710);
  EXPECT_EQ(mode("+t,a+r"), 01444);
  EXPECT_EQ(mode("a=rwx,o-w,g-wx"), 0745);
  EXPECT_EQ(mode("u=rw,g=u,o=u-w"), 0664);
  EXPECT_NE(parse_error("x mode=u=q\n").find("invalid mode"), std::string::npos);
}

TEST(SpecParse, ErrorsNameTheFileAndLine) {
  EXPECT_EQ(parse_error(". type=dir\n\nfoo type=file bar=1\n"),
            "spec.mtree:3: unknown keyword 'bar'");
  EXPECT_EQ(parse_error("a \\\n  type=file \\\n  foo=1\n"), "spec.mtree:1: unknown keyword 'foo'");
  EXPECT_EQ(parse_error("a type=blob\n"),
            "spec.mtree:1: invalid type 'blob' (file, dir, link, char, block, fifo or socket)");
  EXPECT_NE(parse_error("a mode=8888\n").find("spec.mtree:1: invalid mode '8888'"),
            std::string::npos);
  EXPECT_NE(parse_error("a mode=017777\n").find("invalid mode"), std::string::npos);
  EXPECT_NE(parse_error("a uid=-1\n").find("invalid uid '-1'"), std::string::npos);
  EXPECT_NE(parse_error("a gid=4294967296\n").find("invalid gid"), std::string::npos);
  EXPECT_NE(parse_error("a time=1.1000000000\n").find("invalid time"), std::string::npos);
  EXPECT_NE(parse_error("a time=x\n").find("invalid time"), std::string::npos);
  EXPECT_NE(parse_error("a device=vax9,1,2\n").find("unknown device format 'vax9'"),
            std::string::npos);
  EXPECT_NE(parse_error("a device=bsdos,1,2,3\n").find("invalid device"), std::string::npos);
  EXPECT_NE(parse_error("a device=1,x\n").find("invalid device"), std::string::npos);
  EXPECT_NE(parse_error("a sha256=abc\n").find("64 hex digits"), std::string::npos);
  EXPECT_NE(parse_error("a size=\n").find("'size' has no value"), std::string::npos);
  EXPECT_NE(parse_error("a optional=1\n").find("'optional' takes no value"), std::string::npos);
  EXPECT_NE(parse_error("a mode\n").find("'mode' needs a value"), std::string::npos);
  EXPECT_EQ(parse_error("x type=dir\n..\n..\n"), "spec.mtree:3: '..' above the root");
  EXPECT_NE(parse_error("./a/../b type=file\n").find("'..' in the path"), std::string::npos);
  EXPECT_EQ(parse_error("\n/set remove\n"), "spec.mtree:2: 'remove' cannot be a /set default");
  EXPECT_NE(parse_error("/include x\n").find("spec.mtree:1: unknown special command '/include'"),
            std::string::npos);
  EXPECT_EQ(parse_error("/set mode=9\n"),
            "spec.mtree:1: invalid mode '9' (octal up to 07777, or symbolic like u=rwx,go=rx)");
  EXPECT_NE(parse_error("/unset nothing\n").find("unknown keyword 'nothing'"), std::string::npos);
  EXPECT_NE(parse_error("a remove mode=0644\n").find("'remove' takes no other keyword"),
            std::string::npos);
  EXPECT_NE(parse_error("a\\000b type=file\n").find("NUL"), std::string::npos);
  EXPECT_EQ(parse_error("l type=link link=/etc\\000x\n"),
            "spec.mtree:1: invalid link '/etc\\000x' (a NUL byte)");
  EXPECT_EQ(parse_error("f type=file contents=/etc/passwd\\000.txt\n"),
            "spec.mtree:1: invalid contents '/etc/passwd\\000.txt' (a NUL byte)");
  std::string deep;  // one level below the deepest a tree may be, a directory per line
  for (size_t i = 0; i <= build::kMaxTreeDepth; ++i) deep += "a type=dir\n";
  EXPECT_EQ(parse_error(deep), "spec.mtree:2049: nested more than 2048 directories deep");
}

TEST(SpecParse, ReadSpecTakesContentsRelativeToItsDirectory) {
  TempDir dir;
  make_dir(dir / "conf");
  write_file(dir / "conf/spec", "a type=file contents=files/a\nb type=file contents=/x\n");
  Spec spec = build::read_spec(dir / "conf/spec");
  EXPECT_EQ(spec.name, dir / "conf/spec");
  EXPECT_EQ(spec.entries[0].contents, dir / "conf/files/a");
  EXPECT_EQ(spec.entries[1].contents, "/x");
  std::string missing = error_of([&] { build::read_spec(dir / "nope"); });
  EXPECT_NE(missing.find(dir / "nope"), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file"), std::string::npos) << missing;
}

// A small tree on disk: a directory, a file, a symlink; fixed times.
void make_base(const std::string& root) {
  make_dir(root);
  make_dir(root + "/etc");
  write_file(root + "/etc/motd", "hello\n");
  write_file(root + "/bin", "#!/bin/sh\n", 0755);
  ::symlink("etc/motd", (root + "/motd").c_str());
  for (const char* p : {"/etc/motd", "/bin", "/motd", "/etc", ""}) {
    set_mtime(root + p, 1600000000, 7);
  }
}

std::shared_ptr<build::Inode> find(const build::Tree& tree, const std::string& path) {
  std::shared_ptr<build::Inode> n = tree.root;
  size_t pos = 0;
  while (n != nullptr && pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    auto it = n->children.find(path.substr(pos, slash - pos));
    n = it == n->children.end() ? nullptr : it->second;
    pos = slash + 1;
  }
  return n;
}

void apply_text(build::Tree& tree, const std::string& text, const std::string& base = "/") {
  build::apply_spec(tree, build::parse_spec(text, "spec.mtree", base));
}

std::string apply_error(build::Tree& tree, const std::string& text, const std::string& base = "/") {
  return error_of([&] { apply_text(tree, text, base); });
}

TEST(SpecApply, ChangesOnlyTheAttributesNamed) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  auto motd = find(tree, "etc/motd");
  uint32_t uid = motd->uid, gid = motd->gid;
  apply_text(tree,
             "./etc/motd mode=0600\n"
             "./bin uid=1000 time=1700000000.5\n"
             "./motd type=link link=elsewhere\n"
             ". gid=44\n");
  EXPECT_EQ(motd->mode, 0100600);
  EXPECT_EQ(motd->uid, uid);
  EXPECT_EQ(motd->gid, gid);
  EXPECT_EQ(motd->mtime_sec, 1600000000);
  EXPECT_EQ(motd->size, 6u);
  auto bin = find(tree, "bin");
  EXPECT_EQ(bin->mode, 0100755);
  EXPECT_EQ(bin->uid, 1000u);
  EXPECT_EQ(bin->mtime_sec, 1700000000);
  EXPECT_EQ(bin->mtime_nsec, 5u);
  EXPECT_EQ(find(tree, "motd")->target, "elsewhere");
  EXPECT_EQ(tree.root->gid, 44u);
  EXPECT_EQ(tree.root->mode, 040755);
}

TEST(SpecApply, CreatesEveryTypeWithoutRoot) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  apply_text(tree,
             "/set uid=0 gid=0\n"
             "./dev type=dir mode=0755\n"
             "./dev/null type=char mode=0666 device=netbsd,2,2\n"
             "./dev/sda type=block mode=0640 gid=6 device=8,0\n"
             "./dev/log type=socket mode=0666\n"
             "./dev/fifo type=fifo\n"
             "./dev/empty type=file mode=0444 uid=3 time=5.6\n"
             "./dev/stdin type=link link=/proc/self/fd/0\n");
  auto dev = find(tree, "dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->mode, 040755);
  EXPECT_EQ(dev->mtime_sec, 1600000000) << "the time of its directory";
  EXPECT_EQ(dev->mtime_nsec, 7u);
  auto null = find(tree, "dev/null");
  EXPECT_EQ(null->mode, 020666);
  EXPECT_EQ(null->rdev_major, 2u);
  EXPECT_EQ(null->rdev_minor, 2u);
  auto sda = find(tree, "dev/sda");
  EXPECT_EQ(sda->mode, 060640);
  EXPECT_EQ(sda->gid, 6u);
  EXPECT_EQ(sda->rdev_major, 8u);
  EXPECT_EQ(find(tree, "dev/log")->mode, 0140666);
  EXPECT_EQ(find(tree, "dev/fifo")->mode, 010644);
  auto empty = find(tree, "dev/empty");
  EXPECT_EQ(empty->mode, 0100444);
  EXPECT_EQ(empty->size, 0u);
  EXPECT_EQ(empty->uid, 3u);
  EXPECT_EQ(empty->mtime_sec, 5);
  EXPECT_EQ(empty->mtime_nsec, 6u);
  auto stdin_link = find(tree, "dev/stdin");
  EXPECT_EQ(stdin_link->mode, 0120777);
  EXPECT_EQ(stdin_link->target, "/proc/self/fd/0");
  // Nothing was made on the host.
  EXPECT_FALSE(std::filesystem::exists(dir / "src/dev"));
}

TEST(SpecApply, HierarchicalSpecCreatesNestedDirectories) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  apply_text(tree,
             "/set type=dir mode=0755\n"
             ".\n"
             "var\n"
             "log mode=0750\n"
             "messages type=file mode=0640\n"
             "..\n"
             "run\n");
  EXPECT_EQ(find(tree, "var/log")->mode, 040750);
  EXPECT_EQ(find(tree, "var/log/messages")->mode, 0100640);
  EXPECT_NE(find(tree, "var/run"), nullptr);
}

TEST(SpecApply, MistakesAreErrorsNamingLineAndPath) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  EXPECT_EQ(apply_error(tree, "\n./usr/bin/x type=file\n"),
            "spec.mtree:2: ./usr/bin/x: its directory ./usr does not exist (create it on an "
            "earlier line)");
  EXPECT_EQ(apply_error(tree, "./bin/x type=file\n"),
            "spec.mtree:1: ./bin/x: ./bin is not a directory");
  EXPECT_EQ(apply_error(tree, "./new mode=0644\n"),
            "spec.mtree:1: ./new: does not exist; give type= to create it, or mark it optional");
  EXPECT_EQ(apply_error(tree, "./etc type=file\n"),
            "spec.mtree:1: ./etc: is a dir in the tree, but the spec says type=file");
  EXPECT_EQ(apply_error(tree, "/set type=file\n./etc mode=0700\n"),
            "spec.mtree:2: ./etc: is a dir in the tree, but the spec says type=file (a /set "
            "default)");
  EXPECT_NE(apply_error(tree, "./l type=link\n").find("a new symlink needs link="),
            std::string::npos);
  EXPECT_NE(apply_error(tree, "./c type=char\n").find("needs device="), std::string::npos);
  EXPECT_NE(apply_error(tree, "./bin link=x\n").find("link= on a file"), std::string::npos);
  EXPECT_NE(apply_error(tree, "./bin device=1,2\n").find("device= on a file"), std::string::npos);
  EXPECT_NE(apply_error(tree, "./etc contents=/etc/hostname\n").find("contents= on a dir"),
            std::string::npos);
  EXPECT_NE(apply_error(tree, "./f type=file size=4\n").find("no contents="), std::string::npos);
  EXPECT_EQ(apply_error(tree, "./bin size=3\n"),
            "spec.mtree:1: ./bin: size is 10, but the spec says size=3");
  // Optional entries are skipped when missing, and nothing was applied by the failures above.
  apply_text(tree, "./nothing type=file optional\n./no/such/dir type=dir optional\n");
  EXPECT_EQ(find(tree, "nothing"), nullptr);
  EXPECT_EQ(find(tree, "f"), nullptr);
}

TEST(SpecApply, RemoveTakesEntriesOut) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  apply_text(tree,
             "./etc remove\n"
             "./motd remove\n"
             "./never remove optional\n"
             "./etc type=dir mode=0700\n");
  EXPECT_EQ(find(tree, "etc/motd"), nullptr);
  EXPECT_EQ(find(tree, "motd"), nullptr);
  EXPECT_EQ(find(tree, "etc")->mode, 040700) << "created again, empty";
  EXPECT_TRUE(find(tree, "etc")->children.empty());
  EXPECT_EQ(apply_error(tree, "./never remove\n"),
            "spec.mtree:1: ./never: does not exist, so it cannot be removed");
  EXPECT_EQ(apply_error(tree, ". remove\n"), "spec.mtree:1: .: the root cannot be removed");
}

TEST(SpecApply, ContentsComeFromTheHostAndDigestsAreChecked) {
  TempDir dir;
  make_base(dir / "src");
  make_dir(dir / "spec");
  make_dir(dir / "spec/files");
  write_file(dir / "spec/files/abc", "abc", 0600);
  set_mtime(dir / "spec/files/abc", 1500000000, 3);
  ::symlink("abc", (dir / "spec/files/via-link").c_str());
  const std::string abc_sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  write_file(dir / "spec/spec", "./new type=file contents=files/abc size=3 sha256=" + abc_sha +
                                    "\n"
                                    "./linked type=file contents=files/via-link mode=0644 time=9\n"
                                    "./etc/motd contents=files/abc sha256=" +
                                    abc_sha + "\n");
  build::Tree tree = build::scan_directory(dir / "src");
  build::apply_spec(tree, build::read_spec(dir / "spec/spec"));
  auto n = find(tree, "new");
  EXPECT_EQ(n->size, 3u);
  EXPECT_EQ(n->mode, 0100600) << "a new file takes the permissions of its contents";
  EXPECT_EQ(n->mtime_sec, 1500000000);
  EXPECT_EQ(n->mtime_nsec, 3u);
  EXPECT_EQ(n->uid, 0u) << "and not the owner: that is the build host's";
  auto linked = find(tree, "linked");
  EXPECT_EQ(linked->mode, 0100644);
  EXPECT_EQ(linked->mtime_sec, 9);
  EXPECT_EQ(linked->size, 3u);
  auto motd = find(tree, "etc/motd");
  EXPECT_EQ(motd->size, 3u) << "an existing file's bytes replaced";
  EXPECT_EQ(motd->mtime_sec, 1600000000) << "but nothing else";
  EXPECT_EQ(motd->mode, 0100644);

  // The bytes reach the image.
  build::write_image(tree, {}, dir / "img");
  auto m = posix::MountedImage::open(dir / "img");
  for (const char* path : {"new", "linked", "etc/motd"}) {
    bakefs_ino ino = 0;
    ASSERT_EQ(m.fs.resolve(path, ino), BAKEFS_OK) << path;
    std::string content;
    ASSERT_EQ(m.fs.read_all(ino, content), BAKEFS_OK);
    EXPECT_EQ(content, "abc") << path;
  }

  build::Tree again = build::scan_directory(dir / "src");
  EXPECT_EQ(apply_error(again, "./bin sha256=" + abc_sha + "\n"),
            "spec.mtree:1: ./bin: sha256 is "
            "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf, but the spec "
            "says sha256=" +
                abc_sha);
  EXPECT_NE(apply_error(again, "./x type=file contents=nope\n", dir / "spec")
                .find("contents " + dir / "spec/nope: No such file"),
            std::string::npos);
  EXPECT_NE(
      apply_error(again, "./x type=file contents=.\n", dir / "spec").find("is not a regular file"),
      std::string::npos);
  EXPECT_EQ(apply_error(again, "./x type=file contents=files/abc size=4\n", dir / "spec"),
            "spec.mtree:1: ./x: size is 3, but the spec says size=4");
}

TEST(Sha256, KnownDigestsInAnyChunking) {
  build::Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string million(1000000, 'a');
  for (size_t chunk : {size_t{1000000}, size_t{7}, size_t{64}, size_t{55}}) {
    build::Sha256 h;
    for (size_t off = 0; off < million.size(); off += chunk) {
      h.update(million.data() + off, std::min(chunk, million.size() - off));
    }
    EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        << chunk;
  }
  build::Sha256 two_blocks;  // 56 bytes: the length needs a second block
  two_blocks.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
  EXPECT_EQ(two_blocks.hex_digest(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(SpecApply, LargeFilesAreHashedWhole) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/big", random_bytes(3 * 1024 * 1024 + 17, 5));
  build::Tree tree = build::scan_directory(dir / "src");
  build::Sha256 h;
  std::string bytes = random_bytes(3 * 1024 * 1024 + 17, 5);
  h.update(bytes.data(), bytes.size());
  std::string digest = h.hex_digest();
  apply_text(tree, "./big sha256=" + digest + "\n");
  bytes[2 * 1024 * 1024 + 3] ^= 1;
  write_file(dir / "other", bytes);
  EXPECT_NE(apply_error(tree, "./big contents=" + dir / "other" + " sha256=" + digest + "\n")
                .find("sha256 is"),
            std::string::npos);
}

TEST(SpecApply, NamesComeFromTheTreesOwnPasswdAndGroup) {
  TempDir dir;
  make_base(dir / "src");
  build::Tree tree = build::scan_directory(dir / "src");
  apply_text(tree, "./bin uname=root gname=wheel\n");
  EXPECT_EQ(find(tree, "bin")->uid, 0u);
  EXPECT_EQ(find(tree, "bin")->gid, 0u);
  EXPECT_EQ(apply_error(tree, "./bin uname=daemon\n"),
            "spec.mtree:1: ./bin: unknown user 'daemon': the tree has no /etc/passwd to look "
            "it up in; give uid=");
  apply_text(tree, "./bin uname=nobody-at-all uid=12\n");
  EXPECT_EQ(find(tree, "bin")->uid, 12u) << "uid= wins over uname=";

  write_file(dir / "src/etc/passwd",
             "# users\nroot:x:0:0::/root:/bin/sh\ndaemon:*:1:1::/:/sbin/nologin\n"
             "www:x:80:80::/var/www:/sbin/nologin\n");
  write_file(dir / "src/etc/group", "wheel:*:0:root\nwww:*:81:\nstaff:*:20:\n");
  build::Tree with_db = build::scan_directory(dir / "src");
  apply_text(with_db, "/set uname=www gname=www\n./bin\n./etc/motd gname=staff uname=daemon\n");
  EXPECT_EQ(find(with_db, "bin")->uid, 80u);
  EXPECT_EQ(find(with_db, "bin")->gid, 81u);
  EXPECT_EQ(find(with_db, "etc/motd")->uid, 1u);
  EXPECT_EQ(find(with_db, "etc/motd")->gid, 20u);
  EXPECT_EQ(apply_error(with_db, "./bin gname=nogroup\n"),
            "spec.mtree:1: ./bin: unknown group 'nogroup' (not in the tree's /etc/group)");

  // A huge (sparse) /etc/group is a clear error, not an attempt to hold it in memory.
  ASSERT_EQ(truncate((dir / "src/etc/group").c_str(), off_t{1} << 40), 0);
  build::Tree huge = build::scan_directory(dir / "src");
  EXPECT_EQ(apply_error(huge, "./bin gname=www\n"),
            "spec.mtree:1: ./bin: " + dir / "src/etc/group" +
                ": larger than 64 MiB, too large to look names up in");
}

TEST(IdMap, ParsesRules) {
  using build::IdRange;
  EXPECT_EQ(build::parse_id_range("1000:0"), (IdRange{1000, 1000, 0}));
  EXPECT_EQ(build::parse_id_range("100-199:1100"), (IdRange{100, 199, 1100}));
  EXPECT_EQ(build::parse_id_range("0-4294967295:0"), (IdRange{0, 4294967295u, 0}));
  for (const char* bad : {"", "1000", "a:1", "1:b", "5-4:0", "1-:2", ":1", "1:", "0-10:4294967290",
                          "-1:0", "1:4294967296"}) {
    EXPECT_FALSE(build::parse_id_range(bad).has_value()) << bad;
  }
}

TEST(IdMap, RewritesEachInodeOnce) {
  TempDir dir;
  make_base(dir / "src");
  ::link((dir / "src/bin").c_str(), (dir / "src/etc/bin2").c_str());
  build::Tree tree = build::scan_directory(dir / "src");
  apply_text(tree, "/set uid=1000 gid=100\n.\n./etc\n./etc/motd uid=1001 gid=5\n./bin\n./motd\n");
  build::IdMaps maps;
  maps.uids = {{1000, 1999, 2000}, {1001, 1001, 7}};
  maps.gids = {{100, 100, 0}};
  build::apply_id_maps(tree, maps);
  EXPECT_EQ(tree.root->uid, 2000u);
  EXPECT_EQ(tree.root->gid, 0u);
  EXPECT_EQ(find(tree, "etc/motd")->uid, 2001u) << "the first rule wins";
  EXPECT_EQ(find(tree, "etc/motd")->gid, 5u) << "ids no rule covers stay";
  EXPECT_EQ(find(tree, "bin")->uid, 2000u) << "a hard link is mapped once, not twice";
  EXPECT_EQ(find(tree, "etc/bin2"), find(tree, "bin"));
  maps = {};
  maps.uids = {{2000, 2000, 5}};
  maps.all_root = true;
  build::apply_id_maps(tree, maps);
  EXPECT_EQ(tree.root->uid, 0u);
  EXPECT_EQ(find(tree, "etc/motd")->uid, 0u);
  EXPECT_EQ(find(tree, "etc/motd")->gid, 0u);
}

CommandResult run(const std::string& command) {
  return run_command(command);
}

bakefs_attr attr_of(const posix::MountedImage& m, const std::string& path) {
  return bakefs::test::attr_of(m.fs, path);
}

TEST(MkimageSpec, EndToEndThroughTheDriver) {
  TempDir dir;
  make_base(dir / "src");
  write_file(dir / "hello.txt", "hello from the host\n", 0640);
  write_file(dir / "spec.mtree",
             "# a spec mixing both forms\n"
             "/set uid=1000 gid=1000\n"
             ". type=dir mode=0755 time=1700000000\n"
             "./dev type=dir mode=0755 time=1700000000\n"
             "./dev/console type=char mode=0600 device=netbsd,0,0\n"
             "./dev/sd0 type=block mode=0640 gid=5 device=4,0 time=1700000000.250000000\n"
             "./dev/initctl type=fifo mode=0600\n"
             "./etc type=dir mode=0750\n"
             "    hello type=file contents=hello.txt mode=0444\n"
             "    motd mode=0600 uid=0\n"
             "..\n"
             "./motd remove\n"
             "./bin mode=04755\n");
  CommandResult r = run(MKIMAGE_PATH " --spec " + dir / "spec.mtree" + " --uid-map 1000:2000 " +
                        "--gid-map 0-10:100 " + dir / "src" + " -o " + dir / "img");
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  bakefs_attr console = attr_of(m, "dev/console");
  EXPECT_EQ(console.mode, 020600u);
  EXPECT_EQ(console.uid, 2000u);
  EXPECT_EQ(console.rdev_major, 0u);
  bakefs_attr sd0 = attr_of(m, "dev/sd0");
  EXPECT_EQ(sd0.mode, 060640u);
  EXPECT_EQ(sd0.rdev_major, 4u);
  EXPECT_EQ(sd0.gid, 105u);
  EXPECT_EQ(sd0.mtime_sec, 1700000000);
  EXPECT_EQ(sd0.mtime_nsec, 250000000u);
  EXPECT_EQ(attr_of(m, "dev/initctl").mode, 010600u);
  bakefs_attr hello = attr_of(m, "etc/hello");
  EXPECT_EQ(hello.mode, 0100444u);
  EXPECT_EQ(hello.size, 20u);
  bakefs_ino ino = 0;
  ASSERT_EQ(m.fs.resolve("etc/hello", ino), BAKEFS_OK);
  std::string content;
  ASSERT_EQ(m.fs.read_all(ino, content), BAKEFS_OK);
  EXPECT_EQ(content, "hello from the host\n");
  bakefs_attr motd = attr_of(m, "etc/motd");
  EXPECT_EQ(motd.mode, 0100600u);
  EXPECT_EQ(motd.uid, 0u);
  EXPECT_EQ(attr_of(m, "etc").mode, 040750u);
  EXPECT_EQ(m.fs.resolve("motd", ino), BAKEFS_ENOENT);
  EXPECT_EQ(attr_of(m, "bin").mode, 0104755u);
  EXPECT_EQ(attr_of(m, "").uid, 2000u);

  // --all-root wins over the maps.
  r = run(MKIMAGE_PATH " --spec " + dir / "spec.mtree" + " --uid-map 1000:2000 --all-root " +
          dir / "src" + " -o " + dir / "img2");
  ASSERT_EQ(r.status, 0) << r.output;
  auto m2 = posix::MountedImage::open(dir / "img2");
  EXPECT_EQ(attr_of(m2, "dev/console").uid, 0u);
  EXPECT_EQ(attr_of(m2, "dev/sd0").gid, 0u);
}

TEST(MkimageSpec, ErrorsAndUsage) {
  TempDir dir;
  make_base(dir / "src");
  write_file(dir / "bad.mtree", ". type=dir\n./etc mode=0755 colour=blue\n");
  CommandResult r =
      run(MKIMAGE_PATH " --spec " + dir / "bad.mtree " + dir / "src" + " -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(dir / "bad.mtree:2: unknown keyword 'colour'"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "img"));
  r = run(MKIMAGE_PATH " --uid-map 1000 " + dir / "src" + " -o " + dir / "img");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--uid-map: invalid rule '1000'"), std::string::npos) << r.output;
  r = run(MKIMAGE_PATH " --gid-map 5-1:0 " + dir / "src" + " -o " + dir / "img");
  EXPECT_EQ(r.status, 2);
  r = run(MKIMAGE_PATH " --spec " + dir / "missing.mtree " + dir / "src" + " -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(dir / "missing.mtree"), std::string::npos) << r.output;
}

// Round trip with NetBSD's mtree (Debian's mtree-netbsd), when it is installed: the spec
// `mtree -c` writes of a tree, applied to a copy of that tree whose modes, times and owners
// were changed, gives an image equal to the original tree; so does its `mtree -C` form.
TEST(MkimageSpec, RoundTripsWhatMtreeWrites) {
  if (::access("/usr/bin/mtree", X_OK) != 0) GTEST_SKIP() << "mtree-netbsd is not installed";
  TempDir dir;
  const std::string a = dir / "a";
  make_dir(a);
  make_dir(a + "/sub dir");
  make_dir(a + "/sub dir/deeper");
  write_file(a + "/sub dir/deeper/file", "deep", 0600);
  write_file(a + "/sp ace#hash", "x", 04755);
  write_file(a + "/caf\xc3\xa9", "y", 0640);
  write_file(a + "/sub dir/back\\slash", "z", 0644);
  ::symlink("sub dir/deeper/file", (a + "/link").c_str());
  ::mkfifo((a + "/fifo").c_str(), 0620);
  ::link((a + "/caf\xc3\xa9").c_str(), (a + "/sub dir/hard").c_str());
  if (is_root()) {
    ::mknod((a + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3));
    ::mknod((a + "/big").c_str(), S_IFBLK | 0600, makedev(259, 70000));
    ::lchown((a + "/sub dir").c_str(), 1234, 5678);
    ::lchown((a + "/link").c_str(), 42, 43);
  }
  int64_t t = 1650000000;
  for (const char* p :
       {"/sub dir/deeper/file", "/sp ace#hash", "/caf\xc3\xa9", "/sub dir/back\\slash", "/link",
        "/fifo", "/sub dir/deeper", "/sub dir", ""}) {
    set_mtime(a + p, t, t % 3 == 0 ? 5 : 123456789);
    ++t;
  }
  if (is_root()) {
    set_mtime(a + "/null", 1, 2);
    set_mtime(a + "/big", 3, 4);
  }
  const std::string keys = "-k type,mode,uid,gid,time,link,device,size,sha256";
  CommandResult r = run("cd '" + a + "' && mtree -c " + keys + " > " + dir / "c.mtree");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run("mtree -C " + keys + " -f " + dir / "c.mtree" + " > " + dir / "C.mtree");
  ASSERT_EQ(r.status, 0) << r.output;

  for (const char* form : {"c.mtree", "C.mtree"}) {
    SCOPED_TRACE(form);
    const std::string b = dir / "b";
    std::filesystem::remove_all(b);
    ASSERT_EQ(run("cp -a '" + a + "' '" + b + "'").status, 0);
    ::chmod((b + "/sp ace#hash").c_str(), 0600);
    ::chmod((b + "/sub dir").c_str(), 0700);
    ::lchown((b + "/link").c_str(), 0, 0);
    ::lchown((b + "/sub dir").c_str(), 0, 0);
    for (const char* p : {"/sub dir/deeper/file", "/link", "/fifo", "/sub dir", ""}) {
      set_mtime(b + p, 1, 1);
    }
    r = run(MKIMAGE_PATH " --spec " + dir / form + " " + b + " -o " + dir / "img");
    ASSERT_EQ(r.status, 0) << r.output;
    auto m = posix::MountedImage::open(dir / "img");
    expect_same_tree(a, m.fs);
  }
  // A file whose bytes differ from what mtree recorded is an error.
  write_file(a + "/sub dir/deeper/file", "DEEP", 0600);
  r = run(MKIMAGE_PATH " --spec " + dir / "c.mtree " + a + " -o " + dir / "img");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("./sub dir/deeper/file: sha256 is"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bakefs::test
