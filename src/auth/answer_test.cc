// Table-driven tests of auth::answer(): mixed-case queries against test
// zones; expectations recorded from Knot DNS 3.2.6 serving the same zones
// (differences from Knot are marked "deviation" with the reason).
#include "auth/answer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "wire/message.h"
#include "wire/rdata.h"
#include "zone/master.h"

namespace ddns::auth {
namespace {

using wire::Name;

constexpr const char* kExampleZone = R"(
$ORIGIN example.test.
$TTL 3600
@       IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300
@       IN NS  ns1
@       IN NS  ns2.example.org.
@       IN MX  10 mail
@       IN MX  20 mail.example.org.
@       IN A   192.0.2.1
ns1     IN A   192.0.2.53
ns1     IN AAAA 2001:db8::53
mail    IN A   192.0.2.25
mail    IN AAAA 2001:db8::25
www     IN A   192.0.2.80
www     IN A   192.0.2.81
www     IN A   192.0.2.82
*.wild  IN A   192.0.2.99
*.wild  IN TXT "wild"
x.y.ent IN A   192.0.2.7
*.ent   IN A   192.0.2.8
*.cwild IN CNAME www
alias   IN CNAME www
alias2  IN CNAME alias
ext     IN CNAME www.example.org.
dangle  IN CNAME nowhere
loop1   IN CNAME loop2
loop2   IN CNAME loop1
self    IN CNAME self
c1 IN CNAME c2
c2 IN CNAME c3
c3 IN CNAME c4
c4 IN CNAME c5
c5 IN CNAME c6
c6 IN CNAME c7
c7 IN CNAME c8
c8 IN CNAME c9
c9 IN CNAME c10
c10 IN CNAME c11
c11 IN CNAME c12
c12 IN A 192.0.2.12
sub     IN NS  ns.sub
sub     IN NS  ns.other
sub     IN DS  12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub  IN A   192.0.2.54
other   IN NS  ns.other
ns.other IN A  192.0.2.55
ns.other IN AAAA 2001:db8::55
todeleg IN CNAME host.sub
dn      IN DNAME target.example.test.
a.target IN A 192.0.2.66
dnext   IN DNAME example.org.
dnlong  IN DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.example.test.
srv     IN SRV 0 5 5060 www
_sip._udp IN SRV 0 5 5060 mail
ttl     300 IN A 192.0.2.1
ttl     600 IN A 192.0.2.2
txt     IN TXT "hello"
txt     IN HINFO "cpu" "os"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5"
big     IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6"
)";

constexpr const char* kDeepZone = R"(
$ORIGIN deep.example.test.
$TTL 60
@ IN SOA ns1.example.test. h.example.test. 1 2 3 4 5
@ IN NS ns1.example.test.
@ IN A 192.0.2.200
)";

std::shared_ptr<const zone::Zone> load(const char* text, const char* origin) {
  auto o = Name::from_text(origin);
  EXPECT_TRUE(o.ok());
  auto pr = zone::parse_master_text(text, "test.zone", *o);
  for (const auto& e : pr.errors) ADD_FAILURE() << e.to_string();
  auto z = zone::Zone::build(*o, std::move(pr.records));
  if (!z.ok()) {
    ADD_FAILURE() << z.error().message;
    return nullptr;
  }
  return *z;
}

const zone::ZoneSet& zones() {
  static std::shared_ptr<const zone::ZoneSet> set = [] {
    auto s = std::make_shared<const zone::ZoneSet>();
    s = s->with(load(kExampleZone, "example.test."));
    s = s->with(load(kDeepZone, "deep.example.test."));
    return s;
  }();
  return *set;
}

struct QueryOpts {
  uint16_t qclass = 1;
  bool rd = false;
  int edns_version = -1;  // -1: no OPT
  uint16_t udp_size = 1232;
  bool do_bit = false;
  uint8_t opcode = 0;
};

