// NOTIFY sender against a fake secondary on loopback: message shape,
// retransmission until answered, TSIG signing, giving up, target syntax.
#include "xfr/notify.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "zone/master.h"

namespace ddns::xfr {
namespace {

using namespace std::chrono_literals;
using wire::Name;

Name N(const char* s) { return *Name::from_text(s); }

wire::RR soa(uint32_t serial) {
  wire::RR r;
  r.owner = N("example.test.");
  r.type = 6;
  r.ttl = 3600;
  for (const char* n : {"ns1.example.test.", "hostmaster.example.test."}) {
    Name name = N(n);
    r.rdata.insert(r.rdata.end(), name.wire().begin(), name.wire().end());
  }
  uint32_t nums[5] = {serial, 3600, 600, 86400, 300};
  for (uint32_t v : nums)
    for (int s = 24; s >= 0; s -= 8) r.rdata.push_back(uint8_t(v >> s));
  return r;
}

struct FakeSecondary {
  int fd = -1;
  uint16_t port = 0;
  FakeSecondary() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t l = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
    port = ntohs(a.sin_port);
  }
  ~FakeSecondary() { ::close(fd); }
  // One datagram within `ms`, with its sender.
  std::vector<uint8_t> recv(int ms, sockaddr_in* from) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return {};
    std::vector<uint8_t> b(4096);
    socklen_t l = sizeof *from;
    ssize_t n = ::recvfrom(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(from), &l);
    b.resize(n > 0 ? size_t(n) : 0);
    return b;
  }
  void answer(const std::vector<uint8_t>& q, const sockaddr_in& to, uint8_t rcode = 0) {
    auto m = wire::parse(q);
    ASSERT_TRUE(m.ok());
    wire::Message r;
    r.header = m->header;
    r.header.set_qr(true);
    r.header.set_rcode(rcode);
    r.question = m->question;
    auto b = wire::render(r);
    ::sendto(fd, b->data(), b->size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(port); }
};

NotifyOptions fast() {
  NotifyOptions o;
  o.backoff = {50ms, 50ms, 50ms};
  return o;
}

TEST(Notify, TargetSyntax) {
  tsig::KeyRing ring;
  ring.add({N("k1."), tsig::Algorithm::HmacSha256, wire::Bytes(32, 1)});
  auto a = NotifyTarget::parse("192.0.2.1:5353", ring);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->addr.to_string(), "192.0.2.1:5353");
  EXPECT_FALSE(a->key);
  auto b = NotifyTarget::parse("[2001:db8::1]:53@k1", ring);
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_TRUE(b->key);
  EXPECT_EQ(b->key->name.to_text(), "k1.");
  auto c = NotifyTarget::parse("192.0.2.1", ring);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->addr.port(), 53);
  auto d = NotifyTarget::parse("2001:db8::2", ring);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->addr.to_string(), "[2001:db8::2]:53");
  EXPECT_FALSE(NotifyTarget::parse("192.0.2.1:53@nokey", ring).ok());
  EXPECT_FALSE(NotifyTarget::parse("ns.example.test:53", ring).ok());
  EXPECT_FALSE(NotifyTarget::parse("192.0.2.1:99999", ring).ok());
}

TEST(Notify, SendsRetriesUntilAnswered) {
  FakeSecondary sec;
  NotifySender s(fast());
  tsig::KeyRing ring;
  s.set_targets(N("example.test."), {*NotifyTarget::parse(sec.target(), ring)});
  ASSERT_TRUE(s.start().ok());
  s.notify(N("example.test."), soa(42));
  sockaddr_in from{};
  auto first = sec.recv(2000, &from);
  ASSERT_FALSE(first.empty());
  auto m = wire::parse(first);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header.opcode(), wire::Opcode::Notify);
  EXPECT_TRUE(m->header.aa());
  EXPECT_FALSE(m->header.qr());
  ASSERT_EQ(m->question.size(), 1u);
  EXPECT_EQ(m->question[0].qtype, 6);
  ASSERT_EQ(m->answer.size(), 1u);
  EXPECT_EQ(m->answer[0].rdata, soa(42).rdata);
  // Not answered: it comes again, same id; then answer.
  auto again = sec.recv(2000, &from);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0], first[0]);
  EXPECT_EQ(again[1], first[1]);
  sec.answer(again, from);
  for (int i = 0; i < 200 && s.stats().acked == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(s.stats().acked, 1u);
  // Nothing more after the answer.
  EXPECT_TRUE(sec.recv(200, &from).empty());
  s.stop();
}

TEST(Notify, GivesUpAndNewerSerialReplaces) {
  FakeSecondary sec;
  NotifySender s(fast());
  tsig::KeyRing ring;
  s.set_targets(N("example.test."), {*NotifyTarget::parse(sec.target(), ring)});
  ASSERT_TRUE(s.start().ok());
  s.notify(N("example.test."), soa(1));
  sockaddr_in from{};
  ASSERT_FALSE(sec.recv(2000, &from).empty());
  s.notify(N("example.test."), soa(2));
  // From now on only serial 2 is sent: 1 + 3 retries, then given up.
  int count = 0;
  for (;;) {
    auto d = sec.recv(500, &from);
    if (d.empty()) break;
    auto m = wire::parse(d);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->answer[0].rdata, soa(2).rdata);
    ++count;
  }
  EXPECT_EQ(count, 4);
  EXPECT_EQ(s.stats().given_up, 1u);
  EXPECT_EQ(s.stats().replaced, 1u);
  s.stop();
}

