// REST API and web page handlers through the Router, against real Accounts
// and a real ZoneWriter on a temp-dir SqliteStore: sessions, CSRF rule,
// bearer tokens, hosts (create, set, history, rotate, delete with its DNS
// records), admin users and zones, login throttling, the static page.
#include <gtest/gtest.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include "dyndns/service.h"
#include "http/parse.h"
#include "store/sqlite.h"
#include "wire/rrtype.h"
#include "zone/master.h"

// Calls are written with designated initializers naming only what differs.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ddns::dyndns {
namespace {

using json = nlohmann::json;
using wire::Name;

Name N(const char* s) { return *Name::from_text(s); }
const Name kOrigin = N("example.test.");

const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@      SOA ns1 hostmaster 10 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.53
sub    NS  ns1.sub
ns1.sub A  192.0.2.54
)";

struct Resp {
  int status = 0;
  json body;
  std::string raw;
  http::Response r;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : r.headers)
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
  }
};

struct ApiTest : ::testing::Test {
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteStore> st;
  std::unique_ptr<update::ZoneWriter> writer;
  std::unique_ptr<accounts::Accounts> acc;
  std::unique_ptr<Service> svc;
  http::Router router;
  std::atomic<int64_t> now{1700000000};

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("api_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store::SqliteOptions so;
    so.durable = false;
    auto opened = store::SqliteStore::open(store::SqliteStore::default_path(dir), so);
    ASSERT_TRUE(opened.ok());
    st = std::move(*opened);
    auto p = zone::parse_master_text(kZone, "test.zone", kOrigin);
    auto z = *zone::Zone::build(kOrigin, p.records);
    ASSERT_TRUE(st->put_zone_snapshot(kOrigin, z->serial(), z->records()).ok());
    writer = std::make_unique<update::ZoneWriter>(z, st.get(), update::WriterOptions{}, [](auto) {});

    auto a = accounts::Accounts::open((dir / "accounts.sqlite").string());
    ASSERT_TRUE(a.ok()) << a.error().message;
    acc = std::move(*a);
    ASSERT_TRUE(acc->add_zone("example.test").ok());
    ASSERT_TRUE(acc->add_user("alice", "alice-password").ok());
    ASSERT_TRUE(acc->add_user("bob", "bob-password-1").ok());
    ASSERT_TRUE(acc->add_user("root", "root-password", /*admin=*/true).ok());

    Context ctx;
    ctx.accounts = acc.get();
    ctx.writer = [this](const Name& origin) -> update::ZoneWriter* {
      return origin == kOrigin ? writer.get() : nullptr;
    };
    Options o;
    o.clock = [this] { return now.load(); };
    o.login_fail_limit = 3;
    svc = std::make_unique<Service>(ctx, o);
    svc->install(router);
  }

  void TearDown() override {
    writer->stop();
    svc.reset();
    writer.reset();
    acc.reset();
    st.reset();
    std::filesystem::remove_all(dir);
  }

  struct Call {
    std::string method = "GET";
    std::string target;
    std::string body;
    std::string session;       // cookie value
    std::string bearer;        // API token
    bool json_type = true;     // Content-Type: application/json on non-GET
    std::string client = "198.51.100.7";
    bool tls = false;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  Resp call(const Call& c) {
    http::Request req;
    req.method = c.method;
    req.target = c.target;
    size_t q = c.target.find('?');
    req.path = c.target.substr(0, q);
    if (q != std::string::npos) http::parse_query(c.target.substr(q + 1), req.params);
    if (!c.session.empty()) req.headers.emplace_back("cookie", "theme=dark; ddns_session=" + c.session);
    if (!c.bearer.empty()) req.headers.emplace_back("authorization", "Bearer " + c.bearer);
    if (c.json_type && c.method != "GET") req.headers.emplace_back("content-type", "application/json");
    for (const auto& h : c.headers) req.headers.push_back(h);
    req.body = c.body;
    req.client_ip = req.peer_ip = c.client;
    req.tls = c.tls;
    Resp out;
    bool mm = false;
    const http::Handler* h = router.find(c.method, req.path, &mm);
    if (!h) {
      out.status = mm ? 405 : 404;
      return out;
    }
    std::promise<http::Response> pr;
    auto fut = pr.get_future();
    (*h)(req, [&pr](http::Response r) { pr.set_value(std::move(r)); });
    if (fut.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      out.status = 599;
      return out;
    }
    out.r = fut.get();
    out.status = out.r.status;
    out.raw = out.r.body;
    if (out.r.content_type.starts_with("application/json")) out.body = json::parse(out.raw, nullptr, false);
    return out;
  }
  Resp get(const std::string& target, const std::string& session) {
    return call({.method = "GET", .target = target, .session = session});
  }
  Resp send(const std::string& method, const std::string& target, const std::string& session,
            const json& body = json::object()) {
    return call({.method = method, .target = target, .body = body.dump(), .session = session});
  }

