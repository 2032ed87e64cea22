// Accounts: users, zones, hosts, tokens, history, sessions on a temp SQLite file.
#include "accounts/accounts.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace ddns::accounts {
namespace {

namespace fs = std::filesystem;

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ddns-accounts-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = Accounts::default_path(dir_);
    a_ = open();
    ASSERT_TRUE(a_);
  }
  void TearDown() override {
    a_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<Accounts> open(Limits l = {}) {
    auto r = Accounts::open(path_, l);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(*r) : nullptr;
  }
  // A user and an open zone, the usual starting point.
  void basic() {
    ASSERT_TRUE(a_->add_user("alice", "correct horse").ok());
    ASSERT_TRUE(a_->add_zone("example.test").ok());
  }
  std::string add_host(const std::string& fqdn, const std::string& owner = "alice") {
    auto h = a_->add_host(fqdn, owner);
    EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
    return h.ok() ? h->token : "";
  }

  std::string dir_, path_;
  std::unique_ptr<Accounts> a_;
};

TEST(NormalizeHost, Table) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"home.example.test", "home.example.test"},
      {"Home.Example.TEST.", "home.example.test"},
      {"_acme-challenge.home.example.test", "_acme-challenge.home.example.test"},
      {"a-b.example.test", "a-b.example.test"},
      {"localhost", "localhost"},
      {"1.example.test", "1.example.test"},
      {"", ""},
      {".", ""},
      {"home..example.test", ""},
      {".home.example.test", ""},
      {"home.example.test..", ""},
      {"-home.example.test", ""},
      {"home-.example.test", ""},
      {"ho me.example.test", ""},
      {"*.example.test", ""},
      {"h\xc3\xa9.example.test", ""},
      {"home/x.example.test", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_host(c.in), c.out) << c.in;
  EXPECT_EQ(normalize_host(std::string(63, 'a') + ".test"), std::string(63, 'a') + ".test");
  EXPECT_EQ(normalize_host(std::string(64, 'a') + ".test"), "");
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "test";  // 254 characters
  EXPECT_EQ(normalize_host(long_name), "");
  EXPECT_EQ(normalize_host(long_name.substr(10)), long_name.substr(10));
  EXPECT_EQ(normalize_host(std::string_view("a\0b.test", 8)), "");
}

TEST_F(AccountsTest, DefaultPathAndReopen) {
  EXPECT_EQ(Accounts::default_path("/var/lib/ddns"), "/var/lib/ddns/accounts.sqlite");
  EXPECT_EQ(Accounts::default_path("/var/lib/ddns/"), "/var/lib/ddns/accounts.sqlite");
  basic();
  a_.reset();
  a_ = open();
  ASSERT_TRUE(a_);
  auto u = a_->get_user("alice");
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(u->has_value());
  EXPECT_EQ((*u)->name, "alice");
  auto zs = a_->list_zones();
  ASSERT_TRUE(zs.ok());
  EXPECT_EQ(*zs, std::vector<std::string>{"example.test"});
}

TEST_F(AccountsTest, RefusesNewerSchemaAndNonDatabase) {
  a_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto r = Accounts::open(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("newer"), std::string::npos) << r.error().message;

  std::string junk = dir_ + "/junk.sqlite";
  FILE* f = fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a database, not at all, not even a little bit of one......", f);
  fclose(f);
  EXPECT_FALSE(Accounts::open(junk).ok());
  EXPECT_FALSE(Accounts::open(dir_ + "/no/such/dir/accounts.sqlite").ok());
}

