// Tests for the client's decisions: update on change only, forced refresh,
// stop on refusals until the config changes, backoff on temporary errors,
// and the cache file.
#include "client/agent.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>

namespace ddns::client {
namespace {

class FakeDetector : public Detector {
 public:
  Result<IpAddr> detect(const AddressSource&, Family f) override {
    ++calls;
    const std::string& s = f == Family::V4 ? v4 : v6;
    if (s.empty()) return make_error("none");
    return *IpAddr::parse(s);
  }
  std::string v4 = "192.0.2.1", v6;
  int calls = 0;
};

class FakeUpdater : public Updater {
 public:
  UpdateResult update(const HostConfig& h, const std::optional<IpAddr>& a4,
                      const std::optional<IpAddr>& a6) override {
    sent.push_back(h.hostname + " " + (a4 ? a4->text() : "-") + " " + (a6 ? a6->text() : "-"));
    if (answers.empty()) return dyndns2_result(200, "good");
    auto r = answers.front();
    answers.pop_front();
    return r;
  }
  std::vector<std::string> sent;
  std::deque<UpdateResult> answers;
};

ClientConfig config(int hosts = 1) {
  ClientConfig c;
  c.interval_s = 300;
  c.force_interval_s = 86400;
  c.retry_min_s = 60;
  c.retry_max_s = 3600;
  for (int i = 0; i < hosts; ++i) {
    HostConfig h;
    h.hostname = "h" + std::to_string(i) + ".example.test";
    h.server = "http://127.0.0.1:8080";
    h.password = "p";
    EXPECT_TRUE(finish_host(h).ok());
    c.hosts.push_back(h);
  }
  return c;
}

struct Fixture {
  FakeDetector det;
  FakeUpdater upd;
  int64_t now = 1'800'000'000;
  std::chrono::milliseconds frac{0};  // below the second `now` counts
  Cache cache;
  ClientConfig cfg = config();

  RunReport run() {
    Agent a(cfg, cache, det, upd, [this] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(now)) + frac;
    });
    RunReport r = a.run_once();
    cache = a.cache();
    return r;
  }
};

TEST(Agent, UpdatesOnlyWhenChanged) {
  Fixture f;
  EXPECT_EQ(f.run().exit_code(), kExitOk);
  ASSERT_EQ(f.upd.sent.size(), 1u);
  EXPECT_EQ(f.upd.sent[0], "h0.example.test 192.0.2.1 -");
  f.now += 300;
  auto r = f.run();
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_EQ(r.exit_code(), kExitOk);
  EXPECT_EQ(f.upd.sent.size(), 1u);  // nothing sent
  f.det.v4 = "192.0.2.2";
  f.now += 300;
  EXPECT_EQ(f.run().updated, 1);
  ASSERT_EQ(f.upd.sent.size(), 2u);
  EXPECT_EQ(f.upd.sent[1], "h0.example.test 192.0.2.2 -");
}

TEST(Agent, ForcedRefresh) {
  Fixture f;
  f.run();
  f.now += 86400 - 1;
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 1u);
  f.now += 1;
  EXPECT_EQ(f.run().updated, 1);
  EXPECT_EQ(f.upd.sent.size(), 2u);
  f.cfg.force_interval_s = 0;  // never
  f.now += 10 * 86400;
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 2u);
}

TEST(Agent, StopsUntilConfigChanges) {
  for (const char* code : {"badauth", "nohost", "notfqdn", "abuse", "badagent"}) {
    Fixture f;
    f.upd.answers.push_back(dyndns2_result(200, code));
    EXPECT_EQ(f.run().exit_code(), kExitStopped) << code;
    f.now += 7 * 86400;
    f.det.v4 = "192.0.2.99";  // even a new address is not sent
    EXPECT_EQ(f.run().exit_code(), kExitStopped);
    EXPECT_EQ(f.upd.sent.size(), 1u) << code;
    EXPECT_EQ(f.cache.entries().begin()->second.reason, code);
    f.cfg.hosts[0].password = "new";
    EXPECT_EQ(f.run().exit_code(), kExitOk) << code;
    EXPECT_EQ(f.upd.sent.size(), 2u);
  }
}

TEST(Agent, BacksOffOnTemporaryErrors) {
  Fixture f;
  UpdateResult net;
  net.verdict = Verdict::Retry;
  net.code = "network";
  f.upd.answers = {net, net, net};
  EXPECT_EQ(f.run().exit_code(), kExitRetry);
  EXPECT_EQ(f.cache.entries().begin()->second.retry_at, f.now + 60);
  f.now += 59;
  EXPECT_EQ(f.run().exit_code(), kExitRetry);  // still backing off
  EXPECT_EQ(f.upd.sent.size(), 1u);
  f.now += 1;
  f.run();  // second failure: 120 s
  EXPECT_EQ(f.upd.sent.size(), 2u);
  EXPECT_EQ(f.cache.entries().begin()->second.retry_at, f.now + 120);
  f.now += 120;
  f.run();  // third: 240 s
  EXPECT_EQ(f.cache.entries().begin()->second.retry_at, f.now + 240);
  f.now += 240;
  EXPECT_EQ(f.run().exit_code(), kExitOk);  // good: state cleared
  EXPECT_EQ(f.cache.entries().begin()->second.failures, 0u);
  EXPECT_EQ(f.upd.sent.size(), 4u);
}

