// --stub-etc and the Berkeley DB hash files behind it. The databases are read back with an
// independent implementation: the 4.4BSD db 1.85 routines of Debian's libdb1-compat, loaded
// at run time (the tests that need it skip when it is missing).
// SPDX-License-Identifier: BSD-2-Clause
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include "netbsd_etc/base_etc.h"
#include "netbsd_etc/bdb_hash.h"
#include "netbsd_etc/pwd_db.h"
#include "netbsd_etc/stub_etc.h"
#include "netbsd_etc/stub_etc_files.h"
#include "test_support.h"

namespace bakefs::test {
namespace {

using build::ByteOrder;

// db 1.85's interface (db.h), which libdb1-compat ships without a header.
struct Dbt {
  void* data;
  size_t size;
};
enum DbType { kDbBtree, kDbHash, kDbRecno };
struct Db {
  DbType type;
  int (*close)(Db*);
  int (*del)(const Db*, const Dbt*, unsigned);
  int (*get)(const Db*, const Dbt*, Dbt*, unsigned);
  int (*put)(const Db*, Dbt*, const Dbt*, unsigned);
  int (*seq)(const Db*, Dbt*, Dbt*, unsigned);
  int (*sync)(const Db*, unsigned);
  void* internal;
  int (*fd)(const Db*);
};
using DbOpen = Db* (*)(const char*, int, int, DbType, const void*);
constexpr unsigned kFirst = 3, kNext = 7;  // R_FIRST, R_NEXT

DbOpen libdb1() {
  static DbOpen open = [] {
    for (const char* name : {"libdb1.so.2", "libdb.so.2"}) {
      if (void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) {
        return reinterpret_cast<DbOpen>(dlsym(lib, "dbopen"));
      }
    }
    return DbOpen{nullptr};
  }();
  return open;
}

#define NEED_LIBDB1()                                                                     \
  if (libdb1() == nullptr) {                                                              \
    GTEST_SKIP() << "libdb1-compat is not installed (apt-get install libdb1-compat): no " \
                    "independent reader for the databases";                               \
  }

// A database file opened with libdb1, closed at the end.
class DbFile {
 public:
  DbFile(const std::string& path, int flags = O_RDONLY)
      : db_(libdb1()(path.c_str(), flags, 0644, kDbHash, nullptr)) {}
  ~DbFile() {
    if (db_ != nullptr) db_->close(db_);
  }
  DbFile(const DbFile&) = delete;
  DbFile& operator=(const DbFile&) = delete;
  bool ok() const { return db_ != nullptr; }
  std::optional<std::string> get(const std::string& key) const {
    Dbt k{const_cast<char*>(key.data()), key.size()}, v{};
    int r = db_->get(db_, &k, &v, 0);
    EXPECT_NE(r, -1) << "db get failed";
    if (r != 0) return std::nullopt;
    return std::string(static_cast<const char*>(v.data), v.size);
  }
  bool put(const std::string& key, const std::string& value) {
    Dbt k{const_cast<char*>(key.data()), key.size()};
    Dbt v{const_cast<char*>(value.data()), value.size()};
    return db_->put(db_, &k, &v, 0) == 0;
  }
  std::map<std::string, std::string> all() const {
    std::map<std::string, std::string> out;
    Dbt k{}, v{};
    for (int r = db_->seq(db_, &k, &v, kFirst); r == 0; r = db_->seq(db_, &k, &v, kNext)) {
      out[std::string(static_cast<const char*>(k.data), k.size)] =
          std::string(static_cast<const char*>(v.data), v.size);
    }
    return out;
  }
  bool close() {
    int r = db_->close(db_);
    db_ = nullptr;
    return r == 0;
  }