TEST_F(AccountsTest, Users) {
  auto u = a_->add_user("Alice", "correct horse", true);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->name, "alice");
  EXPECT_TRUE(u->admin);
  EXPECT_GT(u->id, 0);
  EXPECT_GT(u->created, 0);

  auto dup = a_->add_user("alice", "another password");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("already exists"), std::string::npos);

  EXPECT_FALSE(a_->add_user("", "correct horse").ok());
  EXPECT_FALSE(a_->add_user("bad name", "correct horse").ok());
  EXPECT_FALSE(a_->add_user("bad/name", "correct horse").ok());
  EXPECT_FALSE(a_->add_user(std::string(65, 'x'), "correct horse").ok());
  EXPECT_TRUE(a_->add_user(std::string(64, 'x'), "correct horse").ok());
  auto short_pw = a_->add_user("bob", "1234567");
  ASSERT_FALSE(short_pw.ok());
  EXPECT_NE(short_pw.error().message.find("short"), std::string::npos);
  EXPECT_FALSE(a_->add_user("bob", std::string(1025, 'p')).ok());
  auto bob = a_->add_user("bob@example.test", "12345678");
  ASSERT_TRUE(bob.ok());
  EXPECT_FALSE(bob->admin);

  auto all = a_->list_users();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "alice");
  EXPECT_EQ((*all)[1].name, "bob@example.test");

  auto g = a_->get_user("ALICE");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ((*g)->id, u->id);
  auto none = a_->get_user("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto bad = a_->get_user("bad name");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->has_value());

  EXPECT_TRUE(a_->delete_user("bob@example.test").ok());
  EXPECT_FALSE(a_->delete_user("bob@example.test").ok());
  EXPECT_FALSE(a_->set_password("bob@example.test", "whatever123").ok());
  EXPECT_FALSE(a_->set_password("alice", "short").ok());
}

TEST_F(AccountsTest, PasswordsAndCache) {
  int64_t now = 1'700'000'000;
  a_->set_clock([&] { return now; });
  basic();
  auto ok = a_->check_password("alice", "correct horse");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(ok->has_value());
  EXPECT_EQ((*ok)->name, "alice");
  EXPECT_EQ(a_->stats().argon2_verifies, 1u);

  // Remembered: no second Argon2.
  ok = a_->check_password("Alice", "correct horse");
  ASSERT_TRUE(ok.ok() && ok->has_value());
  EXPECT_EQ(a_->stats().argon2_verifies, 1u);
  EXPECT_EQ(a_->stats().password_cache_hits, 1u);

  auto wrong = a_->check_password("alice", "wrong horse");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->has_value());
  auto unknown = a_->check_password("mallory", "correct horse");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  auto invalid = a_->check_password("bad name", "x");
  ASSERT_TRUE(invalid.ok());
  EXPECT_FALSE(invalid->has_value());
  auto empty = a_->check_password("alice", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());

  // Expiry: after password_cache_s the full check runs again.
  uint64_t before = a_->stats().argon2_verifies;
  now += 299;
  ASSERT_TRUE(a_->check_password("alice", "correct horse")->has_value());
  EXPECT_EQ(a_->stats().argon2_verifies, before);
  now += 2;
  ASSERT_TRUE(a_->check_password("alice", "correct horse")->has_value());
  EXPECT_EQ(a_->stats().argon2_verifies, before + 1);

  // A new password: the old one stops working at once, the new one works.
  ASSERT_TRUE(a_->set_password("alice", "battery staple").ok());
  EXPECT_FALSE(a_->check_password("alice", "correct horse")->has_value());
  EXPECT_TRUE(a_->check_password("alice", "battery staple")->has_value());

  // Changed by another process (ddnsctl): this instance's cache must not
  // keep accepting the old password.
  ASSERT_TRUE(a_->check_password("alice", "battery staple")->has_value());
  {
    auto other = open();
    ASSERT_TRUE(other);
    ASSERT_TRUE(other->set_password("alice", "third password").ok());
  }
  EXPECT_FALSE(a_->check_password("alice", "battery staple")->has_value());
  EXPECT_TRUE(a_->check_password("alice", "third password")->has_value());

  // Deleted: gone from the cache too.
  ASSERT_TRUE(a_->delete_user("alice").ok());
  EXPECT_FALSE(a_->check_password("alice", "third password")->has_value());
}

TEST_F(AccountsTest, NoCacheWhenDisabled) {
  a_.reset();
  Limits l;
  l.password_cache_s = 0;
  a_ = open(l);
  ASSERT_TRUE(a_->add_user("alice", "correct horse").ok());
  ASSERT_TRUE(a_->check_password("alice", "correct horse")->has_value());
  ASSERT_TRUE(a_->check_password("alice", "correct horse")->has_value());
  EXPECT_EQ(a_->stats().argon2_verifies, 2u);
  EXPECT_EQ(a_->stats().password_cache_hits, 0u);
}

