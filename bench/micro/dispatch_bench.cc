// The dispatcher's cost on the hot path: an unsigned UDP QUERY through
// dispatch::Dispatcher against the answer engine called directly (what the
// server did before the dispatcher), same zone, same queries.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

#include "dispatch/dispatch.h"

namespace {

using ddns::wire::Name;

Name N(const std::string& s) { return *Name::from_text(s); }

const ddns::zone::ZoneSet& zones() {
  static auto set = [] {
    std::vector<ddns::wire::RR> recs;
    ddns::wire::Bytes soa;
    for (const char* n : {"ns1.example.test.", "h.example.test."}) {
      Name name = N(n);
      for (uint8_t b : name.wire()) soa.push_back(b);
    }
    for (uint32_t v : {1u, 3600u, 600u, 86400u, 300u})
      for (int s = 24; s >= 0; s -= 8) soa.push_back(uint8_t(v >> s));
    recs.push_back({N("example.test."), 6, 1, 3600, soa});
    for (uint32_t i = 0; i < 100000; ++i)
      recs.push_back({N("h" + std::to_string(i) + ".example.test."), 1, 1, 300,
                      {10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}});
    auto z = ddns::zone::Zone::build(N("example.test."), std::move(recs));
    if (!z.ok()) std::abort();
    return std::make_shared<const ddns::zone::ZoneSet>()->with(*z);
  }();
  return *set;
}

const std::vector<ddns::wire::Bytes>& queries() {
  static auto qs = [] {
    std::mt19937 rng(42);
    std::vector<ddns::wire::Bytes> v;
    for (size_t i = 0; i < 4096; ++i) {
      ddns::wire::Bytes q = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 1};
      Name name = N("h" + std::to_string(rng() % 100000) + ".example.test.");
      for (uint8_t b : name.wire()) q.push_back(b);
      for (uint8_t b : {0, 1, 0, 1, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0}) q.push_back(uint8_t(b));
      v.push_back(std::move(q));
    }
    return v;
  }();
  return qs;
}

void BM_AuthAnswerDirect(benchmark::State& state) {
  const auto& zs = zones();
  const auto& qs = queries();
  ddns::auth::Options opt;
  uint8_t out[1232];
  size_t i = 0;
  uint32_t rot = 0;
  for (auto _ : state) {
    auto a = ddns::auth::answer_or_divert(zs, opt, qs[i++ & 4095], ddns::auth::Transport::Udp,
                                          out, sizeof out, rot++);
    benchmark::DoNotOptimize(a.size);
  }
}

void BM_Dispatcher(benchmark::State& state) {
  const auto& zs = zones();
  const auto& qs = queries();
  ddns::dispatch::Context ctx;
  ddns::dispatch::Dispatcher d(ctx, 0);
  uint8_t out[1232];
  size_t i = 0;
  for (auto _ : state) {
    ddns::dispatch::Received rx{qs[i++ & 4095], ddns::net::Transport::Udp, nullptr, 0};
    auto o = d.dispatch(zs, rx, out, sizeof out);
    benchmark::DoNotOptimize(std::get_if<ddns::dispatch::Answer>(&o));
  }
}

BENCHMARK(BM_AuthAnswerDirect);
BENCHMARK(BM_Dispatcher);

}  // namespace

BENCHMARK_MAIN();