 private:
  Db* db_;
};

std::vector<build::HashDbPair> some_pairs(size_t count, uint64_t seed) {
  std::vector<build::HashDbPair> pairs;
  for (size_t i = 0; i < count; ++i) {
    std::string key = "key-" + std::to_string(i * 2654435761u % 1000003);
    pairs.push_back({key, random_bytes(i * 37 % 301, seed + i)});
  }
  return pairs;
}

std::string save(const TempDir& dir, const std::string& name, const std::string& bytes) {
  write_file(dir / name, bytes);
  return dir / name;
}

void expect_db_holds(const std::string& path, const std::vector<build::HashDbPair>& pairs) {
  DbFile db(path);
  ASSERT_TRUE(db.ok()) << path << ": dbopen failed: " << std::strerror(errno);
  for (const auto& p : pairs) {
    auto v = db.get(p.key);
    ASSERT_TRUE(v.has_value()) << p.key;
    EXPECT_EQ(*v, p.data) << p.key;
  }
  EXPECT_FALSE(db.get("no such key").has_value());
  EXPECT_EQ(db.all().size(), pairs.size());
}

TEST(BdbHash, LibdbReadsEveryPairLittleEndian) {
  NEED_LIBDB1();
  TempDir dir;
  auto pairs = some_pairs(3000, 1);  // buckets overflow: ~30 pairs of up to 300 bytes each
  expect_db_holds(save(dir, "t.db", build::write_hash_db(pairs, {})), pairs);
}

TEST(BdbHash, LibdbReadsEveryPairBigEndian) {
  NEED_LIBDB1();
  TempDir dir;
  auto pairs = some_pairs(3000, 2);
  build::HashDbOptions options;
  options.byte_order = ByteOrder::big;
  expect_db_holds(save(dir, "t.db", build::write_hash_db(pairs, options)), pairs);
}

TEST(BdbHash, LibdbReadsSmallAndEmptyTables) {
  NEED_LIBDB1();
  TempDir dir;
  expect_db_holds(save(dir, "empty.db", build::write_hash_db({}, {})), {});
  auto pairs = some_pairs(5, 3);
  build::HashDbOptions options;
  options.page_size = 512;
  options.expected_keys = 1;
  expect_db_holds(save(dir, "small.db", build::write_hash_db(pairs, options)), pairs);
}

// Pairs of 1.5 KiB: at 32 keys a bucket they would need more overflow pages than a split point
// has (2046), so the table gets more buckets.
TEST(BdbHash, LargePairsGetMoreBuckets) {
  NEED_LIBDB1();
  TempDir dir;
  std::vector<build::HashDbPair> pairs;
  for (size_t i = 0; i < 6000; ++i) {
    pairs.push_back({"user-" + std::to_string(i), random_bytes(1500 + i % 64, i)});
  }
  expect_db_holds(save(dir, "t.db", build::write_hash_db(pairs, {})), pairs);
}

// The bitmap, spares and masks must let the library go on where the writer stopped: adding
// keys splits buckets and allocates overflow pages.
TEST(BdbHash, LibdbCanGrowTheTable) {
  NEED_LIBDB1();
  TempDir dir;
  auto pairs = some_pairs(2000, 4);
  std::string path = save(dir, "t.db", build::write_hash_db(pairs, {}));
  {
    DbFile db(path, O_RDWR);
    ASSERT_TRUE(db.ok());
    for (size_t i = 0; i < 6000; ++i) {
      ASSERT_TRUE(db.put("more-" + std::to_string(i), random_bytes(i % 200, i)));
    }
    ASSERT_TRUE(db.close());
  }
  for (size_t i = 0; i < 6000; ++i) {
    pairs.push_back({"more-" + std::to_string(i), random_bytes(i % 200, i)});
  }
  expect_db_holds(path, pairs);
}

// Zeroes the bytes a 4 KiB-page file leaves undefined, which the library fills with whatever
// its buffers held: the header page after the header, the free middle of each bucket page.
void clear_undefined(std::vector<uint8_t>& f, ByteOrder order) {
  constexpr size_t kPage = 4096;
  if (f.size() < kPage) return;
  uint32_t buckets = (uint32_t{f[40]} << 24 | uint32_t{f[41]} << 16 | f[42] << 8 | f[43]) + 1;
  std::fill(f.begin() + 260, f.begin() + kPage, 0);
  auto u16 = [&](size_t at) {
    return order == ByteOrder::little ? f[at] | f[at + 1] << 8 : f[at] << 8 | f[at + 1];
  };
  for (size_t b = 0; b < buckets && (b + 2) * kPage <= f.size(); ++b) {
    size_t page = (b + 1) * kPage;
    size_t n = static_cast<size_t>(u16(page));
    size_t data_start = static_cast<size_t>(u16(page + (n + 2) * 2));
    if (data_start > kPage || (n + 3) * 2 > data_start) continue;
    std::fill(f.begin() + static_cast<ptrdiff_t>(page + (n + 3) * 2),
              f.begin() + static_cast<ptrdiff_t>(page + data_start), 0);
  }
}

// A table that fits its initial buckets comes out as the library itself writes it.
TEST(BdbHash, SameBytesAsLibdbForASmallTable) {
  NEED_LIBDB1();
  struct HashInfo {
    unsigned bsize, ffactor, nelem, cachesize;
    uint32_t (*hash)(const void*, size_t);
    int lorder;
  };
  TempDir dir;
  auto pairs = some_pairs(40, 6);
  for (ByteOrder order : {ByteOrder::little, ByteOrder::big}) {
    HashInfo info{4096, 32, 256, 0, nullptr, order == ByteOrder::little ? 1234 : 4321};
    std::string path = dir / "ref.db";
    Db* db = libdb1()(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644, kDbHash, &info);
    ASSERT_NE(db, nullptr);
    for (const auto& p : pairs) {
      Dbt k{const_cast<char*>(p.key.data()), p.key.size()};
      Dbt v{const_cast<char*>(p.data.data()), p.data.size()};
      ASSERT_EQ(db->put(db, &k, &v, 0), 0);
    }
    ASSERT_EQ(db->close(db), 0);
    build::HashDbOptions options;
    options.byte_order = order;
    std::string bytes = build::write_hash_db(pairs, options);
    std::vector<uint8_t> mine(bytes.begin(), bytes.end()), theirs = read_bytes(path);
    clear_undefined(mine, order);
    clear_undefined(theirs, order);
    EXPECT_TRUE(mine == theirs) << (order == ByteOrder::little ? "little" : "big")
                                << "-endian tables differ";
  }
}

TEST(BdbHash, SameBytesTwice) {
  auto pairs = some_pairs(500, 5);
  EXPECT_EQ(build::write_hash_db(pairs, {}), build::write_hash_db(pairs, {}));
}

TEST(BdbHash, RefusesDuplicateKeysAndOversizedPairs) {
  EXPECT_THROW(build::write_hash_db({{"a", "1"}, {"a", "2"}}, {}), build::Error);
  EXPECT_THROW(build::write_hash_db({{"a", std::string(5000, 'x')}}, {}), build::Error);
  build::HashDbOptions odd;
  odd.page_size = 3000;
  EXPECT_THROW(build::write_hash_db({}, odd), build::Error);
}

// A record as NetBSD's getpwent.c decodes a version 1 database, on a little-endian target.
struct Record {
  std::string name, password;
  uint32_t uid = 0, gid = 0;
  int64_t change = 0;
  std::string login_class, gecos, home, shell;
  int64_t expire = 0;
  uint32_t flags = 0;
};

Record decode(const std::string& r) {
  Record out;
  size_t at = 0;
  auto text = [&] {
    size_t end = r.find('\0', at);
    EXPECT_NE(end, std::string::npos);
    std::string s = r.substr(at, end - at);
    at = end + 1;
    return s;
  };
  auto scalar = [&](auto& v) {
    EXPECT_LE(at + sizeof(v), r.size());
    std::memcpy(&v, r.data() + at, sizeof(v));
    at += sizeof(v);
  };
  out.name = text();
  out.password = text();
  scalar(out.uid);
  scalar(out.gid);
  scalar(out.change);
  out.login_class = text();
  out.gecos = text();
  out.home = text();
  out.shell = text();
  scalar(out.expire);
  scalar(out.flags);
  EXPECT_EQ(at, r.size());
  return out;
}

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);  // the test host is little-endian, like NetBSD/amd64
  return s;
}

