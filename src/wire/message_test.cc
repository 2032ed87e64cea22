// Unit tests for the message codec: parse (real and hostile packets), the
// query fast path, the compressing builder, truncation, render and text.
#include "wire/message.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace ddns::wire {
namespace {

Bytes from_hex(std::string_view h) {
  Bytes b;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  int hi = -1;
  for (char c : h) {
    if (c == ' ') continue;
    if (hi < 0) {
      hi = nib(c);
    } else {
      b.push_back(uint8_t(hi << 4 | nib(c)));
      hi = -1;
    }
  }
  return b;
}

Name N(std::string_view s) {
  auto r = Name::from_text(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Name();
}

std::string parse_error(const Bytes& b) {
  auto m = parse(b);
  return m.ok() ? std::string("OK") : m.error().message;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

Bytes A(uint8_t last) { return Bytes{192, 0, 2, last}; }

// Real packets. A query from `dig www.Example.TEST AAAA` (EDNS, cookie),
// and responses of NSD 4 to queries for a small example.test zone.
const char* kDigQuery =
    "395b0120000100000000000103777777074578616d706c65045445535400001c000100002904d000000000000c00"
    "0a0008b11094ce1cddc7c2";
const char* kNsdMx =  // example.test MX, EDNS DO
    "123485000001000200020005076578616d706c65047465737400000f0001c00c000f000100000e100009000a046d"
    "61696cc00cc00c000f000100000e10000a0014056d61696c32c00cc00c0002000100000e100006036e7331c00cc0"
    "0c0002000100000e100006036e7332c00cc02c0001000100000e100004c000020ac0550001000100000e100004c0"
    "000201c0670001000100000e100004c0000202c041001c000100000e10001020010db80000000000000000000000"
    "1000002904d0000080000000";
const char* kNsdSrv =  // _sip._udp.example.test SRV: target not compressed
    "123485000001000100020004045f736970045f756470076578616d706c6504746573740000210001c00c00210001"
    "00000e100019000a000513c4046d61696c076578616d706c65047465737400c0160002000100000e100006036e73"
    "31c016c0160002000100000e100006036e7332c016046d61696cc0160001000100000e100004c000020ac0590001"
    "000100000e100004c0000201c06b0001000100000e100004c000020200002904d0000080000000";
const char* kNsdCname =  // www.example.test A, no EDNS
    "12348500000100020002000203777777076578616d706c6504746573740000010001c00c0005000100000e100007"
    "046d61696cc010c02e0001000100000e100004c000020ac0100002000100000e100006036e7331c010c010000200"
    "0100000e100006036e7332c010c0510001000100000e100004c0000201c0630001000100000e100004c0000202";
const char* kNsdNx =  // nothere.example.test A: NXDOMAIN with SOA
    "123485030001000000010001076e6f7468657265076578616d706c6504746573740000010001c014000600010000"
    "012c0027036e7331c0140a686f73746d6173746572c01478c4046500001c2000000e10001275000000012c000029"
    "04d0000080000000";

// A header with the given counts, followed by `rest`.
Bytes packet(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar, const Bytes& rest,
             uint16_t flags = 0x0100) {
  // Sized once and filled in place: GCC 12 at -O3 reports a false
  // -Warray-bounds for an initializer list grown by insert().
  Bytes b(12 + rest.size());
  const uint8_t header[12] = {0xab, 0xcd, uint8_t(flags >> 8), uint8_t(flags), 0, uint8_t(qd),
                              0,    uint8_t(an), 0, uint8_t(ns), 0, uint8_t(ar)};
  std::copy(header, header + 12, b.begin());
  std::copy(rest.begin(), rest.end(), b.begin() + 12);
  return b;
}

// "example.test" IN A question at offset 12.
const Bytes kQuestion = from_hex("076578616d706c6504746573740000010001");
// root OPT, udp 1232, no options.
const Bytes kOpt = from_hex("00002904d0000000000000");

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// ---- parse: real packets ----------------------------------------------------

TEST(MessageParse, DigQuery) {
  auto m = parse(from_hex(kDigQuery));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->header.id, 0x395b);
  EXPECT_TRUE(m->header.rd());
  EXPECT_TRUE(m->header.ad());
  EXPECT_FALSE(m->header.qr());
  ASSERT_EQ(m->question.size(), 1u);
  EXPECT_EQ(m->question[0].name, N("www.example.test."));
  EXPECT_EQ(m->question[0].name.to_text(), "www.Example.TEST.");  // case kept
  EXPECT_EQ(m->question[0].qtype, uint16_t(RRType::AAAA));
  EXPECT_EQ(m->question[0].qclass, 1);
  ASSERT_TRUE(m->edns.has_value());
  EXPECT_EQ(m->edns->udp_size, 1232);
  EXPECT_EQ(m->edns->version, 0);
  EXPECT_FALSE(m->edns->do_bit);
  ASSERT_EQ(m->edns->options.size(), 1u);
  EXPECT_EQ(m->edns->options[0].code, 10);  // COOKIE
  EXPECT_EQ(m->edns->options[0].data.size(), 8u);
  EXPECT_TRUE(m->additional.empty());
}

TEST(MessageParse, NsdResponseDecompressesRdata) {
  auto m = parse(from_hex(kNsdMx));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->header.qr());
  EXPECT_TRUE(m->header.aa());
  ASSERT_EQ(m->answer.size(), 2u);
  ASSERT_EQ(m->authority.size(), 2u);
  ASSERT_EQ(m->additional.size(), 4u);  // OPT lifted out
  ASSERT_TRUE(m->edns);
  EXPECT_TRUE(m->edns->do_bit);
  const RR& mx = m->answer[0];
  EXPECT_EQ(mx.owner, N("example.test."));
  EXPECT_EQ(mx.type, uint16_t(RRType::MX));
  EXPECT_EQ(mx.ttl, 3600u);
  EXPECT_EQ(mx.rdata, from_hex("000a046d61696c076578616d706c65047465737400"));
  EXPECT_EQ(m->additional[0].owner, N("mail.example.test."));
  EXPECT_EQ(m->additional[3].type, uint16_t(RRType::AAAA));
  EXPECT_EQ(m->rcode(), 0);
}

TEST(MessageParse, NxdomainSoa) {
  auto m = parse(from_hex(kNsdNx));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->rcode(), uint16_t(Rcode::NXDomain));
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_EQ(m->authority[0].type, uint16_t(RRType::SOA));
  const std::string text = to_text(*m);
  EXPECT_TRUE(contains(text, "status: NXDOMAIN")) << text;
  EXPECT_TRUE(contains(text, "flags: qr aa rd;")) << text;
  EXPECT_TRUE(contains(text, ";; AUTHORITY SECTION:\nexample.test.\t300\tIN\tSOA\t")) << text;
  EXPECT_TRUE(contains(text, "ns1.example.test. hostmaster.example.test. 2026112101")) << text;
  EXPECT_TRUE(contains(text, "; EDNS: version: 0, flags: do; udp: 1232")) << text;
}

