// The pause policy against simulated loads: a worker whose batch costs
// 2 us + 0.5 us per query, fed by an open loop (queries at a fixed rate,
// whatever the answers) or a closed loop (k queries in flight, each sent
// again rtt after its answer).
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

struct ClosedLoop {
  uint64_t rtt_ns;
  std::deque<uint64_t> at;  // arrival times of queries in flight, in order
  ClosedLoop(size_t k, uint64_t rtt) : rtt_ns(rtt), at(k, 0) {}
  size_t take(uint64_t t, size_t max) {
    size_t n = 0;
    while (!at.empty() && at.front() <= t && n < max) {
      at.pop_front();
      ++n;
    }
    return n;
  }
  uint64_t next() const { return at.front(); }
  void answered(uint64_t t, size_t n) { at.insert(at.end(), n, t + rtt_ns); }
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

TEST(Coalescer, HeavyOpenLoadTakesLargerBatches) {
  OpenLoop off_load(150'000), on_load(150'000);
  Result off = run(0, off_load, kSecond), on = run(100, on_load, kSecond);
  EXPECT_LT(off.per_batch(), 1.5);
  EXPECT_GT(on.per_batch(), 4.0);
  EXPECT_GT(on.pauses, 5'000u);
  // An open loop loses nothing by the pauses: every query is still taken.
  EXPECT_NEAR(on.qps(), 150'000, 1'500);
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

TEST(Coalescer, FirstWindowAfterIdleDoesNotPause) {
  Coalescer c(100);
  uint64_t t = 5 * kSecond;
  // Idle for seconds, then a burst: the window that ends measures seconds.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(c.after_batch(2, t + uint64_t(i) * kUs));
}

}  // namespace
}  // namespace ddns::net
