// Request/Response helpers, the Router, and the HTTP text parsers of parse.h.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "base/encoding.h"
#include "http/parse.h"
#include "http/server.h"

namespace ddns::http {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a bare address into family + 16 bytes.
bool parse_addr(std::string_view text, int* family, unsigned char out[16]) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, buf, out) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

}  // namespace

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
      if (h >= 0 && l >= 0) {
        out.push_back(char(h * 16 + l));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_query(std::string_view query, std::vector<std::pair<std::string, std::string>>& out) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(percent_decode(part, true), std::string());
    else
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       percent_decode(part.substr(eq + 1), true));
  }
}

std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value) {
  value = trim(value);
  size_t sp = value.find(' ');
  if (sp == std::string_view::npos || !ieq(value.substr(0, sp), "basic")) return std::nullopt;
  std::string_view b64 = trim(value.substr(sp + 1));
  if (b64.empty() || b64.size() > 4096) return std::nullopt;
  std::vector<uint8_t> raw;
  // Some clients omit the padding; restore it so the strict decoder accepts it.
  std::string padded(b64);
  while (padded.size() % 4 != 0) padded.push_back('=');
  if (!base64_decode(padded, raw)) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(raw.data()), raw.size());
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(text.substr(0, colon)), std::string(text.substr(colon + 1)));
}

std::optional<std::string> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(part.substr(0, eq)) != name) continue;
    std::string_view v = trim(part.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return std::nullopt;
}

std::optional<std::string> canonical_ip(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    text = text.substr(0, text.find(':'));  // "192.0.2.1:4711"
  }
  int family = 0;
  unsigned char a[16];
  if (!parse_addr(text, &family, a)) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(family, a, buf, sizeof buf);
  return std::string(buf);
}

bool ProxyList::add(std::string_view spec) {
  spec = trim(spec);
  Net n;
  std::string_view addr = spec;
  size_t slash = spec.find('/');
  int prefix = -1;
  if (slash != std::string_view::npos) {
    addr = spec.substr(0, slash);
    std::string_view p = spec.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      prefix = prefix * 10 + (c - '0');
    }
  }
  if (!parse_addr(addr, &n.family, n.addr)) return false;
  unsigned max = n.family == AF_INET ? 32 : 128;
  if (prefix < 0) prefix = int(max);
  if (unsigned(prefix) > max) return false;
  n.prefix = unsigned(prefix);
  nets_.push_back(n);
  return true;
}

bool ProxyList::contains(std::string_view ip) const {
  int family = 0;
  unsigned char a[16];
  if (!parse_addr(ip, &family, a)) return false;
  for (const Net& n : nets_) {
    if (n.family != family) continue;
    unsigned full = n.prefix / 8, rest = n.prefix % 8;
    if (std::memcmp(a, n.addr, full) != 0) continue;
    if (rest != 0) {
      unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
      if ((a[full] & mask) != (n.addr[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::optional<std::string> forwarded_client(std::string_view xff, std::string_view forwarded,
                                            const ProxyList& trusted) {
  std::vector<std::string_view> hops;
  if (!forwarded.empty()) {
    // RFC 7239 §4: elements separated by ',', pairs by ';'; take each "for=".
    std::string_view rest = forwarded;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view elem = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      std::string_view found;
      while (!elem.empty()) {
        size_t semi = elem.find(';');
        std::string_view pair = trim(elem.substr(0, semi));
        elem = semi == std::string_view::npos ? std::string_view() : elem.substr(semi + 1);
        if (pair.size() > 4 && ieq(pair.substr(0, 4), "for=")) found = pair.substr(4);
      }
      hops.push_back(found);
    }
  } else {
    std::string_view rest = xff;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      hops.push_back(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  // The rightmost hop was added by the nearest proxy; walk left past the
  // proxies we trust. An unparsable hop ends the walk: it cannot be trusted.
  for (size_t i = hops.size(); i-- > 0;) {
    auto ip = canonical_ip(hops[i]);
    if (!ip) return std::nullopt;
    if (i > 0 && trusted.contains(*ip)) continue;
    return ip;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::param(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> Request::basic_auth() const {
  auto h = header("authorization");
  if (!h) return std::nullopt;
  return parse_basic_auth(*h);
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == "cookie")
      if (auto c = find_cookie(v, name)) return c;
  return std::nullopt;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

void Router::add(std::string method, std::string path, Handler h) {
  routes_.push_back(Route{std::move(method), std::move(path), std::move(h)});
}

const Handler* Router::find(std::string_view method, std::string_view path,
                            bool* method_mismatch) const {
  const Route* best = nullptr;
  bool mismatch = false;
  size_t best_len = 0;
  for (const Route& r : routes_) {
    bool match = r.path == path ||
                 (!r.path.empty() && r.path.back() == '/' && path.substr(0, r.path.size()) == r.path);
    if (!match) continue;
    if (r.method != "*" && r.method != method) {
      mismatch = true;
      continue;
    }
    if (!best || r.path.size() > best_len) {
      best = &r;
      best_len = r.path.size();
    }
  }
  if (method_mismatch) *method_mismatch = !best && mismatch;
  return best ? &best->handler : nullptr;
}

}  // namespace ddns::http