TEST_F(AccountsTest, StoredHashIsArgon2id) {
  basic();
  a_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT pwhash FROM users", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string h = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
  EXPECT_EQ(h.find("correct"), std::string::npos);
}

TEST_F(AccountsTest, Zones) {
  EXPECT_TRUE(a_->add_zone("Example.TEST.").ok());
  EXPECT_TRUE(a_->add_zone("example.test").ok());  // idempotent
  EXPECT_TRUE(a_->add_zone("example.org").ok());
  EXPECT_FALSE(a_->add_zone("").ok());
  EXPECT_FALSE(a_->add_zone(".").ok());
  EXPECT_FALSE(a_->add_zone("bad..zone").ok());
  auto zs = a_->list_zones();
  ASSERT_TRUE(zs.ok());
  EXPECT_EQ(*zs, (std::vector<std::string>{"example.org", "example.test"}));
  EXPECT_TRUE(a_->delete_zone("example.org.").ok());
  auto gone = a_->delete_zone("example.org");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("not open"), std::string::npos);
  EXPECT_EQ(a_->list_zones()->size(), 1u);
}

TEST_F(AccountsTest, HostsInZones) {
  basic();
  auto h = a_->add_host("Home.Example.Test.", "alice");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->host.name, "home.example.test");
  EXPECT_EQ(h->host.zone, "example.test");
  EXPECT_EQ(h->host.owner_name, "alice");
  EXPECT_EQ(h->host.updated, 0);
  EXPECT_GT(h->host.id, 0);
  // 32 random bytes, base64url without padding.
  EXPECT_EQ(h->token.size(), 43u);
  EXPECT_EQ(h->token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);

  auto dup = a_->add_host("home.example.test", "alice");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("already exists"), std::string::npos);

  auto outside = a_->add_host("home.example.org", "alice");
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("not inside"), std::string::npos);
  EXPECT_FALSE(a_->add_host("example.test", "alice").ok());  // apex
  EXPECT_FALSE(a_->add_host("test", "alice").ok());
  EXPECT_FALSE(a_->add_host("bad..example.test", "alice").ok());
  EXPECT_FALSE(a_->add_host("x.example.test", "nobody").ok());
  EXPECT_FALSE(a_->add_host("x.example.test", "bad name").ok());
  // Suffix match is by label, not by string.
  EXPECT_FALSE(a_->add_host("homeexample.test", "alice").ok());

  // Deepest zone wins; apex of the inner zone is not a host.
  ASSERT_TRUE(a_->add_zone("dyn.example.test").ok());
  auto deep = a_->add_host("a.b.dyn.example.test", "alice");
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->host.zone, "dyn.example.test");
  auto apex = a_->add_host("dyn.example.test", "alice");
  ASSERT_FALSE(apex.ok());
  EXPECT_NE(apex.error().message.find("apex"), std::string::npos);

  auto g = a_->get_host("HOME.example.test.");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ((*g)->id, h->host.id);
  EXPECT_FALSE(a_->get_host("nothere.example.test")->has_value());
  EXPECT_FALSE(a_->get_host("bad..name")->has_value());
}

TEST_F(AccountsTest, ZoneChangesMoveHosts) {
  basic();
  add_host("a.sub.example.test");
  add_host("b.example.test");
  // A deeper zone takes over the hosts below it.
  ASSERT_TRUE(a_->add_zone("sub.example.test").ok());
  EXPECT_EQ((*a_->get_host("a.sub.example.test"))->zone, "sub.example.test");
  EXPECT_EQ((*a_->get_host("b.example.test"))->zone, "example.test");
  // Closing it hands them back to the parent DDNS zone.
  ASSERT_TRUE(a_->delete_zone("sub.example.test").ok());
  EXPECT_EQ((*a_->get_host("a.sub.example.test"))->zone, "example.test");
  // No parent to take them: refused.
  auto r = a_->delete_zone("example.test");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("delete them first"), std::string::npos);
  ASSERT_TRUE(a_->delete_host("a.sub.example.test").ok());
  ASSERT_TRUE(a_->delete_host("b.example.test").ok());
  EXPECT_TRUE(a_->delete_zone("example.test").ok());
}