// ---- parse: hostile packets -------------------------------------------------

TEST(MessageParse, TruncatedHeader) {
  EXPECT_EQ(parse_error(Bytes(11, 0)), "header: truncated (11 octets)");
  EXPECT_EQ(parse_error(Bytes{}), "header: truncated (0 octets)");
  EXPECT_EQ(parse_error(packet(0, 0, 0, 0, {})), "OK");
}

TEST(MessageParse, TruncatedQuestion) {
  Bytes q = kQuestion;
  q.pop_back();
  EXPECT_EQ(parse_error(packet(1, 0, 0, 0, q)), "question[0]: truncated");
  Bytes name_cut = from_hex("076578616d70");
  EXPECT_TRUE(contains(parse_error(packet(1, 0, 0, 0, name_cut)), "question[0].name: truncated"));
  EXPECT_TRUE(contains(parse_error(packet(2, 0, 0, 0, kQuestion)), "question[1]"));
}

TEST(MessageParse, CompressionPointerToItself) {
  // The question name is a pointer at offset 12 to offset 12.
  EXPECT_EQ(parse_error(packet(1, 0, 0, 0, from_hex("c00c00010001"))),
            "question[0].name: compression pointer does not point backwards at offset 12");
}

TEST(MessageParse, CompressionPointerForward) {
  // Pointer at 12 to offset 18, where a valid name sits.
  Bytes b = packet(1, 0, 0, 0, from_hex("c012000100010374737400"));
  EXPECT_TRUE(contains(parse_error(b), "does not point backwards"));
}

