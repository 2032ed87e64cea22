// Tests of the transfer client: the response-stream parser on every IXFR
// answer shape, and SOA/AXFR/IXFR exchanges with a fake primary on loopback.
#include "xfr/in.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "zone/serial.h"

namespace ddns::xfr {
namespace {

using wire::Name;
using wire::RR;

Name N(const char* t) { return *Name::from_text(t); }

RR soa(uint32_t serial, const char* origin = "example.test.") {
  RR rr;
  rr.owner = N(origin);
  rr.type = 6;
  rr.ttl = 3600;
  Name ns = N("ns.example.test.");
  Name mb = N("hostmaster.example.test.");
  rr.rdata.assign(ns.wire().begin(), ns.wire().end());
  rr.rdata.insert(rr.rdata.end(), mb.wire().begin(), mb.wire().end());
  for (uint32_t f : {serial, 60u, 10u, 600u, 300u})
    for (int s = 24; s >= 0; s -= 8) rr.rdata.push_back(uint8_t(f >> s));
  return rr;
}

RR a(const char* owner, uint8_t last) {
  RR rr;
  rr.owner = N(owner);
  rr.type = 1;
  rr.ttl = 300;
  rr.rdata = {192, 0, 2, last};
  return rr;
}

std::vector<RR> v(std::initializer_list<RR> l) { return std::vector<RR>(l); }

TEST(SoaFields, SerialAndTimers) {
  RR s = soa(42);
  EXPECT_EQ(soa_serial(s.rdata), 42u);
  auto t = soa_timers(s.rdata);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->refresh, 60u);
  EXPECT_EQ(t->retry, 10u);
  EXPECT_EQ(t->expire, 600u);
  s.rdata.pop_back();
  EXPECT_FALSE(soa_serial(s.rdata));
  EXPECT_FALSE(soa_timers(std::vector<uint8_t>{}));
}

TEST(TransferReader, Axfr) {
  TransferReader r(N("example.test."), 252, 0, 1000);
  auto d = r.add(v({soa(5), a("www.example.test.", 1)}));
  ASSERT_TRUE(d);
  EXPECT_FALSE(*d);
  d = r.add(v({a("mail.example.test.", 2), soa(5)}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d);
  Transfer t = r.take();
  EXPECT_EQ(t.kind, Transfer::Kind::Full);
  EXPECT_EQ(t.serial, 5u);
  EXPECT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[0].type, 6);
}

TEST(TransferReader, AxfrSoaOnlyZone) {
  TransferReader r(N("example.test."), 252, 0, 1000);
  auto d = r.add(v({soa(5), soa(5)}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d);
  EXPECT_EQ(r.take().records.size(), 1u);
}

TEST(TransferReader, IxfrIncrementalChained) {
  // RFC 1995 §7 example shape: 1 -> 2 -> 3.
  TransferReader r(N("example.test."), 251, 1, 1000);
  auto d = r.add(v({soa(3), soa(1), a("a.example.test.", 1), soa(2), a("a.example.test.", 2)}));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(*d);
  d = r.add(v({soa(2), soa(3), a("b.example.test.", 3), soa(3)}));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(*d);
  Transfer t = r.take();
  ASSERT_EQ(t.kind, Transfer::Kind::Incremental);
  ASSERT_EQ(t.changes.size(), 2u);
  EXPECT_EQ(t.changes[0].serial_from, 1u);
  EXPECT_EQ(t.changes[0].serial_to, 2u);
  EXPECT_EQ(t.changes[0].removed.size(), 2u);
  EXPECT_EQ(t.changes[0].added.size(), 2u);
  EXPECT_EQ(t.changes[1].serial_from, 2u);
  EXPECT_EQ(t.changes[1].serial_to, 3u);
  EXPECT_EQ(t.changes[1].removed.size(), 1u);
  EXPECT_EQ(t.changes[1].added.size(), 2u);
}

TEST(TransferReader, IxfrUpToDate) {
  TransferReader r(N("example.test."), 251, 7, 1000);
  auto d = r.add(v({soa(7)}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d);
  EXPECT_EQ(r.take().kind, Transfer::Kind::UpToDate);
  // A primary behind us (serial older) also means "nothing to do".
  TransferReader r2(N("example.test."), 251, 7, 1000);
  auto d2 = r2.add(v({soa(6)}));
  ASSERT_TRUE(d2);
  EXPECT_TRUE(*d2);
}

TEST(TransferReader, IxfrAnsweredInAxfrForm) {
  TransferReader r(N("example.test."), 251, 1, 1000);
  auto d = r.add(v({soa(9), a("www.example.test.", 1), soa(9)}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d);
  Transfer t = r.take();
  EXPECT_EQ(t.kind, Transfer::Kind::Full);
  EXPECT_EQ(t.records.size(), 2u);
}

TEST(TransferReader, IxfrLoneNewerSoaWaitsForMore) {
  TransferReader r(N("example.test."), 251, 1, 1000);
  auto d = r.add(v({soa(2)}));
  ASSERT_TRUE(d);
  EXPECT_FALSE(*d);
  d = r.add(v({soa(1), soa(2), a("x.example.test.", 1), soa(2)}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(*d);
  EXPECT_EQ(r.take().kind, Transfer::Kind::Incremental);
}

TEST(TransferReader, Errors) {
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    EXPECT_FALSE(r.add(v({a("www.example.test.", 1)})));  // no SOA first
  }
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    EXPECT_FALSE(r.add(v({soa(1), a("www.example.org.", 1)})));  // out of zone
  }
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    EXPECT_FALSE(r.add(v({soa(1), a("www.example.test.", 1), soa(2)})));  // serial differs
  }
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    EXPECT_FALSE(r.add(v({soa(1), soa(1), a("www.example.test.", 1)})));  // after the end
  }
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    RR ch = a("www.example.test.", 1);
    ch.rclass = 3;
    EXPECT_FALSE(r.add(v({soa(1), ch})));
  }
  {
    TransferReader r(N("example.test."), 252, 0, 1000);
    EXPECT_FALSE(r.add(v({soa(1), soa(1, "sub.example.test.")})));  // SOA below apex
  }
  {
    TransferReader r(N("example.test."), 251, 1, 1000);  // chain broken 1->2, 5->6
    EXPECT_FALSE(r.add(v({soa(6), soa(1), soa(2), soa(5), soa(6), soa(6)})));
  }
  {
    TransferReader r(N("example.test."), 252, 0, 3);  // record limit
    EXPECT_FALSE(r.add(v({soa(1), a("a.example.test.", 1), a("b.example.test.", 1),
                          a("c.example.test.", 1), soa(1)})));
  }
}

TEST(Primary, ParseAndMatch) {
  tsig::KeyRing ring;
  tsig::Key k;
  k.name = N("xfr-key.");
  k.secret = {1, 2, 3, 4};
  ring.add(k);
  auto p = parse_primary("127.0.0.1:5300@xfr-key", ring);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_TRUE(p->key);
  EXPECT_EQ(p->key->name, N("xfr-key."));
  EXPECT_EQ(p->addr.port(), 5300);
  EXPECT_FALSE(parse_primary("127.0.0.1:5300@nokey", ring));
  EXPECT_FALSE(parse_primary("127.0.0.1", ring));
  EXPECT_FALSE(parse_primary("example.org:53", ring));
  auto p6 = parse_primary("[::1]:53", ring);
  ASSERT_TRUE(p6);
  EXPECT_FALSE(p6->key);

  sockaddr_in s4{};
  s4.sin_family = AF_INET;
  s4.sin_port = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
  EXPECT_TRUE(same_address(p->addr, reinterpret_cast<sockaddr*>(&s4), sizeof s4));
  EXPECT_FALSE(same_address(p6->addr, reinterpret_cast<sockaddr*>(&s4), sizeof s4));
  sockaddr_in6 m6{};
  m6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m6.sin6_addr);
  EXPECT_TRUE(same_address(p->addr, reinterpret_cast<sockaddr*>(&m6), sizeof m6));
  inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
  EXPECT_FALSE(same_address(p->addr, reinterpret_cast<sockaddr*>(&s4), sizeof s4));
  EXPECT_FALSE(same_address(p->addr, nullptr, 0));
}

