// net::Rrl::filter() micro-benchmarks: ns per UDP answer with RRL off (the
// one branch the query path pays), on and passing (many clients and names:
// classify, hash, one compare-and-swap), on and limiting, and two threads
// contending for one bucket.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstring>
#include <string>
#include <vector>

#include "net/rrl.h"

namespace {

using ddns::net::Rrl;
using ddns::net::RrlSettings;

// "h<i>.example.test A" answered with one A record (answer owner compressed).
std::vector<uint8_t> answer(int i) {
  std::vector<uint8_t> m = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0};
  std::string h = "h" + std::to_string(i);
  m.push_back(uint8_t(h.size()));
  m.insert(m.end(), h.begin(), h.end());
  for (const char* l : {"example", "test"}) {
    m.push_back(uint8_t(std::strlen(l)));
    m.insert(m.end(), l, l + std::strlen(l));
  }
  m.insert(m.end(), {0, 0, 1, 0, 1, 0xC0, 12, 0, 1, 0, 1, 0, 0, 14, 16, 0, 4, 192, 0, 2, 1});
  return m;
}

sockaddr_storage client(uint32_t i) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x0A000000u | (i & 0xFFFFFF));
  return ss;
}

void run(benchmark::State& st, Rrl& rrl, size_t names, uint32_t clients) {
  std::vector<std::vector<uint8_t>> resp;
  for (size_t i = 0; i < names; ++i) resp.push_back(answer(int(i)));
  std::vector<sockaddr_storage> cl;
  for (uint32_t i = 0; i < clients; ++i) cl.push_back(client(i * 256 + 1));  // one per /24
  uint8_t buf[512];
  size_t k = 0;
  uint32_t now_s = 0;
  for (auto _ : st) {
    // The front end reads the clock once per receive batch (up to 64 answers).
    if (k % 64 == 0) {
      timespec ts{};
      ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
      now_s = uint32_t(ts.tv_sec);
    }
    const auto& r = resp[k % names];
    std::memcpy(buf, r.data(), r.size());
    benchmark::DoNotOptimize(rrl.filter(cl[k % clients], buf, r.size(), now_s));
    ++k;
  }
}

void BM_RrlOff(benchmark::State& st) {
  Rrl rrl(262144, 1);
  run(st, rrl, 1000, 4096);
}
BENCHMARK(BM_RrlOff);

void BM_RrlOnPassing(benchmark::State& st) {
  static Rrl rrl(262144, 1);
  RrlSettings s;
  s.responses_per_second = 10000;
  rrl.configure(s);
  run(st, rrl, 1000, 61);  // 61k keys: a busy server's working set
}
BENCHMARK(BM_RrlOnPassing)->Threads(1)->Threads(2);

void BM_RrlOnLimiting(benchmark::State& st) {
  static Rrl rrl(262144, 1);
  RrlSettings s;
  s.responses_per_second = 1;
  rrl.configure(s);
  run(st, rrl, 1, 1);
}
BENCHMARK(BM_RrlOnLimiting)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
