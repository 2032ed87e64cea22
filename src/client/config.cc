// ddns-client configuration from YAML or flags (see config.h).
#include "client/config.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "wire/name.h"

namespace ddns::client {

std::string_view protocol_text(Protocol p) { return p == Protocol::DynDns2 ? "dyndns2" : "rfc2136"; }

namespace {

bool is_http_url(std::string_view s) { return s.starts_with("http://") || s.starts_with("https://"); }

// "https://h:1/path?x" -> "https://h:1"
std::string url_origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t end = url.find_first_of("/?#", scheme + 3);
  return std::string(url.substr(0, end));
}

std::string fnv_hex(std::string_view data) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64: stable across runs and builds
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string AddressSource::describe() const {
  switch (kind) {
    case Kind::None: return "none";
    case Kind::Interface: return value.empty() || value == "*" ? "any interface" : "interface " + value;
    case Kind::Url: return "url " + value;
    case Kind::Command: return "command '" + value + "'";
    case Kind::Fixed: return "fixed address " + value;
  }
  return "?";
}

std::string AddressSource::identity() const {
  std::string s = std::to_string(int(kind));
  s += '\0' + value + '\0' + pattern + '\0' + (allow_private ? "p" : "") + (allow_temporary ? "t" : "");
  return s;
}

Result<AddressSource> parse_source(std::string_view spec) {
  AddressSource s;
  if (spec.empty() || spec == "none" || spec == "off" || spec == "no") return s;
  auto after = [&](std::string_view prefix) { return std::string(spec.substr(prefix.size())); };
  if (spec.starts_with("if:") || spec.starts_with("interface:")) {
    s.kind = AddressSource::Kind::Interface;
    s.value = after(spec.starts_with("if:") ? "if:" : "interface:");
  } else if (spec.starts_with("url:")) {
    s.kind = AddressSource::Kind::Url;
    s.value = after("url:");
  } else if (is_http_url(spec)) {
    s.kind = AddressSource::Kind::Url;
    s.value = std::string(spec);
  } else if (spec.starts_with("cmd:")) {
    s.kind = AddressSource::Kind::Command;
    s.value = after("cmd:");
  } else if (spec.starts_with("addr:")) {
    s.kind = AddressSource::Kind::Fixed;
    s.value = after("addr:");
  } else {
    return make_error("address source '" + std::string(spec) +
                      "': use none, if:NAME, url:URL, cmd:COMMAND or addr:ADDRESS");
  }
  if (s.kind == AddressSource::Kind::Url && !is_http_url(s.value))
    return make_error("checkip URL '" + s.value + "' must start with http:// or https://");
  if (s.kind == AddressSource::Kind::Command && s.value.empty()) return make_error("empty command");
  if (s.kind == AddressSource::Kind::Fixed && !IpAddr::parse(s.value))
    return make_error("'" + s.value + "' is not an IP address");
  return s;
}

std::string HostConfig::key() const {
  return hostname + "|" + std::string(protocol_text(protocol)) + "|" + server;
}

std::string HostConfig::config_hash(std::string_view tsig_key_text) const {
  std::string s = key();
  for (const std::string* f : {&user, &password, &tsig_key_file, &tsig_key_name, &zone}) s += '\0' + *f;
  s += '\0' + std::to_string(ttl) + '\0' + ipv4.identity() + '\0' + ipv6.identity() + '\0';
  s += tsig_key_text;
  return fnv_hex(s);
}

Result<uint32_t> parse_duration(std::string_view text) {
  if (text.empty()) return make_error("empty duration");
  uint64_t mult = 1;
  std::string_view num = text;
  switch (text.back()) {
    case 's': mult = 1; num.remove_suffix(1); break;
    case 'm': mult = 60; num.remove_suffix(1); break;
    case 'h': mult = 3600; num.remove_suffix(1); break;
    case 'd': mult = 86400; num.remove_suffix(1); break;
    case 'w': mult = 7 * 86400; num.remove_suffix(1); break;
    default: break;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size() || num.empty())
    return make_error("'" + std::string(text) + "' is not a duration (e.g. 300, 5m, 2h, 25d)");
  if (v > 0xFFFFFFFFULL / mult) return make_error("duration '" + std::string(text) + "' too long");
  return uint32_t(v * mult);
}

Result<void> finish_host(HostConfig& h) {
  while (!h.hostname.empty() && h.hostname.back() == '.') h.hostname.pop_back();
  if (h.hostname.empty()) return make_error("hostname: missing");
  // Host names (RFC 1123 §2.1; '_' for service-style labels), no escapes.
  for (char c : h.hostname)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return make_error("hostname: '" + h.hostname + "' may hold only letters, digits, '-', '_' and '.'");
  auto name = wire::Name::from_text(h.hostname + ".");
  if (!name || name->label_count() < 2)
    return make_error("hostname: '" + h.hostname + "' is not a fully qualified domain name");
  if (h.server.empty()) return make_error("server: missing");
  for (const std::string* f : {&h.server, &h.user, &h.password})
    for (char c : *f)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return make_error("server, user and password may not hold control characters");
  if (h.protocol == Protocol::DynDns2) {
    if (!is_http_url(h.server))
      return make_error("server: '" + h.server + "' must be an http:// or https:// URL for dyndns2");
    if (h.user.empty()) h.user = h.hostname;  // a host token logs in as its hostname
    if (h.password.empty()) return make_error("password: missing (account password or host token)");
    if (!h.ipv4.enabled() && !h.ipv6.enabled()) {
      h.ipv4.kind = AddressSource::Kind::Url;
      h.ipv4.value = url_origin(h.server) + "/checkip";
    }
  } else {
    if (is_http_url(h.server))
      return make_error("server: rfc2136 needs a DNS server address (host[:port]), not a URL");
    if (h.tsig_key_file.empty()) return make_error("tsig-key: missing (BIND key file)");
    if (h.zone.empty()) {
      size_t dot = h.hostname.find('.');
      h.zone = h.hostname.substr(dot + 1);
    }
    while (!h.zone.empty() && h.zone.back() == '.') h.zone.pop_back();
    for (char c : h.zone)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
        return make_error("zone: '" + h.zone + "' may hold only letters, digits, '-', '_' and '.'");
    auto zone = wire::Name::from_text(h.zone + ".");
    if (!zone) return make_error("zone: '" + h.zone + "': " + zone.error().message);
    if (!name->is_subdomain_of(*zone))
      return make_error("zone: " + h.hostname + " is not inside zone " + h.zone);
    if (!h.ipv4.enabled() && !h.ipv6.enabled()) h.ipv4.kind = AddressSource::Kind::Interface;
  }
  for (const AddressSource* s : {&h.ipv4, &h.ipv6}) {
    auto pc = check_pattern(s->pattern);
    if (!pc) return make_error(std::string(s == &h.ipv4 ? "ipv4" : "ipv6") + ": " + pc.error().message);
    if (s->kind == AddressSource::Kind::Fixed) {
      auto a = IpAddr::parse(s->value);
      if (!a || (a->family == Family::V4) != (s == &h.ipv4))
        return make_error(std::string(s == &h.ipv4 ? "ipv4" : "ipv6") + ": '" + s->value +
                          "' is not an " + (s == &h.ipv4 ? "IPv4" : "IPv6") + " address");
    }
  }
  return {};
}

// ---- YAML ------------------------------------------------------------------

namespace {

class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  static int line(const YAML::Node& n) { return n.Mark().line + 1; }

