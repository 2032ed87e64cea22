// Tests of the store: journal replay, the record codec, and SqliteStore
// (round trips, IXFR journal queries incl. serial wrap, trim, reopen, keys,
// corrupt files, SIGKILL during appends, group commit rates).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sqlite.h"
#include "store/store.h"
#include "zone/apply.h"
#include "zone/serial.h"
#include "zone/zone.h"

namespace ddns::store {
namespace {

namespace fs = std::filesystem;
using wire::Name;
using wire::RR;
using zone::ChangeSet;

Name N(const char* t) { return Name::from_text(t).value(); }
const Name kOrigin = N("example.test.");

RR a(const char* owner, uint8_t last, uint32_t ttl = 300) {
  return RR{N(owner), 1, 1, ttl, {192, 0, 2, last}};
}
RR a4(const std::string& owner, uint32_t v, uint32_t ttl = 300) {
  return RR{N(owner.c_str()), 1, 1, ttl,
            {uint8_t(198), uint8_t(51), uint8_t(v >> 8), uint8_t(v)}};
}

RR soa(uint32_t serial, const Name& origin = kOrigin) {
  RR rr{origin, 6, 1, 3600, {}};
  auto put_name = [&](const char* t) {
    auto n = N(t);
    rr.rdata.insert(rr.rdata.end(), n.wire().begin(), n.wire().end());
  };
  put_name("ns1.example.test.");
  put_name("hostmaster.example.test.");
  for (uint32_t v : {serial, 3600u, 600u, 86400u, 300u})
    for (int s = 24; s >= 0; s -= 8) rr.rdata.push_back(uint8_t(v >> s));
  return rr;
}

std::vector<RR> base_records(uint32_t serial, const Name& origin = kOrigin) {
  auto ns = N("ns1.example.test.");
  return {soa(serial, origin), RR{origin, 2, 1, 3600, wire::Bytes(ns.wire().begin(), ns.wire().end())},
          a("ns1.example.test.", 53), a("www.example.test.", 1)};
}

// A changeset from -> to that swaps the SOA and adds/removes the given records.
ChangeSet change(uint32_t from, uint32_t to, std::vector<RR> add, std::vector<RR> del = {},
                 const Name& origin = kOrigin) {
  ChangeSet cs;
  cs.origin = origin;
  cs.serial_from = from;
  cs.serial_to = to;
  cs.removed.push_back(soa(from, origin));
  for (auto& r : del) cs.removed.push_back(std::move(r));
  cs.added.push_back(soa(to, origin));
  for (auto& r : add) cs.added.push_back(std::move(r));
  return cs;
}

// Records as a comparable set (lowercased owner, type, class, ttl, rdata).
using Key = std::tuple<std::string, uint16_t, uint16_t, uint32_t, wire::Bytes>;
std::multiset<Key> as_set(const std::vector<RR>& rrs) {
  std::multiset<Key> s;
  for (const auto& r : rrs) s.emplace(r.owner.lowercased().to_text(), r.type, r.rclass, r.ttl, r.rdata);
  return s;
}

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "ddns-store-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const char* n = "ddns.db") const { return (fs::path(path_) / n).string(); }

 private:
  std::string path_;
};

std::unique_ptr<SqliteStore> open_ok(const std::string& path, SqliteOptions o = {}) {
  auto s = SqliteStore::open(path, o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s.value()) : nullptr;
}

// ---- apply_changes and codec -------------------------------------------------

TEST(ApplyChanges, AddsRemovesAndChainsSerials) {
  auto recs = base_records(1);
  std::vector<ChangeSet> cs = {change(1, 2, {a("host.example.test.", 7)}),
                               change(2, 3, {a("host.example.test.", 8)}, {a("HOST.example.test.", 7)})};
  auto s = apply_changes(recs, 1, cs);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*s, 3u);
  auto want = base_records(3);
  want.push_back(a("host.example.test.", 8));
  EXPECT_EQ(as_set(recs), as_set(want));
}

TEST(ApplyChanges, AddedRecordSetsRRsetTtl) {
  std::vector<RR> recs = {soa(1), a("www.example.test.", 1, 300)};
  std::vector<ChangeSet> cs = {change(1, 2, {a("www.example.test.", 2, 60)})};
  ASSERT_TRUE(apply_changes(recs, 1, cs).ok());
  for (const auto& r : recs)
    if (r.type == 1) {
      EXPECT_EQ(r.ttl, 60u);
    }
}