wire::Bytes make_query(const std::string& qname, uint16_t qtype, const QueryOpts& o = {}) {
  auto n = Name::from_text(qname);
  EXPECT_TRUE(n.ok()) << qname;
  wire::Bytes q;
  q.reserve(300);
  for (uint8_t b : {uint8_t(0x12), uint8_t(0x34), uint8_t((o.opcode << 3) | (o.rd ? 1 : 0)), uint8_t(0),
                    uint8_t(0), uint8_t(1), uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(0),
                    uint8_t(o.edns_version >= 0 ? 1 : 0)})
    q.push_back(b);
  for (uint8_t b : n->wire()) q.push_back(b);
  q.push_back(uint8_t(qtype >> 8));
  q.push_back(uint8_t(qtype));
  q.push_back(uint8_t(o.qclass >> 8));
  q.push_back(uint8_t(o.qclass));
  if (o.edns_version >= 0) {
    const uint8_t opt[] = {0, 0, 41, uint8_t(o.udp_size >> 8), uint8_t(o.udp_size), 0,
                           uint8_t(o.edns_version), uint8_t(o.do_bit ? 0x80 : 0), 0, 0, 0};
    for (uint8_t b : opt) q.push_back(b);
  }
  return q;
}

struct Reply {
  size_t size = 0;
  wire::Message msg;
};

Reply ask(const wire::Bytes& q, Transport t = Transport::Udp, const Options& opt = {},
          size_t cap = 65535) {
  Options o = opt;
  std::vector<uint8_t> out(cap + 16, 0xEE);
  Reply r;
  r.size = answer(zones(), o, q, t, out.data(), cap, 0);
  for (size_t i = cap; i < out.size(); ++i) EXPECT_EQ(out[i], 0xEE) << "wrote past cap";
  if (r.size == 0) return r;
  auto m = wire::parse(std::span<const uint8_t>(out.data(), r.size));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (m.ok()) r.msg = std::move(*m);
  return r;
}

