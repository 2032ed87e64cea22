// Master file reader: every lexer feature (testdata/corner.zone), TTL
// rules, and one case per error with its exact FILE:LINE.
#include "zone/master.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "wire/rrtype.h"

namespace ddns::zone {
namespace {

using wire::Name;
using wire::RRType;

Name N(const char* s) { return Name::from_text(s).value(); }
const Name kOrigin = N("example.test.");
const std::string kData = std::string(DDNS_SOURCE_DIR) + "/src/zone/testdata/";

// The records at `owner` of `type`, in file order.
std::vector<const wire::RR*> find(const ParseResult& r, const char* owner, RRType type) {
  std::vector<const wire::RR*> out;
  Name o = N(owner);
  for (const auto& rr : r.records)
    if (rr.owner == o && rr.type == uint16_t(type)) out.push_back(&rr);
  return out;
}

std::string all(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

TEST(ParseTtl, UnitsAndLimits) {
  uint32_t v = 0;
  EXPECT_TRUE(parse_ttl("90", v));
  EXPECT_EQ(v, 90u);
  EXPECT_TRUE(parse_ttl("1h30m", v));
  EXPECT_EQ(v, 5400u);
  EXPECT_TRUE(parse_ttl("2W", v));
  EXPECT_EQ(v, 1209600u);
  EXPECT_TRUE(parse_ttl("1d2h3m4s", v));
  EXPECT_EQ(v, 86400u + 7200 + 180 + 4);
  EXPECT_TRUE(parse_ttl("1h30", v));  // trailing seconds, as BIND reads it
  EXPECT_EQ(v, 3630u);
  EXPECT_TRUE(parse_ttl("4294967295", v));
  EXPECT_EQ(v, 4294967295u);
  EXPECT_FALSE(parse_ttl("4294967296", v));
  EXPECT_FALSE(parse_ttl("", v));
  EXPECT_FALSE(parse_ttl("h", v));
  EXPECT_FALSE(parse_ttl("1x", v));
  EXPECT_FALSE(parse_ttl("1hh", v));
  EXPECT_FALSE(parse_ttl("9999999w", v));
}

TEST(Master, CornerZoneEveryFeature) {
  ParseResult r = parse_master_file(kData + "corner.zone", kOrigin);
  ASSERT_TRUE(r.ok()) << all(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
  EXPECT_EQ(r.records.size(), 36u);
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.where.size(), r.records.size());

  // SOA across lines with comments inside the parentheses, units in fields.
  auto soa = find(r, "example.test.", RRType::SOA);
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(soa[0]->ttl, 5400u);  // $TTL 1h30m
  EXPECT_EQ(r.where[0].line, 4u);

  // Blank owner = previous owner; class omitted; TTL/class in either order.
  EXPECT_EQ(find(r, "example.test.", RRType::NS).size(), 2u);
  EXPECT_EQ(find(r, "ns2.example.test.", RRType::A)[0]->ttl, 3600u);
  EXPECT_EQ(find(r, "www.example.test.", RRType::A)[0]->ttl, 300u);
  EXPECT_EQ(find(r, "www.example.test.", RRType::AAAA)[0]->ttl, 300u);
  auto mx = find(r, "www.example.test.", RRType::MX);
  ASSERT_EQ(mx.size(), 1u);
  EXPECT_EQ(mx[0]->ttl, 5400u);
  // "10 @": the origin as an rdata name.
  EXPECT_EQ(mx[0]->rdata[2], 7);  // label "example"

  // Quoted strings: escapes interpreted by the rdata parser, ';' kept.
  auto txt = find(r, "txt.example.test.", RRType::TXT);
  ASSERT_EQ(txt.size(), 2u);
  std::string t0(txt[0]->rdata.begin(), txt[0]->rdata.end());
  EXPECT_NE(t0.find("semi;colon"), std::string::npos);
  EXPECT_NE(t0.find("quote\"inside"), std::string::npos);
  EXPECT_NE(t0.find("back\\slash"), std::string::npos);
  EXPECT_NE(t0.find("ABC"), std::string::npos);
  std::string t1(txt[1]->rdata.begin(), txt[1]->rdata.end());
  EXPECT_EQ(t1, std::string("\x0eunquoted token\x0cwith;escapes"));

  // Parentheses spanning lines in rdata; the entry's line is where it starts.
  auto multi = find(r, "multi.example.test.", RRType::TXT);
  ASSERT_EQ(multi.size(), 1u);
  size_t mi = size_t(multi[0] - r.records.data());
  EXPECT_EQ(r.where[mi].line, 20u);
  EXPECT_EQ(r.at(mi, "x").to_string(), kData + "corner.zone:20: x");

  // Escapes in owner names.
  Name dot = N("esc\\.dot.example.test.");
  EXPECT_EQ(dot.label_count(), 3u);
  EXPECT_EQ(find(r, "esc\\.dot.example.test.", RRType::A).size(), 1u);
  EXPECT_EQ(find(r, "sp\\032ace.example.test.", RRType::A).size(), 1u);
  EXPECT_EQ(find(r, "upper.case.example.test.", RRType::A).size(), 1u);
  EXPECT_EQ(find(r, "*.wild.example.test.", RRType::A).size(), 1u);

  // RFC 3597 generic rdata, for an unknown and a known type.
  auto gen = find(r, "generic.example.test.", RRType(65280));
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0]->rdata, (wire::Bytes{0x0a, 0, 0, 1}));
  EXPECT_EQ(find(r, "generic.example.test.", RRType::A)[0]->rdata,
            (wire::Bytes{192, 0, 2, 23}));

