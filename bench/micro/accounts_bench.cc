// Accounts on the DynDNS2 update path: history group commits the way
// dyndns::HistoryWriter makes them (state.range(0) rows per record() call,
// synchronous=FULL, round-robin over 1000 hosts) and host token checks.
// CPU time is the process's (user + system, fsync included). Run:
//   ./accounts_bench --benchmark_filter=Record
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "accounts/accounts.h"

namespace {

using ddns::accounts::Accounts;
using ddns::accounts::HistoryEntry;

constexpr int kHosts = 1000;

struct Fixture {
  std::string dir;
  std::unique_ptr<Accounts> acc;
  std::vector<std::string> tokens;
  bool ok = false;

  Fixture() {
    dir = (std::filesystem::temp_directory_path() / "ddns-accounts-bench-XXXXXX").string();
    if (!mkdtemp(dir.data())) return;
    auto a = Accounts::open(dir + "/accounts.sqlite");
    if (!a) return;
    acc = std::move(*a);
    if (!acc->add_user("bench", "bench-password-1").ok() || !acc->add_zone("bench.test").ok())
      return;
    for (int i = 0; i < kHosts; ++i) {
      auto h = acc->add_host("host" + std::to_string(i) + ".bench.test", "bench");
      if (!h) return;
      tokens.push_back(h->token);
    }
    ok = true;
  }
  ~Fixture() {
    acc.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

void BM_Record(benchmark::State& state) {
  Fixture f;
  if (!f.ok) return state.SkipWithError("setup");
  const size_t batch = size_t(state.range(0));
  std::vector<HistoryEntry> rows(batch);
  uint64_t n = 0;
  for (auto _ : state) {
    for (auto& e : rows) {
      e.time = int64_t(1700000000 + n / 1000);
      e.host = "host" + std::to_string(n % kHosts) + ".bench.test";
      e.type = "A";
      e.old_value = "198.18.0." + std::to_string(n % 250);
      e.new_value = "198.18.1." + std::to_string(n % 250);
      e.source = "127.0.0.1";
      e.via = "dyndns2";
      ++n;
    }
    if (!f.acc->record(rows)) return state.SkipWithError("record");
  }
  state.SetItemsProcessed(int64_t(n));
}
BENCHMARK(BM_Record)->Arg(1)->Arg(32)->Arg(128)->MeasureProcessCPUTime()->UseRealTime()
    ->MinTime(3.0);

void BM_CheckToken(benchmark::State& state) {
  Fixture f;
  if (!f.ok) return state.SkipWithError("setup");
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % kHosts;
    auto r = f.acc->check_token("host" + std::to_string(k) + ".bench.test", f.tokens[k]);
    if (!r || !*r) return state.SkipWithError("check_token");
  }
  state.SetItemsProcessed(int64_t(i));
}
BENCHMARK(BM_CheckToken);

}  // namespace

BENCHMARK_MAIN();
