// Master file lexer and reader: one buffer per file, tokens are views into
// it (no per-token allocation), one logical line (parentheses joined) at a
// time, errors collected with FILE:LINE and the bad entry skipped.
#include "zone/master.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::zone {

std::string Diagnostic::to_string() const {
  if (file.empty() && line == 0) return message;
  std::string s = file;
  if (line) {
    s += ':';
    s += std::to_string(line);
  }
  s += ": ";
  s += message;
  return s;
}

Diagnostic ParseResult::at(size_t i, std::string message) const {
  Diagnostic d;
  if (i < where.size()) {
    const SourceLine& w = where[i];
    if (w.file < files.size()) d.file = files[w.file];
    d.line = w.line;
  } else if (!files.empty()) {
    d.file = files[0];
  }
  d.message = std::move(message);
  return d;
}

bool parse_ttl(std::string_view t, uint32_t& out) {
  if (t.empty()) return false;
  uint64_t total = 0, cur = 0;
  bool digits = false;
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + uint64_t(c - '0');
      if (cur > 0xFFFFFFFFull) return false;
      digits = true;
      continue;
    }
    if (!digits) return false;  // a unit needs a number before it
    uint64_t mul;
    switch (c | 0x20) {
      case 'w': mul = 604800; break;
      case 'd': mul = 86400; break;
      case 'h': mul = 3600; break;
      case 'm': mul = 60; break;
      case 's': mul = 1; break;
      default: return false;
    }
    total += cur * mul;
    if (total > 0xFFFFFFFFull) return false;
    cur = 0;
    digits = false;
  }
  total += cur;  // plain seconds, or a trailing unitless count (BIND accepts "1h30")
  if (total > 0xFFFFFFFFull) return false;
  out = uint32_t(total);
  return true;
}

namespace {

constexpr uint32_t kMaxTtl = 0x7FFFFFFF;  // RFC 2181 §8

// Characters that end an unquoted token.
constexpr std::array<bool, 256> make_delims() {
  std::array<bool, 256> d{};
  for (unsigned char c : std::string_view(" \t\r\n;()\"")) d[c] = true;
  return d;
}
constexpr std::array<bool, 256> kDelim = make_delims();

struct Tok {
  std::string_view text;
  bool quoted = false;
};

// One logical line: its tokens, the line it starts on, and whether it began
// with whitespace (RFC 1035 §5.1: blank owner = previous owner).
struct Entry {
  std::vector<Tok> toks;
  size_t line = 0;
  bool blank_owner = false;
  std::string error;
  size_t error_line = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view buf) : p_(buf.data()), end_(buf.data() + buf.size()) {}

  // Fills `e` with the next logical line. False at end of input with
  // nothing read. A lexical error sets e.error; the caller skips the entry.
  bool next(Entry& e) {
    e.toks.clear();
    e.error.clear();
    bool line_start = true;
    auto fail = [&](std::string msg) {
      if (e.error.empty()) {
        e.error = std::move(msg);
        e.error_line = line_;
      }
    };
    while (true) {
      if (p_ == end_) {
        if (paren_ > 0) {
          if (e.error.empty()) {
            e.error = "unbalanced parentheses: '(' not closed";
            e.error_line = paren_line_;
          }
          paren_ = 0;
        }
        return !e.toks.empty() || !e.error.empty();
      }
      const char c = *p_;
      if (line_start) {
        e.line = line_;
        e.blank_owner = (c == ' ' || c == '\t');
        line_start = false;
      }
      switch (c) {
        case ' ':
        case '\t':
        case '\r':
          ++p_;
          continue;
        case ';': {
          const void* nl = std::memchr(p_, '\n', size_t(end_ - p_));
          p_ = nl ? static_cast<const char*>(nl) : end_;
          continue;
        }
        case '\n':
          ++p_;
          ++line_;
          if (paren_ == 0) {
            if (!e.toks.empty() || !e.error.empty()) return true;
            line_start = true;
          }
          continue;
        case '(':
          if (paren_ == 0) paren_line_ = line_;
          ++paren_;
          ++p_;
          continue;
        case ')':
          if (paren_ == 0) fail("unbalanced parentheses: ')' without '('");
          else --paren_;
          ++p_;
          continue;
        case '"': {
          ++p_;
          const char* start = p_;
          while (p_ < end_ && *p_ != '"' && *p_ != '\n') {
            if (*p_ == '\\' && p_ + 1 < end_) {
              if (p_[1] == '\n') ++line_;
              ++p_;
            }
            ++p_;
          }
          if (p_ == end_ || *p_ == '\n') {
            fail("unterminated quoted string");
            continue;  // the newline ends the entry
          }
          e.toks.push_back(Tok{std::string_view(start, size_t(p_ - start)), true});
          ++p_;
          continue;
        }
        default: {
          const char* start = p_;
          while (p_ < end_) {
            const unsigned char ch = static_cast<unsigned char>(*p_);
            if (kDelim[ch]) break;
            if (ch == '\\' && p_ + 1 < end_) {
              if (p_[1] == '\n') ++line_;
              ++p_;
            }
            ++p_;
          }
          e.toks.push_back(Tok{std::string_view(start, size_t(p_ - start)), false});
          continue;
        }
      }
    }
  }

