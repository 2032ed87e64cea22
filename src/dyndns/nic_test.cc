// DynDNS2 /nic/update through the Router against a real ZoneWriter on a
// temp-dir SqliteStore and real Accounts: every return code, the zone's
// records after each, history, tokens, TXT, offline and the abuse windows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>

#include <arpa/inet.h>

#include "base/encoding.h"
#include "dyndns/service.h"
#include "dyndns/state.h"
#include "http/parse.h"
#include "store/sqlite.h"
#include "wire/rrtype.h"
#include "zone/master.h"

namespace ddns::dyndns {
namespace {

using wire::Name;

Name N(const char* s) { return *Name::from_text(s); }
const Name kOrigin = N("example.test.");

const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@      SOA ns1 hostmaster 10 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.53
)";

std::shared_ptr<const zone::Zone> make_zone() {
  auto p = zone::parse_master_text(kZone, "test.zone", kOrigin);
  return *zone::Zone::build(kOrigin, p.records);
}

std::string b64(const std::string& s) {
  return base64_encode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

struct NicTest : ::testing::Test {
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteStore> st;
  std::unique_ptr<update::ZoneWriter> writer;
  std::unique_ptr<accounts::Accounts> acc;
  std::unique_ptr<Service> svc;
  http::Router router;
  std::atomic<int64_t> now{1700000000};
  std::string alice_host_token, bob_host_token;
  int64_t alice_id = 0;

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("nic_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store::SqliteOptions so;
    so.durable = false;
    auto opened = store::SqliteStore::open(store::SqliteStore::default_path(dir), so);
    ASSERT_TRUE(opened.ok());
    st = std::move(*opened);
    auto z = make_zone();
    ASSERT_TRUE(st->put_zone_snapshot(kOrigin, z->serial(), z->records()).ok());
    update::WriterOptions wo;
    writer = std::make_unique<update::ZoneWriter>(z, st.get(), wo, [](auto) {});

    auto a = accounts::Accounts::open((dir / "accounts.sqlite").string());
    ASSERT_TRUE(a.ok()) << a.error().message;
    acc = std::move(*a);
    ASSERT_TRUE(acc->add_zone("example.test").ok());
    auto alice = acc->add_user("alice", "alice-password");
    ASSERT_TRUE(alice.ok()) << alice.error().message;
    alice_id = alice->id;
    ASSERT_TRUE(acc->add_user("bob", "bob-password-1").ok());
    auto h1 = acc->add_host("home.example.test", "alice");
    ASSERT_TRUE(h1.ok()) << h1.error().message;
    alice_host_token = h1->token;
    ASSERT_TRUE(acc->add_host("cabin.example.test", "alice").ok());
    auto h3 = acc->add_host("bob.example.test", "bob");
    ASSERT_TRUE(h3.ok());
    bob_host_token = h3->token;

    Context ctx;
    ctx.accounts = acc.get();
    ctx.writer = [this](const Name& origin) -> update::ZoneWriter* {
      return origin == kOrigin ? writer.get() : nullptr;
    };
    Options o;
    o.clock = [this] { return now.load(); };
    o.nochg_abuse_count = 3;
    o.login_fail_limit = 3;
    svc = std::make_unique<Service>(ctx, o);
    svc->install_nic(router);
  }

  void TearDown() override {
    writer->stop();
    svc.reset();
    writer.reset();
    acc.reset();
    st.reset();
    std::filesystem::remove_all(dir);
  }

  http::Response call(const std::string& target, std::optional<std::pair<std::string, std::string>> cred,
                      const std::string& client = "198.51.100.7", const std::string& method = "GET",
                      const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) http::parse_query(target.substr(q + 1), req.params);
    req.headers.emplace_back("user-agent", "nic_test/1.0");
    if (cred) req.headers.emplace_back("authorization", "Basic " + b64(cred->first + ":" + cred->second));
    if (!body.empty()) req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    req.body = body;
    req.client_ip = req.peer_ip = client;
    bool mm = false;
    const http::Handler* h = router.find(method, req.path, &mm);
    if (!h) return http::Response::text(404, "");
    std::promise<http::Response> pr;
    auto fut = pr.get_future();
    (*h)(req, [&pr](http::Response r) { pr.set_value(std::move(r)); });
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      return http::Response::text(599, "timeout");
    return fut.get();
  }
  std::string body(const std::string& target, std::optional<std::pair<std::string, std::string>> cred,
                   const std::string& client = "198.51.100.7") {
    return call(target, std::move(cred), client).body;
  }

  // The zone's rdatas of (owner, type) in presentation-ish form.
  std::vector<std::string> rr(const char* owner, wire::RRType type) {
    std::vector<std::string> out;
    Name n = N(owner);
    for (const auto& r : writer->current()->records()) {
      if (!(r.owner == n) || r.type != uint16_t(type)) continue;
      char buf[64] = {0};
      if (type == wire::RRType::A) inet_ntop(AF_INET, r.rdata.data(), buf, sizeof buf);
      if (type == wire::RRType::AAAA) inet_ntop(AF_INET6, r.rdata.data(), buf, sizeof buf);
      if (type == wire::RRType::TXT) {
        out.emplace_back(r.rdata.begin() + 1, r.rdata.end());
        continue;
      }
      out.emplace_back(buf);
    }
    return out;
  }
};

const std::pair<std::string, std::string> kAlice{"alice", "alice-password"};

TEST_F(NicTest, GoodThenNochgWithHistory) {
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.10", kAlice), "good 192.0.2.10\n");
  EXPECT_EQ(rr("home.example.test.", wire::RRType::A), std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.10", kAlice), "nochg 192.0.2.10\n");
  EXPECT_EQ(body("/v3/update?hostname=home.example.test&myip=192.0.2.11", kAlice), "good 192.0.2.11\n");
  auto h = acc->history("home.example.test");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  // Newest first or oldest first: find both transitions.
  bool first = false, second = false;
  for (const auto& e : *h) {
    EXPECT_EQ(e.type, "A");
    EXPECT_EQ(e.source, "198.51.100.7");
    EXPECT_EQ(e.via, "dyndns2");
    if (e.old_value == "" && e.new_value == "192.0.2.10") first = true;
    if (e.old_value == "192.0.2.10" && e.new_value == "192.0.2.11") second = true;
  }
  EXPECT_TRUE(first && second);
  auto host = acc->get_host("home.example.test");
  ASSERT_TRUE(host.ok() && *host);
  EXPECT_EQ((*host)->last_ipv4, "192.0.2.11");
}

TEST_F(NicTest, MissingMyipUsesClientAddress) {
  EXPECT_EQ(body("/nic/update?hostname=home.example.test", kAlice, "203.0.113.4"), "good 203.0.113.4\n");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test", kAlice, "2001:db8::4"), "good 2001:db8::4\n");
  EXPECT_EQ(rr("home.example.test.", wire::RRType::A), std::vector<std::string>{"203.0.113.4"});
  EXPECT_EQ(rr("home.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::4"});
}

TEST_F(NicTest, DualStackAndMyipv6) {
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.1,2001:DB8::1", kAlice),
            "good 192.0.2.1,2001:db8::1\n");
  EXPECT_EQ(rr("home.example.test.", wire::RRType::A), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(rr("home.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.1&myipv6=2001:db8::2", kAlice),
            "good 192.0.2.1,2001:db8::2\n");
  EXPECT_EQ(rr("home.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::2"});
  // A v4-only update keeps the AAAA.
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.3", kAlice), "good 192.0.2.3\n");
  EXPECT_EQ(rr("home.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::2"});
}

TEST_F(NicTest, ErrorsAndCodes) {
  // No user agent.
  {
    http::Request req;
    req.method = "GET";
    req.path = "/nic/update";
    req.client_ip = "198.51.100.7";
    bool mm;
    std::promise<http::Response> pr;
    (*router.find("GET", "/nic/update", &mm))(req, [&](http::Response r) { pr.set_value(r); });
    EXPECT_EQ(pr.get_future().get().body, "badagent\n");
  }
  auto r = call("/nic/update?hostname=home.example.test", std::nullopt);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "badauth\n");
  ASSERT_FALSE(r.headers.empty());
  EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.1",
                 std::make_pair(std::string("alice"), std::string("wrong-password"))),
            "badauth\n");
  EXPECT_EQ(body("/nic/update?myip=192.0.2.1", kAlice), "notfqdn\n");
  EXPECT_EQ(body("/nic/update?hostname=bad_host!&myip=192.0.2.1", kAlice), "notfqdn\n");
  EXPECT_EQ(body("/nic/update?hostname=nope.example.test&myip=192.0.2.1", kAlice), "nohost\n");
  EXPECT_EQ(body("/nic/update?hostname=bob.example.test&myip=192.0.2.1", kAlice), "nohost\n");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.300", kAlice), "dnserr\n");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.1,192.0.2.2", kAlice), "dnserr\n");
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::A).empty());
  std::string many = "/nic/update?myip=192.0.2.1&hostname=home.example.test";
  for (int i = 0; i < 20; ++i) many += ",h" + std::to_string(i) + ".example.test";
  EXPECT_EQ(body(many, kAlice), "numhost\n");
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::A).empty());
}

