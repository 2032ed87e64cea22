// Tests for the DynDNS2 URL and answer codes, and the RFC 2136 message.
#include "client/dyndns2.h"

#include <gtest/gtest.h>

#include "client/rfc2136.h"
#include "tsig/tsig.h"
#include "wire/message.h"

namespace ddns::client {
namespace {

TEST(Dyndns2, Url) {
  auto v4 = IpAddr::parse("192.0.2.1");
  auto v6 = IpAddr::parse("2001:db8::1");
  EXPECT_EQ(dyndns2_url("http://127.0.0.1:8080", "h.example.test", v4, std::nullopt),
            "http://127.0.0.1:8080/nic/update?hostname=h.example.test&myip=192.0.2.1");
  EXPECT_EQ(dyndns2_url("https://d.example.test/", "h.example.test", v4, v6),
            "https://d.example.test/nic/update?hostname=h.example.test&myip=192.0.2.1%2C2001%3Adb8%3A%3A1");
  EXPECT_EQ(dyndns2_url("http://x/update.php?v=2", "h.example.test", std::nullopt, v6),
            "http://x/update.php?v=2&hostname=h.example.test&myip=2001%3Adb8%3A%3A1");
  EXPECT_EQ(dyndns2_url("http://x", "h.example.test", std::nullopt, std::nullopt),
            "http://x/nic/update?hostname=h.example.test");
}

TEST(Dyndns2, Answers) {
  struct {
    long status;
    const char* body;
    Verdict v;
    const char* code;
    int min_retry;
  } cases[] = {
      {200, "good 192.0.2.1\n", Verdict::Good, "good", 0},
      {200, "nochg 192.0.2.1", Verdict::Good, "nochg", 0},
      {200, "badauth", Verdict::Stop, "badauth", 0},
      {200, "nohost\n", Verdict::Stop, "nohost", 0},
      {200, "notfqdn", Verdict::Stop, "notfqdn", 0},
      {200, "abuse", Verdict::Stop, "abuse", 0},
      {200, "badagent", Verdict::Stop, "badagent", 0},
      {200, "!yours", Verdict::Stop, "!yours", 0},
      {200, "numhost", Verdict::Stop, "numhost", 0},
      {200, "911", Verdict::Retry, "911", 300},
      {200, "dnserr", Verdict::Retry, "dnserr", 0},
      {200, "<html>hello</html>", Verdict::Retry, "badreply", 0},
      {200, "", Verdict::Retry, "badreply", 0},
      {401, "badauth", Verdict::Stop, "badauth", 0},
      {403, "", Verdict::Stop, "badauth", 0},
      {500, "oops", Verdict::Retry, "http 500", 0},
      {503, "911", Verdict::Retry, "http 503", 300},
      {404, "not found", Verdict::Retry, "http 404", 0},
  };
  for (const auto& c : cases) {
    auto r = dyndns2_result(c.status, c.body);
    EXPECT_EQ(r.verdict, c.v) << c.status << " " << c.body;
    EXPECT_EQ(r.code, c.code) << c.body;
    EXPECT_EQ(r.min_retry_s, c.min_retry) << c.body;
  }
  // Control characters never reach the log line.
  EXPECT_EQ(dyndns2_result(200, std::string("x\x1b[31m", 6)).detail, "x?[31m");
}

TEST(Rfc2136, MessageReplacesRrsets) {
  Rfc2136Request req;
  req.zone = *wire::Name::from_text("example.test.");
  req.name = *wire::Name::from_text("host1.example.test.");
  req.ttl = 120;
  req.v4 = IpAddr::parse("192.0.2.7");
  req.v6 = IpAddr::parse("2001:db8::7");
  req.id = 0x1234;
  auto msg = build_update(req);
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  auto m = wire::parse(*msg);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->header.id, 0x1234);
  EXPECT_EQ(m->header.opcode(), wire::Opcode::Update);
  ASSERT_EQ(m->question.size(), 1u);  // zone section
  EXPECT_EQ(m->question[0].qtype, 6);
  EXPECT_TRUE(m->answer.empty());     // no prerequisites
  ASSERT_EQ(m->authority.size(), 4u); // delete A, add A, delete AAAA, add AAAA
  EXPECT_EQ(m->authority[0].type, 1);
  EXPECT_EQ(m->authority[0].rclass, 255);
  EXPECT_EQ(m->authority[0].ttl, 0u);
  EXPECT_TRUE(m->authority[0].rdata.empty());
  EXPECT_EQ(m->authority[1].rclass, 1);
  EXPECT_EQ(m->authority[1].ttl, 120u);
  EXPECT_EQ(m->authority[1].rdata, (wire::Bytes{192, 0, 2, 7}));
  EXPECT_EQ(m->authority[2].type, 28);
  EXPECT_EQ(m->authority[3].rdata.size(), 16u);

  req.name = *wire::Name::from_text("host1.example.org.");
  EXPECT_FALSE(build_update(req).ok());
}

TEST(Rfc2136, SignedRequestVerifiesAtServer) {
  Rfc2136Request req;
  req.zone = *wire::Name::from_text("example.test.");
  req.name = *wire::Name::from_text("h.example.test.");
  req.v4 = IpAddr::parse("192.0.2.7");
  auto msg = build_update(req);
  ASSERT_TRUE(msg.ok());
  tsig::Key key{*wire::Name::from_text("k1."), tsig::Algorithm::HmacSha256, wire::Bytes(32, 7)};
  tsig::Bytes mac;
  ASSERT_TRUE(tsig::sign_request(*msg, key, 1000000, &mac).ok());
  wire::ParseInfo info;
  auto m = wire::parse(*msg, &info);
  ASSERT_TRUE(m.ok());
  tsig::KeyRing ring;
  ring.add(key);
  auto v = tsig::verify_request(*msg, info, m->additional.back(), ring, 1000000);
  EXPECT_TRUE(v.ok()) << v.reason;
}

TEST(Rfc2136, Rcodes) {
  EXPECT_EQ(rfc2136_result(0, 0).verdict, Verdict::Good);
  EXPECT_EQ(rfc2136_result(2, 0).verdict, Verdict::Retry);
  EXPECT_EQ(rfc2136_result(5, 0).verdict, Verdict::Stop);
  EXPECT_EQ(rfc2136_result(5, 0).code, "REFUSED");
  EXPECT_EQ(rfc2136_result(9, 17).code, "BADKEY");
  EXPECT_EQ(rfc2136_result(9, 17).verdict, Verdict::Stop);
  EXPECT_EQ(rfc2136_result(9, 18).verdict, Verdict::Retry);
  EXPECT_EQ(rfc2136_result(10, 0).code, "NOTZONE");
}

TEST(Rfc2136, NetworkTimeoutIsRetry) {
  // A bound UDP socket that never answers.
  Rfc2136Request req;
  req.zone = *wire::Name::from_text("example.test.");
  req.name = *wire::Name::from_text("h.example.test.");
  req.v4 = IpAddr::parse("192.0.2.7");
  auto r = rfc2136_update({"127.0.0.1:9", 300}, req, nullptr, 0);  // discard port, nothing listens
  EXPECT_EQ(r.verdict, Verdict::Retry);
  auto bad = rfc2136_update({"[::1", 300}, req, nullptr, 0);
  EXPECT_EQ(bad.verdict, Verdict::Retry);
  EXPECT_EQ(bad.code, "network");
}

}  // namespace
}  // namespace ddns::client
