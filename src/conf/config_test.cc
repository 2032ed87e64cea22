// Tests for the YAML config loader: defaults, values, and errors that name
// the file, line and key.
#include "conf/config.h"

#include <gtest/gtest.h>

namespace ddns::conf {
namespace {

TEST(Config, FullFile) {
  auto c = parse(R"(server:
  listen: ["127.0.0.1:5353", "[::1]:5353"]
  threads: 4
  identity: ns1.example.test
  version: "ddns test"
  chaos: false
  round-robin: no
  max-udp-size: 1400
  tcp-idle-timeout: 500ms
  tcp-max-clients: 20
  udp-coalesce: 250us
  data-dir: var
  log-level: debug
zones:
  - name: example.test
    file: zones/example.test.zone
)",
                 "ddnsd.yaml", "/etc/ddns");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server.listen.size(), 2u);
  EXPECT_EQ(c->server.listen[1], "[::1]:5353");
  EXPECT_EQ(c->server.threads, 4u);
  EXPECT_EQ(c->server.identity, "ns1.example.test");
  EXPECT_EQ(c->server.version, "ddns test");
  EXPECT_FALSE(c->server.chaos);
  EXPECT_FALSE(c->server.round_robin);
  EXPECT_EQ(c->server.max_udp_size, 1400);
  EXPECT_EQ(c->server.tcp_idle_timeout_ms, 500u);
  EXPECT_EQ(c->server.tcp_max_clients, 20u);
  EXPECT_EQ(c->server.data_dir, "/etc/ddns/var");
  EXPECT_EQ(c->server.log_level, "debug");
  ASSERT_EQ(c->zones.size(), 1u);
  EXPECT_EQ(c->zones[0].name, "example.test");
  EXPECT_EQ(c->zones[0].file, "/etc/ddns/zones/example.test.zone");
  EXPECT_EQ(c->zones[0].where, "ddnsd.yaml:15");
  EXPECT_EQ(c->server.udp_coalesce_us, 250u);
}

TEST(Config, Defaults) {
  auto c = parse("", "x.yaml", "/d");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.threads, 0u);
  EXPECT_EQ(c->server.tcp_idle_timeout_ms, 10000u);
  EXPECT_EQ(c->server.udp_coalesce_us, 100u);
  EXPECT_TRUE(c->zones.empty());
  EXPECT_EQ(c->server.data_dir, "/d");
}

TEST(Config, AbsolutePathsKept) {
  auto c = parse("zones:\n  - {name: example.org, file: /z/example.org.zone}\n", "x.yaml", "/d");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->zones[0].file, "/z/example.org.zone");
}

// Per zone, strict: refuses the file on any load warning (issue 19).
TEST(Config, ZoneStrict) {
  auto c = parse("zones:\n  - {name: a.test, file: a.zone, strict: true}\n"
                 "  - {name: b.test, file: b.zone}\n",
                 "x.yaml", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->zones[0].strict);
  EXPECT_FALSE(c->zones[1].strict);
  auto bad = parse("zones:\n  - {name: a.test, file: a.zone, strict: sometimes}\n", "x.yaml", "/d");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "x.yaml:2: zones[0].strict: must be true or false");
}

void expect_error(const char* text, const std::string& want) {
  auto c = parse(text, "ddnsd.yaml", "/d");
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.error().message, want);
}