TEST(ApplyChanges, RejectsMissingRecordAndBrokenChain) {
  auto recs = base_records(1);
  std::vector<ChangeSet> bad_rm = {change(1, 2, {}, {a("nope.example.test.", 9)})};
  auto r = apply_changes(recs, 1, bad_rm);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not present"), std::string::npos);
  recs = base_records(1);
  std::vector<ChangeSet> gap = {change(5, 6, {})};
  EXPECT_FALSE(apply_changes(recs, 1, gap).ok());
}

// The one application rule (zone/apply.h): a changeset is an exact
// difference, so replay refuses an add of a record already there, as
// zone::apply does, instead of quietly merging it.
TEST(ApplyChanges, RejectsAddOfPresentRecordLikeZoneApply) {
  auto recs = base_records(1);
  recs.push_back(a("host.example.test.", 7));
  std::vector<ChangeSet> dup = {change(1, 2, {a("HOST.example.test.", 7)})};
  auto r = apply_changes(recs, 1, dup);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("already present"), std::string::npos) << r.error().message;
}

TEST(Codec, RoundTripAndCorruptInputIsAnError) {
  ChangeSet cs = change(7, 8, {a("x.example.test.", 1), a("y.example.test.", 2)}, {a("www.example.test.", 1)});
  cs.added.push_back(RR{N("e.example.test."), 99, 1, 5, {}});  // empty rdata
  auto bytes = encode_changes(cs);
  ChangeSet back;
  ASSERT_TRUE(decode_changes(bytes, back).ok());
  EXPECT_EQ(as_set(back.added), as_set(cs.added));
  EXPECT_EQ(as_set(back.removed), as_set(cs.removed));
  for (size_t n = 0; n < bytes.size(); ++n) {
    ChangeSet t;
    EXPECT_FALSE(decode_changes(std::span(bytes.data(), n), t).ok()) << n;
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    auto b = bytes;
    b[rng() % b.size()] ^= uint8_t(1 + rng() % 255);
    ChangeSet t;
    (void)decode_changes(b, t);  // must not crash or over-allocate
  }
}

// ---- SqliteStore ---------------------------------------------------------------

TEST(Sqlite, SnapshotRoundTripAndListing) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->schema_version(), 1);
  auto recs = base_records(10);
  recs[3].owner = N("WwW.Example.TEST.");  // case of owners is kept
  ASSERT_TRUE(s->put_zone_snapshot(N("Example.Test."), 10, recs).ok());
  auto z = s->load_zone(kOrigin);
  ASSERT_TRUE(z.ok()) << z.error().message;
  EXPECT_EQ(z->serial, 10u);
  EXPECT_EQ(as_set(z->records), as_set(recs));
  bool kept_case = false;
  for (const auto& r : z->records) kept_case |= r.owner.to_text() == "WwW.Example.TEST.";
  EXPECT_TRUE(kept_case);
  auto zs = s->list_zones();
  ASSERT_TRUE(zs.ok());
  ASSERT_EQ(zs->size(), 1u);
  EXPECT_EQ((*zs)[0].origin.to_text(), "example.test.");
  EXPECT_EQ((*zs)[0].serial, 10u);
  EXPECT_FALSE(s->load_zone(N("example.org.")).ok());
  auto none = s->zone_info(N("example.org."));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // The SOA must match the serial, and be there.
  EXPECT_FALSE(s->put_zone_snapshot(kOrigin, 11, recs).ok());
  EXPECT_FALSE(s->put_zone_snapshot(kOrigin, 10, std::span(recs).subspan(1)).ok());
  EXPECT_EQ(s->zone_info(kOrigin)->value().serial, 10u);
  ASSERT_TRUE(s->delete_zone(kOrigin).ok());
  EXPECT_TRUE(s->list_zones()->empty());
}

