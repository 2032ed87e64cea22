// Update-policy tests: parsing, first match, identities, match kinds,
// type lists and source prefixes.
#include "update/policy.h"

#include <gtest/gtest.h>

#include "wire/rrtype.h"

namespace ddns::update {
namespace {

using wire::Name;

Name N(const char* s) { return *Name::from_text(s); }
const Name kZone = N("example.test.");
constexpr uint16_t A = 1, NS = 2, SOA = 6, TXT = 16, AAAA = 28, MX = 15, RRSIG = 46, NSEC = 47;

Policy P(const char* text) {
  auto p = Policy::parse(text, kZone);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : Policy();
}

Address IP(const char* s) { return *Address::from_text(s); }

TEST(Policy, EmptyRefusesEverything) {
  Policy p;
  const Name k = N("key1.");
  EXPECT_FALSE(p.allowed(&k, nullptr, N("www.example.test."), A));
  EXPECT_TRUE(P("  # nothing\n\n").empty());
}

TEST(Policy, SubdomainWithTypes) {
  Policy p = P("grant key1 subdomain dyn.example.test A AAAA TXT");
  const Name k1 = N("key1."), k2 = N("KEY2.");
  EXPECT_TRUE(p.allowed(&k1, nullptr, N("h.dyn.example.test."), A));
  EXPECT_TRUE(p.allowed(&k1, nullptr, N("dyn.example.test."), TXT));  // the name itself
  EXPECT_TRUE(p.allowed(&k1, nullptr, N("a.b.DYN.example.test."), AAAA));
  EXPECT_FALSE(p.allowed(&k1, nullptr, N("h.dyn.example.test."), MX));
  EXPECT_FALSE(p.allowed(&k1, nullptr, N("www.example.test."), A));
  EXPECT_FALSE(p.allowed(&k1, nullptr, N("xdyn.example.test."), A));
  EXPECT_FALSE(p.allowed(&k2, nullptr, N("h.dyn.example.test."), A));
  EXPECT_FALSE(p.allowed(nullptr, nullptr, N("h.dyn.example.test."), A));
  // Key names compare without case; "@" is the zone.
  Policy at = P("grant Key1 subdomain @ A");
  EXPECT_TRUE(at.allowed(&k1, nullptr, N("h.dyn.example.test."), A));
  EXPECT_FALSE(at.allowed(&k1, nullptr, N("h.example.org."), A));
}

TEST(Policy, NameExact) {
  Policy p = P("grant key1 name host.example.test. A");
  const Name k = N("key1.");
  EXPECT_TRUE(p.allowed(&k, nullptr, N("HOST.example.test."), A));
  EXPECT_FALSE(p.allowed(&k, nullptr, N("a.host.example.test."), A));
}

TEST(Policy, Wildcard) {
  Policy p = P("grant key1 wildcard *.dyn.example.test A");
  const Name k = N("key1.");
  EXPECT_TRUE(p.allowed(&k, nullptr, N("h.dyn.example.test."), A));
  EXPECT_TRUE(p.allowed(&k, nullptr, N("a.b.dyn.example.test."), A));
  EXPECT_FALSE(p.allowed(&k, nullptr, N("dyn.example.test."), A));
  EXPECT_FALSE(Policy::parse("grant key1 wildcard dyn.example.test A", kZone).ok());
  // Wildcard identities: any key below keys.example.test.
  Policy ids = P("grant *.keys.example.test. zonesub TXT");
  const Name kk = N("host1.keys.example.test."), other = N("key1.");
  EXPECT_TRUE(ids.allowed(&kk, nullptr, N("x.example.test."), TXT));
  EXPECT_FALSE(ids.allowed(&other, nullptr, N("x.example.test."), TXT));
}

TEST(Policy, SelfAndSelfSub) {
  Policy p = P("grant * self A AAAA\ngrant * selfsub TXT");
  const Name k = N("host1.example.test.");
  EXPECT_TRUE(p.allowed(&k, nullptr, N("host1.example.test."), A));
  EXPECT_FALSE(p.allowed(&k, nullptr, N("host2.example.test."), A));
  EXPECT_FALSE(p.allowed(&k, nullptr, N("a.host1.example.test."), A));
  EXPECT_TRUE(p.allowed(&k, nullptr, N("a.host1.example.test."), TXT));
  EXPECT_FALSE(p.allowed(nullptr, nullptr, N("host1.example.test."), A));
  // BIND's form with a (ignored) name field.
  Policy b = P("grant * self * A");
  EXPECT_TRUE(b.allowed(&k, nullptr, N("host1.example.test."), A));
  EXPECT_FALSE(Policy::parse("grant any self A", kZone).ok());
}

TEST(Policy, DefaultAndAnyTypes) {
  const Name k = N("key1.");
  Policy def = P("grant key1 zonesub");
  EXPECT_TRUE(def.allowed(&k, nullptr, N("x.example.test."), A));
  EXPECT_TRUE(def.allowed(&k, nullptr, N("x.example.test."), MX));
  for (uint16_t t : {NS, SOA, RRSIG, NSEC}) EXPECT_FALSE(def.allowed(&k, nullptr, N("example.test."), t)) << t;
  Policy any = P("grant key1 zonesub ANY");
  EXPECT_TRUE(any.allowed(&k, nullptr, N("example.test."), NS));
  EXPECT_TRUE(any.allowed(&k, nullptr, N("example.test."), SOA));
  EXPECT_FALSE(any.allowed(&k, nullptr, N("example.test."), NSEC));
  EXPECT_FALSE(any.allowed(&k, nullptr, N("www.example.org."), A));  // not in the zone
}

TEST(Policy, FirstMatchWins) {
  Policy p = P(
      "deny key1 name admin.dyn.example.test.   # keep this one\n"
      "grant key1 subdomain dyn.example.test. ; deny * zonesub A");
  const Name k1 = N("key1."), k2 = N("key2.");
  EXPECT_FALSE(p.allowed(&k1, nullptr, N("admin.dyn.example.test."), A));
  EXPECT_TRUE(p.allowed(&k1, nullptr, N("h.dyn.example.test."), A));
  EXPECT_FALSE(p.allowed(&k2, nullptr, N("h.dyn.example.test."), A));
  EXPECT_EQ(p.rules().size(), 3u);
}

TEST(Policy, SourcePrefixes) {
  Policy p = P(
      "grant any zonesub A TXT from 192.0.2.0/24, 2001:db8::/32\n"
      "grant key1 zonesub AAAA from 198.51.100.7");
  const Name k = N("key1.");
  const Address in4 = IP("192.0.2.77"), out4 = IP("192.0.3.1"), in6 = IP("2001:db8:1::5"),
                out6 = IP("2001:db9::1"), mapped = IP("::ffff:192.0.2.9"), host = IP("198.51.100.7");
  const Name owner = N("h.example.test.");
  EXPECT_TRUE(p.allowed(nullptr, &in4, owner, A));
  EXPECT_TRUE(p.allowed(nullptr, &in6, owner, TXT));
  EXPECT_TRUE(p.allowed(nullptr, &mapped, owner, A));
  EXPECT_FALSE(p.allowed(nullptr, &out4, owner, A));
  EXPECT_FALSE(p.allowed(nullptr, &out6, owner, A));
  EXPECT_FALSE(p.allowed(nullptr, nullptr, owner, A));
  EXPECT_TRUE(p.allowed(&k, &host, owner, AAAA));
  EXPECT_FALSE(p.allowed(&k, &in4, owner, AAAA));
  EXPECT_FALSE(p.allowed(nullptr, &host, owner, AAAA));
}

TEST(Policy, BindMakesTheUpdateHook) {
  Policy p = P("grant key1 subdomain dyn.example.test A from 192.0.2.0/24");
  AllowedFn ok = p.bind(N("key1."), IP("192.0.2.1"));
  AllowedFn wrong_src = p.bind(N("key1."), IP("198.51.100.1"));
  AllowedFn unsigned_req = p.bind(std::nullopt, IP("192.0.2.1"));
  EXPECT_TRUE(ok(N("h.dyn.example.test."), A));
  EXPECT_FALSE(ok(N("h.dyn.example.test."), TXT));
  EXPECT_FALSE(wrong_src(N("h.dyn.example.test."), A));
  EXPECT_FALSE(unsigned_req(N("h.dyn.example.test."), A));
}

TEST(Policy, Prefixes) {
  auto p = Prefix::from_text("10.1.2.3/12");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->contains(IP("10.15.255.255")));
  EXPECT_FALSE(p->contains(IP("10.16.0.0")));
  EXPECT_TRUE(Prefix::from_text("0.0.0.0/0")->contains(IP("203.0.113.1")));
  EXPECT_FALSE(Prefix::from_text("0.0.0.0/0")->contains(IP("2001:db8::1")));
  EXPECT_TRUE(Prefix::from_text("::ffff:192.0.2.0/120")->contains(IP("192.0.2.200")));
  EXPECT_FALSE(Prefix::from_text("1.2.3.4/33"));
  EXPECT_FALSE(Prefix::from_text("2001:db8::/129"));
  EXPECT_FALSE(Prefix::from_text("1.2.3.4/"));
  EXPECT_FALSE(Prefix::from_text("example"));
}

TEST(Policy, ParseErrors) {
  for (const char* bad : {"allow key1 zonesub", "grant", "grant key1", "grant key1 nearby x A",
                          "grant key1 subdomain", "grant key1 zonesub BOGUS",
                          "grant key1 zonesub A from", "grant key1 zonesub A from 300.1.1.1"}) {
    auto r = Policy::parse(bad, kZone);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("line 1"), std::string::npos) << r.error().message;
    }
  }
  auto r = Policy::parse("grant key1 zonesub A\n\ngrant key1 zonesub NOPE", kZone);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 3"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace ddns::update