Options norr() {
  Options o;
  o.round_robin = false;
  return o;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<std::string> texts(const std::vector<wire::RR>& rrs) {
  std::vector<std::string> v;
  for (const auto& rr : rrs) {
    v.push_back(lower(rr.owner.to_text() + " " + std::to_string(rr.ttl) + " " +
                      wire::type_to_text(rr.type) + " " + wire::rdata_to_text(rr.type, rr.rdata)));
  }
  return v;
}

using V = std::vector<std::string>;
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, TXT = 16, AAAA = 28, SRV = 33,
                   DNAME = 39, DS = 43, ANY = 255;
const std::string kSoa =
    "example.test. 300 soa ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300";
const V kSubReferralNs = {"sub.example.test. 3600 ns ns.sub.example.test.",
                          "sub.example.test. 3600 ns ns.other.example.test."};
const V kSubGlue = {"ns.sub.example.test. 3600 a 192.0.2.54", "ns.other.example.test. 3600 a 192.0.2.55",
                    "ns.other.example.test. 3600 aaaa 2001:db8::55"};
const V kWww = {"www.example.test. 3600 a 192.0.2.80", "www.example.test. 3600 a 192.0.2.81",
                "www.example.test. 3600 a 192.0.2.82"};

V cat(V a, const V& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Case {
  std::string qname;
  uint16_t qtype;
  uint8_t rcode;
  bool aa;
  V an, ns, ar;
};

class AnswerTable : public ::testing::TestWithParam<Case> {};

TEST_P(AnswerTable, MatchesKnot) {
  const Case& c = GetParam();
  Reply r = ask(make_query(c.qname, c.qtype), Transport::Udp, norr());
  ASSERT_GT(r.size, 0u);
  const auto& m = r.msg;
  EXPECT_EQ(m.rcode(), c.rcode);
  EXPECT_TRUE(m.header.qr());
  EXPECT_EQ(m.header.aa(), c.aa);
  EXPECT_FALSE(m.header.tc());
  EXPECT_FALSE(m.header.ra());
  ASSERT_EQ(m.question.size(), 1u);
  // RFC 1035 §7.1 / Knot: the question comes back with the client's case.
  EXPECT_EQ(m.question[0].name.to_text(), c.qname);
  EXPECT_EQ(texts(m.answer), c.an);
  EXPECT_EQ(texts(m.authority), c.ns);
  EXPECT_EQ(texts(m.additional), c.ar);
  // The answer owner equal to the qname keeps the client's case too.
  for (const auto& rr : m.answer) {
    if (rr.owner == m.question[0].name) {
      EXPECT_EQ(rr.owner.to_text(), c.qname);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Knot, AnswerTable,
    ::testing::Values(
        Case{"wWw.Example.TEST.", A, 0, true, kWww, {}, {}},
        // RFC 8482: one RRset over UDP, the lowest type code (Knot).
        Case{"TXT.example.test.", ANY, 0, true, {"txt.example.test. 3600 hinfo \"cpu\" \"os\""}, {}, {}},
        Case{"Example.Test.", ANY, 0, true, {"example.test. 3600 a 192.0.2.1"}, {}, {}},
        Case{"NX.example.test.", A, 3, true, {}, {kSoa}, {}},
        Case{"nx.example.TEST.", ANY, 3, true, {}, {kSoa}, {}},
        Case{"www.example.test.", MX, 0, true, {}, {kSoa}, {}},
        // Knot takes the TTL of the last record loaded.
        Case{"TTL.example.test.", A, 0, true,
             {"ttl.example.test. 600 a 192.0.2.1", "ttl.example.test. 600 a 192.0.2.2"}, {}, {}},
        // Wildcards (RFC 4592).
        Case{"A.Wild.example.test.", A, 0, true, {"a.wild.example.test. 3600 a 192.0.2.99"}, {}, {}},
        Case{"b.A.wild.example.test.", A, 0, true, {"b.a.wild.example.test. 3600 a 192.0.2.99"}, {}, {}},
        Case{"a.wild.example.test.", MX, 0, true, {}, {kSoa}, {}},
        Case{"a.wild.example.test.", ANY, 0, true, {"a.wild.example.test. 3600 a 192.0.2.99"}, {}, {}},
        Case{"Wild.example.test.", A, 0, true, {}, {kSoa}, {}},  // ENT: NODATA
        Case{"*.wild.example.test.", TXT, 0, true, {"*.wild.example.test. 3600 txt \"wild\""}, {}, {}},
        Case{"A.ent.example.test.", A, 0, true, {"a.ent.example.test. 3600 a 192.0.2.8"}, {}, {}},
        Case{"x.Y.ent.example.test.", A, 0, true, {"x.y.ent.example.test. 3600 a 192.0.2.7"}, {}, {}},
        // The empty non-terminal y.ent blocks *.ent (RFC 4592 §2.2.2).
        Case{"y.ENT.example.test.", A, 0, true, {}, {kSoa}, {}},
        Case{"q.y.ent.example.test.", A, 3, true, {}, {kSoa}, {}},
        Case{"zz.x.y.ent.example.test.", A, 3, true, {}, {kSoa}, {}},
        Case{"a.CWild.example.test.", A, 0, true,
             cat({"a.cwild.example.test. 3600 cname www.example.test."}, kWww), {}, {}},
        Case{"a.cwild.example.test.", MX, 0, true, {"a.cwild.example.test. 3600 cname www.example.test."},
             {kSoa}, {}},
        // CNAME chains.
        Case{"Alias.example.test.", A, 0, true, cat({"alias.example.test. 3600 cname www.example.test."}, kWww),
             {}, {}},
        Case{"alias.example.test.", CNAME, 0, true, {"alias.example.test. 3600 cname www.example.test."}, {},
             {}},
        Case{"alias.example.test.", ANY, 0, true, {"alias.example.test. 3600 cname www.example.test."}, {}, {}},
        Case{"ALIAS2.example.test.", A, 0, true,
             cat({"alias2.example.test. 3600 cname alias.example.test.",
                  "alias.example.test. 3600 cname www.example.test."},
                 kWww),
             {}, {}},
        Case{"ext.example.test.", A, 0, true, {"ext.example.test. 3600 cname www.example.org."}, {}, {}},
        Case{"Dangle.example.test.", A, 3, true, {"dangle.example.test. 3600 cname nowhere.example.test."},
             {kSoa}, {}},
        Case{"loop1.example.test.", A, 0, true,
             {"loop1.example.test. 3600 cname loop2.example.test.",
              "loop2.example.test. 3600 cname loop1.example.test."},
             {}, {}},
        Case{"self.example.test.", A, 0, true, {"self.example.test. 3600 cname self.example.test."}, {}, {}},
        Case{"C1.example.test.", A, 0, true,
             {"c1.example.test. 3600 cname c2.example.test.", "c2.example.test. 3600 cname c3.example.test.",
              "c3.example.test. 3600 cname c4.example.test.", "c4.example.test. 3600 cname c5.example.test.",
              "c5.example.test. 3600 cname c6.example.test."},
             {}, {}},
        // After 5 CNAMEs Knot still gives the final RRset, but no 6th CNAME.
        Case{"c7.example.test.", A, 0, true,
             {"c7.example.test. 3600 cname c8.example.test.", "c8.example.test. 3600 cname c9.example.test.",
              "c9.example.test. 3600 cname c10.example.test.", "c10.example.test. 3600 cname c11.example.test.",
              "c11.example.test. 3600 cname c12.example.test.", "c12.example.test. 3600 a 192.0.2.12"},
             {}, {}},
        // CNAME into a delegation: answer + referral, still AA (Knot).
        Case{"todeleg.example.test.", A, 0, true, {"todeleg.example.test. 3600 cname host.sub.example.test."},
             kSubReferralNs, kSubGlue},
        // Delegations: referral, AA clear, glue (also from below other cuts).
        Case{"Sub.example.test.", A, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"sub.example.test.", NS, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"sub.example.test.", SOA, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"a.b.SUB.example.test.", A, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"ns.sub.example.test.", A, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"host.sub.example.test.", DS, 0, false, {}, kSubReferralNs, kSubGlue},
        Case{"other.example.test.", NS, 0, false, {}, {"other.example.test. 3600 ns ns.other.example.test."},
             {"ns.other.example.test. 3600 a 192.0.2.55", "ns.other.example.test. 3600 aaaa 2001:db8::55"}},
        // DS at the cut: the parent side answers (RFC 4035 §3.1.4.1).
        Case{"other.example.test.", DS, 0, true, {}, {kSoa}, {}},
        // DNAME (RFC 6672).
        Case{"dn.example.test.", A, 0, true, {}, {kSoa}, {}},
        Case{"dn.example.test.", DNAME, 0, true, {"dn.example.test. 3600 dname target.example.test."}, {}, {}},
        Case{"A.dn.example.test.", A, 0, true,
             {"dn.example.test. 3600 dname target.example.test.",
              "a.dn.example.test. 3600 cname a.target.example.test.",
              "a.target.example.test. 3600 a 192.0.2.66"},
             {}, {}},
        Case{"x.dn.example.test.", A, 3, true,
             {"dn.example.test. 3600 dname target.example.test.",
              "x.dn.example.test. 3600 cname x.target.example.test."},
             {kSoa}, {}},
        Case{"x.dn.example.test.", CNAME, 0, true,
             {"dn.example.test. 3600 dname target.example.test.",
              "x.dn.example.test. 3600 cname x.target.example.test."},
             {}, {}},
        Case{"y.dnext.example.test.", A, 0, true,
             {"dnext.example.test. 3600 dname example.org.", "y.dnext.example.test. 3600 cname y.example.org."},
             {}, {}},
        // Additional section processing.
        Case{"example.test.", MX, 0, true,
             {"example.test. 3600 mx 10 mail.example.test.", "example.test. 3600 mx 20 mail.example.org."}, {},
             {"mail.example.test. 3600 a 192.0.2.25", "mail.example.test. 3600 aaaa 2001:db8::25"}},
        Case{"example.test.", NS, 0, true,
             {"example.test. 3600 ns ns1.example.test.", "example.test. 3600 ns ns2.example.org."}, {},
             {"ns1.example.test. 3600 a 192.0.2.53", "ns1.example.test. 3600 aaaa 2001:db8::53"}},
        Case{"srv.example.test.", SRV, 0, true, {"srv.example.test. 3600 srv 0 5 5060 www.example.test."}, {},
             kWww},
        Case{"_sip._UDP.example.test.", SRV, 0, true,
             {"_sip._udp.example.test. 3600 srv 0 5 5060 mail.example.test."}, {},
             {"mail.example.test. 3600 a 192.0.2.25", "mail.example.test. 3600 aaaa 2001:db8::25"}},
        // The deepest zone wins; DS is looked up in the parent zone.
        Case{"Deep.example.test.", SOA, 0, true,
             {"deep.example.test. 60 soa ns1.example.test. h.example.test. 1 2 3 4 5"}, {}, {}},
        Case{"x.deep.example.test.", A, 3, true, {},
             {"deep.example.test. 5 soa ns1.example.test. h.example.test. 1 2 3 4 5"}, {}},
        Case{"deep.example.test.", DS, 3, true, {}, {kSoa}, {}},
        Case{"example.test.", DS, 0, true, {}, {kSoa}, {}}));

// ------------------------------------------------------------ header rules

wire::Bytes raw_header(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
  return {0xAB, 0xCD, uint8_t(flags >> 8), uint8_t(flags), uint8_t(qd >> 8), uint8_t(qd), uint8_t(an >> 8),
          uint8_t(an), uint8_t(ns >> 8), uint8_t(ns), uint8_t(ar >> 8), uint8_t(ar)};
}

TEST(Answer, DropsShortAndResponses) {
  uint8_t out[512];
  wire::Bytes shortq = {1, 2, 3, 4, 5};
  EXPECT_EQ(answer(zones(), {}, shortq, Transport::Udp, out, sizeof(out), 0), 0u);
  auto q = make_query("www.example.test.", A);
  q[2] |= 0x80;
  EXPECT_EQ(answer(zones(), {}, q, Transport::Udp, out, sizeof(out), 0), 0u);
}

TEST(Answer, FormErrForQdcount) {
  auto r = ask(raw_header(0x0100, 0, 0, 0, 0));
  ASSERT_GT(r.size, 0u);
  EXPECT_EQ(r.msg.rcode(), 1);
  EXPECT_TRUE(r.msg.header.rd());
  EXPECT_TRUE(r.msg.question.empty());
  auto q = make_query("www.example.test.", A);
  q[5] = 2;  // qdcount 2 with one question present: malformed
  r = ask(q);
  ASSERT_GT(r.size, 0u);
  EXPECT_EQ(r.msg.rcode(), 1);
}

TEST(Answer, FormErrForBadQuestionAndOpt) {
  auto q = make_query("www.example.test.", A);
  q.resize(q.size() - 2);  // truncated question
  auto r = ask(q);
  ASSERT_GT(r.size, 0u);
  EXPECT_EQ(r.msg.rcode(), 1);
  // Two OPT records: FORMERR with the question, and no OPT (RFC 6891 §6.1.1).
  q = make_query("www.example.test.", A, {.edns_version = 0});
  q[11] = 2;
  const uint8_t opt2[] = {0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
  for (uint8_t b : opt2) q.push_back(b);
  r = ask(q);
  ASSERT_GT(r.size, 0u);
  EXPECT_EQ(r.msg.rcode(), 1);
  EXPECT_EQ(r.msg.question.size(), 1u);
  EXPECT_FALSE(r.msg.edns.has_value());
}

TEST(Answer, NotImpForOtherOpcodes) {
  for (uint8_t op : {1, 2, 3, 4, 5, 6, 15}) {
    auto r = ask(make_query("www.example.test.", A, {.opcode = op}));
    ASSERT_GT(r.size, 0u);
    EXPECT_EQ(r.msg.rcode(), 4) << int(op);
    EXPECT_EQ(uint8_t(r.msg.header.opcode()), op);
    EXPECT_EQ(r.msg.question.size(), 1u);
    EXPECT_FALSE(r.msg.header.aa());
  }
}

TEST(Answer, TransfersNotYet) {
  auto r = ask(make_query("example.test.", 252));
  EXPECT_EQ(r.msg.rcode(), 4);  // AXFR over UDP: NOTIMP (Knot)
  r = ask(make_query("example.test.", 252), Transport::Tcp);
  EXPECT_EQ(r.msg.rcode(), 9);  // NOTAUTH: no transfer ACL yet (Knot)
  r = ask(make_query("example.test.", 251));
  EXPECT_EQ(r.msg.rcode(), 9);
}

TEST(Answer, BadVers) {
  auto r = ask(make_query("www.example.test.", A, {.edns_version = 1}));
  ASSERT_GT(r.size, 0u);
  EXPECT_EQ(r.msg.rcode(), 16);
  ASSERT_TRUE(r.msg.edns.has_value());
  EXPECT_EQ(r.msg.edns->version, 0);
  EXPECT_FALSE(r.msg.header.aa());
  EXPECT_TRUE(r.msg.answer.empty());
  EXPECT_EQ(r.msg.question.size(), 1u);
}

TEST(Answer, EdnsEchoAndDoBit) {
  Options o = norr();
  o.max_udp_size = 1400;
  auto r = ask(make_query("WWW.example.test.", A, {.edns_version = 0, .udp_size = 4096, .do_bit = true}),
               Transport::Udp, o);
  ASSERT_TRUE(r.msg.edns.has_value());
  EXPECT_EQ(r.msg.edns->udp_size, 1400);
  EXPECT_TRUE(r.msg.edns->do_bit);  // RFC 3225 §3
  EXPECT_EQ(r.msg.answer.size(), 3u);
  r = ask(make_query("www.example.test.", A));
  EXPECT_FALSE(r.msg.edns.has_value());
}

TEST(Answer, FlagsCopiedAndCleared) {
  auto q = make_query("www.example.test.", A, {.rd = true});
  q[3] |= 0x80 | 0x20 | 0x10;  // RA, AD, CD in the query
  q[2] |= 0x04 | 0x02;         // AA, TC in the query
  auto r = ask(q);
  EXPECT_TRUE(r.msg.header.rd());
  EXPECT_FALSE(r.msg.header.ra());
  EXPECT_FALSE(r.msg.header.ad());
  EXPECT_FALSE(r.msg.header.cd());  // Knot clears CD
  EXPECT_FALSE(r.msg.header.tc());
  EXPECT_TRUE(r.msg.header.aa());
  EXPECT_EQ(r.msg.header.id, 0x1234);
}

TEST(Answer, RefusedOutsideZonesAndOddClasses) {
  auto r = ask(make_query("www.Example.ORG.", A, {.rd = true}));
  EXPECT_EQ(r.msg.rcode(), 5);
  EXPECT_FALSE(r.msg.header.aa());
  EXPECT_TRUE(r.msg.header.rd());
  EXPECT_EQ(r.msg.question.size(), 1u);
  for (uint16_t cls : {4, 254, 42}) {
    r = ask(make_query("www.example.test.", A, {.qclass = cls}));
    EXPECT_EQ(r.msg.rcode(), 5) << cls;
  }
  // Class ANY is answered like IN (Knot).
  r = ask(make_query("www.example.test.", A, {.qclass = 255}), Transport::Udp, norr());
  EXPECT_EQ(r.msg.rcode(), 0);
  EXPECT_EQ(texts(r.msg.answer), kWww);
}

TEST(Answer, Chaos) {
  Options o;
  o.version = "ddns-test";
  o.identity = "node-1";
  auto r = ask(make_query("Version.BIND.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(r.msg.rcode(), 0);
  EXPECT_FALSE(r.msg.header.aa());
  ASSERT_EQ(r.msg.answer.size(), 1u);
  EXPECT_EQ(r.msg.answer[0].rclass, 3);
  EXPECT_EQ(r.msg.answer[0].ttl, 0u);
  EXPECT_EQ(wire::rdata_to_text(TXT, r.msg.answer[0].rdata), "\"ddns-test\"");
  r = ask(make_query("version.server.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(wire::rdata_to_text(TXT, r.msg.answer.at(0).rdata), "\"ddns-test\"");
  r = ask(make_query("id.server.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(wire::rdata_to_text(TXT, r.msg.answer.at(0).rdata), "\"node-1\"");
  r = ask(make_query("hostname.bind.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(wire::rdata_to_text(TXT, r.msg.answer.at(0).rdata), "\"node-1\"");
  r = ask(make_query("foo.bind.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(r.msg.rcode(), 5);
  r = ask(make_query("version.bind.", A, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(r.msg.rcode(), 5);
  o.chaos = false;
  r = ask(make_query("version.bind.", TXT, {.qclass = 3}), Transport::Udp, o);
  EXPECT_EQ(r.msg.rcode(), 5);
  EXPECT_TRUE(r.msg.answer.empty());
}

TEST(Answer, TruncationWithoutEdns) {
  auto r = ask(make_query("big.example.test.", TXT));
  ASSERT_GT(r.size, 0u);
  EXPECT_LE(r.size, 512u);
  EXPECT_TRUE(r.msg.header.tc());
  EXPECT_TRUE(r.msg.header.aa());
  EXPECT_TRUE(r.msg.answer.empty());  // never a partial RRset (Knot: ANSWER 0)
  // With EDNS the client's size counts (at least 512, at most max_udp_size).
  r = ask(make_query("big.example.test.", TXT, {.edns_version = 0, .udp_size = 600}));
  EXPECT_TRUE(r.msg.header.tc());  // 729 octets needed (Knot: TC, ANSWER 0)
  EXPECT_TRUE(r.msg.answer.empty());
  r = ask(make_query("big.example.test.", TXT, {.edns_version = 0, .udp_size = 800}));
  EXPECT_FALSE(r.msg.header.tc());
  EXPECT_EQ(r.msg.answer.size(), 6u);
  EXPECT_LE(r.size, 800u);
  r = ask(make_query("big.example.test.", TXT, {.edns_version = 0, .udp_size = 100}));
  EXPECT_TRUE(r.msg.header.tc());
  EXPECT_LE(r.size, 512u);
  Options small;
  small.max_udp_size = 512;
  r = ask(make_query("big.example.test.", TXT, {.edns_version = 0, .udp_size = 4096}), Transport::Udp, small);
  EXPECT_TRUE(r.msg.header.tc());
  EXPECT_LE(r.size, 512u);
  ASSERT_TRUE(r.msg.edns.has_value());
  // TCP: up to 65535.
  r = ask(make_query("big.example.test.", TXT), Transport::Tcp);
  EXPECT_FALSE(r.msg.header.tc());
  EXPECT_EQ(r.msg.answer.size(), 6u);
}

TEST(Answer, AdditionalSkippedNotTruncated) {
  // An MX answer whose additional records do not fit: dropped, no TC.
  auto q = make_query("example.test.", MX);
  uint8_t out[120];
  size_t n = answer(zones(), norr(), q, Transport::Udp, out, sizeof(out), 0);
  ASSERT_GT(n, 0u);
  auto m = wire::parse(std::span<const uint8_t>(out, n));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->header.tc());
  EXPECT_EQ(m->answer.size(), 2u);
  EXPECT_LT(m->additional.size(), 2u);
}

TEST(Answer, TinyCapNeverOverflows) {
  for (const auto& q : {make_query("www.example.test.", A, {.edns_version = 0}),
                        make_query("version.bind.", TXT, {.qclass = 3, .edns_version = 0}),
                        make_query("nx.example.org.", A, {.edns_version = 0})})
  for (size_t cap = 0; cap < 120; ++cap) {
    std::vector<uint8_t> out(cap + 8, 0xEE);
    size_t n = answer(zones(), {}, q, Transport::Udp, out.data(), cap, 0);
    EXPECT_LE(n, cap);
    for (size_t i = cap; i < out.size(); ++i) ASSERT_EQ(out[i], 0xEE) << cap;
  }
}

TEST(Answer, AnyOverTcp) {
  auto r = ask(make_query("txt.example.test.", ANY), Transport::Tcp, norr());
  EXPECT_EQ(texts(r.msg.answer),
            (V{"txt.example.test. 3600 hinfo \"cpu\" \"os\"", "txt.example.test. 3600 txt \"hello\""}));
  Options knot = norr();
  knot.any_all_over_tcp = false;
  r = ask(make_query("txt.example.test.", ANY), Transport::Tcp, knot);
  EXPECT_EQ(r.msg.answer.size(), 1u);
}

TEST(Answer, RoundRobin) {
  auto q = make_query("www.example.test.", A);
  std::vector<std::string> firsts;
  for (uint32_t rot = 0; rot < 3; ++rot) {
    uint8_t out[512];
    size_t n = answer(zones(), {}, q, Transport::Udp, out, sizeof(out), rot);
    auto m = wire::parse(std::span<const uint8_t>(out, n));
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->answer.size(), 3u);
    firsts.push_back(wire::rdata_to_text(A, m->answer[0].rdata));
    auto all = texts(m->answer);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, kWww);
  }
  EXPECT_EQ(firsts, (V{"192.0.2.80", "192.0.2.81", "192.0.2.82"}));
}

TEST(Answer, DnameTooLongIsYxdomain) {
  // prefix (63+63+63+40 octets) + the 205-octet DNAME target > 255.
  std::string l63(63, 'x');
  std::string qn = l63 + "." + l63 + ".dnlong.example.test.";
  auto r = ask(make_query(qn, A));
  ASSERT_GT(r.size, 0u);
  // RFC 6672 §2.2 (deviation: Knot 3.2 answers NXDOMAIN here).
  EXPECT_EQ(r.msg.rcode(), 6);
  ASSERT_EQ(r.msg.answer.size(), 1u);
  EXPECT_EQ(r.msg.answer[0].type, DNAME);
}

TEST(Answer, CompressionKeepsRepliesSmall) {
  auto q = make_query("www.example.test.", A);
  uint8_t out[512];
  size_t n = answer(zones(), norr(), q, Transport::Udp, out, sizeof(out), 0);
  // header 12 + question 22 + 3 * (2 + 10 + 4)
  EXPECT_EQ(n, 12u + 22u + 3u * 16u);
}

}  // namespace
}  // namespace ddns::auth