TEST(Sqlite, JournalReplayEqualsDirectApply) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  auto base = base_records(100);
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 100, base).ok());
  std::vector<ChangeSet> all;
  uint32_t serial = 100;
  std::vector<RR> live;
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    std::vector<RR> add, del;
    add.push_back(a4("h" + std::to_string(i) + ".example.test.", uint32_t(i), 60 + uint32_t(i % 3)));
    if (!live.empty() && rng() % 3 == 0) {
      size_t k = rng() % live.size();
      del.push_back(live[k]);
      live.erase(live.begin() + long(k));
    }
    live.push_back(add[0]);
    all.push_back(change(serial, serial + 1, add, del));
    ++serial;
  }
  // Mixed batch sizes.
  for (size_t i = 0; i < all.size();) {
    size_t n = std::min<size_t>(all.size() - i, 1 + rng() % 40);
    ASSERT_TRUE(s->append_changes(std::span(all).subspan(i, n)).ok());
    i += n;
  }
  auto loaded = s->load_zone(kOrigin);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->serial, serial);
  auto direct = base;
  ASSERT_TRUE(apply_changes(direct, 100, all).ok());
  EXPECT_EQ(as_set(loaded->records), as_set(direct));
  // And the same as the zone layer's own apply on a built snapshot.
  auto z0 = zone::Zone::build(kOrigin, base);
  ASSERT_TRUE(z0.ok()) << z0.error().message;
  auto z1 = zone::apply(**z0, all);
  ASSERT_TRUE(z1.ok()) << z1.error().message;
  auto z2 = zone::Zone::build(kOrigin, loaded->records);
  ASSERT_TRUE(z2.ok());
  EXPECT_EQ((*z2)->serial(), serial);
  EXPECT_EQ(as_set((*z1)->records()), as_set((*z2)->records()));

  auto info = s->zone_info(kOrigin);
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->journal_length, 300u);
  EXPECT_EQ((*info)->base_serial, 100u);
}

TEST(Sqlite, AppendIsAllOrNothingAndChecksSerials) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  ASSERT_TRUE(s->put_zone_snapshot(N("example.org."), 5, base_records(5, N("example.org."))).ok());
  // Several zones in one batch.
  std::vector<ChangeSet> ok = {change(1, 2, {a("a.example.test.", 1)}),
                               change(5, 6, {a("a.example.org.", 1)}, {}, N("example.org.")),
                               change(2, 3, {a("b.example.test.", 1)})};
  ASSERT_TRUE(s->append_changes(ok).ok());
  EXPECT_EQ(s->zone_info(kOrigin)->value().serial, 3u);
  EXPECT_EQ(s->zone_info(N("example.org."))->value().serial, 6u);
  // The second changeset is stale: nothing of the batch is written.
  std::vector<ChangeSet> bad = {change(3, 4, {a("c.example.test.", 1)}),
                                change(3, 4, {a("d.example.test.", 1)})};
  auto r = s->append_changes(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not follow"), std::string::npos) << r.error().message;
  EXPECT_EQ(s->zone_info(kOrigin)->value().serial, 3u);
  std::vector<ChangeSet> backwards = {change(3, 2, {})};
  EXPECT_FALSE(s->append_changes(backwards).ok());
  std::vector<ChangeSet> unknown = {change(1, 2, {}, {}, N("example.net."))};
  EXPECT_FALSE(s->append_changes(unknown).ok());
  EXPECT_EQ(s->zone_info(kOrigin)->value().journal_length, 2u);
}

TEST(Sqlite, JournalQueriesAcrossSerialWrap) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  const uint32_t start = 0xFFFFFFF0u;
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, start, base_records(start)).ok());
  std::vector<ChangeSet> all;
  uint32_t serial = start;
  for (int i = 0; i < 32; ++i, serial += 1)
    all.push_back(change(serial, serial + 1, {a4("w" + std::to_string(i) + ".example.test.", uint32_t(i))}));
  ASSERT_TRUE(s->append_changes(all).ok());
  EXPECT_EQ(serial, 0x10u);  // wrapped

  auto j = s->journal(kOrigin, start);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(j->status, JournalStatus::Ok);
  EXPECT_EQ(j->changes.size(), 32u);
  EXPECT_EQ(j->current_serial, 0x10u);

  j = s->journal(kOrigin, 0xFFFFFFFEu);  // before the wrap
  ASSERT_TRUE(j.ok());
  ASSERT_EQ(j->changes.size(), 18u);
  EXPECT_EQ(j->changes.front().serial_from, 0xFFFFFFFEu);
  EXPECT_EQ(j->changes.back().serial_to, 0x10u);
  for (size_t i = 1; i < j->changes.size(); ++i)
    EXPECT_EQ(j->changes[i].serial_from, j->changes[i - 1].serial_to);
  EXPECT_EQ(as_set(j->changes[0].added), as_set(all[14].added));

  j = s->journal(kOrigin, 0x10u);
  EXPECT_EQ(j->status, JournalStatus::Ok);
  EXPECT_TRUE(j->changes.empty());
  j = s->journal(kOrigin, 0x20u);  // ahead of us (RFC 1982)
  EXPECT_EQ(j->status, JournalStatus::Newer);
  j = s->journal(kOrigin, 0xFFFFFF00u);  // older than the history
  EXPECT_EQ(j->status, JournalStatus::TooOld);
  EXPECT_FALSE(s->journal(N("example.org."), 1).ok());
}

