// The dispatcher without sockets: every opcode, TSIG good / bad key / bad
// signature / outside the time window / replayed, malformed messages,
// NOTIFY receipt, the transfer decisions, and random mutations of valid
// messages (never a crash, never an answer past the buffer).
#include "dispatch/dispatch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <random>

#include "zone/master.h"

namespace ddns::dispatch {
namespace {

using wire::Name;
using wire::Rcode;

Name N(const std::string& s) { return *Name::from_text(s); }

constexpr const char* kZone = R"(
$ORIGIN example.test.
$TTL 60
@ IN SOA ns1.example.test. h.example.test. 7 3600 600 86400 300
@ IN NS ns1.example.test.
ns1 IN A 192.0.2.53
www IN A 192.0.2.80
)";

std::shared_ptr<const zone::Zone> load(const char* text, const char* origin) {
  auto o = N(origin);
  auto pr = zone::parse_master_text(text, "test.zone", o);
  for (const auto& e : pr.errors) ADD_FAILURE() << e.to_string();
  auto z = zone::Zone::build(o, std::move(pr.records));
  EXPECT_TRUE(z.ok());
  return *z;
}

std::shared_ptr<const zone::ZoneSet> zones() {
  auto s = std::make_shared<const zone::ZoneSet>();
  s = s->with(load(kZone, "example.test."));
  s = s->with(load(R"(
$ORIGIN dyn.example.test.
$TTL 60
@ IN SOA ns1.example.test. h.example.test. 1 3600 600 86400 300
@ IN NS ns1.example.test.
)",
                   "dyn.example.test."));
  return s;
}

tsig::Bytes secret() {
  tsig::Bytes b;
  for (char c : std::string("dispatch-test-secret-0123456789")) b.push_back(uint8_t(c));
  return b;
}
const tsig::Key& key() {
  static tsig::Key k{N("xfr.example.test."), tsig::Algorithm::HmacSha256, secret()};
  return k;
}

uint64_t g_now = 1'800'000'000;
uint64_t test_clock() { return g_now; }

sockaddr_in addr4(const char* ip, uint16_t port = 5353) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

struct Msg {
  wire::Opcode op = wire::Opcode::Query;
  std::string qname = "www.example.test.";
  uint16_t qtype = 1;
  uint16_t qclass = 1;
  bool qr = false;
  int questions = 1;
  std::optional<uint32_t> ixfr_serial = std::nullopt;  // SOA in authority (IXFR)
  const tsig::Key* sign = nullptr;
  uint64_t signed_at = 0;  // 0 = g_now
};

std::vector<uint8_t> build(const Msg& m, std::vector<uint8_t>* mac = nullptr) {
  std::vector<uint8_t> buf(4096);
  wire::MessageBuilder b(buf.data(), buf.size());
  wire::Header h;
  h.id = 0x4242;
  h.set_opcode(m.op);
  h.set_qr(m.qr);
  b.set_header(h);
  for (int i = 0; i < m.questions; ++i) b.add_question(N(m.qname), m.qtype, m.qclass);
  if (m.ixfr_serial) {
    wire::Bytes rd;
    for (const char* n : {"ns1.example.test.", "h.example.test."}) {
      Name name = N(n);
      auto w = name.wire();
      rd.insert(rd.end(), w.begin(), w.end());
    }
    for (uint32_t v : {*m.ixfr_serial, 3600u, 600u, 86400u, 300u})
      for (int s = 24; s >= 0; s -= 8) rd.push_back(uint8_t(v >> s));
    b.add_rr(wire::MessageBuilder::Section::Authority, wire::RR{N(m.qname), 6, 1, 0, rd});
  }
  size_t n = b.finish();
  if (m.sign) {
    tsig::Bytes mac_out;
    auto s = tsig::sign_request(buf.data(), n, buf.size(), *m.sign, m.signed_at ? m.signed_at : g_now,
                                &mac_out);
    EXPECT_TRUE(s.ok());
    n = *s;
    if (mac) *mac = mac_out;
  }
  buf.resize(n);
  return buf;
}

