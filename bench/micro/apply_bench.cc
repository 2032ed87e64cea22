// zone::apply() micro-benchmarks: the cost of publishing one small change
// (or a batch) as the next snapshot of a 100k- and a 1M-record zone, with
// the snapshot's memory and the garbage its arenas carry.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "zone/apply.h"

namespace {

using ddns::wire::Name;
using ddns::wire::RR;
using ddns::zone::ChangeSet;
using ddns::zone::Zone;

Name N(const std::string& s) { return *Name::from_text(s); }

ddns::wire::Bytes name_rd(const std::string& n) {
  Name name = N(n);
  auto w = name.wire();
  return {w.begin(), w.end()};
}

ddns::wire::Bytes soa_rd(uint32_t serial) {
  auto b = name_rd("ns1.example.test.");
  auto m = name_rd("hostmaster.example.test.");
  b.insert(b.end(), m.begin(), m.end());
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(serial >> s));
  for (uint8_t v : {0, 0, 28, 32, 0, 0, 14, 16, 0, 18, 117, 0, 0, 0, 1, 44}) b.push_back(v);
  return b;
}

ddns::wire::Bytes addr(uint32_t i) { return {10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}; }
std::string host(size_t i) { return "h" + std::to_string(i) + ".example.test."; }

// A zone of about `records` records: hosts with an A, an AAAA on every
// other one and a TXT on every 4th (like bench/micro/auth_bench).
struct Fixture {
  std::shared_ptr<const Zone> zone;
  size_t hosts = 0;
  uint32_t serial = 1;
  std::vector<uint32_t> a;  // current A address of each host
};

Fixture& fixture(size_t records) {
  static std::map<size_t, Fixture> cache;
  auto it = cache.find(records);
  if (it != cache.end()) return it->second;
  Fixture f;
  std::vector<RR> recs;
  recs.push_back({N("example.test."), 6, 1, 3600, soa_rd(1)});
  recs.push_back({N("example.test."), 2, 1, 3600, name_rd("ns1.example.test.")});
  recs.push_back({N("ns1.example.test."), 1, 1, 3600, {192, 0, 2, 53}});
  for (size_t i = 0; recs.size() < records; ++i) {
    Name n = N(host(i));
    recs.push_back({n, 1, 1, 300, addr(uint32_t(i))});
    f.a.push_back(uint32_t(i));
    if (i % 2 == 0) {
      recs.push_back({n, 28, 1, 300,
                      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, uint8_t(i >> 24), uint8_t(i >> 16),
                       uint8_t(i >> 8), uint8_t(i), 1}});
    }
    if (i % 4 == 0) recs.push_back({n, 16, 1, 300, {5, 'h', 'e', 'l', 'l', 'o'}});
    f.hosts = i + 1;
  }
  auto z = Zone::build(N("example.test."), std::move(recs));
  if (!z.ok()) {
    std::fprintf(stderr, "%s\n", z.error().message.c_str());
    std::abort();
  }
  f.zone = *z;
  return cache.emplace(records, std::move(f)).first->second;
}

// One DynDNS-style change: a host's A record replaced, SOA serial bumped.
ChangeSet change(Fixture& f, std::mt19937& rng, uint32_t next_addr) {
  ChangeSet cs;
  cs.origin = N("example.test.");
  cs.serial_from = f.serial;
  cs.serial_to = f.serial + 1;
  cs.removed.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial)});
  cs.added.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial + 1)});
  ++f.serial;
  const size_t h = rng() % f.hosts;
  cs.removed.push_back({N(host(h)), 1, 1, 300, addr(f.a[h])});
  f.a[h] = next_addr;
  cs.added.push_back({N(host(h)), 1, 1, 300, addr(next_addr)});
  return cs;
}

template <class Z>
size_t garbage_of(const Z& z) {
  if constexpr (requires { z.garbage_bytes(); }) {
    return z.garbage_bytes();
  } else {
    return 0;
  }
}

void report(benchmark::State& state, const Fixture& f) {
  state.counters["zone_MB"] = double(f.zone->memory_usage()) / 1e6;
  state.counters["garbage_MB"] = double(garbage_of(*f.zone)) / 1e6;
  state.counters["records"] = double(f.zone->record_count());
}

// Each iteration: `batch` changesets (each one host's A replaced and the
// SOA bumped) applied as one new snapshot of the previous one.
void BM_Apply(benchmark::State& state) {
  Fixture& f = fixture(size_t(state.range(0)));
  const size_t batch = size_t(state.range(1));
  std::mt19937 rng(42);
  uint32_t next = 0x0A800000;
  std::vector<ChangeSet> cs;
  for (auto _ : state) {
    state.PauseTiming();
    cs.clear();
    for (size_t i = 0; i < batch; ++i) cs.push_back(change(f, rng, next++));
    state.ResumeTiming();
    auto r = ddns::zone::apply(*f.zone, std::span<const ChangeSet>(cs));
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    f.zone = *r;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(batch));
  report(state, f);
}

// Each iteration adds a new name (a new node and table entry) and removes
// the one added before it.
void BM_ApplyNewName(benchmark::State& state) {
  Fixture& f = fixture(size_t(state.range(0)));
  size_t k = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ChangeSet cs;
    cs.origin = N("example.test.");
    cs.removed.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial)});
    cs.added.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial + 1)});
    ++f.serial;
    if (k) cs.removed.push_back({N("new" + std::to_string(k - 1) + ".dyn.example.test."), 1, 1, 60, addr(1)});
    cs.added.push_back({N("new" + std::to_string(k) + ".dyn.example.test."), 1, 1, 60, addr(1)});
    ++k;
    state.ResumeTiming();
    auto r = ddns::zone::apply(*f.zone, cs);
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    f.zone = *r;
  }
  // Leave the fixture as it was for the benchmarks after this one.
  ChangeSet cs;
  cs.origin = N("example.test.");
  cs.removed.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial)});
  cs.added.push_back({N("example.test."), 6, 1, 3600, soa_rd(f.serial + 1)});
  ++f.serial;
  if (k) cs.removed.push_back({N("new" + std::to_string(k - 1) + ".dyn.example.test."), 1, 1, 60, addr(1)});
  if (auto r = ddns::zone::apply(*f.zone, cs); r.ok()) f.zone = *r;
  report(state, f);
}

BENCHMARK(BM_Apply)->Args({100000, 1})->Args({100000, 100})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ApplyNewName)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Apply)->Args({1000000, 1})->Args({1000000, 100})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ApplyNewName)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
