// Zone snapshot and ZoneSet tests, with zones built from RR vectors.
#include "zone/zone.h"

#include <gtest/gtest.h>

namespace ddns::zone {
namespace {

using wire::Name;
using wire::RR;

Name N(const char* s) { return *Name::from_text(s); }

RR rr(const char* owner, uint16_t type, uint32_t ttl, wire::Bytes rdata) {
  return RR{N(owner), type, 1, ttl, std::move(rdata)};
}
wire::Bytes a(uint8_t last) { return {192, 0, 2, last}; }
wire::Bytes name_rd(const char* n) {
  Name name = N(n);
  auto w = name.wire();
  return wire::Bytes(w.begin(), w.end());
}
wire::Bytes soa_rd() {
  wire::Bytes b = name_rd("ns1.example.test.");
  auto m = name_rd("hostmaster.example.test.");
  b.insert(b.end(), m.begin(), m.end());
  const uint8_t nums[20] = {0, 0, 0, 42, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 44};
  b.insert(b.end(), nums, nums + 20);
  return b;
}

std::vector<RR> base() {
  return {
      rr("www.Example.test.", 1, 300, a(3)),
      rr("example.test.", 6, 3600, soa_rd()),
      rr("example.test.", 2, 3600, name_rd("ns1.example.test.")),
      rr("ns1.example.test.", 1, 3600, a(53)),
      rr("www.example.test.", 1, 300, a(1)),
      rr("www.example.test.", 1, 600, a(2)),
      rr("www.example.test.", 1, 900, a(1)),  // duplicate rdata
      rr("x.y.z.example.test.", 16, 60, {3, 'a', 'b', 'c'}),
      rr("*.w.example.test.", 1, 60, a(9)),
      rr("sub.example.test.", 2, 60, name_rd("ns.sub.example.test.")),
      rr("ns.sub.example.test.", 1, 60, a(54)),
      rr("c.example.test.", 5, 60, name_rd("www.example.test.")),
      rr("example.test.", 15, 60, {0, 10, 4, 'm', 'a', 'i', 'l', 0}),
  };
}

std::shared_ptr<const Zone> build_base() {
  auto z = Zone::build(N("example.test."), base());
  EXPECT_TRUE(z.ok()) << (z.ok() ? "" : z.error().message);
  return *z;
}

NodeId find(const Zone& z, const char* name) {
  auto n = N(name).lowercased();
  return z.find(n.wire().data(), n.wire_size());
}

TEST(Zone, BuildBasics) {
  auto z = build_base();
  EXPECT_EQ(z->origin(), N("example.test."));
  EXPECT_EQ(z->serial(), 42u);
  EXPECT_EQ(z->soa_minimum(), 300u);
  EXPECT_EQ(z->record_count(), 12u);  // the duplicate A is dropped (RFC 2181 §5)
  EXPECT_EQ(z->soa().type, 6);
  EXPECT_EQ(z->node(z->apex()).flags & Zone::kApex, Zone::kApex);
}

TEST(Zone, RRsetsSortedDedupedLastTtl) {
  auto z = build_base();
  NodeId www = find(*z, "WWW.example.TEST.");
  ASSERT_NE(www, kNoNode);
  RRsetView v = z->rrset(www, 1);
  ASSERT_EQ(v.count, 3);
  EXPECT_EQ(v.ttl, 900u);  // the last record's TTL, as Knot loads it
  const uint8_t* p = v.data;
  for (uint8_t want : {1, 2, 3}) {
    ASSERT_EQ(p[0] << 8 | p[1], 4);
    EXPECT_EQ(p[5], want);
    p += 6;
  }
  EXPECT_TRUE(z->rrset(www, 28).empty());
  // Apex RRsets are in type order: NS(2) SOA(6) MX(15).
  EXPECT_EQ(z->rrset_at(z->apex(), 0).type, 2);
  EXPECT_EQ(z->rrset_at(z->apex(), 1).type, 6);
  EXPECT_EQ(z->rrset_at(z->apex(), 2).type, 15);
}

TEST(Zone, EmptyNonTerminalsAndWildcards) {
  auto z = build_base();
  NodeId y = find(*z, "y.z.example.test.");
  NodeId zz = find(*z, "z.example.test.");
  ASSERT_NE(y, kNoNode);
  ASSERT_NE(zz, kNoNode);
  EXPECT_TRUE(z->node(y).flags & Zone::kEmpty);
  EXPECT_EQ(z->node(y).parent, zz);
  EXPECT_EQ(find(*z, "q.example.test."), kNoNode);
  NodeId w = find(*z, "w.example.test.");
  ASSERT_NE(w, kNoNode);
  EXPECT_TRUE(z->node(w).flags & Zone::kWildcardChild);
  EXPECT_TRUE(z->node(w).flags & Zone::kEmpty);
  EXPECT_FALSE(z->node(z->apex()).flags & Zone::kWildcardChild);
}

TEST(Zone, CutsGlueAndTargets) {
  auto z = build_base();
  NodeId sub = find(*z, "sub.example.test.");
  NodeId glue = find(*z, "ns.sub.example.test.");
  ASSERT_NE(glue, kNoNode);
  EXPECT_TRUE(z->node(sub).flags & Zone::kDelegation);
  EXPECT_EQ(z->node(sub).cut, sub);
  EXPECT_EQ(z->node(glue).cut, sub);
  EXPECT_EQ(z->node(z->apex()).cut, kNoNode);
  EXPECT_FALSE(z->node(z->apex()).flags & Zone::kDelegation);  // apex NS is no cut
  RRsetView ns = z->rrset(sub, 2);
  ASSERT_NE(ns.targets, nullptr);
  EXPECT_EQ(ns.targets[0], glue);
  RRsetView apex_ns = z->rrset(z->apex(), 2);
  EXPECT_EQ(apex_ns.targets[0], find(*z, "ns1.example.test."));
  RRsetView mx = z->rrset(z->apex(), 15);
  ASSERT_NE(mx.targets, nullptr);
  EXPECT_EQ(mx.targets[0], kNoNode);  // mail.example.test does not exist
  EXPECT_TRUE(z->node(find(*z, "c.example.test.")).flags & Zone::kHasCname);
}

TEST(Zone, RecordsCanonicalOrder) {
  auto z = build_base();
  auto recs = z->records();
  ASSERT_EQ(recs.size(), 12u);
  EXPECT_EQ(recs[0].owner, N("example.test."));
  for (size_t i = 1; i < recs.size(); ++i) {
    EXPECT_FALSE(recs[i].owner.canonical_less(recs[i - 1].owner)) << i;
  }
  // Owners come back lowercased.
  bool saw = false;
  for (const auto& r : recs) {
    if (r.owner == N("www.example.test.")) {
      EXPECT_EQ(r.owner.to_text(), "www.example.test.");
      saw = true;
    }
  }
  EXPECT_TRUE(saw);
  // Rebuilding from records() gives the same zone.
  auto again = Zone::build(N("example.test."), recs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->record_count(), 12u);
}

TEST(Zone, BuildErrors) {
  auto recs = base();
  recs.push_back(rr("www.example.org.", 1, 60, a(1)));
  EXPECT_FALSE(Zone::build(N("example.test."), recs).ok());
  recs = base();
  recs.push_back(rr("xexample.test.", 1, 60, a(1)));  // not at a label boundary
  EXPECT_FALSE(Zone::build(N("example.test."), recs).ok());
  recs = base();
  recs.erase(recs.begin() + 1);  // the SOA
  EXPECT_FALSE(Zone::build(N("example.test."), recs).ok());
  recs = base();
  recs.push_back(rr("www.example.test.", 6, 60, soa_rd()));
  EXPECT_FALSE(Zone::build(N("example.test."), recs).ok());
}

TEST(Zone, ManyNamesGrowTable) {
  auto recs = base();
  for (int i = 0; i < 5000; ++i) {
    std::string n = "h" + std::to_string(i) + ".hosts.example.test.";
    recs.push_back(RR{N(n.c_str()), 1, 1, 60, a(uint8_t(i))});
  }
  auto z = Zone::build(N("example.test."), recs);
  ASSERT_TRUE(z.ok());
  for (int i = 0; i < 5000; i += 97) {
    std::string n = "H" + std::to_string(i) + ".hosts.example.test.";
    EXPECT_NE(find(**z, n.c_str()), kNoNode) << n;
  }
  EXPECT_GT((*z)->memory_usage(), 0u);
}

TEST(ZoneSet, DeepestMatch) {
  auto parent = build_base();
  std::vector<RR> child = {rr("deep.example.test.", 6, 60, soa_rd())};
  auto c = *Zone::build(N("deep.example.test."), child);
  auto set = std::make_shared<const ZoneSet>();
  EXPECT_EQ(set->find(N("www.example.test.")), nullptr);
  set = set->with(parent)->with(c);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->find(N("www.example.test.")), parent.get());
  EXPECT_EQ(set->find(N("EXAMPLE.test.")), parent.get());
  EXPECT_EQ(set->find(N("a.b.Deep.example.test.")), c.get());
  EXPECT_EQ(set->find(N("deep.example.test.")), c.get());
  EXPECT_EQ(set->find(N("example.org.")), nullptr);
  EXPECT_EQ(set->find(N("test.")), nullptr);
  LowerName ln;
  auto d = N("deep.example.test.");
  ln.assign(d.wire().data(), d.wire_size());
  EXPECT_EQ(set->find(ln, 1), parent.get());  // DS: search from the parent
  // Replace and remove.
  auto c2 = *Zone::build(N("Deep.Example.Test."), child);
  auto set2 = set->with(c2);
  EXPECT_EQ(set2->size(), 2u);
  EXPECT_EQ(set2->find(N("x.deep.example.test.")), c2.get());
  EXPECT_EQ(set->find(N("x.deep.example.test.")), c.get());  // old set unchanged
  auto set3 = set2->without(N("deep.example.test."));
  EXPECT_EQ(set3->size(), 1u);
  EXPECT_EQ(set3->find(N("x.deep.example.test.")), parent.get());
}

TEST(ZoneSet, RootZone) {
  std::vector<RR> recs = {rr(".", 6, 60, soa_rd()), rr("org.", 2, 60, name_rd("a.example.org."))};
  auto root = Zone::build(Name(), recs);
  ASSERT_TRUE(root.ok()) << root.error().message;
  auto set = std::make_shared<const ZoneSet>()->with(*root);
  EXPECT_EQ(set->find(N("www.example.org.")), root->get());
  EXPECT_EQ(set->find(Name()), root->get());
}

}  // namespace
}  // namespace ddns::zone
