// Micro-benchmarks of the query hot path in the message codec: the query
// fast path, full parse, and building a compressed response.
#include <benchmark/benchmark.h>

#include <string_view>
#include <vector>

#include "wire/message.h"

using namespace ddns::wire;

namespace {

Bytes from_hex(std::string_view h) {
  Bytes b;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(uint8_t(nib(h[i]) << 4 | nib(h[i + 1])));
  return b;
}

// `dig www.Example.TEST AAAA` (EDNS + cookie), and NSD's answer to
// example.test MX (2 MX, 2 NS, 4 glue, OPT).
const Bytes kQuery = from_hex(
    "395b0120000100000000000103777777074578616d706c65045445535400001c000100002904d000000000000c00"
    "0a0008b11094ce1cddc7c2");
const Bytes kResponse = from_hex(
    "123485000001000200020005076578616d706c65047465737400000f0001c00c000f000100000e100009000a046d"
    "61696cc00cc00c000f000100000e10000a0014056d61696c32c00cc00c0002000100000e100006036e7331c00cc0"
    "0c0002000100000e100006036e7332c00cc02c0001000100000e100004c000020ac0550001000100000e100004c0"
    "000201c0670001000100000e100004c0000202c041001c000100000e10001020010db80000000000000000000000"
    "1000002904d0000080000000");

void BM_ParseQuery(benchmark::State& state) {
  QueryView q;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parse_query(kQuery, q));
    benchmark::DoNotOptimize(q.qtype);
  }
}
BENCHMARK(BM_ParseQuery);

void BM_ParseFullQuery(benchmark::State& state) {
  for (auto _ : state) {
    auto m = parse(kQuery);
    benchmark::DoNotOptimize(m.ok());
  }
}
BENCHMARK(BM_ParseFullQuery);

void BM_ParseFullResponse(benchmark::State& state) {
  for (auto _ : state) {
    auto m = parse(kResponse);
    benchmark::DoNotOptimize(m.ok());
  }
}
BENCHMARK(BM_ParseFullResponse);

// What the server does per answer: build the MX response with compression
// from RRsets held as uncompressed rdata.
void BM_BuildResponse(benchmark::State& state) {
  auto m = parse(kResponse);
  const Message& msg = *m;
  const std::vector<Bytes> mx = {msg.answer[0].rdata, msg.answer[1].rdata};
  const std::vector<Bytes> ns = {msg.authority[0].rdata, msg.authority[1].rdata};
  uint8_t buf[1232];
  Edns e;
  size_t rotate = 0;
  for (auto _ : state) {
    MessageBuilder b(buf, sizeof buf);
    b.set_header(msg.header);
    b.set_edns(e);
    b.add_question(msg.question[0]);
    b.add_rrset(MessageBuilder::Section::Answer, msg.answer[0].owner, 15, 1, 3600, mx, rotate++);
    b.add_rrset(MessageBuilder::Section::Authority, msg.authority[0].owner, 2, 1, 3600, ns);
    for (const auto& rr : msg.additional) {
      b.add_rrset(MessageBuilder::Section::Additional, rr.owner, rr.type, 1, 3600,
                  std::span<const Bytes>(&rr.rdata, 1));
    }
    benchmark::DoNotOptimize(b.finish());
  }
}
BENCHMARK(BM_BuildResponse);

void BM_RenderMessage(benchmark::State& state) {
  auto m = parse(kResponse);
  for (auto _ : state) {
    auto w = render(*m, 1232);
    benchmark::DoNotOptimize(w.ok());
  }
}
BENCHMARK(BM_RenderMessage);

}  // namespace

BENCHMARK_MAIN();
