// TSIG tests: known-answer packets signed by BIND 9.18 (dig -y, nsupdate -k)
// and answered by Knot DNS, every RFC 8945 §5.2 error, MAC truncation
// rules, sign/verify round trips for all algorithms, and §5.3.1 streams.
#include "tsig/tsig.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/encoding.h"
#include "tsig/keyfile.h"
#include "wire/message.h"

namespace ddns::tsig {
namespace {

Bytes hex(std::string_view h) {
  Bytes out;
  EXPECT_TRUE(hex_decode(h, out)) << h;
  return out;
}

wire::Name N(std::string_view s) {
  static const wire::Name root;
  auto n = wire::Name::from_text(s, &root);
  EXPECT_TRUE(n.ok()) << s;
  return n.ok() ? *n : root;
}

// Base64 of "ddns-tsig-known-answer-test-secret!", the secret all captured
// packets were signed with.
constexpr std::string_view kSecretB64 = "ZGRucy10c2lnLWtub3duLWFuc3dlci10ZXN0LXNlY3JldCE=";

Bytes secret() {
  Bytes s;
  EXPECT_TRUE(base64_decode(kSecretB64, s));
  return s;
}

// A packet parsed the way the server does it.
struct Parsed {
  Bytes bytes;
  wire::Message msg;
  wire::ParseInfo info;
  const wire::RR& tsig() const { return msg.additional.back(); }
};

Parsed parse_packet(Bytes b) {
  Parsed p;
  p.bytes = std::move(b);
  auto m = wire::parse(p.bytes, &p.info);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (m.ok()) p.msg = std::move(*m);
  return p;
}

// ---- Captured from BIND 9.18.49: dig -y ALG:Key.Example.Test:SECRET
// -p PORT @127.0.0.1 www.example.test A, at time 1795303977 (fudge 300).
// dig lowercases the key name.
constexpr uint64_t kDigTime = 1795303977;
struct DigCapture {
  Algorithm alg;
  const char* hex;
};
const DigCapture kDig[] = {
    {Algorithm::HmacSha256,
     "0e080120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a0008ae115c515596f93c036b6579076578616d706c6504746573740000fa00ff00000000003d0b686d6163"
     "2d7368613235360000006b022a29012c002067625e1a39d6cbc77ebf7fb56d87133543ba86b4002e38aa7277b7"
     "03a42ae8930e0800000000"},
    {Algorithm::HmacSha1,
     "3f110120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a0008ed18ab1bebd946f3036b6579076578616d706c6504746573740000fa00ff00000000002f09686d6163"
     "2d736861310000006b022a29012c00140196ee31d44a496d146efafd70de82389cd37d0d3f1100000000"},
    {Algorithm::HmacSha224,
     "9ac60120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a000887986be94b1bf623036b6579076578616d706c6504746573740000fa00ff0000000000390b686d6163"
     "2d7368613232340000006b022a29012c001c0eba9599c178bc033ed3e14d8c295ca8ba3f0ad6a66cfd744d37c5"
     "349ac600000000"},
    {Algorithm::HmacSha384,
     "13350120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a00080c1c7352dd6d52ba036b6579076578616d706c6504746573740000fa00ff00000000004d0b686d6163"
     "2d7368613338340000006b022a29012c00309a90f979e087ab9b2ef1931e30d18d001d6add972503f5e0257f11"
     "a6a7ae354b5a51b613b05b05b1a857952ec62d6d61133500000000"},
    {Algorithm::HmacSha512,
     "759b0120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a0008abad7af8e9c95573036b6579076578616d706c6504746573740000fa00ff00000000005d0b686d6163"
     "2d7368613531320000006b022a29012c00404df7177b0268c7a65a79271b9038d6a4943f473ca538f2c825a6fc"
     "27168ada746c7f670727a62ef02874d1912f70e671fec1c12a465c886be48b8dd11092cec3759b00000000"},
    {Algorithm::HmacMd5,
     "d3620120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
     "000a00089cc40103b19b664f036b6579076578616d706c6504746573740000fa00ff00000000003a08686d6163"
     "2d6d6435077369672d616c670372656703696e740000006b022a29012c0010a138398ff5d9bb8e39d1c86ebb58"
     "8019d36200000000"},
};

// nsupdate -k (key "upd.example.test", hmac-sha256): an RFC 2136 UPDATE
// adding host.example.test 300 A 192.0.2.7, at 1795303977.
constexpr std::string_view kNsupdate =
    "b7cb28000001000000010001076578616d706c650474657374000006000104686f7374c00c000100010000012c"
    "0004c000020703757064076578616d706c6504746573740000fa00ff00000000003d0b686d61632d7368613235"
    "360000006b022a29012c00208c65c95b80d04f184c4585b4b06ee91d3442b57e4c0ff0267af0f4905333fd8cb7"
    "cb00000000";

// dig -y hmac-sha256:resp.example.test:SECRET through a proxy to knotd
// 3.x with that key: the query and Knot's signed answer, at 1795303991.
constexpr uint64_t kKnotTime = 1795303991;
constexpr std::string_view kKnotQuery =
    "67a70120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
    "000a0008b2e79798c0acffd90472657370076578616d706c6504746573740000fa00ff00000000003d0b686d61"
    "632d7368613235360000006b022a37012c0020dfec2cc997acd0721e2a2515aa0534efb0e149f7e33aafb335ba"
    "9ffe092fe97c67a700000000";
constexpr std::string_view kKnotResponse =
    "67a78500000100010000000203777777076578616d706c6504746573740000010001c00c000100010000012c00"
    "04c000025000002904d00000000000000472657370076578616d706c6504746573740000fa00ff00000000003d"
    "0b686d61632d7368613235360000006b022a37012c0020fdba37355d5945d7890d785a8aab7c0f396d9da07172"
    "cad5ee95dcb9f47c374967a700000000";
// The same before the key was allowed by an ACL: Knot's unsigned BADKEY
// answer (RFC 8945 §5.3.2), at 1795303988.
constexpr uint64_t kKnotBadKeyTime = 1795303988;
constexpr std::string_view kKnotBadKeyQuery =
    "bbd00120000100000000000203777777076578616d706c650474657374000001000100002904d000000000000c"
    "000a000878f52d35d4aff5020472657370076578616d706c6504746573740000fa00ff00000000003d0b686d61"
    "632d7368613235360000006b022a34012c0020c5dd0bef074d6f026954a1429e6705a6fed4fa0f128fc53cb847"
    "d2d05ac75a42bbd000000000";
constexpr std::string_view kKnotBadKeyResponse =
    "bbd08109000100000000000203777777076578616d706c650474657374000001000100002904d0000000000000"
    "0472657370076578616d706c6504746573740000fa00ff00000000001d0b686d61632d7368613235360000006b"
    "022a34012c0000bbd000110000";

KeyRing ring_with(const Key& k) {
  KeyRing r;
  EXPECT_TRUE(r.add(k));
  return r;
}

// The message without its TSIG RR and with ARCOUNT decremented, i.e. what
// a signer starts from.
Bytes strip_tsig(const Parsed& p) {
  Bytes b(p.bytes.begin(), p.bytes.begin() + p.info.tsig_offset);
  uint16_t ar = uint16_t(b[10] << 8 | b[11]) - 1;
  b[10] = uint8_t(ar >> 8);
  b[11] = uint8_t(ar);
  return b;
}

// Replaces the TSIG RR of a parsed packet with `t` (to forge variants).
Bytes with_tsig(const Parsed& p, const TsigRecord& t) {
  Bytes b(p.bytes.begin(), p.bytes.begin() + p.info.tsig_offset);
  wire::RR rr = to_rr(t);
  auto ow = rr.owner.wire();
  b.insert(b.end(), ow.begin(), ow.end());
  for (uint16_t v : {rr.type, rr.rclass}) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
  }
  b.insert(b.end(), {0, 0, 0, 0});
  b.push_back(uint8_t(rr.rdata.size() >> 8));
  b.push_back(uint8_t(rr.rdata.size()));
  b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
  return b;
}

TEST(TsigKat, DigRequestsAllAlgorithms) {
  for (const auto& c : kDig) {
    SCOPED_TRACE(std::string(algorithm_text(c.alg)));
    Parsed p = parse_packet(hex(c.hex));
    ASSERT_NE(p.info.tsig_offset, 0u);
    // Configured with other case than sent: lookup ignores case.
    KeyRing ring = ring_with(Key{N("KEY.example.TEST"), c.alg, secret()});
    Verified v = verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime);
    EXPECT_EQ(v.status, Status::Ok) << v.reason;
    EXPECT_EQ(v.rcode(), wire::Rcode::NoError);
    EXPECT_EQ(v.tsig.time_signed, kDigTime);
    EXPECT_EQ(v.tsig.fudge, 300);
    EXPECT_EQ(v.mac().size(), digest_size(c.alg));
    ASSERT_TRUE(v.key.has_value());
    EXPECT_EQ(v.key->alg, c.alg);

    // Edges of the fudge window (the request's fudge, 300).
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime + 300).status, Status::Ok);
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime - 300).status, Status::Ok);
    Verified late = verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime + 301);
    EXPECT_EQ(late.status, Status::BadTime);
    EXPECT_EQ(late.rcode(), wire::Rcode::NotAuth);
    EXPECT_EQ(late.error(), TsigError::BadTime);
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime - 301).status,
              Status::BadTime);

    // Wrong secret.
    Bytes wrong = secret();
    wrong[0] ^= 1;
    KeyRing bad = ring_with(Key{N("key.example.test"), c.alg, wrong});
    Verified bs = verify_request(p.bytes, p.info, p.tsig(), bad, kDigTime);
    EXPECT_EQ(bs.status, Status::BadSig);
    EXPECT_EQ(bs.error(), TsigError::BadSig);

    // Unknown key; known key with another algorithm.
    KeyRing other = ring_with(Key{N("other.example.test"), c.alg, secret()});
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), other, kDigTime).status, Status::BadKey);
    Algorithm alt = c.alg == Algorithm::HmacSha256 ? Algorithm::HmacSha1 : Algorithm::HmacSha256;
    KeyRing mism = ring_with(Key{N("key.example.test"), alt, secret()});
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), mism, kDigTime).status, Status::BadKey);
    EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), KeyRing{}, kDigTime).status,
              Status::BadKey);

    // A flipped bit anywhere in the signed part fails.
    for (size_t at : {size_t(2), size_t(20), p.info.tsig_offset - 1}) {
      Parsed q = p;
      q.bytes[at] ^= 0x20;  // flips case / flags; still parses
      auto m = wire::parse(q.bytes, &q.info);
      if (!m) continue;
      q.msg = std::move(*m);
      EXPECT_EQ(verify_request(q.bytes, q.info, q.tsig(), ring, kDigTime).status, Status::BadSig)
          << "offset " << at;
    }
  }
}