TEST(PwdDb, RecordsByNameNumberAndUid) {
  NEED_LIBDB1();
  TempDir dir;
  auto users = build::parse_master_passwd(
      "root:$2a$hash:0:0::0:0:Charlie &:/root:/bin/sh\n"
      "toor:*:0:0:daemon:1700000000:4102444800:Bourne-again Superuser:/root:/bin/sh\n"
      "alice:$6$salt$x:1001:100::::Alice:/home/alice:/bin/ksh\n",
      "test");
  auto files = build::make_password_files(users, ByteOrder::little);
  EXPECT_EQ(files.passwd,
            "root:*:0:0:Charlie &:/root:/bin/sh\n"
            "toor:*:0:0:Bourne-again Superuser:/root:/bin/sh\n"
            "alice:*:1001:100:Alice:/home/alice:/bin/ksh\n");
  DbFile db(save(dir, "pwd.db", files.pwd_db));
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db.get(std::string("VERSION", 8)), le32(1));
  EXPECT_FALSE(db.get("__YP!").has_value());

  auto root = db.get("1root");
  ASSERT_TRUE(root.has_value());
  Record r = decode(*root);
  EXPECT_EQ(r.name, "root");
  EXPECT_EQ(r.password, "*");  // pwd.db never holds passwords
  EXPECT_EQ(r.uid, 0u);
  EXPECT_EQ(r.gecos, "Charlie &");
  EXPECT_EQ(r.home, "/root");
  EXPECT_EQ(r.shell, "/bin/sh");
  EXPECT_EQ(r.flags, 0u);

  auto toor = db.get("1toor");
  ASSERT_TRUE(toor.has_value());
  r = decode(*toor);
  EXPECT_EQ(r.login_class, "daemon");
  EXPECT_EQ(r.change, 1700000000);
  EXPECT_EQ(r.expire, 4102444800);  // after 2038: 64-bit times

  // Line numbers count from 1; uid 0 belongs to the first entry that has it.
  EXPECT_EQ(db.get("2" + le32(2)), toor);
  EXPECT_EQ(db.get("3" + le32(0)), root);
  EXPECT_FALSE(db.get("2" + le32(4)).has_value());

  auto alice = db.get("3" + le32(1001));
  ASSERT_TRUE(alice.has_value());
  r = decode(*alice);
  EXPECT_EQ(r.name, "alice");
  EXPECT_EQ(r.gid, 100u);
  EXPECT_EQ(r.flags, build::kPasswordNoChange | build::kPasswordNoExpire);
  EXPECT_EQ(db.all().size(), 1u + 3 + 3 + 2);  // VERSION, names, lines, distinct uids

  DbFile secure(save(dir, "spwd.db", files.spwd_db));
  ASSERT_TRUE(secure.ok());
  EXPECT_EQ(decode(*secure.get("1alice")).password, "$6$salt$x");
  EXPECT_EQ(decode(*secure.get("1root")).password, "$2a$hash");
}