TEST_F(AccountsTest, ListAndDeleteHosts) {
  basic();
  ASSERT_TRUE(a_->add_user("bob", "bob's password").ok());
  add_host("b.example.test", "alice");
  add_host("a.example.test", "alice");
  add_host("c.example.test", "bob");
  auto all = a_->list_hosts();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "a.example.test");
  EXPECT_EQ((*all)[2].owner_name, "bob");
  auto alice = a_->list_hosts("alice");
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].name, "a.example.test");
  EXPECT_EQ((*alice)[1].name, "b.example.test");
  EXPECT_FALSE(a_->list_hosts("nobody").ok());
  EXPECT_FALSE(a_->list_hosts("bad name").ok());

  ASSERT_TRUE(a_->delete_host("A.example.test.").ok());
  auto again = a_->delete_host("a.example.test");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("no such host"), std::string::npos);
  EXPECT_FALSE(a_->delete_host("bad..name").ok());

  // Deleting a user deletes their hosts (and frees the names).
  ASSERT_TRUE(a_->delete_user("bob").ok());
  EXPECT_FALSE(a_->get_host("c.example.test")->has_value());
  EXPECT_EQ(a_->list_hosts()->size(), 1u);
  add_host("c.example.test", "alice");
}

// A version-1 database (before dns_removals) in the field: opening it with
// this program migrates it, keeping users, hosts and tokens.
TEST_F(AccountsTest, MigratesVersion1Database) {
  basic();
  std::string token = add_host("home.example.test");
  a_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE dns_removals; UPDATE schema_version SET version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  a_ = open();
  ASSERT_TRUE(a_);
  auto u = a_->get_user("alice");
  ASSERT_TRUE(u.ok() && *u);
  auto ok = a_->check_token("home.example.test", token);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);
  auto pw = a_->check_password("alice", "correct horse");
  ASSERT_TRUE(pw.ok());
  EXPECT_TRUE(pw->has_value());
  auto none = a_->pending_removals();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(a_->delete_host("home.example.test").ok());
  auto one = a_->pending_removals();
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);

  a_.reset();
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// delete_host/delete_user leave one removal per host for ddnsd, seen by
// another process's handle; finish_removal takes it off the queue.
TEST_F(AccountsTest, RemovalQueue) {
  basic();
  ASSERT_TRUE(a_->add_zone("dyn.example.test").ok());
  ASSERT_TRUE(a_->add_user("bob", "battery staple").ok());
  add_host("home.example.test");
  add_host("a.dyn.example.test", "bob");
  add_host("b.example.test", "bob");
  a_->set_clock([] { return int64_t(1700000000); });

  auto other = open();  // ddnsd's handle, ddnsctl's is a_
  ASSERT_TRUE(other);
  auto q = other->pending_removals();
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->empty());

  EXPECT_FALSE(a_->delete_host("nosuch.example.test").ok());
  q = other->pending_removals();
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->empty()) << "a failed delete queues nothing";

  ASSERT_TRUE(a_->delete_host("Home.Example.Test.").ok());
  ASSERT_TRUE(a_->delete_user("bob").ok());
  q = other->pending_removals();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].host, "home.example.test");
  EXPECT_EQ((*q)[0].zone, "example.test");
  EXPECT_EQ((*q)[0].queued, 1700000000);
  EXPECT_EQ((*q)[1].host, "a.dyn.example.test");
  EXPECT_EQ((*q)[1].zone, "dyn.example.test");
  EXPECT_EQ((*q)[2].host, "b.example.test");
  EXPECT_EQ((*q)[2].zone, "example.test");

  ASSERT_TRUE(other->finish_removal((*q)[1].id).ok());
  ASSERT_TRUE(other->finish_removal((*q)[1].id).ok()) << "finishing twice is no error";
  auto left = a_->pending_removals();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].host, "home.example.test");
  EXPECT_EQ((*left)[1].host, "b.example.test");

  // The queue survives a restart (ddnsd not running when ddnsctl deleted).
  other.reset();
  a_.reset();
  a_ = open();
  ASSERT_TRUE(a_);
  left = a_->pending_removals();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 2u);
}

