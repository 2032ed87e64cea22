// Tests of the shared SQLite layer: statements, rollback unless committed,
// waiting for another connection's write lock, schema migration.
#include "sqlite/db.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ddns::sqlite {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ddns-sqlite-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/t.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A connection with table t(k TEXT PRIMARY KEY, v INTEGER).
  void open_with_table(Db& db, int busy_ms = 5000) {
    Options o;
    o.busy_timeout_ms = busy_ms;
    ASSERT_TRUE(db.open(path_, o).ok());
    ASSERT_TRUE(db.exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)").ok());
  }
  static Result<int64_t> count(Db& db) {
    DDNS_SQL_STMT(q, db, "SELECT count(*) FROM t");
    auto row = q.step();
    if (!row) return row.error();
    return q.i64(0);
  }
  static Result<void> insert(Db& db, const std::string& k, int64_t v) {
    DDNS_SQL_STMT(q, db, "INSERT INTO t(k, v) VALUES(?, ?)");
    q.bind(1, k).bind(2, v);
    return q.run();
  }

  std::string dir_, path_;
};

TEST_F(DbTest, BindStepAndColumns) {
  Db db;
  open_with_table(db);
  ASSERT_TRUE(db.exec("CREATE TABLE b (x BLOB NOT NULL)").ok());
  ASSERT_TRUE(insert(db, "a", -5).ok());
  EXPECT_EQ(db.changes(), 1);
  {
    auto ins = db.prepare("INSERT INTO b(x) VALUES(?)");
    ASSERT_TRUE(ins.ok());
    Stmt& q = *ins;
    std::array<uint8_t, 3> bytes{1, 2, 3};
    q.bind(1, std::span<const uint8_t>(bytes));
    ASSERT_TRUE(q.run().ok());
    q.reset();
    // An empty blob is not NULL: the NOT NULL column takes it.
    q.bind(1, std::span<const uint8_t>());
    ASSERT_TRUE(q.run().ok());
  }
  auto q = db.prepare("SELECT k, v FROM t WHERE k = ?");
  ASSERT_TRUE(q.ok());
  q->bind(1, std::string("a"));  // a temporary: text is copied
  auto row = q->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q->text(0), "a");
  EXPECT_EQ(q->i64(1), -5);
  auto b = db.prepare("SELECT x FROM b ORDER BY rowid");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(*b->step());
  EXPECT_EQ(b->blob(0).size(), 3u);
  ASSERT_TRUE(*b->step());
  EXPECT_TRUE(b->blob(0).empty());
  EXPECT_FALSE(*b->step());
}

TEST_F(DbTest, ErrorsNameTheFileAndTheStatement) {
  Db db;
  open_with_table(db);
  auto p = db.prepare("SELECT nope FROM t");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find(path_), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("no such column"), std::string::npos) << p.error().message;
  ASSERT_TRUE(insert(db, "a", 1).ok());
  auto dup = insert(db, "a", 2);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("UNIQUE"), std::string::npos) << dup.error().message;
  // The failed statement was reset: the cached statement works again.
  EXPECT_TRUE(insert(db, "b", 2).ok());
}

TEST_F(DbTest, NotADatabaseFailsAtOpen) {
  std::ofstream(path_) << std::string(4096, 'x');
  Db db;
  auto r = db.open(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(path_), std::string::npos);
  Db missing;
  Options ro;
  ro.read_only = true;
  EXPECT_FALSE(missing.open(dir_ + "/absent.db", ro).ok());
}

TEST_F(DbTest, TransactionRollsBackUnlessCommitted) {
  Db db;
  open_with_table(db);
  {
    Txn t(db);
    ASSERT_TRUE(t.begin(true).ok());
    ASSERT_TRUE(insert(db, "gone", 1).ok());
    // Destroyed without commit: an early error return.
  }
  EXPECT_EQ(*count(db), 0);
  {
    Txn t(db);
    ASSERT_TRUE(t.begin(true).ok());
    ASSERT_TRUE(insert(db, "kept", 1).ok());
    ASSERT_TRUE(t.commit().ok());
  }
  EXPECT_EQ(*count(db), 1);
  // After a rollback the connection takes a new transaction at once.
  Txn t(db);
  EXPECT_TRUE(t.begin(true).ok());
}