TEST(MessageParse, CompressionPointerLoop) {
  // Answer owner: label "a" then a pointer back to that same label (a loop
  // that never goes below the name's start).
  Bytes rr = from_hex("0161c01e000100010000000000040a000001");
  Bytes b = packet(1, 1, 0, 0, cat({kQuestion, rr}));
  ASSERT_EQ(b[30], 0x01);  // the answer starts at 30
  EXPECT_TRUE(contains(parse_error(b), "answer[0].owner: compression pointer")) << parse_error(b);
  // Two names pointing at each other: the first one (in the question) at
  // 12 points to the answer's owner at 18, which points back to 12.
  Bytes b2 = packet(1, 1, 0, 0, from_hex("c012000100010161c00c000100010000000000040a000001"));
  EXPECT_TRUE(contains(parse_error(b2), "does not point backwards"));
}

TEST(MessageParse, BackwardPointerChainAccepted) {
  // Answer owner "www" + pointer to the question name.
  Bytes rr = from_hex("03777777c00c000100010000000000040a000001");
  auto m = parse(packet(1, 1, 0, 0, cat({kQuestion, rr})));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->answer[0].owner, N("www.example.test."));
}

TEST(MessageParse, LabelTooLong) {
  Bytes q = {64};
  q.insert(q.end(), 64, 'a');
  q.insert(q.end(), {0, 0, 1, 0, 1});
  EXPECT_TRUE(contains(parse_error(packet(1, 0, 0, 0, q)), "unsupported label type"));
  Bytes ext = from_hex("810000010001");  // 0b10 label type
  EXPECT_TRUE(contains(parse_error(packet(1, 0, 0, 0, ext)), "unsupported label type"));
  Bytes ok63 = {63};
  ok63.insert(ok63.end(), 63, 'a');
  ok63.insert(ok63.end(), {0, 0, 1, 0, 1});
  EXPECT_EQ(parse_error(packet(1, 0, 0, 0, ok63)), "OK");
}

Bytes long_name(size_t wire_len) {
  // Labels of 63 and a last shorter one so the wire length is exactly wire_len.
  Bytes n;
  size_t left = wire_len - 1;
  while (left > 0) {
    size_t l = std::min<size_t>(63, left - 1);
    n.push_back(uint8_t(l));
    n.insert(n.end(), l, 'x');
    left -= l + 1;
  }
  n.push_back(0);
  return n;
}

TEST(MessageParse, NameLength) {
  Bytes n255 = long_name(255);
  ASSERT_EQ(n255.size(), 255u);
  EXPECT_EQ(parse_error(packet(1, 0, 0, 0, cat({n255, {0, 1, 0, 1}}))), "OK");
  Bytes n256 = long_name(256);
  ASSERT_EQ(n256.size(), 256u);
  EXPECT_TRUE(contains(parse_error(packet(1, 0, 0, 0, cat({n256, {0, 1, 0, 1}}))),
                       "name longer than 255 octets"));
  // 256 through compression: 200 octets in the question, a 57-octet prefix
  // plus a pointer to it in the answer.
  Bytes n200 = long_name(200);
  Bytes prefix = {56};
  prefix.insert(prefix.end(), 56, 'y');
  Bytes rr = cat({prefix, from_hex("c00c000100010000000000040a000001")});
  auto e = parse_error(packet(1, 1, 0, 0, cat({n200, {0, 1, 0, 1}, rr})));
  EXPECT_TRUE(contains(e, "answer[0].owner: name longer than 255")) << e;
}

TEST(MessageParse, TruncatedAndMismatchedRdata) {
  Bytes a_short = from_hex("c00c0001000100000e1000040a0000");  // rdlength 4, 3 octets
  EXPECT_EQ(parse_error(packet(1, 1, 0, 0, cat({kQuestion, a_short}))),
            "answer[0].rdata: truncated (rdlength 4, 3 octets left)");
  Bytes hdr_cut = from_hex("c00c000100010000");
  EXPECT_EQ(parse_error(packet(1, 1, 0, 0, cat({kQuestion, hdr_cut}))),
            "answer[0]: truncated record header");
  // A with rdlength 5: the A field leaves one octet -> error from the rdata codec.
  Bytes a_long = from_hex("c00c0001000100000e1000050a00000101");
  auto e = parse_error(packet(1, 1, 0, 0, cat({kQuestion, a_long})));
  EXPECT_TRUE(contains(e, "answer[0].rdata: ")) << e;
  // MX whose exchange name runs past rdlength.
  Bytes mx = from_hex("c00c000f000100000e100004000a0161");
  e = parse_error(packet(1, 1, 0, 0, cat({kQuestion, mx, {0}})));
  EXPECT_TRUE(contains(e, "answer[0].rdata: ")) << e;
  // Third answer record truncated.
  Bytes a = from_hex("c00c0001000100000e1000040a000001");
  e = parse_error(packet(1, 3, 0, 0, cat({kQuestion, a, a, a_short})));
  EXPECT_EQ(e, "answer[2].rdata: truncated (rdlength 4, 3 octets left)");
}