  std::string login(const std::string& user, const std::string& password) {
    Resp r = call({.method = "POST", .target = "/api/login",
                   .body = json{{"user", user}, {"password", password}}.dump()});
    EXPECT_EQ(r.status, 200) << r.raw;
    std::string cookie = r.header("set-cookie");
    auto eq = cookie.find('=');
    auto semi = cookie.find(';');
    if (eq == std::string::npos || semi == std::string::npos) return "";
    return cookie.substr(eq + 1, semi - eq - 1);
  }

  // The zone's A/AAAA/TXT values at `owner`.
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

  // Creates alice's host "home.example.test" and returns its update token.
  std::string add_home(const std::string& session) {
    Resp r = send("POST", "/api/hosts", session, {{"name", "home"}, {"zone", "example.test"}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("token", "");
  }
};

TEST_F(ApiTest, LoginSetsStrictHttpOnlyCookie) {
  Resp bad = call({.method = "POST", .target = "/api/login",
                   .body = R"({"user":"alice","password":"wrong-password"})"});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body["error"], "wrong user name or password");
  EXPECT_TRUE(bad.header("set-cookie").empty());

  Resp ok = call({.method = "POST", .target = "/api/login",
                  .body = R"({"user":"alice","password":"alice-password"})"});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["user"]["name"], "alice");
  EXPECT_EQ(ok.body["user"]["admin"], false);
  std::string cookie = ok.header("set-cookie");
  EXPECT_TRUE(cookie.starts_with("ddns_session=")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP
  EXPECT_EQ(ok.header("cache-control"), "no-store");

  Resp tls = call({.method = "POST", .target = "/api/login",
                   .body = R"({"user":"alice","password":"alice-password"})", .tls = true});
  EXPECT_NE(tls.header("set-cookie").find("; Secure"), std::string::npos);
}

TEST_F(ApiTest, LoginNeedsJsonAndFields) {
  Resp r = call({.method = "POST", .target = "/api/login",
                 .body = R"({"user":"alice","password":"alice-password"})", .json_type = false});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login", .body = "{nope"}).status, 400);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login", .body = "[1,2]"}).status, 400);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login", .body = R"({"user":"alice"})"}).status, 400);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login", .body = R"({"user":1,"password":2})"}).status, 400);
  std::string deep(100, '[');
  EXPECT_EQ(call({.method = "POST", .target = "/api/login", .body = deep}).status, 400);
  EXPECT_EQ(call({.method = "GET", .target = "/api/login"}).status, 405);
}