TEST_F(DbTest, ReadTransactionSeesOneSnapshot) {
  Db reader, writer;
  open_with_table(reader);
  open_with_table(writer);
  ASSERT_TRUE(insert(writer, "a", 1).ok());
  Txn t(reader);
  ASSERT_TRUE(t.begin(false).ok());
  EXPECT_EQ(*count(reader), 1);
  // WAL: the writer commits while the reader's snapshot stays as it was.
  ASSERT_TRUE(insert(writer, "b", 2).ok());
  EXPECT_EQ(*count(reader), 1);
  ASSERT_TRUE(t.commit().ok());
  EXPECT_EQ(*count(reader), 2);
}

TEST_F(DbTest, WriterWaitsForAnotherWriterWithinBusyTimeout) {
  Db a, b;
  open_with_table(a);
  open_with_table(b, /*busy_ms=*/5000);
  Txn ta(a);
  ASSERT_TRUE(ta.begin(true).ok());
  ASSERT_TRUE(insert(a, "first", 1).ok());
  // `a` holds the write lock for 200 ms; `b`'s BEGIN IMMEDIATE is retried
  // by the busy handler until it is free, then sees a's row.
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(ta.commit().ok());
  });
  const auto t0 = std::chrono::steady_clock::now();
  Txn tb(b);
  auto r = tb.begin(true);
  const auto waited = std::chrono::steady_clock::now() - t0;
  releaser.join();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  ASSERT_TRUE(insert(b, "second", 2).ok());
  ASSERT_TRUE(tb.commit().ok());
  EXPECT_EQ(*count(a), 2);
}

TEST_F(DbTest, WriterGivesUpAfterBusyTimeout) {
  Db a, b;
  open_with_table(a);
  open_with_table(b, /*busy_ms=*/50);
  Txn ta(a);
  ASSERT_TRUE(ta.begin(true).ok());
  Txn tb(b);
  auto r = tb.begin(true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(path_), std::string::npos) << r.error().message;
  // Nothing was left half-open: once the lock is free, b writes.
  ASSERT_TRUE(ta.commit().ok());
  Txn again(b);
  EXPECT_TRUE(again.begin(true).ok());
}

constexpr std::array<const char*, 2> kTwo = {
    "CREATE TABLE one (x INTEGER)",
    "CREATE TABLE two (y INTEGER)",
};

TEST_F(DbTest, MigrateRunsEachStepOnce) {
  {
    Db db;
    ASSERT_TRUE(db.open(path_).ok());
    auto v = migrate(db, std::span<const char* const>(kTwo.data(), 1), "test ");
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, 1);
  }
  Db db;
  ASSERT_TRUE(db.open(path_).ok());
  auto v = migrate(db, kTwo);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(*schema_version(db), 2);
  EXPECT_TRUE(db.exec("INSERT INTO two(y) VALUES(1)").ok());
  EXPECT_EQ(*migrate(db, kTwo), 2);  // up to date: nothing runs again
}

TEST_F(DbTest, MigrateRefusesNewerSchemaAndRollsBackAFailedStep) {
  Db db;
  ASSERT_TRUE(db.open(path_).ok());
  ASSERT_TRUE(migrate(db, kTwo).ok());
  auto r = migrate(db, std::span<const char* const>(kTwo.data(), 1), "test ");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("test schema version 2 is newer than this program's (1)"),
            std::string::npos)
      << r.error().message;

  Db fresh;
  ASSERT_TRUE(fresh.open(dir_ + "/fresh.db").ok());
  constexpr std::array<const char*, 2> bad = {"CREATE TABLE ok1 (x)", "CREATE TABLE ok1 (x)"};
  auto f = migrate(fresh, bad);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("schema migration to version 2"), std::string::npos)
      << f.error().message;
  // All or nothing: version 1's table was rolled back with the failure.
  EXPECT_FALSE(fresh.exec("INSERT INTO ok1(x) VALUES(1)").ok());
}

TEST_F(DbTest, ReadOnlyRefusesWrites) {
  {
    Db db;
    open_with_table(db);
  }
  Db ro;
  Options o;
  o.read_only = true;
  ASSERT_TRUE(ro.open(path_, o).ok());
  EXPECT_TRUE(count(ro).ok());
  EXPECT_FALSE(insert(ro, "x", 1).ok());
  Db q;
  Options qo;
  qo.query_only = true;
  ASSERT_TRUE(q.open(path_, qo).ok());
  EXPECT_FALSE(insert(q, "x", 1).ok());
}

}  // namespace
}  // namespace ddns::sqlite
