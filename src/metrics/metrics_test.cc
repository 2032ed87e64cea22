// Tests of the metrics registry (shards, retirement, aggregation) and the
// Prometheus text renderer (families, escaping, histograms).
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

#include "metrics/exposition.h"

namespace ddns::metrics {
namespace {

// "www.example." IN A, standard query, id 0x1234.
std::vector<uint8_t> query_bytes(uint16_t qtype, uint8_t flags2 = 0x01) {
  std::vector<uint8_t> q = {0x12, 0x34, flags2, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                            3,    'w',  'w',    'w',  7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  q.push_back(uint8_t(qtype >> 8));
  q.push_back(uint8_t(qtype));
  q.push_back(0);
  q.push_back(1);
  return q;
}

Naming test_naming() {
  return {[](uint16_t t) { return t == 1 ? std::string("A") : "TYPE" + std::to_string(t); },
          [](uint8_t r) { return r == 0 ? std::string("NOERROR") : r == 3 ? std::string("NXDOMAIN") : "RCODE" + std::to_string(r); }};
}

// The value of the line starting with `series ` in `text`, or -1.
double value_of(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(QueryShard, CountsTransportTypeAndRcode) {
  QueryShard s;
  auto q = query_bytes(28);
  uint8_t resp[12] = {0x12, 0x34, 0x81, 0x83};  // NXDOMAIN
  s.count(Transport::Udp, q, resp, sizeof resp);
  s.count(Transport::Tcp, q, nullptr, 0);
  EXPECT_EQ(s.queries[0].get(), 1u);
  EXPECT_EQ(s.queries[1].get(), 1u);
  EXPECT_EQ(s.qtypes[28].get(), 2u);
  EXPECT_EQ(s.rcodes[3].get(), 1u);
  EXPECT_EQ(s.dropped[1].get(), 1u);
}

TEST(QueryShard, OddMessagesCountOnlyByTransport) {
  QueryShard s;
  s.count(Transport::Udp, std::vector<uint8_t>{1, 2, 3}, nullptr, 0);        // short
  s.count(Transport::Udp, query_bytes(1, 0x28), nullptr, 0);                // opcode UPDATE
  auto cut = query_bytes(1);
  cut.resize(cut.size() - 3);                                               // QTYPE cut
  s.count(Transport::Udp, cut, nullptr, 0);
  auto ptr = query_bytes(1);
  ptr[12] = 0xC0;                                                           // pointer in question
  s.count(Transport::Udp, ptr, nullptr, 0);
  auto big = query_bytes(65280);                                            // private type
  s.count(Transport::Udp, big, nullptr, 0);
  EXPECT_EQ(s.queries[0].get(), 5u);
  uint64_t typed = 0;
  for (const auto& c : s.qtypes) typed += c.get();
  EXPECT_EQ(typed, 1u);
  EXPECT_EQ(s.qtypes[256].get(), 1u);
}

TEST(Histogram, BucketsAreUpperInclusive) {
  EXPECT_EQ(bucket_of(0), 0u);
  EXPECT_EQ(bucket_of(10), 0u);
  EXPECT_EQ(bucket_of(11), 1u);
  EXPECT_EQ(bucket_of(1000000), kLatencyBoundsUs.size() - 1);
  EXPECT_EQ(bucket_of(1000001), kLatencyBoundsUs.size());
}

TEST(Registry, SumsLiveAndRetiredShards) {
  Registry r;
  auto q = query_bytes(1);
  uint8_t resp[4] = {0, 0, 0x81, 0x80};
  {
    auto a = r.query_shard();
    a->count(Transport::Udp, q, resp, 4);
    a->latency.observe(30, 4);
  }
  auto b = r.query_shard();
  std::thread t([&] {
    for (int i = 0; i < 1000; ++i) b->count(Transport::Udp, q, resp, 4);
  });
  t.join();
  auto tot = r.query_totals();
  EXPECT_EQ(tot.queries[0], 1001u);
  EXPECT_EQ(tot.qtypes[1], 1001u);
  EXPECT_EQ(tot.rcodes[0], 1001u);
  EXPECT_EQ(tot.latency.count, 4u);
  EXPECT_EQ(tot.latency.buckets[2], 4u);  // 30 us -> le 50 us
  b.reset();
  EXPECT_EQ(r.query_totals().queries[0], 1001u);  // never goes backwards
}

TEST(Registry, RendersFamiliesOnceWithTypes) {
  Registry r;
  auto s = r.query_shard();
  auto q = query_bytes(1);
  uint8_t resp[4] = {0, 0, 0x81, 0x83};
  s->count(Transport::Udp, q, resp, 4);
  s->latency.observe(200, 1);
  r.shared().update(Source::DynDNS2, true);
  r.shared().update(Source::Rfc2136, false);
  r.shared().http(200);
  r.shared().http(200);
  r.shared().http(999);
  r.shared().writer_batch_size.observe(3);
  r.add_collector([](Exposition& e) {
    e.family("ddns_zone_serial", "gauge", "SOA serial.");
    e.sample("ddns_zone_serial", {{"zone", "example."}}, uint64_t(7));
  });
  std::string text = r.render(test_naming());
  EXPECT_EQ(value_of(text, "ddns_dns_queries_total{transport=\"udp\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_dns_queries_by_type_total{type=\"A\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_dns_responses_total{rcode=\"NXDOMAIN\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_dns_responses_total{rcode=\"NOERROR\"}"), 0);
  EXPECT_EQ(value_of(text, "ddns_updates_total{source=\"dyndns2\",result=\"accepted\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_updates_total{source=\"rfc2136\",result=\"refused\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_http_requests_total{code=\"200\"}"), 2);
  EXPECT_EQ(value_of(text, "ddns_http_requests_total{code=\"other\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_zone_serial{zone=\"example.\"}"), 7);
  EXPECT_EQ(value_of(text, "ddns_dns_answer_latency_seconds_bucket{le=\"0.0001\"}"), 0);
  EXPECT_EQ(value_of(text, "ddns_dns_answer_latency_seconds_bucket{le=\"0.00025\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_dns_answer_latency_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_dns_answer_latency_seconds_count"), 1);
  EXPECT_DOUBLE_EQ(value_of(text, "ddns_dns_answer_latency_seconds_sum"), 0.0002);
  EXPECT_EQ(value_of(text, "ddns_writer_batch_size_bucket{le=\"2\"}"), 0);
  EXPECT_EQ(value_of(text, "ddns_writer_batch_size_bucket{le=\"4\"}"), 1);
  EXPECT_EQ(value_of(text, "ddns_writer_batch_size_sum"), 3);
  // Every family has HELP then TYPE, once; every counter ends in _total.
  std::istringstream in(text);
  std::vector<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), name), 0) << name;
    seen.push_back(name);
    if (line.ends_with(" counter")) {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Exposition, EscapesLabelsAndHelp) {
  Exposition e;
  e.family("x_total", "counter", "a\\b\nc \"q\"");
  e.sample("x_total", {{"l", "q\"u\\o\nte"}}, uint64_t(3));
  e.sample("y", {}, 0.5);
  EXPECT_EQ(e.text(),
            "# HELP x_total a\\\\b\\nc \"q\"\n# TYPE x_total counter\n"
            "x_total{l=\"q\\\"u\\\\o\\nte\"} 3\ny 0.5\n");
}

TEST(Registry, DhcpKeysMatchCaseAndDotInsensitively) {
  Registry r;
  EXPECT_FALSE(r.is_dhcp_key("kea-key."));
  r.set_dhcp_keys({"Kea-Key."});
  EXPECT_TRUE(r.is_dhcp_key("kea-key"));
  EXPECT_TRUE(r.is_dhcp_key("KEA-KEY."));
  EXPECT_FALSE(r.is_dhcp_key("other."));
}

}  // namespace
}  // namespace ddns::metrics