TEST_F(ApiTest, FailedLoginsAreThrottledPerAddress) {
  Call c{.method = "POST", .target = "/api/login", .body = R"({"user":"alice","password":"wrong-pass"})"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(call(c).status, 401) << i;
  EXPECT_EQ(call(c).status, 429);
  // Even the right password waits until the block ends...
  Call good = c;
  good.body = R"({"user":"alice","password":"alice-password"})";
  EXPECT_EQ(call(good).status, 429);
  // ...while another address is unaffected.
  good.client = "198.51.100.8";
  EXPECT_EQ(call(good).status, 200);
  now += 3601;
  good.client = "198.51.100.7";
  EXPECT_EQ(call(good).status, 200);
}

TEST_F(ApiTest, MeAndLogout) {
  EXPECT_EQ(get("/api/me", "").status, 401);
  EXPECT_EQ(get("/api/me", "forged-session").status, 401);
  std::string s = login("alice", "alice-password");
  ASSERT_FALSE(s.empty());
  Resp me = get("/api/me", s);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user"]["name"], "alice");
  EXPECT_EQ(me.body["auth"], "session");
  Resp out = send("POST", "/api/logout", s);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(get("/api/me", s).status, 401);
}

TEST_F(ApiTest, CookieChangesNeedJsonContentType) {
  std::string s = login("alice", "alice-password");
  // A cross-site form post: cookie but no JSON content type.
  Resp r = call({.method = "POST", .target = "/api/hosts", .body = R"({"name":"home.example.test"})",
                 .session = s, .json_type = false});
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(acc->get_host("home.example.test")->has_value());
  // A bearer token needs no such header (no ambient credential to forge).
  Resp t = send("POST", "/api/tokens", s, {{"label", "script"}});
  ASSERT_EQ(t.status, 201) << t.raw;
  std::string token = t.body["token"];
  Resp b = call({.method = "POST", .target = "/api/hosts", .body = R"({"name":"home.example.test"})",
                 .bearer = token, .json_type = false});
  EXPECT_EQ(b.status, 201) << b.raw;
  Resp me = call({.target = "/api/me", .bearer = token});
  EXPECT_EQ(me.body["auth"], "token");
  EXPECT_EQ(me.body["user"]["name"], "alice");
  Resp bad = call({.target = "/api/me", .bearer = "not-a-token"});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.header("www-authenticate"), "Bearer realm=\"ddns\"");

  // Listing and revoking.
  Resp l = get("/api/tokens", s);
  ASSERT_EQ(l.status, 200) << l.raw;
  ASSERT_EQ(l.body["tokens"].size(), 1u);
  EXPECT_EQ(l.body["tokens"][0]["label"], "script");
  int64_t id = l.body["tokens"][0]["id"];
  std::string bob = login("bob", "bob-password-1");
  EXPECT_EQ(send("DELETE", "/api/tokens/" + std::to_string(id), bob).status, 404);  // not bob's
  EXPECT_EQ(send("DELETE", "/api/tokens/x", s).status, 404);
  EXPECT_EQ(send("DELETE", "/api/tokens/" + std::to_string(id), s).status, 200);
  EXPECT_EQ(call({.target = "/api/me", .bearer = token}).status, 401);
}

TEST_F(ApiTest, CreateHostRules) {
  std::string s = login("alice", "alice-password");
  std::string token = add_home(s);
  EXPECT_GE(token.size(), 20u);
  auto ok = acc->check_token("home.example.test", token);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);

  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "HOME.example.test."}}).status, 409);
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "ns1.example.test"}}).status, 409);  // zone data
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "x.sub.example.test"}}).status, 409);  // below a cut
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "home.example.org"}}).status, 400);
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "example.test"}}).status, 400);  // the apex
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "bad name.example.test"}}).status, 400);
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "_acme-challenge.example.test"}}).status, 400);
  EXPECT_EQ(send("POST", "/api/hosts", s, json::object()).status, 400);
  EXPECT_EQ(send("POST", "/api/hosts", s, {{"name", "x.example.test"}, {"owner", "bob"}}).status, 403);

  std::string root = login("root", "root-password");
  Resp forbob = send("POST", "/api/hosts", root, {{"name", "x.example.test"}, {"owner", "bob"}});
  EXPECT_EQ(forbob.status, 201) << forbob.raw;
  EXPECT_EQ(forbob.body["host"]["owner"], "bob");
  EXPECT_EQ(send("POST", "/api/hosts", root, {{"name", "y.example.test"}, {"owner", "nobody"}}).status, 404);
}