  // Bytes consumed so far, counted from `base` (the buffer's start).
  size_t offset(const char* base) const { return size_t(p_ - base); }

 private:
  const char* p_;
  const char* end_;
  size_t line_ = 1;
  int paren_ = 0;
  size_t paren_line_ = 0;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (wire::ascii_lower(uint8_t(a[i])) != wire::ascii_lower(uint8_t(b[i]))) return false;
  return true;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  out += '\'';
  return out;
}

// A zone file's bytes: mapped read-only when it is a regular file (no copy),
// read() into memory otherwise. Pages the lexer has passed are unmapped as
// it goes, so a large zone does not keep its whole text resident beside the
// records built from it.
class SourceFile {
 public:
  SourceFile() = default;
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;
  ~SourceFile() {
    if (map_) ::munmap(map_ + released_, map_size_ - released_);
  }

  bool open(const std::string& path, std::string& err) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = std::strerror(errno);
      return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      err = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      err = "is a directory";
      ::close(fd);
      return false;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      void* m = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (m != MAP_FAILED) {
        ::close(fd);
        map_ = static_cast<char*>(m);
        map_size_ = size_t(st.st_size);
        ::madvise(map_, map_size_, MADV_SEQUENTIAL);
        return true;
      }
    }
    bool ok = read_all(fd, err);
    ::close(fd);
    return ok;
  }

  std::string_view text() const {
    return map_ ? std::string_view(map_, map_size_) : std::string_view(copy_);
  }

  // Drops whole pages before `offset`; nothing there is looked at again.
  void release_before(size_t offset) {
    if (!map_) return;
    static const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    size_t upto = offset / page * page;
    if (upto >= released_ + kReleaseStep) {
      ::munmap(map_ + released_, upto - released_);
      released_ = upto;
    }
  }

 private:
  static constexpr size_t kReleaseStep = size_t(8) << 20;

  bool read_all(int fd, std::string& err) {
    copy_.resize(65536);
    size_t got = 0;
    while (true) {
      if (got == copy_.size()) copy_.resize(copy_.size() * 2);
      ssize_t n = ::read(fd, copy_.data() + got, copy_.size() - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = std::strerror(errno);
        return false;
      }
      if (n == 0) break;
      got += size_t(n);
    }
    copy_.resize(got);
    return true;
  }

  char* map_ = nullptr;
  size_t map_size_ = 0;
  size_t released_ = 0;
  std::string copy_;
};

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return path.substr(0, slash + 1);
}