  EXPECT_EQ(find(r, "_sip._tcp.srv.example.test.", RRType::SRV).size(), 1u);
  EXPECT_EQ(find(r, "longttl.example.test.", RRType::A)[0]->ttl, 172800u);  // $TTL 2D

  // $ORIGIN, relative names and @ under it.
  EXPECT_EQ(find(r, "relative.sub.example.test.", RRType::A).size(), 1u);
  EXPECT_EQ(find(r, "sub.example.test.", RRType::A).size(), 1u);

  // $INCLUDE with an origin; origin and owner restored afterwards.
  EXPECT_EQ(find(r, "inc.example.test.", RRType::A).size(), 1u);
  auto incmx = find(r, "host.inc.example.test.", RRType::MX);
  ASSERT_EQ(incmx.size(), 1u);
  size_t ii = size_t(incmx[0] - r.records.data());
  EXPECT_EQ(r.files[r.where[ii].file], kData + "corner-inc.zone");
  EXPECT_EQ(r.where[ii].line, 4u);
  EXPECT_EQ(find(r, "restored.example.test.", RRType::AAAA).size(), 1u);
  EXPECT_EQ(find(r, "after-include.example.test.", RRType::AAAA).size(), 1u);

  // $GENERATE, with a ${offset,width,base} modifier and a step.
  EXPECT_EQ(find(r, "gen2.example.test.", RRType::A)[0]->rdata, (wire::Bytes{192, 0, 2, 2}));
  EXPECT_EQ(find(r, "rev010.example.test.", RRType::CNAME).size(), 1u);
  EXPECT_EQ(find(r, "rev012.example.test.", RRType::CNAME).size(), 1u);
  EXPECT_EQ(find(r, "rev011.example.test.", RRType::CNAME).size(), 0u);

  // CRLF line ends.
  EXPECT_EQ(find(r, "crlf.example.test.", RRType::TXT).size(), 1u);
}

TEST(Master, MissingTtlUsesSoaMinimumLikeBind) {
  ParseResult r = parse_master_text("@ IN SOA ns hm 1 2 3 4 600\n  NS ns\nns A 192.0.2.1\n",
                                    "t.zone", kOrigin);
  ASSERT_TRUE(r.ok()) << all(r.errors);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].ttl, 600u);
  EXPECT_EQ(r.records[2].ttl, 600u);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].to_string(), "t.zone:1: no TTL specified; using SOA MINTTL instead");
  EXPECT_EQ(r.warnings[1].to_string(), "t.zone:2: using RFC1035 TTL semantics");
}

TEST(Master, LastExplicitTtlWithoutDollarTtl) {
  ParseResult r = parse_master_text("@ 100 IN SOA ns hm 1 2 3 4 600\nns 200 A 192.0.2.1\n"
                                    "  AAAA 2001:db8::1\n",
                                    "t.zone", kOrigin);
  ASSERT_TRUE(r.ok()) << all(r.errors);
  EXPECT_EQ(r.records[0].ttl, 100u);
  EXPECT_EQ(r.records[2].ttl, 200u);
}

