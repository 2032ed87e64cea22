// Rdata codec tests: the golden table (text -> wire -> text for every type,
// plus errors), reading rdata out of messages, validation, canonical form.
#include "wire/rdata.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"

namespace ddns::wire {
namespace {

// A small stand-in for the zone lexer: splits on blanks; "..." becomes one
// quoted token with escapes left in place; a quote inside an unquoted
// token (key="a b") is kept and spans blanks.
struct Lexed {
  std::vector<std::string> storage;
  std::vector<TextToken> tokens;
};

Lexed lex(std::string_view s) {
  Lexed out;
  std::vector<bool> quoted;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    std::string tok;
    bool q = false;
    if (s[i] == '"') {
      q = true;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) tok += s[i++];
        tok += s[i++];
      }
      ++i;  // closing quote
    } else {
      bool in_quote = false;
      while (i < s.size() && (in_quote || (s[i] != ' ' && s[i] != '\t'))) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          tok += s[i++];
        } else if (s[i] == '"') {
          in_quote = !in_quote;
        }
        tok += s[i++];
      }
    }
    out.storage.push_back(tok);
    quoted.push_back(q);
  }
  for (size_t k = 0; k < out.storage.size(); ++k)
    out.tokens.push_back(TextToken{out.storage[k], quoted[k]});
  return out;
}

const Name& origin() {
  static const Name o = *Name::from_text("example.test.");
  return o;
}

Result<Bytes> parse(uint16_t type, std::string_view text) {
  Lexed l = lex(text);
  return rdata_from_text(type, l.tokens, origin());
}

uint16_t T(std::string_view name) {
  auto t = type_from_text(name);
  EXPECT_TRUE(t.has_value()) << name;
  return t.value_or(0);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t k = 0;
  while (k < s.size() && s[k] == ' ') ++k;
  return s.substr(k);
}

struct GoldenCase {
  int line;
  bool error;
  std::string type, text, third, printed;
};

std::string golden_path() { return std::string(DDNS_SOURCE_DIR) + "/src/wire/testdata/rdata.golden"; }

std::vector<GoldenCase> load_golden(std::vector<std::string>* lines_out = nullptr) {
  std::ifstream in(golden_path());
  EXPECT_TRUE(in.good()) << golden_path();
  std::vector<GoldenCase> cases;
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (lines_out) lines_out->push_back(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("=>", 0) == 0) {
      if (!cases.empty()) cases.back().printed = trim(line.substr(2));
      continue;
    }
    GoldenCase c{no, false, "", "", "", ""};
    std::string body = line;
    if (body[0] == '!') {
      c.error = true;
      body = body.substr(1);
    }
    size_t a = body.find(" | ");
    size_t b = body.rfind(" | ");
    if (a == std::string::npos || a == b) {
      ADD_FAILURE() << "golden line " << no << " malformed";
      continue;
    }
    c.type = trim(body.substr(0, a));
    c.text = trim(body.substr(a + 3, b - a - 3));
    if (c.text == "|") c.text.clear();
    c.third = trim(body.substr(b + 3));
    cases.push_back(c);
  }
  return cases;
}

TEST(RdataGolden, EveryCase) {
  std::vector<std::string> lines;
  auto cases = load_golden(&lines);
  ASSERT_GT(cases.size(), 80u);
  bool regen = std::getenv("DDNS_REGEN_GOLDEN") != nullptr;
  std::vector<std::string> types_seen;
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE("golden line " + std::to_string(c.line) + ": " + c.type + " " + c.text);
    uint16_t type = T(c.type);
    auto r = parse(type, c.text);
    if (c.error) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().message, c.third);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::string hex = hex_encode(*r, false);
    if (regen && c.third == "?") {
      std::string& l = lines[size_t(c.line - 1)];
      l = l.substr(0, l.rfind(" | ") + 3) + (hex.empty() ? "-" : hex);
    } else {
      EXPECT_EQ(hex.empty() ? "-" : hex, c.third);
    }
    EXPECT_TRUE(rdata_validate(type, *r).ok());
    std::string printed = rdata_to_text(type, *r);
    EXPECT_EQ(printed, c.printed.empty() ? c.text : c.printed);
    // The printed form reads back to the same wire.
    auto again = parse(type, printed);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(hex_encode(*again, false), hex);
    // And so does the RFC 3597 form.
    auto generic = parse(type, rdata_to_generic_text(*r));
    ASSERT_TRUE(generic.ok()) << generic.error().message;
    EXPECT_EQ(*generic, *r);
    // Reading the same bytes from a message gives the same rdata.
    ByteReader reader(r->data(), r->size());
    auto from_msg = rdata_from_message(type, reader, uint16_t(r->size()));
    ASSERT_TRUE(from_msg.ok()) << from_msg.error().message;
    EXPECT_EQ(*from_msg, *r);
    types_seen.push_back(c.type);
  }
  if (regen) {
    std::ofstream out(golden_path());
    for (const auto& l : lines) out << l << "\n";
  }
  // Every row of the type table has golden cases (a new type = one row +
  // one golden test), and so does the generic form.
  for (const TypeInfo& t : all_types())
    EXPECT_NE(std::find(types_seen.begin(), types_seen.end(), t.name), types_seen.end()) << t.name;
  EXPECT_NE(std::find(types_seen.begin(), types_seen.end(), "TYPE65280"), types_seen.end());
}