// ---- A fake primary on 127.0.0.1 ----------------------------------------------

// Answers one TCP connection: reads one request, then sends the messages
// `respond` returns (each signed when the request was, every second one
// left unsigned to exercise RFC 8945 §5.3.1 chaining).
class FakePrimary {
 public:
  using Respond = std::function<std::vector<wire::Message>(const wire::Message& req)>;
  FakePrimary(Respond respond, const tsig::KeyRing* ring, bool udp = false)
      : respond_(std::move(respond)), ring_(ring), udp_(udp) {
    fd_ = ::socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t l = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &l);
    port_ = ntohs(sa.sin_port);
    if (!udp) ::listen(fd_, 4);
    thread_ = std::thread([this] { udp_ ? serve_udp() : serve_tcp(); });
  }
  ~FakePrimary() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  PrimaryAddr addr(const tsig::Key* key = nullptr) const {
    PrimaryAddr p;
    p.addr = *net::Endpoint::parse("127.0.0.1:" + std::to_string(port_));
    if (key) p.key = *key;
    return p;
  }

 private:
  std::vector<std::vector<uint8_t>> answers(const std::vector<uint8_t>& req) {
    std::vector<std::vector<uint8_t>> out;
    wire::ParseInfo info;
    auto m = wire::parse(req, &info);
    if (!m) return out;
    std::optional<tsig::Verified> vr;
    std::optional<tsig::StreamSigner> signer;
    if (info.tsig_offset && ring_) {
      vr = tsig::verify_request(req, info, m->additional.back(), *ring_, tsig::now_seconds());
      if (vr->ok()) signer.emplace(*vr->key, vr->mac());
    }
    auto msgs = respond_(*m);
    for (size_t i = 0; i < msgs.size(); ++i) {
      msgs[i].header.id = m->header.id;
      msgs[i].header.set_qr(true);
      auto bytes = wire::render(msgs[i]);
      if (!bytes) continue;
      if (vr && !vr->ok()) {
        (void)tsig::sign_response(*bytes, *vr, tsig::now_seconds());
      } else if (signer) {
        bool last = i + 1 == msgs.size();
        if (i % 2 == 1 && !last) (void)signer->add_unsigned(*bytes);
        else (void)signer->sign(*bytes, tsig::now_seconds());
      }
      out.push_back(std::move(*bytes));
    }
    return out;
  }
  void serve_tcp() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    uint8_t len[2];
    if (::recv(c, len, 2, MSG_WAITALL) == 2) {
      std::vector<uint8_t> req(size_t(len[0]) << 8 | len[1]);
      if (::recv(c, req.data(), req.size(), MSG_WAITALL) == ssize_t(req.size())) {
        for (auto& b : answers(req)) {
          uint8_t l2[2] = {uint8_t(b.size() >> 8), uint8_t(b.size())};
          (void)::send(c, l2, 2, MSG_NOSIGNAL);
          (void)::send(c, b.data(), b.size(), MSG_NOSIGNAL);
        }
      }
    }
    ::close(c);
  }
  void serve_udp() {
    std::vector<uint8_t> buf(65535);
    sockaddr_storage from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n <= 0) return;
    buf.resize(size_t(n));
    for (auto& b : answers(buf))
      ::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
  }

  Respond respond_;
  const tsig::KeyRing* ring_;
  bool udp_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

