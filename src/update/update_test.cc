// RFC 2136 processing tests: zone section, every prerequisite kind with its
// RCODE, prescan, permissions, every §3.4.2 case, all-or-nothing, batches.
// Messages are built as wire::Message and sent through render + parse, so
// the wire codec's handling of empty-rdata update RRs is covered too.
#include "update/update.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "wire/rdata.h"
#include "zone/apply.h"
#include "zone/master.h"

namespace ddns::update {
namespace {

using wire::Name;
using wire::Rcode;
using wire::RR;

constexpr uint16_t IN = 1, CH = 3, NONE = 254, ANY = 255;
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, TXT = 16, AAAA = 28, TANY = 255;

Name N(const char* s) { return *Name::from_text(s); }
const Name kOrigin = N("example.test.");

wire::Bytes rd(uint16_t type, const std::string& text) {
  if (text.empty()) return {};
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<wire::TextToken> toks;
  for (const auto& w : words) toks.push_back(wire::TextToken{w, false});
  auto r = wire::rdata_from_text(type, toks, kOrigin);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message;
  return r.ok() ? *r : wire::Bytes{};
}

RR R(const char* owner, uint16_t cls, uint16_t type, uint32_t ttl, const std::string& text = "") {
  return RR{*Name::from_text(owner, &kOrigin), type, cls, ttl, rd(type, text)};
}

const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@      SOA ns1 hostmaster 10 7200 3600 1209600 300
@      NS  ns1
@      NS  ns2
@      MX  10 mail
ns1    A   192.0.2.53
ns2    A   192.0.2.54
www    300 A 192.0.2.1
www    300 A 192.0.2.2
alias  CNAME www
txt    TXT hello
a.b.c  A   192.0.2.9
)";

std::shared_ptr<const zone::Zone> make_zone() {
  auto p = zone::parse_master_text(kZone, "test.zone", kOrigin);
  EXPECT_TRUE(p.ok());
  auto z = zone::Zone::build(kOrigin, p.records);
  EXPECT_TRUE(z.ok()) << z.error().message;
  return *z;
}

struct Msg {
  wire::Message m;
  explicit Msg(const char* zone = "example.test.", uint16_t qtype = SOA, uint16_t qclass = IN) {
    m.header.id = 4242;
    m.header.set_opcode(wire::Opcode::Update);
    m.question.push_back(wire::Question{N(zone), qtype, qclass});
  }
  Msg& pre(RR rr) { m.answer.push_back(std::move(rr)); return *this; }
  Msg& upd(RR rr) { m.authority.push_back(std::move(rr)); return *this; }
  // Through the wire codec, as the server will see it.
  wire::Message wire() const {
    auto b = wire::render(m);
    EXPECT_TRUE(b.ok()) << b.error().message;
    auto p = wire::parse(*b);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? *p : m;
  }
};

const AllowedFn kAllowAll = [](const Name&, uint16_t) { return true; };

struct Fixture : ::testing::Test {
  std::shared_ptr<const zone::Zone> z = make_zone();
  Batch batch{z, Options{}};

  Outcome run(const Msg& msg, const AllowedFn& allowed = kAllowAll) {
    return batch.process(msg.wire(), allowed);
  }
  // The snapshot after the batch so far.
  std::shared_ptr<const zone::Zone> next() {
    auto r = zone::apply(*z, std::span<const zone::ChangeSet>(batch.changes()));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : z;
  }
  size_t count(const zone::Zone& zz, const char* owner, uint16_t type) {
    auto n = Name::from_text(owner, &kOrigin)->lowercased();
    auto id = zz.find(n.wire().data(), n.wire().size());
    return id == zone::kNoNode ? 0 : zz.rrset(id, type).count;
  }
  uint32_t ttl(const zone::Zone& zz, const char* owner, uint16_t type) {
    auto n = Name::from_text(owner, &kOrigin)->lowercased();
    auto id = zz.find(n.wire().data(), n.wire().size());
    return id == zone::kNoNode ? 0 : zz.rrset(id, type).ttl;
  }
};

// A harmless change so that passing prerequisites are visible.
RR add_probe() { return R("probe", IN, A, 60, "192.0.2.200"); }

#define EXPECT_RCODE(outcome, rc) EXPECT_EQ((outcome).rcode, (rc)) << (outcome).reason

// ------------------------------------------------------------ §3.1 zone

TEST_F(Fixture, ZoneSection) {
  Msg none;
  none.m.question.clear();
  EXPECT_RCODE(run(none), Rcode::FormErr);
  Msg two;
  two.m.question.push_back(two.m.question[0]);
  EXPECT_RCODE(run(two), Rcode::FormErr);
  EXPECT_RCODE(run(Msg("example.test.", A)), Rcode::FormErr);
  EXPECT_RCODE(run(Msg("example.org.")), Rcode::NotAuth);
  EXPECT_RCODE(run(Msg("sub.example.test.")), Rcode::NotAuth);
  EXPECT_RCODE(run(Msg("example.test.", SOA, CH)), Rcode::NotAuth);

  auto served = [](const Name& n, uint16_t c) { return c == IN && n == N("example.test."); };
  EXPECT_EQ(check_zone_section(Msg().m, served).rcode, Rcode::NoError);
  EXPECT_EQ(check_zone_section(Msg().m, served).zone, kOrigin);
  EXPECT_EQ(check_zone_section(Msg("example.org.").m, served).rcode, Rcode::NotAuth);
  EXPECT_EQ(check_zone_section(Msg("example.test.", MX).m, served).rcode, Rcode::FormErr);
  EXPECT_EQ(check_zone_section(Msg().m, nullptr).rcode, Rcode::NotAuth);
}

// ------------------------------------------------------------ §3.2 prerequisites

TEST_F(Fixture, RRsetExistsValueIndependent) {
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, A, 0)).upd(add_probe())), Rcode::NoError);
  EXPECT_EQ(batch.changes().size(), 1u);
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, MX, 0)).upd(add_probe())), Rcode::NXRRSet);
  EXPECT_RCODE(run(Msg().pre(R("nothere", ANY, A, 0))), Rcode::NXRRSet);
  EXPECT_EQ(batch.changes().size(), 1u);
}