TEST_F(ApiTest, ListSetHistory) {
  std::string s = login("alice", "alice-password");
  add_home(s);
  Resp l = get("/api/hosts", s);
  ASSERT_EQ(l.status, 200);
  ASSERT_EQ(l.body["hosts"].size(), 1u);
  const json& h = l.body["hosts"][0];
  EXPECT_EQ(h["name"], "home.example.test");
  EXPECT_EQ(h["zone"], "example.test");
  EXPECT_EQ(h["owner"], "alice");
  EXPECT_EQ(h["ipv4"], json::array());
  EXPECT_EQ(h["served"], true);

  Resp set = send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "192.0.2.10"}, {"ipv6", "2001:DB8::1"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["outcome"], "good");
  EXPECT_EQ(set.body["host"]["ipv4"], json::array({"192.0.2.10"}));
  EXPECT_EQ(set.body["host"]["ipv6"], json::array({"2001:db8::1"}));
  EXPECT_EQ(rr("home.example.test.", wire::RRType::A), std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(rr("home.example.test.", wire::RRType::AAAA), std::vector<std::string>{"2001:db8::1"});

  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "192.0.2.10"}}).body["outcome"], "nochg");
  // "auto" = the caller's address; "" removes the AAAA.
  Resp au = send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "auto"}, {"ipv6", ""}});
  ASSERT_EQ(au.status, 200) << au.raw;
  EXPECT_EQ(rr("home.example.test.", wire::RRType::A), std::vector<std::string>{"198.51.100.7"});
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::AAAA).empty());
  Resp txt = send("PUT", "/api/hosts/home.example.test", s, {{"txt", json::array({"v=1", "v=2"})}});
  EXPECT_EQ(txt.status, 200);
  EXPECT_EQ(txt.body["host"]["txt"], json::array({"v=1", "v=2"}));

  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "192.0.2.300"}}).status, 400);
  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "2001:db8::1"}}).status, 400);
  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", 5}}).status, 400);
  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", s, json::object()).status, 400);
  EXPECT_EQ(send("PUT", "/api/hosts/nope.example.test", s, {{"ipv4", "192.0.2.1"}}).status, 404);

  Resp hist = get("/api/hosts/home.example.test/history", s);
  ASSERT_EQ(hist.status, 200) << hist.raw;
  bool saw_first = false;
  for (const auto& e : hist.body["history"]) {
    if (e["type"] == "A" && e["old"] == "" && e["new"] == "192.0.2.10") {
      saw_first = true;
      EXPECT_EQ(e["via"], "web");
      EXPECT_EQ(e["source"], "198.51.100.7");
      EXPECT_EQ(e["time"], 1700000000);
    }
  }
  EXPECT_TRUE(saw_first) << hist.raw;
  EXPECT_EQ(get("/api/hosts/home.example.test/history?limit=1", s).body["history"].size(), 1u);
  EXPECT_EQ(get("/api/hosts/home.example.test/history?limit=0", s).status, 400);
  EXPECT_EQ(get("/api/hosts/home.example.test/history?limit=x", s).status, 400);
  EXPECT_EQ(get("/api/hosts/home.example.test/nothing", s).status, 404);
  Resp one = get("/api/hosts/home.example.test", s);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body["host"]["ipv4"], json::array({"198.51.100.7"}));
  EXPECT_EQ(one.body["host"]["updated"], 1700000000);
}

TEST_F(ApiTest, OtherUsersHostsAreOffLimits) {
  std::string a = login("alice", "alice-password");
  add_home(a);
  std::string b = login("bob", "bob-password-1");
  EXPECT_EQ(get("/api/hosts", b).body["hosts"].size(), 0u);
  EXPECT_EQ(get("/api/hosts?all=1", b).status, 403);
  EXPECT_EQ(get("/api/hosts/home.example.test", b).status, 403);
  EXPECT_EQ(get("/api/hosts/home.example.test/history", b).status, 403);
  EXPECT_EQ(send("POST", "/api/hosts/home.example.test/token", b).status, 403);
  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", b, {{"ipv4", "192.0.2.9"}}).status, 403);
  EXPECT_EQ(send("DELETE", "/api/hosts/home.example.test", b).status, 403);
  EXPECT_TRUE(acc->get_host("home.example.test")->has_value());
  std::string root = login("root", "root-password");
  Resp all = get("/api/hosts?all=1", root);
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body["hosts"].size(), 1u);
  EXPECT_EQ(send("PUT", "/api/hosts/home.example.test", root, {{"ipv4", "192.0.2.9"}}).status, 200);
}

TEST_F(ApiTest, RotateToken) {
  std::string s = login("alice", "alice-password");
  std::string old = add_home(s);
  Resp r = send("POST", "/api/hosts/home.example.test/token", s);
  ASSERT_EQ(r.status, 200) << r.raw;
  std::string fresh = r.body["token"];
  EXPECT_NE(fresh, old);
  EXPECT_FALSE(*acc->check_token("home.example.test", old));
  EXPECT_TRUE(*acc->check_token("home.example.test", fresh));
  EXPECT_EQ(get("/api/hosts/home.example.test/token", s).status, 405);
}