// rumprun ships an /etc whose databases NetBSD's own pwd_mkdb made; with RUMPRUN_SRC set to a
// rumprun checkout, ours must come out byte for byte the same from its master.passwd.
TEST(PwdDb, SameBytesAsNetbsdPwdMkdb) {
  const char* rumprun = std::getenv("RUMPRUN_SRC");
  if (rumprun == nullptr || *rumprun == '\0') {
    GTEST_SKIP() << "set RUMPRUN_SRC to a rumprun checkout to compare with pwd_mkdb's output";
  }
  std::string etc = std::string(rumprun) + "/lib/librumprunfs_base/rootfs/etc/";
  auto text = read_bytes(etc + "master.passwd");
  ASSERT_FALSE(text.empty()) << etc << "master.passwd";
  auto users = build::parse_master_passwd(std::string(text.begin(), text.end()), "rumprun");
  auto files = build::make_password_files(users, ByteOrder::little);
  auto expect_same = [&](const std::string& mine, const std::string& name) {
    std::vector<uint8_t> ours(mine.begin(), mine.end()), theirs = read_bytes(etc + name);
    clear_undefined(ours, ByteOrder::little);
    clear_undefined(theirs, ByteOrder::little);
    EXPECT_TRUE(ours == theirs) << name << " differs from pwd_mkdb's";
  };
  expect_same(files.pwd_db, "pwd.db");
  expect_same(files.spwd_db, "spwd.db");
}

TEST(PwdDb, BigEndianTargets) {
  NEED_LIBDB1();
  TempDir dir;
  auto users = build::parse_master_passwd("bob:*:258:3::0:0::/:/bin/sh\n", "test");
  auto files = build::make_password_files(users, ByteOrder::big);
  DbFile db(save(dir, "pwd.db", files.pwd_db));
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db.get(std::string("VERSION", 8)), std::string("\0\0\0\1", 4));
  auto bob = db.get(std::string("3\0\0\1\2", 5));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->substr(0, 6 + 8), std::string("bob\0*\0\0\0\1\2\0\0\0\3", 14));
}

TEST(PwdDb, YpMarker) {
  NEED_LIBDB1();
  TempDir dir;
  auto users = build::parse_master_passwd("root:*:0:0::0:0::/:/bin/sh\n+\n", "test");
  auto files = build::make_password_files(users, ByteOrder::little);
  DbFile db(save(dir, "pwd.db", files.pwd_db));
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db.get("__YP!"), std::string());
  EXPECT_TRUE(db.get("1+").has_value());
}

TEST(PwdDb, MalformedLinesAreNamed) {
  auto message = [](const std::string& text) {
    try {
      build::parse_master_passwd(text, "/etc/master.passwd");
    } catch (const build::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("root:*:0:0::0:0::/:/bin/sh\n# comment\n")
                .rfind("/etc/master.passwd: line 2: 1 fields", 0),
            0u);
  EXPECT_EQ(message("root:*:1:0::0:0::/:/bin/sh\n"),
            "/etc/master.passwd: line 1: root's uid must be 0");
  EXPECT_EQ(message("a:*:x:0::0:0::/:/bin/sh\n"), "/etc/master.passwd: line 1: invalid uid 'x'");
  EXPECT_EQ(message("a:*:2147483648:0::0:0::/:/bin/sh\n"),
            "/etc/master.passwd: line 1: invalid uid '2147483648'");
  EXPECT_EQ(message("a:*:0:0::soon:0::/:/bin/sh\n"),
            "/etc/master.passwd: line 1: invalid change time 'soon'");
  EXPECT_EQ(message("abcdefghijklmnopq:*:1:1::0:0::/:/bin/sh\n"),
            "/etc/master.passwd: line 1: user name longer than 16 bytes");
  EXPECT_EQ(message("a:*:0x10:010::0:0::/:/bin/sh"), "no error");  // base 0, no final newline
}

// --- the stub in images ---

posix::MountedImage build_with_stub(const TempDir& dir, const std::string& source) {
  build::Tree tree = build::scan_directory(source);
  build::apply_stub_etc(tree, {});
  build::Options options;
  options.level = 3;
  build::write_image(tree, options, dir / "img");
  return posix::MountedImage::open(dir / "img");
}

const std::map<std::string, unsigned> kStubModes = {
    {"master.passwd", 0600}, {"spwd.db", 0600},     {"pwd.db", 0644},   {"passwd", 0644},
    {"group", 0644},         {"hosts", 0644},       {"services", 0644}, {"protocols", 0644},
    {"nsswitch.conf", 0644}, {"resolv.conf", 0644},
};

TEST(StubEtc, FilesWithNetbsdModesOwnedByRoot) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/app.conf", "x");
  set_mtime(dir / "src/app.conf", 1700000000, 0);
  set_mtime(dir / "src", 1600000000, 0);
  auto m = build_with_stub(dir, dir / "src");
  bakefs_attr etc = attr_of(m.fs, "etc");
  EXPECT_EQ(etc.mode, 040755u);
  EXPECT_EQ(etc.uid, 0u);
  std::vector<Dirent> entries;
  bakefs_ino etc_ino = 0;
  ASSERT_EQ(m.fs.resolve("etc", etc_ino), BAKEFS_OK);
  ASSERT_EQ(m.fs.readdir(etc_ino, entries), BAKEFS_OK);
  EXPECT_EQ(entries.size(), kStubModes.size());
  for (const auto& [name, mode] : kStubModes) {
    bakefs_attr a = attr_of(m.fs, "etc/" + name);
    EXPECT_EQ(a.mode, 0100000u | mode) << name;
    EXPECT_EQ(a.uid, 0u) << name;
    EXPECT_EQ(a.gid, 0u) << name;
    EXPECT_EQ(a.mtime_sec, 1700000000) << name << ": dated like the newest source file";
    EXPECT_GT(a.size, 0u) << name;
  }
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), build::stub_etc_files::kMasterPasswd);
  EXPECT_NE(content_of(m.fs, "etc/services").find("http\t\t80/tcp"), std::string::npos);
  EXPECT_EQ(content_of(m.fs, "app.conf"), "x");
}