TEST_F(Fixture, RRsetExistsValueDependent) {
  // Order and TTL do not matter (the zone TTL is 300).
  EXPECT_RCODE(run(Msg().pre(R("www", IN, A, 0, "192.0.2.2")).pre(R("WWW", IN, A, 0, "192.0.2.1"))
                       .upd(add_probe())),
               Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("www", IN, A, 0, "192.0.2.1"))), Rcode::NXRRSet);  // subset
  EXPECT_RCODE(run(Msg().pre(R("www", IN, A, 0, "192.0.2.1")).pre(R("www", IN, A, 0, "192.0.2.2"))
                       .pre(R("www", IN, A, 0, "192.0.2.3"))),
               Rcode::NXRRSet);  // superset
  EXPECT_RCODE(run(Msg().pre(R("www", IN, AAAA, 0, "2001:db8::1"))), Rcode::NXRRSet);
  EXPECT_RCODE(run(Msg().pre(R("nothere", IN, A, 0, "192.0.2.1"))), Rcode::NXRRSet);
  // Names in rdata compare without case (RFC 2136 §1.1.1).
  EXPECT_RCODE(run(Msg().pre(R("alias", IN, CNAME, 0, "WWW.Example.TEST.")).upd(add_probe())),
               Rcode::NoError);
  // Duplicates in the prerequisite collapse: still equal to the RRset.
  EXPECT_RCODE(run(Msg().pre(R("txt", IN, TXT, 0, "hello")).pre(R("txt", IN, TXT, 0, "hello"))
                       .upd(R("txt", ANY, TXT, 0))),
               Rcode::NoError);
}

TEST_F(Fixture, RRsetDoesNotExist) {
  EXPECT_RCODE(run(Msg().pre(R("www", NONE, MX, 0)).upd(add_probe())), Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("www", NONE, A, 0))), Rcode::YXRRSet);
  EXPECT_RCODE(run(Msg().pre(R("nothere", NONE, A, 0)).upd(R("p2", IN, A, 60, "192.0.2.7"))),
               Rcode::NoError);
}

TEST_F(Fixture, NameInUse) {
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, TANY, 0)).upd(add_probe())), Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("nothere", ANY, TANY, 0))), Rcode::NXDomain);
  // An empty non-terminal owns no RRs: not in use (RFC 2136 §2.4.4).
  EXPECT_RCODE(run(Msg().pre(R("b.c", ANY, TANY, 0))), Rcode::NXDomain);
}

TEST_F(Fixture, NameNotInUse) {
  EXPECT_RCODE(run(Msg().pre(R("nothere", NONE, TANY, 0)).upd(add_probe())), Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("b.c", NONE, TANY, 0)).upd(R("p3", IN, A, 60, "192.0.2.8"))),
               Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("www", NONE, TANY, 0))), Rcode::YXDomain);
}