TEST(MessageParse, OptRules) {
  EXPECT_EQ(parse_error(packet(1, 0, 0, 1, cat({kQuestion, kOpt}))), "OK");
  EXPECT_EQ(parse_error(packet(1, 0, 0, 2, cat({kQuestion, kOpt, kOpt}))),
            "additional[1]: second OPT record");
  Bytes opt_named = cat({{1, 'a'}, kOpt});
  EXPECT_EQ(parse_error(packet(1, 0, 0, 1, cat({kQuestion, opt_named}))),
            "additional[0].owner: OPT owner is not the root");
  EXPECT_EQ(parse_error(packet(1, 1, 0, 0, cat({kQuestion, kOpt}))),
            "answer[0]: OPT outside the additional section");
  Bytes bad_opt = from_hex("00002904d0 00000000 0005 0003 0002 ff");  // option overruns
  auto e = parse_error(packet(1, 0, 0, 1, cat({kQuestion, bad_opt})));
  EXPECT_TRUE(contains(e, "additional[0].rdata: ")) << e;
  // Extended RCODE and version.
  Bytes opt_ext = from_hex("00002904d0 01010000 0000");
  auto m = parse(packet(1, 0, 0, 1, cat({kQuestion, opt_ext}), 0x8003));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->rcode(), 0x13);
  EXPECT_EQ(m->edns->version, 1);
}

// A syntactically fine TSIG RR (hmac-sha256, empty MAC).
Bytes tsig_rr() {
  return from_hex(
      "036b657900" "00fa00ff00000000" "001d"
      "0b686d61632d73686132353600" "000065000000" "012c" "0000" "abcd" "0000" "0000");
}

TEST(MessageParse, TsigMustBeLast) {
  Bytes a = from_hex("c00c0001000100000e1000040a000001");
  auto ok = parse(packet(1, 0, 0, 2, cat({kQuestion, kOpt, tsig_rr()})));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->additional.size(), 1u);
  EXPECT_EQ(ok->additional[0].type, uint16_t(RRType::TSIG));
  ParseInfo info;
  auto again = parse(packet(1, 0, 0, 2, cat({kQuestion, kOpt, tsig_rr()})), &info);
  EXPECT_EQ(info.tsig_offset, 12u + kQuestion.size() + kOpt.size());
  EXPECT_EQ(parse_error(packet(1, 0, 0, 2, cat({kQuestion, tsig_rr(), a}))),
            "additional[0]: TSIG is not the last record");
  EXPECT_EQ(parse_error(packet(1, 1, 0, 0, cat({kQuestion, tsig_rr()}))),
            "answer[0]: TSIG outside the additional section");
}

TEST(MessageParse, TrailingGarbageIgnored) {
  // Documented choice: bytes after the counted records are ignored (as
  // BIND does); ParseInfo::end tells where the message ended.
  Bytes b = packet(1, 0, 0, 0, cat({kQuestion, {1, 2, 3}}));
  ParseInfo info;
  auto m = parse(b, &info);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(info.end, b.size() - 3);
  QueryView q;
  EXPECT_EQ(parse_query(b, q), QueryStatus::Ok);
}

TEST(MessageParse, HostileCountsDoNotOverreserve) {
  Bytes b = packet(0, 0, 0, 0, {});
  b[6] = b[7] = b[10] = b[11] = 0xff;
  EXPECT_EQ(parse_error(b), "answer[0].owner: truncated name at offset 12");
}

// ---- query fast path ----------------------------------------------------------

TEST(ParseQuery, DigQuery) {
  Bytes b = from_hex(kDigQuery);
  QueryView q;
  ASSERT_EQ(parse_query(b, q), QueryStatus::Ok) << q.error;
  EXPECT_EQ(q.header.id, 0x395b);
  EXPECT_EQ(q.name().to_text(), "www.Example.TEST.");
  EXPECT_EQ(q.qtype, 28);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_EQ(q.question_end, 12u + 18u + 4u);
  ASSERT_TRUE(q.has_edns);
  EXPECT_EQ(q.edns.udp_size, 1232);
  EXPECT_EQ(q.edns.version, 0);
  std::span<const uint8_t> cookie;
  ASSERT_TRUE(q.edns.find_option(10, &cookie));
  EXPECT_EQ(cookie.size(), 8u);
  EXPECT_FALSE(q.edns.find_option(3, nullptr));
  EXPECT_EQ(q.tsig_offset, 0u);
}