wire::Message parsed(std::span<const uint8_t> b, wire::ParseInfo* info = nullptr) {
  auto m = wire::parse(b, info);
  EXPECT_TRUE(m.ok());
  return m ? std::move(*m) : wire::Message{};
}

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_now = 1'800'000'000;
    ring_.add(key());
    ctx_.ring = &ring_;
    ctx_.replay = &replay_;
    ctx_.clock = &test_clock;
    ctx_.writer = [this](const Name& origin) -> update::ZoneWriter* {
      return origin == N("dyn.example.test.") ? fake_writer() : nullptr;
    };
    std::vector<std::string> acl = {"192.0.2.1", "key xfr.example.test."};
    xfr::AclMap acls;
    acls[N("example.test.")] = *xfr::Acl::parse(acl);
    acls_.publish(std::make_shared<const xfr::AclMap>(std::move(acls)));
    ctx_.transfer_acls = &acls_;
    auto p = xfr::parse_primary("192.0.2.9:53", ring_);
    ASSERT_TRUE(p.ok());
    primaries_.push_back(*p);
    ctx_.notify_primaries = [this](const Name& z) -> const std::vector<xfr::PrimaryAddr>* {
      return z == N("example.test.") ? &primaries_ : nullptr;
    };
  }

  // Never dereferenced by the dispatcher: the test only checks it is handed on.
  update::ZoneWriter* fake_writer() { return reinterpret_cast<update::ZoneWriter*>(&writer_token_); }

  Outcome run(std::span<const uint8_t> bytes, net::Transport t = net::Transport::Udp,
              const char* from = "192.0.2.1") {
    src_ = addr4(from);
    Received rx{bytes, t, reinterpret_cast<const sockaddr*>(&src_), sizeof src_};
    Dispatcher d(ctx_, 1);
    return d.dispatch(*zones_, rx, out_.data(), out_.size());
  }

  // The answer's message (fails the test when the outcome is not Answer).
  wire::Message answer(const Outcome& o, wire::ParseInfo* info = nullptr) {
    const auto* a = std::get_if<Answer>(&o);
    EXPECT_TRUE(a) << "outcome index " << o.index();
    if (!a) return {};
    EXPECT_LE(a->size, out_.size());
    return parsed({out_.data(), a->size}, info);
  }
  Rcode rcode(const Outcome& o) { return Rcode(answer(o).header.rcode()); }
  // The TSIG error of an answer (-1 when unsigned).
  int tsig_error(const Outcome& o) {
    auto m = answer(o);
    if (m.additional.empty() || m.additional.back().type != tsig::kTypeTsig) return -1;
    auto t = tsig::parse_tsig(m.additional.back());
    EXPECT_TRUE(t.ok());
    return t ? t->error : -1;
  }

  std::shared_ptr<const zone::ZoneSet> zones_ = zones();
  tsig::KeyRing ring_;
  tsig::ReplayCache replay_;
  net::Published<xfr::AclMap> acls_{std::make_shared<const xfr::AclMap>()};
  std::vector<xfr::PrimaryAddr> primaries_;
  Context ctx_;
  int writer_token_ = 0;
  sockaddr_in src_{};
  std::vector<uint8_t> out_ = std::vector<uint8_t>(65535);
};

TEST_F(DispatchTest, CheapRejections) {
  std::vector<uint8_t> runt(11, 0);
  EXPECT_TRUE(std::holds_alternative<Drop>(run(runt)));
  EXPECT_TRUE(std::holds_alternative<Drop>(run(build({.qr = true}))));
  EXPECT_TRUE(std::holds_alternative<Drop>(run(build({.op = wire::Opcode::Update, .qr = true}))));
}