TEST_F(Fixture, PrerequisiteFormErrAndNotZone) {
  EXPECT_RCODE(run(Msg().pre(R("www.example.org.", ANY, A, 0))), Rcode::NotZone);
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, A, 300))), Rcode::FormErr);          // ttl
  EXPECT_RCODE(run(Msg().pre(R("www", IN, A, 300, "192.0.2.1"))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, A, 0, "192.0.2.1"))), Rcode::FormErr);  // rdlen
  EXPECT_RCODE(run(Msg().pre(R("www", NONE, A, 0, "192.0.2.1"))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().pre(R("www", CH, A, 0))), Rcode::FormErr);              // class
  // §3.2.5 order: the first failing prerequisite decides.
  EXPECT_RCODE(run(Msg().pre(R("nothere", ANY, TANY, 0)).pre(R("www", ANY, A, 300))), Rcode::NXDomain);
  EXPECT_RCODE(run(Msg().pre(R("www", ANY, A, 300)).pre(R("nothere", ANY, TANY, 0))), Rcode::FormErr);
  EXPECT_TRUE(batch.changes().empty());
}

// RFC 4703 §5.3 and §5.5 as Kea D2 sends them (seen on the wire from
// kea-dhcp-ddns 2.2): the name belongs to the client whose DHCID
// (RFC 4701, type 49, here in the RFC 3597 form) is at the name.
TEST_F(Fixture, Rfc4703ConflictResolution) {
  constexpr uint16_t DHCID = 49;
  const std::string mine = "\\# 4 000001aa", other = "\\# 4 000001bb";
  auto add = [&](const std::string& id, const char* ip) {
    // §5.3.1: only if the name is not in use.
    return run(Msg().pre(R("h", NONE, TANY, 0)).upd(R("h", IN, A, 60, ip))
                   .upd(R("h", IN, DHCID, 60, id)));
  };
  auto replace = [&](const std::string& id, const char* ip) {
    // §5.3.2: only if the DHCID at the name is the client's.
    return run(Msg().pre(R("h", IN, DHCID, 0, id)).upd(R("h", ANY, A, 0))
                   .upd(R("h", IN, A, 60, ip)));
  };
  auto remove = [&](const std::string& id, const char* ip) {
    // §5.5: the client's address, then the DHCID once no address is left.
    auto a = run(Msg().pre(R("h", IN, DHCID, 0, id)).upd(R("h", NONE, A, 0, ip)));
    if (a.rcode != Rcode::NoError) return a;
    return run(Msg().pre(R("h", IN, DHCID, 0, id)).pre(R("h", NONE, A, 0))
                   .pre(R("h", NONE, AAAA, 0)).upd(R("h", ANY, DHCID, 0)));
  };
  EXPECT_RCODE(add(mine, "192.0.2.100"), Rcode::NoError);
  EXPECT_RCODE(add(other, "192.0.2.101"), Rcode::YXDomain);
  EXPECT_RCODE(replace(other, "192.0.2.101"), Rcode::NXRRSet);
  EXPECT_RCODE(remove(other, "192.0.2.100"), Rcode::NXRRSet);
  // The other client's "no address left" step fails on the holder's A
  // first: class NONE/ANY prerequisites are decided as they come, the
  // value-dependent ones after all of them (RFC 2136 §3.2.5).
  EXPECT_RCODE(run(Msg().pre(R("h", IN, DHCID, 0, other)).pre(R("h", NONE, A, 0))
                       .upd(R("h", ANY, DHCID, 0))),
               Rcode::YXRRSet);
  ASSERT_EQ(batch.changes().size(), 1u);
  EXPECT_EQ(count(*next(), "h", A), 1u);

  EXPECT_RCODE(replace(mine, "192.0.2.102"), Rcode::NoError);
  auto nz = next();
  EXPECT_EQ(count(*nz, "h", A), 1u);
  EXPECT_EQ(count(*nz, "h", DHCID), 1u);
  EXPECT_RCODE(remove(mine, "192.0.2.102"), Rcode::NoError);
  nz = next();
  EXPECT_EQ(count(*nz, "h", A), 0u);
  EXPECT_EQ(count(*nz, "h", DHCID), 0u);
  // Free again: the other client may take it now.
  EXPECT_RCODE(add(other, "192.0.2.101"), Rcode::NoError);
}

// ------------------------------------------------------------ §3.4.1 prescan, §3.3

