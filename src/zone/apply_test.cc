// Tests of zone::apply (ChangeSet -> next snapshot) and of RFC 1982 serial
// arithmetic and next-serial policies.
#include "zone/apply.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "zone/serial.h"

namespace ddns::zone {
namespace {

using wire::Name;
using wire::RR;

Name N(const char* s) { return *Name::from_text(s); }
wire::Bytes a(uint8_t b3, uint8_t b4 = 1) { return {192, 0, b3, b4}; }
wire::Bytes name_rd(const char* n) {
  const Name name = N(n);
  auto w = name.wire();
  return wire::Bytes(w.begin(), w.end());
}
wire::Bytes soa_rd(uint32_t serial) {
  wire::Bytes b = name_rd("ns1.example.test.");
  auto m = name_rd("hostmaster.example.test.");
  b.insert(b.end(), m.begin(), m.end());
  uint8_t nums[20] = {uint8_t(serial >> 24), uint8_t(serial >> 16), uint8_t(serial >> 8), uint8_t(serial),
                      0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 1, 44};
  b.insert(b.end(), nums, nums + 20);
  return b;
}
RR rr(const char* owner, uint16_t type, uint32_t ttl, wire::Bytes rd) {
  return RR{N(owner), type, 1, ttl, std::move(rd)};
}

std::shared_ptr<const Zone> base_zone() {
  auto z = Zone::build(N("example.test."), {
                                               rr("example.test.", 6, 3600, soa_rd(10)),
                                               rr("example.test.", 2, 3600, name_rd("ns1.example.test.")),
                                               rr("ns1.example.test.", 1, 3600, a(2, 53)),
                                               rr("www.example.test.", 1, 300, a(2, 1)),
                                               rr("www.example.test.", 1, 300, a(2, 2)),
                                           });
  EXPECT_TRUE(z.ok()) << z.error().message;
  return *z;
}

ChangeSet cs_from(uint32_t from, uint32_t to) {
  ChangeSet cs;
  cs.origin = N("example.test.");
  cs.serial_from = from;
  cs.serial_to = to;
  cs.removed.push_back(rr("example.test.", 6, 3600, soa_rd(from)));
  cs.added.push_back(rr("example.test.", 6, 3600, soa_rd(to)));
  return cs;
}

RRsetView lookup(const Zone& z, const char* owner, uint16_t type) {
  auto n = N(owner).lowercased();
  NodeId id = z.find(n.wire().data(), n.wire().size());
  if (id == kNoNode) return {};
  return z.rrset(id, type);
}

TEST(Apply, AddRemoveAndSoa) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.removed.push_back(rr("WWW.example.test.", 1, 0, a(2, 1)));  // TTL and case ignored
  cs.added.push_back(rr("new.example.test.", 16, 60, {3, 'a', 'b', 'c'}));
  auto r = zone::apply(*z, cs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Zone& nz = **r;
  EXPECT_EQ(nz.serial(), 11u);
  EXPECT_EQ(nz.record_count(), z->record_count());
  EXPECT_EQ(lookup(nz, "www.example.test.", 1).count, 1);
  EXPECT_EQ(lookup(nz, "new.example.test.", 16).count, 1);
  EXPECT_EQ(lookup(nz, "new.example.test.", 16).ttl, 60u);
  // The base is untouched.
  EXPECT_EQ(z->serial(), 10u);
  EXPECT_EQ(lookup(*z, "www.example.test.", 1).count, 2);
}

TEST(Apply, AddedRecordSetsRRsetTtl) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.added.push_back(rr("www.example.test.", 1, 60, a(2, 3)));
  auto r = zone::apply(*z, cs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(lookup(**r, "www.example.test.", 1).count, 3);
  EXPECT_EQ(lookup(**r, "www.example.test.", 1).ttl, 60u);
}

TEST(Apply, RemovedMustExist) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.removed.push_back(rr("www.example.test.", 1, 300, a(2, 9)));
  auto r = zone::apply(*z, cs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not in the zone"), std::string::npos) << r.error().message;
  // Wrong old SOA (serial mismatch) fails the same way.
  ChangeSet bad = cs_from(9, 11);
  EXPECT_FALSE(zone::apply(*z, bad).ok());
}

TEST(Apply, AddedMustNotDuplicate) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.added.push_back(rr("www.example.test.", 1, 300, a(2, 2)));
  EXPECT_FALSE(zone::apply(*z, cs).ok());
  // Removed then added again in one changeset (a TTL change) is fine.
  ChangeSet ttl = cs_from(10, 11);
  ttl.removed.push_back(rr("www.example.test.", 1, 300, a(2, 1)));
  ttl.removed.push_back(rr("www.example.test.", 1, 300, a(2, 2)));
  ttl.added.push_back(rr("www.example.test.", 1, 30, a(2, 1)));
  ttl.added.push_back(rr("www.example.test.", 1, 30, a(2, 2)));
  auto r = zone::apply(*z, ttl);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(lookup(**r, "www.example.test.", 1).ttl, 30u);
  EXPECT_EQ(lookup(**r, "www.example.test.", 1).count, 2);
}

// The one rule (apply.h): records match by canonical rdata (names inside
// rdata without case, RFC 4034 §6.2), serials must chain.
TEST(Apply, CanonicalRdataAndSerialChain) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.removed.push_back(rr("EXAMPLE.test.", 2, 3600, name_rd("NS1.Example.TEST.")));
  cs.added.push_back(rr("example.test.", 2, 3600, name_rd("ns2.example.test.")));
  auto r = zone::apply(*z, cs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(lookup(**r, "example.test.", 2).count, 1);
  // Adding a record already there differing only in rdata case is a duplicate.
  ChangeSet dup = cs_from(10, 11);
  dup.added.push_back(rr("example.test.", 2, 3600, name_rd("NS1.EXAMPLE.TEST.")));
  EXPECT_FALSE(zone::apply(*z, dup).ok());
  // A second changeset must start where the first ended.
  std::vector<ChangeSet> gap = {cs_from(10, 11), cs_from(12, 13)};
  auto g = zone::apply(*z, gap);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("does not follow"), std::string::npos) << g.error().message;
  EXPECT_TRUE(same_rdata(2, name_rd("a.Example."), name_rd("A.example.")));
  EXPECT_FALSE(same_rdata(16, wire::Bytes{1, 'a'}, wire::Bytes{1, 'A'}));  // TXT keeps case
}