TEST_F(NicTest, SeveralHostsOneLineEach) {
  EXPECT_EQ(body("/nic/update?hostname=home.example.test,bob.example.test,cabin.example.test,x&myip=192.0.2.5",
                 kAlice),
            "good 192.0.2.5\nnohost\ngood 192.0.2.5\nnotfqdn\n");
  EXPECT_EQ(rr("cabin.example.test.", wire::RRType::A), std::vector<std::string>{"192.0.2.5"});
  EXPECT_TRUE(rr("bob.example.test.", wire::RRType::A).empty());
  // Twenty hosts are allowed.
  std::string twenty = "/nic/update?myip=192.0.2.6&hostname=home.example.test";
  for (int i = 0; i < 19; ++i) twenty += ",cabin.example.test";
  std::string b = body(twenty, kAlice);
  EXPECT_EQ(std::count(b.begin(), b.end(), '\n'), 20);
  EXPECT_EQ(b.substr(0, 15), "good 192.0.2.6\n");
}

TEST_F(NicTest, HostTokens) {
  // hostname:token as Basic credentials.
  auto tok = std::make_pair(std::string("home.example.test"), alice_host_token);
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.20", tok), "good 192.0.2.20\n");
  // The token updates only its own host.
  EXPECT_EQ(body("/nic/update?hostname=cabin.example.test&myip=192.0.2.20", tok), "nohost\n");
  // ?token= without Basic.
  EXPECT_EQ(body("/nic/update?hostname=bob.example.test&myip=192.0.2.21&token=" + bob_host_token,
                 std::nullopt),
            "good 192.0.2.21\n");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.21&token=" + bob_host_token,
                 std::nullopt),
            "badauth\n");
  // A rotated token stops working.
  ASSERT_TRUE(acc->rotate_token("home.example.test").ok());
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.22", tok), "badauth\n");
}