TEST_F(DispatchTest, PlainQueryIsTheAnswerEnginesAnswer) {
  auto q = build({});
  auto o = run(q);
  auto m = answer(o);
  EXPECT_EQ(Rcode(m.header.rcode()), Rcode::NoError);
  EXPECT_TRUE(m.header.aa());
  ASSERT_EQ(m.answer.size(), 1u);
  // Byte for byte what auth::answer() writes.
  std::vector<uint8_t> direct(65535);
  size_t n = auth::answer(*zones_, ctx_.auth, q, auth::Transport::Udp, direct.data(), direct.size(), 1);
  ASSERT_EQ(std::get<Answer>(o).size, n);
  EXPECT_TRUE(std::equal(direct.begin(), direct.begin() + ptrdiff_t(n), out_.begin()));
}

TEST_F(DispatchTest, AnswerEngineDivertsOnlyWhatIsRoutedHere) {
  auto divert = [&](const std::vector<uint8_t>& q, net::Transport t = net::Transport::Udp) {
    auto a = auth::answer_or_divert(*zones_, ctx_.auth, q,
                                    t == net::Transport::Udp ? auth::Transport::Udp
                                                             : auth::Transport::Tcp,
                                    out_.data(), out_.size(), 0);
    return a.kind == auth::Answered::Kind::Diverted;
  };
  EXPECT_FALSE(divert(build({})));
  EXPECT_TRUE(divert(build({.sign = &key()})));
  EXPECT_TRUE(divert(build({.op = wire::Opcode::Notify, .qname = "example.test.", .qtype = 6})));
  EXPECT_TRUE(divert(build({.qname = "example.test.", .qtype = xfr::kTypeAxfr}), net::Transport::Tcp));
  EXPECT_TRUE(divert(build({.qname = "example.test.", .qtype = xfr::kTypeIxfr, .ixfr_serial = 1})));
  // Not ours: REFUSED by the engine, nothing to route.
  EXPECT_FALSE(divert(build({.qname = "example.net.", .qtype = xfr::kTypeAxfr}), net::Transport::Tcp));
}

TEST_F(DispatchTest, OtherOpcodesNotImp) {
  for (auto op : {wire::Opcode::IQuery, wire::Opcode::Status, wire::Opcode(3), wire::Opcode(6),
                  wire::Opcode(15)}) {
    auto o = run(build({.op = op}));
    EXPECT_EQ(rcode(o), Rcode::NotImp) << int(op);
    // Signed, the error is answered signed (RFC 8945 §5.3).
    auto s = run(build({.op = op, .sign = &key()}));
    EXPECT_EQ(rcode(s), Rcode::NotImp) << int(op);
    EXPECT_EQ(tsig_error(s), 0) << int(op);
  }
}

TEST_F(DispatchTest, UpdateRoutes) {
  auto o = run(build({.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6}));
  auto* w = std::get_if<ToWriter>(&o);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->writer, fake_writer());
  ASSERT_TRUE(w->request.message.has_value());
  EXPECT_FALSE(w->request.verified.has_value());
  ASSERT_TRUE(w->request.source.has_value());
  EXPECT_EQ(w->request.source->family, 4);
  EXPECT_FALSE(w->request.packet.empty());

  // Signed: verified here, once; the writer gets the result.
  auto s = run(build({.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6,
                      .sign = &key()}));
  auto* ws = std::get_if<ToWriter>(&s);
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->request.verified.has_value());
  EXPECT_TRUE(ws->request.verified->ok());
  // The writer refused it: SERVFAIL, signed.
  size_t n = writer_refused(ws->request, g_now, out_.data(), out_.size());
  auto m = parsed({out_.data(), n});
  EXPECT_EQ(Rcode(m.header.rcode()), Rcode::ServFail);
  EXPECT_EQ(m.header.opcode(), wire::Opcode::Update);
  EXPECT_EQ(m.additional.back().type, tsig::kTypeTsig);

  // RFC 2136 §3.1.2: ours but static -> REFUSED; not ours -> NOTAUTH.
  EXPECT_EQ(rcode(run(build({.op = wire::Opcode::Update, .qname = "example.test.", .qtype = 6}))),
            Rcode::Refused);
  EXPECT_EQ(rcode(run(build({.op = wire::Opcode::Update, .qname = "example.net.", .qtype = 6}))),
            Rcode::NotAuth);
  // §3.1.1: one zone exactly.
  EXPECT_EQ(rcode(run(build({.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6,
                             .questions = 2}))),
            Rcode::FormErr);
}