TEST(Apply, OutsideZoneAndWrongOrigin) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.added.push_back(rr("www.example.org.", 1, 300, a(2, 2)));
  EXPECT_FALSE(zone::apply(*z, cs).ok());
  ChangeSet other = cs_from(10, 11);
  other.origin = N("example.org.");
  EXPECT_FALSE(zone::apply(*z, other).ok());
}

TEST(Apply, RemovingWholeNodeAndSoaMustRemain) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.removed.push_back(rr("www.example.test.", 1, 300, a(2, 1)));
  cs.removed.push_back(rr("www.example.test.", 1, 300, a(2, 2)));
  auto r = zone::apply(*z, cs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto n = N("www.example.test.");
  EXPECT_EQ((*r)->find(n.wire().data(), n.wire().size()), kNoNode);
  ChangeSet nosoa;
  nosoa.origin = N("example.test.");
  nosoa.removed.push_back(rr("example.test.", 6, 3600, soa_rd(10)));
  EXPECT_FALSE(zone::apply(*z, nosoa).ok());
}

TEST(Apply, BatchAppliesInOrder) {
  auto z = base_zone();
  std::vector<ChangeSet> batch;
  batch.push_back(cs_from(10, 11));
  batch.back().added.push_back(rr("a.example.test.", 1, 300, a(2, 7)));
  batch.push_back(ChangeSet{});  // empty ones are skipped
  batch.push_back(cs_from(11, 12));
  batch.back().removed.push_back(rr("a.example.test.", 1, 300, a(2, 7)));
  batch.back().added.push_back(rr("a.example.test.", 1, 300, a(2, 8)));
  auto r = zone::apply(*z, batch);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->serial(), 12u);
  auto v = lookup(**r, "a.example.test.", 1);
  ASSERT_EQ(v.count, 1);
  EXPECT_EQ(v.data[2 + 3], 8);
  // All or nothing: a bad last changeset fails the batch.
  batch.push_back(cs_from(12, 13));
  batch.back().removed.push_back(rr("a.example.test.", 1, 300, a(2, 7)));
  EXPECT_FALSE(zone::apply(*z, batch).ok());
}

