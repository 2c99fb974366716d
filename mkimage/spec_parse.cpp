// Reading mtree(5) text into spec entries: logical lines, vis(3) decoding, /set and /unset,
// relative and full paths, and every keyword's value.
// SPDX-License-Identifier: BSD-2-Clause
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "spec.h"

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

// Decodes vis(3) escapes: \\ \ooo \M-x \M^x \^x \n \t \s ... and "\c" for any other graphic
// character c (mtree writes "\#" for '#'). Returns nothing for a malformed escape.
std::optional<std::string> unvis(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) return std::nullopt;
    char c = in[i];
    if (is_octal(c)) {
      unsigned value = 0;
      for (int n = 0; n < 3 && i < in.size() && is_octal(in[i]); ++n, ++i) {
        value = value * 8 + static_cast<unsigned>(in[i] - '0');
      }
      --i;
      if (value > 0377) return std::nullopt;
      out += static_cast<char>(value);
      continue;
    }
    unsigned meta = 0;
    if (c == 'M') {
      if (i + 2 >= in.size()) return std::nullopt;
      meta = 0200;
      c = in[++i];
      if (c == '-') {
        out += static_cast<char>(meta | static_cast<unsigned char>(in[++i]));
        continue;
      }
      if (c != '^') return std::nullopt;
    }
    if (c == '^') {
      if (i + 1 >= in.size()) return std::nullopt;
      char x = in[++i];
      unsigned value = x == '?' ? 0177 : static_cast<unsigned>(x) & 037;
      out += static_cast<char>(meta | value);
      continue;
    }
    static constexpr std::pair<char, char> kCStyle[] = {
        {'n', '\n'}, {'r', '\r'}, {'b', '\b'}, {'a', '\a'},   {'v', '\v'},
        {'t', '\t'}, {'f', '\f'}, {'s', ' '},  {'E', '\033'}, {'\\', '\\'}};
    auto it = std::find_if(std::begin(kCStyle), std::end(kCStyle),
                           [c](const auto& p) { return p.first == c; });
    if (it != std::end(kCStyle)) {
      out += it->second;
    } else if (c > ' ' && c < 0177) {
      out += c;
    } else {
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

// The bits one letter of a symbolic mode stands for, for every class; u, g and o copy that
// class's current bits.
std::optional<unsigned> permission_bits(char c, unsigned mode) {
  constexpr std::string_view kLetters = "rwxst";
  constexpr unsigned kBits[] = {0444, 0222, 0111, 06000, 01000};
  if (size_t at = kLetters.find(c); at != std::string_view::npos) return kBits[at];
  if (c == 'X') return (mode & 0111) != 0 ? 0111 : 0;
  if (c == 'u') return ((mode >> 6) & 7) * 0111;
  if (c == 'g') return ((mode >> 3) & 7) * 0111;
  if (c == 'o') return (mode & 7) * 0111;
  return std::nullopt;
}

// chmod(1)-style symbolic modes ("u=rwx,go=rx", "a+r,u+s") applied to 0, as mtree's
// setmode/getmode do. A clause without u/g/o/a means "a" (no umask: builds are reproducible).
std::optional<unsigned> parse_symbolic_mode(std::string_view s) {
  unsigned mode = 0;
  size_t i = 0;
  while (i <= s.size()) {
    unsigned who = 0;
    for (; i < s.size() && std::string_view("ugoa").find(s[i]) != std::string_view::npos; ++i) {
      who |= s[i] == 'u' ? 04700u : s[i] == 'g' ? 02070u : s[i] == 'o' ? 01007u : 07777u;
    }
    if (who == 0) who = 07777;
    if (i == s.size() || std::string_view("+-=").find(s[i]) == std::string_view::npos) {
      return std::nullopt;
    }
    while (i < s.size() && std::string_view("+-=").find(s[i]) != std::string_view::npos) {
      char op = s[i++];
      unsigned perm = 0;
      for (; i < s.size() && s[i] != ',' &&
             std::string_view("+-=").find(s[i]) == std::string_view::npos;
           ++i) {
        std::optional<unsigned> bits = permission_bits(s[i], mode);
        if (!bits) return std::nullopt;
        perm |= *bits;
      }
      perm &= who;
      if (op == '=') mode &= ~who;
      if (op == '-') {
        mode &= ~perm;
      } else {
        mode |= perm;
      }
    }
    if (i == s.size()) break;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
  return mode;
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
      for (std::string_view part : split(*name, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") fail("'..' in the path '" + *name + "'");
        parts.emplace_back(part);
      }
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