TEST(Sqlite, TrimFoldsIntoBase) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  std::vector<ChangeSet> all;
  for (uint32_t i = 1; i <= 50; ++i)
    all.push_back(change(i, i + 1, {a4("t" + std::to_string(i) + ".example.test.", i)},
                         i > 1 && i % 2 ? std::vector<RR>{a4("t" + std::to_string(i - 1) + ".example.test.", i - 1)}
                                        : std::vector<RR>{}));
  ASSERT_TRUE(s->append_changes(all).ok());
  auto before = s->load_zone(kOrigin);
  ASSERT_TRUE(before.ok());

  auto n = s->trim_journal(kOrigin, TrimPolicy{10, std::chrono::seconds(0)});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 40u);
  auto info = s->zone_info(kOrigin)->value();
  EXPECT_EQ(info.base_serial, 41u);
  EXPECT_EQ(info.serial, 51u);
  EXPECT_EQ(info.journal_length, 10u);
  auto after = s->load_zone(kOrigin);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->serial, 51u);
  EXPECT_EQ(as_set(after->records), as_set(before->records));
  EXPECT_EQ(s->journal(kOrigin, 30)->status, JournalStatus::TooOld);
  EXPECT_EQ(s->journal(kOrigin, 41)->changes.size(), 10u);
  EXPECT_EQ(*s->trim_journal(kOrigin, TrimPolicy{10, std::chrono::seconds(0)}), 0u);

  // Age: everything is older than an hour when "now" is two hours ahead.
  TrimPolicy aged{1000, std::chrono::seconds(3600),
                  std::chrono::system_clock::now() + std::chrono::hours(2)};
  EXPECT_EQ(*s->trim_journal(kOrigin, aged), 10u);
  EXPECT_EQ(s->zone_info(kOrigin)->value().base_serial, 51u);
  EXPECT_EQ(as_set(s->load_zone(kOrigin)->records), as_set(before->records));
  // Appends continue after a trim.
  std::vector<ChangeSet> more = {change(51, 52, {a("after.example.test.", 9)})};
  ASSERT_TRUE(s->append_changes(more).ok());
  EXPECT_EQ(s->journal(kOrigin, 51)->changes.size(), 1u);
}

TEST(Sqlite, SnapshotReplaceClearsJournal) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  std::vector<ChangeSet> cs = {change(1, 2, {a("x.example.test.", 1)})};
  ASSERT_TRUE(s->append_changes(cs).ok());
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 7, base_records(7)).ok());
  auto info = s->zone_info(kOrigin)->value();
  EXPECT_EQ(info.serial, 7u);
  EXPECT_EQ(info.journal_length, 0u);
  EXPECT_EQ(s->journal(kOrigin, 1)->status, JournalStatus::TooOld);
  EXPECT_EQ(as_set(s->load_zone(kOrigin)->records), as_set(base_records(7)));
}

TEST(Sqlite, ReopenKeepsEverything) {
  TempDir d;
  {
    auto s = open_ok(d.file());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
    std::vector<ChangeSet> cs = {change(1, 2, {a("x.example.test.", 1)})};
    ASSERT_TRUE(s->append_changes(cs).ok());
    ASSERT_TRUE(s->put_key(TsigKey{N("k1.example.test."), "hmac-sha256", {1, 2, 3}}).ok());
  }
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  auto z = s->load_zone(kOrigin);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->serial, 2u);
  EXPECT_EQ(z->records.size(), 5u);
  auto k = s->get_key(N("K1.example.test."));
  ASSERT_TRUE(k.ok() && k->has_value());
  EXPECT_EQ((*k)->secret, (std::vector<uint8_t>{1, 2, 3}));
  // A second connection (another process in production) sees the same.
  auto ro = open_ok(d.file(), SqliteOptions{.read_only = true});
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro->zone_info(kOrigin)->value().serial, 2u);
}

