// YAML config loader: walks the document with an explicit key table per
// section so unknown keys and bad values are reported with file:line: key.
#include "conf/config.h"

#include "net/rrl.h"

#include "zone/serial.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>

namespace ddns::conf {
namespace {

struct DurationUnit {
  std::string_view name;
  uint64_t mult;
};

// "<integer>[unit]" times its unit's multiplier, if that lies in [lo, hi].
// A bare number is multiplied by `bare`; bare == 0 admits only a bare 0.
std::optional<uint64_t> scaled_duration(std::string_view s, std::initializer_list<DurationUnit> units,
                                        uint64_t bare, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc()) return std::nullopt;
  const std::string_view unit(p, size_t(s.data() + s.size() - p));
  uint64_t mult = unit.empty() ? (bare ? bare : uint64_t(v == 0)) : 0;
  for (const auto& u : units)
    if (unit == u.name) mult = u.mult;
  if (mult == 0 || v > hi || v * mult < lo || v * mult > hi) return std::nullopt;  // v <= hi: no overflow
  return v * mult;
}

// Thrown inside this file only, turned into an Error at the boundary.
struct ConfError {
  std::string message;
};

class Walker {
 public:
  Walker(std::string source, std::string base_dir)
      : source_(std::move(source)), base_(std::move(base_dir)) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& why) const {
    std::string where = source_;
    if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
    throw ConfError{where + ": " + key + ": " + why};
  }
  std::string where(const YAML::Node& n) const {
    return source_ + ":" + std::to_string(n.Mark().line + 1);
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "must be a single value");
    return n.Scalar();
  }
  std::string string(const YAML::Node& n, const std::string& key, bool allow_empty) const {
    std::string s = n.IsNull() ? std::string() : scalar(n, key);
    if (!allow_empty && s.empty()) fail(n, key, "must not be empty");
    return s;
  }
  uint64_t number(const YAML::Node& n, const std::string& key, uint64_t lo, uint64_t hi) const {
    std::string s = n.IsScalar() ? n.Scalar() : std::string();
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
      fail(n, key, "must be a number between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    std::string s = n.IsScalar() ? n.Scalar() : std::string();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    fail(n, key, "must be true or false");
  }
  // "10", "10s", "500ms", "2m" -> milliseconds.
  uint32_t duration_ms(const YAML::Node& n, const std::string& key, uint64_t lo_ms,
                       uint64_t hi_ms) const {
    auto v = scaled_duration(n.IsScalar() ? n.Scalar() : std::string(),
                             {{"ms", 1}, {"s", 1000}, {"m", 60'000}}, 1000, lo_ms, hi_ms);
    if (!v)
      fail(n, key, "must be a duration between " + std::to_string(lo_ms) + "ms and " +
                       std::to_string(hi_ms / 1000) + "s (e.g. 10s, 500ms)");
    return uint32_t(*v);
  }
  std::string path(const YAML::Node& n, const std::string& key) const {
    std::string s = string(n, key, false);
    std::filesystem::path p(s);
    if (p.is_relative() && !base_.empty()) p = std::filesystem::path(base_) / p;
    return p.lexically_normal().string();
  }
  std::string resolve(const std::string& s) const {
    std::filesystem::path p(s);
    if (p.is_relative() && !base_.empty()) p = std::filesystem::path(base_) / p;
    return p.lexically_normal().string();
  }
  void require_map(const YAML::Node& n, const std::string& key) const {
    if (!n.IsMap()) fail(n, key, "must be a mapping of keys");
  }

  void server(const YAML::Node& n, ServerConfig& s) const {
    require_map(n, "server");
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      const std::string key = "server." + k;
      if (k == "listen") {
        s.listen.clear();
        if (v.IsScalar()) {
          s.listen.push_back(v.Scalar());
        } else if (v.IsSequence()) {
          for (const auto& e : v) s.listen.push_back(scalar(e, key));
        } else {
          fail(v, key, "must be an address or a list of addresses");
        }
        for (size_t i = 0; i < s.listen.size(); ++i) {
          if (auto r = check_listen(s.listen[i]); !r)
            fail(v.IsSequence() ? v[i] : v, key, r.error().message);
        }
        if (s.listen.empty()) fail(v, key, "needs at least one address");
      } else if (k == "threads") {
        s.threads = unsigned(number(v, key, 1, 64));
      } else if (k == "tcp-threads") {
        s.tcp_threads = unsigned(number(v, key, 1, 64));
      } else if (k == "identity") {
        s.identity = string(v, key, true);
      } else if (k == "version") {
        s.version = string(v, key, true);
      } else if (k == "chaos") {
        s.chaos = boolean(v, key);
      } else if (k == "round-robin") {
        s.round_robin = boolean(v, key);
      } else if (k == "max-udp-size") {
        s.max_udp_size = uint16_t(number(v, key, 512, 65535));
      } else if (k == "tcp-idle-timeout") {
        s.tcp_idle_timeout_ms = duration_ms(v, key, 100, 3600 * 1000);
      } else if (k == "udp-coalesce") {
        auto r = parse_coalesce(v.IsScalar() ? v.Scalar() : std::string());
        if (!r) fail(v, key, r.error().message);
        s.udp_coalesce_us = *r;
      } else if (k == "tcp-max-clients") {
        s.tcp_max_clients = uint32_t(number(v, key, 1, 1000000));
      } else if (k == "data-dir") {
        s.data_dir = path(v, key);
      } else if (k == "journal-max-entries") {
        s.journal_max_entries = uint32_t(number(v, key, 0, 100000000));
      } else if (k == "journal-max-age") {
        s.journal_max_age_s = seconds(v, key);
      } else if (k == "log-level") {
        s.log_level = string(v, key, false);
        if (!valid_log_level(s.log_level))
          fail(v, key, "must be one of trace, debug, info, warn, error, critical, off");
      } else {
        fail(kv.first, key, "unknown key");
      }
    }
  }

  // "90", "90s", "15m", "12h", "7d" -> seconds (0 allowed).
  uint32_t seconds(const YAML::Node& n, const std::string& key) const {
    auto v = scaled_duration(n.IsScalar() ? n.Scalar() : std::string(),
                             {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86'400}}, 1, 0,
                             100ull * 365 * 86'400);
    if (!v) fail(n, key, "must be a duration (e.g. 3600, 90s, 15m, 12h, 7d)");
    return uint32_t(*v);
  }

  void http(const YAML::Node& n, HttpConfig& h) const {
    require_map(n, "http");
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      const std::string key = "http." + k;
      if (k == "listen") {
        h.listen = strings(v, key);
        for (size_t i = 0; i < h.listen.size(); ++i)
          if (auto r = check_listen(h.listen[i]); !r)
            fail(v.IsSequence() ? v[i] : v, key, r.error().message);
      } else if (k == "tls-cert") {
        h.tls_cert = path(v, key);
      } else if (k == "tls-key") {
        h.tls_key = path(v, key);
      } else if (k == "trusted-proxies") {
        h.trusted_proxies = strings(v, key);
        for (size_t i = 0; i < h.trusted_proxies.size(); ++i)
          if (auto r = check_prefix(h.trusted_proxies[i]); !r)
            fail(v.IsSequence() ? v[i] : v, key, r.error().message);
      } else if (k == "threads") {
        h.threads = unsigned(number(v, key, 1, 64));
      } else if (k == "nochg-abuse-count") {
        h.nochg_abuse_count = uint32_t(number(v, key, 1, 1000000));
      } else if (k == "nochg-abuse-window") {
        h.nochg_abuse_window_s = seconds(v, key);
      } else if (k == "abuse-block") {
        h.abuse_block_s = seconds(v, key);
      } else if (k == "login-fail-limit") {
        h.login_fail_limit = uint32_t(number(v, key, 1, 1000000));
      } else if (k == "login-fail-window") {
        h.login_fail_window_s = seconds(v, key);
      } else if (k == "password-cache") {
        h.password_cache_s = seconds(v, key);
      } else if (k == "web-root") {
        h.web_root = path(v, key);
      } else {
        fail(kv.first, key, "unknown key");
      }
    }
    if (h.tls_cert.empty() != h.tls_key.empty())
      fail(n, h.tls_cert.empty() ? "http.tls-cert" : "http.tls-key",
           "tls-cert and tls-key must be given together");
  }

  void rrl(const YAML::Node& n, RrlConfig& r) const {
    require_map(n, "rrl");
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      const std::string key = "rrl." + k;
      if (k == "responses-per-second") {
        r.responses_per_second = uint32_t(number(v, key, 0, RrlConfig::kMaxRate));
      } else if (k == "slip") {
        r.slip = uint32_t(number(v, key, 0, RrlConfig::kMaxSlip));
      } else if (k == "window") {
        r.window_s = seconds(v, key);
        if (r.window_s < 1 || r.window_s > RrlConfig::kMaxWindow)
          fail(v, key, "must be a duration between 1s and " + std::to_string(RrlConfig::kMaxWindow) + "s");
      } else if (k == "ipv4-prefix-length") {
        r.ipv4_prefix_length = uint32_t(number(v, key, 0, 32));
      } else if (k == "ipv6-prefix-length") {
        r.ipv6_prefix_length = uint32_t(number(v, key, 0, 128));
      } else if (k == "exempt-clients") {
        r.exempt_clients = strings(v, key);
        for (size_t i = 0; i < r.exempt_clients.size(); ++i)
          if (auto e = check_prefix(r.exempt_clients[i]); !e)
            fail(v.IsSequence() ? v[i] : v, key, e.error().message);
      } else if (k == "log-only") {
        r.log_only = boolean(v, key);
      } else if (k == "table-size") {
        r.table_size = uint32_t(number(v, key, 1024, 64u << 20));
      } else {
        fail(kv.first, key, "unknown key");
      }
    }
  }

  void metrics(const YAML::Node& n, MetricsConfig& m) const {
    require_map(n, "metrics");
    for (const auto& kv : n) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      const std::string key = "metrics." + k;
      if (k == "enable") {
        m.enable = boolean(v, key);
      } else if (k == "allow") {
        // An empty list is allowed: then every reader needs credentials.
        m.allow = v.IsSequence() && v.size() == 0 ? std::vector<std::string>{} : strings(v, key);
        for (size_t i = 0; i < m.allow.size(); ++i)
          if (auto r = check_prefix(m.allow[i]); !r)
            fail(v.IsSequence() ? v[i] : v, key, r.error().message);
      } else if (k == "listen") {
        m.listen = strings(v, key);
        for (size_t i = 0; i < m.listen.size(); ++i)
          if (auto r = check_listen(m.listen[i]); !r)
            fail(v.IsSequence() ? v[i] : v, key, r.error().message);
      } else if (k == "dhcp-keys") {
        m.dhcp_keys = strings(v, key);
        for (size_t i = 0; i < m.dhcp_keys.size(); ++i)
          if (m.dhcp_keys[i].empty()) fail(v.IsSequence() ? v[i] : v, key, "must not be empty");
      } else {
        fail(kv.first, key, "unknown key");
      }
    }
  }

  // A single string or a list of strings.
  std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
    } else if (n.IsSequence()) {
      for (const auto& e : n) out.push_back(scalar(e, key));
    } else {
      fail(n, key, "must be a string or a list of strings");
    }
    return out;
  }

  void zones(const YAML::Node& n, std::vector<ZoneConfig>& out) const {
    if (!n.IsSequence()) fail(n, "zones", "must be a list of {name, file}");
    size_t i = 0;
    for (const auto& z : n) {
      const std::string prefix = "zones[" + std::to_string(i++) + "]";
      require_map(z, prefix);
      ZoneConfig zc;
      zc.where = where(z);
      for (const auto& kv : z) {
        const std::string k = kv.first.Scalar();
        const std::string key = prefix + "." + k;
        if (k == "name") {
          zc.name = string(kv.second, key, false);
        } else if (k == "file") {
          zc.file = path(kv.second, key);
        } else if (k == "update-policy") {
          zc.update_policy = strings(kv.second, key);
        } else if (k == "allow-transfer") {
          zc.allow_transfer = strings(kv.second, key);
          for (size_t j = 0; j < zc.allow_transfer.size(); ++j)
            if (auto r = check_acl_entry(zc.allow_transfer[j]); !r)
              fail(kv.second.IsSequence() ? kv.second[j] : kv.second, key, r.error().message);
        } else if (k == "notify" || k == "primaries") {
          auto& list = k == "notify" ? zc.notify : zc.primaries;
          list = strings(kv.second, key);
          for (size_t j = 0; j < list.size(); ++j)
            if (auto r = check_remote(list[j]); !r)
              fail(kv.second.IsSequence() ? kv.second[j] : kv.second, key, r.error().message);
        } else if (k == "notify-ns") {
          zc.notify_ns = boolean(kv.second, key);
        } else if (k == "notify-ns-port") {
          zc.notify_ns_port = uint16_t(number(kv.second, key, 1, 65535));
        } else if (k == "ddns") {
          zc.ddns = boolean(kv.second, key);
        } else if (k == "strict") {
          zc.strict = boolean(kv.second, key);
        } else if (k == "write-back") {
          zc.write_back_s = seconds(kv.second, key);
        } else if (k == "serial-policy") {
          zc.serial_policy = string(kv.second, key, false);
          if (!zone::serial_policy_from_text(zc.serial_policy))
            fail(kv.second, key, "must be increment, unixtime or dateserial");
        } else {
          fail(kv.first, key, "unknown key");
        }
      }
      if (zc.name.empty()) fail(z, prefix + ".name", "is required");
      if (zc.file.empty() && zc.primaries.empty())
        fail(z, prefix + ".file", "is required (unless the zone has primaries: a secondary)");
      if (zc.write_back_s && zc.file.empty())
        fail(z, prefix + ".write-back", "needs the zone's file");
      if (!zc.primaries.empty() && (zc.ddns || !zc.update_policy.empty()))
        fail(z, prefix + ".primaries",
             "a secondary zone takes no local changes (drop update-policy / ddns)");
      out.push_back(std::move(zc));
    }
  }

  Config document(const YAML::Node& root) const {
    Config c;
    c.source = source_;
    c.server.data_dir = base_.empty() ? "." : base_;
    if (root.IsNull()) return c;
    if (!root.IsMap()) fail(root, "(top level)", "must be a mapping of keys");
    for (const auto& kv : root) {
      const std::string k = kv.first.Scalar();
      if (k == "server") {
        server(kv.second, c.server);
      } else if (k == "zones") {
        zones(kv.second, c.zones);
      } else if (k == "http") {
        http(kv.second, c.http);
      } else if (k == "rrl") {
        rrl(kv.second, c.rrl);
      } else if (k == "metrics") {
        metrics(kv.second, c.metrics);
      } else if (k == "keys") {
        for (const auto& f : strings(kv.second, k)) c.keys.push_back(resolve(f));
      } else {
        fail(kv.first, k, "unknown key");
      }
    }
    return c;
  }

 private:
  std::string source_;
  std::string base_;
};

