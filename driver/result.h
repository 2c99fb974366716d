// Result<T>: a value or an error code, with no heap and no exceptions.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_DRIVER_RESULT_H
#define BAKEFS_DRIVER_RESULT_H

#include <bakefs/bakefs.h>

#include <type_traits>

namespace bakefs {

enum class Error : int {
  kNotFound = BAKEFS_ENOENT,
  kNotDirectory = BAKEFS_ENOTDIR,
  kIsDirectory = BAKEFS_EISDIR,
  kInvalid = BAKEFS_EINVAL,
  kNoMemory = BAKEFS_ENOMEM,
  kRange = BAKEFS_ERANGE,
  kNoData = BAKEFS_ENODATA,
  kNotSupported = BAKEFS_ENOTSUP,
  kCorrupt = BAKEFS_ECORRUPT,
  kChecksum = BAKEFS_ECHECKSUM,
  kNotSymlink = BAKEFS_ENOTLNK,
  kIo = BAKEFS_EIO,
};

template <typename T>
class [[nodiscard]] Result {
  static_assert(std::is_trivially_copyable_v<T>, "Result holds plain values only");

 public:
  Result(T value) : value_(value), error_(0) {}                       // NOLINT: implicit by design
  Result(Error error) : value_(), error_(static_cast<int>(error)) {}  // NOLINT

  explicit operator bool() const { return error_ == 0; }
  bool ok() const { return error_ == 0; }
  Error error() const { return static_cast<Error>(error_); }
  const T& value() const { return value_; }
  T& value() { return value_; }

 private:
  T value_;
  int error_;
};

// Success or an error code.
class [[nodiscard]] Status {
 public:
  Status() : error_(0) {}
  Status(Error error) : error_(static_cast<int>(error)) {}  // NOLINT: implicit by design

  explicit operator bool() const { return error_ == 0; }
  bool ok() const { return error_ == 0; }
  Error error() const { return static_cast<Error>(error_); }
  int code() const { return error_; }

 private:
  int error_;
};

inline int to_status(Status s) {
  return s.code();
}

}  // namespace bakefs

// Evaluate a Result or Status; return its error from the enclosing function, else yield the
// value (a GNU statement expression, as GCC and Clang support).
#define BAKEFS_TRY(expr)                                             \
  __extension__({                                                    \
    auto bakefs_try_result_ = (expr);                                \
    if (!bakefs_try_result_.ok()) return bakefs_try_result_.error(); \
    bakefs_try_result_.value();                                      \
  })

#define BAKEFS_CHECK(expr)                                               \
  do {                                                                   \
    ::bakefs::Status bakefs_check_status_ = (expr);                      \
    if (!bakefs_check_status_.ok()) return bakefs_check_status_.error(); \
  } while (0)

#endif  // BAKEFS_DRIVER_RESULT_H