TEST(Master, DollarTtlOverMaxIsZero) {
  ParseResult r = parse_master_text("$TTL 4000000000\nns A 192.0.2.1\n", "t.zone", kOrigin);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.records[0].ttl, 0u);
  EXPECT_EQ(r.warnings.size(), 1u);
}

struct ErrorCase {
  const char* text;
  const char* expect;  // exact "FILE:LINE: message", or a prefix ending in '*'
};

class MasterError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(MasterError, ReportsFileAndLine) {
  const ErrorCase& c = GetParam();
  ParseOptions o;
  o.allow_include = true;
  ParseResult r = parse_master_text(std::string("$TTL 1h\n") + c.text, "err.zone", kOrigin, o);
  ASSERT_FALSE(r.ok()) << c.text;
  std::string got = r.errors[0].to_string();
  std::string want = c.expect;
  if (!want.empty() && want.back() == '*') {
    want.pop_back();
    EXPECT_EQ(got.substr(0, want.size()), want) << "got: " << got;
  } else {
    EXPECT_EQ(got, want);
  }
}

std::string long_txt() {
  static std::string s = "t TXT \"" + std::string(256, 'x') + "\"\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MasterError,
    ::testing::Values(
        ErrorCase{"www A 192.0.2.1 (\n  ; never closed\n", "err.zone:2: unbalanced parentheses: '(' not closed"},
        ErrorCase{"www A 192.0.2.1 )\n", "err.zone:2: unbalanced parentheses: ')' without '('"},
        ErrorCase{"t TXT \"abc\nwww A 192.0.2.1\n", "err.zone:2: unterminated quoted string"},
        ErrorCase{"www IN FOO 1\n", "err.zone:2: unknown RR type 'FOO'"},
        ErrorCase{"www 1x A 192.0.2.1\n", "err.zone:2: bad TTL '1x'"},
        ErrorCase{"www CH A 192.0.2.1\n", "err.zone:2: class CH does not match zone class IN"},
        ErrorCase{"www 300 IN\n", "err.zone:2: missing RR type"},
        ErrorCase{"  A 192.0.2.1\n",
                  "err.zone:2: no owner name (line starts with blank, and no previous owner)"},
        ErrorCase{"\nwww A 300.1.1.1\n", "err.zone:3: A*"},
        ErrorCase{"www A\n", "err.zone:2: A*"},
        ErrorCase{"www A 192.0.2.1 192.0.2.2\n", "err.zone:2: A*"},
        ErrorCase{"www IN AXFR foo\n", "err.zone:2: AXFR: meta type not allowed in zone data"},
        ErrorCase{"$FOO bar\n", "err.zone:2: unknown directive '$FOO'"},
        ErrorCase{"$ORIGIN\n", "err.zone:2: $ORIGIN: expected one domain name"},
        ErrorCase{"$TTL 1y\n", "err.zone:2: $TTL: expected one TTL value"},
        ErrorCase{"$INCLUDE /nonexistent/zz.zone\n",
                  "err.zone:2: $INCLUDE: cannot read '/nonexistent/zz.zone': *"},
        ErrorCase{"$GENERATE 5-1 h$ A 192.0.2.$\n", "err.zone:2: $GENERATE: bad range '5-1'"},
        ErrorCase{"$GENERATE 1-300 h$ A 192.0.2.$\n", "err.zone:2: A*"},
        ErrorCase{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa A 192.0.2.1\n",
                  "err.zone:2: bad owner name*"},
        ErrorCase{"\"www\" A 192.0.2.1\n", "err.zone:2: owner name may not be a quoted string"},
        ErrorCase{"mx MX 10\n", "err.zone:2: MX*"},
        ErrorCase{"mx MX x mail\n", "err.zone:2: MX*"}));

