// NetBSD's password files from a master.passwd, as pwd_mkdb(8) makes them: the hashed
// databases pwd.db (passwords replaced by "*") and spwd.db (with them) that getpwnam(3) and
// friends read, and the V7-style /etc/passwd.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_NETBSD_ETC_PWD_DB_H
#define BAKEFS_HOST_NETBSD_ETC_PWD_DB_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "netbsd_etc/bdb_hash.h"

namespace bakefs::build {

// One line of master.passwd: name:password:uid:gid:class:change:expire:gecos:home:shell
struct PasswdEntry {
  std::string name, password;
  uint32_t uid = 0, gid = 0;
  std::string login_class;
  int64_t change = 0, expire = 0;  // seconds since the epoch; 0: never
  std::string gecos, home, shell;
  uint32_t flags = 0;  // kPasswordNo*: the fields left empty
};

// pwd.h's _PASSWORD_NO* flags, stored with each record.
inline constexpr uint32_t kPasswordNoUid = 0x01, kPasswordNoGid = 0x02, kPasswordNoChange = 0x04,
                          kPasswordNoExpire = 0x08;

// Parses master.passwd with the rules of NetBSD's pw_scan: ten fields, a name of at most 16
// bytes, ids up to 2^31-1 (decimal, 0x hex or 0 octal), root with uid 0, no comment or blank
// line (pwd_mkdb refuses them). Throws Error("shown: line N: cause").
std::vector<PasswdEntry> parse_master_passwd(std::string_view text, const std::string& shown);

struct PasswordFiles {
  std::string pwd_db;   // /etc/pwd.db, mode 0644
  std::string spwd_db;  // /etc/spwd.db, mode 0600
  std::string passwd;   // /etc/passwd, mode 0644
};

// The files pwd_mkdb -p would write for the target: version 1 records (64-bit times) in its
// byte order, keyed by name, by line number and by uid (the first entry wins a name or uid
// used twice), the "VERSION" record, and the YP marker when an entry starts with + or -.
PasswordFiles make_password_files(const std::vector<PasswdEntry>& entries, ByteOrder order);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_NETBSD_ETC_PWD_DB_H
