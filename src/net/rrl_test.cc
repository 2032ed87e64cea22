// Response rate limiting on a fake clock: rates, window, slip, client
// prefixes, answer classes, exempt clients, log-only, malformed answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net/rrl.h"

namespace ddns::net {
namespace {

sockaddr_storage addr(const char* text) {
  sockaddr_storage ss{};
  if (std::strchr(text, ':')) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, text, &a->sin_addr), 1);
  }
  return ss;
}

void put_name(std::vector<uint8_t>& m, const std::string& dotted) {
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    m.push_back(uint8_t(dot - start));
    m.insert(m.end(), dotted.begin() + long(start), dotted.begin() + long(dot));
    start = dot + 1;
  }
  m.push_back(0);
}

void put16(std::vector<uint8_t>& m, uint16_t v) {
  m.push_back(uint8_t(v >> 8));
  m.push_back(uint8_t(v));
}

enum class Kind { Answer, Nxdomain, Nodata, Refused };

// A response as the answer engine shapes it: question, then an A record
// (Answer) or the zone's SOA in the authority section (NXDOMAIN, NODATA),
// its owner compressed against the question where it is a suffix.
std::vector<uint8_t> response(const std::string& qname, uint16_t qtype, Kind kind,
                              const std::string& zone = "example.test") {
  std::vector<uint8_t> m = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  m[3] = kind == Kind::Nxdomain ? 3 : kind == Kind::Refused ? 5 : 0;
  m[7] = kind == Kind::Answer ? 1 : 0;
  m[9] = kind == Kind::Nxdomain || kind == Kind::Nodata ? 1 : 0;
  put_name(m, qname);
  put16(m, qtype);
  put16(m, 1);
  if (kind == Kind::Answer) {
    put16(m, 0xC00C);
    put16(m, qtype);
    put16(m, 1);
    m.insert(m.end(), {0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
  } else if (kind != Kind::Refused) {
    size_t at = qname.size() >= zone.size() ? qname.size() - zone.size() : std::string::npos;
    if (at != std::string::npos && qname.compare(at, zone.size(), zone) == 0) {
      put16(m, uint16_t(0xC000 | (12 + at)));  // the zone's labels inside the question
    } else {
      put_name(m, zone);
    }
    put16(m, 6);
    put16(m, 1);
    m.insert(m.end(), {0, 0, 0, 60, 0, 22});
    m.insert(m.end(), {0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
  }
  return m;
}

RrlSettings settings(uint32_t rate, uint32_t slip = 0, uint32_t window = 15) {
  RrlSettings s;
  s.responses_per_second = rate;
  s.slip = slip;
  s.window_s = window;
  return s;
}

// Counts what `n` copies of `resp` sent to `client` at time `t` come to.
struct Tally {
  int sent = 0, slipped = 0, dropped = 0;
};
Tally send(Rrl& rrl, const char* client, const std::vector<uint8_t>& resp, int n, uint32_t t) {
  Tally r;
  const auto a = addr(client);
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> buf = resp;
    size_t len = rrl.filter(a, buf.data(), buf.size(), t);
    if (len == 0) {
      r.dropped++;
    } else if (len == resp.size() && buf == resp) {
      r.sent++;
    } else {
      r.slipped++;
    }
  }
  return r;
}

const auto kWww = response("www.example.test", 1, Kind::Answer);

TEST(Rrl, OffByDefaultPassesEverything) {
  Rrl rrl(1024, 1);
  EXPECT_FALSE(rrl.enabled());
  auto t = send(rrl, "192.0.2.1", kWww, 1000, 100);
  EXPECT_EQ(t.sent, 1000);
  EXPECT_EQ(rrl.stats().dropped.load(), 0u);
}

TEST(Rrl, AtMostTheRatePerSecondAndTheRestDropped) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(5));
  EXPECT_TRUE(rrl.enabled());
  for (uint32_t t = 100; t < 110; ++t) EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 5, t).sent, 5) << t;
  auto flood = send(rrl, "192.0.2.1", kWww, 50, 110);
  EXPECT_EQ(flood.sent, 5);
  EXPECT_EQ(flood.dropped, 45);
  EXPECT_EQ(rrl.stats().dropped.load(), 45u);
}

