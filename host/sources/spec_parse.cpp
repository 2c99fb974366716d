// Reading mtree(5) text into spec entries: logical lines, vis(3) decoding, /set and /unset,
// relative and full paths, and every keyword's value.
// SPDX-License-Identifier: BSD-2-Clause
#include <bsd/unistd.h>
#define LIBBSD_NETBSD_VIS 1  // the NetBSD vis(3) interface (mtree is NetBSD's)
#include <bsd/vis.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "sources/spec.h"
#include "writer/tree_path.h"

namespace bakefs::build {
namespace {

struct Line {
  int number;
  std::string text;
};

// Joins lines that end in an unescaped backslash with the next one and cuts comments: an
// unescaped '#' starts one, anywhere on the line (mtree writes '#' in names as "\#").
std::vector<Line> logical_lines(std::string_view text) {
  std::vector<Line> lines;
  std::string current;
  int number = 0, first = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (current.empty()) first = number;
    bool continued = false;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '#') break;
      if (raw[i] == '\\') {
        if (i + 1 == raw.size()) {
          continued = true;
          break;
        }
        current += raw[i++];
      }
      current += raw[i];
    }
    if (continued) {
      current += ' ';
      continue;
    }
    lines.push_back({first, std::move(current)});
    current.clear();
  }
  if (!current.empty()) lines.push_back({first, std::move(current)});
  return lines;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

// Decodes vis(3) escapes (\\ \ooo \M-x \M^x \^x \n \t \s ..., and "\c" for any other graphic
// character c: mtree writes "\#" for '#') with libbsd's unvis(3) state machine, as NetBSD's
// mtree does. Returns nothing for a malformed escape, a dangling '\' at the end too (which
// strunvis would drop without a word).
std::optional<std::string> unvis(std::string_view in) {
  std::string out;
  int state = 0;
  char c = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    const bool end = i == in.size();
    switch (::unvis(&c, end ? '\0' : in[i], &state, end ? UNVIS_END : 0)) {
      case UNVIS_VALID:
        out += c;
        break;
      case UNVIS_VALIDPUSH:  // c ended an escape without being part of it: read it again
        out += c;
        --i;
        break;
      case UNVIS_NOCHAR:
      case 0:
        break;
      default:  // UNVIS_SYNBAD, or an escape cut short by the end
        return std::nullopt;
    }
  }
  return out;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
  T value{};
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// A number as C writes it: 0x... hex, 0... octal, else decimal.
std::optional<uint64_t> parse_c_number(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return parse_number<uint64_t>(s.substr(2), 16);
  }
  if (s.size() > 1 && s[0] == '0') return parse_number<uint64_t>(s.substr(1), 8);
  return parse_number<uint64_t>(s);
}

// chmod(1)-style symbolic modes ("u=rwx,go=rx", "a+r,u+s") applied to 0 with libbsd's
// setmode/getmode, as NetBSD's mtree does, but for one thing: a clause without u/g/o/a means
// "a" here, where setmode would take the builder's umask away (builds are reproducible).
std::optional<unsigned> parse_symbolic_mode(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string explicit_who;
  for (size_t start = 0; start <= s.size();) {
    size_t comma = std::min(s.find(',', start), s.size());
    std::string_view clause = s.substr(start, comma - start);
    if (clause.empty()) return std::nullopt;
    if (clause.find_first_of("+-=") == 0) explicit_who += 'a';
    explicit_who += clause;
    if (comma < s.size()) explicit_who += ',';
    start = comma + 1;
  }
  // setmode also takes octal numbers; those are parsed elsewhere and not meant here.
  if (explicit_who.find_first_of("01234567") == 0) return std::nullopt;
  void* set = setmode(explicit_who.c_str());
  if (set == nullptr) return std::nullopt;
  mode_t mode = getmode(set, 0);
  std::free(set);
  return static_cast<unsigned>(mode) & 07777;
}

std::optional<uint16_t> parse_type(std::string_view s) {
  static constexpr std::pair<std::string_view, uint16_t> kTypes[] = {
      {"file", 0100000},  {"dir", 0040000},  {"link", 0120000},  {"char", 0020000},
      {"block", 0060000}, {"fifo", 0010000}, {"socket", 0140000}};
  for (const auto& [name, bits] : kTypes) {
    if (s == name) return bits;
  }
  return std::nullopt;
}

