// DynDNS2 accounts: users (Argon2id passwords), hostnames owned by users in
// zones opened for DDNS, per-host update tokens, web sessions and update
// history, behind the Accounts interface so that backends (SQLite today, a
// shared PostgreSQL later) are interchangeable. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wire/name.h"

namespace ddns::accounts {

struct User {
  int64_t id = 0;
  std::string name;
  bool admin = false;
  int64_t created = 0;  // unix seconds
};

struct Host {
  int64_t id = 0;
  std::string name;     // FQDN, lowercase, no trailing dot: "home.example.test"
  std::string zone;     // the DDNS zone it lives in, same form
  int64_t owner = 0;    // User::id
  std::string owner_name;
  int64_t created = 0;
  int64_t updated = 0;  // last successful update (0 = never)
  std::string last_ipv4, last_ipv6;  // as last set through DynDNS2/REST ("" = none)
};

struct HistoryEntry {
  int64_t time = 0;        // unix seconds
  std::string host;        // FQDN as in Host::name
  std::string type;        // "A", "AAAA", "TXT", "offline"
  std::string old_value;   // "" = none
  std::string new_value;   // "" = deleted
  std::string source;      // client address that asked
  std::string via;         // "dyndns2", "api", "web", "ddnsctl"
};

// DNS records still to remove for a deleted host (see pending_removals).
struct Removal {
  int64_t id = 0;
  std::string host;  // FQDN as in Host::name
  std::string zone;  // the DDNS zone the host was in
  int64_t queued = 0;  // unix seconds of the deletion
};

struct Limits {
  uint32_t password_cache_s = 300;  // a verified (user, password) is remembered this long
  uint32_t history_per_host = 1000;  // older entries of a host are dropped by record()
};

// A long-lived API token as listed (the token itself is never stored).
struct ApiToken {
  int64_t id = 0;
  std::string label;
  int64_t created = 0;
};

// Every method validates its input (bad names are errors, never crashes),
// is atomic (one transaction that rolls back on any error) and checks
// against the database, so changes made by another process (ddnsctl beside
// ddnsd) hold at the next call.
class Accounts {
 public:
  // The factory: opens (creating tables if needed) the accounts database at
  // `path` with the SQLite backend (SqliteAccounts).
  static Result<std::unique_ptr<Accounts>> open(const std::string& path, Limits limits = {});
  // DATA_DIR/accounts.sqlite
  static std::string default_path(const std::string& data_dir);
  virtual ~Accounts() = default;

  // ---- users ----
  // Names: 1-64 chars of [a-z0-9._@-] (ASCII upper case is folded to
  // lower case by every method). Passwords: 8 to 1024 bytes.
  virtual Result<User> add_user(const std::string& name, const std::string& password,
                                bool admin = false) = 0;
  // Also deletes the user's hosts (each queued for DNS removal, as delete_host).
  virtual Result<void> delete_user(const std::string& name) = 0;
  virtual Result<void> set_password(const std::string& name, const std::string& password) = 0;
  virtual Result<std::optional<User>> get_user(const std::string& name) = 0;
  virtual Result<std::vector<User>> list_users() = 0;
  // The user when `password` is theirs (Argon2id; a recent success is
  // remembered for Limits::password_cache_s), nullopt when not.
  virtual Result<std::optional<User>> check_password(const std::string& name,
                                                     const std::string& password) = 0;

  // ---- zones opened for DDNS ----
  // Idempotent (ddnsd adds its configured DDNS zones at every start).
  // Hosts below a newly added deeper zone move into it.
  virtual Result<void> add_zone(const std::string& zone) = 0;
  // Fails while hosts remain in the zone (unless a parent DDNS zone can
  // take them over) and when the zone is not open for DDNS.
  virtual Result<void> delete_zone(const std::string& zone) = 0;
  virtual Result<std::vector<std::string>> list_zones() = 0;