TEST(Apply, DelegationAndGlueFlagsRebuilt) {
  auto z = base_zone();
  ChangeSet cs = cs_from(10, 11);
  cs.added.push_back(rr("sub.example.test.", 2, 300, name_rd("ns.sub.example.test.")));
  cs.added.push_back(rr("ns.sub.example.test.", 1, 300, a(2, 9)));
  auto r = zone::apply(*z, cs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto n = N("sub.example.test.");
  NodeId id = (*r)->find(n.wire().data(), n.wire().size());
  ASSERT_NE(id, kNoNode);
  EXPECT_TRUE((*r)->node(id).flags & Zone::kDelegation);
}

// ---------------------------------------------------------------- equivalence

// The reference: the whole-rebuild apply this replaced (every record copied
// out, touched owners changed in order, Zone::build). Incremental apply must
// give the same zone and the same errors.
Result<std::shared_ptr<const Zone>> rebuild_apply(const Zone& base, std::span<const ChangeSet> batch) {
  std::unordered_map<Name, size_t, wire::NameHash> index;
  std::vector<std::pair<Name, std::vector<RR>>> owners;
  auto owner_of = [&](const Name& name) -> std::vector<RR>& {
    auto [it, fresh] = index.try_emplace(name, owners.size());
    if (fresh) {
      std::vector<RR> recs;
      for (const RR& r : base.records())
        if (r.owner == name) recs.push_back(r);
      owners.emplace_back(name.lowercased(), std::move(recs));
    }
    return owners[it->second].second;
  };
  for (const ChangeSet& cs : batch) {
    if (cs.empty()) continue;
    if (cs.origin != base.origin()) return make_error("origin");
    for (const RR& rr : cs.removed) {
      if (!rr.owner.is_subdomain_of(base.origin())) return make_error("outside");
      auto& o = owner_of(rr.owner);
      auto it = std::find_if(o.begin(), o.end(), [&](const RR& r) { return r.type == rr.type && r.rdata == rr.rdata; });
      if (it == o.end()) return make_error("not there");
      o.erase(it);
    }
    for (const RR& rr : cs.added) {
      if (!rr.owner.is_subdomain_of(base.origin())) return make_error("outside");
      auto& o = owner_of(rr.owner);
      for (const RR& r : o)
        if (r.type == rr.type && r.rdata == rr.rdata) return make_error("dup");
      o.push_back(rr);
    }
  }
  std::vector<RR> all;
  for (const RR& r : base.records())
    if (!index.count(r.owner)) all.push_back(r);
  for (auto& [name, recs] : owners)
    for (RR& r : recs) {
      r.owner = name;
      all.push_back(r);
    }
  return Zone::build(base.origin(), std::move(all));
}

// What a target id means to the answer engine: the name of a node in the
// tree, or nothing (kNoNode or a placeholder).
std::string target_name(const Zone& z, NodeId t) {
  if (t == kNoNode || (z.node(t).flags & (Zone::kGhost | Zone::kFree))) return "-";
  auto w = z.node_name(t);
  return Name::from_checked_wire(w.data(), w.size()).to_text();
}

std::string node_text(const Zone& z, NodeId id) {
  if (id == kNoNode) return "-";
  auto w = z.node_name(id);
  return Name::from_checked_wire(w.data(), w.size()).to_text();
}

// Everything a lookup can see at `name`, as text.
std::string describe_name(const Zone& z, const Name& name) {
  auto n = name.lowercased();
  const NodeId id = z.find(n.wire().data(), n.wire_size());
  if (id == kNoNode) return "none";
  const Zone::Node& nd = z.node(id);
  const uint16_t mask = Zone::kApex | Zone::kDelegation | Zone::kHasCname | Zone::kHasDname |
                        Zone::kWildcardChild | Zone::kEmpty;
  std::string out = "flags=" + std::to_string(nd.flags & mask) + " cut=" + node_text(z, nd.cut) +
                    " parent=" + node_text(z, nd.parent) + " labels=" + std::to_string(nd.labels) +
                    " name=" + node_text(z, id) + " sets=" + std::to_string(nd.rrset_count);
  for (size_t i = 0; i < nd.rrset_count; ++i) {
    RRsetView v = z.rrset_at(id, i);
    RRsetView by_type = z.rrset(id, v.type);
    EXPECT_EQ(by_type.data, v.data);
    out += " [" + std::to_string(v.type) + " ttl=" + std::to_string(v.ttl) + " n=" + std::to_string(v.count);
    const uint8_t* p = v.data;
    for (size_t k = 0; k < v.count; ++k) {
      const size_t rl = size_t(p[0]) << 8 | p[1];
      out += " " + wire::rdata_to_text(v.type, wire::Bytes(p + 2, p + 2 + rl));
      if (v.targets) out += "->" + target_name(z, v.targets[k]);
      p += 2 + rl;
    }
    out += "]";
  }
  return out;
}

std::string records_text(const Zone& z) {
  std::string out;
  for (const RR& r : z.records()) {
    out += r.owner.to_text() + " " + std::to_string(r.ttl) + " " + std::to_string(r.type) + " " +
           wire::rdata_to_text(r.type, r.rdata) + "\n";
  }
  return out;
}

struct Gen {
  std::mt19937 rng;
  explicit Gen(uint32_t seed) : rng(seed) {}
  size_t pick(size_t n) { return rng() % n; }
  Name name() {
    static const char* labels[] = {"a", "b", "c", "*", "ns", "mx", "Www", "d"};
    std::string s;
    const size_t depth = 1 + pick(3);
    for (size_t i = 0; i < depth; ++i) s += std::string(labels[pick(8)]) + ".";
    return N((s + "example.test.").c_str());
  }
  wire::Bytes target() {
    if (pick(5) == 0) return name_rd("elsewhere.example.org.");
    return name_rd(name().to_text().c_str());
  }
  RR record() {
    const uint32_t ttl = pick(2) ? 60 : 300;
    Name owner = pick(12) == 0 ? N("example.test.") : name();
    switch (pick(9)) {
      case 0: return RR{owner, 2, 1, ttl, target()};
      case 1: {
        wire::Bytes b = {0, uint8_t(pick(3))};
        auto t = target();
        b.insert(b.end(), t.begin(), t.end());
        return RR{owner, 15, 1, ttl, b};
      }
      case 2: {
        wire::Bytes b = {0, 1, 0, 2, 0, 53};
        auto t = target();
        b.insert(b.end(), t.begin(), t.end());
        return RR{owner, 33, 1, ttl, b};
      }
      case 3: return RR{owner, 5, 1, ttl, target()};
      case 4: return RR{owner, 39, 1, ttl, target()};
      case 5: return RR{owner, 16, 1, ttl, {3, 'x', 'y', uint8_t('a' + pick(3))}};
      case 6: return RR{owner, 28, 1, ttl, {0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(pick(4))}};
      default: return RR{owner, 1, 1, ttl, a(2, uint8_t(pick(6)))};
    }
  }
};

void expect_same(const Zone& inc, const Zone& ref, const std::vector<Name>& names, const std::string& where) {
  ASSERT_EQ(records_text(inc), records_text(ref)) << where;
  EXPECT_EQ(inc.serial(), ref.serial()) << where;
  EXPECT_EQ(inc.soa_minimum(), ref.soa_minimum()) << where;
  EXPECT_EQ(inc.record_count(), ref.record_count()) << where;
  EXPECT_EQ(inc.soa().data[2], ref.soa().data[2]) << where;
  EXPECT_EQ(inc.soa().type, 6) << where;
  for (const Name& n : names) EXPECT_EQ(describe_name(inc, n), describe_name(ref, n)) << where << " " << n.to_text();
}

// Random changesets applied incrementally and by a full rebuild, compared
// after every step through records() and every lookup; old snapshots must
// not change while later ones are made.
TEST(ApplyRandom, SameAsFullRebuild) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    Gen g(seed);
    std::vector<RR> recs = {rr("example.test.", 6, 3600, soa_rd(1)), rr("example.test.", 2, 3600, name_rd("ns.example.test."))};
    for (int i = 0; i < 60; ++i) recs.push_back(g.record());
    // Drop what the generator made that a zone cannot hold (duplicates are fine).
    std::erase_if(recs, [](const RR& r) { return r.type == 6 && r.owner != N("example.test."); });
    auto built = Zone::build(N("example.test."), recs);
    ASSERT_TRUE(built.ok()) << built.error().message;
    std::shared_ptr<const Zone> inc = *built, ref = *built;
    std::vector<Name> names;
    for (int i = 0; i < 400; ++i) names.push_back(g.name());
    names.push_back(N("example.test."));
    names.push_back(N("nope.example.test."));
    std::vector<std::pair<std::shared_ptr<const Zone>, std::string>> kept;
    uint32_t serial = 1;
    for (int step = 0; step < 150; ++step) {
      std::vector<ChangeSet> batch;
      const size_t nb = 1 + g.pick(3);
      for (size_t b = 0; b < nb; ++b) {
        ChangeSet cs = cs_from(serial, serial + 1);
        ++serial;
        auto cur = rebuild_apply(*ref, batch);
        const std::vector<RR> now = cur.ok() ? (*cur)->records() : ref->records();
        const size_t nrem = g.pick(4);
        for (size_t k = 0; k < nrem && !now.empty(); ++k) {
          const RR& r = now[g.pick(now.size())];
          if (r.type == 6) continue;
          bool dup = false;
          for (const RR& x : cs.removed) dup |= x.owner == r.owner && x.type == r.type && x.rdata == r.rdata;
          if (!dup) cs.removed.push_back(r);
        }
        const size_t nadd = g.pick(5);
        for (size_t k = 0; k < nadd; ++k) {
          RR r = g.record();
          bool dup = false;
          for (const RR& x : cs.added) dup |= x.owner == r.owner && x.type == r.type && x.rdata == r.rdata;
          if (!dup) cs.added.push_back(r);
        }
        // Now and then a bad one: all or nothing either way.
        if (g.pick(25) == 0) cs.removed.push_back(rr("zz.example.test.", 1, 60, a(9, 9)));
        if (g.pick(40) == 0) cs.added.push_back(rr("a.example.test.", 6, 60, soa_rd(5)));
        batch.push_back(std::move(cs));
      }
      auto r1 = zone::apply(*inc, batch);
      auto r2 = rebuild_apply(*ref, batch);
      const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
      ASSERT_EQ(r1.ok(), r2.ok()) << where << (r1.ok() ? "" : " inc: " + r1.error().message)
                                  << (r2.ok() ? "" : " ref: " + r2.error().message);
      if (!r1.ok()) {
        serial = inc->serial();
        continue;
      }
      inc = *r1;
      ref = *r2;
      expect_same(*inc, *ref, names, where);
      if (HasFailure()) return;
      if (step % 10 == 0) kept.emplace_back(inc, records_text(*inc));
    }
    for (const auto& [z, text] : kept) EXPECT_EQ(records_text(*z), text) << "old snapshot changed";
  }
}

