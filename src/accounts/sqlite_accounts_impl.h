// SqliteAccounts' state and row helpers, shared by its .cc files (users and
// zones; hosts, removals and history; sessions and API tokens). Internal to
// the SQLite backend.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "accounts/credentials.h"
#include "accounts/sqlite_accounts.h"
#include "sqlite/db.h"

namespace ddns::accounts {

constexpr size_t kMaxLabel = 200;
constexpr size_t kMaxCache = 65536;    // remembered passwords / hosts, all users
constexpr size_t kReaders = 4;
constexpr int kBusyTimeoutMs = 10000;

inline int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error bad_user_name(std::string_view s);
// A User from columns at, at+1.. (id, name, admin, created).
User user_from(const sqlite::Stmt& q, int at = 0);

// The columns host_from reads, in order; a query appends WHERE/ORDER BY.
#define HOST_SELECT                                                                          \
  "SELECT h.id, h.name, h.zone, h.owner, u.name, h.created, h.updated, h.last_ipv4, "        \
  "h.last_ipv6 FROM hosts h JOIN users u ON u.id = h.owner "
Host host_from(const sqlite::Stmt& q);

// The id of user `name` (normalized); "no such user 'shown'" when absent.
Result<int64_t> user_id(sqlite::Db& c, const std::string& name, std::string_view shown);

// The deepest DDNS zone that is a proper suffix of `name` ("" = none).
Result<std::string> deepest_zone(sqlite::Db& c, std::string_view name);

// Inside a write transaction: moves the database generation on, so every
// process's host cache (Impl::hosts) drops what it holds. Every change of a
// host's token or zone, or removal of a host, must call it in its
// transaction.
Result<void> bump_generation(sqlite::Db& c);

struct SqliteAccounts::Impl {
  std::string path;
  Limits limits;
  std::function<int64_t()> now = system_now;

  // Writes go through one connection; reads through a few others, which in
  // WAL mode never wait for the writer's fsync (check_token stays fast
  // while record() commits).
  std::mutex wmu;
  sqlite::Db writer;
  struct Reader {
    std::mutex mu;
    sqlite::Db conn;
  };
  std::array<Reader, kReaders> readers;

  // Verified passwords. Key: name '\0' SHA-256(secret name '\0' pw); the
  // per-process random secret keeps a memory dump from being a cheap
  // password oracle. Value: the stored hash that matched, so a password
  // changed by another process (ddnsctl) stops matching at once.
  struct Cached {
    std::string pwhash;
    int64_t expires = 0;
  };
  std::mutex cmu;
  std::unordered_map<std::string, Cached> cache;
  std::array<uint8_t, 32> cache_secret{};

  // Argon2id takes 19 MiB and ~20 ms per call: bound how many run at once.
  std::counting_semaphore<256> argon_slots{
      std::ptrdiff_t(std::clamp(std::thread::hardware_concurrency(), 2u, 256u))};
  std::once_flag dummy_once;
  std::string dummy_hash;  // verified against for unknown users (same timing)

  // Host tokens and zones, so an update's credentials cost no table read.
  // Valid while the database generation (PRAGMA user_version, bumped by
  // every transaction that changes a host's token or zone or removes a
  // host: see bump_generation) is unchanged. The generation is read again
  // only when PRAGMA data_version says another connection (this process's
  // writer, ddnsctl) committed, so a rotation or deletion by any process
  // takes effect for the next check. Entries are never older than the
  // generation they are filed under; missing hosts are not cached.
  struct HostAuth {
    std::string token_sha256;
    std::string zone;
  };
  std::mutex hmu;  // guards watch, hosts, host_gen, host_dv
  sqlite::Db watch;
  int64_t host_gen = -1;  // -1: not read yet
  int64_t host_dv = 0;
  std::unordered_map<std::string, HostAuth> hosts;
  std::atomic<uint64_t> host_hits{0}, host_misses{0};

  uint64_t recorded = 0;  // history rows appended, paces pruning (under wmu)
  std::atomic<uint64_t> argon2_verifies{0};
  std::atomic<uint64_t> cache_hits{0};

  struct ReadLease {
    std::unique_lock<std::mutex> lock;
    sqlite::Db* conn;
  };
  ReadLease read() {
    for (auto& r : readers) {
      std::unique_lock l(r.mu, std::try_to_lock);
      if (l.owns_lock()) return {std::move(l), &r.conn};
    }
    size_t i = std::hash<std::thread::id>{}(std::this_thread::get_id()) % kReaders;
    return {std::unique_lock(readers[i].mu), &readers[i].conn};
  }

  // Under hmu: drops the host cache when the generation moved.
  Result<void> sync_hosts();
  // Under hmu, after sync_hosts(): the cached entry of `name` (a normalized
  // host name), read from the database on a miss when `fill`; null when
  // there is no such host, or not cached and !fill.
  Result<const HostAuth*> host_auth(const std::string& name, bool fill);
  // The password cache's key for (name, pw); "" when hashing fails (then
  // nothing is cached).
  std::string cache_key(const std::string& name, const std::string& pw);
  void forget_user(const std::string& name);

  Result<std::string> argon_hash(std::string_view pw) {
    argon_slots.acquire();
    auto r = hash_password(pw);
    argon_slots.release();
    return r;
  }
  // True when `encoded` is the hash of `pw`; an error when it is unusable.
  Result<bool> argon_verify(const std::string& encoded, const std::string& pw) {
    argon2_verifies.fetch_add(1, std::memory_order_relaxed);
    argon_slots.acquire();
    auto r = verify_password(encoded, pw);
    argon_slots.release();
    return r;
  }
};

}  // namespace ddns::accounts