TEST(Config, ReplicationAndHttp) {
  auto c = parse(
      "zones:\n"
      "  - name: example.test\n"
      "    file: example.test.zone\n"
      "    allow-transfer: [127.0.0.1, \"2001:db8::/32\", key xfr.key]\n"
      "    notify: [\"127.0.0.1:5300\", \"[::1]:5301@xfr.key\"]\n"
      "    ddns: yes\n"
      "    notify-ns: true\n"
      "    notify-ns-port: 5353\n"
      "  - name: sec.test\n"
      "    primaries: \"192.0.2.1:53@k\"\n"
      "http:\n"
      "  listen: 127.0.0.1:8080\n"
      "  trusted-proxies: [10.0.0.0/8]\n"
      "  abuse-block: 1h\n"
      "server:\n"
      "  journal-max-age: 7d\n",
      "ddnsd.yaml", "/etc/ddns");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->zones.size(), 2u);
  EXPECT_EQ(c->zones[0].allow_transfer.size(), 3u);
  EXPECT_EQ(c->zones[0].notify[1], "[::1]:5301@xfr.key");
  EXPECT_TRUE(c->zones[0].ddns);
  EXPECT_TRUE(c->zones[0].notify_ns);
  EXPECT_EQ(c->zones[0].notify_ns_port, 5353);
  EXPECT_FALSE(c->zones[1].notify_ns);
  EXPECT_TRUE(c->zones[1].file.empty());
  EXPECT_EQ(c->zones[1].primaries[0], "192.0.2.1:53@k");
  EXPECT_EQ(c->http.listen[0], "127.0.0.1:8080");
  EXPECT_EQ(c->http.abuse_block_s, 3600u);
  EXPECT_EQ(c->server.journal_max_age_s, 7u * 86400);
}

TEST(Config, ReplicationErrors) {
  expect_error("zones:\n  - {name: a.test, file: a.zone, allow-transfer: [example.org]}\n",
               "ddnsd.yaml:2: zones[0].allow-transfer: 'example.org': expected ADDR, ADDR/LEN or 'key NAME'");
  expect_error("zones:\n  - {name: a.test, file: a.zone, notify: [\"ns1.example.org:53\"]}\n",
               "ddnsd.yaml:2: zones[0].notify: 'ns1.example.org:53': expected an IP address, not a host name");
  expect_error("zones:\n  - {name: a.test, file: a.zone, notify-ns-port: 0}\n",
               "ddnsd.yaml:2: zones[0].notify-ns-port: must be a number between 1 and 65535");
  expect_error("zones:\n  - {name: a.test, primaries: [\"192.0.2.1:53\"], ddns: yes}\n",
               "ddnsd.yaml:2: zones[0].primaries: a secondary zone takes no local changes (drop update-policy / ddns)");
  expect_error("http:\n  tls-cert: a.pem\n",
               "ddnsd.yaml:2: http.tls-key: tls-cert and tls-key must be given together");
  expect_error("http:\n  trusted-proxies: [10.0.0.0/33]\n",
               "ddnsd.yaml:2: http.trusted-proxies: '10.0.0.0/33': prefix length must be 0-32");
}

TEST(Config, Metrics) {
  auto d = parse("", "ddnsd.yaml", "/d");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->metrics.enable);
  EXPECT_EQ(d->metrics.allow, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  auto c = parse("metrics:\n  enable: yes\n  allow: []\n  listen: \"127.0.0.1:9153\"\n"
                 "  dhcp-keys: [kea-key]\n",
                 "ddnsd.yaml", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->metrics.allow.empty());
  EXPECT_EQ(c->metrics.listen, (std::vector<std::string>{"127.0.0.1:9153"}));
  EXPECT_EQ(c->metrics.dhcp_keys, (std::vector<std::string>{"kea-key"}));
  expect_error("metrics:\n  enable: maybe\n", "ddnsd.yaml:2: metrics.enable: must be true or false");
  expect_error("metrics:\n  allow: [10.0.0.0/33]\n",
               "ddnsd.yaml:2: metrics.allow: '10.0.0.0/33': prefix length must be 0-32");
  expect_error("metrics:\n  listen: [nowhere]\n", "ddnsd.yaml:2: metrics.listen: 'nowhere': expected host:port");
  expect_error("metrics:\n  colour: red\n", "ddnsd.yaml:2: metrics.colour: unknown key");
}