TEST_F(Fixture, Prescan) {
  EXPECT_RCODE(run(Msg().upd(R("www.example.org.", IN, A, 60, "192.0.2.1"))), Rcode::NotZone);
  EXPECT_RCODE(run(Msg().upd(R("www", IN, TANY, 60))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().upd(R("www", IN, 252, 60))), Rcode::FormErr);  // AXFR
  EXPECT_RCODE(run(Msg().upd(R("www", ANY, A, 60))), Rcode::FormErr);  // ttl
  EXPECT_RCODE(run(Msg().upd(R("www", ANY, A, 0, "192.0.2.1"))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().upd(R("www", ANY, 252, 0))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().upd(R("www", NONE, TANY, 0))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().upd(R("www", NONE, A, 60, "192.0.2.1"))), Rcode::FormErr);
  EXPECT_RCODE(run(Msg().upd(R("www", CH, A, 60, "192.0.2.1"))), Rcode::FormErr);
  RR bad = R("www", IN, A, 60);
  bad.rdata = {1, 2, 3};
  Msg m;
  m.upd(bad);
  EXPECT_RCODE(batch.process(m.m, kAllowAll), Rcode::FormErr);
  EXPECT_TRUE(batch.changes().empty());
}

TEST_F(Fixture, Permissions) {
  EXPECT_RCODE(run(Msg().upd(add_probe()), nullptr), Rcode::Refused);
  auto only_txt = [](const Name&, uint16_t t) { return t == TXT; };
  EXPECT_RCODE(run(Msg().upd(R("x", IN, TXT, 60, "ok")).upd(add_probe()), only_txt), Rcode::Refused);
  EXPECT_TRUE(batch.changes().empty());
  EXPECT_RCODE(run(Msg().upd(R("x", IN, TXT, 60, "ok")), only_txt), Rcode::NoError);
  // Delete-all asks per type present: www has A, so TXT-only is refused.
  EXPECT_RCODE(run(Msg().upd(R("www", ANY, TANY, 0)), only_txt), Rcode::Refused);
  std::vector<uint16_t> asked;
  auto record = [&](const Name&, uint16_t t) { asked.push_back(t); return true; };
  EXPECT_RCODE(run(Msg().upd(R("@", ANY, TANY, 0)), record), Rcode::NoError);
  EXPECT_EQ(asked, std::vector<uint16_t>{MX});  // apex SOA/NS are kept anyway
}

// ------------------------------------------------------------ §3.4.2 update

TEST_F(Fixture, AddRecord) {
  auto o = run(Msg().upd(R("new", IN, A, 120, "192.0.2.10")));
  EXPECT_RCODE(o, Rcode::NoError);
  const auto& cs = o.changes;
  EXPECT_EQ(cs.serial_from, 10u);
  EXPECT_EQ(cs.serial_to, 11u);
  ASSERT_EQ(cs.removed.size(), 1u);
  ASSERT_EQ(cs.added.size(), 2u);
  EXPECT_EQ(cs.removed[0].type, SOA);
  EXPECT_EQ(cs.added[0].type, SOA);
  EXPECT_EQ(cs.added[1].owner, N("new.example.test."));
  EXPECT_EQ(cs.added[1].ttl, 120u);
  auto nz = next();
  EXPECT_EQ(nz->serial(), 11u);
  EXPECT_EQ(count(*nz, "new", A), 1u);
}

TEST_F(Fixture, DuplicateIsNoChange) {
  auto o = run(Msg().upd(R("www", IN, A, 300, "192.0.2.1")));
  EXPECT_RCODE(o, Rcode::NoError);
  EXPECT_TRUE(o.changes.empty());  // no serial bump (RFC 2136 §3.6)
  EXPECT_TRUE(batch.changes().empty());
  EXPECT_EQ(batch.serial(), 10u);
  EXPECT_EQ(batch.snapshot()->get(), z.get());
}

TEST_F(Fixture, TtlChangeRewritesRRset) {
  // A duplicate with a new TTL replaces the zone RR (§3.4.2.2); the RRset
  // has one TTL, so all of it moves (BIND does the same).
  auto o = run(Msg().upd(R("www", IN, A, 60, "192.0.2.1")));
  EXPECT_RCODE(o, Rcode::NoError);
  EXPECT_EQ(o.changes.removed.size(), 3u);  // SOA + 2 A at 300
  EXPECT_EQ(o.changes.added.size(), 3u);    // SOA + 2 A at 60
  auto nz = next();
  EXPECT_EQ(count(*nz, "www", A), 2u);
  EXPECT_EQ(ttl(*nz, "www", A), 60u);
  // Adding a new RR with another TTL does the same.
  auto o2 = run(Msg().upd(R("www", IN, A, 900, "192.0.2.3")));
  EXPECT_EQ(o2.changes.added.size(), 4u);
  nz = next();
  EXPECT_EQ(count(*nz, "www", A), 3u);
  EXPECT_EQ(ttl(*nz, "www", A), 900u);
}

