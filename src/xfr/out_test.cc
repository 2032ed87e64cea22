// AXFR/IXFR answer streams: messages parsed back and compared with the
// zone / journal, message size limits, RRsets split over messages, TSIG
// stream signing checked with the verifier, and the single-SOA answers.
#include "xfr/out.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace ddns::xfr {
namespace {

using wire::Name;
using wire::RR;

Name N(const std::string& s) { return *Name::from_text(s); }

wire::Bytes name_rd(const std::string& n) {
  Name name = N(n);
  auto w = name.wire();
  return wire::Bytes(w.begin(), w.end());
}

wire::Bytes soa_rd(uint32_t serial) {
  wire::Bytes b = name_rd("ns1.example.test.");
  auto m = name_rd("hostmaster.example.test.");
  b.insert(b.end(), m.begin(), m.end());
  uint32_t nums[5] = {serial, 3600, 600, 86400, 300};
  for (uint32_t v : nums)
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  return b;
}

RR rr(const std::string& owner, uint16_t type, uint32_t ttl, wire::Bytes rd) {
  return RR{N(owner), type, 1, ttl, std::move(rd)};
}

RR soa(uint32_t serial) { return rr("example.test.", 6, 3600, soa_rd(serial)); }

std::vector<RR> zone_records(size_t hosts, uint32_t serial = 1) {
  std::vector<RR> v;
  v.push_back(soa(serial));
  v.push_back(rr("example.test.", 2, 3600, name_rd("ns1.example.test.")));
  v.push_back(rr("ns1.example.test.", 1, 3600, {192, 0, 2, 53}));
  v.push_back(rr("example.test.", 15, 60, {0, 10, 4, 'm', 'a', 'i', 'l', 0}));
  for (size_t i = 0; i < hosts; ++i) {
    std::string h = "host" + std::to_string(i) + ".example.test.";
    v.push_back(rr(h, 1, 300, {192, 0, 2, uint8_t(i)}));
    if (i % 7 == 0) v.push_back(rr(h, 16, 300, {5, 'h', 'e', 'l', 'l', 'o'}));
  }
  return v;
}

std::shared_ptr<const zone::Zone> build(const std::vector<RR>& recs) {
  auto z = zone::Zone::build(N("example.test."), recs);
  EXPECT_TRUE(z.ok()) << (z.ok() ? "" : z.error().message);
  return *z;
}

using Key = std::tuple<std::string, uint16_t, uint32_t, wire::Bytes>;
Key key_of(const RR& r) { return {r.owner.lowercased().to_text(), r.type, r.ttl, r.rdata}; }

struct Stream {
  std::vector<std::vector<uint8_t>> msgs;
  std::vector<RR> answer;  // all answer records in order
};

Stream drain(net::MessageSource& src, size_t cap = 65535) {
  Stream s;
  std::vector<uint8_t> buf(cap);
  for (int guard = 0; guard < 100000; ++guard) {
    size_t n = src.next(buf.data(), buf.size());
    if (n == 0) break;
    s.msgs.emplace_back(buf.begin(), buf.begin() + ptrdiff_t(n));
    auto m = wire::parse(s.msgs.back());
    EXPECT_TRUE(m.ok());
    if (!m) break;
    EXPECT_TRUE(m->header.qr());
    EXPECT_TRUE(m->header.aa());
    EXPECT_EQ(m->header.rcode(), 0);
    EXPECT_EQ(m->header.id, 0x1234);
    EXPECT_EQ(m->question.size(), s.msgs.size() == 1 ? 1u : 0u);
    for (auto& r : m->answer) s.answer.push_back(std::move(r));
  }
  return s;
}

OutRequest request(uint16_t qtype = kTypeAxfr) {
  OutRequest r;
  r.id = 0x1234;
  r.qname = N("example.test.");
  r.qtype = qtype;
  return r;
}

TEST(XfrOut, AxfrSmallZoneOneMessage) {
  auto recs = zone_records(10);
  auto z = build(recs);
  auto src = XfrSource::axfr(request(), z);
  Stream s = drain(*src);
  ASSERT_EQ(s.msgs.size(), 1u);
  EXPECT_TRUE(src->finished());
  auto m = wire::parse(s.msgs[0]);
  EXPECT_EQ(m->question[0].name.to_text(), "example.test.");
  ASSERT_GE(s.answer.size(), 2u);
  EXPECT_EQ(s.answer.front().type, 6);
  EXPECT_EQ(s.answer.back().type, 6);
  std::multiset<Key> got, want;
  for (size_t i = 0; i + 1 < s.answer.size(); ++i) got.insert(key_of(s.answer[i]));
  for (auto& r : z->records()) want.insert(key_of(r));
  EXPECT_EQ(got, want);
  EXPECT_EQ(src->records(), s.answer.size());
}

TEST(XfrOut, AxfrLargeZoneManyFullMessages) {
  auto recs = zone_records(30000);
  auto z = build(recs);
  auto src = XfrSource::axfr(request(), z);
  Stream s = drain(*src);
  EXPECT_TRUE(src->finished());
  EXPECT_GT(s.msgs.size(), 5u);
  for (size_t i = 0; i + 1 < s.msgs.size(); ++i) {
    EXPECT_LE(s.msgs[i].size(), 65535u);
    EXPECT_GT(s.msgs[i].size(), 60000u) << "message " << i << " not packed";
  }
  ASSERT_EQ(s.answer.size(), z->record_count() + 1);
  EXPECT_EQ(s.answer.front().type, 6);
  EXPECT_EQ(s.answer.back().type, 6);
  size_t soas = std::count_if(s.answer.begin(), s.answer.end(), [](auto& r) { return r.type == 6; });
  EXPECT_EQ(soas, 2u);
  std::multiset<Key> got, want;
  for (size_t i = 0; i + 1 < s.answer.size(); ++i) got.insert(key_of(s.answer[i]));
  for (auto& r : z->records()) want.insert(key_of(r));
  EXPECT_EQ(got, want);
}

TEST(XfrOut, MessageLimitAndHugeRRsetSplit) {
  auto recs = zone_records(0);
  // One RRset of 3000 TXT records (~300 KB): must span messages.
  for (int i = 0; i < 3000; ++i) {
    wire::Bytes t = {90};
    for (int k = 0; k < 90; ++k) t.push_back(uint8_t('a' + (i + k) % 26));
    t.push_back(uint8_t(i));
    t.push_back(uint8_t(i >> 8));
    t[0] = 92;
    recs.push_back(rr("big.example.test.", 16, 60, t));
  }
  auto z = build(recs);
  auto src = XfrSource::axfr(request(), z, 16384);
  Stream s = drain(*src);
  EXPECT_TRUE(src->finished());
  for (auto& m : s.msgs) EXPECT_LE(m.size(), 16384u);
  EXPECT_GT(s.msgs.size(), 15u);
  EXPECT_EQ(s.answer.size(), z->record_count() + 1);
  size_t txt = std::count_if(s.answer.begin(), s.answer.end(), [](auto& r) { return r.type == 16; });
  EXPECT_EQ(txt, 3000u);
}

TEST(XfrOut, AxfrOnlySoa) {
  std::vector<RR> recs = {soa(7)};
  auto src = XfrSource::axfr(request(), build(recs));
  Stream s = drain(*src);
  ASSERT_EQ(s.answer.size(), 2u);
  EXPECT_EQ(s.answer[0].rdata, soa_rd(7));
  EXPECT_EQ(s.answer[1].rdata, soa_rd(7));
}

zone::ChangeSet change(uint32_t from, uint32_t to, std::vector<RR> del, std::vector<RR> add) {
  zone::ChangeSet c;
  c.origin = N("example.test.");
  c.serial_from = from;
  c.serial_to = to;
  c.removed.push_back(soa(from));
  for (auto& r : del) c.removed.push_back(r);
  c.added.push_back(soa(to));
  for (auto& r : add) c.added.push_back(r);
  return c;
}

TEST(XfrOut, IxfrDifferenceSequences) {
  std::vector<zone::ChangeSet> cs = {
      change(1, 2, {rr("www.example.test.", 1, 300, {192, 0, 2, 1})},
             {rr("www.example.test.", 1, 300, {192, 0, 2, 2})}),
      change(2, 3, {}, {rr("new.example.test.", 28, 300, wire::Bytes(16, 1))}),
  };
  auto src = XfrSource::ixfr(request(kTypeIxfr), soa(3), cs);
  Stream s = drain(*src);
  ASSERT_EQ(s.msgs.size(), 1u);
  // RFC 1995 §4: SOA(3) SOA(1) -www SOA(2) +www SOA(2) SOA(3) +new SOA(3)
  std::vector<std::pair<uint16_t, wire::Bytes>> want = {
      {6, soa_rd(3)}, {6, soa_rd(1)}, {1, {192, 0, 2, 1}}, {6, soa_rd(2)}, {1, {192, 0, 2, 2}},
      {6, soa_rd(2)}, {6, soa_rd(3)}, {28, wire::Bytes(16, 1)}, {6, soa_rd(3)}};
  ASSERT_EQ(s.answer.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(s.answer[i].type, want[i].first) << i;
    EXPECT_EQ(s.answer[i].rdata, want[i].second) << i;
  }
}

TEST(XfrOut, IxfrManyChangesSpanMessages) {
  std::vector<zone::ChangeSet> cs;
  for (uint32_t i = 1; i <= 2000; ++i)
    cs.push_back(change(i, i + 1, {}, {rr("h" + std::to_string(i) + ".example.test.", 1, 60,
                                          {192, 0, 2, uint8_t(i)})}));
  auto src = XfrSource::ixfr(request(kTypeIxfr), soa(2001), cs, 8192);
  Stream s = drain(*src);
  EXPECT_TRUE(src->finished());
  EXPECT_GT(s.msgs.size(), 5u);
  EXPECT_EQ(s.answer.size(), 2 + 2000u * 3);
  EXPECT_EQ(s.answer.front().rdata, soa_rd(2001));
  EXPECT_EQ(s.answer.back().rdata, soa_rd(2001));
}

TEST(XfrOut, IxfrUpToDateIsSingleSoa) {
  auto src = XfrSource::ixfr(request(kTypeIxfr), soa(5), {});
  Stream s = drain(*src);
  ASSERT_EQ(s.answer.size(), 1u);
  EXPECT_EQ(s.answer[0].rdata, soa_rd(5));
}

TEST(XfrOut, TsigSignedStreamVerifies) {
  tsig::Key key{N("xfr-key."), tsig::Algorithm::HmacSha256, wire::Bytes(32, 7)};
  tsig::KeyRing ring;
  ring.add(key);
  // A signed AXFR request, verified as the server does.
  wire::Message q;
  q.header.id = 0x1234;
  q.question.push_back({N("example.test."), kTypeAxfr, 1});
  auto bytes = wire::render(q);
  ASSERT_TRUE(bytes.ok());
  wire::Bytes req_mac;
  const uint64_t now = 1'700'000'000;
  ASSERT_TRUE(tsig::sign_request(*bytes, key, now, &req_mac).ok());
  wire::ParseInfo info;
  auto pm = wire::parse(*bytes, &info);
  ASSERT_TRUE(pm.ok());
  auto v = tsig::verify_request(*bytes, info, pm->additional.back(), ring, now);
  ASSERT_TRUE(v.ok());

  OutRequest r = request();
  r.signer.emplace(*v.key, v.mac());
  r.tsig_reserve = tsig::tsig_size(v);
  static uint64_t fixed = now;
  r.now = [] { return fixed; };
  auto z = build(zone_records(20000));
  auto src = XfrSource::axfr(std::move(r), z);
  Stream s = drain(*src);
  ASSERT_GT(s.msgs.size(), 2u);
  tsig::StreamVerifier sv(key, req_mac);
  for (auto& m : s.msgs) {
    EXPECT_LE(m.size(), 65535u);
    wire::ParseInfo mi;
    auto pm2 = wire::parse(m, &mi);
    ASSERT_TRUE(pm2.ok());
    ASSERT_NE(mi.tsig_offset, 0u);
    auto res = sv.verify(m, mi, &pm2->additional.back(), now);
    EXPECT_TRUE(res.ok()) << tsig::status_text(res.status);
  }
  EXPECT_TRUE(sv.complete());
}

TEST(XfrOut, SingleSoaAndErrorAnswers) {
  uint8_t buf[512];
  size_t n = single_soa_answer(buf, sizeof buf, 7, N("example.test."), kTypeIxfr, 1, soa(9), nullptr);
  ASSERT_GT(n, 0u);
  auto m = wire::parse({buf, n});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->answer.size(), 1u);
  EXPECT_EQ(m->answer[0].rdata, soa_rd(9));
  EXPECT_TRUE(m->header.aa());

  wire::Header h;
  h.id = 99;
  h.set_rd(true);
  wire::Question q{N("example.test."), kTypeAxfr, 1};
  n = error_answer(buf, sizeof buf, h, &q, wire::Rcode::Refused, nullptr);
  m = wire::parse({buf, n});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->header.rcode(), 5);
  EXPECT_EQ(m->header.id, 99);
  EXPECT_TRUE(m->header.rd());
  EXPECT_TRUE(m->answer.empty());
  EXPECT_EQ(m->question.size(), 1u);
}

}  // namespace
}  // namespace ddns::xfr
