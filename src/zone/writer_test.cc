// Zone writer: parse -> write -> parse keeps the record set, and BIND's and
// Knot's own checkers accept what we print.
#include "zone/writer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>

#include "wire/rdata.h"
#include "wire/rrtype.h"
#include "zone/check.h"
#include "zone/master.h"

namespace ddns::zone {
namespace {

using wire::Name;

Name N(const char* s) { return Name::from_text(s).value(); }
const Name kOrigin = N("example.test.");
const std::string kData = std::string(DDNS_SOURCE_DIR) + "/src/zone/testdata/";

using Key = std::tuple<std::string, uint16_t, uint16_t, uint32_t, wire::Bytes>;

std::vector<Key> keys(const std::vector<wire::RR>& rs) {
  std::vector<Key> k;
  for (const auto& r : rs)
    k.emplace_back(r.owner.lowercased().to_text(), r.type, r.rclass, r.ttl,
                   wire::rdata_canonical(r.type, r.rdata));
  std::sort(k.begin(), k.end());
  return k;
}

std::string all(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

ParseResult load(const std::string& path) {
  ParseResult p = parse_master_file(path, kOrigin);
  EXPECT_TRUE(p.ok()) << all(p.errors);
  return p;
}

// A zone with a delegation, glue, wildcard, odd owner names and many types.
std::string rich_zone() {
  return "$TTL 300\n"
         "@ SOA ns1 hostmaster 42 2h 1h 2w 300\n"
         "  NS ns1\n  NS ns2.example.net.\n  MX 10 mail\n  TXT \"v=spf1 -all\"\n"
         "  CAA 0 issue \"ca.example.net\"\n"
         "ns1 A 192.0.2.1\n  AAAA 2001:db8::1\n"
         "mail A 192.0.2.25\n"
         "www 60 A 192.0.2.80\n  A 192.0.2.81\n  AAAA 2001:db8::80\n"
         "ftp CNAME www\n"
         "*.dyn A 192.0.2.99\n"
         "_sip._tcp SRV 10 20 5060 www\n"
         "sub NS ns.sub\n  DS 12345 13 2 "
         "3F7A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8\n"
         "ns.sub A 192.0.2.53\n"
         "\\$dollar TXT \"owner starts with a dollar\"\n"
         "\\@at TXT \"owner is a literal at-sign\"\n"
         "semi\\;colon TXT \"x\"\n"
         "Mixed.CASE A 192.0.2.7\n"
         "sshfp SSHFP 1 1 0123456789abcdef0123456789abcdef01234567\n"
         "ptr PTR www\n"
         "hinfo HINFO \"PC\" \"Linux\"\n"
         "unk TYPE65280 \\# 3 010203\n";
}

TEST(Writer, RoundTripCornerZone) {
  ParseResult a = load(kData + "corner.zone");
  std::string text = master_text(kOrigin, a.records);
  ParseResult b = parse_master_text(text, "out.zone", kOrigin);
  ASSERT_TRUE(b.ok()) << all(b.errors) << text;
  EXPECT_TRUE(b.warnings.empty()) << all(b.warnings);
  EXPECT_EQ(keys(a.records), keys(b.records));
  // Printing again gives the same text: the form is canonical.
  EXPECT_EQ(master_text(kOrigin, b.records), text);
}

TEST(Writer, RoundTripRichZone) {
  ParseResult a = parse_master_text(rich_zone(), "rich.zone", kOrigin);
  ASSERT_TRUE(a.ok()) << all(a.errors);
  CheckResult c = check_zone(kOrigin, a);
  ASSERT_TRUE(c.ok()) << all(c.errors);
  std::string text = master_text(kOrigin, a.records);
  ParseResult b = parse_master_text(text, "out.zone", kOrigin);
  ASSERT_TRUE(b.ok()) << all(b.errors) << text;
  EXPECT_EQ(keys(a.records), keys(b.records));
}

TEST(Writer, LayoutSoaFirstCanonicalOrderRelativeOwners) {
  ParseResult a = parse_master_text(
      "$TTL 300\nzz A 192.0.2.1\nb.a A 192.0.2.2\na A 192.0.2.3\n"
      "@ NS ns\n@ SOA ns hm 1 2 3 4 5\n",
      "o.zone", kOrigin);
  ASSERT_TRUE(a.ok());
  WriteOptions o;
  o.header_comment = false;
  EXPECT_EQ(master_text(kOrigin, a.records, o),
            "$ORIGIN example.test.\n"
            "$TTL 300\n"
            "@\t300\tIN\tSOA\tns.example.test. hm.example.test. 1 2 3 4 5\n"
            "@\t300\tIN\tNS\tns.example.test.\n"
            "a\t300\tIN\tA\t192.0.2.3\n"
            "b.a\t300\tIN\tA\t192.0.2.2\n"
            "zz\t300\tIN\tA\t192.0.2.1\n");
  o.relative_owners = false;
  EXPECT_NE(master_text(kOrigin, a.records, o).find("\nzz.example.test.\t300"),
            std::string::npos);
}

TEST(Writer, WritesFileAtomically) {
  ParseResult a = load(kData + "corner.zone");
  char tmpl[] = "/tmp/ddns-writer-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto r = write_master_file(dir + "/z.zone", kOrigin, a.records);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ParseResult b = parse_master_file(dir + "/z.zone", kOrigin);
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(keys(a.records), keys(b.records));
  EXPECT_FALSE(write_master_file("/nonexistent/dir/z.zone", kOrigin, a.records).ok());
  std::filesystem::remove_all(dir);
}

// Runs a shell command, returns its exit status and output.
int sh(const std::string& cmd, std::string& output) {
  output.clear();
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool have(const char* tool) {
  std::string out;
  return sh(std::string("command -v ") + tool, out) == 0;
}

class PeerCheckers : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ddns-peer-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Our output for `records`, written where the peer tools can read it.
  std::string write(const std::vector<wire::RR>& records, const char* name) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << master_text(kOrigin, records);
    return path;
  }
  std::string dir_;
};

void expect_peers_accept(const std::string& path) {
  std::string out;
  if (!have("named-checkzone") && !have("kzonecheck"))
    GTEST_SKIP() << "neither named-checkzone nor kzonecheck installed";
  if (have("named-checkzone")) {
    // -k ignore: names like "sp ace" are legal DNS but not hostnames.
    int rc = sh("named-checkzone -i local -k ignore example.test " + path, out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("OK"), std::string::npos) << out;
  }
  if (have("kzonecheck")) {
    int rc = sh("kzonecheck -o example.test " + path, out);
    EXPECT_EQ(rc, 0) << out;
  }
}

TEST_F(PeerCheckers, AcceptCornerZoneOutput) {
  ParseResult a = load(kData + "corner.zone");
  expect_peers_accept(write(a.records, "corner.out"));
}

TEST_F(PeerCheckers, AcceptRichZoneOutput) {
  ParseResult a = parse_master_text(rich_zone(), "rich.zone", kOrigin);
  ASSERT_TRUE(a.ok()) << all(a.errors);
  expect_peers_accept(write(a.records, "rich.out"));
}

TEST_F(PeerCheckers, AcceptBundledExampleAndItsOutput) {
  std::string example = std::string(DDNS_SOURCE_DIR) + "/examples/example.test.zone";
  ParseResult a = load(example);
  expect_peers_accept(example);
  expect_peers_accept(write(a.records, "example.out"));
}

}  // namespace
}  // namespace ddns::zone