TEST_F(Fixture, CnameVersusOtherData) {
  // CNAME where other data exists: ignored.
  EXPECT_TRUE(run(Msg().upd(R("www", IN, CNAME, 60, "txt"))).changes.empty());
  // Other data where a CNAME exists: ignored.
  EXPECT_TRUE(run(Msg().upd(R("alias", IN, A, 60, "192.0.2.5"))).changes.empty());
  // CNAME at the apex (SOA, NS there): ignored.
  EXPECT_TRUE(run(Msg().upd(R("@", IN, CNAME, 60, "www"))).changes.empty());
  // CNAME replaces CNAME.
  auto o = run(Msg().upd(R("alias", IN, CNAME, 60, "txt")));
  EXPECT_RCODE(o, Rcode::NoError);
  ASSERT_EQ(o.changes.added.size(), 2u);
  EXPECT_EQ(o.changes.removed.size(), 2u);
  EXPECT_EQ(o.changes.added[1].rdata, rd(CNAME, "txt.example.test."));
  // Delete the data, then the CNAME may go in, in one message.
  auto o2 = run(Msg().upd(R("txt", ANY, TXT, 0)).upd(R("txt", IN, CNAME, 60, "www")));
  EXPECT_RCODE(o2, Rcode::NoError);
  auto nz = next();
  EXPECT_EQ(count(*nz, "txt", CNAME), 1u);
  EXPECT_EQ(count(*nz, "txt", TXT), 0u);
  EXPECT_EQ(count(*nz, "alias", CNAME), 1u);
}

TEST_F(Fixture, SoaRules) {
  // Older or equal serial: ignored.
  EXPECT_TRUE(run(Msg().upd(R("@", IN, SOA, 3600, "ns1 hostmaster 10 1 1 1 1"))).changes.empty());
  EXPECT_TRUE(run(Msg().upd(R("@", IN, SOA, 3600, "ns1 hostmaster 9 1 1 1 1"))).changes.empty());
  // SOA not at the apex: ignored.
  EXPECT_TRUE(run(Msg().upd(R("www", IN, SOA, 3600, "ns1 hostmaster 99 1 1 1 1"))).changes.empty());
  // SOA cannot be deleted (§3.4.2.3, §3.4.2.4).
  EXPECT_TRUE(run(Msg().upd(R("@", ANY, SOA, 0))).changes.empty());
  Msg del;
  for (const RR& r : z->records()) {
    if (r.type == SOA) del.upd(RR{kOrigin, SOA, NONE, 0, r.rdata});
  }
  ASSERT_EQ(del.m.authority.size(), 1u);
  EXPECT_RCODE(run(del), Rcode::NoError);
  EXPECT_TRUE(batch.changes().empty());
  // Newer serial: replaces, and is not bumped again.
  auto o = run(Msg().upd(R("@", IN, SOA, 1800, "ns1 hostmaster 500 7200 3600 1209600 60"))
                   .upd(add_probe()));
  EXPECT_RCODE(o, Rcode::NoError);
  EXPECT_EQ(o.changes.serial_to, 500u);
  auto nz = next();
  EXPECT_EQ(nz->serial(), 500u);
  EXPECT_EQ(nz->soa_minimum(), 60u);
  EXPECT_EQ(count(*nz, "probe", A), 1u);
}

TEST_F(Fixture, ApexNsRules) {
  EXPECT_TRUE(run(Msg().upd(R("@", ANY, NS, 0))).changes.empty());
  // Deleting both NS one by one: the last one stays (§3.4.2.4).
  auto o = run(Msg().upd(R("@", NONE, NS, 0, "ns1")).upd(R("@", NONE, NS, 0, "ns2")));
  EXPECT_RCODE(o, Rcode::NoError);
  EXPECT_EQ(o.changes.removed.size(), 2u);  // SOA + ns1
  EXPECT_EQ(count(*next(), "@", NS), 1u);
  // Delete all at the apex keeps SOA and NS, removes MX.
  auto o2 = run(Msg().upd(R("@", ANY, TANY, 0)));
  EXPECT_EQ(o2.changes.removed.size(), 2u);  // SOA + MX
  auto nz = next();
  EXPECT_EQ(count(*nz, "@", MX), 0u);
  EXPECT_EQ(count(*nz, "@", NS), 1u);
  // NS below the apex (a delegation) may go entirely.
  EXPECT_RCODE(run(Msg().upd(R("sub", IN, NS, 60, "ns1"))), Rcode::NoError);
  EXPECT_FALSE(run(Msg().upd(R("sub", ANY, NS, 0))).changes.empty());
}

