// ddnsd configuration: the YAML file (or command-line equivalents) turned
// into validated structs. Every error names the file, line and key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ddns::conf {

struct ZoneConfig {
  std::string name;   // origin as written ("example.test" or "example.test.")
  std::string file;   // master file, resolved against the config directory
  std::string where;  // "ddnsd.yaml:12" for later messages about this zone
  // RFC 2136 update rules (update::Policy text, one rule each); empty =
  // every UPDATE is REFUSED. Parsed and checked by the server at start.
  std::vector<std::string> update_policy{};
  std::string serial_policy = "increment";  // increment | unixtime | dateserial
  // Replication (RFC 5936 / RFC 1995 / RFC 1996). Who may transfer the zone:
  // "ADDR", "ADDR/LEN" (v4 or v6) or "key NAME" (a TSIG key from keys:);
  // empty = nobody (REFUSED).
  std::vector<std::string> allow_transfer{};
  // Secondaries to NOTIFY after every change: "ADDR:PORT" / "[V6]:PORT".
  std::vector<std::string> notify{};
  // Also NOTIFY the zone's NS hosts (RFC 1996 §3.3), at the A/AAAA addresses
  // our own zones hold for them, on this port; the SOA MNAME host and our
  // own listeners are left out.
  bool notify_ns = false;
  uint16_t notify_ns_port = 53;
  // Non-empty = this server is a secondary for the zone: primaries tried in
  // order, each "ADDR:PORT" or "ADDR:PORT@KEYNAME" (TSIG for SOA/IXFR/AXFR
  // and accepted on NOTIFY). `file` is then optional (the store keeps the
  // last good copy).
  std::vector<std::string> primaries{};
  // Opened for DynDNS2 hostnames (issue 5): users may own names inside it.
  bool ddns = false;
  // Dynamic zones: rewrite `file` from the served copy this many seconds
  // after a change (and at shutdown), loadable by BIND and Knot. 0 = never.
  uint32_t write_back_s = 0;
  // Load the file as `ddnsd --check-zone --strict` does: any warning
  // (out-of-zone data, a delegation NS without address, ...) refuses it.
  bool strict = false;
};

// The DynDNS2 / REST / web HTTP service (empty listen = off).
struct HttpConfig {
  std::vector<std::string> listen{};     // "127.0.0.1:8080", "[::1]:8080"
  std::string tls_cert;                  // PEM files; both set = HTTPS on every listener
  std::string tls_key;
  // Peers whose X-Forwarded-For / Forwarded headers are believed
  // ("ADDR" or "ADDR/LEN"); others' are ignored.
  std::vector<std::string> trusted_proxies{};
  unsigned threads = 0;                  // I/O threads; 0 = min(2, cores)
  uint32_t nochg_abuse_count = 5;        // nochg answers for one host within...
  uint32_t nochg_abuse_window_s = 300;   // ...this window make it abusive
  uint32_t abuse_block_s = 3600;         // an abusive host/account is blocked this long
  uint32_t login_fail_limit = 10;        // failed logins per source address within...
  uint32_t login_fail_window_s = 300;    // ...this window block that address for abuse_block_s
  uint32_t password_cache_s = 300;       // a verified password is remembered this long
  std::string web_root;                  // "" = the web page built into ddnsd
};

// /metrics (Prometheus text) and the dashboard's counters.
struct MetricsConfig {
  bool enable = true;
  // Clients in these networks read /metrics without credentials; others
  // need an admin (session, API token or Basic credentials).
  std::vector<std::string> allow{"127.0.0.0/8", "::1"};
  // Extra listeners serving only /metrics ("127.0.0.1:9153"); empty = only
  // the http: listeners.
  std::vector<std::string> listen{};
  // TSIG keys whose RFC 2136 updates count as source "dhcp".
  std::vector<std::string> dhcp_keys{};
};