// Many small changes to one zone: the garbage left by replaced blobs stays
// bounded (cleaning), lookups stay right, and memory does not creep up.
TEST(ApplyRandom, GarbageStaysBounded) {
  std::vector<RR> recs = {rr("example.test.", 6, 3600, soa_rd(1)), rr("example.test.", 2, 3600, name_rd("ns.example.test."))};
  char buf[64];
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(buf, sizeof buf, "h%d.example.test.", i);
    recs.push_back(rr(buf, 1, 300, a(uint8_t(i >> 8), uint8_t(i))));
  }
  auto z = *Zone::build(N("example.test."), recs);
  const size_t mem0 = z->memory_usage();
  std::mt19937 rng(7);
  uint32_t serial = 1;
  size_t max_mem = 0;
  for (int step = 0; step < 20000; ++step) {
    ChangeSet cs = cs_from(serial, serial + 1);
    ++serial;
    const int h = int(rng() % 20000);
    std::snprintf(buf, sizeof buf, "h%d.example.test.", h);
    auto v = lookup(*z, buf, 1);
    ASSERT_EQ(v.count, 1) << buf;
    cs.removed.push_back(rr(buf, 1, 300, wire::Bytes(v.data + 2, v.data + 6)));
    cs.added.push_back(rr(buf, 1, 300, a(uint8_t(step >> 8), uint8_t(step))));
    auto r = zone::apply(*z, cs);
    ASSERT_TRUE(r.ok()) << r.error().message;
    z = *r;
    max_mem = std::max(max_mem, z->memory_usage());
  }
  EXPECT_EQ(z->record_count(), 20002u);
  // Every name is still found: each table slot's copy of its node's blob
  // followed the blob through the changes and the cleaning that moved it.
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(buf, sizeof buf, "h%d.example.test.", i);
    ASSERT_EQ(lookup(*z, buf, 1).count, 1) << buf;
  }
  EXPECT_LE(z->garbage_bytes(), z->memory_usage() / 2);
  EXPECT_LE(max_mem, mem0 * 3) << "memory " << mem0 << " -> " << max_mem;
  std::vector<RR> again = z->records();
  auto rebuilt = *Zone::build(N("example.test."), again);
  EXPECT_EQ(records_text(*z), records_text(*rebuilt));
  for (int i = 0; i < 20000; i += 37) {
    std::snprintf(buf, sizeof buf, "h%d.example.test.", i);
    EXPECT_EQ(describe_name(*z, N(buf)), describe_name(*rebuilt, N(buf)));
  }
}