TEST(TsigKat, NsupdateRequest) {
  Parsed p = parse_packet(hex(kNsupdate));
  EXPECT_EQ(p.msg.header.opcode(), wire::Opcode::Update);
  KeyRing ring = ring_with(Key{N("upd.example.test"), Algorithm::HmacSha256, secret()});
  Verified v = verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime);
  EXPECT_EQ(v.status, Status::Ok) << v.reason;
  EXPECT_EQ(v.tsig.original_id, 0xb7cb);
}

TEST(TsigKat, IdRewrittenInTransitStillVerifies) {
  // RFC 8945 §4.3.3: the digest uses the Original ID (a forwarder may
  // have changed the header's).
  Parsed p = parse_packet(hex(kNsupdate));
  p.bytes[0] = 0x12;
  p.bytes[1] = 0x34;
  KeyRing ring = ring_with(Key{N("upd.example.test"), Algorithm::HmacSha256, secret()});
  EXPECT_EQ(verify_request(p.bytes, p.info, p.tsig(), ring, kDigTime).status, Status::Ok);
}

TEST(TsigKat, KnotSignedResponse) {
  Key key{N("resp.example.test"), Algorithm::HmacSha256, secret()};
  Parsed q = parse_packet(hex(kKnotQuery));
  Verified v = verify_request(q.bytes, q.info, q.tsig(), ring_with(key), kKnotTime);
  ASSERT_EQ(v.status, Status::Ok) << v.reason;

  // Knot's answer verifies as a response to that request (client side).
  Parsed r = parse_packet(hex(kKnotResponse));
  Verified rv = verify_response(r.bytes, r.info, r.tsig(), key, v.mac(), kKnotTime);
  EXPECT_EQ(rv.status, Status::Ok) << rv.reason;
  // ... and not against another request MAC.
  Bytes other_mac = v.tsig.mac;
  other_mac[0] ^= 1;
  EXPECT_EQ(verify_response(r.bytes, r.info, r.tsig(), key, other_mac, kKnotTime).status,
            Status::BadSig);

  // Signing Knot's answer (minus its TSIG) ourselves, at the same second,
  // gives exactly Knot's bytes.
  Bytes ours = strip_tsig(r);
  Bytes mac;
  ASSERT_TRUE(sign_response(ours, v, kKnotTime, &mac).ok());
  EXPECT_EQ(hex_encode(ours, false), kKnotResponse);
  EXPECT_EQ(mac, rv.tsig.mac);
}