TEST(StubEtc, StubDatabasesHoldItsUsers) {
  NEED_LIBDB1();
  TempDir dir;
  make_dir(dir / "src");
  auto m = build_with_stub(dir, dir / "src");
  std::string path = save(dir, "pwd.db", content_of(m.fs, "etc/pwd.db"));
  DbFile db(path);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db.get(std::string("VERSION", 8)), le32(1));
  for (auto [name, uid] : {std::pair<const char*, uint32_t>{"root", 0},
                           {"daemon", 1},
                           {"app", 1000},
                           {"nobody", 32767}}) {
    auto by_name = db.get(std::string("1") + name);
    ASSERT_TRUE(by_name.has_value()) << name;
    EXPECT_EQ(decode(*by_name).uid, uid);
    auto by_uid = db.get("3" + le32(uid));
    ASSERT_TRUE(by_uid.has_value()) << name;
    EXPECT_EQ(decode(*by_uid).name, name);
  }
  EXPECT_EQ(decode(*db.get("2" + le32(1))).name, "root");
}

TEST(StubEtc, UserFilesWin) {
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/etc", 0750);
  write_file(dir / "src/etc/hosts", "10.0.0.1 db\n", 0640);
  write_file(dir / "src/etc/app.conf", "mine\n");
  auto m = build_with_stub(dir, dir / "src");
  EXPECT_EQ(attr_of(m.fs, "etc").mode, 040750u);
  EXPECT_EQ(content_of(m.fs, "etc/hosts"), "10.0.0.1 db\n");
  EXPECT_EQ(attr_of(m.fs, "etc/hosts").mode, 0100640u);
  EXPECT_EQ(content_of(m.fs, "etc/app.conf"), "mine\n");
  EXPECT_EQ(content_of(m.fs, "etc/group"), build::stub_etc_files::kGroup);
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), build::stub_etc_files::kMasterPasswd);
}

TEST(StubEtc, DatabasesFollowTheUsersMasterPasswd) {
  NEED_LIBDB1();
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  const std::string master =
      "root:*:0:0::0:0:Charlie &:/:/sbin/nologin\n"
      "www:$6$s$h:80:80::0:0:Web server:/var/www:/sbin/nologin\n";
  write_file(dir / "src/etc/master.passwd", master, 0600);
  set_mtime(dir / "src/etc/master.passwd", 1600000000, 0);
  auto m = build_with_stub(dir, dir / "src");
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), master);
  EXPECT_EQ(
      content_of(m.fs, "etc/passwd"),
      "root:*:0:0:Charlie &:/:/sbin/nologin\nwww:*:80:80:Web server:/var/www:/sbin/nologin\n");
  EXPECT_EQ(attr_of(m.fs, "etc/pwd.db").mtime_sec, 1600000000);
  EXPECT_EQ(attr_of(m.fs, "etc/spwd.db").mode, 0100600u);

  DbFile db(save(dir, "pwd.db", content_of(m.fs, "etc/pwd.db")));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db.get("1www").has_value());
  EXPECT_EQ(decode(*db.get("1www")).home, "/var/www");
  EXPECT_EQ(decode(*db.get("3" + le32(80))).name, "www");
  EXPECT_FALSE(db.get("1app").has_value()) << "the stub's users are gone";
  EXPECT_EQ(db.all().size(), 1u + 2 * 3);
  DbFile secure(save(dir, "spwd.db", content_of(m.fs, "etc/spwd.db")));
  ASSERT_TRUE(secure.ok());
  EXPECT_EQ(decode(*secure.get("1www")).password, "$6$s$h");
}