TEST_F(ApiTest, DeleteHostRemovesRecordsAndRow) {
  std::string s = login("alice", "alice-password");
  add_home(s);
  ASSERT_EQ(send("PUT", "/api/hosts/home.example.test", s, {{"ipv4", "192.0.2.10"}, {"txt", "x"}}).status, 200);
  // An ACME challenge on the host's _acme-challenge name goes too.
  std::promise<std::string> pr;
  Service::Change ch;
  ch.host = "_acme-challenge.home.example.test";
  ch.sets = {{uint16_t(wire::RRType::TXT), {"challenge"}}};
  ch.via = "dyndns2";
  svc->apply(ch, [&pr](Service::Outcome o) { pr.set_value(std::string(Service::text(o))); });
  ASSERT_EQ(pr.get_future().get(), "good");
  ASSERT_EQ(rr("_acme-challenge.home.example.test.", wire::RRType::TXT).size(), 1u);

  Resp d = send("DELETE", "/api/hosts/home.example.test", s);
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::A).empty());
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::TXT).empty());
  EXPECT_TRUE(rr("_acme-challenge.home.example.test.", wire::RRType::TXT).empty());
  EXPECT_FALSE(acc->get_host("home.example.test")->has_value());
  EXPECT_EQ(get("/api/hosts/home.example.test", s).status, 404);
  EXPECT_EQ(send("DELETE", "/api/hosts/home.example.test", s).status, 404);
  // The name can be taken again.
  add_home(s);
}

TEST_F(ApiTest, AdminUsers) {
  std::string a = login("alice", "alice-password");
  EXPECT_EQ(get("/api/users", a).status, 403);
  EXPECT_EQ(send("POST", "/api/users", a, {{"name", "eve"}, {"password", "eve-password"}}).status, 403);
  EXPECT_EQ(send("DELETE", "/api/users/bob", a).status, 403);

  std::string root = login("root", "root-password");
  Resp l = get("/api/users", root);
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(l.body["users"].size(), 3u);
  Resp c = send("POST", "/api/users", root, {{"name", "carol"}, {"password", "carol-password"}, {"admin", true}});
  ASSERT_EQ(c.status, 201) << c.raw;
  EXPECT_EQ(c.body["user"]["admin"], true);
  EXPECT_EQ(send("POST", "/api/users", root, {{"name", "carol"}, {"password", "carol-password"}}).status, 409);
  EXPECT_EQ(send("POST", "/api/users", root, {{"name", "dave"}, {"password", "short"}}).status, 400);
  EXPECT_EQ(send("POST", "/api/users", root, {{"name", "Bad Name"}, {"password", "long-enough"}}).status, 400);
  EXPECT_EQ(send("DELETE", "/api/users/root", root).status, 409);
  EXPECT_EQ(send("DELETE", "/api/users/nobody", root).status, 404);

  // Deleting alice removes her hosts' records too.
  add_home(a);
  ASSERT_EQ(send("PUT", "/api/hosts/home.example.test", a, {{"ipv4", "192.0.2.10"}}).status, 200);
  Resp d = send("DELETE", "/api/users/alice", root);
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_TRUE(rr("home.example.test.", wire::RRType::A).empty());
  EXPECT_FALSE(acc->get_user("alice")->has_value());
  EXPECT_FALSE(acc->get_host("home.example.test")->has_value());

  // Passwords: own change needs the current one; admins reset others'.
  std::string b = login("bob", "bob-password-1");
  EXPECT_EQ(send("PUT", "/api/users/bob", b, {{"password", "bob-password-2"}}).status, 400);
  EXPECT_EQ(send("PUT", "/api/users/bob", b, {{"password", "bob-password-2"}, {"current", "nope-nope"}}).status, 403);
  EXPECT_EQ(send("PUT", "/api/users/bob", b, {{"password", "bob-password-2"}, {"current", "bob-password-1"}}).status, 200);
  EXPECT_EQ(send("PUT", "/api/users/root", b, {{"password", "hijacked-pw"}}).status, 403);
  EXPECT_EQ(send("PUT", "/api/users/bob", root, {{"password", "bob-password-3"}}).status, 200);
  EXPECT_TRUE(acc->check_password("bob", "bob-password-3")->has_value());
}