TEST_F(AccountsTest, Tokens) {
  basic();
  std::string t1 = add_host("home.example.test");
  std::string t2 = add_host("work.example.test");
  ASSERT_NE(t1, t2);
  EXPECT_TRUE(*a_->check_token("home.example.test", t1));
  EXPECT_TRUE(*a_->check_token("HOME.example.test.", t1));
  EXPECT_FALSE(*a_->check_token("home.example.test", t2));  // another host's token
  EXPECT_FALSE(*a_->check_token("work.example.test", t1));
  EXPECT_FALSE(*a_->check_token("home.example.test", ""));
  EXPECT_FALSE(*a_->check_token("home.example.test", t1.substr(1)));
  EXPECT_FALSE(*a_->check_token("home.example.test", std::string(100000, 'x')));
  EXPECT_FALSE(*a_->check_token("nothere.example.test", t1));
  EXPECT_FALSE(*a_->check_token("bad..name", t1));

  auto t3 = a_->rotate_token("home.example.test");
  ASSERT_TRUE(t3.ok());
  EXPECT_NE(*t3, t1);
  EXPECT_FALSE(*a_->check_token("home.example.test", t1));
  EXPECT_TRUE(*a_->check_token("home.example.test", *t3));
  EXPECT_TRUE(*a_->check_token("work.example.test", t2));
  EXPECT_FALSE(a_->rotate_token("nothere.example.test").ok());

  // Seen by another instance (ddnsd) at once.
  auto other = open();
  EXPECT_TRUE(*other->check_token("home.example.test", *t3));
  auto t4 = other->rotate_token("home.example.test");
  ASSERT_TRUE(t4.ok());
  EXPECT_FALSE(*a_->check_token("home.example.test", *t3));
  EXPECT_TRUE(*a_->check_token("home.example.test", *t4));
}

// check_token and host_zone answer from memory in the steady state, and
// every change another process (ddnsctl) makes to a host is seen by the
// next call: rotation, deletion, zone moves, deleting the owner.
TEST_F(AccountsTest, HostCacheFollowsOtherProcesses) {
  basic();
  ASSERT_TRUE(a_->add_user("bob", "bob's password").ok());
  std::string t1 = add_host("home.example.test");
  std::string tb = add_host("b.sub.example.test", "bob");
  EXPECT_FALSE(a_->check_token_cached("home.example.test", t1).has_value());  // not cached yet
  EXPECT_TRUE(*a_->check_token("home.example.test", t1));
  auto misses = a_->stats().host_cache_misses;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(*a_->check_token("home.example.test", t1));
    EXPECT_EQ(*a_->check_token_cached("HOME.example.test.", t1), true);
    EXPECT_EQ(*a_->check_token_cached("home.example.test", "wrong"), false);
  }
  EXPECT_EQ(a_->stats().host_cache_misses, misses);
  EXPECT_GE(a_->stats().host_cache_hits, 10u);
  EXPECT_EQ(**a_->host_zone("home.example.test"), "example.test");
  EXPECT_FALSE(a_->host_zone("nothere.example.test")->has_value());

  // Writes that do not touch tokens or zones keep the cache.
  HistoryEntry e{100, "home.example.test", "A", "", "192.0.2.1", "192.0.2.9", "dyndns2"};
  ASSERT_TRUE(a_->record(std::span<const HistoryEntry>(&e, 1)).ok());
  EXPECT_EQ(*a_->check_token_cached("home.example.test", t1), true);

  auto other = open();
  auto t2 = other->rotate_token("home.example.test");
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(a_->check_token_cached("home.example.test", t1).value_or(false));
  EXPECT_FALSE(*a_->check_token("home.example.test", t1));
  EXPECT_TRUE(*a_->check_token("home.example.test", *t2));

  // Zone moves by another process.
  EXPECT_TRUE(*a_->check_token("b.sub.example.test", tb));
  EXPECT_EQ(**a_->host_zone("b.sub.example.test"), "example.test");
  ASSERT_TRUE(other->add_zone("sub.example.test").ok());
  EXPECT_EQ(**a_->host_zone("b.sub.example.test"), "sub.example.test");
  ASSERT_TRUE(other->delete_zone("sub.example.test").ok());
  EXPECT_EQ(**a_->host_zone("b.sub.example.test"), "example.test");

  // Deleting the owner deletes the host: its token stops working.
  ASSERT_TRUE(other->delete_user("bob").ok());
  EXPECT_FALSE(a_->check_token_cached("b.sub.example.test", tb).value_or(false));
  EXPECT_FALSE(*a_->check_token("b.sub.example.test", tb));
  EXPECT_FALSE(a_->host_zone("b.sub.example.test")->has_value());

  EXPECT_TRUE(*a_->check_token("home.example.test", *t2));
  ASSERT_TRUE(other->delete_host("home.example.test").ok());
  EXPECT_FALSE(*a_->check_token("home.example.test", *t2));
  EXPECT_FALSE(a_->host_zone("home.example.test")->has_value());
  // A new host of the same name has a new token.
  std::string t3 = add_host("home.example.test");
  EXPECT_FALSE(*a_->check_token("home.example.test", *t2));
  EXPECT_TRUE(*a_->check_token("home.example.test", t3));
}