TEST(TsigKat, KnotUnsignedBadKey) {
  Parsed q = parse_packet(hex(kKnotBadKeyQuery));
  // Our server without that key: BADKEY, like Knot.
  Verified v = verify_request(q.bytes, q.info, q.tsig(), KeyRing{}, kKnotBadKeyTime);
  ASSERT_EQ(v.status, Status::BadKey);
  EXPECT_FALSE(v.key.has_value());

  Parsed r = parse_packet(hex(kKnotBadKeyResponse));
  Key key{N("resp.example.test"), Algorithm::HmacSha256, secret()};
  Verified rv = verify_response(r.bytes, r.info, r.tsig(), key, v.mac(), kKnotBadKeyTime);
  EXPECT_EQ(rv.status, Status::Unsigned);
  EXPECT_EQ(rv.tsig.error, uint16_t(TsigError::BadKey));

  // Our unsigned BADKEY answer is byte-identical to Knot's (header RCODE
  // becomes NOTAUTH, empty MAC, the request's names).
  Bytes ours = strip_tsig(r);
  ours[3] &= 0xF0;  // start from NOERROR: the signer sets NOTAUTH
  EXPECT_EQ(tsig_size(v), r.bytes.size() - r.info.tsig_offset);
  ASSERT_TRUE(sign_response(ours, v, kKnotBadKeyTime).ok());
  EXPECT_EQ(hex_encode(ours, false), kKnotBadKeyResponse);
}