TEST_F(Fixture, DeleteRRsetNameAndOneRR) {
  auto o = run(Msg().upd(R("www", ANY, A, 0)));
  EXPECT_EQ(o.changes.removed.size(), 3u);
  EXPECT_EQ(o.changes.added.size(), 1u);
  EXPECT_EQ(count(*next(), "www", A), 0u);
  // Delete a name.
  auto o2 = run(Msg().upd(R("a.b.c", ANY, TANY, 0)));
  EXPECT_EQ(o2.changes.removed.size(), 2u);
  // Delete one RR; names in rdata compare without case.
  auto o3 = run(Msg().upd(R("alias", NONE, CNAME, 0, "WWW.EXAMPLE.TEST.")));
  EXPECT_EQ(o3.changes.removed.size(), 2u);
  EXPECT_EQ(o3.changes.removed[1].rdata, rd(CNAME, "www.example.test."));  // as stored
  // Deleting what is not there changes nothing.
  EXPECT_TRUE(run(Msg().upd(R("ns1", NONE, A, 0, "192.0.2.99"))).changes.empty());
  EXPECT_TRUE(run(Msg().upd(R("nothere", ANY, TANY, 0))).changes.empty());
  EXPECT_TRUE(run(Msg().upd(R("nothere", ANY, A, 0))).changes.empty());
  auto nz = next();
  EXPECT_EQ(count(*nz, "a.b.c", A), 0u);
  EXPECT_EQ(count(*nz, "alias", CNAME), 0u);
  EXPECT_EQ(nz->serial(), 13u);
}

TEST_F(Fixture, AddThenDeleteInOneMessage) {
  // Update RRs apply in order (§3.4.2): add then delete = nothing.
  auto o = run(Msg().upd(R("tmp", IN, A, 60, "192.0.2.1")).upd(R("tmp", ANY, TANY, 0)));
  EXPECT_RCODE(o, Rcode::NoError);
  EXPECT_TRUE(o.changes.empty());
}

TEST_F(Fixture, AllOrNothing) {
  // Passing prerequisite, then a failing one: nothing changes.
  auto o = run(Msg().pre(R("www", ANY, A, 0)).pre(R("www", NONE, A, 0)).upd(add_probe()));
  EXPECT_RCODE(o, Rcode::YXRRSet);
  EXPECT_TRUE(o.changes.empty());
  // Valid updates followed by a malformed one: nothing changes.
  auto o2 = run(Msg().upd(add_probe()).upd(R("www", ANY, A, 0)).upd(R("www", NONE, TANY, 0)));
  EXPECT_RCODE(o2, Rcode::FormErr);
  EXPECT_TRUE(batch.changes().empty());
  EXPECT_EQ(batch.serial(), 10u);
  EXPECT_EQ(batch.snapshot()->get(), z.get());
  EXPECT_EQ(batch.node(N("www.example.test.")).size(), 1u);
  EXPECT_TRUE(batch.node(N("probe.example.test.")).empty());
}

TEST_F(Fixture, BatchSeesPendingChanges) {
  EXPECT_RCODE(run(Msg().upd(R("host", IN, A, 60, "192.0.2.20"))), Rcode::NoError);
  // The second message's prerequisite sees the first one's record.
  EXPECT_RCODE(run(Msg().pre(R("host", IN, A, 0, "192.0.2.20"))
                       .upd(R("host", NONE, A, 0, "192.0.2.20"))
                       .upd(R("host", IN, A, 60, "192.0.2.21"))),
               Rcode::NoError);
  EXPECT_RCODE(run(Msg().pre(R("host", IN, A, 0, "192.0.2.20"))), Rcode::NXRRSet);
  EXPECT_RCODE(run(Msg().pre(R("host", NONE, TANY, 0))), Rcode::YXDomain);
  ASSERT_EQ(batch.changes().size(), 2u);
  EXPECT_EQ(batch.changes()[0].serial_to, 11u);
  EXPECT_EQ(batch.changes()[1].serial_from, 11u);
  EXPECT_EQ(batch.changes()[1].serial_to, 12u);
  auto nz = next();
  EXPECT_EQ(nz->serial(), 12u);
  EXPECT_EQ(count(*nz, "host", A), 1u);
  auto snap = batch.snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->serial(), 12u);
  // Applying one changeset at a time gives the same zone.
  auto step = zone::apply(*z, batch.changes()[0]);
  ASSERT_TRUE(step.ok());
  auto step2 = zone::apply(**step, batch.changes()[1]);
  ASSERT_TRUE(step2.ok()) << step2.error().message;
  EXPECT_EQ((*step2)->records().size(), nz->records().size());
}

TEST_F(Fixture, MaxRecordsPerType) {
  Options opt;
  opt.max_records_per_type = 3;
  Batch b(z, opt);
  EXPECT_RCODE(b.process(Msg().upd(R("www", IN, A, 300, "192.0.2.3")).wire(), kAllowAll), Rcode::NoError);
  auto o = b.process(Msg().upd(R("x", IN, A, 300, "192.0.2.3")).upd(R("www", IN, A, 300, "192.0.2.4")).wire(),
                     kAllowAll);
  EXPECT_RCODE(o, Rcode::Refused);
  EXPECT_EQ(b.changes().size(), 1u);  // the whole second message failed
  EXPECT_TRUE(b.node(N("x.example.test.")).empty());
}