// Undoes backslash escapes in a file name token (\X -> X, \DDD -> octet).
std::string unescape(std::string_view t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size()) {
      if (i + 3 < t.size() && isdigit(uint8_t(t[i + 1])) && isdigit(uint8_t(t[i + 2])) &&
          isdigit(uint8_t(t[i + 3]))) {
        out += char((t[i + 1] - '0') * 100 + (t[i + 2] - '0') * 10 + (t[i + 3] - '0'));
        i += 3;
      } else {
        out += t[++i];
      }
    } else {
      out += t[i];
    }
  }
  return out;
}

class Reader {
 public:
  Reader(const wire::Name& origin, const ParseOptions& opts, ParseResult& res,
         RecordStore* store = nullptr)
      : opts_(opts), res_(res), store_(store), origin_(origin) {}

  void run_file(const std::string& path) {
    SourceFile src;
    std::string err;
    res_.files.push_back(path);
    if (!src.open(path, err)) {
      res_.errors.push_back(Diagnostic{path, 0, "cannot read: " + err});
      return;
    }
    reserve_for(src.text().size());
    char* real = ::realpath(path.c_str(), nullptr);
    real_stack_.push_back(real ? std::string(real) : path);
    std::free(real);
    stack_.push_back(path);
    run(src.text(), 0, &src);
    stack_.pop_back();
    real_stack_.pop_back();
    finish();
  }

  void run_text(std::string_view text, std::string label) {
    res_.files.push_back(std::move(label));
    reserve_for(text.size());
    stack_.push_back(res_.files.back());
    run(text, 0);
    stack_.pop_back();
    finish();
  }

 private:
  // Entries are rarely shorter than 20 octets. Reserving for that many up
  // front avoids copying a multi-million element vector while it grows;
  // the unused tail is never touched, so it costs address space, not RSS.
  void reserve_for(size_t bytes) {
    size_t guess = bytes / 20;
    if (guess > 16) {
      if (store_) {
        store_->recs.reserve(store_->recs.size() + guess);
        store_->owners.reserve(store_->owners.size() + guess / 2);
        store_->rdata.reserve(store_->rdata.size() + guess * 8);
      } else {
        res_.records.reserve(guess);
      }
      res_.where.reserve(guess);
    }
  }

  void finish() {}

  bool stopped() const { return res_.too_many_errors; }

  void error(uint32_t file, size_t line, std::string msg) {
    if (res_.too_many_errors) return;
    if (res_.errors.size() >= opts_.max_errors) {
      res_.too_many_errors = true;
      res_.errors.push_back(
          Diagnostic{res_.files[file], line, "too many errors (" + std::to_string(opts_.max_errors) +
                                                 "), giving up"});
      return;
    }
    res_.errors.push_back(Diagnostic{res_.files[file], line, std::move(msg)});
  }
  void warning(uint32_t file, size_t line, std::string msg) {
    if (res_.warnings.size() < 1000)
      res_.warnings.push_back(Diagnostic{res_.files[file], line, std::move(msg)});
  }

  void run(std::string_view buf, uint32_t file, SourceFile* src = nullptr) {
    Lexer lex(buf);
    Entry e;
    while (!stopped() && lex.next(e)) {
      if (!e.error.empty()) {
        error(file, e.error_line, e.error);
        continue;
      }
      entry(e, file);
      if (src) src->release_before(lex.offset(buf.data()));
    }
  }

  void entry(const Entry& e, uint32_t file) {
    const auto& t = e.toks;
    size_t i = 0;
    if (!e.blank_owner) {
      if (!t[0].quoted && t[0].text[0] == '$') {
        directive(e, file);
        return;
      }
      if (t[0].quoted) {
        error(file, e.line, "owner name may not be a quoted string");
        return;
      }
      if (!set_owner(t[0].text, file, e.line)) return;
      i = 1;
    } else if (!have_owner_) {
      error(file, e.line, "no owner name (line starts with blank, and no previous owner)");
      return;
    }
    record(owner_, t, i, file, e.line);
  }

