// The YAML subset reader for ddns-client's config (see yaml.h).
#include "client/yaml.h"

#include <string>

namespace ddns::client::yaml {

const Node* Node::find(std::string_view key) const {
  if (kind != Kind::Map) return nullptr;
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

namespace {

constexpr int kMaxDepth = 64;

struct Line {
  int indent = 0;
  std::string text;  // without indentation, comment and trailing blanks
  int no = 0;
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// Index just past the quoted string starting at s[pos] (a quote), or npos
// when it does not close on this line.
size_t skip_quoted(std::string_view s, size_t pos) {
  char q = s[pos];
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if (q == '"' && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == q) {
      if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;  // '' is an escaped quote inside single quotes
        continue;
      }
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// A quote opens a quoted scalar only where a scalar can start; elsewhere
// (it's, 5'10) it is an ordinary character of a plain scalar.
bool scalar_start(std::string_view s, size_t i) {
  if (i == 0) return true;
  char p = s[i - 1];
  return is_blank(p) || p == '[' || p == ',' || p == '{';
}

// Cuts a comment: '#' at the start or after a blank, outside quotes.
std::string_view strip_comment(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if ((c == '"' || c == '\'') && scalar_start(s, i)) {
      size_t end = skip_quoted(s, i);
      if (end == std::string_view::npos) return s;  // the scalar parser reports it
      i = end - 1;
    } else if (c == '#' && (i == 0 || is_blank(s[i - 1]))) {
      return s.substr(0, i);
    }
  }
  return s;
}

bool is_dash(std::string_view t) { return !t.empty() && t[0] == '-' && (t.size() == 1 || t[1] == ' '); }

// Offset of the ':' that ends a mapping key (followed by a blank or the end
// of the line), or npos when the text is not "key: value".
size_t key_colon(std::string_view t) {
  size_t i = 0;
  if (!t.empty() && (t[0] == '"' || t[0] == '\'')) {
    size_t end = skip_quoted(t, 0);
    if (end == std::string_view::npos) return std::string_view::npos;
    i = end;
    while (i < t.size() && is_blank(t[i])) ++i;
    if (i < t.size() && t[i] == ':' && (i + 1 == t.size() || is_blank(t[i + 1]))) return i;
    return std::string_view::npos;
  }
  if (!t.empty() && (t[0] == '[' || t[0] == '{')) return std::string_view::npos;
  for (; i < t.size(); ++i)
    if (t[i] == ':' && (i + 1 == t.size() || is_blank(t[i + 1]))) return i;
  return std::string_view::npos;
}

class Parser {
 public:
  Parser(std::vector<Line> lines, std::string_view file) : lines_(std::move(lines)), file_(file) {}

  Result<Node> document() {
    if (lines_.empty()) return Node{};
    auto n = block(lines_[0].indent, 0);
    if (!n) return n;
    if (i_ < lines_.size()) return err(lines_[i_].no, "unexpected indentation");
    return n;
  }

 private:
  Error err(int line, std::string_view why) const {
    return make_error(std::string(file_) + ":" + std::to_string(line) + ": " + std::string(why));
  }

  Result<Node> block(int indent, int depth) {
    if (depth > kMaxDepth) return err(lines_[i_].no, "nesting too deep");
    if (is_dash(lines_[i_].text)) return seq(indent, depth);
    return mapping(indent, depth);
  }

  Result<Node> seq(int indent, int depth) {
    Node out;
    out.kind = Node::Kind::Seq;
    out.line = lines_[i_].no;
    while (i_ < lines_.size() && lines_[i_].indent == indent && is_dash(lines_[i_].text)) {
      Line& l = lines_[i_];
      std::string_view rest = std::string_view(l.text).substr(1);
      size_t pad = 1;
      while (!rest.empty() && is_blank(rest.front())) {
        rest.remove_prefix(1);
        ++pad;
      }
      if (rest.empty()) {
        int no = l.no;
        ++i_;
        if (i_ < lines_.size() && lines_[i_].indent > indent) {
          auto child = block(lines_[i_].indent, depth + 1);
          if (!child) return child;
          out.seq.push_back(std::move(*child));
        } else {
          Node null;
          null.line = no;
          out.seq.push_back(std::move(null));
        }
      } else if (is_dash(rest) || key_colon(rest) != std::string_view::npos) {
        // "- key: value" / "- - x": the rest is a block at the column it starts.
        l.indent = indent + int(pad);
        l.text = std::string(rest);
        auto child = block(l.indent, depth + 1);
        if (!child) return child;
        out.seq.push_back(std::move(*child));
      } else {
        auto v = value(rest, l.no);
        if (!v) return v;
        ++i_;
        out.seq.push_back(std::move(*v));
      }
      if (i_ < lines_.size() && lines_[i_].indent > indent)
        return err(lines_[i_].no, "unexpected indentation");
    }
    return out;
  }

  Result<Node> mapping(int indent, int depth) {
    Node out;
    out.kind = Node::Kind::Map;
    out.line = lines_[i_].no;
    while (i_ < lines_.size() && lines_[i_].indent == indent) {
      const Line& l = lines_[i_];
      std::string_view t = l.text;
      if (is_dash(t)) return err(l.no, "a list item where a key was expected");
      size_t colon = key_colon(t);
      if (colon == std::string_view::npos) return err(l.no, "expected 'key: value'");
      std::string_view raw_key = trim(t.substr(0, colon));
      std::string key;
      if (!raw_key.empty() && (raw_key[0] == '"' || raw_key[0] == '\'')) {
        auto k = value(raw_key, l.no);
        if (!k) return k;
        key = k->scalar;
      } else {
        key = std::string(raw_key);
      }
      if (key.empty()) return err(l.no, "empty key");
      if (out.find(key)) return err(l.no, "duplicate key '" + key + "'");
      std::string_view rest = trim(t.substr(colon + 1));
      int no = l.no;
      Node child;
      if (rest.empty()) {
        ++i_;
        if (i_ < lines_.size() && lines_[i_].indent > indent) {
          auto c = block(lines_[i_].indent, depth + 1);
          if (!c) return c;
          child = std::move(*c);
        } else if (i_ < lines_.size() && lines_[i_].indent == indent && is_dash(lines_[i_].text)) {
          // "key:\n- a": YAML lets a sequence sit at its key's indentation.
          auto c = seq(indent, depth + 1);
          if (!c) return c;
          child = std::move(*c);
        } else {
          child.line = no;
        }
      } else {
        auto v = value(rest, no);
        if (!v) return v;
        child = std::move(*v);
        ++i_;
      }
      out.map.push_back(Node::Entry{std::move(key), std::move(child)});
      if (i_ < lines_.size() && lines_[i_].indent > indent)
        return err(lines_[i_].no, "unexpected indentation");
    }
    return out;
  }

  // A scalar or a one-line flow sequence of scalars.
  Result<Node> value(std::string_view s, int line) {
    Node n;
    n.line = line;
    if (s.empty()) return n;
    char c = s[0];
    if (c == '&' || c == '*' || c == '!') return err(line, "anchors, aliases and tags are not supported");
    if (c == '|' || c == '>') return err(line, "block scalars (| and >) are not supported");
    if (c == '{') {
      if (trim(s.substr(1)) == "}") {
        n.kind = Node::Kind::Map;
        return n;
      }
      return err(line, "flow mappings ({...}) are not supported; use one key per line");
    }
    if (c == '[') {
      if (s.back() != ']') return err(line, "unterminated '[' (flow lists must fit on one line)");
      n.kind = Node::Kind::Seq;
      std::string_view body = trim(s.substr(1, s.size() - 2));
      if (body.empty()) return n;
      size_t start = 0;
      for (size_t i = 0; i <= body.size(); ++i) {
        if (i < body.size() && (body[i] == '"' || body[i] == '\'') && scalar_start(body, i)) {
          size_t end = skip_quoted(body, i);
          if (end == std::string_view::npos) return err(line, "unterminated quoted string");
          i = end - 1;
          continue;
        }
        if (i < body.size() && (body[i] == '[' || body[i] == '{'))
          return err(line, "nested flow collections are not supported");
        if (i == body.size() || body[i] == ',') {
          std::string_view item = trim(body.substr(start, i - start));
          if (item.empty()) return err(line, "empty item in '[...]'");
          auto v = value(item, line);
          if (!v) return v;
          n.seq.push_back(std::move(*v));
          start = i + 1;
        }
      }
      return n;
    }
    if (c == '"' || c == '\'') {
      size_t end = skip_quoted(s, 0);
      if (end == std::string_view::npos) return err(line, "unterminated quoted string");
      if (!trim(s.substr(end)).empty()) return err(line, "text after a quoted string");
      n.kind = Node::Kind::Scalar;
      n.quoted = true;
      std::string_view body = s.substr(1, end - 2);
      for (size_t i = 0; i < body.size(); ++i) {
        char ch = body[i];
        if (c == '\'' && ch == '\'') {
          n.scalar += '\'';
          ++i;
        } else if (c == '"' && ch == '\\' && i + 1 < body.size()) {
          char e = body[++i];
          switch (e) {
            case 'n': n.scalar += '\n'; break;
            case 't': n.scalar += '\t'; break;
            case 'r': n.scalar += '\r'; break;
            case '0': n.scalar += '\0'; break;
            case '\\': case '"': case '/': n.scalar += e; break;
            default: return err(line, std::string("unknown escape \\") + e);
          }
        } else {
          n.scalar += ch;
        }
      }
      return n;
    }
    if (s == "~" || s == "null" || s == "Null" || s == "NULL") return n;
    n.kind = Node::Kind::Scalar;
    n.scalar = std::string(s);
    return n;
  }

  std::vector<Line> lines_;
  std::string_view file_;
  size_t i_ = 0;
};

}  // namespace

Result<Node> parse(std::string_view text, std::string_view file) {
  std::vector<Line> lines;
  int no = 0;
  bool started = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    int indent = 0;
    while (size_t(indent) < raw.size() && raw[indent] == ' ') ++indent;
    std::string_view body = strip_comment(raw.substr(indent));
    body = trim(body);
    if (body.empty()) continue;
    if (raw.size() > size_t(indent) && raw[indent] == '\t')
      return make_error(std::string(file) + ":" + std::to_string(no) +
                        ": tab in indentation (YAML indents with spaces)");
    if (indent == 0 && (body == "---" || body.starts_with("--- "))) {
      if (started) return make_error(std::string(file) + ":" + std::to_string(no) +
                                     ": only one YAML document is read");
      continue;
    }
    if (indent == 0 && body == "...") break;
    if (body[0] == '%') continue;  // %YAML directive
    started = true;
    lines.push_back(Line{indent, std::string(body), no});
  }
  Parser p(std::move(lines), file);
  return p.document();
}

}  // namespace ddns::client::yaml