TEST(StubEtc, DatabasesTheUserProvidesAreKept) {
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  write_file(dir / "src/etc/master.passwd", "root:*:0:0::0:0::/:/bin/sh\n", 0600);
  write_file(dir / "src/etc/pwd.db", "their own");
  auto m = build_with_stub(dir, dir / "src");
  EXPECT_EQ(content_of(m.fs, "etc/pwd.db"), "their own");
  EXPECT_EQ(content_of(m.fs, "etc/passwd"), "root:*:0:0::/:/bin/sh\n");  // still rebuilt
}

TEST(StubEtc, MalformedMasterPasswdFailsTheBuild) {
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  write_file(dir / "src/etc/master.passwd", "root:*:0:0::0:0::/:/bin/sh\nbroken\n");
  build::Tree tree = build::scan_directory(dir / "src");
  try {
    build::apply_stub_etc(tree, {});
    FAIL() << "no error";
  } catch (const build::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/etc/master.passwd: line 2: 1 fields", 0), 0u)
        << e.what();
  }
}

TEST(StubEtc, EtcThatIsNoDirectoryIsAnError) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/etc", "");
  build::Tree tree = build::scan_directory(dir / "src");
  EXPECT_THROW(build::apply_stub_etc(tree, {}), build::Error);
}

TEST(StubEtc, SpecsSeeTheImagesUsersAndRebuiltFilesKeepTheirOwners) {
  TempDir dir;
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  write_file(dir / "src/etc/master.passwd",
             "root:*:0:0::0:0::/:/bin/sh\nweb:*:80:80::0:0::/var/www:/sbin/nologin\n", 0600);
  write_file(dir / "src/index.html", "hi");
  // uname=web is in the source's master.passwd only: the spec must see it, and the modes it
  // gives and the id map must reach the databases rebuilt from that master.passwd.
  write_file(dir / "spec",
             "/set type=file\n./index.html uname=web\n./etc/pwd.db mode=0640\n"
             "./etc/passwd uid=7\n");
  std::string command = std::string(MKIMAGE_PATH) + " --stub-etc -l 3 --uid-map 0:1000 " +
                        (dir / "src") + " --spec " + (dir / "spec") + " -o " + (dir / "img") +
                        " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(attr_of(m.fs, "index.html").uid, 80u);
  EXPECT_EQ(attr_of(m.fs, "etc/pwd.db").mode, 0100640u);
  EXPECT_EQ(attr_of(m.fs, "etc/passwd").uid, 7u);
  for (const char* name : {"etc/pwd.db", "etc/spwd.db", "etc/group", "etc/hosts"}) {
    EXPECT_EQ(attr_of(m.fs, name).uid, 1000u) << name << ": root's files are mapped";
  }
  EXPECT_EQ(content_of(m.fs, "etc/passwd"),
            "root:*:0:0::/:/bin/sh\nweb:*:80:80::/var/www:/sbin/nologin\n");
}

TEST(StubEtc, AMasterPasswdFromASpecRebuildsTheDatabases) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "users", "root:*:0:0::0:0::/:/bin/sh\nops:*:5:5::0:0::/:/bin/sh\n");
  write_file(dir / "spec", "./etc/master.passwd type=file contents=users mode=0600\n");
  std::string command = std::string(MKIMAGE_PATH) + " --stub-etc -l 3 " + (dir / "src") +
                        " --spec " + (dir / "spec") + " -o " + (dir / "img") + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(m.fs, "etc/passwd"), "root:*:0:0::/:/bin/sh\nops:*:5:5::/:/bin/sh\n");
  EXPECT_EQ(attr_of(m.fs, "etc/spwd.db").mode, 0100600u);
}

TEST(StubEtc, SameImageTwiceFromTheCommandLine) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/a", "a");
  set_mtime(dir / "src/a", 1700000000, 0);
  std::vector<uint8_t> first;
  for (int i = 0; i < 2; ++i) {
    std::string command = std::string(MKIMAGE_PATH) + " --stub-etc -l 3 " + (dir / "src") + " -o " +
                          (dir / "img") + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    if (i == 0) first = read_bytes(dir / "img");
  }
  EXPECT_TRUE(read_bytes(dir / "img") == first);
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(attr_of(m.fs, "etc/spwd.db").mode, 0100600u);
}

// --- --base-etc: a platform's /etc merged beneath the image's ---

// A base /etc shaped like rumprun's rumprunfs_base: users and their databases, groups, hosts,
// and a nested directory with a symlink; modes, times and owners as a careless install leaves
// them (0664, the install's time), which must not reach the image.
const std::string kBaseMaster =
    "root:*:0:0::0:0:Base root:/:/sbin/nologin\ndaemon:*:1:1::0:0:Base daemon:/:/sbin/nologin\n";