  bool set_owner(std::string_view text, uint32_t file, size_t line) {
    // Consecutive entries usually name the same owner: reuse it.
    if (have_owner_ && owner_gen_ == origin_gen_ && text == owner_text_) return true;
    if (text == "@") {
      owner_ = origin_;
    } else {
      auto n = wire::Name::from_text(text, &origin_);
      if (!n) {
        error(file, line, "bad owner name " + quote(text) + ": " + n.error().message);
        have_owner_ = false;
        return false;
      }
      owner_ = std::move(*n);
    }
    have_owner_ = true;
    owner_text_.assign(text);
    owner_gen_ = origin_gen_;
    return true;
  }

  // [TTL] [class] type rdata..., TTL and class in either order.
  void record(const wire::Name& owner, const std::vector<Tok>& t, size_t i, uint32_t file,
              size_t line) {
    const size_t n = t.size();
    std::optional<uint32_t> ttl;
    std::optional<uint16_t> cls;
    for (int k = 0; k < 2 && i < n && !t[i].quoted; ++k) {
      std::string_view s = t[i].text;
      if (!ttl && s[0] >= '0' && s[0] <= '9') {
        uint32_t v;
        if (!parse_ttl(s, v)) {
          error(file, line, "bad TTL " + quote(s));
          return;
        }
        ttl = v;
        ++i;
        continue;
      }
      if (!cls) {
        if (auto c = wire::class_from_text(s)) {
          cls = *c;
          ++i;
          continue;
        }
      }
      break;
    }
    if (i >= n) {
      error(file, line, "missing RR type");
      return;
    }
    if (t[i].quoted) {
      error(file, line, "expected RR type, got a quoted string");
      return;
    }
    auto type = wire::type_from_text(t[i].text);
    if (!type) {
      if (t[i].text[0] >= '0' && t[i].text[0] <= '9')
        error(file, line, "bad TTL or unknown RR type " + quote(t[i].text));
      else
        error(file, line, "unknown RR type " + quote(t[i].text));
      return;
    }
    ++i;
    if (cls && *cls != opts_.rclass) {
      error(file, line, "class " + wire::class_to_text(*cls) + " does not match zone class " +
                            wire::class_to_text(opts_.rclass));
      return;
    }
    if (wire::is_meta_type(*type)) {
      error(file, line, wire::type_to_text(*type) + ": meta type not allowed in zone data");
      return;
    }
    rdata_.clear();
    for (; i < n; ++i) rdata_.push_back(wire::TextToken{t[i].text, t[i].quoted});
    auto rd = wire::rdata_from_text(*type, rdata_, origin_);
    if (!rd) {
      error(file, line, rd.error().message);
      return;
    }
    uint32_t use_ttl;
    if (ttl) {
      use_ttl = *ttl;
      if (use_ttl > kMaxTtl) {
        warning(file, line, "TTL " + std::to_string(use_ttl) + " > MAXTTL, setting TTL to 0");
        use_ttl = 0;
      }
      last_ttl_ = use_ttl;
      ttl_known_ = true;
    } else if (default_ttl_known_) {
      use_ttl = default_ttl_;
    } else if (ttl_known_) {
      // RFC 1035 §5.1: an omitted TTL is the last explicit one.
      use_ttl = last_ttl_;
      if (!warned_1035_) {
        warning(file, line, "using RFC1035 TTL semantics");
        warned_1035_ = true;
      }
    } else if (*type == uint16_t(wire::RRType::SOA) && rd->size() >= 20) {
      // Like BIND: no $TTL and no TTL yet, the SOA MINIMUM stands in.
      const uint8_t* m = rd->data() + rd->size() - 4;
      use_ttl = uint32_t(m[0]) << 24 | uint32_t(m[1]) << 16 | uint32_t(m[2]) << 8 | m[3];
      if (use_ttl > kMaxTtl) use_ttl = 0;
      warning(file, line, "no TTL specified; using SOA MINTTL instead");
      last_ttl_ = use_ttl;
      ttl_known_ = true;
    } else {
      error(file, line, "no TTL specified");
      return;
    }
    if (store_) {
      if (!store_->add(owner, *type, opts_.rclass, use_ttl, *rd)) {
        error(file, line, "rdata too long");
        return;
      }
    } else {
      res_.records.push_back(wire::RR{owner, *type, opts_.rclass, use_ttl, std::move(*rd)});
    }
    res_.where.push_back(SourceLine{file, uint32_t(line)});
  }