  Error err(const YAML::Node& n, std::string_view key, std::string_view why) const {
    return make_error(std::string(file_) + ":" + std::to_string(line(n)) + ": " +
                      std::string(key) + ": " + std::string(why));
  }

  // The entries of a mapping in file order, keys as text. A key given twice
  // is refused, not silently overridden.
  using Entries = std::vector<std::pair<std::string, YAML::Node>>;
  Result<Entries> entries(const YAML::Node& n, std::string_view where) const {
    Entries out;
    std::set<std::string> seen;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) return err(kv.first, where, "expected a plain key");
      std::string k = kv.first.Scalar();
      std::string full = where.empty() ? k : std::string(where) + "." + k;
      if (!seen.insert(k).second) return err(kv.first, full, "duplicate key");
      out.emplace_back(std::move(k), kv.second);
    }
    return out;
  }

  Result<std::string> str(const YAML::Node& n, std::string_view key) const {
    if (!n.IsScalar()) return err(n, key, "expected a single value");
    return n.Scalar();
  }
  Result<bool> boolean(const YAML::Node& n, std::string_view key) const {
    auto s = str(n, key);
    if (!s) return s.error();
    if (*s == "true" || *s == "yes" || *s == "on") return true;
    if (*s == "false" || *s == "no" || *s == "off") return false;
    return err(n, key, "expected true or false");
  }
  Result<uint32_t> duration(const YAML::Node& n, std::string_view key) const {
    auto s = str(n, key);
    if (!s) return s.error();
    auto d = parse_duration(*s);
    if (!d) return err(n, key, d.error().message);
    return *d;
  }

  Result<AddressSource> source(const YAML::Node& n, std::string_view key) const {
    if (n.IsNull()) return AddressSource{};
    if (n.IsScalar()) {
      auto s = parse_source(n.Scalar());
      if (!s) return err(n, key, s.error().message);
      return s;
    }
    if (!n.IsMap()) return err(n, key, "expected a source (if:NAME, url:URL, ...) or a mapping");
    auto es = entries(n, key);
    if (!es) return es.error();
    AddressSource s;
    int kinds = 0;
    for (const auto& [k, v] : *es) {
      std::string full = std::string(key) + "." + k;
      auto val = str(v, full);
      if (!val) return val.error();
      if (k == "interface") {
        s.kind = AddressSource::Kind::Interface, s.value = *val, ++kinds;
      } else if (k == "url") {
        auto p = parse_source("url:" + *val);
        if (!p) return err(v, full, p.error().message);
        s.kind = p->kind, s.value = p->value, ++kinds;
      } else if (k == "command") {
        s.kind = AddressSource::Kind::Command, s.value = *val, ++kinds;
      } else if (k == "address") {
        auto p = parse_source("addr:" + *val);
        if (!p) return err(v, full, p.error().message);
        s.kind = p->kind, s.value = p->value, ++kinds;
      } else if (k == "pattern") {
        auto pc = check_pattern(*val);
        if (!pc) return err(v, full, pc.error().message);
        s.pattern = *val;
      } else if (k == "allow-private") {
        auto b = boolean(v, full);
        if (!b) return b.error();
        s.allow_private = *b;
      } else if (k == "allow-temporary") {
        auto b = boolean(v, full);
        if (!b) return b.error();
        s.allow_temporary = *b;
      } else {
        return err(v, full, "unknown key (interface, url, command, address, pattern, "
                            "allow-private, allow-temporary)");
      }
    }
    if (kinds != 1) return err(n, key, "give exactly one of interface, url, command, address");
    return s;
  }

  // Reads host keys from `n` into `h` (used for `defaults:` and each host).
  Result<void> host_keys(const YAML::Node& n, HostConfig& h, std::string_view where) const {
    if (!n.IsMap()) return err(n, where, "expected a mapping");
    auto es = entries(n, where);
    if (!es) return es.error();
    for (const auto& [k, v] : *es) {
      std::string full = std::string(where) + "." + k;
      if (k == "ipv4" || k == "ipv6") {
        auto s = source(v, full);
        if (!s) return s.error();
        (k == "ipv4" ? h.ipv4 : h.ipv6) = *s;
        continue;
      }
      auto val = str(v, full);
      if (!val) return val.error();
      if (k == "hostname") {
        h.hostname = *val;
      } else if (k == "protocol") {
        if (*val == "dyndns2") h.protocol = Protocol::DynDns2;
        else if (*val == "rfc2136") h.protocol = Protocol::Rfc2136;
        else return err(v, full, "expected dyndns2 or rfc2136");
      } else if (k == "server") {
        h.server = *val;
      } else if (k == "user") {
        h.user = *val;
      } else if (k == "password") {
        h.password = *val;
      } else if (k == "password-file") {
        std::ifstream in(*val);
        if (!in) return err(v, full, "cannot read '" + *val + "': " + std::strerror(errno));
        char buf[4096];  // bounded: a password file is one short line
        in.read(buf, sizeof buf);
        std::string pw(buf, size_t(in.gcount()));
        pw = pw.substr(0, pw.find('\n'));
        while (!pw.empty() && (pw.back() == '\r' || pw.back() == ' ')) pw.pop_back();
        h.password = pw;
      } else if (k == "tsig-key") {
        h.tsig_key_file = *val;
      } else if (k == "key-name") {
        h.tsig_key_name = *val;
      } else if (k == "zone") {
        h.zone = *val;
      } else if (k == "ttl") {
        auto d = parse_duration(*val);
        if (!d) return err(v, full, d.error().message);
        h.ttl = *d;
      } else {
        return err(v, full, "unknown key");
      }
    }
    return {};
  }

  Result<ClientConfig> document(const YAML::Node& doc) const;

 private:
  std::string_view file_;
};

