// BIND key-file reader and writer; random key generation.
#include "tsig/keyfile.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/encoding.h"

namespace ddns::tsig {
namespace {

struct Token {
  enum Kind { End, Word, String, Punct } kind = End;
  std::string text;
  size_t line = 0;
};

// named.conf lexical rules, as far as key statements need them: words,
// "quoted strings" (backslash keeps the next character, so \" and \\ work
// and name escapes like \. reach Name::from_text intact), and { } ;.
class Lexer {
 public:
  Lexer(std::string_view text, std::string_view file) : s_(text), file_(file) {}

  Result<Token> next() {
    if (auto e = skip_space(); !e) return e.error();
    Token t;
    t.line = line_;
    if (pos_ >= s_.size()) return t;
    char c = s_[pos_];
    if (c == '{' || c == '}' || c == ';') {
      t.kind = Token::Punct;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    }
    if (c == '"') {
      t.kind = Token::String;
      ++pos_;
      while (true) {
        if (pos_ >= s_.size()) return error(t.line, "unterminated quoted string");
        char d = s_[pos_++];
        if (d == '"') break;
        if (d == '\n') ++line_;
        if (d == '\\' && pos_ < s_.size()) {
          t.text += d;
          d = s_[pos_++];
          if (d == '\n') ++line_;
        }
        t.text += d;
      }
      return t;
    }
    t.kind = Token::Word;
    while (pos_ < s_.size()) {
      char d = s_[pos_];
      if (is_space(d) || d == '{' || d == '}' || d == ';' || d == '"' || d == '#') break;
      if (d == '/' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '/' || s_[pos_ + 1] == '*')) break;
      t.text += d;
      ++pos_;
    }
    return t;
  }

  Error error(size_t line, const std::string& why) const {
    return make_error(std::string(file_) + ":" + std::to_string(line) + ": " + why);
  }

 private:
  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }

  Result<void> skip_space() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (is_space(c)) {
        if (c == '\n') ++line_;
        ++pos_;
      } else if (c == '#' || (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/')) {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        size_t start = line_;
        pos_ += 2;
        while (true) {
          if (pos_ + 1 >= s_.size()) return error(start, "unterminated /* comment");
          if (s_[pos_] == '*' && s_[pos_ + 1] == '/') {
            pos_ += 2;
            break;
          }
          if (s_[pos_] == '\n') ++line_;
          ++pos_;
        }
      } else {
        break;
      }
    }
    return {};
  }

  std::string_view s_;
  std::string_view file_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

bool keyword(const Token& t, std::string_view kw) {
  if (t.kind != Token::Word || t.text.size() != kw.size()) return false;
  for (size_t i = 0; i < kw.size(); ++i) {
    if (wire::ascii_lower(uint8_t(t.text[i])) != uint8_t(kw[i])) return false;
  }
  return true;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::End: return "end of file";
    case Token::Punct: return "'" + t.text + "'";
    case Token::String: return "\"" + t.text + "\"";
    case Token::Word: return "'" + t.text + "'";
  }
  return "?";
}

}  // namespace

Result<std::vector<Key>> parse_keyfile(std::string_view text, std::string_view file) {
  Lexer lx(text, file);
  std::vector<Key> keys;
  KeyRing seen;
  auto expect_punct = [&](char p) -> Result<void> {
    auto t = lx.next();
    if (!t) return t.error();
    if (t->kind != Token::Punct || t->text[0] != p) {
      return lx.error(t->line, std::string("expected '") + p + "', got " + describe(*t));
    }
    return {};
  };
  auto value = [&](const char* what) -> Result<Token> {
    auto t = lx.next();
    if (!t) return t.error();
    if (t->kind != Token::Word && t->kind != Token::String) {
      return lx.error(t->line, std::string("expected ") + what + ", got " + describe(*t));
    }
    return t;
  };

  while (true) {
    auto t = lx.next();
    if (!t) return t.error();
    if (t->kind == Token::End) break;
    if (!keyword(*t, "key")) {
      return lx.error(t->line, "expected 'key' statement, got " + describe(*t));
    }
    auto name_tok = value("key name");
    if (!name_tok) return name_tok.error();
    if (name_tok->text.empty()) return lx.error(name_tok->line, "empty key name");
    static const wire::Name kRoot;
    auto name = wire::Name::from_text(name_tok->text, &kRoot);
    if (!name) return lx.error(name_tok->line, "bad key name: " + name.error().message);
    if (auto e = expect_punct('{'); !e) return e.error();

    std::optional<Algorithm> alg;
    std::optional<std::vector<uint8_t>> secret;
    size_t key_line = name_tok->line;
    while (true) {
      auto st = lx.next();
      if (!st) return st.error();
      if (st->kind == Token::Punct && st->text == "}") break;
      if (keyword(*st, "algorithm")) {
        if (alg) return lx.error(st->line, "duplicate algorithm");
        auto v = value("algorithm");
        if (!v) return v.error();
        alg = algorithm_from_text(v->text);
        if (!alg) return lx.error(v->line, "unknown algorithm '" + v->text + "'");
      } else if (keyword(*st, "secret")) {
        if (secret) return lx.error(st->line, "duplicate secret");
        auto v = value("secret");
        if (!v) return v.error();
        std::vector<uint8_t> out;
        if (!base64_decode(v->text, out)) return lx.error(v->line, "secret is not valid base64");
        if (out.empty()) return lx.error(v->line, "empty secret");
        secret = std::move(out);
      } else if (st->kind == Token::End) {
        return lx.error(st->line, "unexpected end of file in key statement");
      } else {
        return lx.error(st->line, "unknown key option " + describe(*st));
      }
      if (auto e = expect_punct(';'); !e) return e.error();
    }
    if (auto e = expect_punct(';'); !e) return e.error();
    if (!alg) return lx.error(key_line, "key '" + name_tok->text + "' has no algorithm");
    if (!secret) return lx.error(key_line, "key '" + name_tok->text + "' has no secret");
    Key k{std::move(*name), *alg, std::move(*secret)};
    if (!seen.add(Key{k.name, k.alg, {}})) {
      return lx.error(key_line, "duplicate key '" + name_tok->text + "'");
    }
    keys.push_back(std::move(k));
  }
  return keys;
}

Result<std::vector<Key>> load_keyfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(path + ": read error");
  return parse_keyfile(ss.str(), path);
}

std::string to_bind_keyfile(const Key& key) {
  std::string name = key.name.to_text();
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  // Inside quotes a bare '"' would end the string; Name::to_text already
  // escapes it as \", which the reader keeps.
  std::string out = "key \"" + name + "\" {\n";
  out += "\talgorithm ";
  out += algorithm_text(key.alg);
  out += ";\n\tsecret \"" + base64_encode(key.secret) + "\";\n};\n";
  return out;
}

Result<Key> generate_key(const wire::Name& name, Algorithm alg) {
  Key k{name, alg, std::vector<uint8_t>(digest_size(alg))};
  if (!random_bytes(k.secret)) return make_error("tsig: random generator failed");
  return k;
}

}  // namespace ddns::tsig
