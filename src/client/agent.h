// The ddns-client decision loop: for each configured host, detect the
// addresses, compare with the cache, and update only when something
// changed (or the forced refresh is due), obeying what the server said
// last time (stop on badauth & co until the config changes, back off on
// 911/dnserr/network errors). Address detection and the update transport
// are interfaces, and the clock a parameter, so every rule is unit-tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/address.h"
#include "client/cache.h"
#include "client/config.h"
#include "client/dyndns2.h"

namespace ddns::client {

// Exit codes of ddns-client (documented in --help and etc/ddns-client.yaml).
inline constexpr int kExitOk = 0;          // every host is up to date (updated or unchanged)
inline constexpr int kExitConfig = 1;      // bad flags/config/key file/cache file
inline constexpr int kExitStopped = 2;     // a server refused (badauth, nohost, abuse...): fix config
inline constexpr int kExitRetry = 3;       // temporary failure (911, dnserr, 5xx, network), backing off
inline constexpr int kExitNoAddress = 4;   // an address could not be detected

class Detector {
 public:
  virtual ~Detector() = default;
  // The current address of `family` from `src`, or why there is none.
  virtual Result<IpAddr> detect(const AddressSource& src, Family family) = 0;
};

class Updater {
 public:
  virtual ~Updater() = default;
  // Sends one update for `host` with the given addresses (at least one).
  virtual UpdateResult update(const HostConfig& host, const std::optional<IpAddr>& v4,
                              const std::optional<IpAddr>& v6) = 0;
};

// The real ones: libcurl, getifaddrs, /bin/sh; DynDNS2 and RFC 2136.
std::unique_ptr<Detector> make_system_detector(const ClientConfig& cfg);
// Loads TSIG keys up front; fails (config error) when a key file is bad.
Result<std::unique_ptr<Updater>> make_network_updater(const ClientConfig& cfg);

struct RunReport {
  int updated = 0, unchanged = 0, stopped = 0, retrying = 0, no_address = 0;
  bool cache_error = false;
  int64_t next_due = 0;  // earliest unix time a host needs attention again
  int exit_code() const;
};

// Unix seconds of a wall-clock time, rounded down / up.
int64_t unix_floor(std::chrono::system_clock::time_point t);
int64_t unix_ceil(std::chrono::system_clock::time_point t);

class Agent {
 public:
  // The wall clock, finer than seconds: a backoff is kept in whole seconds
  // and rounded up from the precise time, so it never ends early.
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // `cache` is loaded from cfg.cache_file by the caller (empty when none).
  Agent(ClientConfig cfg, Cache cache, Detector& detector, Updater& updater, Clock clock);

  RunReport run_once();
  const Cache& cache() const { return cache_; }
  const ClientConfig& config() const { return cfg_; }

 private:
  void run_host(const HostConfig& h, RunReport& rep, std::map<std::string, Result<IpAddr>>& seen);
  Result<IpAddr> detect(const AddressSource& src, Family f, std::map<std::string, Result<IpAddr>>& seen);
  void save(RunReport& rep);

  ClientConfig cfg_;
  Cache cache_;
  Detector& detector_;
  Updater& updater_;
  Clock clock_;
  std::map<std::string, std::string> hashes_;  // host key -> config hash
};

}  // namespace ddns::client