  // ---- hosts ----
  // The host must lie strictly inside a DDNS zone (the deepest one is
  // used) and not exist yet. Returns the host and its new update token
  // (the only time the token is shown; stored as SHA-256).
  struct NewHost {
    Host host;
    std::string token;
  };
  virtual Result<NewHost> add_host(const std::string& fqdn, const std::string& owner) = 0;
  // Deletes the host's row and history and, in the same transaction,
  // queues the removal of its DNS records (pending_removals): whichever
  // process deletes it, ddnsd is the one that edits the zone.
  virtual Result<void> delete_host(const std::string& fqdn) = 0;
  virtual Result<std::optional<Host>> get_host(const std::string& fqdn) = 0;
  // Every host (owner empty) or the hosts of one user.
  virtual Result<std::vector<Host>> list_hosts(const std::string& owner = "") = 0;
  // A new token for the host; the old one stops working at once.
  virtual Result<std::string> rotate_token(const std::string& fqdn) = 0;
  // True when `token` is the host's update token (constant-time compare).
  // Hosts' token hashes and zones are cached in memory, checked against the
  // database generation (changed by rotate_token, delete_host, delete_user
  // and zone moves in any process) at every call: no table read in the
  // steady state, and a change made by ddnsctl holds for the next call.
  virtual Result<bool> check_token(const std::string& fqdn, const std::string& token) = 0;
  // As check_token, from the cache only (no table read, only the
  // generation check: cheap enough for an I/O thread): nullopt when the
  // host is not cached or the generation cannot be read; the caller then
  // asks check_token.
  virtual std::optional<bool> check_token_cached(const std::string& fqdn,
                                                 const std::string& token) = 0;
  // The DDNS zone of a host (nullopt: no such host), from the same cache.
  virtual Result<std::optional<std::string>> host_zone(const std::string& fqdn) = 0;
  // Records the addresses last set (for listings; the zone is the truth).
  virtual Result<void> set_addresses(const std::string& fqdn, const std::string& ipv4,
                                     const std::string& ipv6, int64_t when) = 0;

  // ---- DNS removals of deleted hosts ----
  // Oldest first. ddnsd removes each host's A/AAAA/TXT RRsets (and the TXT
  // of its _acme-challenge name) and then calls finish_removal.
  virtual Result<std::vector<Removal>> pending_removals() = 0;
  virtual Result<void> finish_removal(int64_t id) = 0;  // unknown ids are no error

  // ---- history ----
  // Appends entries in one transaction, durable (synchronous=FULL) before
  // returning; also updates Host::updated/last_ipv4/last_ipv6 for A/AAAA.
  virtual Result<void> record(std::span<const HistoryEntry> entries) = 0;
  // Newest first.
  virtual Result<std::vector<HistoryEntry>> history(const std::string& fqdn,
                                                    size_t limit = 100) = 0;

  // ---- web sessions and API tokens ----
  // An opaque random session id for a user (cookie value), valid ttl seconds.
  virtual Result<std::string> create_session(int64_t user_id, int64_t ttl_s = 86400) = 0;
  virtual Result<std::optional<User>> check_session(const std::string& session) = 0;
  virtual Result<void> delete_session(const std::string& session) = 0;
  // Ends every session of the user except `keep` (a cookie value; "" ends
  // all), as after a password change; returns how many were ended.
  virtual Result<size_t> end_sessions(int64_t user_id, const std::string& keep = "") = 0;
  // A long-lived API token for scripts (Authorization: Bearer); shown once.
  virtual Result<std::string> create_api_token(int64_t user_id, const std::string& label) = 0;
  virtual Result<std::optional<User>> check_api_token(const std::string& token) = 0;
  virtual Result<std::vector<ApiToken>> list_api_tokens(int64_t user_id) = 0;
  // Revokes one of the user's API tokens (error when it is not theirs).
  virtual Result<void> delete_api_token(int64_t user_id, int64_t token_id) = 0;

  // Tests: the clock (unix seconds) used for created/expiry/cache times.
  virtual void set_clock(std::function<int64_t()> now) = 0;
  // Counters since open (for metrics and tests).
  struct Stats {
    uint64_t argon2_verifies = 0;      // full password checks run
    uint64_t password_cache_hits = 0;  // checks answered from the cache
    uint64_t host_cache_hits = 0;      // check_token/host_zone answered from memory
    uint64_t host_cache_misses = 0;    // ... that read the host from the database
  };
  virtual Stats stats() const = 0;
};

// Lowercased user name when valid (1-64 of [a-z0-9._@-], ASCII upper case
// folded), else empty.
std::string normalize_user(std::string_view name);

// Lowercases and strips one trailing dot; empty when `fqdn` is not a valid
// host name (LDH labels, RFC 1123 §2.1, '_' allowed for _acme-challenge).
std::string normalize_host(std::string_view fqdn);

}  // namespace ddns::accounts
