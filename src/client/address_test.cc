// Tests for address values, scopes, checkip parsing and commands.
#include "client/address.h"

#include <gtest/gtest.h>

namespace ddns::client {
namespace {

std::string ex(std::string_view text, Family f, std::string_view pattern = {}) {
  auto a = extract_address(text, f, pattern);
  return a ? a->text() : "-";
}

TEST(Address, ParseAndText) {
  EXPECT_EQ(IpAddr::parse("192.0.2.1")->text(), "192.0.2.1");
  EXPECT_EQ(IpAddr::parse("2001:DB8:0::1")->text(), "2001:db8::1");
  EXPECT_FALSE(IpAddr::parse("192.0.2.256"));
  EXPECT_FALSE(IpAddr::parse("1.2.3"));
  EXPECT_FALSE(IpAddr::parse(""));
  EXPECT_FALSE(IpAddr::parse("2001:db8::1::2"));
  EXPECT_TRUE(*IpAddr::parse("2001:db8::1") == *IpAddr::parse("2001:0db8::0001"));
  EXPECT_FALSE(*IpAddr::parse("192.0.2.1") == *IpAddr::parse("192.0.2.2"));
}

TEST(Address, Scopes) {
  struct {
    const char* a;
    Scope s;
  } cases[] = {
      {"192.0.2.1", Scope::Global},     {"198.51.100.7", Scope::Global},
      {"10.1.2.3", Scope::Private},     {"172.16.0.1", Scope::Private},
      {"172.32.0.1", Scope::Global},    {"192.168.1.1", Scope::Private},
      {"100.64.0.1", Scope::Private},   {"100.128.0.1", Scope::Global},
      {"127.0.0.1", Scope::Unusable},   {"169.254.1.1", Scope::Unusable},
      {"0.0.0.0", Scope::Unusable},     {"224.0.0.1", Scope::Unusable},
      {"2001:db8::1", Scope::Global},   {"fd00::1", Scope::Private},
      {"fe80::1", Scope::Unusable},     {"::1", Scope::Unusable},
      {"::", Scope::Unusable},          {"ff02::1", Scope::Unusable},
      {"::ffff:192.0.2.1", Scope::Unusable},
  };
  for (const auto& c : cases) EXPECT_EQ(scope_of(*IpAddr::parse(c.a)), c.s) << c.a;
}

TEST(Address, ExtractWithoutPattern) {
  const char* page =
      "<html><head><title>Current IP Check</title></head><body>Current IP Address: 192.0.2.1"
      "</body></html>";
  EXPECT_EQ(ex(page, Family::V4), "192.0.2.1");
  EXPECT_EQ(ex(page, Family::V6), "-");
  EXPECT_EQ(ex("2001:db8::7\n", Family::V6), "2001:db8::7");
  EXPECT_EQ(ex("IP:2001:db8::7", Family::V6), "2001:db8::7");
  EXPECT_EQ(ex("your address is 192.0.2.9.", Family::V4), "192.0.2.9");
  EXPECT_EQ(ex("version 1.2.3 then 192.0.2.4", Family::V4), "192.0.2.4");
  EXPECT_EQ(ex("999.1.1.1 192.0.2.5", Family::V4), "192.0.2.5");
  EXPECT_EQ(ex("", Family::V4), "-");
  EXPECT_EQ(ex(std::string(10000, '1'), Family::V4), "-");
  EXPECT_EQ(ex("{\"ip\":\"192.0.2.77\"}", Family::V4), "192.0.2.77");
}

TEST(Address, ExtractWithPattern) {
  const char* out =
      "2: eth0: <UP>\n    inet 10.0.0.5/24 scope global eth0\n    inet 192.0.2.33/24 scope global\n";
  EXPECT_EQ(ex(out, Family::V4, "inet {ip}/"), "10.0.0.5");
  EXPECT_EQ(ex(out, Family::V4, "inet {ip}/24 scope global\n"), "192.0.2.33");
  EXPECT_EQ(ex("WAN: 192.0.2.1 LAN: 10.0.0.1", Family::V4, "lan: {ip}"), "10.0.0.1");
  EXPECT_EQ(ex("WAN: x LAN: 10.0.0.1", Family::V4, "wan: {ip}"), "-");
  EXPECT_EQ(ex("Address: 192.0.2.8.", Family::V4, "Address: {ip}."), "192.0.2.8");
  EXPECT_EQ(ex("192.0.2.3 trailing", Family::V4, "{ip} trailing"), "192.0.2.3");
  EXPECT_TRUE(check_pattern("").ok());
  EXPECT_TRUE(check_pattern("a {ip} b").ok());
  EXPECT_FALSE(check_pattern("a").ok());
  EXPECT_FALSE(check_pattern("{ip}{ip}").ok());
}

TEST(Address, InterfacesSkipLoopback) {
  auto any = interface_addresses(Family::V4, {});
  ASSERT_TRUE(any.ok()) << any.error().message;
  for (const auto& a : *any) EXPECT_EQ(scope_of(a), Scope::Global) << a.text();
  auto lo = interface_addresses(Family::V4, {"lo", true, true});
  ASSERT_TRUE(lo.ok());
  EXPECT_TRUE(lo->empty());  // 127.0.0.1 is never published
  auto none = interface_addresses(Family::V4, {"no-such-if0", false, false});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no interface"), std::string::npos);
}

TEST(Address, Commands) {
  auto r = run_command("echo 192.0.2.44", 5000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(ex(*r, Family::V4), "192.0.2.44");
  auto fail = run_command("exit 3", 5000);
  ASSERT_FALSE(fail.ok());
  EXPECT_NE(fail.error().message.find("status 3"), std::string::npos);
  auto slow = run_command("sleep 5", 200);
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().message.find("timed out"), std::string::npos);
  auto big = run_command("head -c 200000 /dev/zero", 5000, 1000);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 1000u);
}

}  // namespace
}  // namespace ddns::client