void make_base_etc(const std::string& base, int64_t mtime, unsigned file_mode = 0664) {
  make_dir(base, 0775);
  write_file(base + "/master.passwd", kBaseMaster, file_mode);
  auto files = build::make_password_files(build::parse_master_passwd(kBaseMaster, "base"),
                                          build::ByteOrder::little);
  write_file(base + "/pwd.db", files.pwd_db, file_mode);
  write_file(base + "/spwd.db", files.spwd_db, file_mode);
  write_file(base + "/group", "wheel:*:0:root\n", file_mode);
  write_file(base + "/hosts", "127.0.0.1 localhost base\n", file_mode);
  make_dir(base + "/ssl", 0700);
  write_file(base + "/ssl/openssl.cnf", "# base\n", file_mode);
  ASSERT_EQ(symlink("openssl.cnf", (base + "/ssl/cert.cnf").c_str()), 0);
  for (const char* name :
       {"master.passwd", "pwd.db", "spwd.db", "group", "hosts", "ssl/openssl.cnf", "ssl", ""}) {
    set_mtime(base + (*name ? "/" : "") + name, mtime, 123);
  }
}

CommandResult mkimage(const std::string& args) {
  return run_command(std::string(MKIMAGE_PATH) + " -l 3 --no-progress " + args + " 2>&1");
}

TEST(BaseEtc, MergedBeneathTheImagesOwnFilesNormalised) {
  TempDir dir;
  make_base_etc(dir / "base", 1800000000);
  make_dir(dir / "src");
  make_dir(dir / "src/etc", 0750);
  write_file(dir / "src/etc/hosts", "10.0.0.1 db\n", 0640);
  make_dir(dir / "src/etc/ssl");
  write_file(dir / "src/etc/ssl/openssl.cnf", "# mine\n");
  write_file(dir / "src/app", "x");
  set_mtime(dir / "src/app", 1700000000, 0);
  set_mtime(dir / "src/etc/ssl/openssl.cnf", 1600000000, 0);
  for (const char* d : {"src/etc/hosts", "src/etc/ssl", "src/etc"})
    set_mtime(dir / d, 1600000000, 0);
  set_mtime(dir / "src", 1600000000, 0);
  auto r = mkimage((dir / "src") + " --base-etc " + (dir / "base") + " -o " + (dir / "img"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  // The image's own files and directories win, with their attributes.
  EXPECT_EQ(content_of(m.fs, "etc/hosts"), "10.0.0.1 db\n");
  EXPECT_EQ(attr_of(m.fs, "etc/hosts").mode, 0100640u);
  EXPECT_EQ(attr_of(m.fs, "etc").mode, 040750u);
  EXPECT_EQ(content_of(m.fs, "etc/ssl/openssl.cnf"), "# mine\n");
  // The base's others are added at every depth: root's, NetBSD's modes, dated like the
  // newest source file (not like the base's install), so the image's time does not move.
  EXPECT_EQ(content_of(m.fs, "etc/group"), "wheel:*:0:root\n");
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), kBaseMaster);
  for (auto [name, mode] : {std::pair<const char*, unsigned>{"etc/group", 0100644},
                            {"etc/pwd.db", 0100644},
                            {"etc/master.passwd", 0100600},
                            {"etc/spwd.db", 0100600},
                            {"etc/ssl/cert.cnf", 0120777}}) {
    bakefs_attr a = attr_of(m.fs, name);
    EXPECT_EQ(a.mode, mode) << name;
    EXPECT_EQ(a.uid, 0u) << name;
    EXPECT_EQ(a.gid, 0u) << name;
    EXPECT_EQ(a.mtime_sec, 1700000000) << name;
    EXPECT_EQ(a.mtime_nsec, 0u) << name;
  }
  EXPECT_EQ(attr_of(m.fs, "etc/ssl").mode, 040755u);
  bakefs_fsstat st;
  ASSERT_EQ(bakefs_statfs(m.fs.get(), &st), BAKEFS_OK);
  EXPECT_EQ(st.build_time_sec, 1700000000);
}