TEST(Sqlite, TwoWritersCannotForkHistory) {
  TempDir d;
  auto s1 = open_ok(d.file());
  auto s2 = open_ok(d.file());
  ASSERT_TRUE(s1 && s2);
  ASSERT_TRUE(s1->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  std::vector<ChangeSet> c1 = {change(1, 2, {a("one.example.test.", 1)})};
  std::vector<ChangeSet> c2 = {change(1, 2, {a("two.example.test.", 2)})};
  ASSERT_TRUE(s1->append_changes(c1).ok());
  EXPECT_FALSE(s2->append_changes(c2).ok());  // s2's view was stale
  auto j = s2->journal(kOrigin, 1);
  ASSERT_TRUE(j.ok());
  ASSERT_EQ(j->changes.size(), 1u);
  EXPECT_EQ(as_set(j->changes[0].added), as_set(c1[0].added));
}

// One writer store shared by two threads (its mutex serializes them) and a
// reader with its own connection loading snapshots meanwhile (WAL): every
// snapshot the reader sees is a consistent base + journal.
TEST(Sqlite, ThreadsAndAConcurrentReader) {
  TempDir d;
  auto w = open_ok(d.file());
  ASSERT_TRUE(w);
  const Name other = N("example.org.");
  ASSERT_TRUE(w->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  ASSERT_TRUE(w->put_zone_snapshot(other, 1, base_records(1, other)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> loads{0};
  auto writer = [&](const Name& origin) {
    for (int i = 0; i < 500 && loads == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (uint32_t i = 1; i <= 60; ++i) {
      std::vector<ChangeSet> cs = {
          change(i, i + 1, {a4("h" + std::to_string(i) + "." + origin.to_text(), i)}, {}, origin)};
      ASSERT_TRUE(w->append_changes(cs).ok());
    }
  };
  std::thread reader([&] {
    auto r = open_ok(d.file());
    ASSERT_TRUE(r);
    for (int i = 0; i < 100000 && !done; ++i) {
      auto z = r->load_zone(kOrigin);
      ASSERT_TRUE(z.ok()) << z.error().message;
      ASSERT_EQ(z->records.size(), base_records(1).size() + (z->serial - 1));
      ++loads;
    }
  });
  std::thread t1(writer, kOrigin), t2(writer, other);
  t1.join();
  t2.join();
  done = true;
  reader.join();
  EXPECT_GT(loads.load(), 0);
  EXPECT_EQ(w->zone_info(kOrigin)->value().serial, 61u);
  EXPECT_EQ(w->zone_info(other)->value().serial, 61u);
}

TEST(Sqlite, Keys) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_key(TsigKey{N("b.key."), "hmac-sha256", {9, 9}}).ok());
  ASSERT_TRUE(s->put_key(TsigKey{N("A.KEY."), "hmac-sha512", {}}).ok());
  ASSERT_TRUE(s->put_key(TsigKey{N("b.key."), "hmac-sha1", {7}}).ok());  // replace
  auto all = s->list_keys();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name.to_text(), "a.key.");
  EXPECT_TRUE((*all)[0].secret.empty());
  EXPECT_EQ((*all)[1].algorithm, "hmac-sha1");
  EXPECT_EQ((*all)[1].secret, (std::vector<uint8_t>{7}));
  EXPECT_TRUE(*s->delete_key(N("a.key.")));
  EXPECT_FALSE(*s->delete_key(N("a.key.")));
  EXPECT_FALSE(s->get_key(N("a.key."))->has_value());
}

TEST(Sqlite, CorruptFilesAreClearErrors) {
  TempDir d;
  {  // not a database at all
    std::ofstream(d.file("junk.db")) << std::string(8192, 'x');
    auto s = SqliteStore::open(d.file("junk.db"));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("junk.db"), std::string::npos);
    EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
  }
  {  // schema from the future
    ASSERT_TRUE(open_ok(d.file("future.db")));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(d.file("future.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version=99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto s = SqliteStore::open(d.file("future.db"));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("newer"), std::string::npos) << s.error().message;
  }
  {  // a journal row whose payload was damaged
    std::string p = d.file("row.db");
    {
      auto s = open_ok(p);
      ASSERT_TRUE(s);
      ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
      std::vector<ChangeSet> cs = {change(1, 2, {a("x.example.test.", 1)})};
      ASSERT_TRUE(s->append_changes(cs).ok());
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE journal SET data=x'01ffffffff00'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto s = open_ok(p);
    ASSERT_TRUE(s);
    auto z = s->load_zone(kOrigin);
    ASSERT_FALSE(z.ok());
    EXPECT_NE(z.error().message.find("journal seq 1"), std::string::npos) << z.error().message;
    EXPECT_FALSE(s->journal(kOrigin, 1).ok());
  }
  {  // a real database with its pages overwritten
    std::string p = d.file("damaged.db");
    {
      auto s = open_ok(p, SqliteOptions{.durable = false});
      ASSERT_TRUE(s);
      std::vector<RR> big = base_records(1);
      for (uint32_t i = 0; i < 3000; ++i) big.push_back(a4("n" + std::to_string(i) + ".example.test.", i));
      ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, big).ok());
    }
    auto size = fs::file_size(p);
    ASSERT_GT(size, 16384u);
    std::mt19937 rng(7);
    int fd = ::open(p.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> junk(4096);
    for (auto& b : junk) b = uint8_t(rng());
    for (off_t off = 4096; off + 4096 < off_t(size); off += 3 * 4096)
      ASSERT_EQ(pwrite(fd, junk.data(), junk.size(), off), 4096);
    close(fd);
    auto s = SqliteStore::open(p);
    if (s.ok()) {
      auto z = (*s)->load_zone(kOrigin);
      auto ic = (*s)->check_integrity();
      EXPECT_TRUE(!z.ok() || !ic.ok());
      if (!ic.ok()) {
        EXPECT_NE(ic.error().message.find("damaged.db"), std::string::npos);
      }
    }
  }
  {  // truncated to half
    std::string p = d.file("short.db");
    {
      auto s = open_ok(p, SqliteOptions{.durable = false});
      ASSERT_TRUE(s);
      std::vector<RR> big = base_records(1);
      for (uint32_t i = 0; i < 3000; ++i) big.push_back(a4("n" + std::to_string(i) + ".example.test.", i));
      ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, big).ok());
    }
    fs::resize_file(p, fs::file_size(p) / 2);
    auto s = SqliteStore::open(p);
    if (s.ok()) {
      auto z = (*s)->load_zone(kOrigin);
      auto ic = (*s)->check_integrity();
      EXPECT_TRUE(!z.ok() || !ic.ok());
    }
  }
}


// ---- crash safety ------------------------------------------------------------

// Child: appends batches of 1..8 changesets to the zone in a bounded loop and
// reports each batch's last serial on `fd` after append_changes() returned.
[[noreturn]] void append_forever(const std::string& path, int fd, unsigned seed) {
  auto s = SqliteStore::open(path);
  if (!s) _exit(2);
  auto info = (*s)->zone_info(kOrigin);
  if (!info || !info->has_value()) _exit(3);
  uint32_t serial = (*info)->serial;
  std::mt19937 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    std::vector<ChangeSet> batch;
    size_t n = 1 + rng() % 8;
    for (size_t k = 0; k < n; ++k, ++serial)
      batch.push_back(change(serial, serial + 1, {a4("c" + std::to_string(serial + 1) + ".example.test.", serial)}));
    if (!(*s)->append_changes(batch)) _exit(4);
    if (write(fd, &serial, sizeof serial) != sizeof serial) _exit(5);
  }
  _exit(0);
}