// Issue 23: from a clock read as 100.9 s a 60 s backoff ends at 160.9 s, so
// the retry is due at 161, not 160.
TEST(Agent, BackoffIsRoundedUpFromTheFractionalClock) {
  Fixture f;
  UpdateResult net;
  net.verdict = Verdict::Retry;
  net.code = "network";
  f.upd.answers = {net, net};
  f.frac = std::chrono::milliseconds(900);
  EXPECT_EQ(f.run().exit_code(), kExitRetry);
  EXPECT_EQ(f.cache.entries().begin()->second.retry_at, f.now + 61);
  f.now += 60;  // 160 s: where the truncated clock used to retry
  f.frac = std::chrono::milliseconds(0);
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 1u);
  f.now += 1;
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 2u);
  EXPECT_EQ(unix_floor(std::chrono::system_clock::time_point(std::chrono::milliseconds(-1))), -1);
  EXPECT_EQ(unix_ceil(std::chrono::system_clock::time_point(std::chrono::milliseconds(1))), 1);
}

TEST(Agent, NineOneOneWaitsFiveMinutes) {
  Fixture f;
  f.upd.answers.push_back(dyndns2_result(200, "911"));
  f.run();
  EXPECT_EQ(f.cache.entries().begin()->second.retry_at, f.now + 300);
  f.now += 299;
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 1u);
  f.now += 1;
  f.run();
  EXPECT_EQ(f.upd.sent.size(), 2u);
}

TEST(Agent, BackoffIsCapped) {
  Fixture f;
  for (int i = 0; i < 12; ++i) f.upd.answers.push_back(dyndns2_result(200, "dnserr"));
  for (int i = 0; i < 12; ++i) {
    f.run();
    const auto& e = f.cache.entries().begin()->second;
    EXPECT_LE(e.retry_at - f.now, 3600);
    f.now = e.retry_at;
  }
  EXPECT_EQ(f.upd.sent.size(), 12u);
}

TEST(Agent, DetectionFailures) {
  Fixture f;
  f.cfg.hosts[0].ipv6.kind = AddressSource::Kind::Interface;
  f.det.v6 = "";  // IPv6 missing: IPv4 still sent, exit says so
  auto r = f.run();
  EXPECT_EQ(r.exit_code(), kExitNoAddress);
  EXPECT_EQ(f.upd.sent.size(), 1u);
  f.det.v4 = "";
  f.now += 300;
  r = f.run();
  EXPECT_EQ(r.exit_code(), kExitNoAddress);
  EXPECT_EQ(f.upd.sent.size(), 1u);
}

TEST(Agent, SharedSourceDetectedOncePerRun) {
  Fixture f;
  f.cfg = config(3);
  f.run();
  EXPECT_EQ(f.det.calls, 1);
  EXPECT_EQ(f.upd.sent.size(), 3u);
}

TEST(Agent, StopOnOneHostDoesNotBlockOthers) {
  Fixture f;
  f.cfg = config(2);
  f.upd.answers.push_back(dyndns2_result(200, "badauth"));
  auto r = f.run();
  EXPECT_EQ(r.stopped, 1);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.exit_code(), kExitStopped);
}

TEST(Cache, RoundTripAndDamage) {
  Cache c;
  auto& e = c.at("h.example.test|dyndns2|http://x");
  e.config_hash = "abc";
  e.v4 = "192.0.2.1";
  e.updated = 17;
  e.state = CacheEntry::State::Retry;
  e.reason = "9\t11";
  e.retry_at = 99;
  e.failures = 3;
  std::string text = c.serialize();
  Cache back = Cache::parse(text);
  auto* b = back.find("h.example.test|dyndns2|http://x");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->v4, "192.0.2.1");
  EXPECT_EQ(b->updated, 17);
  EXPECT_EQ(b->state, CacheEntry::State::Retry);
  EXPECT_EQ(b->reason, "9 11");
  EXPECT_EQ(b->failures, 3u);
  Cache damaged = Cache::parse("garbage\n\tno key\nk\tupdated=xyz\nok\tv4=192.0.2.3\n");
  EXPECT_EQ(damaged.entries().size(), 1u);

  std::string path = ::testing::TempDir() + "ddns-client-cache-test";
  ASSERT_TRUE(c.save(path).ok());
  auto loaded = Cache::load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->serialize(), text);
  std::remove(path.c_str());
  auto missing = Cache::load(path);
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->entries().empty());
  EXPECT_FALSE(c.save("/nonexistent-dir/x").ok());
}

}  // namespace
}  // namespace ddns::client
