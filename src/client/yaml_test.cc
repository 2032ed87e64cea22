// Tests for the YAML subset reader and the client config built on it.
#include "client/yaml.h"

#include <gtest/gtest.h>

#include "client/config.h"

namespace ddns::client {
namespace {

TEST(Yaml, MappingsSequencesScalars) {
  auto r = yaml::parse(
      "# top comment\n"
      "cache: /var/lib/x  # trailing comment\n"
      "hosts:\n"
      "  - hostname: a.example.test\n"
      "    server: \"http://127.0.0.1:8080\"\n"
      "    ipv4:\n"
      "      url: http://192.0.2.1/checkip#frag\n"
      "      pattern: 'Address: {ip}'\n"
      "  - b\n"
      "list:\n"
      "- x\n"
      "- [1, \"two, 2\", 'it''s']\n"
      "empty: {}\n"
      "nothing:\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& n = *r;
  ASSERT_TRUE(n.is_map());
  EXPECT_EQ(n.find("cache")->scalar, "/var/lib/x");
  const auto* hosts = n.find("hosts");
  ASSERT_TRUE(hosts && hosts->is_seq());
  ASSERT_EQ(hosts->seq.size(), 2u);
  EXPECT_EQ(hosts->seq[0].find("hostname")->scalar, "a.example.test");
  EXPECT_EQ(hosts->seq[0].find("server")->scalar, "http://127.0.0.1:8080");
  EXPECT_EQ(hosts->seq[0].find("ipv4")->find("url")->scalar, "http://192.0.2.1/checkip#frag");
  EXPECT_EQ(hosts->seq[0].find("ipv4")->find("pattern")->scalar, "Address: {ip}");
  EXPECT_EQ(hosts->seq[0].find("ipv4")->line, 7);
  EXPECT_EQ(hosts->seq[1].scalar, "b");
  const auto* list = n.find("list");
  ASSERT_TRUE(list && list->is_seq());
  ASSERT_EQ(list->seq.size(), 2u);
  ASSERT_TRUE(list->seq[1].is_seq());
  EXPECT_EQ(list->seq[1].seq[1].scalar, "two, 2");
  EXPECT_EQ(list->seq[1].seq[2].scalar, "it's");
  EXPECT_TRUE(n.find("empty")->is_map());
  EXPECT_TRUE(n.find("nothing")->is_null());
}

TEST(Yaml, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"a: 1\na: 2\n", "f.yaml:2: duplicate key 'a'"},
      {"a:\n  b: 1\n   c: 2\n", "f.yaml:3: unexpected indentation"},
      {"a: \"open\n", "f.yaml:1: unterminated quoted string"},
      {"a: &x 1\n", "f.yaml:1: anchors"},
      {"a: |\n  text\n", "f.yaml:1: block scalars"},
      {"a:\n\tb: 1\n", "f.yaml:2: tab in indentation"},
      {"just text\n", "f.yaml:1: expected 'key: value'"},
      {"a: [1, 2\n", "f.yaml:1: unterminated '['"},
      {"a: {b: 1}\n", "f.yaml:1: flow mappings"},
  };
  for (const auto& c : cases) {
    auto r = yaml::parse(c.text, "f.yaml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
  }
}

TEST(Yaml, DeepNestingIsRefused) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += std::string(size_t(i) * 2, ' ') + "k:\n";
  text += std::string(400, ' ') + "k: v\n";
  auto r = yaml::parse(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too deep"), std::string::npos);
}

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
