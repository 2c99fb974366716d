// The output image file: written under a temporary name next to the target, renamed into
// place only when complete, removed on failure.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef BAKEFS_HOST_WRITER_OUTPUT_H
#define BAKEFS_HOST_WRITER_OUTPUT_H

#include <cstdint>
#include <string>
#include <vector>

namespace bakefs::build {

// Throws Error when `path` cannot take an output file (checked before any work is done): it
// names an existing directory or anything else that is not a regular file (a device, a FIFO,
// a socket: replacing one would destroy it), or its directory is missing, not a directory or
// not writable. `what` names the option ("-o", "--emit-object").
void check_output_path(const std::string& path, const std::string& what);

// Makes SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE remove every OutputFile's temporary file
// before they end the process (signals that are ignored stay ignored). Call once, early.
void remove_temporaries_on_signals();

class OutputFile {
 public:
  explicit OutputFile(std::string path);  // creates the temporary file; throws Error
  ~OutputFile();                          // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends at the current end (buffered).
  void append(const void* data, size_t size);
  void append_zeros(size_t size);
  uint64_t size() const { return size_; }
  // Writes at an absolute offset inside what was already appended (after a flush).
  void write_at(uint64_t offset, const void* data, size_t size);
  // Flushes, syncs and renames over the target path.
  void commit();

 private:
  void flush();
  void name_temporary();
  [[noreturn]] void fail(const std::string& what, int error);

  std::string path_;
  std::string dir_, base_;  // path_ split: "dir/" (or "") and the file name
  std::string temp_path_;   // empty while the file is unnamed (O_TMPFILE)
  int fd_ = -1;
  uint64_t size_ = 0;
  std::vector<uint8_t> buffer_;
  bool committed_ = false;
  void* slot_ = nullptr;  // where the signal handler finds temp_path_
};

}  // namespace bakefs::build

#endif  // BAKEFS_HOST_WRITER_OUTPUT_H