TEST_F(Fixture, SerialPolicyFromOptions) {
  Options opt;
  opt.serial_policy = zone::SerialPolicy::UnixTime;
  opt.now = 1763769600;
  Batch b(z, opt);
  auto o = b.process(Msg().upd(add_probe()).wire(), kAllowAll);
  EXPECT_EQ(o.changes.serial_to, 1763769600u);
  auto o2 = b.process(Msg().upd(R("p2", IN, A, 60, "192.0.2.2")).wire(), kAllowAll);
  EXPECT_EQ(o2.changes.serial_to, 1763769601u);  // same second: +1
  auto single = process(z, Msg().upd(add_probe()).wire(), kAllowAll, Options{});
  EXPECT_EQ(single.changes.serial_to, 11u);
}


// A packet captured from BIND's nsupdate (9.18) with:
//   zone example.test.
//   prereq nxdomain new.example.test.
//   prereq yxrrset www.example.test. A
//   prereq yxrrset ns1.example.test. A 192.0.2.53
//   update delete alias.example.test. CNAME
//   update delete www.example.test. A 192.0.2.2
//   update add new.example.test. 600 A 192.0.2.77
//   update add new.example.test. 600 TXT "hello world"
//   update delete txt.example.test.
constexpr const char* kNsupdatePacket =
    "08f928000001000300050000076578616d706c6504746573740000060001036e6577c00c00ff00fe00000000000003777777c00c000100ff000000000000036e7331c00c00010001000000000004c000023505616c696173c00c000500ff000000000000c02e000100fe000000000004c0000202c01e00010001000002580004c000024dc01e0010000100000258000c0b68656c6c6f20776f726c6403747874c00c00ff00ff000000000000";

wire::Bytes unhex(const char* h) {
  wire::Bytes b;
  for (size_t i = 0; h[i] && h[i + 1]; i += 2) b.push_back(uint8_t(std::stoi(std::string(h + i, 2), nullptr, 16)));
  return b;
}

TEST_F(Fixture, RealNsupdatePacket) {
  auto msg = wire::parse(unhex(kNsupdatePacket));
  ASSERT_TRUE(msg.ok()) << msg.error().message;
  EXPECT_EQ(msg->header.opcode(), wire::Opcode::Update);
  auto served = [](const Name& n, uint16_t c) { return c == IN && n == N("example.test."); };
  EXPECT_EQ(check_zone_section(*msg, served).rcode, Rcode::NoError);
  auto o = batch.process(*msg, kAllowAll);
  EXPECT_RCODE(o, Rcode::NoError);
  // Removed: SOA, alias CNAME, txt TXT, www A 192.0.2.2; added: SOA, new A, new TXT.
  ASSERT_EQ(o.changes.removed.size(), 4u);
  ASSERT_EQ(o.changes.added.size(), 3u);
  EXPECT_EQ(o.changes.removed[1].owner, N("alias.example.test."));
  EXPECT_EQ(o.changes.removed[3].rdata, rd(A, "192.0.2.2"));
  EXPECT_EQ(o.changes.added[1].owner, N("new.example.test."));
  EXPECT_EQ(o.changes.added[1].ttl, 600u);
  auto nz = next();
  EXPECT_EQ(count(*nz, "www", A), 1u);
  EXPECT_EQ(count(*nz, "new", TXT), 1u);
  EXPECT_EQ(count(*nz, "txt", TXT), 0u);
  // Sent again, the first prerequisite (nxdomain new) now fails.
  EXPECT_RCODE(batch.process(*msg, kAllowAll), Rcode::YXDomain);
}

