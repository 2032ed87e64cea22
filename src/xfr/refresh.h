// The secondary's refresh engine, without I/O: SOA refresh/retry/expire
// timers (RFC 1034 §4.3.5, RFC 1035 §3.3.13), NOTIFY as "refresh now"
// (RFC 1996 §3.7-3.11), the SOA check, IXFR (RFC 1995) with AXFR fallback,
// primaries tried in order. The clock and the transport are parameters, so
// tests drive it with a fake clock and scripted transfers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "xfr/in.h"

namespace ddns::xfr {

using RefreshClock = std::chrono::steady_clock;

// How one refresh attempt (over all primaries) ended.
enum class Attempt : uint8_t {
  UpToDate,     // a primary's serial is not newer than ours (RFC 1982)
  Transferred,  // a newer copy is durable and published
  Failed,       // no primary gave a usable answer
};

// What the schedule says is due at a given time.
enum class Due : uint8_t {
  Nothing,        // wait until wake()
  Expire,         // RFC 1035 §3.3.13: EXPIRE passed without a refresh
  Refresh,        // the REFRESH (or RETRY) timer ran out
  NotifyRefresh,  // a NOTIFY asked for a refresh (RFC 1996 §3.7)
};

// The timers of one secondary zone: pure state, `now` passed in.
class RefreshSchedule {
 public:
  // Without a copy there are no SOA timers yet: retry this often.
  static constexpr std::chrono::seconds kNoDataRetry{5};

  // `timers`: of the copy served at start (nullopt: none yet).
  // `expire_left`: what is left of its EXPIRE, from the persisted time of
  // the last refresh (nullopt: the full EXPIRE from `now`). `expired`: the
  // copy is served as expired already. The first refresh is due at once.
  RefreshSchedule(std::optional<SoaTimers> timers, std::optional<std::chrono::milliseconds> expire_left,
                  bool expired, RefreshClock::time_point now);

  // A NOTIFY from a primary: refresh at the next due().
  void notified() { notified_ = true; }
  // What to do now; each event is reported once (Expire before a refresh
  // due at the same time).
  Due due(RefreshClock::time_point now);
  // When due() next has something (at once while a NOTIFY is pending).
  RefreshClock::time_point wake() const;
  // The result of the attempt due() asked for. `timers` are the copy's
  // after it (nullopt: still no copy). Returns true when an expired copy
  // is served again.
  bool attempted(Attempt a, std::optional<SoaTimers> timers, RefreshClock::time_point now);
  bool expired() const { return expired_; }

 private:
  RefreshClock::time_point next_refresh_;
  std::optional<RefreshClock::time_point> expire_at_;
  bool expired_ = false;
  bool notified_ = false;
};

// RFC 1912 §2.2 sanity bounds on the timers a primary hands us, so a zero
// or absurd value neither spins nor parks the zone for months.
std::chrono::seconds refresh_interval(const SoaTimers& t);
std::chrono::seconds retry_interval(const SoaTimers& t);
std::chrono::seconds expire_interval(const SoaTimers& t);

// What applying a transfer to the zone came to (the zone's writer decides).
enum class Applied : uint8_t {
  Ok,        // durable and published
  Diverged,  // IXFR differences that do not fit our copy: take an AXFR
  Failed,    // anything else (invalid zone, store failure)
};

// The I/O a refresh needs, per primary (index into the zone's list).
class RefreshTransport {
 public:
  virtual ~RefreshTransport() = default;
  virtual size_t primaries() const = 0;
  virtual std::string primary_text(size_t i) const = 0;
  // Our copy's apex SOA record (nullopt: no copy yet).
  virtual std::optional<wire::RR> our_soa() = 0;
  virtual Result<uint32_t> query_soa(size_t primary) = 0;
  // IXFR when `our_soa` is set, else AXFR.
  virtual Result<Transfer> transfer(size_t primary, const wire::RR* our_soa) = 0;
  // Through the zone's writer: durable, then published; `log` is logged
  // in between. `why` says why when not Ok.
  virtual Applied apply(Transfer&& t, std::string log, std::string* why) = 0;
  virtual bool cancelled() const = 0;
};

// One attempt: each primary in order until one answers. After a NOTIFY
// the SOA query is skipped: the IXFR's single-SOA answer (RFC 1995 §4)
// says the same and saves a round trip. An IXFR the primary refuses, or
// whose differences do not fit our copy, is retried as AXFR. A copy never
// steps back to an older or equal serial. Failures are logged per primary.
Attempt refresh_once(RefreshTransport& t, const std::string& zone, bool via_notify);

}  // namespace ddns::xfr
