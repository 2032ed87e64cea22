// Zone semantic checks: one case per refusal and per warning, with the
// FILE:LINE the operator sees, plus run_check_zone's output format.
#include "zone/check.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "wire/rrtype.h"

namespace ddns::zone {
namespace {

using wire::Name;

Name N(const char* s) { return Name::from_text(s).value(); }
const Name kOrigin = N("example.test.");
const std::string kData = std::string(DDNS_SOURCE_DIR) + "/src/zone/testdata/";

const char* kHead =
    "$TTL 1h\n"
    "@ SOA ns1 hostmaster 7 2h 1h 2w 300\n"
    "  NS ns1\n"
    "ns1 A 192.0.2.1\n";  // lines 1-4; test lines start at 5

struct Checked {
  ParseResult parsed;
  CheckResult check;
};

Checked run(const std::string& body, bool head = true, bool strict = false) {
  Checked c;
  c.parsed = parse_master_text((head ? kHead : "") + body, "c.zone", kOrigin);
  EXPECT_TRUE(c.parsed.ok()) << (c.parsed.errors.empty() ? "" : c.parsed.errors[0].to_string());
  CheckOptions opts;
  opts.strict = strict;
  c.check = check_zone(kOrigin, c.parsed, opts);
  return c;
}

std::string all(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

TEST(Check, GoodZone) {
  Checked c = run("www A 192.0.2.10\n");
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
  EXPECT_TRUE(c.check.warnings.empty()) << all(c.check.warnings);
  EXPECT_EQ(c.check.serial, 7u);
}

TEST(Check, NoSoa) {
  Checked c = run("$TTL 1h\n@ NS ns1\nns1 A 192.0.2.1\n", false);
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(), "c.zone: no SOA record at the zone apex");
}

TEST(Check, TwoSoasAtApex) {
  Checked c = run("@ SOA ns1 other 8 2h 1h 2w 300\n");
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(), "c.zone:2: multiple SOA records at the zone apex");
}

TEST(Check, SoaNotAtApex) {
  Checked c = run("www SOA ns1 hostmaster 1 2 3 4 5\n");
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(),
            "c.zone:5: SOA record not at zone apex (www.example.test.)");
}

TEST(Check, NoNsAtApex) {
  Checked c = run("$TTL 1h\n@ SOA ns1 hostmaster 7 2h 1h 2w 300\n", false);
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(), "c.zone: no NS records at the zone apex");
}

TEST(Check, CnameAndOtherData) {
  Checked c = run("www CNAME ns1\nwww A 192.0.2.1\n");
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(),
            "c.zone:5: CNAME and other data at www.example.test. (RFC 1034 §3.6.2)");
}

TEST(Check, CnameBesideNsecIsAllowed) {
  Checked c = run("www CNAME ns1\n  NSEC ns1 CNAME RRSIG NSEC\n");
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
}

TEST(Check, CnameAtApex) {
  Checked c = run("@ CNAME www\n");
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(),
            "c.zone:5: CNAME and other data at example.test. (RFC 1034 §3.6.2)");
}

TEST(Check, TwoCnames) {
  Checked c = run("www CNAME a\nwww CNAME b\n");
  ASSERT_GE(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(), "c.zone:5: multiple CNAME records at www.example.test.");
}

// Like BIND ("ignoring out-of-zone data") and Knot: dropped, zone loads.
TEST(Check, OutOfZoneDataIsDroppedWithAWarning) {
  Checked c = run("www A 192.0.2.7\nwww.example.org. A 192.0.2.1\nwww.example.org. TXT x\n");
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
  ASSERT_EQ(c.check.warnings.size(), 2u) << all(c.check.warnings);
  EXPECT_EQ(c.check.warnings[0].to_string(),
            "c.zone:6: ignoring out-of-zone data: www.example.org. is not in example.test.");
  EXPECT_EQ(c.check.warnings[1].to_string(),
            "c.zone:7: ignoring out-of-zone data: www.example.org. is not in example.test.");
  EXPECT_EQ(c.check.out_of_zone_ignored, 2u);
  ASSERT_EQ(c.parsed.records.size(), 4u);
  ASSERT_EQ(c.parsed.where.size(), 4u);
  for (const auto& rr : c.parsed.records) EXPECT_TRUE(rr.owner.is_subdomain_of(kOrigin));
  EXPECT_EQ(c.parsed.where[3].line, 5u);
}

TEST(Check, StrictTurnsWarningsIntoErrors) {
  Checked c = run("www.example.org. A 192.0.2.1\nsub NS ns9\n", true, true);
  EXPECT_FALSE(c.check.ok());
  EXPECT_TRUE(c.check.warnings.empty()) << all(c.check.warnings);
  EXPECT_EQ(all(c.check.errors),
            "c.zone:5: ignoring out-of-zone data: www.example.org. is not in example.test.\n"
            "c.zone:6: delegation sub.example.test. NS 'ns9.example.test.' has no address "
            "records (A or AAAA)\n");
}

// BIND: "sub/NS 'ns' has no address records" is a warning for a delegation.
TEST(Check, DelegationNsTargetWithoutAddressWarns) {
  Checked c = run("sub NS ns9\n");
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
  EXPECT_EQ(all(c.check.warnings),
            "c.zone:5: delegation sub.example.test. NS 'ns9.example.test.' has no address "
            "records (A or AAAA)\n");
}