TEST_F(AccountsTest, AddressesAndHistory) {
  basic();
  add_host("home.example.test");
  ASSERT_TRUE(a_->set_addresses("home.example.test", "192.0.2.1", "2001:db8::1", 1000).ok());
  auto h = a_->get_host("home.example.test");
  EXPECT_EQ((*h)->last_ipv4, "192.0.2.1");
  EXPECT_EQ((*h)->last_ipv6, "2001:db8::1");
  EXPECT_EQ((*h)->updated, 1000);
  EXPECT_FALSE(a_->set_addresses("nothere.example.test", "", "", 1).ok());

  std::vector<HistoryEntry> batch = {
      {2000, "home.example.test", "A", "192.0.2.1", "192.0.2.2", "198.51.100.7", "dyndns2"},
      {2000, "home.example.test", "AAAA", "2001:db8::1", "2001:db8::2", "198.51.100.7", "dyndns2"},
      {2001, "home.example.test", "TXT", "", "\"token\"", "198.51.100.7", "api"},
  };
  ASSERT_TRUE(a_->record(batch).ok());
  ASSERT_TRUE(a_->record({}).ok());
  h = a_->get_host("home.example.test");
  EXPECT_EQ((*h)->last_ipv4, "192.0.2.2");
  EXPECT_EQ((*h)->last_ipv6, "2001:db8::2");
  EXPECT_EQ((*h)->updated, 2000);

  auto hist = a_->history("home.example.test");
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 3u);
  EXPECT_EQ((*hist)[0].type, "TXT");  // newest first
  EXPECT_EQ((*hist)[0].via, "api");
  EXPECT_EQ((*hist)[2].type, "A");
  EXPECT_EQ((*hist)[2].old_value, "192.0.2.1");
  EXPECT_EQ((*hist)[2].new_value, "192.0.2.2");
  EXPECT_EQ((*hist)[2].source, "198.51.100.7");
  EXPECT_EQ((*hist)[2].time, 2000);
  EXPECT_EQ(a_->history("home.example.test", 1)->size(), 1u);
  EXPECT_EQ(a_->history("home.example.test", 0)->size(), 0u);
  EXPECT_EQ(a_->history("other.example.test")->size(), 0u);

  // A deleted (address) entry clears the last address.
  HistoryEntry del{3000, "home.example.test", "A", "192.0.2.2", "", "198.51.100.7", "web"};
  ASSERT_TRUE(a_->record({&del, 1}).ok());
  EXPECT_EQ((*a_->get_host("home.example.test"))->last_ipv4, "");

  // History goes with the host: a new host of the same name starts clean.
  ASSERT_TRUE(a_->delete_host("home.example.test").ok());
  add_host("home.example.test");
  EXPECT_EQ(a_->history("home.example.test")->size(), 0u);
}