// The device number formats mtree and mknod(8) know; every one gives major and minor as they
// are, so the name is only checked.
bool known_device_format(std::string_view s) {
  static constexpr std::string_view kFormats[] = {
      "native", "386bsd", "4bsd", "bsdos",   "freebsd", "hpux", "isc",  "linux",
      "netbsd", "osf1",   "sco",  "solaris", "sunos",   "svr3", "svr4", "ultrix"};
  return std::find(std::begin(kFormats), std::end(kFormats), s) != std::end(kFormats);
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find(separator);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

class Parser {
 public:
  Parser(std::string name, std::string base_dir)
      : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  Spec parse(std::string_view text) {
    Spec spec{name_, {}};
    for (Line& line : logical_lines(text)) {
      line_ = line.number;
      std::vector<std::string> words = split_words(line.text);
      if (words.empty()) continue;
      if (words[0][0] == '/') {
        special(words);
      } else {
        entry(words, spec);
      }
    }
    return spec;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name_ + ":" + std::to_string(line_) + ": " + what);
  }

  void special(const std::vector<std::string>& words) {
    if (words[0] == "/set") {
      for (size_t i = 1; i < words.size(); ++i) {
        auto [key, value] = key_value(words[i]);
        if (key == "remove") fail("'remove' cannot be a /set default");
        SpecEntry scratch;
        set_keyword(scratch, key, value);  // checked now, so that errors name this line
        defaults_[key] = value;
      }
    } else if (words[0] == "/unset") {
      for (size_t i = 1; i < words.size(); ++i) {
        if (words[i] == "all") {
          defaults_.clear();
        } else if (!is_keyword(words[i])) {
          fail("unknown keyword '" + words[i] + "'");
        } else {
          defaults_.erase(words[i]);
        }
      }
    } else {
      fail("unknown special command '" + words[0] + "' (only /set and /unset are)");
    }
  }

  void entry(const std::vector<std::string>& words, Spec& spec) {
    std::optional<std::string> name = unvis(words[0]);
    if (!name || name->empty()) fail("malformed name '" + words[0] + "'");
    if (*name == "..") {
      if (words.size() > 1) fail("'..' takes no keywords");
      if (cwd_.empty()) fail("'..' above the root");
      cwd_.pop_back();
      return;
    }
    SpecEntry e;
    e.line = line_;
    for (const auto& [key, value] : defaults_) set_keyword(e, key, value);
    e.type_from_set = e.type.has_value();
    bool remove_only = true;
    for (size_t i = 1; i < words.size(); ++i) {
      auto [key, value] = key_value(words[i]);
      set_keyword(e, key, value);
      if (key == "type") e.type_from_set = false;
      if (key != "remove" && key != "optional") remove_only = false;
    }
    if (e.remove && !remove_only) fail("'remove' takes no other keyword but 'optional'");
    std::vector<std::string> parts;
    bool full = name->find('/') != std::string::npos;
    if (full) {
      TreePath path = split_tree_path(*name);
      if (path.problem == TreePath::Problem::dot_dot) fail("'..' in the path '" + *name + "'");
      if (!path.ok()) fail("nested more than " + std::to_string(kMaxTreeDepth) + " directories deep");
      parts = std::move(path.names);
    } else if (*name != ".") {
      parts = cwd_;
      parts.push_back(*name);
    }
    if (parts.size() > kMaxTreeDepth) {
      fail("nested more than " + std::to_string(kMaxTreeDepth) + " directories deep");
    }
    for (const std::string& part : parts) {
      if (part.find('\0') != std::string::npos) fail("a NUL byte in the name '" + words[0] + "'");
      e.path += (e.path.empty() ? "" : "/") + part;
    }
    // A directory becomes the current directory for the relative names after it, as does a
    // full path's parent.
    if (e.type == 0040000 && !e.remove) {
      cwd_ = parts;
    } else if (full && !parts.empty()) {
      cwd_.assign(parts.begin(), parts.end() - 1);
    }
    spec.entries.push_back(std::move(e));
  }

  std::pair<std::string, std::string> key_value(const std::string& word) const {
    size_t eq = word.find('=');
    if (eq == std::string::npos) return {word, {}};
    std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (value.empty()) fail("keyword '" + key + "' has no value");
    return {key, value};
  }

  static bool is_keyword(const std::string& key) {
    return !key.empty() && key.find(' ') == std::string::npos &&
           kKnown.find(" " + key + " ") != std::string_view::npos;
  }

  void set_keyword(SpecEntry& e, const std::string& key, const std::string& value) const {
    if (!is_keyword(key)) fail("unknown keyword '" + key + "'");
    bool flag = key == "optional" || key == "ignore" || key == "nochange" || key == "remove";
    if (flag != value.empty()) {
      fail(flag ? "keyword '" + key + "' takes no value" : "keyword '" + key + "' needs a value");
    }
    auto bad = [&](const std::string& why) -> void {
      fail("invalid " + key + " '" + value + "'" + (why.empty() ? "" : " (" + why + ")"));
    };
    if (key == "type") {
      e.type = parse_type(value);
      if (!e.type) bad("file, dir, link, char, block, fifo or socket");
    } else if (key == "mode") {
      bool octal = std::all_of(value.begin(), value.end(), is_octal);
      std::optional<unsigned> m =
          octal ? parse_number<unsigned>(value, 8) : parse_symbolic_mode(value);
      if (!m || *m > 07777) bad("octal up to 07777, or symbolic like u=rwx,go=rx");
      e.mode = static_cast<uint16_t>(*m);
    } else if (key == "uid" || key == "gid") {
      auto id = parse_number<uint32_t>(value);
      if (!id) bad("a number");
      (key == "uid" ? e.uid : e.gid) = id;
    } else if (key == "uname" || key == "gname") {
      (key == "uname" ? e.uname : e.gname) = value;
    } else if (key == "time") {
      set_time(e, value);
    } else if (key == "link") {
      e.link = unvis(value);
      if (!e.link) bad("malformed escape");
      if (e.link->find('\0') != std::string::npos) bad("a NUL byte");
    } else if (key == "device") {
      set_device(e, value);
    } else if (key == "contents") {
      std::optional<std::string> path = unvis(value);
      if (!path) bad("malformed escape");
      // The host path would end at the NUL: another file than the one named.
      if (path->find('\0') != std::string::npos) bad("a NUL byte");
      if ((*path)[0] == '/' || base_dir_.empty()) {
        e.contents = *path;
      } else {
        e.contents = base_dir_ + (base_dir_.back() == '/' ? "" : "/") + *path;
      }
    } else if (key == "size") {
      e.size = parse_number<uint64_t>(value);
      if (!e.size) bad("a number");
    } else if (key == "sha256" || key == "sha256digest") {
      std::string hex = value;
      std::transform(hex.begin(), hex.end(), hex.begin(),
                     [](char c) { return c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c; });
      if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        bad("64 hex digits");
      }
      e.sha256 = hex;
    } else if (key == "optional") {
      e.optional = true;
    } else if (key == "remove") {
      e.remove = true;
    }
    // The rest (nlink, flags, tags, ignore, nochange, cksum and the other digests) describe
    // what mtree checks or what a BSD file system stores, and do not apply here.
  }

  void set_time(SpecEntry& e, const std::string& value) const {
    // mtree writes seconds, a dot and the nanoseconds as an integer without zero padding:
    // "1700000000.5" is 5 ns past the second.
    size_t dot = value.find('.');
    auto sec = parse_number<int64_t>(std::string_view(value).substr(0, dot));
    std::optional<uint32_t> nsec = 0u;
    if (dot != std::string::npos) nsec = parse_number<uint32_t>(value.substr(dot + 1));
    if (!sec || !nsec || *nsec > 999999999) {
      fail("invalid time '" + value + "' (seconds[.nanoseconds])");
    }
    e.time_sec = *sec;
    e.time_nsec = *nsec;
  }

  void set_device(SpecEntry& e, const std::string& value) const {
    std::vector<std::string_view> parts = split(value, ',');
    auto number = [&](std::string_view s) -> uint32_t {
      std::optional<uint64_t> n = parse_c_number(s);
      if (!n || *n > UINT32_MAX) fail("invalid device '" + value + "'");
      return static_cast<uint32_t>(*n);
    };
    if (parts.size() == 1) {
      // An opaque dev_t, as mtree writes it on Linux (device=0x103): glibc's encoding.
      std::optional<uint64_t> dev = parse_c_number(parts[0]);
      if (!dev) fail("invalid device '" + value + "'");
      uint64_t d = *dev;
      e.device = {static_cast<uint32_t>(((d >> 8) & 0xfff) | ((d >> 32) & 0xfffff000)),
                  static_cast<uint32_t>((d & 0xff) | ((d >> 12) & 0xffffff00))};
      return;
    }
    if (parts.size() == 3 && !known_device_format(parts[0])) {
      fail("unknown device format '" + std::string(parts[0]) + "'");
    }
    if (parts.size() != 2 && parts.size() != 3) {
      fail("invalid device '" + value + "' (format,major,minor or major,minor or a number)");
    }
    e.device = {number(parts[parts.size() - 2]), number(parts.back())};
  }

  static constexpr std::string_view kKnown =
      " type mode uid gid uname gname time link device contents size sha256 sha256digest "
      "optional remove ignore nochange nlink flags tags cksum md5 md5digest rmd160 "
      "rmd160digest sha1 sha1digest sha384 sha384digest sha512 sha512digest ";

  std::string name_, base_dir_;
  int line_ = 0;
  std::map<std::string, std::string> defaults_;
  std::vector<std::string> cwd_;
};

}  // namespace

Spec parse_spec(std::string_view text, const std::string& name, const std::string& base_dir) {
  return Parser(name, base_dir).parse(text);
}

Spec read_spec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_errno(path, "cannot open spec file", errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw_errno(path, "cannot read spec file", errno);
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return parse_spec(text.str(), path, base);
}

}  // namespace bakefs::build
