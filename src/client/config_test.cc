// Tests for the client config read from YAML (yaml-cpp) or built by hand.
#include "client/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ddns::client {
namespace {

TEST(Config, FullFile) {
  auto c = parse_config(
      "cache: /tmp/ddns-client.cache\n"
      "interval: 5m\n"
      "force-interval: 25d\n"
      "timeout: 7s\n"
      "defaults:\n"
      "  server: https://ddns.example.test\n"
      "  password: TOKEN\n"
      "hosts:\n"
      "  - hostname: host1.example.test\n"
      "    ipv6: if:eth0\n"
      "  - hostname: host2.example.test.\n"
      "    protocol: rfc2136\n"
      "    server: 192.0.2.53:5353\n"
      "    tsig-key: /etc/ddns/host2.key\n"
      "    ttl: 2m\n"
      "    ipv4:\n"
      "      command: ip -4 addr show dev eth0\n"
      "      pattern: 'inet {ip}/'\n"
      "      allow-private: yes\n",
      "c.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->cache_file, "/tmp/ddns-client.cache");
  EXPECT_EQ(c->interval_s, 300u);
  EXPECT_EQ(c->force_interval_s, 25u * 86400);
  EXPECT_EQ(c->timeout_s, 7u);
  ASSERT_EQ(c->hosts.size(), 2u);
  const auto& h1 = c->hosts[0];
  EXPECT_EQ(h1.user, "host1.example.test");  // token login defaults to the hostname
  EXPECT_EQ(h1.ipv6.kind, AddressSource::Kind::Interface);
  EXPECT_EQ(h1.ipv6.value, "eth0");
  EXPECT_FALSE(h1.ipv4.enabled());  // only IPv6 asked for
  const auto& h2 = c->hosts[1];
  EXPECT_EQ(h2.hostname, "host2.example.test");
  EXPECT_EQ(h2.protocol, Protocol::Rfc2136);
  EXPECT_EQ(h2.zone, "example.test");
  EXPECT_EQ(h2.ttl, 120u);
  EXPECT_EQ(h2.ipv4.kind, AddressSource::Kind::Command);
  EXPECT_EQ(h2.ipv4.pattern, "inet {ip}/");
  EXPECT_TRUE(h2.ipv4.allow_private);
}

TEST(Config, DefaultSources) {
  auto c = parse_config("hosts:\n  - hostname: h.example.test\n    server: http://127.0.0.1:8080/x/nic\n"
                        "    password: p\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->hosts[0].ipv4.kind, AddressSource::Kind::Url);
  EXPECT_EQ(c->hosts[0].ipv4.value, "http://127.0.0.1:8080/checkip");
}

TEST(Config, ErrorsNameFileLineKey) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n    pasword: q\n",
       "c.yaml:5: hosts[0].pasword: unknown key"},
      {"intervall: 5\nhosts: []\n", "c.yaml:1: intervall: unknown key"},
      {"interval: 5x\nhosts: []\n", "c.yaml:1: interval: '5x' is not a duration"},
      {"hosts: []\n", "c.yaml:1: hosts: expected a list"},
      {"hosts:\n  - hostname: h\n    server: http://x\n    password: p\n", "not a fully qualified"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n", "c.yaml:2: hosts[0]: password: missing"},
      {"hosts:\n  - hostname: h.example.test\n    protocol: rfc2136\n    server: 192.0.2.1\n",
       "tsig-key: missing"},
      {"hosts:\n  - hostname: h.example.test\n    protocol: rfc2136\n    server: 192.0.2.1\n"
       "    tsig-key: k\n    zone: example.org\n", "not inside zone example.org"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
       "    ipv4: gopher:x\n", "c.yaml:5: hosts[0].ipv4: address source 'gopher:x'"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
       "    ipv4:\n      url: http://y\n      pattern: no placeholder\n",
       "c.yaml:7: hosts[0].ipv4.pattern: pattern must contain {ip}"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
       "  - hostname: h.example.test\n    server: http://x\n    password: q\n",
       "c.yaml:5: hosts[1]: duplicate of the host at line 2"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
       "    ipv6: addr:192.0.2.1\n", "is not an IPv6 address"},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.text, "c.yaml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
  }
}

TEST(Config, YamlSyntaxAndStructureErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"interval: 5m\ninterval: 6m\nhosts: []\n", "c.yaml:2: interval: duplicate key"},
      {"hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
       "    password: q\n",
       "c.yaml:5: hosts[0].password: duplicate key"},
      {"hosts: [broken\n", "c.yaml:"},
      {"cache: a: b\nhosts: []\n", "c.yaml:1: syntax error"},
      {"a:\n  b: 1\n   c: 2\n", "c.yaml:3: syntax error"},
      {"just text\n", "c.yaml:1: (top): expected a mapping"},
      {"", "c.yaml: empty configuration"},
      {"? [a, b]\n: 1\nhosts: []\n", "c.yaml:1: : expected a plain key"},
      {"cache: [a, b]\nhosts: []\n", "c.yaml:1: cache: expected a single value"},
      {"defaults: 3\nhosts: []\n", "c.yaml:1: defaults: expected a mapping"},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.text, "c.yaml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << c.text << " -> " << r.error().message;
  }
}

