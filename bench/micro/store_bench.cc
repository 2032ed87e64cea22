// Group commit in the SQLite store: durable appends of single-record
// changesets, one per transaction vs batched. Run:
//   ./store_bench --benchmark_filter=Append
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace {

using ddns::wire::Name;
using ddns::wire::RR;

RR soa(const Name& origin, uint32_t serial) {
  RR rr{origin, 6, 1, 3600, {}};
  for (int i = 0; i < 2; ++i) {
    auto n = Name::from_text("ns1.example.test.").value();
    rr.rdata.insert(rr.rdata.end(), n.wire().begin(), n.wire().end());
  }
  for (uint32_t v : {serial, 3600u, 600u, 86400u, 300u})
    for (int s = 24; s >= 0; s -= 8) rr.rdata.push_back(uint8_t(v >> s));
  return rr;
}

// state.range(0) changesets per append_changes() call, synchronous=FULL.
void BM_Append(benchmark::State& state) {
  const size_t batch = size_t(state.range(0));
  std::string dir = (std::filesystem::temp_directory_path() / "ddns-store-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    state.SkipWithError("mkdtemp");
    return;
  }
  auto s = ddns::store::SqliteStore::open(dir + "/ddns.db");
  if (!s) {
    state.SkipWithError(s.error().message.c_str());
    return;
  }
  const Name origin = Name::from_text("example.test.").value();
  std::vector<RR> base = {soa(origin, 1)};
  if (!(*s)->put_zone_snapshot(origin, 1, base)) {
    state.SkipWithError("put_zone_snapshot");
    return;
  }
  uint32_t serial = 1;
  std::vector<ddns::zone::ChangeSet> cs(batch);
  for (auto _ : state) {
    for (auto& c : cs) {
      c.origin = origin;
      c.serial_from = serial;
      c.serial_to = ++serial;
      c.added.assign(1, RR{Name::from_text("h" + std::to_string(serial) + ".example.test.").value(),
                           1, 1, 60, {192, 0, 2, uint8_t(serial)}});
    }
    if (!(*s)->append_changes(cs)) {
      state.SkipWithError("append_changes");
      break;
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(batch));
  s->reset();
  std::filesystem::remove_all(dir);
}
// Real time: the cost being measured is the wait for the sync, not CPU.
BENCHMARK(BM_Append)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