TEST_F(ApiTest, PasswordChangeEndsOtherSessions) {
  std::string here = login("alice", "alice-password");
  std::string phone = login("alice", "alice-password");
  std::string laptop = login("alice", "alice-password");
  std::string bob = login("bob", "bob-password-1");
  Resp t = send("POST", "/api/tokens", here, {{"label", "script"}});
  ASSERT_EQ(t.status, 201) << t.raw;

  Resp r = send("PUT", "/api/users/alice", here, {{"password", "alice-password-2"}, {"current", "alice-password"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["sessions_ended"], 2);
  EXPECT_EQ(get("/api/me", here).status, 200);  // the one that changed it stays signed in
  EXPECT_EQ(get("/api/me", phone).status, 401);
  EXPECT_EQ(get("/api/me", laptop).status, 401);
  EXPECT_EQ(get("/api/me", bob).status, 200);  // other users keep theirs
  // API tokens are separate credentials, revoked on their own.
  EXPECT_EQ(call({.target = "/api/me", .bearer = t.body["token"]}).status, 200);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login",
                  .body = R"({"user":"alice","password":"alice-password"})"}).status, 401);
  login("alice", "alice-password-2");

  // An admin's reset ends every session of that user.
  std::string root = login("root", "root-password");
  Resp reset = send("PUT", "/api/users/alice", root, {{"password", "alice-password-3"}});
  ASSERT_EQ(reset.status, 200) << reset.raw;
  EXPECT_EQ(reset.body["sessions_ended"], 2);
  EXPECT_EQ(get("/api/me", here).status, 401);
  EXPECT_EQ(get("/api/me", root).status, 200);
}

TEST_F(ApiTest, PasswordChangeRejectsBadInputAndChangesNothing) {
  std::string s = login("alice", "alice-password");
  std::string other = login("alice", "alice-password");
  Resp shortpw = send("PUT", "/api/users/alice", s, {{"password", "short"}, {"current", "alice-password"}});
  EXPECT_EQ(shortpw.status, 400);
  EXPECT_NE(shortpw.body.value("error", "").find("8"), std::string::npos) << shortpw.raw;
  EXPECT_EQ(send("PUT", "/api/users/alice", s, {{"password", 12345678}, {"current", "alice-password"}}).status, 400);
  EXPECT_EQ(call({.method = "PUT", .target = "/api/users/alice", .body = "{nope", .session = s}).status, 400);
  EXPECT_TRUE(acc->check_password("alice", "alice-password")->has_value());
  EXPECT_EQ(get("/api/me", other).status, 200);  // a refused change ends no session
}

TEST_F(ApiTest, WrongCurrentPasswordCountsAsFailedLogin) {
  std::string s = login("alice", "alice-password");
  Call wrong{.method = "PUT", .target = "/api/users/alice",
             .body = json{{"password", "alice-password-2"}, {"current", "guess-guess"}}.dump(), .session = s};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(call(wrong).status, 403) << i;
  Resp blocked = call(wrong);
  EXPECT_EQ(blocked.status, 429) << blocked.raw;
  // The right one waits too, and so does /api/login from that address:
  // the two share one counter.
  Call right = wrong;
  right.body = json{{"password", "alice-password-2"}, {"current", "alice-password"}}.dump();
  EXPECT_EQ(call(right).status, 429);
  EXPECT_EQ(call({.method = "POST", .target = "/api/login",
                  .body = R"({"user":"alice","password":"alice-password"})"}).status, 429);
  EXPECT_TRUE(acc->check_password("alice", "alice-password")->has_value());
  now += 3601;
  EXPECT_EQ(call(right).status, 200);
  EXPECT_TRUE(acc->check_password("alice", "alice-password-2")->has_value());
}