TEST(Check, DuplicatesDroppedSilently) {
  Checked c = run("www A 192.0.2.1\nwww A 192.0.2.1\nwww A 192.0.2.2\n@ NS NS1.Example.Test.\n");
  EXPECT_TRUE(c.check.ok());
  EXPECT_TRUE(c.check.warnings.empty()) << all(c.check.warnings);
  EXPECT_EQ(c.check.duplicates_removed, 2u);
  EXPECT_EQ(c.parsed.records.size(), 5u);
  EXPECT_EQ(c.parsed.where.size(), 5u);
  EXPECT_EQ(c.parsed.where[4].line, 7u);  // www A 192.0.2.2 kept its line
}

TEST(Check, TtlMismatchInRrsetWarnsAndUnifies) {
  Checked c = run("www 300 A 192.0.2.1\nwww 600 A 192.0.2.2\n");
  EXPECT_TRUE(c.check.ok());
  ASSERT_EQ(c.check.warnings.size(), 1u);
  EXPECT_EQ(c.check.warnings[0].to_string(),
            "c.zone:6: A www.example.test.: TTL set to prior TTL (300)");
  EXPECT_EQ(c.parsed.records[4].ttl, 300u);
}

TEST(Check, DelegationGlueAndOcclusion) {
  Checked c = run(
      "sub NS ns.sub\n"
      "ns.sub A 192.0.2.53\n"        // glue: fine
      "www.sub TXT \"hidden\"\n"     // occluded
      "sub TXT \"beside NS\"\n");    // occluded at the cut
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
  ASSERT_EQ(c.check.warnings.size(), 2u) << all(c.check.warnings);
  EXPECT_EQ(c.check.warnings[0].to_string(),
            "c.zone:5: sub.example.test.: data beside NS at a delegation is occluded (only NS, "
            "DS, glue and DNSSEC records are used)");
  EXPECT_EQ(c.check.warnings[1].to_string(),
            "c.zone:7: www.sub.example.test.: occluded by delegation at sub.example.test. (only "
            "glue A/AAAA is used)");
}

TEST(Check, MissingGlueWarns) {
  Checked c = run("sub NS ns.sub\nsub NS ns.elsewhere.example.net.\n");
  EXPECT_TRUE(c.check.ok()) << all(c.check.errors);
  ASSERT_EQ(c.check.warnings.size(), 1u);
  EXPECT_EQ(c.check.warnings[0].to_string(),
            "c.zone:5: missing glue: NS ns.sub.example.test. of sub.example.test. has no A/AAAA "
            "record");
}

TEST(Check, InZoneNsTargetWithoutAddressIsRefusedLikeBind) {
  Checked c = run("@ NS ns2\n");
  ASSERT_EQ(c.check.errors.size(), 1u);
  EXPECT_EQ(c.check.errors[0].to_string(),
            "c.zone:5: NS 'ns2.example.test.' has no address records (A or AAAA)");
}

TEST(Check, DnameWithChildrenWarns) {
  Checked c = run("old DNAME new.example.net.\nwww.old A 192.0.2.1\n");
  EXPECT_TRUE(c.check.ok());
  ASSERT_EQ(c.check.warnings.size(), 1u);
  EXPECT_EQ(c.check.warnings[0].to_string(),
            "c.zone:6: DNAME at old.example.test. has child www.old.example.test. (occluded, RFC "
            "6672 §2.4)");
}

TEST(Check, ClassMismatch) {
  Checked c = run("www A 192.0.2.1\n");
  c.parsed.records.back().rclass = 3;
  CheckResult r = check_zone(kOrigin, c.parsed);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "c.zone:5: A: class CH does not match zone class IN");
}

TEST(Check, PlainRecordsWithoutPositions) {
  Checked c = run("www A 192.0.2.1\n");
  std::vector<wire::RR> recs = c.parsed.records;
  recs.push_back(recs.back());
  CheckResult r = check_zone(kOrigin, recs);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(recs.size(), 4u);
  recs.push_back(recs[0]);
  recs.back().owner = N("ns1.example.test.");
  r = check_zone(kOrigin, recs);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "SOA record not at zone apex (ns1.example.test.)");
}

TEST(Check, ManyNamesScale) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "h" + std::to_string(i) + " A 192.0.2.1\n  AAAA ::1\n";
  Checked c = run(body);
  EXPECT_TRUE(c.check.ok());
  EXPECT_EQ(c.parsed.records.size(), 40003u);
}

TEST(RunCheckZone, OkLine) {
  std::ostringstream out, err;
  int rc = run_check_zone("example.test", kData + "corner.zone", out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(), "OK: example.test loaded serial 2024010101 (36 records)\n");
}

TEST(RunCheckZone, WarningsLoadStrictRefuses) {
  std::ostringstream out, err;
  int rc = run_check_zone("example.org", kData + "corner.zone", out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(out.str(), "OK: example.org loaded serial 2024010101 (19 records)\n");
  const std::string warning =
      "corner.zone:32: ignoring out-of-zone data: relative.sub.example.test. is not in "
      "example.org.";
  EXPECT_NE(err.str().find(warning), std::string::npos) << err.str();

  std::ostringstream out1, err1;
  EXPECT_EQ(run_check_zone("example.org", kData + "corner.zone", out1, err1, true), 1);
  EXPECT_EQ(out1.str(), "");
  EXPECT_NE(err1.str().find(warning), std::string::npos) << err1.str();
  EXPECT_NE(err1.str().find("zone example.org/IN: not loaded due to errors."), std::string::npos);

  std::ostringstream o2, e2;
  EXPECT_EQ(run_check_zone("bad..name", kData + "corner.zone", o2, e2), 1);
  EXPECT_EQ(run_check_zone("example.test", "/nonexistent", o2, e2), 1);
}

TEST(RunCheckZone, ExampleZoneLoadsClean) {
  std::ostringstream out, err;
  int rc = run_check_zone("example.test",
                          std::string(DDNS_SOURCE_DIR) + "/examples/example.test.zone", out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace ddns::zone