// ---- Built messages ---------------------------------------------------------

Bytes make_query(uint16_t id, std::string_view qname = "www.example.test.") {
  wire::Message m;
  m.header.id = id;
  m.header.set_rd(true);
  m.question.push_back({N(qname), 1, 1});
  m.edns = wire::Edns{};
  auto r = wire::render(m);
  EXPECT_TRUE(r.ok());
  return *r;
}

Bytes make_answer(const Bytes& query, uint8_t last_octet) {
  auto m = wire::parse(query);
  EXPECT_TRUE(m.ok());
  wire::Message a;
  a.header = m->header;
  a.header.set_qr(true);
  a.header.set_aa(true);
  a.question = m->question;
  a.answer.push_back({m->question[0].name, 1, 1, 300, Bytes{192, 0, 2, last_octet}});
  a.edns = wire::Edns{};
  auto r = wire::render(a);
  EXPECT_TRUE(r.ok());
  return *r;
}

const Algorithm kAllAlgs[] = {Algorithm::HmacMd5,    Algorithm::HmacSha1,
                              Algorithm::HmacSha224, Algorithm::HmacSha256,
                              Algorithm::HmacSha384, Algorithm::HmacSha512};

TEST(TsigRoundTrip, EveryAlgorithmRequestAndResponse) {
  for (Algorithm alg : kAllAlgs) {
    SCOPED_TRACE(std::string(algorithm_text(alg)));
    auto key = generate_key(N("rt.example.test"), alg);
    ASSERT_TRUE(key.ok());
    const uint64_t t = 1700000000;

    Bytes q = make_query(0x4242);
    size_t unsigned_size = q.size();
    Bytes req_mac;
    ASSERT_TRUE(sign_request(q, *key, t, &req_mac).ok());
    EXPECT_EQ(q.size(), unsigned_size + tsig_size(*key));
    EXPECT_EQ(req_mac.size(), digest_size(alg));
    Parsed pq = parse_packet(q);
    EXPECT_EQ(pq.msg.additional.size(), 1u);
    Verified v = verify_request(pq.bytes, pq.info, pq.tsig(), ring_with(*key), t + 5);
    ASSERT_EQ(v.status, Status::Ok) << v.reason;
    EXPECT_EQ(v.tsig.mac, req_mac);
    EXPECT_EQ(v.tsig.algorithm, algorithm_name(alg));

    Bytes a = make_answer(q, 9);
    Bytes resp_mac;
    size_t before = a.size();
    ASSERT_TRUE(sign_response(a, v, t + 6, &resp_mac).ok());
    EXPECT_EQ(a.size(), before + tsig_size(v));
    Parsed pa = parse_packet(a);
    Verified rv = verify_response(pa.bytes, pa.info, pa.tsig(), *key, req_mac, t + 7);
    EXPECT_EQ(rv.status, Status::Ok) << rv.reason;
    EXPECT_EQ(rv.tsig.mac, resp_mac);
    EXPECT_EQ(rv.tsig.error, 0);
    // A response is not a valid request (the request MAC is chained in).
    EXPECT_EQ(verify_request(pa.bytes, pa.info, pa.tsig(), ring_with(*key), t).status,
              Status::BadSig);
  }
}