TEST(BaseEtc, AnImageWithoutEtcGetsAllOfItAndTheSameBytesTwice) {
  TempDir dir;
  make_dir(dir / "src");
  write_file(dir / "src/a", "a");
  set_mtime(dir / "src/a", 1700000000, 0);
  set_mtime(dir / "src", 1700000000, 0);
  // Two installs of the same files, with other modes and times: one image.
  make_base_etc(dir / "base1", 1800000000, 0664);
  make_base_etc(dir / "base2", 1900000000, 0600);
  ASSERT_EQ(chmod((dir / "base2").c_str(), 0700), 0);
  for (const char* n : {"1", "2"}) {
    auto r =
        mkimage((dir / "src") + " --base-etc " + (dir / "base") + n + " -o " + (dir / "img") + n);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  EXPECT_TRUE(read_bytes(dir / "img1") == read_bytes(dir / "img2"));
  auto m = posix::MountedImage::open(dir / "img1");
  EXPECT_EQ(attr_of(m.fs, "etc").mode, 040755u);
  EXPECT_EQ(content_of(m.fs, "etc/hosts"), "127.0.0.1 localhost base\n");
  EXPECT_EQ(content_of(m.fs, "etc/ssl/openssl.cnf"), "# base\n");
  EXPECT_EQ(content_of(m.fs, "a"), "a");
}

TEST(BaseEtc, DatabasesFollowTheImagesMasterPasswd) {
  TempDir dir;
  make_base_etc(dir / "base", 1800000000);
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  const std::string master =
      "root:*:0:0::0:0:Charlie &:/:/sbin/nologin\n"
      "www:$6$s$h:80:80::0:0:Web server:/var/www:/sbin/nologin\n";
  write_file(dir / "src/etc/master.passwd", master, 0600);
  auto r = mkimage((dir / "src") + " --base-etc " + (dir / "base") + " -o " + (dir / "img"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  auto expected = build::make_password_files(build::parse_master_passwd(master, "src"),
                                             build::ByteOrder::little);
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), master);
  EXPECT_TRUE(content_of(m.fs, "etc/pwd.db") == expected.pwd_db)
      << "pwd.db is rebuilt from the image's master.passwd, not rumprun's";
  EXPECT_TRUE(content_of(m.fs, "etc/spwd.db") == expected.spwd_db);
  EXPECT_EQ(attr_of(m.fs, "etc/spwd.db").mode, 0100600u);
  EXPECT_FALSE(exists_in(m.fs, "etc/passwd")) << "the base has none to rebuild";
}

TEST(BaseEtc, TheImagesOwnDatabasesKeepTheBasesUsersOut) {
  TempDir dir;
  make_base_etc(dir / "base", 1800000000);
  make_dir(dir / "src");
  make_dir(dir / "src/etc");
  write_file(dir / "src/etc/pwd.db", "their own");
  auto r = mkimage((dir / "src") + " --base-etc " + (dir / "base") + " -o " + (dir / "img"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(m.fs, "etc/pwd.db"), "their own");
  EXPECT_FALSE(exists_in(m.fs, "etc/spwd.db")) << "libc as root would read the base's users";
  EXPECT_FALSE(exists_in(m.fs, "etc/master.passwd"));
  EXPECT_EQ(content_of(m.fs, "etc/group"), "wheel:*:0:root\n");
}

TEST(BaseEtc, StubEtcComesFirst) {
  TempDir dir;
  make_base_etc(dir / "base", 1800000000);
  write_file(dir / "base/motd", "base motd\n");
  make_dir(dir / "src");
  auto r = mkimage("--stub-etc " + (dir / "src") + " --base-etc " + (dir / "base") + " -o " +
                   (dir / "img"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  EXPECT_EQ(content_of(m.fs, "etc/master.passwd"), build::stub_etc_files::kMasterPasswd);
  EXPECT_EQ(content_of(m.fs, "etc/hosts"), build::stub_etc_files::kHosts);
  EXPECT_EQ(content_of(m.fs, "etc/motd"), "base motd\n")
      << "what the stub lacks comes from the base";
}

TEST(BaseEtc, ErrorsNameThePath) {
  TempDir dir;
  make_dir(dir / "src");
  auto r = mkimage((dir / "src") + " --base-etc " + (dir / "nothere") + " -o " + (dir / "img"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--base-etc " + (dir / "nothere")), std::string::npos) << r.output;
  write_file(dir / "file", "");
  r = mkimage((dir / "src") + " --base-etc " + (dir / "file") + " -o " + (dir / "img"));
  EXPECT_NE(r.output.find("not a directory"), std::string::npos) << r.output;
  make_dir(dir / "base");
  ASSERT_EQ(mkfifo((dir / "base/fifo").c_str(), 0644), 0);
  r = mkimage((dir / "src") + " --base-etc " + (dir / "base") + " -o " + (dir / "img"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--base-etc " + (dir / "base/fifo") + ": not a regular file"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::ifstream(dir / "img").good()) << "no image is left behind";
  ASSERT_EQ(unlink((dir / "base/fifo").c_str()), 0);
  write_file(dir / "src/etc", "not a directory");
  r = mkimage((dir / "src") + " --base-etc " + (dir / "base") + " -o " + (dir / "img"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/etc in the image is not a directory"), std::string::npos) << r.output;
}

TEST(BaseEtc, RumprunsOwn) {
  const char* rumprun = std::getenv("RUMPRUN_SRC");
  if (rumprun == nullptr) GTEST_SKIP() << "set RUMPRUN_SRC to a rumprun checkout";
  const std::string base = std::string(rumprun) + "/lib/librumprunfs_base/rootfs/etc";
  TempDir dir;
  make_dir(dir / "src");
  auto r = mkimage((dir / "src") + " --base-etc " + base + " -o " + (dir / "img"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto m = posix::MountedImage::open(dir / "img");
  for (const char* name : {"group", "hosts", "master.passwd", "nsswitch.conf", "protocols",
                           "pwd.db", "resolv.conf", "services", "spwd.db"}) {
    std::ifstream in(base + "/" + name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(content_of(m.fs, std::string("etc/") + name) == bytes) << name;
  }
}

}  // namespace
}  // namespace bakefs::test