TEST(Rrl, FreshClientGetsOneSecondsWorthThenLimited) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(5));
  auto t = send(rrl, "192.0.2.1", kWww, 20, 100);
  EXPECT_EQ(t.sent, 5);
  EXPECT_EQ(t.dropped, 15);
}

TEST(Rrl, WindowBoundsTheDebt) {
  // 1000 over in one second: the debt is capped at window * rate, so the
  // client is answered again window + 1 seconds later (not 200 s later).
  Rrl rrl(1024, 1);
  rrl.configure(settings(5, 0, 2));
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 1005, 100).sent, 5);
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 1, 102).sent, 0);  // -10 + 2*5 - 1 < 0
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 5, 104).sent, 5);

  Rrl longer(1024, 1);
  longer.configure(settings(5, 0, 15));
  EXPECT_EQ(send(longer, "192.0.2.1", kWww, 1005, 100).sent, 5);
  EXPECT_EQ(send(longer, "192.0.2.1", kWww, 1, 104).sent, 0);  // still owes 55
  EXPECT_EQ(send(longer, "192.0.2.1", kWww, 1, 116).sent, 1);
}

TEST(Rrl, SustainedFloodGetsNothingButQuietClientRecovers) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(10, 0, 3));
  int sent = 0;
  for (uint32_t t = 100; t < 130; ++t) sent += send(rrl, "192.0.2.1", kWww, 30, t).sent;
  EXPECT_EQ(sent, 10);  // BIND: over the window's average, every answer is limited
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 10, 134).sent, 10);
}

TEST(Rrl, SlipSendsEveryNthLimitedAnswerTruncated) {
  for (uint32_t slip : {0u, 1u, 2u, 3u}) {
    Rrl rrl(1024, 1);
    rrl.configure(settings(2, slip));
    auto t = send(rrl, "192.0.2.1", kWww, 2 + 12, 100);
    EXPECT_EQ(t.sent, 2) << slip;
    EXPECT_EQ(t.slipped, slip ? 12 / int(slip) : 0) << slip;
    EXPECT_EQ(t.dropped + t.slipped, 12) << slip;
    EXPECT_EQ(rrl.stats().slipped.load(), uint64_t(t.slipped));
    EXPECT_EQ(rrl.stats().dropped.load(), uint64_t(t.dropped));
  }
}

TEST(Rrl, SlippedAnswerIsHeaderAndQuestionWithTc) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(1, 1));
  auto nx = response("nope.example.test", 1, Kind::Nxdomain);
  send(rrl, "192.0.2.1", nx, 1, 100);
  std::vector<uint8_t> buf = nx;
  size_t len = rrl.filter(addr("192.0.2.1"), buf.data(), buf.size(), 100);
  const size_t question_end = 12 + 19 + 4;
  ASSERT_EQ(len, question_end);
  EXPECT_EQ(buf[0], 0x12);               // same id
  EXPECT_EQ(buf[2], 0x84 | 0x02);        // QR, AA kept; TC set
  EXPECT_EQ(buf[3] & 0xF, 3);            // rcode kept
  for (size_t i = 6; i < 12; ++i) EXPECT_EQ(buf[i], 0) << i;  // no records
  EXPECT_TRUE(std::equal(buf.begin() + 12, buf.begin() + long(len), nx.begin() + 12));
}

TEST(Rrl, ClientsShareTheirNetworksBucket) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(4));
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 3, 100).sent, 3);
  EXPECT_EQ(send(rrl, "192.0.2.200", kWww, 3, 100).sent, 1);  // same /24
  EXPECT_EQ(send(rrl, "192.0.3.1", kWww, 3, 100).sent, 3);    // another /24

  RrlSettings s = settings(4);
  s.ipv4_prefix = 32;
  Rrl per_host(1024, 1);
  per_host.configure(s);
  EXPECT_EQ(send(per_host, "192.0.2.1", kWww, 4, 100).sent, 4);
  EXPECT_EQ(send(per_host, "192.0.2.2", kWww, 4, 100).sent, 4);
}

