// ZoneWriter tests: signed updates committed to a temp-dir SqliteStore,
// published, and answered (signed); unsigned/unknown-key requests; a store
// failure turns the batch into SERVFAIL with nothing published; zone state
// changes (replacement, IXFR differences) by the same durable path.
#include "update/writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "store/sqlite.h"
#include "wire/rdata.h"
#include "zone/master.h"

namespace ddns::update {
namespace {

using wire::Name;
using wire::RR;

Name N(const char* s) { return *Name::from_text(s); }
const Name kOrigin = N("example.test.");
constexpr uint64_t kNow = 1700000000;

const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@      SOA ns1 hostmaster 10 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.53
)";

std::shared_ptr<const zone::Zone> make_zone() {
  auto p = zone::parse_master_text(kZone, "test.zone", kOrigin);
  auto z = zone::Zone::build(kOrigin, p.records);
  return *z;
}

tsig::Key key1() {
  tsig::Key k;
  k.name = N("key1.");
  k.alg = tsig::Algorithm::HmacSha256;
  k.secret = std::vector<uint8_t>(32, 7);
  return k;
}

// An UPDATE adding host.example.test A 192.0.2.<last>.
wire::Bytes add_a(const char* host, uint8_t last) {
  wire::Message m;
  m.header.id = 77;
  m.header.set_opcode(wire::Opcode::Update);
  m.question.push_back(wire::Question{kOrigin, 6, 1});
  m.authority.push_back(RR{N(host), 1, 1, 300, wire::Bytes{192, 0, 2, last}});
  return *wire::render(m);
}

struct WriterTest : ::testing::Test {
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteStore> st;
  std::shared_ptr<const zone::Zone> published;
  std::mutex mu;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("writer_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
    store::SqliteOptions so;
    so.durable = false;
    auto opened = store::SqliteStore::open(store::SqliteStore::default_path(dir), so);
    ASSERT_TRUE(opened.ok());
    st = std::move(*opened);
    auto z = make_zone();
    auto recs = z->records();
    ASSERT_TRUE(st->put_zone_snapshot(kOrigin, z->serial(), recs).ok());
  }
  void TearDown() override {
    st.reset();
    std::filesystem::remove_all(dir);
  }
  std::unique_ptr<ZoneWriter> writer(bool with_policy = true) {
    WriterOptions o;
    auto ring = std::make_shared<tsig::KeyRing>();
    ring->add(key1());
    o.ring = ring;
    if (with_policy) o.policy = std::make_shared<Policy>(*Policy::parse("grant key1 zonesub ANY", kOrigin));
    o.clock = [] { return kNow; };
    return std::make_unique<ZoneWriter>(make_zone(), st.get(), o, [this](auto z) {
      std::lock_guard<std::mutex> lock(mu);
      published = z;
    });
  }
  // Submits and waits for the parsed reply.
  wire::Message send(ZoneWriter& w, wire::Bytes pkt, wire::ParseInfo* info = nullptr) {
    std::promise<wire::Bytes> pr;
    auto fut = pr.get_future();
    WriteRequest r;
    r.packet = std::move(pkt);
    r.reply = [&pr](std::span<const uint8_t> b) { pr.set_value(wire::Bytes(b.begin(), b.end())); };
    EXPECT_TRUE(w.submit(std::move(r)));
    EXPECT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    auto bytes = fut.get();
    wire::ParseInfo tmp;
    auto m = wire::parse(bytes, info ? info : &tmp);
    EXPECT_TRUE(m.ok());
    return *m;
  }
};

TEST_F(WriterTest, SignedUpdateIsCommittedPublishedAndSigned) {
  auto w = writer();
  auto pkt = add_a("host.example.test.", 9);
  ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
  wire::ParseInfo info;
  auto reply = send(*w, pkt, &info);
  EXPECT_EQ(reply.header.rcode(), 0);
  EXPECT_TRUE(reply.header.qr());
  EXPECT_EQ(reply.header.id, 77);
  EXPECT_NE(info.tsig_offset, 0u);  // signed answer
  ASSERT_TRUE(published);
  EXPECT_EQ(published->serial(), 11u);
  auto zi = st->zone_info(kOrigin);
  ASSERT_TRUE(zi.ok() && zi->has_value());
  EXPECT_EQ((*zi)->serial, 11u);
  auto data = st->load_zone(kOrigin);
  ASSERT_TRUE(data.ok());
  bool found = false;
  for (const auto& rr : data->records) found |= rr.owner == N("host.example.test.") && rr.type == 1;
  EXPECT_TRUE(found);
}

TEST_F(WriterTest, UnsignedIsRefusedUnknownKeyIsNotAuth) {
  auto w = writer();
  EXPECT_EQ(send(*w, add_a("h.example.test.", 1)).header.rcode(), uint8_t(wire::Rcode::Refused));
  auto pkt = add_a("h.example.test.", 1);
  tsig::Key other = key1();
  other.name = N("other.");
  ASSERT_TRUE(tsig::sign_request(pkt, other, kNow, nullptr).ok());
  EXPECT_EQ(send(*w, pkt).header.rcode(), uint8_t(wire::Rcode::NotAuth));
  auto bad = add_a("h.example.test.", 1);
  tsig::Key wrong = key1();
  wrong.secret[0] ^= 1;
  ASSERT_TRUE(tsig::sign_request(bad, wrong, kNow, nullptr).ok());
  EXPECT_EQ(send(*w, bad).header.rcode(), uint8_t(wire::Rcode::NotAuth));
  EXPECT_FALSE(published);
}

TEST_F(WriterTest, NoPolicyRefuses) {
  auto w = writer(false);
  auto pkt = add_a("host.example.test.", 9);
  ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
  EXPECT_EQ(send(*w, pkt).header.rcode(), uint8_t(wire::Rcode::Refused));
}

TEST_F(WriterTest, StoreFailureIsServfailAndNothingPublished) {
  auto w = writer();
  ASSERT_TRUE(st->delete_zone(kOrigin).ok());  // append_changes now fails
  auto pkt = add_a("host.example.test.", 9);
  ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
  EXPECT_EQ(send(*w, pkt).header.rcode(), uint8_t(wire::Rcode::ServFail));
  EXPECT_FALSE(published);
  EXPECT_EQ(w->current()->serial(), 10u);
}

TEST_F(WriterTest, ManyRequestsAllCommitted) {
  auto w = writer();
  std::vector<std::future<wire::Bytes>> futs;
  std::vector<std::shared_ptr<std::promise<wire::Bytes>>> prs;
  for (int i = 0; i < 50; i++) {
    auto pkt = add_a(("h" + std::to_string(i) + ".example.test.").c_str(), uint8_t(i));
    ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
    auto pr = std::make_shared<std::promise<wire::Bytes>>();
    futs.push_back(pr->get_future());
    WriteRequest r;
    r.packet = pkt;
    r.reply = [pr](std::span<const uint8_t> b) { pr->set_value(wire::Bytes(b.begin(), b.end())); };
    ASSERT_TRUE(w->submit(std::move(r)));
  }
  for (auto& f : futs) {
    auto b = f.get();
    EXPECT_EQ(b[3] & 0xF, 0);
  }
  EXPECT_EQ(w->current()->serial(), 60u);
  EXPECT_EQ((*st->zone_info(kOrigin))->serial, 60u);
}

// Edits (DynDNS2/REST) share the batch and commit path; an edit with no
// policy is still accepted (policy governs RFC 2136 only), a repeat is
// "unchanged" without a serial bump, and `previous` reports the old RRset.
TEST_F(WriterTest, EditReplacesRRsetAndReportsNoChange) {
  auto w = writer(/*with_policy=*/false);
  auto edit = [&](std::vector<RRsetChange> ch) {
    std::promise<EditResult> pr;
    auto fut = pr.get_future();
    EditRequest e;
    e.changes = std::move(ch);
    e.done = [&pr](const EditResult& r) { pr.set_value(r); };
    EXPECT_TRUE(w->submit_edit(std::move(e)));
    EXPECT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return fut.get();
  };
  auto a = [](uint8_t last) { return RRsetChange{N("home.example.test."), 1, 60, {{192, 0, 2, last}}}; };
  auto r1 = edit({a(7)});
  EXPECT_EQ(r1.rcode, wire::Rcode::NoError);
  EXPECT_TRUE(r1.changed);
  EXPECT_EQ(r1.serial, 11u);
  ASSERT_EQ(r1.previous.size(), 1u);
  EXPECT_TRUE(r1.previous[0].empty());
  auto r2 = edit({a(7)});
  EXPECT_EQ(r2.rcode, wire::Rcode::NoError);
  EXPECT_FALSE(r2.changed);
  EXPECT_EQ(r2.serial, 11u);
  auto r3 = edit({a(8), RRsetChange{N("home.example.test."), 28, 60,
                                     {wire::Bytes{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}}});
  EXPECT_TRUE(r3.changed);
  EXPECT_EQ(r3.serial, 12u);
  ASSERT_EQ(r3.previous.size(), 2u);
  ASSERT_EQ(r3.previous[0].size(), 1u);
  EXPECT_EQ(r3.previous[0][0], (wire::Bytes{192, 0, 2, 7}));
  auto r4 = edit({RRsetChange{N("home.example.test."), 1, 60, {}}});  // delete
  EXPECT_TRUE(r4.changed);
  auto r5 = edit({RRsetChange{N("home.example.org."), 1, 60, {{192, 0, 2, 1}}}});
  EXPECT_EQ(r5.rcode, wire::Rcode::NotZone);
  EXPECT_EQ((*st->zone_info(kOrigin))->serial, 13u);
  // Unsigned RFC 2136 is still refused without a policy.
  EXPECT_EQ(send(*w, add_a("h.example.test.", 1)).header.rcode(), uint8_t(wire::Rcode::Refused));
}

RR soa_rr(uint32_t serial) {
  auto z = make_zone();
  for (auto rr : z->records())
    if (rr.type == 6) {
      uint8_t* f = rr.rdata.data() + rr.rdata.size() - 20;
      for (int i = 0; i < 4; i++) f[i] = uint8_t(serial >> (24 - 8 * i));
      return rr;
    }
  return {};
}
RR a_rr(const char* owner, uint8_t last) { return RR{N(owner), 1, 1, 300, wire::Bytes{192, 0, 2, last}}; }

zone::ChangeSet diff(uint32_t from, uint32_t to, std::vector<RR> added, std::vector<RR> removed = {}) {
  zone::ChangeSet cs;
  cs.origin = kOrigin;
  cs.serial_from = from;
  cs.serial_to = to;
  cs.removed.push_back(soa_rr(from));
  cs.added.push_back(soa_rr(to));
  for (auto& r : removed) cs.removed.push_back(std::move(r));
  for (auto& r : added) cs.added.push_back(std::move(r));
  return cs;
}

StateResult differences(ZoneWriter& w, zone::ChangeSet cs) {
  StateChange c;
  c.kind = StateChange::Kind::Differences;
  c.changes.push_back(std::move(cs));
  return w.change_state(std::move(c));
}

// A replacement (AXFR in, reload, import) is durable before it is
// published, restarts the journal, and later UPDATEs chain from it.
TEST_F(WriterTest, ReplaceIsDurableThenPublishedAndUpdatesChainFromIt) {
  auto w = writer();
  ASSERT_TRUE(differences(*w, diff(10, 11, {a_rr("old.example.test.", 1)})).outcome ==
              StateOutcome::Applied);
  StateChange c;
  c.records = make_zone()->records();
  for (auto& rr : c.records)
    if (rr.type == 6) rr = soa_rr(20);
  c.records.push_back(a_rr("new.example.test.", 2));
  std::shared_ptr<const zone::Zone> seen;
  c.done = [&](const StateResult& r) { seen = r.zone; };  // writer thread, before change_state returns
  StateResult r = w->change_state(std::move(c));
  ASSERT_EQ(r.outcome, StateOutcome::Applied) << r.reason;
  EXPECT_EQ(r.serial, 20u);
  EXPECT_EQ(seen, published);
  EXPECT_EQ(published->serial(), 20u);
  auto zi = st->zone_info(kOrigin);
  EXPECT_EQ((*zi)->serial, 20u);
  EXPECT_EQ((*zi)->journal_length, 0u);  // IXFR clients older than 20 get a full transfer
  EXPECT_EQ(st->journal(kOrigin, 11)->status, store::JournalStatus::TooOld);
  auto pkt = add_a("host.example.test.", 9);
  ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
  EXPECT_EQ(send(*w, pkt).header.rcode(), 0);
  EXPECT_EQ((*st->zone_info(kOrigin))->serial, 21u);

  StateChange bad;  // no SOA: not a zone; nothing changes
  bad.records.push_back(a_rr("x.example.test.", 3));
  EXPECT_EQ(w->change_state(std::move(bad)).outcome, StateOutcome::Invalid);
  EXPECT_EQ(w->current()->serial(), 21u);
}

// The one application rule: RFC 2136 deleting an absent RR is a no-op
// (resolved by update:: before a ChangeSet exists), while IXFR differences
// that delete an absent RR mean the copy diverged: refused, nothing written.
TEST_F(WriterTest, DifferencesAreExactAndDivergenceChangesNothing) {
  auto w = writer();
  wire::Message m;
  m.header.set_opcode(wire::Opcode::Update);
  m.question.push_back(wire::Question{kOrigin, 6, 1});
  m.authority.push_back(RR{N("absent.example.test."), 1, 254, 0, wire::Bytes{192, 0, 2, 99}});
  auto pkt = *wire::render(m);
  ASSERT_TRUE(tsig::sign_request(pkt, key1(), kNow, nullptr).ok());
  EXPECT_EQ(send(*w, pkt).header.rcode(), 0);
  EXPECT_EQ(w->current()->serial(), 10u);  // RFC 2136 §3.4.2.4 no-op, §3.6 no bump

  auto ok = differences(*w, diff(10, 11, {a_rr("www.example.test.", 1)}));
  ASSERT_EQ(ok.outcome, StateOutcome::Applied) << ok.reason;
  EXPECT_EQ(published->serial(), 11u);
  auto j = st->journal(kOrigin, 10);
  ASSERT_EQ(j->changes.size(), 1u);  // IXFR-out history holds it

  auto gone = differences(*w, diff(11, 12, {}, {a_rr("absent.example.test.", 99)}));
  EXPECT_EQ(gone.outcome, StateOutcome::Diverged);
  auto dup = differences(*w, diff(11, 12, {a_rr("www.example.test.", 1)}));
  EXPECT_EQ(dup.outcome, StateOutcome::Diverged);
  auto gap = differences(*w, diff(12, 13, {}));
  EXPECT_EQ(gap.outcome, StateOutcome::Diverged);
  EXPECT_EQ(w->current()->serial(), 11u);
  EXPECT_EQ((*st->zone_info(kOrigin))->serial, 11u);
  EXPECT_EQ(published->serial(), 11u);

  ASSERT_TRUE(st->delete_zone(kOrigin).ok());
  EXPECT_EQ(differences(*w, diff(11, 12, {})).outcome, StateOutcome::StoreFailed);
  EXPECT_EQ(w->current()->serial(), 11u);
  w->stop();
  EXPECT_EQ(differences(*w, diff(11, 12, {})).outcome, StateOutcome::Stopped);
}

}  // namespace
}  // namespace ddns::update