TEST(Config, YamlFeaturesAndDeepNesting) {
  // Quoted scalars, flow forms and comments are YAML as usual.
  auto c = parse_config(
      "# comment\n"
      "hosts: [{hostname: 'a.example.test', server: \"http://127.0.0.1:8080\",\n"
      "         password: 'it''s'}]  # trailing\n",
      "c.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->hosts[0].password, "it's");
  EXPECT_EQ(c->hosts[0].line, 2);
  // An explicit null source turns the family off.
  auto off = parse_config(
      "hosts:\n  - hostname: h.example.test\n    server: http://x\n    password: p\n"
      "    ipv4: addr:192.0.2.1\n    ipv6:\n",
      "c.yaml");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->hosts[0].ipv6.enabled());
  // Hostile nesting is an error, not a stack overflow.
  std::string deep(100000, '[');
  auto r = parse_config("hosts: " + deep + "\n", "c.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("c.yaml", 0), 0u) << r.error().message;
}

TEST(Config, ExampleFileParses) {
  std::ifstream in(std::string(DDNS_SOURCE_DIR) + "/etc/ddns-client.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // The password files it names exist only on a configured machine.
  for (size_t at; (at = text.find("password-file:")) != std::string::npos;)
    text.replace(at, text.find('\n', at) - at, "password: example");
  auto c = parse_config(text, "ddns-client.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->hosts.empty());
  auto missing = load_config("/nonexistent/ddns-client.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/ddns-client.yaml"), std::string::npos);
}

TEST(Config, HashFollowsRelevantFields) {
  HostConfig h;
  h.hostname = "h.example.test";
  h.server = "http://x";
  h.password = "p";
  ASSERT_TRUE(finish_host(h).ok());
  std::string base = h.config_hash();
  EXPECT_EQ(base, h.config_hash());
  HostConfig other = h;
  other.password = "q";
  EXPECT_NE(base, other.config_hash());
  other = h;
  other.ipv6.kind = AddressSource::Kind::Interface;
  EXPECT_NE(base, other.config_hash());
  EXPECT_NE(base, h.config_hash("key text"));
}

TEST(Config, Durations) {
  EXPECT_EQ(*parse_duration("90"), 90u);
  EXPECT_EQ(*parse_duration("5m"), 300u);
  EXPECT_EQ(*parse_duration("2h"), 7200u);
  EXPECT_EQ(*parse_duration("25d"), 25u * 86400);
  EXPECT_EQ(*parse_duration("1w"), 7u * 86400);
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("m").ok());
  EXPECT_FALSE(parse_duration("-1").ok());
  EXPECT_FALSE(parse_duration("99999999999d").ok());
}

}  // namespace
}  // namespace ddns::client