TEST(ParseQuery, Rejects) {
  QueryView q;
  EXPECT_EQ(parse_query(Bytes(11, 0), q), QueryStatus::Drop);
  EXPECT_EQ(parse_query(packet(1, 0, 0, 0, kQuestion, 0x8100), q), QueryStatus::Drop);  // QR
  EXPECT_EQ(parse_query(packet(0, 0, 0, 0, {}), q), QueryStatus::FormErr);
  EXPECT_EQ(q.header.id, 0xabcd);  // header still there for the FORMERR reply
  EXPECT_EQ(parse_query(packet(2, 0, 0, 0, cat({kQuestion, kQuestion})), q),
            QueryStatus::FormErr);
  Bytes cut = kQuestion;
  cut.pop_back();
  EXPECT_EQ(parse_query(packet(1, 0, 0, 0, cut), q), QueryStatus::FormErr);
  EXPECT_EQ(parse_query(packet(1, 0, 0, 0, from_hex("c00c00010001")), q), QueryStatus::FormErr);
  EXPECT_EQ(parse_query(packet(1, 0, 0, 2, cat({kQuestion, kOpt, kOpt})), q),
            QueryStatus::FormErr);
  EXPECT_EQ(parse_query(packet(1, 0, 0, 1, cat({kQuestion, {1, 'a'}, kOpt})), q),
            QueryStatus::FormErr);
  EXPECT_EQ(parse_query(packet(1, 1, 0, 0, cat({kQuestion, kOpt})), q), QueryStatus::FormErr);
  Bytes bad_opt = from_hex("00002904d0 00000000 0005 0003 0002 ff");
  EXPECT_EQ(parse_query(packet(1, 0, 0, 1, cat({kQuestion, bad_opt})), q), QueryStatus::FormErr);
  EXPECT_EQ(parse_query(packet(1, 0, 0, 2, cat({kQuestion, kOpt})), q), QueryStatus::FormErr);
  auto r = parse_query(packet(1, 0, 0, 2, cat({kQuestion, kOpt})));
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().message.empty());
}

TEST(ParseQuery, EdnsVersionAndTsig) {
  QueryView q;
  Bytes v1 = from_hex("00002904d000018000 0000");
  ASSERT_EQ(parse_query(packet(1, 0, 0, 1, cat({kQuestion, v1})), q), QueryStatus::Ok);
  EXPECT_TRUE(q.has_edns);
  EXPECT_EQ(q.edns.version, 1);  // caller answers BADVERS
  EXPECT_TRUE(q.edns.do_bit);
  Bytes b = packet(1, 0, 0, 2, cat({kQuestion, kOpt, tsig_rr()}));
  ASSERT_EQ(parse_query(b, q), QueryStatus::Ok) << q.error;
  EXPECT_EQ(q.tsig_offset, 12u + kQuestion.size() + kOpt.size());
  EXPECT_EQ(parse_query(packet(1, 0, 0, 2, cat({kQuestion, tsig_rr(), kOpt})), q),
            QueryStatus::FormErr);
}

TEST(ParseQuery, AgreesWithParseOnRealPackets) {
  for (const char* h : {kDigQuery}) {
    Bytes b = from_hex(h);
    QueryView q;
    ASSERT_EQ(parse_query(b, q), QueryStatus::Ok);
    auto m = parse(b);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(q.name(), m->question[0].name);
    EXPECT_EQ(q.qtype, m->question[0].qtype);
    EXPECT_EQ(q.has_edns, m->edns.has_value());
  }
}