TEST_F(NicTest, PostForm) {
  auto r = call("/nic/update", kAlice, "198.51.100.7", "POST", "hostname=home.example.test&myip=192.0.2.40");
  EXPECT_EQ(r.body, "good 192.0.2.40\n");
}

TEST_F(NicTest, AcmeTxtAndOffline) {
  auto tok = std::make_pair(std::string("home.example.test"), alice_host_token);
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&txt=abc123", tok), "good\n");
  EXPECT_EQ(rr("_acme-challenge.home.example.test.", wire::RRType::TXT), std::vector<std::string>{"abc123"});
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&txt=abc123", tok), "nochg\n");
  // Two values at once (wildcard + base name certificates).
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&txt=v1&txt=v2", kAlice), "good\n");
  EXPECT_EQ(rr("_acme-challenge.home.example.test.", wire::RRType::TXT).size(), 2u);
  // Not the owner: bob cannot touch alice's challenge.
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&txt=evil",
                 std::make_pair(std::string("bob"), std::string("bob-password-1"))),
            "nohost\n");
  // An address update of the challenge name is refused.
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&myip=192.0.2.1", kAlice), "nohost\n");
  EXPECT_EQ(body("/nic/update?hostname=_acme-challenge.home.example.test&txt=&clear=yes", kAlice), "good\n");
  EXPECT_TRUE(rr("_acme-challenge.home.example.test.", wire::RRType::TXT).empty());

  EXPECT_EQ(body("/nic/update?hostname=home.example.test&myip=192.0.2.1,2001:db8::1", kAlice),
            "good 192.0.2.1,2001:db8::1\n");
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&offline=YES", kAlice), "good\n");
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::A).empty());
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::AAAA).empty());
  EXPECT_EQ(body("/nic/update?hostname=home.example.test&offline=YES", kAlice), "nochg\n");
}