// Property: whatever random messages do, every accepted ChangeSet applies
// cleanly (removed records exist, added ones are new), and the snapshot
// built from them agrees with the batch's own view of every name.
TEST_F(Fixture, RandomMessagesStayConsistent) {
  const char* names[] = {"@", "www", "alias", "txt", "a.b.c", "b.c", "new", "x.new", "ns1", "sub"};
  const struct { uint16_t type; const char* rdata[3]; } data[] = {
      {A, {"192.0.2.1", "192.0.2.2", "192.0.2.3"}},
      {TXT, {"hello", "a", "b"}},
      {CNAME, {"www", "txt", "WWW"}},
      {NS, {"ns1", "ns2", "ns3"}},
      {MX, {"10 mail", "20 mx", "10 MAIL"}},
      {SOA, {"ns1 hostmaster 5 1 1 1 1", "ns1 hostmaster 4000000000 1 1 1 1", "ns1 hostmaster 99 1 1 1 1"}},
  };
  uint32_t seed = 12345;
  auto rnd = [&](uint32_t n) { seed = seed * 1103515245u + 12345u; return (seed >> 16) % n; };
  size_t ok = 0;
  for (int i = 0; i < 1500; ++i) {
    Msg m;
    for (uint32_t p = rnd(3); p-- > 0;) {
      const char* n = names[rnd(10)];
      const auto& d = data[rnd(6)];
      switch (rnd(4)) {
        case 0: m.pre(R(n, ANY, d.type, 0)); break;
        case 1: m.pre(R(n, NONE, d.type, 0)); break;
        case 2: m.pre(R(n, rnd(2) ? ANY : NONE, TANY, 0)); break;
        default: m.pre(R(n, IN, d.type, 0, d.rdata[rnd(3)])); break;
      }
    }
    for (uint32_t u = 1 + rnd(4); u-- > 0;) {
      const char* n = names[rnd(10)];
      const auto& d = data[rnd(6)];
      switch (rnd(5)) {
        case 0: m.upd(R(n, ANY, d.type, 0)); break;
        case 1: m.upd(R(n, ANY, TANY, 0)); break;
        case 2: m.upd(R(n, NONE, d.type, 0, d.rdata[rnd(3)])); break;
        default: m.upd(R(n, IN, d.type, rnd(2) ? 60 : 300, d.rdata[rnd(3)])); break;
      }
    }
    if (batch.process(m.m, kAllowAll).rcode == Rcode::NoError) ++ok;
  }
  EXPECT_GT(ok, 100u);
  EXPECT_GT(batch.changes().size(), 50u);
  auto snap = batch.snapshot();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ((*snap)->serial(), batch.serial());
  for (const char* n : names) {
    const Name owner = *Name::from_text(n, &kOrigin);
    const Batch::Node view = batch.node(owner);
    size_t records = 0;
    for (const auto& set : view) {
      records += set.rdatas.size();
      EXPECT_EQ(count(**snap, n, set.type), set.rdatas.size()) << n << " " << set.type;
      EXPECT_EQ(ttl(**snap, n, set.type), set.ttl) << n << " " << set.type;
      // No CNAME beside other data, apex keeps SOA and NS.
      if (set.type == CNAME) {
        EXPECT_EQ(view.size(), 1u) << n;
      }
    }
    (void)records;
  }
  EXPECT_EQ(count(**snap, "@", SOA), 1u);
  EXPECT_GE(count(**snap, "@", NS), 1u);
  // And one changeset at a time gives the same serial.
  std::shared_ptr<const zone::Zone> cur = z;
  for (const auto& cs : batch.changes()) {
    auto r = zone::apply(*cur, cs);
    ASSERT_TRUE(r.ok()) << r.error().message;
    cur = *r;
  }
  EXPECT_EQ(cur->serial(), (*snap)->serial());
  EXPECT_EQ(cur->record_count(), (*snap)->record_count());
}

// Group commit: many UPDATEs processed into one Batch, one rebuild.
TEST(UpdateBench, TenThousandUpdatesOneSnapshot) {
  std::vector<RR> recs;
  auto base = make_zone()->records();
  recs.insert(recs.end(), base.begin(), base.end());
  char buf[64];
  for (int i = 0; i < 100000; ++i) {
    std::snprintf(buf, sizeof buf, "h%d", i);
    recs.push_back(R(buf, IN, A, 300, "192.0.2.1"));
  }
  auto z = zone::Zone::build(kOrigin, std::move(recs));
  ASSERT_TRUE(z.ok());
  Batch b(*z, Options{});
  std::vector<wire::Message> msgs;
  for (int i = 0; i < 10000; ++i) {
    std::snprintf(buf, sizeof buf, "n%d", i);
    Msg m;
    m.pre(R(buf, NONE, TANY, 0)).upd(R(buf, IN, A, 60, "192.0.2.5")).upd(R(buf, IN, TXT, 60, "x"));
    msgs.push_back(std::move(m.m));
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& m : msgs) ASSERT_EQ(b.process(m, kAllowAll).rcode, Rcode::NoError);
  const auto t1 = std::chrono::steady_clock::now();
  auto snap = b.snapshot();
  const auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ((*snap)->serial(), 10010u);
  EXPECT_EQ((*snap)->record_count(), (*z)->record_count() + 20000);
  std::printf("10000 updates on a 100k zone: process %.1f ms, one apply %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
}

}  // namespace
}  // namespace ddns::update
