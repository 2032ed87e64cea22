// Transfer ACL: entry syntax, address prefixes, key requirements.
#include "xfr/acl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace ddns::xfr {
namespace {

sockaddr_storage v4(const char* a) {
  sockaddr_storage ss{};
  auto* s = reinterpret_cast<sockaddr_in*>(&ss);
  s->sin_family = AF_INET;
  ::inet_pton(AF_INET, a, &s->sin_addr);
  return ss;
}
sockaddr_storage v6(const char* a) {
  sockaddr_storage ss{};
  auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
  s->sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, a, &s->sin6_addr);
  return ss;
}
const sockaddr* sa(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr*>(&s); }
wire::Name N(const char* s) { return *wire::Name::from_text(s); }

TEST(XfrAcl, EmptyAllowsNobody) {
  Acl acl;
  auto a = v4("127.0.0.1");
  EXPECT_FALSE(acl.allows(sa(a), nullptr));
  auto k = N("k.");
  EXPECT_FALSE(acl.allows(sa(a), &k));
}

TEST(XfrAcl, AddressesAndPrefixes) {
  std::vector<std::string> e = {"192.0.2.1", "198.51.100.0/24", "2001:db8::/32"};
  auto acl = Acl::parse(e);
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  auto a = v4("192.0.2.1"), b = v4("192.0.2.2"), c = v4("198.51.100.77"), d = v6("2001:db8:1::5"),
       f = v6("2001:db9::1"), mapped = v6("::ffff:192.0.2.1");
  EXPECT_TRUE(acl->allows(sa(a), nullptr));
  EXPECT_FALSE(acl->allows(sa(b), nullptr));
  EXPECT_TRUE(acl->allows(sa(c), nullptr));
  EXPECT_TRUE(acl->allows(sa(d), nullptr));
  EXPECT_FALSE(acl->allows(sa(f), nullptr));
  EXPECT_TRUE(acl->allows(sa(mapped), nullptr));
  EXPECT_FALSE(acl->allows(nullptr, nullptr));
  auto k = N("any-key.");
  EXPECT_TRUE(acl->allows(sa(a), &k));  // a key does not hurt an address entry
}

TEST(XfrAcl, KeyEntries) {
  std::vector<std::string> e = {"key Xfr-Key", "10.0.0.0/8 key other.key.", "transfer-key"};
  auto acl = Acl::parse(e);
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  auto a = v4("192.0.2.1"), ten = v4("10.1.2.3");
  auto xk = N("xfr-key."), ok = N("other.key."), tk = N("TRANSFER-KEY."), bad = N("nope.");
  EXPECT_FALSE(acl->allows(sa(a), nullptr));
  EXPECT_TRUE(acl->allows(sa(a), &xk));
  EXPECT_TRUE(acl->allows(nullptr, &xk));
  EXPECT_TRUE(acl->allows(sa(a), &tk));
  EXPECT_FALSE(acl->allows(sa(a), &bad));
  EXPECT_FALSE(acl->allows(sa(a), &ok));  // right key, wrong address
  EXPECT_TRUE(acl->allows(sa(ten), &ok));
  EXPECT_FALSE(acl->allows(sa(ten), nullptr));  // right address, no key
  EXPECT_EQ(acl->entries()[1].to_text(), "10.0.0.0/8 key other.key.");
  EXPECT_EQ(acl->entries()[0].to_text(), "key xfr-key.");
}

TEST(XfrAcl, AnyAndErrors) {
  std::vector<std::string> any = {"any"};
  auto acl = Acl::parse(any);
  ASSERT_TRUE(acl.ok());
  auto a = v6("::1");
  EXPECT_TRUE(acl->allows(sa(a), nullptr));
  for (const char* bad : {"", "192.0.2.1/33", "2001:db8::/129", "192.0.2.1/x", "192.0.2.1 foo",
                          "192.0.2.300/24", "key ", "bad..name"}) {
    EXPECT_FALSE(AclEntry::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ddns::xfr
