// The compact load path (RecordStore, load_zone_tree) must accept, refuse
// and warn exactly as load_zone_file + Zone::build do, and build the same
// tree.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "zone/check.h"
#include "zone/master.h"
#include "zone/zone.h"

namespace ddns::zone {
namespace {

using wire::Name;

Name N(const char* s) { return Name::from_text(s).value(); }
const Name kOrigin = N("example.test.");

std::string write_tmp(const std::string& text) {
  char path[] = "/tmp/ddns-stream-test-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  FILE* f = fdopen(fd, "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

std::string diags(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

// Loads the file both ways and compares everything the caller can see.
void same_file_both_ways(const std::string& path, const Name& origin, bool expect_ok);

void same_both_ways(const std::string& text, bool expect_ok) {
  const std::string path = write_tmp(text);
  same_file_both_ways(path, kOrigin, expect_ok);
  std::remove(path.c_str());
}

void same_file_both_ways(const std::string& path, const Name& origin, bool expect_ok) {
  LoadedZone old = load_zone_file(path, origin);
  std::shared_ptr<const Zone> old_zone;
  std::vector<Diagnostic> old_errors = old.errors;
  size_t old_count = old.records.size();
  if (old.ok()) {
    auto z = Zone::build(origin, std::move(old.records));
    if (z) old_zone = *z;
    else old_errors.push_back(Diagnostic{path, 0, z.error().message});
  }
  LoadedTree t = load_zone_tree(path, origin);
  EXPECT_EQ(diags(old.warnings), diags(t.warnings));
  EXPECT_EQ(diags(old_errors), diags(t.errors));
  EXPECT_EQ(t.ok(), expect_ok) << diags(t.errors);
  EXPECT_EQ(old_zone != nullptr, t.ok());
  if (old_zone && t.zone) {
    EXPECT_EQ(old.serial, t.serial);
    EXPECT_EQ(old_count, t.records);
    EXPECT_EQ(old_zone->node_count(), t.zone->node_count());
    auto a = old_zone->records();
    auto b = t.zone->records();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].owner, b[i].owner);
      EXPECT_EQ(a[i].type, b[i].type);
      EXPECT_EQ(a[i].ttl, b[i].ttl);
      EXPECT_EQ(a[i].rdata, b[i].rdata);
    }
  }
}

const char* kHead =
    "$TTL 1h\n"
    "@ SOA ns1 hostmaster 7 2h 1h 2w 300\n"
    "  NS ns1\n"
    "ns1 A 192.0.2.1\n";

TEST(StreamLoad, SameZoneAsVectorPath) {
  same_both_ways(std::string(kHead) +
                     "www A 192.0.2.2\n"
                     "    A 192.0.2.3\n"
                     "WWW A 192.0.2.2\n"        // duplicate, other case
                     "www 300 A 192.0.2.4\n"    // TTL adjusted to the first
                     "a.b.c TXT \"x\"\n"        // empty non-terminals
                     "*.w MX 10 www\n"
                     "sub NS ns.sub\n"
                     "ns.sub A 192.0.2.9\n"
                     "sub NS ns.other.test.\n",
                 true);
}

TEST(StreamLoad, CornerFileWithIncludes) {
  const std::string data = std::string(DDNS_SOURCE_DIR) + "/src/zone/testdata/corner.zone";
  same_file_both_ways(data, kOrigin, true);
  // As example.org the example.test names are out of zone: dropped with
  // warnings (like BIND), the rest loads; --strict refuses it.
  same_file_both_ways(data, N("example.org."), true);
}

TEST(StreamLoad, SameRefusals) {
  same_both_ways(std::string(kHead) + "www CNAME a\nwww A 192.0.2.1\n", false);
  same_both_ways("$TTL 1h\nwww A 192.0.2.1\n", false);
  same_both_ways(std::string(kHead) + "www A 300.1.1.1\n", false);
  same_both_ways(std::string(kHead) + "x NS nowhere\n@ NS ns2\n", false);
}

TEST(StreamLoad, StoreSharesConsecutiveOwners) {
  RecordStore s;
  const uint8_t a[4] = {192, 0, 2, 1};
  EXPECT_TRUE(s.add(N("a.example.test."), 1, 1, 60, a));
  EXPECT_TRUE(s.add(N("a.example.test."), 1, 1, 60, a));
  EXPECT_TRUE(s.add(N("b.example.test."), 1, 1, 60, a));
  EXPECT_EQ(s.owners.size(), 2u);
  EXPECT_EQ(s.size(), 3u);
  auto rrs = s.to_rrs();
  ASSERT_EQ(rrs.size(), 3u);
  EXPECT_EQ(rrs[2].owner, N("b.example.test."));
  EXPECT_EQ(rrs[1].rdata, wire::Bytes(a, a + 4));
}

TEST(StreamLoad, CheckOnStoreMatchesVector) {
  ParseResult p = parse_master_text(std::string(kHead) + "w A 192.0.2.5\nw 60 A 192.0.2.5\n",
                                    "c.zone", kOrigin);
  RecordStore s;
  for (const auto& rr : p.records) s.add(rr.owner, rr.type, rr.rclass, rr.ttl, rr.rdata);
  std::vector<SourceLine> where = p.where;
  CheckResult a = check_zone(kOrigin, p);
  CheckResult b = check_zone(kOrigin, s, &where, &p.files);
  EXPECT_EQ(a.duplicates_removed, 1u);
  EXPECT_EQ(a.duplicates_removed, b.duplicates_removed);
  EXPECT_EQ(a.ttl_adjusted, b.ttl_adjusted);
  EXPECT_EQ(diags(a.warnings), diags(b.warnings));
  EXPECT_EQ(p.records.size(), s.size());
  EXPECT_EQ(where.size(), s.size());
}

}  // namespace
}  // namespace ddns::zone