TEST(SqliteCrash, SigkillDuringAppendsLosesNoAcknowledgedChange) {
  TempDir d;
  const std::string path = d.file();
  {
    auto s = open_ok(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, base_records(1)).ok());
  }
  std::mt19937 rng(std::random_device{}());
  std::vector<uint32_t> acked;
  for (int round = 0; round < 4; ++round) {
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(p[0]);
      append_forever(path, p[1], unsigned(rng()));
    }
    close(p[1]);
    const size_t reports = 1 + rng() % 40;
    uint32_t v;
    for (size_t i = 0; i < reports && read(p[0], &v, sizeof v) == sizeof v; ++i) acked.push_back(v);
    usleep(useconds_t(rng() % 5000));  // land anywhere inside the next commit
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child exited early, status " << status;
    while (read(p[0], &v, sizeof v) == sizeof v) acked.push_back(v);  // reported before death
    close(p[0]);

    auto s = open_ok(path);
    ASSERT_TRUE(s) << "round " << round;
    ASSERT_TRUE(s->check_integrity().ok());
    auto z = s->load_zone(kOrigin);
    ASSERT_TRUE(z.ok()) << z.error().message;
    auto j = s->journal(kOrigin, 1);
    ASSERT_TRUE(j.ok());
    ASSERT_EQ(j->status, JournalStatus::Ok);
    std::set<uint32_t> durable;
    for (const auto& cs : j->changes) durable.insert(cs.serial_to);
    ASSERT_FALSE(acked.empty());
    for (uint32_t a : acked) EXPECT_TRUE(durable.count(a)) << "acknowledged serial " << a << " lost";
    EXPECT_EQ(z->serial, j->current_serial);
    EXPECT_FALSE(zone::serial_lt(z->serial, acked.back()));
    EXPECT_EQ(z->records.size(), base_records(1).size() + j->changes.size());
  }
}