wire::Message msg_with(const wire::Message& req, std::vector<RR> answer, bool question = true) {
  wire::Message m;
  m.header.set_aa(true);
  if (question) m.question = req.question;
  m.answer = std::move(answer);
  return m;
}

Limits fast() {
  Limits l;
  l.udp_timeout = std::chrono::milliseconds(500);
  l.connect_timeout = std::chrono::milliseconds(1000);
  l.idle_timeout = std::chrono::milliseconds(2000);
  l.total_timeout = std::chrono::milliseconds(5000);
  return l;
}

tsig::Key test_key(const char* name, uint8_t fill) {
  tsig::Key k;
  k.name = N(name);
  k.alg = tsig::Algorithm::HmacSha256;
  k.secret.assign(32, fill);
  return k;
}

TEST(RunTransfer, AxfrSignedMultiMessage) {
  tsig::KeyRing ring;
  tsig::Key key = test_key("xfr.", 7);
  ring.add(key);
  FakePrimary fp(
      [](const wire::Message& req) {
        EXPECT_EQ(req.question.at(0).qtype, 252);
        return std::vector<wire::Message>{
            msg_with(req, {soa(10), a("a.example.test.", 1)}),
            msg_with(req, {a("b.example.test.", 2)}, false),
            msg_with(req, {a("c.example.test.", 3)}, false),
            msg_with(req, {soa(10)}, false)};
      },
      &ring);
  auto t = run_transfer(fp.addr(&key), N("example.test."), nullptr, fast());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->kind, Transfer::Kind::Full);
  EXPECT_EQ(t->serial, 10u);
  EXPECT_EQ(t->records.size(), 4u);
  EXPECT_EQ(t->messages, 4u);
}

