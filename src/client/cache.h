// ddns-client's state file: per host (protocol|server|hostname), the
// addresses the server last accepted, when, and whether the client is
// stopped (server refused: badauth...) or backing off (911, network). A
// small line-oriented text file, replaced atomically (write + fsync +
// rename) so a crash never leaves half a cache.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddns::client {

struct CacheEntry {
  enum class State : uint8_t { Ok, Stopped, Retry };
  std::string config_hash;   // HostConfig::config_hash() when written
  std::string v4, v6;        // last accepted addresses ("" = none sent)
  int64_t updated = 0;       // unix time of the last good/nochg (0 = never)
  State state = State::Ok;
  std::string reason;        // Stopped/Retry: the server's code ("badauth", "911")
  int64_t retry_at = 0;      // Retry: not before this unix time
  uint32_t failures = 0;     // Retry: consecutive temporary failures
};
std::string_view state_text(CacheEntry::State s);

class Cache {
 public:
  // Parses the file's text; unreadable lines are skipped (a damaged cache
  // costs one extra update, never a crash or a stuck client).
  static Cache parse(std::string_view text);
  std::string serialize() const;

  // A missing file is an empty cache; other read errors fail.
  static Result<Cache> load(const std::string& path);
  Result<void> save(const std::string& path) const;

  CacheEntry* find(const std::string& key);
  CacheEntry& at(const std::string& key) { return entries_[key]; }
  const std::map<std::string, CacheEntry>& entries() const { return entries_; }

 private:
  std::map<std::string, CacheEntry> entries_;
};

}  // namespace ddns::client