struct ServerConfig {
  std::vector<std::string> listen = {"127.0.0.1:53", "[::1]:53"};  // host:port, [v6]:port
  unsigned threads = 0;                 // UDP workers; 0 = one per core
  unsigned tcp_threads = 0;             // TCP event loops; 0 = min(2, threads)
  std::string identity;                 // id.server text; "" = host name
  std::string version = "ddns";         // version.bind text
  bool chaos = true;                    // answer CH TXT version.bind/id.server
  bool round_robin = true;
  uint16_t max_udp_size = 1232;         // RFC 6891 §6.2.5; cap on the client's size
  uint32_t tcp_idle_timeout_ms = 10000; // RFC 7766 §6.2.3
  uint32_t tcp_max_clients = 1000;
  uint32_t udp_coalesce_us = 100;       // pause of a loaded UDP worker; 0 = never
  std::string data_dir = ".";           // resolved against the config directory
  std::string log_level = "info";       // trace debug info warn error critical off
  // Journal kept per zone (IXFR history): older entries are folded into the
  // base snapshot. 0 = no limit of that kind.
  uint32_t journal_max_entries = 10000;
  uint32_t journal_max_age_s = 0;
};

// Response rate limiting of UDP answers (the `rrl:` section), with the
// semantics of BIND's rate-limit {} and Knot's mod-rrl (net/rrl.h). Off
// unless responses-per-second is set, as in both.
struct RrlConfig {
  uint32_t responses_per_second = 0;  // per client network and answer class; 0 = off
  uint32_t slip = 2;                  // every Nth limited answer sent truncated; 0 = none
  uint32_t window_s = 15;             // seconds of debt a flooding client owes
  uint32_t ipv4_prefix_length = 24;
  uint32_t ipv6_prefix_length = 56;
  std::vector<std::string> exempt_clients{};  // "ADDR" / "ADDR/LEN": never limited
  bool log_only = false;                      // log and count, limit nothing
  uint32_t table_size = 250000;               // entries (client network x class); restart to change

  static constexpr uint32_t kMaxRate = 10000;  // same bounds as net::RrlSettings
  static constexpr uint32_t kMaxSlip = 10;
  static constexpr uint32_t kMaxWindow = 3600;
};

struct Config {
  std::string source;  // the file name used in messages ("" for CLI-built configs)
  ServerConfig server;
  std::vector<std::string> keys;  // BIND key files (TSIG), resolved paths
  std::vector<ZoneConfig> zones;
  HttpConfig http;
  RrlConfig rrl;
  MetricsConfig metrics;
};

// Reads and validates `path`. Relative paths in the file are resolved
// against the file's directory. Errors read "ddnsd.yaml:7: server.threads:
// must be a number between 1 and 64". Unknown keys are errors.
Result<Config> load_file(const std::string& path);

// Same, from text; `source` names it in messages, `base_dir` resolves paths.
Result<Config> parse(std::string_view text, const std::string& source,
                     const std::string& base_dir);

// Checks a "host:port" / "[v6]:port" listen address syntactically.
Result<void> check_listen(std::string_view spec);

// "ADDR" or "ADDR/LEN" (IPv4 or IPv6).
Result<void> check_prefix(std::string_view spec);
// An allow-transfer entry: "ADDR", "ADDR/LEN" or "key NAME".
Result<void> check_acl_entry(std::string_view spec);
// A notify target / primary: "ADDR:PORT", "[V6]:PORT", optional "@KEYNAME".
Result<void> check_remote(std::string_view spec);

// server.udp-coalesce: "0", "100us", "2ms" -> microseconds, at most 10 ms.
Result<uint32_t> parse_coalesce(std::string_view spec);

// Log level names as accepted in server.log-level.
bool valid_log_level(std::string_view level);

// Checks cross-field rules (unique zone names, at least one listener) for a
// Config built by hand (e.g. from command-line flags).
Result<void> validate(const Config& c);

}  // namespace ddns::conf