// ---- builder, render ----------------------------------------------------------

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.header.id, b.header.id);
  EXPECT_EQ(a.header.flags, b.header.flags);
  ASSERT_EQ(a.question.size(), b.question.size());
  for (size_t i = 0; i < a.question.size(); ++i) {
    EXPECT_EQ(a.question[i].name, b.question[i].name);
    EXPECT_EQ(a.question[i].qtype, b.question[i].qtype);
  }
  const std::vector<RR>* sa[] = {&a.answer, &a.authority, &a.additional};
  const std::vector<RR>* sb[] = {&b.answer, &b.authority, &b.additional};
  for (int s = 0; s < 3; ++s) {
    ASSERT_EQ(sa[s]->size(), sb[s]->size());
    for (size_t i = 0; i < sa[s]->size(); ++i) {
      const RR& x = (*sa[s])[i];
      const RR& y = (*sb[s])[i];
      EXPECT_EQ(x.owner, y.owner);
      EXPECT_EQ(x.type, y.type);
      EXPECT_EQ(x.rclass, y.rclass);
      EXPECT_EQ(x.ttl, y.ttl);
      EXPECT_EQ(rdata_canonical(x.type, x.rdata), rdata_canonical(y.type, y.rdata));
    }
  }
  ASSERT_EQ(a.edns.has_value(), b.edns.has_value());
  if (a.edns) {
    EXPECT_EQ(a.edns->udp_size, b.edns->udp_size);
    EXPECT_EQ(a.edns->do_bit, b.edns->do_bit);
    EXPECT_EQ(a.edns->options.size(), b.edns->options.size());
  }
}

TEST(Render, RoundTripRealPackets) {
  for (const char* h : {kDigQuery, kNsdMx, kNsdSrv, kNsdCname, kNsdNx}) {
    Bytes orig = from_hex(h);
    auto m1 = parse(orig);
    ASSERT_TRUE(m1.ok()) << m1.error().message;
    auto w = render(*m1);
    ASSERT_TRUE(w.ok()) << w.error().message;
    // Our compression is at least as good as NSD's; for these packets the
    // output is byte-identical.
    EXPECT_EQ(*w, orig) << h;
    auto m2 = parse(*w);
    ASSERT_TRUE(m2.ok()) << m2.error().message;
    expect_same(*m1, *m2);
  }
}

TEST(Builder, SrvTargetNotCompressedMxExchangeIs) {
  Message m;
  m.question.push_back({N("example.test."), uint16_t(RRType::ANY), 1});
  m.answer.push_back(RR{N("example.test."), uint16_t(RRType::MX), 1, 60,
                        from_hex("000a046d61696c076578616d706c65047465737400")});
  m.answer.push_back(RR{N("_sip._udp.example.test."), uint16_t(RRType::SRV), 1, 60,
                        from_hex("000a000513c4046d61696c076578616d706c65047465737400")});
  auto w = render(m);
  ASSERT_TRUE(w.ok());
  // MX rdata: preference + "mail" + pointer to 12 = 9 octets.
  const Bytes mx_rdata = from_hex("0009000a046d61696cc00c");
  EXPECT_NE(std::search(w->begin(), w->end(), mx_rdata.begin(), mx_rdata.end()), w->end());
  // SRV rdata goes out verbatim (RFC 3597 §4), though "mail.example.test" is known.
  const Bytes srv_rdata = from_hex("0019000a000513c4046d61696c076578616d706c65047465737400");
  EXPECT_NE(std::search(w->begin(), w->end(), srv_rdata.begin(), srv_rdata.end()), w->end());
  auto back = parse(*w);
  ASSERT_TRUE(back.ok());
  expect_same(m, *back);
}

TEST(Builder, CompressionShrinksAndDecodes) {
  Message m;
  m.header.set_qr(true);
  m.question.push_back({N("host.zone.example.test."), 1, 1});
  const Name ns = N("ns.zone.example.test.");
  for (int i = 0; i < 20; ++i) {
    // Appended, not "h" + std::to_string(i): GCC 12 at -O3 reports a false
    // -Wrestrict for a literal prepended to a temporary string.
    std::string owner = "h";
    owner += std::to_string(i);
    owner += ".zone.example.test.";
    m.answer.push_back(RR{N(owner),
                          uint16_t(RRType::NS), 1, 60, Bytes(ns.wire().begin(), ns.wire().end())});
  }
  size_t plain = 12 + m.question[0].name.wire_size() + 4;
  for (const auto& rr : m.answer) plain += rr.owner.wire_size() + 10 + rr.rdata.size();
  auto w = render(m);
  ASSERT_TRUE(w.ok());
  EXPECT_LT(w->size(), plain / 2);
  auto back = parse(*w);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(m, *back);
}

TEST(Builder, KeepsQuestionCaseAndCompressesCaseInsensitively) {
  uint8_t buf[512];
  MessageBuilder b(buf, sizeof buf);
  ASSERT_TRUE(b.add_question(N("WWW.Example.TEST."), 1, 1));
  const Bytes a[] = {A(1)};
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Answer, N("www.example.test."), 1, 1, 60, a));
  const size_t n = b.finish();
  // The answer owner is a single pointer to the question name.
  EXPECT_EQ(n, 12u + 22u + 2u + 10u + 4u);
  EXPECT_EQ(buf[34], 0xC0);
  EXPECT_EQ(buf[35], 12);
  auto m = parse({buf, n});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->question[0].name.to_text(), "WWW.Example.TEST.");
}