TEST(TsigRoundTrip, BufferApiAndNoRoom) {
  Key key{N("k.example.test"), Algorithm::HmacSha256, Bytes(32, 7)};
  Bytes q = make_query(1);
  size_t len = q.size();
  Bytes buf(q);
  buf.resize(len + tsig_size(key) - 1);
  auto r = sign_request(buf.data(), len, buf.size(), key, 1, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(std::equal(q.begin(), q.end(), buf.begin()));  // untouched
  buf.resize(len + tsig_size(key));
  r = sign_request(buf.data(), len, buf.size(), key, 1, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, buf.size());
  EXPECT_FALSE(sign_request(buf.data(), 5, buf.size(), key, 1, nullptr).ok());
}

TEST(TsigErrors, BadTimeAnswerIsSignedWithServerTime) {
  Key key{N("k.example.test"), Algorithm::HmacSha256, Bytes(32, 1)};
  const uint64_t client = 1700000000, server = client + 1000;
  Bytes q = make_query(7);
  Bytes req_mac;
  ASSERT_TRUE(sign_request(q, key, client, &req_mac).ok());
  Parsed pq = parse_packet(q);
  Verified v = verify_request(pq.bytes, pq.info, pq.tsig(), ring_with(key), server);
  ASSERT_EQ(v.status, Status::BadTime);
  ASSERT_TRUE(v.key.has_value());

  Bytes a = make_answer(q, 1);
  size_t before = a.size();
  ASSERT_TRUE(sign_response(a, v, server).ok());
  EXPECT_EQ(a.size(), before + tsig_size(v));
  Parsed pa = parse_packet(a);
  EXPECT_EQ(pa.msg.header.rcode(), uint8_t(wire::Rcode::NotAuth));
  // The client verifies it at its own (skewed) clock: §5.2.3 echoes the
  // client's Time Signed and puts the server time in Other Data.
  Verified rv = verify_response(pa.bytes, pa.info, pa.tsig(), key, req_mac, client);
  ASSERT_EQ(rv.status, Status::Ok) << rv.reason;
  EXPECT_EQ(rv.tsig.error, uint16_t(TsigError::BadTime));
  EXPECT_EQ(rv.tsig.time_signed, client);
  ASSERT_EQ(rv.tsig.other.size(), 6u);
  uint64_t other = 0;
  for (uint8_t b : rv.tsig.other) other = other << 8 | b;
  EXPECT_EQ(other, server);
}

TEST(TsigErrors, BadSigAnswerIsUnsigned) {
  Key key{N("k.example.test"), Algorithm::HmacSha1, Bytes(20, 1)};
  Key wrong{N("k.example.test"), Algorithm::HmacSha1, Bytes(20, 2)};
  Bytes q = make_query(8);
  Bytes req_mac;
  ASSERT_TRUE(sign_request(q, key, 100, &req_mac).ok());
  Parsed pq = parse_packet(q);
  Verified v = verify_request(pq.bytes, pq.info, pq.tsig(), ring_with(wrong), 100);
  ASSERT_EQ(v.status, Status::BadSig);
  Bytes a = make_answer(q, 1);
  ASSERT_TRUE(sign_response(a, v, 100).ok());
  Parsed pa = parse_packet(a);
  EXPECT_EQ(pa.msg.header.rcode(), uint8_t(wire::Rcode::NotAuth));
  auto t = parse_tsig(pa.tsig());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->mac.empty());
  EXPECT_EQ(t->error, uint16_t(TsigError::BadSig));
  EXPECT_EQ(t->key_name, key.name);
  EXPECT_EQ(verify_response(pa.bytes, pa.info, pa.tsig(), key, req_mac, 100).status,
            Status::Unsigned);
}

TEST(TsigErrors, FormErrNeverSigned) {
  Key key{N("k.example.test"), Algorithm::HmacSha256, Bytes(32, 1)};
  Bytes q = make_query(9);
  ASSERT_TRUE(sign_request(q, key, 100, nullptr).ok());
  Parsed pq = parse_packet(q);
  // Class must be ANY.
  wire::RR rr = pq.tsig();
  rr.rclass = 1;
  Verified v = verify_request(pq.bytes, pq.info, rr, ring_with(key), 100);
  EXPECT_EQ(v.status, Status::FormErr);
  EXPECT_EQ(v.rcode(), wire::Rcode::FormErr);
  Bytes a = make_answer(q, 1);
  size_t n = a.size();
  ASSERT_TRUE(sign_response(a, v, 100).ok());
  EXPECT_EQ(a.size(), n);
  // Truncated or overlong RDATA.
  for (int cut : {1, 10, 30}) {
    rr = pq.tsig();
    rr.rdata.resize(rr.rdata.size() - cut);
    EXPECT_EQ(verify_request(pq.bytes, pq.info, rr, ring_with(key), 100).status, Status::FormErr);
  }
  rr = pq.tsig();
  rr.rdata.push_back(0);
  EXPECT_EQ(verify_request(pq.bytes, pq.info, rr, ring_with(key), 100).status, Status::FormErr);
  // A compressed algorithm name (RFC 3597 §4) is not accepted.
  rr = pq.tsig();
  rr.rdata.erase(rr.rdata.begin(), rr.rdata.begin() + algorithm_name(key.alg).wire_size());
  rr.rdata.insert(rr.rdata.begin(), {0xC0, 0x0C});
  EXPECT_FALSE(parse_tsig(rr).ok());
  // ParseInfo that does not fit the packet.
  wire::ParseInfo bad{pq.info.end, pq.bytes.size() + 5};
  EXPECT_EQ(verify_request(pq.bytes, bad, pq.tsig(), ring_with(key), 100).status,
            Status::FormErr);
}