TEST_F(DispatchTest, TsigGoodQuerySignedAnswer) {
  std::vector<uint8_t> mac;
  auto q = build({.sign = &key()}, &mac);
  auto o = run(q);
  wire::ParseInfo info;
  auto m = answer(o, &info);
  EXPECT_EQ(Rcode(m.header.rcode()), Rcode::NoError);
  ASSERT_EQ(m.answer.size(), 1u);
  ASSERT_NE(info.tsig_offset, 0u);
  auto v = tsig::verify_response({out_.data(), std::get<Answer>(o).size}, info, m.additional.back(),
                                 key(), mac, g_now);
  EXPECT_TRUE(v.ok()) << v.reason;
}

TEST_F(DispatchTest, TsigErrorsEverywhere) {
  tsig::Key unknown{N("nobody.example.test."), tsig::Algorithm::HmacSha256, secret()};
  tsig::Key wrong{N("xfr.example.test."), tsig::Algorithm::HmacSha256, secret()};
  wrong.secret[0] ^= 1;
  // The same answers for a query, an UPDATE, a NOTIFY and a transfer.
  std::vector<Msg> kinds = {
      Msg{},
      Msg{.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6},
      Msg{.op = wire::Opcode::Notify, .qname = "example.test.", .qtype = 6},
      Msg{.qname = "example.test.", .qtype = xfr::kTypeAxfr},
  };
  for (Msg m : kinds) {
    SCOPED_TRACE(int(m.op) * 1000 + m.qtype);
    m.sign = &unknown;
    auto o = run(build(m), net::Transport::Tcp, "192.0.2.9");
    EXPECT_EQ(rcode(o), Rcode::NotAuth);
    EXPECT_EQ(tsig_error(o), int(tsig::TsigError::BadKey));
    m.sign = &wrong;
    o = run(build(m), net::Transport::Tcp, "192.0.2.9");
    EXPECT_EQ(rcode(o), Rcode::NotAuth);
    EXPECT_EQ(tsig_error(o), int(tsig::TsigError::BadSig));
    // RFC 8945 §5.2.3: outside now +- fudge.
    m.sign = &key();
    m.signed_at = g_now - 301;
    o = run(build(m), net::Transport::Tcp, "192.0.2.9");
    EXPECT_EQ(rcode(o), Rcode::NotAuth);
    EXPECT_EQ(tsig_error(o), int(tsig::TsigError::BadTime));
    m.signed_at = 0;
  }
}

TEST_F(DispatchTest, ReplayedMessagesGetBadTime) {
  // A message signed 60 s ago replayed after a newer one with the same key
  // (inside the fudge window): BADTIME, for every opcode.
  std::vector<Msg> kinds = {
      Msg{},
      Msg{.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6},
      Msg{.qname = "example.test.", .qtype = xfr::kTypeAxfr},
  };
  for (Msg m : kinds) {
    SCOPED_TRACE(int(m.op) * 1000 + m.qtype);
    replay_.clear();
    m.sign = &key();
    m.signed_at = g_now - 60;
    auto old = build(m);
    m.signed_at = g_now;
    auto fresh = run(build(m), net::Transport::Tcp);
    EXPECT_FALSE(std::holds_alternative<Answer>(fresh) && rcode(fresh) == Rcode::NotAuth);
    auto o = run(old, net::Transport::Tcp);
    EXPECT_EQ(rcode(o), Rcode::NotAuth);
    EXPECT_EQ(tsig_error(o), int(tsig::TsigError::BadTime));
  }
}