TEST(Builder, Rotation) {
  uint8_t buf[512];
  MessageBuilder b(buf, sizeof buf);
  ASSERT_TRUE(b.add_question(N("example.test."), 1, 1));
  const Bytes rd[] = {A(1), A(2), A(3)};
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 1, 1, 60, rd, 4));
  auto m = parse({buf, b.finish()});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->answer.size(), 3u);
  EXPECT_EQ(m->answer[0].rdata, A(2));
  EXPECT_EQ(m->answer[1].rdata, A(3));
  EXPECT_EQ(m->answer[2].rdata, A(1));
  // The span-of-spans overload writes the same.
  uint8_t buf2[512];
  MessageBuilder b2(buf2, sizeof buf2);
  ASSERT_TRUE(b2.add_question(N("example.test."), 1, 1));
  const std::span<const uint8_t> sp[] = {rd[0], rd[1], rd[2]};
  ASSERT_TRUE(b2.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 1, 1, 60,
                           std::span<const std::span<const uint8_t>>(sp), 4));
  ASSERT_EQ(b2.finish(), b.finish());
  EXPECT_EQ(0, std::memcmp(buf, buf2, b.finish()));
}

TEST(Builder, TruncationIsAllOrNothingAndKeepsOpt) {
  uint8_t buf[512];
  MessageBuilder b(buf, sizeof buf);
  Header h;
  h.id = 7;
  h.set_qr(true);
  b.set_header(h);
  Edns e;
  e.udp_size = 512;
  e.options.push_back({3, Bytes{'n', 's', '1'}});  // NSID
  b.set_edns(e);
  ASSERT_TRUE(b.add_question(N("example.test."), 1, 1));
  // RRsets of 5 AAAA records, 5 * (2 + 10 + 16) = 140 octets each.
  std::vector<Bytes> rds(5, Bytes(16, 0x20));
  int added = 0;
  for (int i = 0; i < 10; ++i) {
    if (b.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 28, 1, 60, rds)) {
      ++added;
    } else {
      b.set_tc();
      break;
    }
  }
  EXPECT_TRUE(b.dropped());
  const size_t n = b.finish();
  EXPECT_LE(n, 512u);
  auto m = parse({buf, n});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->header.tc());
  EXPECT_EQ(int(m->answer.size()), added * 5);
  EXPECT_EQ(added, 3);  // 12 + 18 + 3*140 + OPT 18 = 468; a 4th does not fit
  ASSERT_TRUE(m->edns);
  ASSERT_EQ(m->edns->options.size(), 1u);
  EXPECT_EQ(m->edns->options[0].data, (Bytes{'n', 's', '1'}));
}

TEST(Builder, FailedRRsetLeavesNoCompressionEntries) {
  uint8_t buf[100];
  MessageBuilder b(buf, sizeof buf);
  ASSERT_TRUE(b.add_question(N("example.test."), 1, 1));
  std::vector<Bytes> big(1, Bytes(80, 0));
  // Owner "other.example.test" would register a label at 30; the RRset
  // fails, and "zz.example.test" is written there instead. A stale entry
  // would make the later "other" owner point at "zz".
  EXPECT_FALSE(b.add_rrset(MessageBuilder::Section::Answer, N("other.example.test."), 99, 1, 0,
                           big));
  const Bytes rd[] = {A(1)};
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Answer, N("zz.example.test."), 1, 1, 0, rd));
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Answer, N("other.example.test."), 1, 1, 0, rd));
  auto m = parse({buf, b.finish()});
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->answer.size(), 2u);
  EXPECT_EQ(m->answer[0].owner, N("zz.example.test."));
  EXPECT_EQ(m->answer[1].owner, N("other.example.test."));
}

TEST(Builder, ExtendedRcodeAndSectionOrder) {
  uint8_t buf[512];
  MessageBuilder b(buf, sizeof buf);
  Edns e;
  b.set_edns(e);
  b.set_rcode(uint16_t(Rcode::BadVers));
  ASSERT_TRUE(b.add_question(N("example.test."), 1, 1));
  const Bytes rd[] = {A(1)};
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Additional, N("example.test."), 1, 1, 0, rd));
  EXPECT_FALSE(b.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 1, 1, 0, rd));
  EXPECT_FALSE(b.add_question(N("example.test."), 1, 1));
  const size_t n = b.finish();
  EXPECT_EQ(b.finish(), n);  // idempotent
  auto m = parse({buf, n});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rcode(), 16);
  EXPECT_EQ(m->additional.size(), 1u);
  EXPECT_TRUE(m->edns);
}