// Readers keep using older snapshots while the writer makes new ones and
// drops its own references (run under TSan in CI).
TEST(ApplyRandom, ReadersOfOldSnapshots) {
  std::vector<RR> recs = {rr("example.test.", 6, 3600, soa_rd(1)), rr("example.test.", 2, 3600, name_rd("ns.example.test."))};
  char buf[64];
  for (int i = 0; i < 2000; ++i) {
    std::snprintf(buf, sizeof buf, "h%d.example.test.", i);
    recs.push_back(rr(buf, 1, 300, a(1, 1)));
  }
  std::shared_ptr<const Zone> cur = *Zone::build(N("example.test."), recs);
  std::atomic<std::shared_ptr<const Zone>*> slot{nullptr};
  std::mutex mu;
  std::shared_ptr<const Zone> published = cur;
  std::atomic<bool> stop{false};
  std::atomic<size_t> hits{0};
  auto reader = [&] {
    char nb[64];
    for (size_t i = 0; !stop.load(); ++i) {
      std::shared_ptr<const Zone> z;
      {
        std::lock_guard<std::mutex> l(mu);
        z = published;
      }
      std::snprintf(nb, sizeof nb, "h%zu.example.test.", i % 2000);
      auto v = lookup(*z, nb, 1);
      if (v.count == 1 && v.data[2] == 192) hits.fetch_add(1);
    }
  };
  (void)slot;
  std::thread t1(reader), t2(reader);
  uint32_t serial = 1;
  for (int step = 0; step < 3000; ++step) {
    ChangeSet cs = cs_from(serial, serial + 1);
    ++serial;
    std::snprintf(buf, sizeof buf, "h%d.example.test.", step % 2000);
    auto v = lookup(*cur, buf, 1);
    cs.removed.push_back(rr(buf, 1, 300, wire::Bytes(v.data + 2, v.data + 6)));
    cs.added.push_back(rr(buf, 1, 300, a(uint8_t(step >> 8), uint8_t(step))));
    std::snprintf(buf, sizeof buf, "n%d.x.example.test.", step);
    cs.added.push_back(rr(buf, 15, 60, wire::Bytes{0, 1, 2, 'h', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0}));
    auto r = zone::apply(*cur, cs);
    ASSERT_TRUE(r.ok()) << r.error().message;
    cur = *r;
    std::lock_guard<std::mutex> l(mu);
    published = cur;
  }
  stop = true;
  t1.join();
  t2.join();
  EXPECT_GT(hits.load(), 0u);
  EXPECT_EQ(cur->record_count(), 2002u + 3000u);
}