// RFC 8945 §5.2.2.1: forge requests whose MAC is the real one truncated.
TEST(TsigTruncation, SizeRules) {
  struct Case {
    Algorithm alg;
    size_t min_legal;  // max(10, hash/2)
  };
  for (Case c : {Case{Algorithm::HmacMd5, 10}, Case{Algorithm::HmacSha1, 10},
                 Case{Algorithm::HmacSha224, 14}, Case{Algorithm::HmacSha256, 16},
                 Case{Algorithm::HmacSha384, 24}, Case{Algorithm::HmacSha512, 32}}) {
    SCOPED_TRACE(std::string(algorithm_text(c.alg)));
    Key key{N("t.example.test"), c.alg, Bytes(digest_size(c.alg), 3)};
    KeyRing ring = ring_with(key);
    Bytes q = make_query(11);
    ASSERT_TRUE(sign_request(q, key, 100, nullptr).ok());
    Parsed pq = parse_packet(q);
    TsigRecord t = *parse_tsig(pq.tsig());
    auto verify_with_mac = [&](Bytes mac, const VerifyOptions& o = {}) {
      TsigRecord f = t;
      f.mac = std::move(mac);
      Parsed p = parse_packet(with_tsig(pq, f));
      return verify_request(p.bytes, p.info, p.tsig(), ring, 100, o);
    };
    const Bytes& full = t.mac;
    auto prefix = [&](size_t n) { return Bytes(full.begin(), full.begin() + n); };
    // Rule 2: full length.
    EXPECT_EQ(verify_with_mac(full).status, Status::Ok);
    // Rule 4: legal truncation is compared on the octets present.
    Verified tr = verify_with_mac(prefix(c.min_legal));
    EXPECT_EQ(tr.status, Status::Ok) << tr.reason;
    EXPECT_EQ(tr.mac().size(), c.min_legal);
    Bytes wrong = prefix(c.min_legal);
    wrong.back() ^= 1;
    EXPECT_EQ(verify_with_mac(wrong).status, Status::BadSig);
    // Rule 3: below max(10, hash/2), including empty: FORMERR.
    EXPECT_EQ(verify_with_mac(prefix(c.min_legal - 1)).status, Status::FormErr);
    EXPECT_EQ(verify_with_mac({}).status, Status::FormErr);
    // Rule 1: longer than the hash: FORMERR.
    Bytes longer = full;
    longer.push_back(0);
    EXPECT_EQ(verify_with_mac(longer).status, Status::FormErr);
    // §5.2.4: legal but below local policy: BADTRUNC (after the MAC check).
    VerifyOptions strict{digest_size(c.alg)};
    EXPECT_EQ(verify_with_mac(prefix(c.min_legal), strict).status, Status::BadTrunc);
    EXPECT_EQ(verify_with_mac(wrong, strict).status, Status::BadSig);
    EXPECT_EQ(verify_with_mac(full, strict).status, Status::Ok);

    // The answer to a truncated request chains the truncated MAC.
    Bytes a = make_answer(q, 2);
    ASSERT_TRUE(sign_response(a, tr, 100).ok());
    Parsed pa = parse_packet(a);
    EXPECT_EQ(verify_response(pa.bytes, pa.info, pa.tsig(), key, tr.mac(), 100).status,
              Status::Ok);
    // A BADTRUNC answer is signed, error 22.
    Verified bt = verify_with_mac(prefix(c.min_legal), strict);
    Bytes a2 = make_answer(q, 3);
    ASSERT_TRUE(sign_response(a2, bt, 100).ok());
    Parsed pa2 = parse_packet(a2);
    Verified rv = verify_response(pa2.bytes, pa2.info, pa2.tsig(), key, bt.mac(), 100);
    EXPECT_EQ(rv.status, Status::Ok);
    EXPECT_EQ(rv.tsig.error, uint16_t(TsigError::BadTrunc));
  }
}

// ---- RFC 8945 §5.3.1 streams ------------------------------------------------

struct StreamFixture {
  Key key{N("xfr.example.test"), Algorithm::HmacSha256, Bytes(32, 9)};
  Bytes req_mac;
  Verified request;
  StreamFixture() {
    Bytes q = make_query(0x7777, "example.test.");
    EXPECT_TRUE(sign_request(q, key, 1000, &req_mac).ok());
    Parsed p = parse_packet(q);
    request = verify_request(p.bytes, p.info, p.tsig(), ring_with(key), 1000);
    EXPECT_TRUE(request.ok());
  }
};

TEST(TsigStream, SignedUnsignedSignedVerifies) {
  StreamFixture f;
  StreamSigner s(f.key, f.request.mac());
  std::vector<Bytes> msgs;
  for (uint8_t i = 0; i < 6; ++i) msgs.push_back(make_answer(make_query(0x7777), i));
  // Messages 0, 3 and 5 signed; 1, 2 and 4 unsigned.
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (i == 0 || i == 3 || i == 5) {
      ASSERT_TRUE(s.sign(msgs[i], 1000 + i).ok());
    } else {
      ASSERT_TRUE(s.add_unsigned(msgs[i]).ok());
    }
  }
  // The first message equals a plain sign_response().
  Bytes first = make_answer(make_query(0x7777), 0);
  ASSERT_TRUE(sign_response(first, f.request, 1000).ok());
  EXPECT_EQ(first, msgs[0]);

  StreamVerifier v(f.key, f.req_mac);
  for (size_t i = 0; i < msgs.size(); ++i) {
    Parsed p = parse_packet(msgs[i]);
    const wire::RR* rr = p.info.tsig_offset ? &p.tsig() : nullptr;
    Verified r = v.verify(p.bytes, p.info, rr, 1002);
    EXPECT_EQ(r.status, Status::Ok) << i << ": " << r.reason;
    EXPECT_EQ(v.complete(), rr != nullptr);
  }
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(s.last_mac().empty());
}