TEST(Master, LongTxtStringNamesTypeAndLine) {
  ParseResult r = parse_master_text("$TTL 1h\n\n" + long_txt(), "corner.zone", kOrigin);
  ASSERT_EQ(r.errors.size(), 1u);
  std::string got = r.errors[0].to_string();
  EXPECT_EQ(got.substr(0, 18), "corner.zone:3: TXT");
  EXPECT_NE(got.find("character-string longer than 255 octets"), std::string::npos) << got;
}

TEST(Master, NoTtlAtAllIsAnError) {
  ParseResult r = parse_master_text("www A 192.0.2.1\n", "t.zone", kOrigin);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "t.zone:1: no TTL specified");
}

TEST(Master, CollectsSeveralErrorsThenStops) {
  std::string text = "$TTL 1h\nok A 192.0.2.1\nbad1 A x\nok2 A 192.0.2.2\nbad2 FOO 1\nbad3 1x A 1\n";
  ParseResult r = parse_master_text(text, "e.zone", kOrigin);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[1].line, 5u);
  EXPECT_EQ(r.errors[2].line, 6u);
  EXPECT_EQ(r.records.size(), 2u);  // good lines still parsed; the caller refuses the zone

  std::string many = "$TTL 1h\n";
  for (int i = 0; i < 100; ++i) many += "x A bad\n";
  ParseOptions o;
  o.max_errors = 5;
  ParseResult m = parse_master_text(many, "m.zone", kOrigin, o);
  EXPECT_TRUE(m.too_many_errors);
  EXPECT_EQ(m.errors.size(), 6u);
  EXPECT_NE(m.errors.back().message.find("too many errors"), std::string::npos);
}

TEST(Master, ParenthesesAndCommentsEdgeCases) {
  // ')' and '"' inside a comment inside parentheses do not count.
  ParseResult r = parse_master_text(
      "$TTL 1h\n@ SOA ns hm ( 1 ; ) \" not closed\n 2 3 4 5 )\nx TXT \"a;b(c)\"\n", "p.zone",
      kOrigin);
  ASSERT_TRUE(r.ok()) << all(r.errors);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[1].rdata, (wire::Bytes{6, 'a', ';', 'b', '(', 'c', ')'}));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ddns-master-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Master, IncludeIsRelativeToIncludingFile) {
  TempDir d;
  std::filesystem::create_directory(d.path() + "/sub");
  d.write("sub/b.zone", "b A 192.0.2.2\n$INCLUDE c.zone\n");
  d.write("sub/c.zone", "c A 192.0.2.3\n");
  std::string top = d.write("a.zone", "$TTL 1h\na A 192.0.2.1\n$INCLUDE sub/b.zone\n");
  ParseResult r = parse_master_file(top, kOrigin);
  ASSERT_TRUE(r.ok()) << all(r.errors);
  EXPECT_EQ(r.records.size(), 3u);
}

TEST(Master, IncludeLoopIsRefused) {
  TempDir d;
  d.write("b.zone", "b A 192.0.2.2\n$INCLUDE a.zone\n");
  std::string top = d.write("a.zone", "$TTL 1h\na A 192.0.2.1\n$INCLUDE b.zone\n");
  ParseResult r = parse_master_file(top, kOrigin);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            d.path() + "/b.zone:2: $INCLUDE: include loop at '" + d.path() + "/a.zone'");
}

TEST(Master, IncludeCanBeDisabled) {
  ParseOptions o;
  o.allow_include = false;
  ParseResult r = parse_master_text("$INCLUDE /etc/passwd\n", "f", kOrigin, o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "f:1: $INCLUDE not allowed here");
}

TEST(Master, MissingFile) {
  ParseResult r = parse_master_file("/nonexistent/x.zone", kOrigin);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string().substr(0, 35), "/nonexistent/x.zone: cannot read: N");
}

TEST(Master, NeverCrashesOnJunk) {
  const char* junk[] = {"", "\\", "(", ")", "\"", "$", "$INCLUDE", "@", "\n\n\n", "a\\",
                        "$GENERATE 1-2", "$GENERATE 1-2 a$ A ${", "x \\# 3 00", "\t\t(\n;"};
  ParseOptions o;
  o.allow_include = false;
  for (const char* j : junk) {
    ParseResult r = parse_master_text(j, "j", kOrigin, o);
    (void)r;
  }
  SUCCEED();
}

}  // namespace
}  // namespace ddns::zone
