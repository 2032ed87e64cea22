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
  std::string data_dir = ".";           // resolved against the config directory
  std::string log_level = "info";       // trace debug info warn error critical off
};

struct Config {
  std::string source;  // the file name used in messages ("" for CLI-built configs)
  ServerConfig server;
  std::vector<std::string> keys;  // BIND key files (TSIG), resolved paths
  std::vector<ZoneConfig> zones;
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

// Log level names as accepted in server.log-level.
bool valid_log_level(std::string_view level);

// Checks cross-field rules (unique zone names, at least one listener) for a
// Config built by hand (e.g. from command-line flags).
Result<void> validate(const Config& c);

}  // namespace ddns::conf