// Durations: each key's units, a bare number's unit, and the bounds.
TEST(Config, DurationUnits) {
  auto idle = [](const char* v) {
    auto c = parse(std::string("server:\n  tcp-idle-timeout: ") + v + "\n", "d.yaml", "/d");
    return c.ok() ? int64_t(c->server.tcp_idle_timeout_ms) : -1;
  };
  EXPECT_EQ(idle("10"), 10'000);  // bare = seconds
  EXPECT_EQ(idle("10s"), 10'000);
  EXPECT_EQ(idle("250ms"), 250);
  EXPECT_EQ(idle("2m"), 120'000);
  EXPECT_EQ(idle("99ms"), -1);  // under 100 ms
  EXPECT_EQ(idle("61m"), -1);   // over 1 h
  EXPECT_EQ(idle("5h"), -1);    // not a unit of this key
  auto age = [](const char* v) {
    auto c = parse(std::string("server:\n  journal-max-age: ") + v + "\n", "d.yaml", "/d");
    return c.ok() ? int64_t(c->server.journal_max_age_s) : -1;
  };
  EXPECT_EQ(age("0"), 0);
  EXPECT_EQ(age("90"), 90);
  EXPECT_EQ(age("15m"), 900);
  EXPECT_EQ(age("12h"), 43'200);
  EXPECT_EQ(age("7d"), 604'800);
  EXPECT_EQ(age("500ms"), -1);
  EXPECT_EQ(age("36501d"), -1);  // over 100 years
  EXPECT_EQ(age("1x"), -1);
}

TEST(Config, Errors) {
  expect_error("server:\n  listen: [\"127.0.0.1:53\"]\n  threads: 0\n",
               "ddnsd.yaml:3: server.threads: must be a number between 1 and 64");
  expect_error("server:\n  threads: lots\n",
               "ddnsd.yaml:2: server.threads: must be a number between 1 and 64");
  expect_error("server:\n  thread: 2\n", "ddnsd.yaml:2: server.thread: unknown key");
  expect_error("acl:\n  - name: k\n", "ddnsd.yaml:1: acl: unknown key");
  for (const char* bad : {"100", "11ms", "10001us", "-1us", "fast", "\"\""})
    expect_error((std::string("server:\n  udp-coalesce: ") + bad + "\n").c_str(),
                 "ddnsd.yaml:2: server.udp-coalesce: must be 0 (off) or a duration up to 10ms "
                 "(e.g. 100us, 1ms)");
  expect_error("keys:\n  - name: k\n", "ddnsd.yaml:2: keys: must be a single value");
  expect_error("zones:\n  - {name: a.test, file: a.zone, serial-policy: weekly}\n",
               "ddnsd.yaml:2: zones[0].serial-policy: must be increment, unixtime or dateserial");
  expect_error("server:\n  chaos: maybe\n", "ddnsd.yaml:2: server.chaos: must be true or false");
  expect_error("server:\n  listen: 127.0.0.1\n",
               "ddnsd.yaml:2: server.listen: '127.0.0.1': expected host:port");
  expect_error("server:\n  listen: [\"::1:53\"]\n",
               "ddnsd.yaml:2: server.listen: '::1:53': IPv6 addresses are written [addr]:port");
  expect_error("server:\n  max-udp-size: 100\n",
               "ddnsd.yaml:2: server.max-udp-size: must be a number between 512 and 65535");
  expect_error("server:\n  log-level: loud\n",
               "ddnsd.yaml:2: server.log-level: must be one of trace, debug, info, warn, error, "
               "critical, off");
  expect_error("zones:\n  - name: example.test\n", "ddnsd.yaml:2: zones[0].file: is required (unless the zone has primaries: a secondary)");
  expect_error("zones:\n  - name: a.test\n    file: a\n    primary: x\n",
               "ddnsd.yaml:4: zones[0].primary: unknown key");
  expect_error("zones:\n  - {name: a.test, file: a}\n  - {name: A.test., file: b}\n",
               "ddnsd.yaml:3: zones[1].name: zone 'A.test.' is configured twice");
  auto syn = parse("server: [1, 2\n", "ddnsd.yaml", "/d");
  ASSERT_FALSE(syn.ok());
  EXPECT_EQ(syn.error().message.rfind("ddnsd.yaml:2: syntax error: ", 0), 0u);
}

TEST(Config, Rrl) {
  auto d = parse("", "ddnsd.yaml", "/d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rrl.responses_per_second, 0u);  // off, as in BIND and Knot
  EXPECT_EQ(d->rrl.slip, 2u);
  EXPECT_EQ(d->rrl.window_s, 15u);
  EXPECT_EQ(d->rrl.ipv4_prefix_length, 24u);
  EXPECT_EQ(d->rrl.ipv6_prefix_length, 56u);
  auto c = parse(R"(rrl:
  responses-per-second: 20
  slip: 3
  window: 5s
  ipv4-prefix-length: 32
  ipv6-prefix-length: 64
  exempt-clients: [192.0.2.0/24, "2001:db8::1"]
  log-only: yes
  table-size: 4096
)",
                 "ddnsd.yaml", "/d");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rrl.responses_per_second, 20u);
  EXPECT_EQ(c->rrl.slip, 3u);
  EXPECT_EQ(c->rrl.window_s, 5u);
  EXPECT_EQ(c->rrl.ipv4_prefix_length, 32u);
  EXPECT_EQ(c->rrl.ipv6_prefix_length, 64u);
  EXPECT_EQ(c->rrl.exempt_clients.size(), 2u);
  EXPECT_TRUE(c->rrl.log_only);
  EXPECT_EQ(c->rrl.table_size, 4096u);
  expect_error("rrl:\n  responses-per-second: 10001\n",
               "ddnsd.yaml:2: rrl.responses-per-second: must be a number between 0 and 10000");
  expect_error("rrl:\n  slip: 11\n", "ddnsd.yaml:2: rrl.slip: must be a number between 0 and 10");
  expect_error("rrl:\n  window: 0\n",
               "ddnsd.yaml:2: rrl.window: must be a duration between 1s and 3600s");
  expect_error("rrl:\n  ipv4-prefix-length: 33\n",
               "ddnsd.yaml:2: rrl.ipv4-prefix-length: must be a number between 0 and 32");
  expect_error("rrl:\n  exempt-clients: [192.0.2.0/40]\n",
               "ddnsd.yaml:2: rrl.exempt-clients: '192.0.2.0/40': prefix length must be 0-32");
  expect_error("rrl:\n  rate: 5\n", "ddnsd.yaml:2: rrl.rate: unknown key");
  expect_error("rrl: 5\n", "ddnsd.yaml:1: rrl: must be a mapping of keys");
}

TEST(Config, UdpCoalesce) {
  EXPECT_EQ(*parse_coalesce("0"), 0u);
  EXPECT_EQ(*parse_coalesce("0us"), 0u);
  EXPECT_EQ(*parse_coalesce("100us"), 100u);
  EXPECT_EQ(*parse_coalesce("2ms"), 2000u);
  EXPECT_EQ(*parse_coalesce("10ms"), 10000u);
  EXPECT_FALSE(parse_coalesce("").ok());
  EXPECT_FALSE(parse_coalesce("1s").ok());
  EXPECT_FALSE(parse_coalesce("5").ok());
}

TEST(Config, ListenSyntax) {
  EXPECT_TRUE(check_listen("127.0.0.1:0").ok());
  EXPECT_TRUE(check_listen("[::1]:5353").ok());
  EXPECT_FALSE(check_listen("[::1]5353").ok());
  EXPECT_FALSE(check_listen("127.0.0.1:70000").ok());
  EXPECT_FALSE(check_listen(":53").ok());
}

TEST(Config, MissingFile) {
  auto c = load_file("/nonexistent/ddnsd.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("/nonexistent/ddnsd.yaml: cannot open"), std::string::npos);
}

}  // namespace
TEST(Config, UpdateKeysAndPolicy) {
  auto c = parse(
      "keys: [k1.key, /etc/k2.key]\n"
      "zones:\n"
      "  - name: example.test\n"
      "    file: example.test.zone\n"
      "    update-policy: ['grant k1 subdomain example.test ANY']\n"
      "    serial-policy: unixtime\n",
      "ddnsd.yaml", "/etc/ddns");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->keys.size(), 2u);
  EXPECT_EQ(c->keys[0], "/etc/ddns/k1.key");
  EXPECT_EQ(c->keys[1], "/etc/k2.key");
  ASSERT_EQ(c->zones[0].update_policy.size(), 1u);
  EXPECT_EQ(c->zones[0].serial_policy, "unixtime");
}

}  // namespace ddns::conf
