// What /metrics costs a query: QueryShard::count() on a typical query and
// response (the per-message work of a UDP worker), and the per-batch latency
// observation with its two clock reads. Compare with the ~4-6 us of CPU a
// query costs end to end (docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>

#include <time.h>

#include <vector>

#include "metrics/metrics.h"

namespace {

using ddns::metrics::QueryShard;
using ddns::metrics::Transport;

std::vector<uint8_t> query(const char* const* labels, uint16_t qtype) {
  std::vector<uint8_t> q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1};
  for (; *labels; ++labels) {
    q.push_back(uint8_t(std::char_traits<char>::length(*labels)));
    for (const char* c = *labels; *c; ++c) q.push_back(uint8_t(*c));
  }
  q.insert(q.end(), {0, uint8_t(qtype >> 8), uint8_t(qtype), 0, 1});
  q.insert(q.end(), {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0});  // EDNS OPT
  return q;
}

void BM_CountQuery(benchmark::State& state) {
  static const char* const kLabels[] = {"host12345", "bench", "test", nullptr};
  auto q = query(kLabels, 1);
  uint8_t resp[64] = {0x12, 0x34, 0x84, 0x00};
  QueryShard shard;
  for (auto _ : state) {
    shard.count(Transport::Udp, q, resp, sizeof resp);
    benchmark::DoNotOptimize(shard);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_CountQuery);

// Per batch: two CLOCK_MONOTONIC reads (vDSO) and one histogram update.
void BM_BatchLatency(benchmark::State& state) {
  QueryShard shard;
  for (auto _ : state) {
    timespec a{}, b{};
    ::clock_gettime(CLOCK_MONOTONIC, &a);
    ::clock_gettime(CLOCK_MONOTONIC, &b);
    uint64_t us = uint64_t((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
    shard.latency.observe(us, 16);
    benchmark::DoNotOptimize(shard);
  }
}
BENCHMARK(BM_BatchLatency);

}  // namespace

BENCHMARK_MAIN();
