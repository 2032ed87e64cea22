// Tests of Store::list_journal and open_data_dir, used through the Store
// interface only (as ddnsctl does).
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store.h"

namespace ddns::store {
namespace {

using wire::Name;
using wire::RR;

Name name(const char* t) { return Name::from_text(t).value(); }

RR soa_at(const Name& origin, uint32_t serial) {
  RR rr{origin, 6, 1, 3600, {}};
  for (const char* t : {"ns1.example.net.", "hostmaster.example.net."}) {
    auto n = name(t);
    rr.rdata.insert(rr.rdata.end(), n.wire().begin(), n.wire().end());
  }
  for (uint32_t v : {serial, 3600u, 600u, 86400u, 300u})
    for (int s = 24; s >= 0; s -= 8) rr.rdata.push_back(uint8_t(v >> s));
  return rr;
}

zone::ChangeSet step(const Name& origin, uint32_t from, uint8_t last) {
  zone::ChangeSet cs;
  cs.origin = origin;
  cs.serial_from = from;
  cs.serial_to = from + 1;
  cs.removed.push_back(soa_at(origin, from));
  cs.added.push_back(soa_at(origin, from + 1));
  cs.added.push_back(RR{name("host.example.net."), 1, 1, 60, {192, 0, 2, last}});
  return cs;
}

class ListJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ddns-listjournal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto w = open_data_dir(dir_, /*read_only=*/false);
    ASSERT_TRUE(w.ok()) << w.error().message;
    std::vector<RR> base{soa_at(origin_, 10)};
    ASSERT_TRUE((*w)->put_zone_snapshot(origin_, 10, base).ok());
    for (uint32_t s = 10; s < 13; ++s) {
      auto cs = step(origin_, s, uint8_t(s));
      ASSERT_TRUE((*w)->append_changes({&cs, 1}).ok());
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> reader() {
    auto r = open_data_dir(dir_, /*read_only=*/true);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r ? std::move(*r) : nullptr;
  }

  std::string dir_;
  const Name origin_ = name("Example.NET.");
};

TEST_F(ListJournal, ListsEveryKeptEntryWithItsTime) {
  auto st = reader();
  ASSERT_TRUE(st);
  auto l = st->list_journal(origin_, std::nullopt);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(l->status, JournalStatus::Ok);
  EXPECT_EQ(l->base_serial, 10u);
  EXPECT_EQ(l->current_serial, 13u);
  ASSERT_EQ(l->entries.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(l->entries[i].seq, i + 1);
    EXPECT_GT(l->entries[i].created, 1700000000);
    EXPECT_EQ(l->entries[i].changes.serial_from, 10 + i);
    EXPECT_EQ(l->entries[i].changes.added.size(), 2u);
  }
}

TEST_F(ListJournal, FromASerialAsIxfrAsks) {
  auto st = reader();
  ASSERT_TRUE(st);
  auto l = st->list_journal(origin_, 11);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->entries.size(), 2u);
  EXPECT_EQ(l->entries[0].changes.serial_from, 11u);
  auto cur = st->list_journal(origin_, 13);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->status, JournalStatus::Ok);
  EXPECT_TRUE(cur->entries.empty());
  EXPECT_EQ(st->list_journal(origin_, 50)->status, JournalStatus::Newer);
  EXPECT_EQ(st->list_journal(origin_, 5)->status, JournalStatus::TooOld);
  auto none = st->list_journal(name("nothere.example.net."), std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no such zone"), std::string::npos);
}

TEST_F(ListJournal, ReadOnlyOpenNeedsAnExistingStore) {
  auto r = open_data_dir(dir_ + "/absent", /*read_only=*/true);
  EXPECT_FALSE(r.ok());
}

TEST_F(ListJournal, UndecodableEntryIsAnErrorNamingIt) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/ddns.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE journal SET data = x'0001' WHERE seq = 2", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto st = reader();
  ASSERT_TRUE(st);
  auto l = st->list_journal(origin_, std::nullopt);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("journal entry 2 (serial 11 -> 12)"), std::string::npos)
      << l.error().message;
}

}  // namespace
}  // namespace ddns::store