  void directive(const Entry& e, uint32_t file) {
    const auto& t = e.toks;
    std::string_view d = t[0].text;
    if (iequals(d, "$ORIGIN")) {
      if (t.size() != 2) {
        error(file, e.line, "$ORIGIN: expected one domain name");
        return;
      }
      auto n = wire::Name::from_text(t[1].text, &origin_);
      if (!n) {
        error(file, e.line, "$ORIGIN: bad name " + quote(t[1].text) + ": " + n.error().message);
        return;
      }
      origin_ = std::move(*n);
      ++origin_gen_;
    } else if (iequals(d, "$TTL")) {
      uint32_t v;
      if (t.size() != 2 || !parse_ttl(t[1].text, v)) {
        error(file, e.line, "$TTL: expected one TTL value");
        return;
      }
      if (v > kMaxTtl) {
        warning(file, e.line, "$TTL " + std::to_string(v) + " > MAXTTL, setting $TTL to 0");
        v = 0;
      }
      default_ttl_ = v;
      default_ttl_known_ = true;
    } else if (iequals(d, "$INCLUDE")) {
      include(e, file);
    } else if (iequals(d, "$GENERATE")) {
      generate(e, file);
    } else {
      error(file, e.line, "unknown directive " + quote(d));
    }
  }

  // $INCLUDE file [origin]: RFC 1035 §5.1. The file is relative to the
  // including file; origin and current owner come back afterwards.
  void include(const Entry& e, uint32_t file) {
    const auto& t = e.toks;
    if (!opts_.allow_include) {
      error(file, e.line, "$INCLUDE not allowed here");
      return;
    }
    if (t.size() < 2 || t.size() > 3) {
      error(file, e.line, "$INCLUDE: expected a file name and an optional origin");
      return;
    }
    std::string path = unescape(t[1].text);
    if (path.empty()) {
      error(file, e.line, "$INCLUDE: empty file name");
      return;
    }
    if (path[0] != '/') path = dir_of(res_.files[file]) + path;
    std::optional<wire::Name> new_origin;
    if (t.size() == 3) {
      auto n = wire::Name::from_text(t[2].text, &origin_);
      if (!n) {
        error(file, e.line, "$INCLUDE: bad origin " + quote(t[2].text) + ": " + n.error().message);
        return;
      }
      new_origin = std::move(*n);
    }
    if (stack_.size() > opts_.max_include_depth) {
      error(file, e.line, "$INCLUDE: nested too deeply (limit " +
                              std::to_string(opts_.max_include_depth) + ")");
      return;
    }
    char* real = ::realpath(path.c_str(), nullptr);
    std::string key = real ? std::string(real) : path;
    std::free(real);
    for (const auto& s : real_stack_) {
      if (s == key) {
        error(file, e.line, "$INCLUDE: include loop at " + quote(path));
        return;
      }
    }
    SourceFile src;
    std::string err;
    if (!src.open(path, err)) {
      error(file, e.line, "$INCLUDE: cannot read " + quote(path) + ": " + err);
      return;
    }
    // Save what the included file may change and the parent keeps.
    wire::Name saved_origin = origin_;
    std::optional<wire::Name> saved_owner;
    if (have_owner_) saved_owner = owner_;
    std::string saved_text = owner_text_;
    uint64_t saved_gen = owner_gen_;
    if (new_origin) {
      origin_ = std::move(*new_origin);
      ++origin_gen_;
    }
    uint32_t idx = uint32_t(res_.files.size());
    res_.files.push_back(path);
    stack_.push_back(path);
    real_stack_.push_back(key);
    run(src.text(), idx, &src);
    real_stack_.pop_back();
    stack_.pop_back();
    origin_ = std::move(saved_origin);
    ++origin_gen_;
    have_owner_ = saved_owner.has_value();
    if (saved_owner) owner_ = std::move(*saved_owner);
    owner_text_ = std::move(saved_text);
    owner_gen_ = saved_gen;  // stale generation: the text is re-parsed if seen again
  }