TEST(Builder, TinyCapacity) {
  uint8_t buf[12];
  MessageBuilder b(buf, 11);
  EXPECT_FALSE(b.add_question(N("example.test."), 1, 1));
  EXPECT_EQ(b.finish(), 0u);
  MessageBuilder b2(buf, 12);
  Edns e;
  b2.set_edns(e);  // does not fit: dropped
  EXPECT_FALSE(b2.has_edns());
  EXPECT_EQ(b2.finish(), 12u);
}

TEST(Render, OptBeforeTsigAndLimit) {
  auto m = parse(packet(1, 0, 0, 2, cat({kQuestion, kOpt, tsig_rr()})));
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto w = render(*m);
  ASSERT_TRUE(w.ok());
  auto back = parse(*w);
  ASSERT_TRUE(back.ok()) << back.error().message;  // TSIG still last
  EXPECT_EQ(*w, packet(1, 0, 0, 2, cat({kQuestion, kOpt, tsig_rr()})));
  auto small = render(*m, 40);
  ASSERT_FALSE(small.ok());
  EXPECT_TRUE(contains(small.error().message, "does not fit in 40")) << small.error().message;
}

TEST(MessageParse, OptOwnerPointerToRoot) {
  // An OPT owner that is a pointer to a root label is still the root; both
  // parsers agree. The root label sits at offset 25 (end of the qname).
  Bytes opt = cat({from_hex("c019"), Bytes(kOpt.begin() + 1, kOpt.end())});
  Bytes b = packet(1, 0, 0, 1, cat({kQuestion, opt}));
  EXPECT_EQ(parse_error(b), "OK");
  QueryView q;
  EXPECT_EQ(parse_query(b, q), QueryStatus::Ok) << q.error;
  EXPECT_TRUE(q.has_edns);
}

TEST(MessageText, DigLike) {
  auto m = parse(from_hex(kDigQuery));
  ASSERT_TRUE(m.ok());
  const std::string t = to_text(*m);
  EXPECT_TRUE(contains(t, ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 14683\n")) << t;
  EXPECT_TRUE(contains(t, ";; flags: rd ad; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1\n"))
      << t;
  EXPECT_TRUE(contains(t, "; COOKIE: B11094CE1CDDC7C2\n")) << t;
  EXPECT_TRUE(contains(t, ";; QUESTION SECTION:\n;www.Example.TEST.\t\tIN\tAAAA\n")) << t;
  auto r = parse(from_hex(kNsdMx));
  ASSERT_TRUE(r.ok());
  const std::string t2 = to_text(*r);
  EXPECT_TRUE(contains(t2, ";; ANSWER SECTION:\nexample.test.\t3600\tIN\tMX\t10 mail.example.test.\n"))
      << t2;
  EXPECT_TRUE(contains(t2, "mail2.example.test.\t3600\tIN\tAAAA\t2001:db8::10\n")) << t2;
}

TEST(Builder, LateSetEdnsThatDoesNotFitIsDropped) {
  uint8_t buf[64];
  MessageBuilder b(buf, sizeof buf);
  ASSERT_TRUE(b.add_question(N("example.test."), 1, 1));  // 30 octets
  const Bytes rd[] = {Bytes(20, 1)};
  ASSERT_TRUE(b.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 99, 1, 0, rd));
  EXPECT_EQ(b.size(), 62u);
  b.set_edns(Edns{});
  EXPECT_FALSE(b.has_edns());
  auto m = parse({buf, b.finish()});
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->edns);
  // Early set_edns: the same RRset no longer fits, the OPT does.
  MessageBuilder b2(buf, sizeof buf);
  b2.set_edns(Edns{});
  ASSERT_TRUE(b2.add_question(N("example.test."), 1, 1));
  EXPECT_FALSE(b2.add_rrset(MessageBuilder::Section::Answer, N("example.test."), 99, 1, 0, rd));
  auto m2 = parse({buf, b2.finish()});
  ASSERT_TRUE(m2.ok());
  EXPECT_TRUE(m2->edns);
  EXPECT_TRUE(m2->answer.empty());
}

}  // namespace
}  // namespace ddns::wire
