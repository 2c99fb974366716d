// master.passwd to pwd.db, spwd.db and passwd. The record layout is the one NetBSD's
// getpwent.c decodes (version 1): name\0 password\0 uid gid change class\0 gecos\0 home\0
// shell\0 expire flags, integers in the target's byte order, uid/gid/flags 32-bit, times
// 64-bit.
// SPDX-License-Identifier: BSD-2-Clause
#include "netbsd_etc/pwd_db.h"

#include <cerrno>
#include <cstdlib>
#include <set>

#include "writer/tree.h"

namespace bakefs::build {
namespace {

constexpr size_t kMaxLine = 2046;               // pwd_mkdb reads lines into LINE_MAX (2048) bytes
constexpr size_t kMaxName = 16;                 // LOGIN_NAME_MAX - 1
constexpr unsigned long kMaxId = 2147483647UL;  // UID_MAX and GID_MAX
constexpr uint32_t kDbVersion = 1;              // 64-bit times
constexpr char kKeyByName = '1', kKeyByNumber = '2', kKeyByUid = '3';
constexpr std::string_view kVersionKey{"VERSION", 8};  // with its NUL
constexpr std::string_view kYpToken = "__YP!";         // without one

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    size_t colon = line.find(':', start);
    fields.emplace_back(line.substr(start, colon - start));
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

// An id field as pw_scan reads it: empty sets `flag` and gives 0.
bool parse_id(const std::string& field, uint32_t flag, PasswdEntry& e, uint32_t& id) {
  if (field.empty()) {
    e.flags |= flag;
    id = 0;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(field.c_str(), &end, 0);
  if (end == field.c_str() || *end != '\0' || errno == ERANGE || v > kMaxId) return false;
  id = static_cast<uint32_t>(v);
  return true;
}

bool parse_time(const std::string& field, uint32_t flag, PasswdEntry& e, int64_t& t) {
  if (field.empty()) {
    e.flags |= flag;
    t = 0;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(field.c_str(), &end, 0);
  if (end == field.c_str() || *end != '\0' || errno == ERANGE) return false;
  t = v;
  return true;
}

PasswdEntry parse_line(std::string_view line, const std::string& where) {
  if (line.size() > kMaxLine) throw Error(where + ": line too long");
  if (line.find('\0') != std::string_view::npos) throw Error(where + ": NUL byte");
  if (line == "+") line = "+:::::::::";  // "include every NIS user"
  auto f = split_fields(line);
  if (f.size() != 10) {
    throw Error(where + ": " + std::to_string(f.size()) +
                " fields, not the 10 of name:password:uid:gid:class:change:expire:gecos:"
                "home:shell (comments and blank lines are not allowed either)");
  }
  PasswdEntry e;
  e.name = f[0];
  if (e.name.size() > kMaxName) throw Error(where + ": user name longer than 16 bytes");
  e.password = f[1];
  if (!parse_id(f[2], kPasswordNoUid, e, e.uid))
    throw Error(where + ": invalid uid '" + f[2] + "'");
  if (e.name == "root" && e.uid != 0) throw Error(where + ": root's uid must be 0");
  if (!parse_id(f[3], kPasswordNoGid, e, e.gid))
    throw Error(where + ": invalid gid '" + f[3] + "'");
  e.login_class = f[4];
  if (!parse_time(f[5], kPasswordNoChange, e, e.change)) {
    throw Error(where + ": invalid change time '" + f[5] + "'");
  }
  if (!parse_time(f[6], kPasswordNoExpire, e, e.expire)) {
    throw Error(where + ": invalid expiry time '" + f[6] + "'");
  }
  e.gecos = f[7];
  e.home = f[8];
  e.shell = f[9];
  return e;
}

class Encoder {
 public:
  explicit Encoder(ByteOrder order) : order_(order) {}
  std::string u32(uint32_t v) const { return bytes(v, 4); }
  std::string i64(int64_t v) const { return bytes(static_cast<uint64_t>(v), 8); }

  // The record pwd_mkdb stores under each of the entry's keys.
  std::string record(const PasswdEntry& e, std::string_view password) const {
    std::string r;
    auto text = [&r](std::string_view s) {
      r += s;
      r += '\0';
    };
    text(e.name);
    text(password);
    r += u32(e.uid) + u32(e.gid) + i64(e.change);
    text(e.login_class);
    text(e.gecos);
    text(e.home);
    text(e.shell);
    r += i64(e.expire) + u32(e.flags);
    return r;
  }

 private:
  std::string bytes(uint64_t v, int n) const {
    std::string s(static_cast<size_t>(n), '\0');
    for (int i = 0; i < n; ++i) {
      int shift = order_ == ByteOrder::little ? 8 * i : 8 * (n - 1 - i);
      s[static_cast<size_t>(i)] = static_cast<char>(v >> shift);
    }
    return s;
  }
  ByteOrder order_;
};

std::string make_db(const std::vector<PasswdEntry>& entries, const Encoder& enc, bool secure,
                    ByteOrder order) {
  std::vector<HashDbPair> pairs;
  pairs.push_back({std::string(kVersionKey), enc.u32(kDbVersion)});
  std::set<std::string> names;
  std::set<uint32_t> uids;
  bool yp = false;
  uint32_t line = 0;
  for (const auto& e : entries) {
    ++line;
    std::string record = enc.record(e, secure ? std::string_view(e.password) : "*");
    if (names.insert(e.name).second) pairs.push_back({kKeyByName + e.name, record});
    pairs.push_back({kKeyByNumber + enc.u32(line), record});
    if (uids.insert(e.uid).second) pairs.push_back({kKeyByUid + enc.u32(e.uid), record});
    yp = yp || (!e.name.empty() && (e.name[0] == '+' || e.name[0] == '-'));
  }
  if (yp) pairs.push_back({std::string(kYpToken), ""});
  HashDbOptions options;  // pwd_mkdb's: 4 KiB pages, fill factor 32, room for 256 keys
  options.byte_order = order;
  return write_hash_db(pairs, options);
}

}  // namespace

std::vector<PasswdEntry> parse_master_passwd(std::string_view text, const std::string& shown) {
  std::vector<PasswdEntry> entries;
  size_t start = 0, number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++number;
    entries.push_back(
        parse_line(text.substr(start, end - start), shown + ": line " + std::to_string(number)));
    start = end + 1;
  }
  return entries;
}

PasswordFiles make_password_files(const std::vector<PasswdEntry>& entries, ByteOrder order) {
  Encoder enc(order);
  PasswordFiles files;
  files.pwd_db = make_db(entries, enc, false, order);
  files.spwd_db = make_db(entries, enc, true, order);
  for (const auto& e : entries) {
    files.passwd += e.name + ":*:" + std::to_string(e.uid) + ":" + std::to_string(e.gid) + ":" +
                    e.gecos + ":" + e.home + ":" + e.shell + "\n";
  }
  return files;
}

}  // namespace bakefs::build