TEST_F(DispatchTest, MalformedGetsFormErrOrDrop) {
  // A header claiming a question that is not there.
  std::vector<uint8_t> q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  auto o = run(q);
  EXPECT_EQ(rcode(o), Rcode::FormErr);
  // The same as an UPDATE and a NOTIFY: FORMERR with the opcode kept.
  for (uint8_t op : {uint8_t(wire::Opcode::Update), uint8_t(wire::Opcode::Notify)}) {
    q[2] = uint8_t(op << 3);
    auto m = answer(run(q));
    EXPECT_EQ(Rcode(m.header.rcode()), Rcode::FormErr);
    EXPECT_EQ(int(m.header.opcode()), int(op));
    EXPECT_EQ(m.header.id, 0x1234);
  }
  // A TSIG RR that is not the last record: FORMERR, unsigned.
  auto s = build({.sign = &key()});
  s[11]++;  // ARCOUNT 2: one record claimed after the TSIG
  s.insert(s.end(), {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  auto r = run(s);
  EXPECT_TRUE(std::holds_alternative<Drop>(r) || rcode(r) == Rcode::FormErr);
}

TEST_F(DispatchTest, Notify) {
  Msg n{.op = wire::Opcode::Notify, .qname = "example.test.", .qtype = 6};
  auto o = run(build(n), net::Transport::Udp, "192.0.2.9");
  auto* r = std::get_if<NotifyReceived>(&o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->zone, N("example.test."));
  auto m = parsed({out_.data(), r->size});
  EXPECT_EQ(Rcode(m.header.rcode()), Rcode::NoError);
  EXPECT_TRUE(m.header.aa());
  EXPECT_EQ(m.header.opcode(), wire::Opcode::Notify);
  ASSERT_EQ(m.question.size(), 1u);  // RFC 1996 §4.7

  // RFC 1996 §3.10: not from a configured primary.
  EXPECT_EQ(rcode(run(build(n), net::Transport::Udp, "192.0.2.10")), Rcode::Refused);
  // Not a secondary zone here.
  n.qname = "dyn.example.test.";
  EXPECT_EQ(rcode(run(build(n), net::Transport::Udp, "192.0.2.9")), Rcode::NotAuth);
  // §3.7: QTYPE SOA only.
  n.qname = "example.test.";
  n.qtype = 1;
  EXPECT_EQ(rcode(run(build(n), net::Transport::Udp, "192.0.2.9")), Rcode::FormErr);
  n.qtype = 6;
  // A primary configured with a key needs that key.
  primaries_[0] = *xfr::parse_primary("192.0.2.9:53@xfr.example.test.", ring_);
  EXPECT_EQ(rcode(run(build(n), net::Transport::Udp, "192.0.2.9")), Rcode::Refused);
  n.sign = &key();
  auto signed_ok = run(build(n), net::Transport::Udp, "192.0.2.9");
  ASSERT_TRUE(std::holds_alternative<NotifyReceived>(signed_ok));
  // Without a secondary side at all: REFUSED.
  ctx_.notify_primaries = nullptr;
  EXPECT_EQ(rcode(run(build(n), net::Transport::Udp, "192.0.2.9")), Rcode::Refused);
}

TEST_F(DispatchTest, TransferDecisions) {
  Msg axfr{.qname = "example.test.", .qtype = xfr::kTypeAxfr};
  // AXFR over UDP: NOTIMP (as Knot).
  EXPECT_EQ(rcode(run(build(axfr), net::Transport::Udp)), Rcode::NotImp);
  // Over TCP from an allowed address: a stream, SOA first and last.
  auto o = run(build(axfr), net::Transport::Tcp);
  auto* t = std::get_if<TransferOut>(&o);
  ASSERT_TRUE(t);
  size_t n = t->stream.source->next(out_.data(), out_.size());
  auto m = parsed({out_.data(), n});
  ASSERT_GE(m.answer.size(), 2u);
  EXPECT_EQ(m.answer.front().type, 6);
  EXPECT_EQ(m.answer.back().type, 6);
  EXPECT_TRUE(t->stream.source->finished());
  // Refused by allow-transfer.
  EXPECT_EQ(rcode(run(build(axfr), net::Transport::Tcp, "192.0.2.77")), Rcode::Refused);
  // ...unless signed with the listed key.
  axfr.sign = &key();
  EXPECT_TRUE(std::holds_alternative<TransferOut>(run(build(axfr), net::Transport::Tcp, "192.0.2.77")));
  axfr.sign = nullptr;
  // A zone without an ACL entry.
  EXPECT_EQ(rcode(run(build({.qname = "dyn.example.test.", .qtype = xfr::kTypeAxfr}),
                      net::Transport::Tcp)),
            Rcode::Refused);
  // IXFR from a client that is current: our SOA alone (RFC 1995 §2).
  Msg ixfr{.qname = "example.test.", .qtype = xfr::kTypeIxfr, .ixfr_serial = 7};
  auto cur = answer(run(build(ixfr), net::Transport::Udp));
  ASSERT_EQ(cur.answer.size(), 1u);
  EXPECT_EQ(cur.answer[0].type, 6);
  // Older, no journal: a full transfer over TCP, the SOA alone over UDP.
  ixfr.ixfr_serial = 3;
  EXPECT_TRUE(std::holds_alternative<TransferOut>(run(build(ixfr), net::Transport::Tcp)));
  EXPECT_EQ(answer(run(build(ixfr), net::Transport::Udp)).answer.size(), 1u);
  // IXFR without the client's SOA: FORMERR.
  ixfr.ixfr_serial.reset();
  EXPECT_EQ(rcode(run(build(ixfr), net::Transport::Tcp)), Rcode::FormErr);
  // Not a primary: REFUSED.
  ctx_.transfer_acls = nullptr;
  EXPECT_EQ(rcode(run(build(axfr), net::Transport::Tcp)), Rcode::Refused);
}

// Random mutations of valid messages of every kind: whatever comes out is
// an outcome, and an answer stays inside the buffer.
TEST_F(DispatchTest, MutatedMessagesNeverCrash) {
  std::vector<std::vector<uint8_t>> seeds = {
      build({}),
      build({.sign = &key()}),
      build({.op = wire::Opcode::Update, .qname = "dyn.example.test.", .qtype = 6, .sign = &key()}),
      build({.op = wire::Opcode::Notify, .qname = "example.test.", .qtype = 6}),
      build({.qname = "example.test.", .qtype = xfr::kTypeIxfr, .ixfr_serial = 3}),
      build({.qname = "example.test.", .qtype = xfr::kTypeAxfr, .sign = &key()}),
  };
  std::mt19937 rng(19);
  out_.assign(512, 0);
  spdlog::set_level(spdlog::level::err);  // thousands of TSIG failures, logged at warn
  for (int i = 0; i < 20000; ++i) {
    auto m = seeds[rng() % seeds.size()];
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0: m[rng() % m.size()] = uint8_t(rng()); break;
        case 1: m.resize(rng() % (m.size() + 1)); break;
        case 2: m.insert(m.begin() + ptrdiff_t(rng() % (m.size() + 1)), uint8_t(rng())); break;
        case 3: if (m.size() > 2) m[2 + rng() % 2] ^= uint8_t(1u << (rng() % 8)); break;
      }
      if (m.empty()) break;
    }
    auto o = run(m, rng() % 2 ? net::Transport::Udp : net::Transport::Tcp,
                 rng() % 2 ? "192.0.2.1" : "192.0.2.9");
    if (auto* a = std::get_if<Answer>(&o)) {
      ASSERT_LE(a->size, out_.size());
    }
    if (auto* nr = std::get_if<NotifyReceived>(&o)) {
      ASSERT_LE(nr->size, out_.size());
    }
  }
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace ddns::dispatch