// Measures apply of one change to a zone of `n` records; prints the time.
double measure(size_t n) {
  std::vector<RR> recs;
  recs.reserve(n + 2);
  recs.push_back(rr("example.test.", 6, 3600, soa_rd(10)));
  recs.push_back(rr("example.test.", 2, 3600, name_rd("ns1.example.test.")));
  char buf[64];
  for (size_t i = 0; recs.size() < n; ++i) {
    std::snprintf(buf, sizeof buf, "h%zu.example.test.", i);
    recs.push_back(rr(buf, 1, 300, a(uint8_t(i >> 8), uint8_t(i))));
  }
  const auto b0 = std::chrono::steady_clock::now();
  auto z = Zone::build(N("example.test."), std::move(recs));
  const auto b1 = std::chrono::steady_clock::now();
  EXPECT_TRUE(z.ok());
  ChangeSet cs = cs_from(10, 11);
  cs.added.push_back(rr("new.example.test.", 1, 300, a(2, 99)));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = zone::apply(**z, cs);
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ((*r)->record_count(), n + 1);
  const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf("apply 1 change to %zu records: %.1f ms (Zone::build alone: %.1f ms)\n", n, ms,
              std::chrono::duration<double, std::milli>(b1 - b0).count());
  return ms;
}

TEST(ApplyBench, HundredThousand) { measure(100000); }

