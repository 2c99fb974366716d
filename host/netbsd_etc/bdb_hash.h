// Writing Berkeley DB 1.85 hash databases, the format dbopen(3) reads with DB_HASH: NetBSD's
// libc looks users up in such files (/etc/pwd.db, /etc/spwd.db).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_NETBSD_ETC_BDB_HASH_H
#define BAKEFS_HOST_NETBSD_ETC_BDB_HASH_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bakefs::build {

// Byte order of the machine that will read a file.
enum class ByteOrder { little, big };

struct HashDbOptions {
  ByteOrder byte_order = ByteOrder::little;  // of the page tables and the header's lorder
  uint32_t page_size = 4096;                 // bsize: a power of two, 512..32768
  uint32_t fill_factor = 32;                 // ffactor: the keys per bucket aimed at
  uint32_t expected_keys = 256;              // nelem: the table has at least this much room
};

struct HashDbPair {
  std::string key, data;
};

// The hash function dbopen uses when none is given (1.85's "hash4": h = h * 33 + byte).
uint32_t bdb_default_hash(std::string_view bytes);

// The bytes of a database holding `pairs`, as dbopen would leave it had they been put into a
// table created with `options` and sized for them. The same pairs in the same order give the
// same bytes. Keys must be distinct and each pair must fit on a page (no "big" pairs); throws
// Error otherwise.
std::string write_hash_db(const std::vector<HashDbPair>& pairs, const HashDbOptions& options);

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_NETBSD_ETC_BDB_HASH_H
