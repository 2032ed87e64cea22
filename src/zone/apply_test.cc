// Tests of zone::apply (ChangeSet -> next snapshot) and of RFC 1982 serial
// arithmetic and next-serial policies.
#include "zone/apply.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

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
