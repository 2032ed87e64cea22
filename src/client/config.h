// ddns-client configuration: global settings and one entry per hostname,
// from a YAML file (see etc/ddns-client.yaml) or from command-line flags.
// Errors name the file, the line and the key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/address.h"

namespace ddns::client {

enum class Protocol : uint8_t { DynDns2, Rfc2136 };
std::string_view protocol_text(Protocol p);

// Where one family's address comes from. Spec strings (flags and YAML):
//   none | if:NAME (if:* / if: = any interface) | url:URL (or a bare
//   http(s):// URL) | cmd:COMMAND | addr:ADDRESS (a fixed address)
struct AddressSource {
  enum class Kind : uint8_t { None, Interface, Url, Command, Fixed };
  Kind kind = Kind::None;
  std::string value;               // interface, URL, command or address
  std::string pattern;             // Url/Command: "{ip}" pattern ("" = first address)
  bool allow_private = false;      // Interface/Url/Command: accept RFC 1918/ULA/CGNAT
  bool allow_temporary = false;    // Interface (IPv6): accept temporary addresses

  bool enabled() const { return kind != Kind::None; }
  std::string describe() const;    // for logs: "interface eth0", "url https://..."
  // A stable text of everything that decides the address (cache key part).
  std::string identity() const;
};
Result<AddressSource> parse_source(std::string_view spec);

struct HostConfig {
  std::string hostname;            // FQDN, no trailing dot
  Protocol protocol = Protocol::DynDns2;
  std::string server;              // DynDNS2: URL; RFC 2136: host[:port]
  std::string user, password;      // DynDNS2 (password may also be a host token)
  std::string tsig_key_file;       // RFC 2136: BIND key file
  std::string tsig_key_name;       // which key in the file ("" = the only/first one)
  std::string zone;                // RFC 2136: zone ("" = hostname minus its first label)
  uint32_t ttl = 60;               // RFC 2136 record TTL
  AddressSource ipv4, ipv6;
  int line = 0;                    // where it was configured (0 = flags)

  // The cache key: protocol, server and hostname.
  std::string key() const;
  // Hash of everything that, when changed, lifts a "stopped" state and
  // forces a fresh update: the key, credentials, TSIG key file content,
  // zone, TTL and address sources.
  std::string config_hash(std::string_view tsig_key_text = {}) const;
};

struct ClientConfig {
  std::string file;                 // where it came from ("" = flags)
  std::string cache_file;           // "" = no cache (every run updates)
  uint32_t interval_s = 300;        // daemon: seconds between checks
  uint32_t force_interval_s = 25 * 86400;  // resend unchanged addresses this often
  uint32_t timeout_s = 10;          // per request / checkip / command
  uint32_t retry_min_s = 60;        // first backoff after a temporary failure
  uint32_t retry_max_s = 3600;      // backoff cap
  std::string user_agent;           // "" = "ddns-client/VERSION"
  std::string ca_file;              // extra CA bundle for HTTPS
  std::vector<HostConfig> hosts;
};

// Parses YAML text; `file` is used in messages. Validates everything
// (hostnames, URLs, sources, patterns, numbers, required keys per
// protocol); unknown keys are errors (a typo must not silently do nothing).
Result<ClientConfig> parse_config(std::string_view text, std::string_view file = "<input>");
Result<ClientConfig> load_config(const std::string& path);

// Fills a host's defaults (DynDNS2: IPv4 from the server's /checkip when
// no source is given; RFC 2136: IPv4 from any interface; zone = hostname
// minus its first label) and checks it. Used for flag-built configs too.
Result<void> finish_host(HostConfig& h);

// Parses "300", "5m", "2h", "25d", "1w" to seconds.
Result<uint32_t> parse_duration(std::string_view text);

}  // namespace ddns::client