TEST(TsigStream, TamperedUnsignedMessageBreaksNextSignature) {
  StreamFixture f;
  StreamSigner s(f.key, f.request.mac());
  Bytes m0 = make_answer(make_query(0x7777), 0), m1 = make_answer(make_query(0x7777), 1),
        m2 = make_answer(make_query(0x7777), 2);
  ASSERT_TRUE(s.sign(m0, 1000).ok());
  ASSERT_TRUE(s.add_unsigned(m1).ok());
  ASSERT_TRUE(s.sign(m2, 1000).ok());
  m1[1] ^= 1;  // its ID: unsigned messages are covered whole
  StreamVerifier v(f.key, f.req_mac);
  Parsed p0 = parse_packet(m0), p1 = parse_packet(m1), p2 = parse_packet(m2);
  EXPECT_TRUE(v.verify(p0.bytes, p0.info, &p0.tsig(), 1000).ok());
  EXPECT_TRUE(v.verify(p1.bytes, p1.info, nullptr, 1000).ok());
  EXPECT_EQ(v.verify(p2.bytes, p2.info, &p2.tsig(), 1000).status, Status::BadSig);
  EXPECT_FALSE(v.complete());
  // Once failed, stays failed.
  EXPECT_EQ(v.verify(p0.bytes, p0.info, &p0.tsig(), 1000).status, Status::BadSig);
}

TEST(TsigStream, ReorderedMessagesFail) {
  StreamFixture f;
  StreamSigner s(f.key, f.request.mac());
  Bytes m0 = make_answer(make_query(0x7777), 0), m1 = make_answer(make_query(0x7777), 1);
  ASSERT_TRUE(s.sign(m0, 1000).ok());
  ASSERT_TRUE(s.sign(m1, 1000).ok());
  StreamVerifier v(f.key, f.req_mac);
  Parsed p1 = parse_packet(m1);
  EXPECT_EQ(v.verify(p1.bytes, p1.info, &p1.tsig(), 1000).status, Status::BadSig);
}

TEST(TsigStream, UnsignedLimits) {
  StreamFixture f;
  StreamSigner s(f.key, f.request.mac());
  Bytes m = make_answer(make_query(0x7777), 0);
  EXPECT_FALSE(s.add_unsigned(m).ok());  // first must be signed
  Bytes first = m;
  ASSERT_TRUE(s.sign(first, 1000).ok());
  for (size_t i = 0; i < kMaxUnsignedRun; ++i) ASSERT_TRUE(s.add_unsigned(m).ok());
  EXPECT_FALSE(s.add_unsigned(m).ok());  // the 100th must be signed
  Bytes last = m;
  ASSERT_TRUE(s.sign(last, 1001).ok());
  EXPECT_TRUE(s.add_unsigned(m).ok());   // run counter reset

  StreamVerifier v(f.key, f.req_mac);
  Parsed pm = parse_packet(m);
  EXPECT_EQ(v.verify(pm.bytes, pm.info, nullptr, 1000).status, Status::BadSig);  // unsigned first
  StreamVerifier v2(f.key, f.req_mac);
  Parsed p0 = parse_packet(first);
  ASSERT_TRUE(v2.verify(p0.bytes, p0.info, &p0.tsig(), 1000).ok());
  for (size_t i = 0; i < kMaxUnsignedRun; ++i) {
    ASSERT_TRUE(v2.verify(pm.bytes, pm.info, nullptr, 1000).ok()) << i;
  }
  EXPECT_EQ(v2.verify(pm.bytes, pm.info, nullptr, 1000).status, Status::BadSig);
}

TEST(TsigStream, LaterMessageTimeChecked) {
  StreamFixture f;
  StreamSigner s(f.key, f.request.mac());
  Bytes m0 = make_answer(make_query(0x7777), 0), m1 = make_answer(make_query(0x7777), 1);
  ASSERT_TRUE(s.sign(m0, 1000).ok());
  ASSERT_TRUE(s.sign(m1, 5000).ok());  // signer's clock jumped
  StreamVerifier v(f.key, f.req_mac);
  Parsed p0 = parse_packet(m0), p1 = parse_packet(m1);
  EXPECT_TRUE(v.verify(p0.bytes, p0.info, &p0.tsig(), 1000).ok());
  EXPECT_EQ(v.verify(p1.bytes, p1.info, &p1.tsig(), 1000).status, Status::BadTime);
}