TEST_F(NicTest, NochgAbuseWindow) {
  const char* q = "/nic/update?hostname=home.example.test&myip=192.0.2.9";
  EXPECT_EQ(body(q, kAlice), "good 192.0.2.9\n");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(body(q, kAlice), "nochg 192.0.2.9\n") << i;
  // More than 3 nochg within the window: blocked.
  EXPECT_EQ(body(q, kAlice), "abuse\n");
  // Other hosts are unaffected.
  EXPECT_EQ(body("/nic/update?hostname=cabin.example.test&myip=192.0.2.9", kAlice), "good 192.0.2.9\n");
  now += 3601;  // abuse_block_s later
  EXPECT_EQ(body(q, kAlice), "nochg 192.0.2.9\n");
  // Spread out beyond the window: never abusive.
  for (int i = 0; i < 6; ++i) {
    now += 301;
    EXPECT_EQ(body(q, kAlice), "nochg 192.0.2.9\n") << i;
  }
}

TEST_F(NicTest, FailedLoginsBlockTheAddress) {
  auto bad = std::make_pair(std::string("alice"), std::string("not-her-password"));
  const char* q = "/nic/update?hostname=home.example.test&myip=192.0.2.9";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(body(q, bad, "203.0.113.66"), "badauth\n") << i;
  // Blocked now, even with the right password; other addresses are fine.
  EXPECT_EQ(body(q, kAlice, "203.0.113.66"), "abuse\n");
  EXPECT_EQ(body(q, kAlice, "203.0.113.67"), "good 192.0.2.9\n");
  now += 3601;
  EXPECT_EQ(body(q, kAlice, "203.0.113.66"), "nochg 192.0.2.9\n");
}

TEST_F(NicTest, CheckipAndMyip) {
  auto r = call("/checkip", std::nullopt, "192.0.2.77");
  EXPECT_EQ(r.body,
            "<html><head><title>Current IP Check</title></head><body>Current IP Address: 192.0.2.77"
            "</body></html>\n");
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(call("/myip", std::nullopt, "2001:db8::77").body, "2001:db8::77\n");
}

TEST_F(NicTest, ApplyForRest) {
  std::promise<std::string> pr;
  Service::Change ch;
  ch.host = "Cabin.Example.Test.";
  ch.sets.push_back({uint16_t(wire::RRType::AAAA), {"2001:db8::9"}});
  ch.via = "api";
  svc->apply(ch, [&](Service::Outcome o) { pr.set_value(std::string(Service::text(o))); });
  EXPECT_EQ(pr.get_future().get(), "good");
  EXPECT_EQ(rr("cabin.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::9"});
  std::promise<std::string> p2;
  ch.host = "missing.example.test";
  svc->apply(ch, [&](Service::Outcome o) { p2.set_value(std::string(Service::text(o))); });
  EXPECT_EQ(p2.get_future().get(), "nohost");
}

// Many concurrent updates group-commit: fewer history batches than updates.
TEST_F(NicTest, ConcurrentUpdatesBatchHistory) {
  constexpr int kN = 200;
  std::vector<std::promise<std::string>> ps(kN);
  for (int i = 0; i < kN; ++i) {
    Service::Change ch;
    ch.host = i % 2 ? "home.example.test" : "cabin.example.test";
    ch.sets.push_back({uint16_t(wire::RRType::A), {"192.0.2." + std::to_string(i)}});
    svc->apply(ch, [&ps, i](Service::Outcome o) { ps[size_t(i)].set_value(std::string(Service::text(o))); });
  }
  for (auto& p : ps) EXPECT_EQ(p.get_future().get(), "good");
  auto h = acc->history("home.example.test", 1000);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), size_t(kN / 2));
}

}  // namespace
}  // namespace ddns::dyndns