TEST(Rrl, Ipv6ClientsShareA56) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(4));
  EXPECT_EQ(send(rrl, "2001:db8:0:1::1", kWww, 3, 100).sent, 3);
  EXPECT_EQ(send(rrl, "2001:db8:0:ff:1::9", kWww, 3, 100).sent, 1);  // same /56
  EXPECT_EQ(send(rrl, "2001:db8:0:100::1", kWww, 3, 100).sent, 3);   // next /56
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 3, 100).sent, 3);           // not a v6 network
}

TEST(Rrl, PositiveAnswersAreKeyedByNameAndTypeCaseFolded) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(2));
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 3, 100).sent, 2);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("WwW.Example.TEST", 1, Kind::Answer), 1, 100).sent, 0);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("www.example.test", 28, Kind::Answer), 2, 100).sent, 2);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("mail.example.test", 1, Kind::Answer), 2, 100).sent, 2);
}

TEST(Rrl, NxdomainAndNodataAreKeyedByZone) {
  // Random names under one zone (a water-torture or reflection attack
  // spreading its names) still share one bucket per zone.
  Rrl rrl(1024, 1);
  rrl.configure(settings(3));
  int sent = 0;
  for (int i = 0; i < 10; ++i)
    sent += send(rrl, "192.0.2.1", response("r" + std::to_string(i) + ".example.test", 1, Kind::Nxdomain), 1, 100).sent;
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("x.other.test", 1, Kind::Nxdomain, "other.test"), 3, 100).sent, 3);
  // NODATA is its own class: not charged to the NXDOMAIN bucket.
  EXPECT_EQ(send(rrl, "192.0.2.1", response("www.example.test", 16, Kind::Nodata), 3, 100).sent, 3);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("ftp.example.test", 99, Kind::Nodata), 1, 100).sent, 0);
}

TEST(Rrl, ErrorsAreKeyedByNetwork) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(2));
  EXPECT_EQ(send(rrl, "192.0.2.1", response("a.example.net", 1, Kind::Refused), 1, 100).sent, 1);
  EXPECT_EQ(send(rrl, "192.0.2.1", response("b.example.org", 1, Kind::Refused), 2, 100).sent, 1);
}

TEST(Rrl, ExemptClientsAreNeverLimited) {
  RrlSettings s = settings(1);
  s.exempt.push_back(*Prefix::parse("192.0.2.0/25"));
  s.exempt.push_back(*Prefix::parse("2001:db8::1"));
  Rrl rrl(1024, 1);
  rrl.configure(s);
  EXPECT_EQ(send(rrl, "192.0.2.100", kWww, 50, 100).sent, 50);
  EXPECT_EQ(send(rrl, "2001:db8::1", kWww, 50, 100).sent, 50);
  EXPECT_EQ(send(rrl, "192.0.2.200", kWww, 50, 100).sent, 1);
  EXPECT_EQ(send(rrl, "2001:db8::2", kWww, 50, 100).sent, 1);
}

TEST(Rrl, LogOnlyCountsButSendsEverything) {
  RrlSettings s = settings(5, 2);
  s.log_only = true;
  Rrl rrl(1024, 1);
  rrl.configure(s);
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 20, 100).sent, 20);
  EXPECT_EQ(rrl.stats().would_limit.load(), 15u);
  EXPECT_EQ(rrl.stats().dropped.load() + rrl.stats().slipped.load(), 0u);
}

TEST(Rrl, ReconfigureChangesTheRateAndTurnsOff) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(2));
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 5, 100).sent, 2);
  rrl.configure(settings(100));
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 150, 101).sent, 100 - 3);  // the old debt of 3 is still owed
  rrl.configure(settings(0));
  EXPECT_FALSE(rrl.enabled());
  std::vector<uint8_t> buf = kWww;
  EXPECT_EQ(rrl.filter(addr("192.0.2.1"), buf.data(), buf.size(), 102), buf.size());
}

