// Response rate limiting (RRL) of UDP answers against reflection and
// amplification, with the semantics of BIND's rate-limit {} and Knot's
// mod-rrl: a token bucket per (client network, answer class) in a fixed
// table shared by every UDP worker, lock-free.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ddns::net {

// A client network, "ADDR" or "ADDR/LEN" (IPv4 or IPv6).
struct Prefix {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};
  uint8_t len = 0;

  static Result<Prefix> parse(std::string_view text);
  bool contains(const sockaddr* sa) const;
  std::string to_text() const;
};

struct RrlSettings {
  // Answers per second per (client network, answer class); 0 = RRL off.
  // Off by default, as in BIND (no rate-limit {} clause) and Knot (no rrl
  // module): a limit only makes sense once the operator knows the load.
  uint32_t responses_per_second = 0;
  // Every Nth limited answer is sent truncated (TC=1, no records) instead of
  // dropped, so a real client behind a spoofed address retries over TCP;
  // 0 = drop all, 1 = truncate all. BIND's default.
  uint32_t slip = 2;
  // A client over its rate owes up to this many seconds of credit, so one
  // that keeps flooding stays limited until it pauses (BIND's window).
  uint32_t window_s = 15;
  uint8_t ipv4_prefix = 24;  // client networks (BIND's defaults)
  uint8_t ipv6_prefix = 56;
  std::vector<Prefix> exempt;  // never limited (BIND's exempt-clients)
  bool log_only = false;       // account and log, but send every answer

  static constexpr uint32_t kMaxRate = 10000;
  static constexpr uint32_t kMaxSlip = 10;
  static constexpr uint32_t kMaxWindow = 3600;
};

// Read by the metrics endpoint; incremented by the UDP workers.
struct RrlStats {
  std::atomic<uint64_t> dropped{0};      // limited answers not sent
  std::atomic<uint64_t> slipped{0};      // limited answers sent truncated (TC=1)
  std::atomic<uint64_t> would_limit{0};  // log-only: answers that would have been limited
};

// One table shared by every UDP worker rather than one per worker with
// rate/N each: SO_REUSEPORT spreads a client's queries over the workers by
// source port, which a spoofing attacker picks at random, so each worker
// would see an unpredictable share of one network's answers and a split
// rate would be too strict on one worker and too loose on another. An
// entry is one 64-bit word changed by compare-and-swap, so workers take no
// lock and never see half an update; they contend only when answering the
// same (network, class) at the same moment, i.e. in the flood itself,
// where a lost race costs one more try. Nothing is allocated per answer.
class Rrl {
 public:
  enum class Verdict : uint8_t { Send, Drop, Slip };

  // `entries` bounds the table (rounded up to a power of two, at least
  // 1024); its memory is untouched until used. `seed` keys the hash (0 =
  // random), so a client cannot aim its keys at a victim's slot.
  explicit Rrl(size_t entries = 262144, uint64_t seed = 0);
  ~Rrl();
  Rrl(const Rrl&) = delete;
  Rrl& operator=(const Rrl&) = delete;

  // Takes effect for the next answer; safe while workers call filter().
  // Buckets keep their state (a lower rate applies to debts already owed).
  void configure(RrlSettings s);
  bool enabled() const { return cur_.load(std::memory_order_acquire)->responses_per_second != 0; }

  // The front end's hook, called with each UDP answer about to be sent to
  // `client`: returns the length to send, resp[0..len) rewritten to a
  // truncated answer on a slip, or 0 to send nothing. Answers that are not
  // to a standard QUERY (NOTIFY, UPDATE) pass untouched. `now_s`: seconds on
  // a monotonic clock; the front end passes its batch's receive time, so
  // RRL reads no clock per answer.
  size_t filter(const sockaddr_storage& client, uint8_t* resp, size_t len, uint32_t now_s) {
    const RrlSettings* s = cur_.load(std::memory_order_acquire);
    if (s->responses_per_second == 0) return len;  // the cost of RRL off: this branch
    return limit(*s, client, resp, len, now_s);
  }

  const RrlStats& stats() const { return stats_; }

 private:
  size_t limit(const RrlSettings& s, const sockaddr_storage& client, uint8_t* resp, size_t len,
               uint32_t now_s);
  Verdict account(const RrlSettings& s, uint64_t key, uint32_t now_s, bool* started);
  void log_start(const RrlSettings& s, const sockaddr_storage& client, uint8_t cls, uint32_t now_s);

  uint64_t* table_;  // buckets of packed entries (rrl.cc), read and written through atomic_ref
  size_t bucket_mask_;
  uint64_t seed_;
  std::atomic<const RrlSettings*> cur_;
  // Every settings object ever installed stays alive until destruction, so a
  // worker never reads a freed one and needs no reference count; a reload
  // adds a few hundred bytes at most.
  std::mutex settings_mu_;
  std::vector<std::unique_ptr<const RrlSettings>> history_;
  std::atomic<uint32_t> log_second_{0}, log_lines_{0};
  RrlStats stats_;
};

}  // namespace ddns::net