TEST(RdataText, GenericForms) {
  EXPECT_EQ(rdata_to_generic_text({}), "\\# 0");
  const uint8_t b[] = {0x0a, 0, 0, 1};
  EXPECT_EQ(rdata_to_generic_text(b), "\\# 4 0a000001");
  EXPECT_EQ(rdata_to_text(65280, b), "\\# 4 0a000001");
  // Malformed rdata of a known type prints generic.
  EXPECT_EQ(rdata_to_text(1, std::span<const uint8_t>(b, 3)), "\\# 3 0a0000");
  // A quoted "\#" is data, not the generic marker.
  TextToken q[] = {{"\\#", true}};
  auto r = rdata_from_text(16, q, origin());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hex_encode(*r, false), "0123");
}

TEST(RdataText, SvcbValueAsSeparateQuotedToken) {
  TextToken t[] = {{"1", false}, {".", false}, {"alpn=", false}, {"h2,h3", true}};
  auto r = rdata_from_text(64, t, origin());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(rdata_to_text(64, *r), "1 . alpn=\"h2,h3\"");
}

// Builds a message-like buffer: 12 zero octets, "example.test." at 12,
// then the rdata bytes; returns the rdata offset.
size_t with_prefix(std::vector<uint8_t>& msg, std::initializer_list<uint8_t> rdata) {
  msg.assign(12, 0);
  const uint8_t base[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
  msg.insert(msg.end(), base, base + sizeof base);
  size_t at = msg.size();
  msg.insert(msg.end(), rdata);
  return at;
}

TEST(RdataMessage, DecompressesWellKnownTypes) {
  std::vector<uint8_t> msg;
  size_t at = with_prefix(msg, {0, 10, 4, 'm', 'a', 'i', 'l', 0xC0, 12});
  ByteReader r(msg.data(), msg.size());
  r.seek(at);
  auto rd = rdata_from_message(15, r, 9);
  ASSERT_TRUE(rd.ok()) << rd.error().message;
  EXPECT_EQ(rdata_to_text(15, *rd), "10 mail.example.test.");
  EXPECT_EQ(r.pos(), msg.size());

  // SOA: two compressed names then 20 octets of timers.
  at = with_prefix(msg, {2, 'n', 's', 0xC0, 12, 0xC0, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                         0, 0, 0, 4, 0, 0, 0, 5});
  ByteReader r2(msg.data(), msg.size());
  r2.seek(at);
  auto soa = rdata_from_message(6, r2, uint16_t(msg.size() - at));
  ASSERT_TRUE(soa.ok()) << soa.error().message;
  EXPECT_EQ(rdata_to_text(6, *soa), "ns.example.test. example.test. 1 2 3 4 5");

  // SRV: RFC 3597 §4 "SHOULD decompress".
  at = with_prefix(msg, {0, 1, 0, 2, 0, 3, 0xC0, 12});
  ByteReader r3(msg.data(), msg.size());
  r3.seek(at);
  auto srv = rdata_from_message(33, r3, 8);
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  EXPECT_EQ(rdata_to_text(33, *srv), "1 2 3 example.test.");
}

TEST(RdataMessage, RejectsCompressionInNewTypes) {
  std::vector<uint8_t> msg;
  size_t at = with_prefix(msg, {0xC0, 12, 0, 6, 0x40, 0, 0, 0, 0, 3});
  ByteReader r(msg.data(), msg.size());
  r.seek(at);
  auto rd = rdata_from_message(47, r, 10);  // NSEC
  ASSERT_FALSE(rd.ok());
  EXPECT_EQ(rd.error().message, "NSEC.next: name: compression pointer not allowed here");
  EXPECT_FALSE(r.ok());
}

TEST(RdataMessage, LengthMismatches) {
  std::vector<uint8_t> msg;
  // MX whose name runs past RDLENGTH.
  size_t at = with_prefix(msg, {0, 10, 4, 'm', 'a', 'i', 'l', 0xC0, 12});
  ByteReader r(msg.data(), msg.size());
  r.seek(at);
  auto rd = rdata_from_message(15, r, 5);
  ASSERT_FALSE(rd.ok());
  EXPECT_EQ(rd.error().message, "MX.exchange: name runs past RDLENGTH");
  // MX with an extra octet inside RDLENGTH.
  at = with_prefix(msg, {0, 10, 0, 0xFF});
  ByteReader r2(msg.data(), msg.size());
  r2.seek(at);
  rd = rdata_from_message(15, r2, 4);
  ASSERT_FALSE(rd.ok());
  EXPECT_EQ(rd.error().message, "MX: rdata longer than its fields");
  // RDLENGTH beyond the message.
  ByteReader r3(msg.data(), msg.size());
  r3.seek(at);
  EXPECT_FALSE(rdata_from_message(15, r3, 40).ok());
  // A without 4 octets.
  ByteReader r4(msg.data(), msg.size());
  r4.seek(at);
  rd = rdata_from_message(1, r4, 3);
  ASSERT_FALSE(rd.ok());
  EXPECT_EQ(rd.error().message, "A.address: truncated");
  // Empty rdata (RFC 2136 deletes) is accepted for every type.
  ByteReader r5(msg.data(), msg.size());
  r5.seek(at);
  rd = rdata_from_message(1, r5, 0);
  ASSERT_TRUE(rd.ok());
  EXPECT_TRUE(rd->empty());
  // Unknown types are copied.
  ByteReader r6(msg.data(), msg.size());
  r6.seek(at);
  rd = rdata_from_message(65280, r6, 4);
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(rd->size(), 4u);
}

TEST(RdataValidate, Cases) {
  auto bytes = [](std::string_view hex) {
    Bytes b;
    EXPECT_TRUE(hex_decode(hex, b));
    return b;
  };
  EXPECT_TRUE(rdata_validate(1, bytes("c0000201")).ok());
  EXPECT_FALSE(rdata_validate(1, bytes("c000020101")).ok());
  EXPECT_FALSE(rdata_validate(16, {}).ok());                 // TXT needs a string
  EXPECT_FALSE(rdata_validate(16, bytes("0561")).ok());      // truncated string
  EXPECT_FALSE(rdata_validate(2, bytes("c00c")).ok());       // pointer in stored rdata
  EXPECT_FALSE(rdata_validate(47, bytes("00000100")).ok());  // bitmap: zero-length block
  EXPECT_FALSE(rdata_validate(47, bytes("0000024000")).ok());  // trailing zero octet
  EXPECT_FALSE(rdata_validate(47, bytes("00010140000140")).ok());  // windows repeat
  EXPECT_TRUE(rdata_validate(47, bytes("000001400101c0")).ok());
  // SVCB keys out of order, and port with 3 octets.
  EXPECT_FALSE(rdata_validate(64, bytes("000100" "0003000201bb" "0001000302" "6832")).ok());
  EXPECT_FALSE(rdata_validate(64, bytes("000100" "000300030001bb")).ok());
  EXPECT_TRUE(rdata_validate(65280, bytes("ff")).ok());
}

TEST(RdataCanonical, LowercasesListedTypesOnly) {
  auto mx = parse(15, "10 MAIL.Example.TEST.");
  ASSERT_TRUE(mx.ok());
  EXPECT_EQ(rdata_to_text(15, rdata_canonical(15, *mx)), "10 mail.example.test.");
  auto soa = parse(6, "NS.Example.Test. Host.Example.Test. 1 2 3 4 5");
  ASSERT_TRUE(soa.ok());
  EXPECT_EQ(rdata_to_text(6, rdata_canonical(6, *soa)), "ns.example.test. host.example.test. 1 2 3 4 5");
  auto rrsig = parse(46, "A 8 2 300 1 1 1 Example.TEST. AAEC");
  ASSERT_TRUE(rrsig.ok());
  EXPECT_EQ(rdata_to_text(46, rdata_canonical(46, *rrsig)),
            "A 8 2 300 19700101000001 19700101000001 1 example.test. AAEC");
  // RFC 6840 §5.1: NSEC and HINFO keep their case.
  auto nsec = parse(47, "Next.Example.Test. A");
  ASSERT_TRUE(nsec.ok());
  EXPECT_EQ(rdata_canonical(47, *nsec), *nsec);
  auto hinfo = parse(13, "CPU OS");
  ASSERT_TRUE(hinfo.ok());
  EXPECT_EQ(rdata_canonical(13, *hinfo), *hinfo);
  // TXT is data, never lowercased.
  auto txt = parse(16, "\"ABC\"");
  EXPECT_EQ(rdata_canonical(16, *txt), *txt);
  // RP (17), outside the table, still gets its two names lowercased.
  Bytes rp = {1, 'A', 0, 1, 'B', 0};
  Bytes want = {1, 'a', 0, 1, 'b', 0};
  EXPECT_EQ(rdata_canonical(17, rp), want);
  // Malformed rdata comes back unchanged.
  Bytes junk = {5, 'A'};
  EXPECT_EQ(rdata_canonical(2, junk), junk);
}

TEST(RdataNameRefs, Offsets) {
  auto soa = parse(6, "ns1 host 1 2 3 4 5");
  ASSERT_TRUE(soa.ok());
  RdataNameRef refs[4];
  ASSERT_EQ(rdata_name_refs(6, *soa, refs), 2u);
  EXPECT_EQ(refs[0].offset, 0);
  EXPECT_EQ(refs[0].length, 18);  // ns1.example.test.
  EXPECT_TRUE(refs[0].compressible);
  EXPECT_EQ(refs[1].offset, 18);
  auto srv = parse(33, "1 2 3 sip.example.test.");
  ASSERT_TRUE(srv.ok());
  ASSERT_EQ(rdata_name_refs(33, *srv, refs), 1u);
  EXPECT_EQ(refs[0].offset, 6);
  EXPECT_FALSE(refs[0].compressible);
  auto a = parse(1, "192.0.2.1");
  EXPECT_EQ(rdata_name_refs(1, *a, refs), 0u);
}

TEST(RrType, TextConversions) {
  EXPECT_EQ(type_from_text("a"), 1);
  EXPECT_EQ(type_from_text("nsec3param"), 51);
  EXPECT_EQ(type_from_text("TYPE65280"), 65280);
  EXPECT_EQ(type_from_text("type1"), 1);
  EXPECT_FALSE(type_from_text("TYPE65536").has_value());
  EXPECT_FALSE(type_from_text("TYPE").has_value());
  EXPECT_FALSE(type_from_text("BOGUS").has_value());
  EXPECT_EQ(type_to_text(1), "A");
  EXPECT_EQ(type_to_text(257), "CAA");
  EXPECT_EQ(type_to_text(65280), "TYPE65280");
  EXPECT_EQ(type_to_text(RRType::HTTPS), "HTTPS");
  EXPECT_EQ(class_from_text("in"), 1);
  EXPECT_EQ(class_from_text("CHAOS"), 3);
  EXPECT_EQ(class_from_text("CLASS42"), 42);
  EXPECT_FALSE(class_from_text("XX").has_value());
  EXPECT_EQ(class_to_text(255), "ANY");
  EXPECT_EQ(class_to_text(42), "CLASS42");
  EXPECT_TRUE(is_meta_type(41));
  EXPECT_TRUE(is_meta_type(252));
  EXPECT_FALSE(is_meta_type(1));
  EXPECT_FALSE(is_meta_type(257));
  ASSERT_NE(type_info(RRType::CAA), nullptr);
  EXPECT_EQ(type_info(RRType::CAA)->name, "CAA");
  EXPECT_EQ(type_info(uint16_t(65280)), nullptr);
  EXPECT_FALSE(type_info(RRType::OPT)->known_text);
}

}  // namespace
}  // namespace ddns::wire
