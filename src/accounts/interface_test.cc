// Accounts used through the interface only, as ddnsd and ddnsctl do: two
// handles from the factory on one database (two processes in production)
// see each other's changes at the next call.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <type_traits>

#include <gtest/gtest.h>

#include "accounts/accounts.h"

namespace ddns::accounts {
namespace {

// Callers hold an Accounts; a backend is chosen by the factory alone.
static_assert(std::is_abstract_v<Accounts>);
static_assert(std::has_virtual_destructor_v<Accounts>);

class AccountsInterface : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ddns-accounts-if-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Accounts> open() {
    auto a = Accounts::open(Accounts::default_path(dir_));
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a ? std::move(*a) : nullptr;
  }

  std::string dir_;
};

TEST_F(AccountsInterface, TwoHandlesOnOneDatabaseSeeEachOthersChanges) {
  auto daemon = open();
  auto ctl = open();
  ASSERT_TRUE(daemon && ctl);
  Accounts& d = *daemon;
  Accounts& c = *ctl;

  ASSERT_TRUE(d.add_zone("dyn.example.test").ok());
  ASSERT_TRUE(c.add_user("Alice", "correct horse").ok());
  auto nh = c.add_host("Home.dyn.example.test.", "alice");
  ASSERT_TRUE(nh.ok()) << nh.error().message;
  EXPECT_EQ(nh->host.name, "home.dyn.example.test");
  EXPECT_EQ(nh->host.zone, "dyn.example.test");

  // The daemon's handle checks the token the other handle issued, then
  // answers from its cache.
  EXPECT_TRUE(*d.check_token("home.dyn.example.test", nh->token));
  EXPECT_EQ(d.check_token_cached("home.dyn.example.test", nh->token), std::optional<bool>(true));

  // A rotation by the other handle holds for the daemon's next check.
  auto fresh = c.rotate_token("home.dyn.example.test");
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(*d.check_token("home.dyn.example.test", nh->token));
  EXPECT_TRUE(*d.check_token("home.dyn.example.test", *fresh));

  // A deletion there queues the DNS removal the daemon performs.
  ASSERT_TRUE(c.delete_host("home.dyn.example.test").ok());
  auto pending = d.pending_removals();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].host, "home.dyn.example.test");
  EXPECT_EQ(*d.host_zone("home.dyn.example.test"), std::nullopt);
  ASSERT_TRUE(d.finish_removal((*pending)[0].id).ok());
  EXPECT_TRUE(c.pending_removals()->empty());
}

TEST_F(AccountsInterface, BadInputIsAnErrorAndChangesNothing) {
  auto a = open();
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->add_user("no spaces", "long enough").ok());
  EXPECT_FALSE(a->add_user("bob", "short").ok());
  EXPECT_FALSE(a->add_host("x.example.test", "bob").ok());
  EXPECT_FALSE(a->add_zone("bad..name").ok());
  EXPECT_TRUE(a->list_users()->empty());
  EXPECT_TRUE(a->list_zones()->empty());
  EXPECT_EQ(normalize_user("Bob@Example.TEST"), "bob@example.test");
  EXPECT_EQ(normalize_user("no spaces"), "");
}

}  // namespace
}  // namespace ddns::accounts