  // $GENERATE start-stop[/step] lhs [ttl] [class] type rhs (BIND extension).
  // `$` in lhs/rhs is the counter; ${offset[,width[,base]]} formats it;
  // `\$` is a literal dollar.
  void generate(const Entry& e, uint32_t file) {
    const auto& t = e.toks;
    if (t.size() < 4) {
      error(file, e.line, "$GENERATE: expected range, lhs, type and rhs");
      return;
    }
    uint64_t start = 0, stop = 0, step = 1;
    {
      std::string_view r = t[1].text;
      size_t dash = r.find('-');
      size_t slash = r.find('/');
      auto num = [](std::string_view s, uint64_t& v) {
        if (s.empty() || s.size() > 10) return false;
        v = 0;
        for (char c : s) {
          if (c < '0' || c > '9') return false;
          v = v * 10 + uint64_t(c - '0');
        }
        return true;
      };
      bool ok = dash != std::string_view::npos &&
                num(r.substr(0, dash), start) &&
                num(r.substr(dash + 1, slash == std::string_view::npos ? std::string_view::npos
                                                                        : slash - dash - 1),
                    stop) &&
                (slash == std::string_view::npos || num(r.substr(slash + 1), step));
      if (!ok || step == 0 || start > stop || stop > 0xFFFFFFFFull) {
        error(file, e.line, "$GENERATE: bad range " + quote(r));
        return;
      }
      if ((stop - start) / step + 1 > opts_.max_generate) {
        error(file, e.line, "$GENERATE: range produces more than " +
                                std::to_string(opts_.max_generate) + " records");
        return;
      }
    }
    std::string_view lhs = t[2].text;
    std::string_view rhs = t.back().text;
    const bool rhs_quoted = t.back().quoted;
    std::string owner_s, rdata_s;
    Entry sub;
    std::vector<Tok> toks;
    for (uint64_t v = start; v <= stop && !stopped(); v += step) {
      if (!expand(lhs, v, owner_s) || !expand(rhs, v, rdata_s)) {
        error(file, e.line, "$GENERATE: bad ${offset,width,base} modifier");
        return;
      }
      auto owner = owner_s == "@" ? Result<wire::Name>(origin_)
                                  : wire::Name::from_text(owner_s, &origin_);
      if (!owner) {
        error(file, e.line, "$GENERATE: bad owner " + quote(owner_s) + ": " +
                                owner.error().message);
        return;
      }
      toks.clear();
      for (size_t k = 3; k + 1 < t.size(); ++k) toks.push_back(t[k]);
      // The rhs is re-lexed so "10 mail$" (quoted) gives MX two fields.
      if (rhs_quoted) {
        Lexer sl(rdata_s);
        while (sl.next(sub)) {
          if (!sub.error.empty()) {
            error(file, e.line, "$GENERATE: " + sub.error);
            return;
          }
          for (const auto& x : sub.toks) toks.push_back(x);
        }
      } else {
        toks.push_back(Tok{rdata_s, false});
      }
      size_t before = res_.errors.size();
      record(*owner, toks, 0, file, e.line);
      if (res_.errors.size() != before) return;  // one report per directive
    }
  }