TEST(Notify, SignedWithTsig) {
  FakeSecondary sec;
  tsig::Key key{N("notify-key."), tsig::Algorithm::HmacSha256, wire::Bytes(32, 9)};
  tsig::KeyRing ring;
  ring.add(key);
  NotifySender s(fast());
  s.set_targets(N("example.test."), {*NotifyTarget::parse(sec.target() + "@notify-key", ring)});
  ASSERT_TRUE(s.start().ok());
  s.notify(N("example.test."), soa(5));
  sockaddr_in from{};
  auto d = sec.recv(2000, &from);
  ASSERT_FALSE(d.empty());
  wire::ParseInfo info;
  auto m = wire::parse(d, &info);
  ASSERT_TRUE(m.ok());
  ASSERT_NE(info.tsig_offset, 0u);
  auto v = tsig::verify_request(d, info, m->additional.back(), ring, tsig::now_seconds());
  EXPECT_TRUE(v.ok()) << tsig::status_text(v.status);
  // An unsigned answer is ignored (retries go on); a signed one ends it.
  sec.answer(d, from);
  auto again = sec.recv(2000, &from);
  ASSERT_FALSE(again.empty());
  wire::Bytes resp;
  {
    wire::Message r;
    r.header = m->header;
    r.header.set_qr(true);
    r.question = m->question;
    resp = *wire::render(r);
  }
  ASSERT_TRUE(tsig::sign_response(resp, v, tsig::now_seconds()).ok());
  ::sendto(sec.fd, resp.data(), resp.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from);
  for (int i = 0; i < 200 && s.stats().acked == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(s.stats().acked, 1u);
  s.stop();
}

std::shared_ptr<const zone::Zone> zone_of(const char* text, const char* origin) {
  auto pr = zone::parse_master_text(text, "test.zone", N(origin));
  for (const auto& e : pr.errors) ADD_FAILURE() << e.to_string();
  auto z = zone::Zone::build(N(origin), std::move(pr.records));
  EXPECT_TRUE(z.ok());
  return z.ok() ? *z : nullptr;
}

// RFC 1996 §3.3/§3.6: every NS host but the MNAME, at each of its A/AAAA
// addresses found in our own zones; our own listeners are skipped.
TEST(Notify, NsAddresses) {
  auto z = zone_of(R"($TTL 60
@ IN SOA ns1.example.test. h.example.test. 1 2 3 4 5
@ IN NS ns1.example.test.
@ IN NS NS2.example.test.
@ IN NS ns3.example.test.
@ IN NS ns.other.test.
@ IN NS ns.nowhere.test.
ns1 IN A 127.0.0.1
ns2 IN A 127.0.0.2
ns2 IN AAAA ::2
ns3 IN A 127.0.0.3
ns3 IN A 127.0.0.1
)", "example.test.");
  auto other = zone_of(R"($TTL 60
@ IN SOA ns.other.test. h.other.test. 1 2 3 4 5
@ IN NS ns.other.test.
ns IN A 127.0.0.4
)", "other.test.");
  ASSERT_TRUE(z && other);
  auto set = std::make_shared<const zone::ZoneSet>()->with(z)->with(other);
  std::vector<net::Endpoint> own{*net::Endpoint::parse("127.0.0.1:5300")};
  std::vector<std::string> unknown;
  auto t = ns_targets(*z, *set, 5300, own, &unknown);
  std::vector<std::string> addrs;
  for (const auto& x : t) addrs.push_back(x.addr.to_string());
  std::sort(addrs.begin(), addrs.end());
  EXPECT_EQ(addrs, (std::vector<std::string>{"127.0.0.2:5300", "127.0.0.3:5300", "127.0.0.4:5300",
                                             "[::2]:5300"}));
  EXPECT_EQ(unknown, std::vector<std::string>{"ns.nowhere.test."});
  for (const auto& x : t) EXPECT_FALSE(x.key.has_value());
}

TEST(Notify, NsTargetsMergedWithConfigured) {
  tsig::KeyRing ring;
  ring.add(tsig::Key{N("k1."), tsig::Algorithm::HmacSha256, wire::Bytes(32, 7)});
  std::vector<NotifyTarget> configured{*NotifyTarget::parse("127.0.0.2:5300@k1", ring),
                                       *NotifyTarget::parse("127.0.0.9:53", ring)};
  std::vector<NotifyTarget> extra{*NotifyTarget::parse("127.0.0.2:5300", ring),
                                  *NotifyTarget::parse("127.0.0.3:5300", ring)};
  auto all = merge_targets(configured, extra);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].addr.to_string(), "127.0.0.2:5300");
  EXPECT_TRUE(all[0].key.has_value());  // the configured entry, with its key, wins
  EXPECT_EQ(all[1].addr.to_string(), "127.0.0.9:53");
  EXPECT_EQ(all[2].addr.to_string(), "127.0.0.3:5300");
}

// The NS-derived list is used as given: a target that is not configured
// gets the NOTIFY.
TEST(Notify, ExplicitTargetsUsed) {
  FakeSecondary sec;
  tsig::KeyRing ring;
  NotifySender s(fast());
  ASSERT_TRUE(s.start().ok());
  s.notify(N("example.test."), soa(9), {*NotifyTarget::parse(sec.target(), ring)});
  sockaddr_in from{};
  auto d = sec.recv(2000, &from);
  ASSERT_FALSE(d.empty());
  auto m = wire::parse(d);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header.opcode(), wire::Opcode::Notify);
  sec.answer(d, from);
  for (int i = 0; i < 200 && s.stats().acked == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(s.stats().acked, 1u);
  s.stop();
}

}  // namespace
}  // namespace ddns::xfr