TEST(Rrl, OtherOpcodesAndJunkPass) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(1, 0));
  auto notify = kWww;
  notify[2] = 0x80 | 4 << 3;  // NOTIFY answer
  EXPECT_EQ(send(rrl, "192.0.2.1", notify, 10, 100).sent, 10);
  // Truncated and garbled answers never crash; they count as errors.
  for (size_t cut = 0; cut < kWww.size(); ++cut) {
    uint8_t buf[512];
    std::memcpy(buf, kWww.data(), cut);
    size_t n = rrl.filter(addr("198.51.100.1"), buf, cut, 200 + uint32_t(cut));
    EXPECT_LE(n, cut);
  }
  std::vector<uint8_t> loop = {0, 1, 0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0xC0, 12, 0, 1, 0, 1};
  EXPECT_EQ(send(rrl, "203.0.113.1", loop, 1, 300).sent, 1);
  // "a" then a pointer back to "a": backwards, yet a loop (found by fuzzing).
  std::vector<uint8_t> cycle = {0, 1, 0x80, 3, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xC0, 12, 0, 1, 0, 1};
  EXPECT_EQ(send(rrl, "203.0.113.2", cycle, 1, 300).sent, 1);
  std::vector<uint8_t> auth_cycle = cycle;
  auth_cycle[9] = 1;  // an authority RR whose owner loops the same way
  auth_cycle.insert(auth_cycle.end(), {1, 'b', 0xC0, 20, 0, 6, 0, 1, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(send(rrl, "203.0.113.3", auth_cycle, 1, 300).sent, 1);
}

TEST(Rrl, BucketsEvictTheIdlestWhenFull) {
  // A table of 1024 entries and 5000 networks: old entries are replaced,
  // and a returning client is never wrongly limited by a stranger's debt.
  Rrl rrl(1024, 7);
  rrl.configure(settings(1));
  for (int i = 0; i < 5000; ++i) {
    std::string a = "10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".1";
    send(rrl, a.c_str(), kWww, 3, 100);
  }
  EXPECT_EQ(send(rrl, "192.0.2.1", kWww, 1, 100).sent, 1);
}

TEST(Rrl, WorkersShareBucketsWithoutLosingCount) {
  Rrl rrl(1024, 1);
  rrl.configure(settings(1000, 0));
  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&] { sent += send(rrl, "192.0.2.1", kWww, 2000, 100).sent; });
  for (auto& t : threads) t.join();
  // Compare-and-swap: no debit is lost, except that after four lost races
  // in a row an answer goes out rather than spin (rare).
  EXPECT_GE(sent.load(), 1000);
  EXPECT_LE(sent.load(), 1100);
  EXPECT_EQ(uint64_t(8000 - sent.load()), rrl.stats().dropped.load());
}

TEST(Prefix, ParsesAndMatches) {
  auto p = Prefix::parse("192.0.2.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_text(), "192.0.2.0/24");
  auto a = addr("192.0.2.1"), b = addr("192.0.3.1"), c = addr("::1");
  EXPECT_TRUE(p->contains(reinterpret_cast<sockaddr*>(&a)));
  EXPECT_FALSE(p->contains(reinterpret_cast<sockaddr*>(&b)));
  EXPECT_FALSE(p->contains(reinterpret_cast<sockaddr*>(&c)));
  auto q = Prefix::parse("2001:db8::/35");
  ASSERT_TRUE(q);
  auto d = addr("2001:db8:1fff::1"), e = addr("2001:db8:2000::1");
  EXPECT_TRUE(q->contains(reinterpret_cast<sockaddr*>(&d)));
  EXPECT_FALSE(q->contains(reinterpret_cast<sockaddr*>(&e)));
  EXPECT_EQ(Prefix::parse("::1")->len, 128);
  for (const char* bad : {"", "1.2.3.4/33", "::1/129", "1.2.3.4/", "host.example", "1.2.3.4/x"})
    EXPECT_FALSE(Prefix::parse(bad)) << bad;
}

}  // namespace
}  // namespace ddns::net