TEST_F(ApiTest, FailedLoginsThrottlePasswordChanges) {
  std::string s = login("alice", "alice-password");
  Call bad{.method = "POST", .target = "/api/login", .body = R"({"user":"bob","password":"wrong-pass"})"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(call(bad).status, 401) << i;
  Resp r = send("PUT", "/api/users/alice", s, {{"password", "alice-password-2"}, {"current", "alice-password"}});
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_TRUE(acc->check_password("alice", "alice-password")->has_value());
}

TEST_F(ApiTest, AdminZones) {
  std::string a = login("alice", "alice-password");
  Resp z = get("/api/zones", a);  // everyone may list them (to pick one)
  ASSERT_EQ(z.status, 200);
  ASSERT_EQ(z.body["zones"].size(), 1u);
  EXPECT_EQ(z.body["zones"][0]["name"], "example.test");
  EXPECT_EQ(z.body["zones"][0]["writable"], true);
  EXPECT_EQ(send("POST", "/api/zones", a, {{"name", "dyn.example.org"}}).status, 403);
  EXPECT_EQ(send("DELETE", "/api/zones/example.test", a).status, 403);

  std::string root = login("root", "root-password");
  Resp c = send("POST", "/api/zones", root, {{"name", "Dyn.Example.ORG."}});
  ASSERT_EQ(c.status, 201) << c.raw;
  EXPECT_EQ(c.body["zone"]["name"], "dyn.example.org");
  EXPECT_EQ(c.body["zone"]["writable"], false);  // not served here
  EXPECT_EQ(send("POST", "/api/zones", root, {{"name", "dyn.example.org"}}).status, 409);
  EXPECT_EQ(send("POST", "/api/zones", root, {{"name", "bad zone"}}).status, 400);
  add_home(a);
  EXPECT_EQ(send("DELETE", "/api/zones/example.test", root).status, 409);
  EXPECT_EQ(send("DELETE", "/api/zones/dyn.example.org", root).status, 200);
  EXPECT_EQ(send("DELETE", "/api/zones/dyn.example.org", root).status, 404);
  EXPECT_EQ(get("/api/zones", root).body["zones"].size(), 1u);
}

TEST_F(ApiTest, UnknownRoutesAnswerJson404) {
  std::string s = login("alice", "alice-password");
  Resp r = get("/api/nothing", s);
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.contains("error"));
  EXPECT_EQ(send("PATCH", "/api/hosts", s).status, 405);
}

TEST_F(ApiTest, WebPageAssets) {
  Resp index = call({.target = "/"});
  ASSERT_EQ(index.status, 200);
  EXPECT_TRUE(index.r.content_type.starts_with("text/html"));
  EXPECT_NE(index.raw.find("<script src=\"app.js\""), std::string::npos);
  EXPECT_NE(index.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  std::string etag = index.header("etag");
  ASSERT_FALSE(etag.empty());
  Resp again = call({.target = "/", .headers = {{"if-none-match", etag}}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.raw.empty());

  for (const char* p : {"/app.js", "/style.css", "/index.html", "/favicon.svg"}) {
    Resp a = call({.target = p});
    EXPECT_EQ(a.status, 200) << p;
    EXPECT_FALSE(a.raw.empty()) << p;
  }
  EXPECT_TRUE(call({.target = "/app.js"}).r.content_type.starts_with("text/javascript"));
  EXPECT_TRUE(call({.target = "/style.css"}).r.content_type.starts_with("text/css"));
  EXPECT_EQ(call({.target = "/nope.js"}).status, 404);
  EXPECT_EQ(call({.target = "/../etc/passwd"}).status, 404);
  EXPECT_EQ(call({.target = "/.hidden"}).status, 404);
  EXPECT_EQ(call({.target = "/a/b.js"}).status, 404);
}

TEST_F(ApiTest, WebRootServesFromDisk) {
  std::filesystem::create_directories(dir / "www");
  {
    std::ofstream f(dir / "www" / "index.html");
    f << "<p>dev page</p>";
  }
  Options o;
  o.web_root = (dir / "www").string();
  Context ctx;
  ctx.accounts = acc.get();
  Service dev(ctx, o);
  http::Router r;
  dev.install_web(r);
  bool mm = false;
  const http::Handler* h = r.find("GET", "/", &mm);
  ASSERT_NE(h, nullptr);
  http::Request req;
  req.method = "GET";
  req.path = req.target = "/";
  http::Response got;
  (*h)(req, [&got](http::Response x) { got = std::move(x); });
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "<p>dev page</p>");
  req.path = req.target = "/app.js";
  (*h)(req, [&got](http::Response x) { got = std::move(x); });
  EXPECT_EQ(got.status, 404);
}

}  // namespace
}  // namespace ddns::dyndns