// A million records take a few seconds to set up: only with DDNS_BENCH=1.
TEST(ApplyBench, Million) {
  if (!std::getenv("DDNS_BENCH")) GTEST_SKIP() << "set DDNS_BENCH=1";
  measure(1000000);
}

// ---------------------------------------------------------------- serial

TEST(Serial, Rfc1982Compare) {
  EXPECT_EQ(serial_compare(1, 1), 0);
  EXPECT_EQ(serial_compare(1, 2), -1);
  EXPECT_EQ(serial_compare(2, 1), 1);
  EXPECT_TRUE(serial_gt(0, 0xFFFFFFFFu));  // wrap-around
  EXPECT_TRUE(serial_lt(0xFFFFFFFFu, 5));
  EXPECT_TRUE(serial_gt(0x7FFFFFFFu, 0));
  EXPECT_EQ(serial_compare(0, 0x80000000u), 2);  // undefined
  EXPECT_FALSE(serial_gt(0x80000000u, 0));
  EXPECT_FALSE(serial_lt(0x80000000u, 0));
  EXPECT_EQ(serial_add(0xFFFFFFFFu, 1), 0u);
  EXPECT_EQ(serial_add(5, 0xFFFFFFFFu), 5u + 0x7FFFFFFFu);  // clamped
}

TEST(Serial, Policies) {
  EXPECT_EQ(serial_policy_from_text("Increment"), SerialPolicy::Increment);
  EXPECT_EQ(serial_policy_from_text("unixtime"), SerialPolicy::UnixTime);
  EXPECT_EQ(serial_policy_from_text("DATESERIAL"), SerialPolicy::DateSerial);
  EXPECT_FALSE(serial_policy_from_text("date"));

  const int64_t now = 1763769600;  // 2025-11-22 00:00:00 UTC
  EXPECT_EQ(next_serial(41, SerialPolicy::Increment, now), 42u);
  EXPECT_EQ(next_serial(0xFFFFFFFFu, SerialPolicy::Increment, now), 1u);  // skips 0
  EXPECT_EQ(next_serial(5, SerialPolicy::UnixTime, now), uint32_t(now));
  // Clock behind the serial: still moves forward by one.
  EXPECT_EQ(next_serial(uint32_t(now) + 100, SerialPolicy::UnixTime, now), uint32_t(now) + 101);
  EXPECT_EQ(next_serial(2025112100, SerialPolicy::DateSerial, now), 2025112200u);
  EXPECT_EQ(next_serial(2025112200, SerialPolicy::DateSerial, now), 2025112201u);
  EXPECT_EQ(next_serial(2025112299, SerialPolicy::DateSerial, now), 2025112300u);
  EXPECT_EQ(next_serial(1, SerialPolicy::DateSerial, now), 2025112200u);
  EXPECT_EQ(next_serial(7, SerialPolicy::DateSerial, 0), 8u);
  EXPECT_EQ(next_serial(7, SerialPolicy::UnixTime, 0), 8u);
  EXPECT_EQ(next_serial(0, SerialPolicy::DateSerial, 951782400), 2000022900u);  // leap day
  EXPECT_EQ(next_serial(2025112217, SerialPolicy::DateSerial, now + 86399), 2025112218u);
  // Serial far "ahead" by RFC 1982 (e.g. set by hand): +1, wrapping.
  const uint32_t ahead = 2025112200u + 0x7FFFFFF0u;
  EXPECT_EQ(next_serial(ahead, SerialPolicy::DateSerial, now), ahead + 1);
  // Wrapping from near 2^32 to a date is forward by RFC 1982.
  EXPECT_EQ(next_serial(0xFFFFFFFEu, SerialPolicy::DateSerial, now), 2025112200u);
  for (uint32_t old : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu, 2025112299u}) {
    for (auto p : {SerialPolicy::Increment, SerialPolicy::UnixTime, SerialPolicy::DateSerial}) {
      EXPECT_TRUE(serial_gt(next_serial(old, p, now), old)) << old;
      EXPECT_NE(next_serial(old, p, now), 0u);
    }
  }
}

}  // namespace
}  // namespace ddns::zone