TEST_F(AccountsTest, HistoryIsBoundedPerHost) {
  a_.reset();
  Limits l;
  l.history_per_host = 50;
  a_ = open(l);
  basic();
  add_host("home.example.test");
  add_host("quiet.example.test");
  HistoryEntry q{1, "quiet.example.test", "A", "", "192.0.2.9", "192.0.2.9", "dyndns2"};
  ASSERT_TRUE(a_->record({&q, 1}).ok());
  std::vector<HistoryEntry> batch;
  for (int i = 0; i < 400; ++i) {
    batch.push_back({i, "home.example.test", "A", "", "192.0.2." + std::to_string(i % 250),
                     "192.0.2.1", "dyndns2"});
  }
  ASSERT_TRUE(a_->record(batch).ok());
  auto hist = a_->history("home.example.test", 10000);
  ASSERT_TRUE(hist.ok());
  EXPECT_GE(hist->size(), 50u);
  EXPECT_LE(hist->size(), 50u + 16u);
  EXPECT_EQ((*hist)[0].time, 399);
  EXPECT_EQ(a_->history("quiet.example.test")->size(), 1u);
}

TEST_F(AccountsTest, Sessions) {
  int64_t now = 1'700'000'000;
  a_->set_clock([&] { return now; });
  basic();
  auto u = a_->get_user("alice");
  int64_t id = (*u)->id;
  auto s = a_->create_session(id, 3600);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 43u);
  auto c = a_->check_session(*s);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->name, "alice");
  EXPECT_FALSE(a_->check_session("")->has_value());
  EXPECT_FALSE(a_->check_session(s->substr(1))->has_value());
  EXPECT_FALSE(a_->check_session(std::string(5000, 'a'))->has_value());
  EXPECT_FALSE(a_->create_session(id + 100, 3600).ok());
  EXPECT_FALSE(a_->create_session(id, 0).ok());

  now += 3599;
  EXPECT_TRUE(a_->check_session(*s)->has_value());
  now += 1;
  EXPECT_FALSE(a_->check_session(*s)->has_value());

  auto s2 = a_->create_session(id);
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(a_->check_session(*s2)->has_value());
  ASSERT_TRUE(a_->delete_session(*s2).ok());
  EXPECT_FALSE(a_->check_session(*s2)->has_value());
  EXPECT_TRUE(a_->delete_session(*s2).ok());  // logging out twice is fine

  auto s3 = a_->create_session(id);
  ASSERT_TRUE(a_->delete_user("alice").ok());
  EXPECT_FALSE(a_->check_session(*s3)->has_value());
}

TEST_F(AccountsTest, EndSessions) {
  int64_t now = 1'700'000'000;
  a_->set_clock([&] { return now; });
  basic();
  int64_t alice = (*a_->get_user("alice"))->id;
  auto keep = a_->create_session(alice, 3600);
  auto old = a_->create_session(alice, 10);
  auto other = a_->create_session(alice, 3600);
  ASSERT_TRUE(a_->add_user("bob", "bob-password").ok());
  auto bob = a_->create_session((*a_->get_user("bob"))->id, 3600);
  ASSERT_TRUE(keep.ok() && old.ok() && other.ok() && bob.ok());
  now += 10;  // `old` has expired: not counted as ended
  auto n = a_->end_sessions(alice, *keep);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(a_->check_session(*keep)->has_value());
  EXPECT_FALSE(a_->check_session(*other)->has_value());
  EXPECT_TRUE(a_->check_session(*bob)->has_value());
  EXPECT_EQ(*a_->end_sessions(alice), 1u);  // "" keeps none
  EXPECT_FALSE(a_->check_session(*keep)->has_value());
  EXPECT_EQ(*a_->end_sessions(alice), 0u);
}

TEST_F(AccountsTest, ApiTokens) {
  basic();
  ASSERT_TRUE(a_->add_user("bob", "bob's password").ok());
  int64_t alice = (*a_->get_user("alice"))->id;
  int64_t bob = (*a_->get_user("bob"))->id;
  auto t = a_->create_api_token(alice, "backup script");
  ASSERT_TRUE(t.ok());
  auto c = a_->check_api_token(*t);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->id, alice);
  EXPECT_FALSE(a_->check_api_token("nope")->has_value());
  EXPECT_FALSE(a_->check_api_token("")->has_value());
  EXPECT_FALSE(a_->create_api_token(alice + bob + 10, "x").ok());
  EXPECT_FALSE(a_->create_api_token(alice, std::string(201, 'x')).ok());

  auto list = a_->list_api_tokens(alice);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].label, "backup script");
  EXPECT_TRUE(a_->list_api_tokens(bob)->empty());
  EXPECT_FALSE(a_->delete_api_token(bob, (*list)[0].id).ok());  // not bob's
  EXPECT_TRUE(a_->check_api_token(*t)->has_value());
  ASSERT_TRUE(a_->delete_api_token(alice, (*list)[0].id).ok());
  EXPECT_FALSE(a_->check_api_token(*t)->has_value());

  auto t2 = a_->create_api_token(bob, "");
  ASSERT_TRUE(a_->delete_user("bob").ok());
  EXPECT_FALSE(a_->check_api_token(*t2)->has_value());
}