TEST(RunTransfer, WrongKeyFails) {
  tsig::KeyRing ring;
  ring.add(test_key("xfr.", 7));
  FakePrimary fp(
      [](const wire::Message& req) {
        return std::vector<wire::Message>{msg_with(req, {soa(10), soa(10)})};
      },
      &ring);
  tsig::Key wrong = test_key("xfr.", 8);
  auto t = run_transfer(fp.addr(&wrong), N("example.test."), nullptr, fast());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("TSIG"), std::string::npos) << t.error().message;
}

TEST(RunTransfer, UnsignedAnswerToSignedRequestFails) {
  FakePrimary fp(
      [](const wire::Message& req) {
        return std::vector<wire::Message>{msg_with(req, {soa(10), soa(10)})};
      },
      nullptr);
  tsig::Key key = test_key("xfr.", 7);
  auto t = run_transfer(fp.addr(&key), N("example.test."), nullptr, fast());
  EXPECT_FALSE(t);
}

TEST(RunTransfer, IxfrWithOurSoaInAuthority) {
  FakePrimary fp(
      [](const wire::Message& req) {
        EXPECT_EQ(req.question.at(0).qtype, 251);
        EXPECT_EQ(req.authority.size(), 1u);
        uint32_t ours = soa_serial(req.authority.at(0).rdata).value_or(0);
        EXPECT_EQ(ours, 1u);
        return std::vector<wire::Message>{msg_with(
            req, {soa(2), soa(1), a("a.example.test.", 1), soa(2), a("a.example.test.", 2), soa(2)})};
      },
      nullptr);
  RR ours = soa(1);
  auto t = run_transfer(fp.addr(), N("example.test."), &ours, fast());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->kind, Transfer::Kind::Incremental);
  ASSERT_EQ(t->changes.size(), 1u);
  EXPECT_EQ(t->changes[0].serial_to, 2u);
}

TEST(RunTransfer, IxfrRefusedIsRcodeError) {
  FakePrimary fp(
      [](const wire::Message& req) {
        wire::Message m = msg_with(req, {});
        m.header.set_rcode(uint8_t(wire::Rcode::NotImp));
        return std::vector<wire::Message>{m};
      },
      nullptr);
  RR ours = soa(1);
  auto t = run_transfer(fp.addr(), N("example.test."), &ours, fast());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message.rfind("rcode NOTIMP", 0), 0u) << t.error().message;
}

TEST(RunTransfer, WrongQuestionAndEarlyCloseFail) {
  {
    FakePrimary fp(
        [](const wire::Message&) {
          wire::Message m;
          m.question.push_back({N("example.org."), 252, 1});
          m.answer = {soa(1, "example.org."), soa(1, "example.org.")};
          return std::vector<wire::Message>{m};
        },
        nullptr);
    EXPECT_FALSE(run_transfer(fp.addr(), N("example.test."), nullptr, fast()));
  }
  {
    FakePrimary fp(
        [](const wire::Message& req) {
          return std::vector<wire::Message>{msg_with(req, {soa(3), a("a.example.test.", 1)})};
        },
        nullptr);
    auto t = run_transfer(fp.addr(), N("example.test."), nullptr, fast());
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().message.find("closed"), std::string::npos) << t.error().message;
  }
}

TEST(RunTransfer, ConnectRefusedAndCancel) {
  // A port nobody listens on (bound, not listening).
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t l = sizeof sa;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &l);
  PrimaryAddr p;
  p.addr = *net::Endpoint::parse("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
  EXPECT_FALSE(run_transfer(p, N("example.test."), nullptr, fast()));
  ::close(s);
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(query_soa(p, N("example.test."), fast(), &cancel));
}

TEST(QuerySoa, UdpSigned) {
  tsig::KeyRing ring;
  tsig::Key key = test_key("xfr.", 9);
  ring.add(key);
  FakePrimary fp(
      [](const wire::Message& req) {
        EXPECT_EQ(req.question.at(0).qtype, 6);
        return std::vector<wire::Message>{msg_with(req, {soa(77)})};
      },
      &ring, /*udp=*/true);
  auto s = query_soa(fp.addr(&key), N("example.test."), fast());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s, 77u);
}

TEST(QuerySoa, NotAuthoritativeFails) {
  FakePrimary fp(
      [](const wire::Message& req) {
        wire::Message m = msg_with(req, {soa(77)});
        m.header.set_aa(false);
        return std::vector<wire::Message>{m};
      },
      nullptr, true);
  EXPECT_FALSE(query_soa(fp.addr(), N("example.test."), fast()));
}

}  // namespace
}  // namespace ddns::xfr
