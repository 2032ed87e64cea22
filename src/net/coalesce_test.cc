// The pause policy against simulated loads: a worker whose batch costs
// 2 us + 0.5 us per query, fed by an open loop (queries at a fixed rate,
// whatever the answers), a closed loop (k queries in flight, each sent
// again rtt after its answer) or a busy client (one limited by its own CPU,
// as dnsperf on its own core).
#include "net/coalesce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

namespace ddns::net {
namespace {

constexpr uint64_t kUs = 1000;

struct Result {
  uint64_t queries = 0, batches = 0, pauses = 0, elapsed_ns = 0;
  double qps() const { return double(queries) * 1e9 / double(elapsed_ns); }
  double per_batch() const { return double(queries) / double(batches); }
};

// load.take(t, max) hands over the queries that arrived by t, load.next()
// is when the next one arrives, load.answered(t, n) says n answers left at
// t (a closed loop sends again).
template <typename Load>
Result run(uint32_t pause_us, Load& load, uint64_t duration_ns) {
  Coalescer c(pause_us);
  Result r;
  uint64_t t = 1'000'000'000;  // not 0: the policy's first window starts at 0
  const uint64_t end = t + duration_ns;
  const uint64_t start = t;
  while (t < end) {
    size_t n = load.take(t, 64);
    if (n == 0) {  // blocked in recvmmsg until the next query
      t = std::max(t, load.next());
      continue;
    }
    t += 2 * kUs + n * kUs / 2;
    load.answered(t, n);
    r.queries += n;
    ++r.batches;
    if (c.after_batch(n, t)) {
      ++r.pauses;
      t += uint64_t(pause_us) * kUs;
    }
  }
  r.elapsed_ns = t - start;
  return r;
}

struct OpenLoop {
  uint64_t gap_ns, next_at = 0;
  explicit OpenLoop(uint64_t qps) : gap_ns(1'000'000'000 / qps) {}
  size_t take(uint64_t t, size_t max) {
    if (next_at == 0) next_at = t;
    size_t n = 0;
    while (next_at <= t && n < max) {
      next_at += gap_ns;
      ++n;
    }
    return n;
  }
  uint64_t next() const { return next_at; }
  void answered(uint64_t, size_t) {}
};

// Queries in flight, by the time each reaches the worker (in order).
struct InFlight {
  std::deque<uint64_t> at;
  explicit InFlight(size_t k) : at(k, 0) {}
  size_t take(uint64_t t, size_t max) {
    size_t n = 0;
    while (!at.empty() && at.front() <= t && n < max) {
      at.pop_front();
      ++n;
    }
    return n;
  }
  uint64_t next() const { return at.front(); }
};

struct ClosedLoop : InFlight {
  uint64_t rtt_ns;
  ClosedLoop(size_t k, uint64_t rtt) : InFlight(k), rtt_ns(rtt) {}
  void answered(uint64_t t, size_t n) { at.insert(at.end(), n, t + rtt_ns); }
};

// A client limited by its own CPU, as dnsperf with its receiving thread:
// each burst of answers wakes it (wake_ns), each answer read and the query
// sent in its place cost per_ns, one after another. It keeps k in flight.
struct BusyClient : InFlight {
  uint64_t wake_ns, per_ns, free_at = 0;
  BusyClient(size_t k, uint64_t wake, uint64_t per) : InFlight(k), wake_ns(wake), per_ns(per) {}
  void answered(uint64_t t, size_t n) {
    uint64_t start = std::max(t, free_at) + wake_ns;
    for (size_t i = 1; i <= n; ++i) at.push_back(start + i * per_ns);
    free_at = start + n * per_ns;
  }
};

constexpr uint64_t kSecond = 1'000'000'000;

TEST(Coalescer, OffNeverPauses) {
  OpenLoop load(150'000);
  EXPECT_EQ(run(0, load, kSecond).pauses, 0u);
}

TEST(Coalescer, LightLoadNeverPauses) {
  for (uint64_t qps : {100, 1'000, 10'000, 30'000}) {
    OpenLoop load(qps);
    EXPECT_EQ(run(100, load, kSecond).pauses, 0u) << qps << " qps";
  }
}

// An open load gains nothing from a pause but the wait: after a trial the
// worker holds off, longer after each failed trial, so over 100 s under 1%
// of the time is spent paused, and every query is still taken.
TEST(Coalescer, OpenLoadIsNotPaused) {
  for (uint64_t qps : {50'000, 150'000}) {
    OpenLoop load(qps);
    Result r = run(100, load, 100 * kSecond);
    EXPECT_LT(r.pauses * 100 * kUs, r.elapsed_ns / 100) << qps << " qps";
    EXPECT_GT(r.pauses, 0u) << qps << " qps: never tried";
    EXPECT_NEAR(r.qps(), double(qps), double(qps) / 100) << qps << " qps";
  }
}

// A client busy on its own CPU spends less per answer when the answers come
// in bursts: pausing pays, and goes on.
TEST(Coalescer, BusyClientGetsLargerBatchesAndMoreRate) {
  BusyClient off_load(100, 8 * kUs, 5 * kUs), on_load(100, 8 * kUs, 5 * kUs);
  Result off = run(0, off_load, 10 * kSecond), on = run(100, on_load, 10 * kSecond);
  EXPECT_LT(off.per_batch(), 1.5);
  EXPECT_GT(on.per_batch(), 4.0);
  EXPECT_GT(on.qps(), 1.3 * off.qps()) << off.qps() << " qps without pauses";
  // Pausing goes on: 10 s of 10 ms windows, 30 of each 32 paused.
  EXPECT_GT(on.pauses, 10'000u);
}

// A closed loop gains nothing from a pause and loses time to it: the policy
// notices and keeps the clients' rate within 10% of what it is without.
TEST(Coalescer, ClosedLoopsAreNotHeldBack) {
  for (size_t k : {1, 2, 4, 6, 12}) {
    ClosedLoop off_load(k, 10 * kUs), on_load(k, 10 * kUs);
    Result off = run(0, off_load, kSecond), on = run(100, on_load, kSecond);
    EXPECT_GT(on.qps(), 0.9 * off.qps()) << k << " in flight, " << on.pauses << " pauses";
  }
}

// Batches of 5 at `qps` for `windows` rate windows from t (the pauses are
// not simulated, only counted): how many pauses the worker asked for.
uint64_t feed(Coalescer& c, uint64_t& t, uint64_t qps, unsigned windows) {
  const uint64_t gap = 5 * kSecond / qps, end = t + windows * Coalescer::kWindowNs;
  uint64_t pauses = 0;
  for (; t < end; t += gap) pauses += c.after_batch(5, t);
  return pauses;
}

// One trial that gained can be luck (a stall moved queries into the paused
// window); pausing starts only after kTrialPasses gains in a row.
TEST(Coalescer, OneLuckyTrialIsNotEnough) {
  static_assert(Coalescer::kFreeWindows == 2 && Coalescer::kTrialWindows == 1 &&
                Coalescer::kTrialPasses == 2);
  for (bool second_gains : {false, true}) {
    Coalescer c(100);
    uint64_t t = kSecond;
    feed(c, t, 100'000, 2);  // 2 free (the first batch ends the window from 0)
    EXPECT_GT(feed(c, t, 120'000, 1), 0u) << "trial 1";
    EXPECT_EQ(feed(c, t, 100'000, 2), 0u) << "free";
    EXPECT_GT(feed(c, t, second_gains ? 120'000 : 100'000, 1), 0u) << "trial 2";
    // 120k QPS in batches of 5: 240 pauses a window while pausing.
    uint64_t later = feed(c, t, 120'000, 100);
    if (second_gains)
      EXPECT_GT(later, 2'000u) << "pausing paid twice: it goes on (for the next epoch at least)";
    else
      EXPECT_EQ(later, 0u) << "second trial failed: held off";
  }
}

TEST(Coalescer, FirstWindowAfterIdleDoesNotPause) {
  Coalescer c(100);
  uint64_t t = 5 * kSecond;
  // Idle for seconds, then a burst: the window that ends measures seconds.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(c.after_batch(2, t + uint64_t(i) * kUs));
}

}  // namespace
}  // namespace ddns::net