// ---- group commit ------------------------------------------------------------

// Prints the append rate of one changeset per transaction (one sync each)
// against batches of 64 (one sync per batch), both durable
// (synchronous=FULL). Not a timed assertion: disks differ. The count is
// DDNS_STORE_BENCH_N (default 640 to keep the unit run short; the figures
// in the report use DDNS_STORE_BENCH_N=10000).
TEST(GroupCommit, PrintsRates) {
  size_t n = 640;
  if (const char* e = std::getenv("DDNS_STORE_BENCH_N")) n = std::max<size_t>(64, std::strtoul(e, nullptr, 10));
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  auto run = [&](const Name& origin, size_t batch) -> double {
    EXPECT_TRUE(s->put_zone_snapshot(origin, 1, base_records(1, origin)).ok());
    std::vector<ChangeSet> all;
    all.reserve(n);
    for (uint32_t i = 1; i <= n; ++i) {
      // A single-record change: the added record (the SOA swap is implied
      // by the serials for this measurement).
      ChangeSet cs;
      cs.origin = origin;
      cs.serial_from = i;
      cs.serial_to = i + 1;
      cs.added.push_back(a4("h" + std::to_string(i) + "." + origin.to_text(), i));
      all.push_back(std::move(cs));
    }
    auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; i += batch) {
      auto r = s->append_changes(std::span(all).subspan(i, std::min(batch, n - i)));
      if (!r) {
        ADD_FAILURE() << r.error().message;
        return 0;
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return double(n) / secs;
  };
  double one = run(N("one.example.test."), 1);
  double grouped = run(N("grouped.example.test."), 64);
  std::printf("[ rates    ] %zu single-record changesets, synchronous=FULL:\n"
              "[ rates    ]   1 per transaction:  %10.0f changesets/s\n"
              "[ rates    ]   64 per transaction: %10.0f changesets/s (x%.1f)\n",
              n, one, grouped, grouped / std::max(one, 1.0));
  EXPECT_EQ(s->zone_info(N("grouped.example.test."))->value().journal_length, n);
}

// Prints import and restore times of a 100,000-record zone with a journal
// of 1,000 changesets on top (what ddnsd does at start).
TEST(GroupCommit, PrintsSnapshotRates) {
  TempDir d;
  auto s = open_ok(d.file());
  ASSERT_TRUE(s);
  std::vector<RR> recs = base_records(1);
  for (uint32_t i = 0; i < 100000; ++i) recs.push_back(a4("n" + std::to_string(i) + ".example.test.", i));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s->put_zone_snapshot(kOrigin, 1, recs).ok());
  auto t1 = std::chrono::steady_clock::now();
  std::vector<ChangeSet> cs;
  for (uint32_t i = 1; i <= 1000; ++i)
    cs.push_back(change(i, i + 1, {a4("j" + std::to_string(i) + ".example.test.", i)},
                        {a4("n" + std::to_string(i) + ".example.test.", i)}));
  ASSERT_TRUE(s->append_changes(cs).ok());
  auto t2 = std::chrono::steady_clock::now();
  auto z = s->load_zone(kOrigin);
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->records.size(), recs.size());
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("[ rates    ] import 100k records: %.0f ms; append 1000 changesets in one batch: %.0f ms;"
              " load_zone (base + replay): %.0f ms\n",
              ms(t0, t1), ms(t1, t2), ms(t2, t3));
}

}  // namespace
}  // namespace ddns::store