// Several threads on one instance and a second instance (as ddnsctl would
// be) writing the same file: no errors, no lost rows, tokens stay valid.
TEST_F(AccountsTest, ConcurrentUse) {
  basic();
  constexpr int kHosts = 20;
  std::vector<std::string> names, tokens;
  for (int i = 0; i < kHosts; ++i) {
    names.push_back("h" + std::to_string(i) + ".example.test");
    tokens.push_back(add_host(names.back()));
  }
  auto other = open();
  ASSERT_TRUE(other);
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        int k = (i + t) % kHosts;
        auto r = a_->check_token(names[size_t(k)], tokens[size_t(k)]);
        if (!r.ok() || !*r) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 40; ++i) {
      std::vector<HistoryEntry> batch;
      for (int k = 0; k < 10; ++k) {
        batch.push_back({i, names[size_t(k)], "A", "", "192.0.2.1", "192.0.2.1", "dyndns2"});
      }
      if (!a_->record(batch).ok()) ++failures;
    }
  });
  threads.emplace_back([&] {
    // The second "process" adds and deletes hosts and users meanwhile.
    for (int i = 0; i < 30; ++i) {
      std::string n = "x" + std::to_string(i) + ".example.test";
      if (!other->add_host(n, "alice").ok()) ++failures;
      if (!other->delete_host(n).ok()) ++failures;
      if (!other->add_zone("example.test").ok()) ++failures;
    }
  });
  threads.emplace_back([&] {
    while (!stop) {
      if (!a_->list_hosts().ok()) ++failures;
    }
  });
  for (size_t i = 0; i + 1 < threads.size(); ++i) threads[i].join();
  stop = true;
  threads.back().join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(a_->history(names[0], 1000)->size(), 40u);
  EXPECT_EQ(a_->list_hosts()->size(), size_t(kHosts));
}

TEST_F(AccountsTest, ConcurrentPasswordChecks) {
  basic();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        bool right = (i + t) % 2 == 0;
        auto r = a_->check_password("alice", right ? "correct horse" : "wrong horse");
        if (!r.ok() || r->has_value() != right) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Not a pass/fail test: prints the per-call cost of the hot checks.
TEST_F(AccountsTest, Timing) {
  basic();
  std::vector<std::string> names, tokens;
  for (int i = 0; i < 200; ++i) {
    names.push_back("h" + std::to_string(i) + ".example.test");
    tokens.push_back(add_host(names.back()));
  }
  using clk = std::chrono::steady_clock;
  constexpr int kN = 20000;
  auto t0 = clk::now();
  int good = 0;
  for (int i = 0; i < kN; ++i) good += *a_->check_token(names[size_t(i % 200)], tokens[size_t(i % 200)]);
  auto t1 = clk::now();
  EXPECT_EQ(good, kN);
  double token_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / kN;

  t0 = clk::now();
  ASSERT_TRUE(a_->check_password("alice", "correct horse")->has_value());
  t1 = clk::now();
  double full_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  t0 = clk::now();
  for (int i = 0; i < kN; ++i) (void)a_->check_password("alice", "correct horse");
  t1 = clk::now();
  double cached_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / kN;

  std::vector<HistoryEntry> batch;
  for (int i = 0; i < 1000; ++i)
    batch.push_back({i, names[size_t(i % 200)], "A", "192.0.2.1", "192.0.2.2", "192.0.2.2", "dyndns2"});
  t0 = clk::now();
  ASSERT_TRUE(a_->record(batch).ok());
  t1 = clk::now();
  double record_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  printf("check_token %.2f us | check_password full %.1f ms, cached %.2f us | "
         "record(1000 entries) %.1f ms\n",
         token_us, full_ms, cached_us, record_ms);
}

}  // namespace
}  // namespace ddns::accounts
