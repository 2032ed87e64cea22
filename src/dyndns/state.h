// Private state of dyndns::Service shared by service.cc and nic.cc: the
// history group-committer, a small pool for blocking work (Argon2, SQLite
// lookups) kept off the HTTP I/O threads, and the abuse counters.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "accounts/accounts.h"
#include "dyndns/service.h"

namespace ddns::dyndns {

// Runs blocking jobs on a few threads so HTTP I/O threads never wait on
// Argon2 or a database lock. Bounded: post() fails when the queue is full.
class WorkPool {
 public:
  WorkPool(unsigned threads, size_t max_queue);
  ~WorkPool();  // finishes queued jobs, joins
  bool post(std::function<void()> job);

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  size_t max_queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Group commit of update history: entries queue up while the previous
// batch is being made durable, then go to Accounts::record() together
// (one transaction, one fsync); each waiter is called after its rows are
// durable, with true on success.
class HistoryWriter {
 public:
  explicit HistoryWriter(accounts::Accounts* accounts);
  ~HistoryWriter();  // drains the queue, joins
  void add(std::vector<accounts::HistoryEntry> entries, std::function<void(bool ok)> done);

  struct Stats {
    uint64_t batches = 0, entries = 0, failures = 0;
  };
  Stats stats();

 private:
  void run();
  accounts::Accounts* accounts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<accounts::HistoryEntry> entries_;
  std::vector<std::function<void(bool)>> waiters_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

// Sliding-window counters with a block list, keyed by host or address.
// Thread-safe; memory bounded by pruning expired keys.
class AbuseTable {
 public:
  // True while `key` is blocked at `now`.
  bool blocked(const std::string& key, int64_t now);
  // Counts one event; when more than `limit` fall within `window_s`, the key
  // is blocked until now + block_s. Returns true when this event blocked it.
  bool hit(const std::string& key, int64_t now, uint32_t limit, uint32_t window_s, uint32_t block_s);
  void clear(const std::string& key);

 private:
  struct Entry {
    std::deque<int64_t> events;
    int64_t blocked_until = 0;
  };
  void prune(int64_t now);
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  uint64_t ops_ = 0;
  int64_t horizon_ = 3600;  // longest window/block seen, for pruning
};

struct Service::State {
  explicit State(accounts::Accounts* accounts) : history(accounts) {}
  HistoryWriter history;
  WorkPool pool{4, 50000};
  AbuseTable nochg;   // per host
  AbuseTable logins;  // per source address
};

}  // namespace ddns::dyndns