TEST(TsigErrors, ReplayOfOlderMessageIsBadTime) {
  Key key{N("k.example.test"), Algorithm::HmacSha256, Bytes(32, 4)};
  KeyRing ring = ring_with(key);
  ReplayCache cache;
  VerifyOptions opts;
  opts.replay = &cache;
  auto signed_at = [&](uint64_t t) {
    Bytes q = make_query(uint16_t(t));
    EXPECT_TRUE(sign_request(q, key, t, nullptr).ok());
    return parse_packet(q);
  };
  Parsed older = signed_at(1000), newer = signed_at(1010), same = signed_at(1010);
  // Concurrent clients: a message signed a little before the newest passes.
  Parsed slightly = signed_at(1010 - kReplaySlack);
  EXPECT_EQ(verify_request(older.bytes, older.info, older.tsig(), ring, 1010, opts).status,
            Status::Ok);
  EXPECT_EQ(verify_request(newer.bytes, newer.info, newer.tsig(), ring, 1010, opts).status,
            Status::Ok);
  EXPECT_EQ(verify_request(same.bytes, same.info, same.tsig(), ring, 1010, opts).status,
            Status::Ok);
  EXPECT_EQ(verify_request(slightly.bytes, slightly.info, slightly.tsig(), ring, 1010, opts).status,
            Status::Ok);
  Verified replay = verify_request(older.bytes, older.info, older.tsig(), ring, 1010, opts);
  EXPECT_EQ(replay.status, Status::BadTime);
  EXPECT_TRUE(replay.key.has_value());  // signed BADTIME answer possible
  // A bad MAC never advances the cache.
  KeyRing wrong = ring_with(Key{key.name, key.alg, Bytes(32, 5)});
  Parsed future = signed_at(1200);
  EXPECT_EQ(verify_request(future.bytes, future.info, future.tsig(), wrong, 1200, opts).status,
            Status::BadSig);
  EXPECT_EQ(verify_request(newer.bytes, newer.info, newer.tsig(), ring, 1010, opts).status,
            Status::Ok);
  cache.clear();
  EXPECT_EQ(verify_request(older.bytes, older.info, older.tsig(), ring, 1010, opts).status,
            Status::Ok);
}

// ---- Algorithms and key ring ------------------------------------------------

TEST(TsigAlgorithm, Names) {
  EXPECT_EQ(algorithm_name(Algorithm::HmacMd5).to_text(), "hmac-md5.sig-alg.reg.int.");
  EXPECT_EQ(algorithm_name(Algorithm::HmacSha256).to_text(), "hmac-sha256.");
  EXPECT_EQ(algorithm_from_text("HMAC-SHA512"), Algorithm::HmacSha512);
  EXPECT_EQ(algorithm_from_text("hmac-md5"), Algorithm::HmacMd5);
  EXPECT_EQ(algorithm_from_text("hmac-md5.sig-alg.reg.int."), Algorithm::HmacMd5);
  EXPECT_EQ(algorithm_from_text("hmac-sha1."), Algorithm::HmacSha1);
  EXPECT_EQ(algorithm_from_text("hmac-sha256-128"), std::nullopt);
  EXPECT_EQ(algorithm_from_text("gss-tsig"), std::nullopt);
  EXPECT_EQ(algorithm_from_name(N("HMAC-SHA224.")), Algorithm::HmacSha224);
  EXPECT_EQ(algorithm_from_name(N("hmac-md5.")), std::nullopt);
  for (Algorithm a : kAllAlgs) {
    EXPECT_EQ(algorithm_from_text(algorithm_text(a)), a);
    EXPECT_EQ(algorithm_from_name(algorithm_name(a)), a);
  }
}

TEST(TsigAlgorithm, HmacRfc4231Vector) {
  // RFC 4231 test case 2 (key "Jefe").
  const std::string data = "what do ya want for nothing?";
  Hmac h(Algorithm::HmacSha256, Bytes{'J', 'e', 'f', 'e'});
  h.update(data.data(), data.size());
  uint8_t out[kMaxDigestSize];
  ASSERT_EQ(h.final(out), 32u);
  EXPECT_EQ(hex_encode({out, 32}, false),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 2202 test case 2 for HMAC-MD5.
  Hmac m(Algorithm::HmacMd5, Bytes{'J', 'e', 'f', 'e'});
  m.update(data.data(), data.size());
  ASSERT_EQ(m.final(out), 16u);
  EXPECT_EQ(hex_encode({out, 16}, false), "750c783e6ab0b503eaa86e310a5db738");
  EXPECT_TRUE(mac_equal(Bytes{1, 2}, Bytes{1, 2}));
  EXPECT_FALSE(mac_equal(Bytes{1, 2}, Bytes{1, 3}));
  EXPECT_FALSE(mac_equal(Bytes{1, 2}, Bytes{1}));
}

TEST(TsigKeyRing, CaseInsensitiveAndUnique) {
  KeyRing r;
  EXPECT_TRUE(r.add(Key{N("a.example.test"), Algorithm::HmacSha256, Bytes{1}}));
  EXPECT_TRUE(r.add(Key{N("b.example.test"), Algorithm::HmacSha1, Bytes{2}}));
  EXPECT_FALSE(r.add(Key{N("A.EXAMPLE.TEST"), Algorithm::HmacSha1, Bytes{3}}));
  EXPECT_EQ(r.size(), 2u);
  ASSERT_NE(r.find(N("A.Example.Test")), nullptr);
  EXPECT_EQ(r.find(N("A.Example.Test"))->secret, Bytes{1});
  EXPECT_EQ(r.find(N("c.example.test")), nullptr);
}

}  // namespace
}  // namespace ddns::tsig