  static bool expand(std::string_view tmpl, uint64_t v, std::string& out) {
    out.clear();
    for (size_t i = 0; i < tmpl.size(); ++i) {
      char c = tmpl[i];
      if (c == '\\' && i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (c != '$') {
        out += c;
        continue;
      }
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {  // "$$" is a literal '$'
        out += '$';
        ++i;
        continue;
      }
      int64_t offset = 0;
      unsigned width = 0;
      char base = 'd';
      if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
        size_t close = tmpl.find('}', i + 2);
        if (close == std::string_view::npos) return false;
        std::string spec(tmpl.substr(i + 2, close - i - 2));
        char b = 'd';
        long long off = 0;
        unsigned w = 0;
        int got = std::sscanf(spec.c_str(), "%lld,%u,%c", &off, &w, &b);
        if (got < 1 || w > 64) return false;
        offset = off;
        width = w;
        base = b;
        i = close;
      }
      int64_t val = int64_t(v) + offset;
      if (val < 0) return false;
      if (base == 'n' || base == 'N') {
        // Nibble format for reverse names: hex digits low first, dot separated.
        std::string nib;
        uint64_t x = uint64_t(val);
        unsigned count = 0;
        do {
          const char* digits = base == 'n' ? "0123456789abcdef" : "0123456789ABCDEF";
          nib += digits[x & 0xF];
          x >>= 4;
          ++count;
          if (x || count < width) nib += '.';
        } while (x || count < width);
        out += nib;
        continue;
      }
      const char* fmt;
      switch (base) {
        case 'd': fmt = "%0*llu"; break;
        case 'o': fmt = "%0*llo"; break;
        case 'x': fmt = "%0*llx"; break;
        case 'X': fmt = "%0*llX"; break;
        default: return false;
      }
      char buf[96];
      std::snprintf(buf, sizeof buf, fmt, int(width), static_cast<unsigned long long>(val));
      out += buf;
    }
    return true;
  }

  const ParseOptions& opts_;
  ParseResult& res_;
  RecordStore* store_;
  wire::Name origin_;
  uint64_t origin_gen_ = 0;
  wire::Name owner_;
  bool have_owner_ = false;
  std::string owner_text_;
  uint64_t owner_gen_ = ~uint64_t(0);
  uint32_t default_ttl_ = 0;
  bool default_ttl_known_ = false;
  uint32_t last_ttl_ = 0;
  bool ttl_known_ = false;
  bool warned_1035_ = false;
  std::vector<std::string> stack_;
  std::vector<std::string> real_stack_;
  std::vector<wire::TextToken> rdata_;
};

}  // namespace

ParseResult parse_master_file(const std::string& path, const wire::Name& origin,
                              const ParseOptions& opts) {
  ParseResult res;
  Reader r(origin, opts, res);
  r.run_file(path);
  return res;
}

ParseResult parse_master_file(const std::string& path, const wire::Name& origin,
                              RecordStore& out, const ParseOptions& opts) {
  ParseResult res;
  Reader r(origin, opts, res, &out);
  r.run_file(path);
  return res;
}

bool RecordStore::add(const wire::Name& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                      std::span<const uint8_t> rd) {
  if (rd.size() > 0xFFFF || rdata.size() + rd.size() > 0xFFFFFFFFu) return false;
  if (owners.empty() || owners.back().wire_size() != owner.wire_size() ||
      std::memcmp(owners.back().wire().data(), owner.wire().data(), owner.wire_size()) != 0) {
    owners.push_back(owner);
  }
  recs.push_back(Rec{uint32_t(owners.size() - 1), uint32_t(rdata.size()), ttl, type, rclass,
                     uint16_t(rd.size())});
  rdata.insert(rdata.end(), rd.begin(), rd.end());
  return true;
}

std::vector<wire::RR> RecordStore::to_rrs() const {
  std::vector<wire::RR> out;
  out.reserve(recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    auto rd = rdata_of(i);
    out.push_back(wire::RR{owner(i), recs[i].type, recs[i].rclass, recs[i].ttl,
                           wire::Bytes(rd.begin(), rd.end())});
  }
  return out;
}

ParseResult parse_master_text(std::string_view text, std::string file_label,
                              const wire::Name& origin, const ParseOptions& opts) {
  ParseResult res;
  Reader r(origin, opts, res);
  r.run_text(text, std::move(file_label));
  return res;
}

}  // namespace ddns::zone