std::string norm_zone(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<uint32_t> parse_coalesce(std::string_view spec) {
  auto v = scaled_duration(spec, {{"us", 1}, {"ms", 1000}}, 0, 0, 10'000);
  if (!v) return make_error("must be 0 (off) or a duration up to 10ms (e.g. 100us, 1ms)");
  return uint32_t(*v);
}

bool valid_log_level(std::string_view l) {
  return l == "trace" || l == "debug" || l == "info" || l == "warn" || l == "error" ||
         l == "critical" || l == "off";
}

Result<void> check_listen(std::string_view spec) {
  std::string_view host, port;
  if (!spec.empty() && spec.front() == '[') {
    size_t close = spec.find(']');
    if (close == std::string_view::npos || close + 1 >= spec.size() || spec[close + 1] != ':')
      return make_error("'" + std::string(spec) + "': IPv6 addresses are written [addr]:port");
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else {
    size_t colon = spec.rfind(':');
    if (colon == std::string_view::npos)
      return make_error("'" + std::string(spec) + "': expected host:port");
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return make_error("'" + std::string(spec) + "': IPv6 addresses are written [addr]:port");
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() ||
      p > 65535)
    return make_error("'" + std::string(spec) + "': expected host:port with port 0-65535");
  return {};
}

namespace {
bool parse_ip(std::string_view text, bool* v6) {
  std::string t(text);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, t.c_str(), buf) == 1) {
    *v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, t.c_str(), buf) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}
}  // namespace

Result<void> check_prefix(std::string_view spec) {
  // One parser for client networks: the one RRL and metrics match with.
  if (auto p = net::Prefix::parse(spec); !p) return p.error();
  return {};
}

Result<void> check_acl_entry(std::string_view spec) {
  if (spec.substr(0, 4) == "key ") {
    auto name = spec.substr(4);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    if (name.empty()) return make_error("'" + std::string(spec) + "': expected 'key NAME'");
    return {};
  }
  if (auto r = check_prefix(spec); !r)
    return make_error("'" + std::string(spec) + "': expected ADDR, ADDR/LEN or 'key NAME'");
  return {};
}

Result<void> check_remote(std::string_view spec) {
  std::string_view addr = spec;
  if (size_t at = spec.rfind('@'); at != std::string_view::npos) {
    if (at + 1 >= spec.size())
      return make_error("'" + std::string(spec) + "': expected ADDR:PORT@KEYNAME");
    addr = spec.substr(0, at);
  }
  if (auto r = check_listen(addr); !r) return r;
  std::string_view host = addr.front() == '[' ? addr.substr(1, addr.find(']') - 1)
                                              : addr.substr(0, addr.rfind(':'));
  bool v6 = false;
  if (!parse_ip(host, &v6))
    return make_error("'" + std::string(spec) + "': expected an IP address, not a host name");
  return {};
}

Result<void> validate(const Config& c) {
  if (c.server.listen.empty()) return make_error("server.listen: needs at least one address");
  std::set<std::string> seen;
  for (size_t i = 0; i < c.zones.size(); ++i) {
    const auto& z = c.zones[i];
    if (!seen.insert(norm_zone(z.name)).second) {
      std::string where = z.where.empty() ? "" : z.where + ": ";
      return make_error(where + "zones[" + std::to_string(i) + "].name: zone '" + z.name +
                        "' is configured twice");
    }
  }
  return {};
}

Result<Config> parse(std::string_view text, const std::string& source,
                     const std::string& base_dir) {
  Walker w(source, base_dir);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    Config c = w.document(root);
    if (auto r = validate(c); !r) return r.error();
    return c;
  } catch (const ConfError& e) {
    return make_error(e.message);
  } catch (const YAML::Exception& e) {
    std::string where = source;
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
    return make_error(where + ": syntax error: " + e.msg);
  }
}

Result<Config> load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::filesystem::path p(path);
  std::string base = p.parent_path().string();
  if (base.empty()) base = ".";
  return parse(ss.str(), path, base);
}

}  // namespace ddns::conf