Result<ClientConfig> Reader::document(const YAML::Node& doc) const {
  ClientConfig cfg;
  cfg.file = std::string(file_);
  if (doc.IsNull()) return make_error(std::string(file_) + ": empty configuration");
  if (!doc.IsMap()) return err(doc, "(top)", "expected a mapping of settings");
  auto es = entries(doc, "");
  if (!es) return es.error();
  HostConfig defaults;
  std::optional<YAML::Node> hosts;
  for (const auto& [k, v] : *es) {
    if (k == "hosts") {
      hosts = v;
      continue;
    }
    if (k == "defaults") {
      auto d = host_keys(v, defaults, k);
      if (!d) return d.error();
      continue;
    }
    auto s = str(v, k);
    if (!s) return s.error();
    if (k == "cache") {
      cfg.cache_file = *s;
    } else if (k == "user-agent") {
      cfg.user_agent = *s;
    } else if (k == "ca-file") {
      cfg.ca_file = *s;
    } else if (k == "interval" || k == "force-interval" || k == "timeout" || k == "retry-min" ||
               k == "retry-max") {
      auto d = duration(v, k);
      if (!d) return d.error();
      if (*d == 0 && k != "force-interval") return err(v, k, "must be more than 0");
      if (k == "interval") cfg.interval_s = *d;
      else if (k == "force-interval") cfg.force_interval_s = *d;
      else if (k == "timeout") cfg.timeout_s = *d;
      else if (k == "retry-min") cfg.retry_min_s = *d;
      else cfg.retry_max_s = *d;
    } else {
      return err(v, k, "unknown key (cache, interval, force-interval, timeout, retry-min, "
                       "retry-max, user-agent, ca-file, defaults, hosts)");
    }
  }
  if (cfg.retry_max_s < cfg.retry_min_s) cfg.retry_max_s = cfg.retry_min_s;
  if (!hosts || !hosts->IsSequence() || hosts->size() == 0)
    return err(hosts ? *hosts : doc, "hosts", "expected a list of at least one host");
  size_t i = 0;
  for (const YAML::Node& hn : *hosts) {
    std::string where = "hosts[" + std::to_string(i++) + "]";
    HostConfig h = defaults;
    h.line = line(hn);
    auto rk = host_keys(hn, h, where);
    if (!rk) return rk.error();
    auto fin = finish_host(h);
    if (!fin) return err(hn, where, fin.error().message);
    for (const auto& other : cfg.hosts)
      if (other.key() == h.key())
        return err(hn, where, "duplicate of the host at line " + std::to_string(other.line));
    cfg.hosts.push_back(std::move(h));
  }
  return cfg;
}

}  // namespace

Result<ClientConfig> parse_config(std::string_view text, std::string_view file) {
  // yaml-cpp reports syntax errors (and nesting deeper than its guard
  // allows) as exceptions; they end here, named by file and line.
  try {
    return Reader(file).document(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    std::string where(file);
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
    return make_error(where + ": syntax error: " + e.msg);
  }
}

Result<ClientConfig> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (1 << 20)) return make_error(path + ": larger than 1 MiB");
  return parse_config(ss.str(), path);
}

}  // namespace ddns::client
