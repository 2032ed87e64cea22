// Rdata field kinds with their own text syntax: LOC (RFC 1876), APL
// (RFC 3123), HIP (RFC 8005), the IPSECKEY gateway (RFC 4025), EUI48/EUI64
// (RFC 7043), ILNP 64-bit identifiers (RFC 6742), CERT type and algorithm
// mnemonics (RFC 4398). Output follows what BIND 9.18 prints.
#include "wire/rdata_special.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "base/encoding.h"

namespace ddns::wire::special {
namespace {

// DNSSEC algorithm mnemonics (IANA registry). `print` marks the spelling
// written out (CERT); the others are read only. Algorithms 6, 7 and 12 are
// spelled differently by BIND (NSEC3DSA, NSEC3RSASHA1, ECCGOST) and Knot
// (the IANA names), so they are printed as numbers, which both read.
struct AlgName {
  uint8_t code;
  std::string_view name;
  bool print;
};
constexpr AlgName kAlgorithms[] = {
    {1, "RSAMD5", true},          {2, "DH", true},
    {3, "DSA", true},             {5, "RSASHA1", true},
    {6, "DSA-NSEC3-SHA1", false}, {6, "NSEC3DSA", false},
    {7, "RSASHA1-NSEC3-SHA1", false}, {7, "NSEC3RSASHA1", false},
    {8, "RSASHA256", true},       {10, "RSASHA512", true},
    {12, "ECC-GOST", false},      {12, "ECCGOST", false},
    {13, "ECDSAP256SHA256", true}, {13, "ECDSA256", false},
    {14, "ECDSAP384SHA384", true}, {14, "ECDSA384", false},
    {15, "ED25519", true},        {16, "ED448", true},
    {252, "INDIRECT", true},      {253, "PRIVATEDNS", true},
    {254, "PRIVATEOID", true},
};

// RFC 4398 §2.1 certificate types.
struct CertName {
  uint16_t code;
  std::string_view name;
};
constexpr CertName kCertTypes[] = {
    {1, "PKIX"},   {2, "SPKI"},    {3, "PGP"},  {4, "IPKIX"}, {5, "ISPKI"},
    {6, "IPGP"},   {7, "ACPKIX"},  {8, "IACPKIX"}, {253, "URI"}, {254, "OID"},
};

bool take(Cursor& in, std::string_view& t, std::string& why) {
  if (in.next >= in.toks.size()) {
    why = "missing";
    return false;
  }
  t = in.toks[in.next++].text;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------- LOC

constexpr uint64_t kPow10[] = {1,      10,      100,      1000,      10000,
                               100000, 1000000, 10000000, 100000000, 1000000000};
constexpr uint32_t kEquator = 1u << 31;     // RFC 1876 §2: 2^31 is 0 degrees
constexpr int64_t kAltitudeBase = 10000000;  // centimetres below the WGS 84 spheroid

// "12.345" -> 12345 with `frac` fraction digits (at most that many may be
// written); an optional trailing "m" when `meters`, a leading "-" when
// `sign`.
bool parse_fixed(std::string_view s, int frac, bool meters, bool sign, int64_t& out) {
  if (meters && !s.empty() && (s.back() == 'm' || s.back() == 'M')) s.remove_suffix(1);
  bool neg = false;
  if (sign && !s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot), fp = dot == s.npos ? std::string_view() : s.substr(dot + 1);
  if (ip.empty() || ip.size() > 10 || fp.size() > size_t(frac) || (dot != s.npos && fp.empty()))
    return false;
  int64_t v = 0;
  for (char c : ip) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  for (int i = 0; i < frac; ++i) {
    char c = size_t(i) < fp.size() ? fp[size_t(i)] : '0';
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = neg ? -v : v;
  return true;
}

// RFC 1876 §2 precision/size octet: mantissa (high nibble) * 10^exponent cm.
uint8_t encode_precision(uint64_t cm) {
  int exp = 0;
  while (exp < 9 && cm >= kPow10[exp + 1]) ++exp;
  return uint8_t((cm / kPow10[exp]) << 4 | unsigned(exp));
}

// Digits 0-9 each, and no exponent on a zero mantissa (BIND refuses that
// form, and it would print as 0 and read back as 0e0).
bool precision_valid(uint8_t b) {
  return (b >> 4) <= 9 && (b & 0x0f) <= 9 && ((b >> 4) != 0 || (b & 0x0f) == 0);
}

// As BIND prints it: whole metres from 1 m up, else "0.cc".
std::string precision_text(uint8_t b) {
  uint64_t man = b >> 4, exp = b & 0x0f;
  char buf[32];
  if (exp > 1) std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(man * kPow10[exp - 2]));
  else std::snprintf(buf, sizeof buf, "0.%02llu", static_cast<unsigned long long>(man * kPow10[exp]));
  return buf;
}

// d [m [s.sss]] {N|S} as thousandths of an arc-second from the equator.
bool loc_angle(Cursor& in, char pos, char neg, int max_deg, uint32_t& out, std::string& why) {
  auto hemi = [&](std::string_view t) {
    return t.size() == 1 && ((t[0] | 0x20) == (pos | 0x20) || (t[0] | 0x20) == (neg | 0x20));
  };
  std::string_view t;
  uint64_t deg = 0, min = 0;
  int64_t sec = 0;
  if (!take(in, t, why)) return false;
  if (!parse_uint(t, uint64_t(max_deg), deg)) {
    why = "bad degrees '" + std::string(t) + "'";
    return false;
  }
  if (!take(in, t, why)) return false;
  if (!hemi(t)) {
    if (!parse_uint(t, 59, min)) {
      why = "bad minutes '" + std::string(t) + "'";
      return false;
    }
    if (!take(in, t, why)) return false;
    if (!hemi(t)) {
      if (!parse_fixed(t, 3, false, false, sec) || sec >= 60000) {
        why = "bad seconds '" + std::string(t) + "'";
        return false;
      }
      if (!take(in, t, why)) return false;
      if (!hemi(t)) {
        why = std::string("expected ") + pos + " or " + neg + ", not '" + std::string(t) + "'";
        return false;
      }
    }
  }
  int64_t ms = (int64_t(deg) * 3600 + int64_t(min) * 60) * 1000 + sec;
  if (ms > int64_t(max_deg) * 3600000) {
    why = "angle out of range";
    return false;
  }
  bool negative = (t[0] | 0x20) == (neg | 0x20);
  out = negative ? uint32_t(int64_t(kEquator) - ms) : uint32_t(int64_t(kEquator) + ms);
  return true;
}

std::string angle_text(uint32_t v, char pos, char neg) {
  int64_t a = int64_t(v) - int64_t(kEquator);
  char h = a < 0 ? neg : pos;
  if (a < 0) a = -a;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld %lld %lld.%03lld %c", static_cast<long long>(a / 3600000),
                static_cast<long long>(a / 60000 % 60), static_cast<long long>(a / 1000 % 60),
                static_cast<long long>(a % 1000), h);
  return buf;
}

bool loc_from_text(Cursor& in, Bytes& out, std::string& why) {
  uint32_t lat, lon;
  if (!loc_angle(in, 'N', 'S', 90, lat, why) || !loc_angle(in, 'E', 'W', 180, lon, why)) return false;
  std::string_view t;
  int64_t alt;
  if (!take(in, t, why)) return false;
  // RFC 1876 §3: -100000.00 .. 42849672.95 m.
  if (!parse_fixed(t, 2, true, true, alt) || alt < -kAltitudeBase ||
      alt > int64_t(0xFFFFFFFFu) - kAltitudeBase) {
    why = "bad altitude '" + std::string(t) + "'";
    return false;
  }
  // size 1 m, horizontal precision 10 km, vertical 10 m (RFC 1876 §3).
  uint8_t prec[3] = {0x12, 0x16, 0x13};
  static constexpr std::string_view kWhat[] = {"size", "horizontal precision", "vertical precision"};
  for (int i = 0; i < 3 && in.next < in.toks.size(); ++i) {
    t = in.toks[in.next++].text;
    int64_t cm;
    if (!parse_fixed(t, 2, true, false, cm) || cm > 9000000000LL) {
      why = "bad " + std::string(kWhat[i]) + " '" + std::string(t) + "'";
      return false;
    }
    prec[i] = encode_precision(uint64_t(cm));
  }
  out.push_back(0);  // version
  out.insert(out.end(), prec, prec + 3);
  put32(out, lat);
  put32(out, lon);
  put32(out, uint32_t(alt + kAltitudeBase));
  return true;
}

bool loc_valid(const uint8_t* p, size_t avail, const char*& why) {
  if (avail < 16) {
    why = "truncated";
    return false;
  }
  if (p[0] != 0) {
    why = "unsupported LOC version";
    return false;
  }
  if (!precision_valid(p[1]) || !precision_valid(p[2]) || !precision_valid(p[3])) {
    why = "bad precision octet";
    return false;
  }
  int64_t lat = int64_t(get32(p + 4)) - kEquator, lon = int64_t(get32(p + 8)) - kEquator;
  if (lat > 90 * 3600000LL || lat < -90 * 3600000LL || lon > 180 * 3600000LL ||
      lon < -180 * 3600000LL) {
    why = "latitude or longitude out of range";
    return false;
  }
  return true;
}

std::string loc_text(const uint8_t* p) {
  std::string s = angle_text(get32(p + 4), 'N', 'S');
  s += ' ';
  s += angle_text(get32(p + 8), 'E', 'W');
  int64_t alt = int64_t(get32(p + 12)) - kAltitudeBase;
  char buf[48];
  std::snprintf(buf, sizeof buf, " %s%lld.%02lldm ", alt < 0 ? "-" : "",
                static_cast<long long>((alt < 0 ? -alt : alt) / 100),
                static_cast<long long>((alt < 0 ? -alt : alt) % 100));
  s += buf;
  s += precision_text(p[1]) + "m " + precision_text(p[2]) + "m " + precision_text(p[3]) + "m";
  return s;
}

// ---------------------------------------------------------------- APL

bool apl_from_text(Cursor& in, Bytes& out, std::string& why) {
  while (in.next < in.toks.size()) {
    std::string_view t = in.toks[in.next++].text;
    const std::string item(t);
    bool negate = !t.empty() && t[0] == '!';
    if (negate) t.remove_prefix(1);
    size_t colon = t.find(':'), slash = t.rfind('/');
    uint64_t afi, prefix;
    if (colon == t.npos || slash == t.npos || slash < colon ||
        !parse_uint(t.substr(0, colon), 65535, afi)) {
      why = "bad item '" + item + "' (want [!]afi:address/prefix)";
      return false;
    }
    std::string_view addr = t.substr(colon + 1, slash - colon - 1);
    uint8_t a[16];
    size_t len;
    if (afi == 1 && parse_ipv4(addr, a)) len = 4;
    else if (afi == 2 && parse_ipv6(addr, a)) len = 16;
    else {
      why = "bad address in '" + item + "'";
      return false;
    }
    if (!parse_uint(t.substr(slash + 1), len * 8, prefix)) {
      why = "bad prefix length in '" + item + "'";
      return false;
    }
    // RFC 3123 §4: trailing zero octets of the address are not sent.
    while (len > 0 && a[len - 1] == 0) --len;
    put16(out, uint16_t(afi));
    out.push_back(uint8_t(prefix));
    out.push_back(uint8_t((negate ? 0x80 : 0) | len));
    out.insert(out.end(), a, a + len);
  }
  return true;
}

bool apl_valid(const uint8_t* p, size_t n, const char*& why) {
  size_t pos = 0;
  while (pos < n) {
    if (n - pos < 4) {
      why = "truncated APL item";
      return false;
    }
    uint16_t afi = get16(p + pos);
    uint8_t prefix = p[pos + 2];
    size_t len = p[pos + 3] & 0x7f;
    if (n - pos - 4 < len) {
      why = "truncated APL item";
      return false;
    }
    if ((afi == 1 && (len > 4 || prefix > 32)) || (afi == 2 && (len > 16 || prefix > 128))) {
      why = "bad APL prefix or address length";
      return false;
    }
    if (len > 0 && p[pos + 4 + len - 1] == 0) {
      why = "APL address ends in a zero octet";
      return false;
    }
    pos += 4 + len;
  }
  return true;
}

bool apl_text(const uint8_t* p, size_t n, std::string& out) {
  size_t pos = 0;
  while (pos < n) {
    uint16_t afi = get16(p + pos);
    size_t len = p[pos + 3] & 0x7f;
    if (afi != 1 && afi != 2) return false;  // no text form for other families
    uint8_t a[16] = {};
    std::memcpy(a, p + pos + 4, len);
    if (pos) out.push_back(' ');
    if (p[pos + 3] & 0x80) out.push_back('!');
    out += std::to_string(afi) + ':' + (afi == 1 ? ipv4_text(a) : ipv6_text(a)) + '/' +
           std::to_string(p[pos + 2]);
    pos += 4 + len;
  }
  return true;
}

// ---------------------------------------------------------------- HIP

bool hip_from_text(Cursor& in, Bytes& out, std::string& why) {
  std::string_view t;
  uint64_t alg;
  if (!take(in, t, why)) return false;
  if (!parse_uint(t, 255, alg)) {
    why = "bad algorithm '" + std::string(t) + "'";
    return false;
  }
  Bytes hit, pk;
  if (!take(in, t, why)) return false;
  if (!hex_decode(t, hit) || hit.empty() || hit.size() > 255) {
    why = "bad HIT '" + std::string(t) + "'";
    return false;
  }
  if (!take(in, t, why)) return false;
  if (!base64_decode(t, pk) || pk.empty() || pk.size() > 65535) {
    why = "bad public key";
    return false;
  }
  out.push_back(uint8_t(hit.size()));
  out.push_back(uint8_t(alg));
  put16(out, uint16_t(pk.size()));
  out.insert(out.end(), hit.begin(), hit.end());
  out.insert(out.end(), pk.begin(), pk.end());
  while (in.next < in.toks.size()) {
    auto name = Name::from_text(in.toks[in.next++].text, &in.origin);
    if (!name) {
      why = "rendezvous server: " + name.error().message;
      return false;
    }
    auto w = name->wire();
    out.insert(out.end(), w.begin(), w.end());
  }
  return true;
}

bool hip_valid(const uint8_t* p, size_t n, const char*& why) {
  if (n < 4) {
    why = "truncated";
    return false;
  }
  size_t hit = p[0], pk = get16(p + 2);
  if (hit == 0 || pk == 0) {
    why = "empty HIT or public key";
    return false;
  }
  if (n - 4 < hit + pk) {
    why = "truncated";
    return false;
  }
  for (size_t pos = 4 + hit + pk; pos < n;) {
    size_t used = name_extent(p + pos, n - pos, why);
    if (used == 0) return false;
    pos += used;
  }
  return true;
}

void hip_text(const uint8_t* p, size_t n, std::string& out) {
  size_t hit = p[0], pk = get16(p + 2);
  out += std::to_string(p[1]) + ' ' + hex_encode({p + 4, hit}) + ' ' +
         base64_encode({p + 4 + hit, pk});
  for (size_t pos = 4 + hit + pk; pos < n;) {
    const char* why = "";
    size_t used = name_extent(p + pos, n - pos, why);
    out += ' ' + Name::from_checked_wire(p + pos, used).to_text();
    pos += used;
  }
}

// ---------------------------------------------------------------- IPSECKEY

// RFC 4025 §2.3 gateway types: 0 none, 1 IPv4, 2 IPv6, 3 domain name.
bool gateway_from_text(Cursor& in, const Bytes& out, Bytes& gw, std::string& why) {
  std::string_view t;
  if (!take(in, t, why)) return false;
  switch (out.size() >= 2 ? out[1] : 255) {
    case 0:
      if (t != ".") {
        why = "gateway type 0 needs '.'";
        return false;
      }
      return true;
    case 1:
      gw.resize(4);
      if (!parse_ipv4(t, gw.data())) {
        why = "bad IPv4 address '" + std::string(t) + "'";
        return false;
      }
      return true;
    case 2:
      gw.resize(16);
      if (!parse_ipv6(t, gw.data())) {
        why = "bad IPv6 address '" + std::string(t) + "'";
        return false;
      }
      return true;
    case 3: {
      auto name = Name::from_text(t, &in.origin);
      if (!name) {
        why = name.error().message;
        return false;
      }
      auto w = name->wire();
      gw.assign(w.begin(), w.end());
      return true;
    }
    default:
      why = "unknown gateway type";
      return false;
  }
}

// ---------------------------------------------------------------- EUI, ILNP

// RFC 7043 §3.1: exactly `n` two-digit hex groups joined by '-'.
bool eui_from_text(std::string_view t, size_t n, Bytes& out) {
  if (t.size() != n * 3 - 1) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = hex_digit(t[i * 3]), lo = hex_digit(t[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < n && t[i * 3 + 2] != '-')) return false;
    out.push_back(uint8_t(hi << 4 | lo));
  }
  return true;
}

// RFC 6742 §2.1: four groups of 1-4 hex digits joined by ':'.
bool ilnp_from_text(std::string_view t, Bytes& out) {
  for (int g = 0; g < 4; ++g) {
    size_t end = g < 3 ? t.find(':') : t.size();
    if (end == t.npos || end == 0 || end > 4) return false;
    unsigned v = 0;
    for (size_t i = 0; i < end; ++i) {
      int d = hex_digit(t[i]);
      if (d < 0) return false;
      v = v << 4 | unsigned(d);
    }
    put16(out, uint16_t(v));
    t.remove_prefix(g < 3 ? end + 1 : end);
  }
  return true;
}

}  // namespace

bool parse_uint(std::string_view s, uint64_t max, uint64_t& v) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && v <= max;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(uint8_t(a[i])) != ascii_lower(uint8_t(b[i]))) return false;
  return true;
}

std::string ipv4_text(const uint8_t* p) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, p, buf, sizeof buf);
  return buf;
}
std::string ipv6_text(const uint8_t* p) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, p, buf, sizeof buf);
  return buf;
}
bool parse_ipv4(std::string_view s, uint8_t* out) {
  if (s.size() >= INET_ADDRSTRLEN) return false;
  char buf[INET_ADDRSTRLEN];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  return inet_pton(AF_INET, buf, out) == 1;
}
bool parse_ipv6(std::string_view s, uint8_t* out) {
  if (s.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  return inet_pton(AF_INET6, buf, out) == 1;
}

size_t name_extent(const uint8_t* p, size_t avail, const char*& why) {
  size_t pos = 0;
  while (true) {
    if (pos >= avail) {
      why = "truncated name";
      return 0;
    }
    uint8_t len = p[pos];
    if (len == 0) break;
    if ((len & 0xC0) == 0xC0) {
      why = "compressed name where none is allowed";
      return 0;
    }
    if (len > kMaxLabelLength) {
      why = "label longer than 63 octets";
      return 0;
    }
    pos += size_t(len) + 1;
    if (pos + 1 > kMaxNameLength) {
      why = "name longer than 255 octets";
      return 0;
    }
  }
  return pos + 1;
}

bool algorithm_from_text(std::string_view s, uint8_t& out) {
  uint64_t v;
  if (parse_uint(s, 255, v)) {
    out = uint8_t(v);
    return true;
  }
  for (const AlgName& a : kAlgorithms)
    if (iequals(s, a.name)) {
      out = a.code;
      return true;
    }
  return false;
}

bool handles(Field f) {
  switch (f) {
    case Field::AlgorithmName: case Field::CertType: case Field::Loc: case Field::Apl:
    case Field::IpsecGateway: case Field::Hip: case Field::Eui48: case Field::Eui64:
    case Field::Ilnp64:
      return true;
    default:
      return false;
  }
}

bool extent(Field f, const uint8_t* rdata, const uint8_t* p, size_t avail, size_t& used,
            const char*& why) {
  switch (f) {
    case Field::Loc:
      if (!loc_valid(p, avail, why)) return false;
      used = 16;
      return true;
    case Field::Apl:
      if (!apl_valid(p, avail, why)) return false;
      used = avail;
      return true;
    case Field::Hip:
      if (!hip_valid(p, avail, why)) return false;
      used = avail;
      return true;
    case Field::IpsecGateway: {
      static constexpr size_t kAddressSize[] = {0, 4, 16};  // none, IPv4, IPv6
      if (rdata[1] == 3) {
        used = name_extent(p, avail, why);
        return used != 0;
      }
      if (rdata[1] > 2) {
        why = "unknown gateway type";
        return false;
      }
      if (avail < kAddressSize[rdata[1]]) {
        why = "truncated";
        return false;
      }
      used = kAddressSize[rdata[1]];
      return true;
    }
    default:
      why = "unknown field kind";
      return false;
  }
}

bool from_text(Field f, Cursor& in, Bytes& out, std::string& why) {
  std::string_view t;
  switch (f) {
    case Field::AlgorithmName: {
      if (!take(in, t, why)) return false;
      uint8_t a;
      if (!algorithm_from_text(t, a)) {
        why = "unknown algorithm '" + std::string(t) + "'";
        return false;
      }
      out.push_back(a);
      return true;
    }
    case Field::CertType: {
      if (!take(in, t, why)) return false;
      uint64_t v;
      if (parse_uint(t, 65535, v)) {
        put16(out, uint16_t(v));
        return true;
      }
      for (const CertName& c : kCertTypes)
        if (iequals(t, c.name)) {
          put16(out, c.code);
          return true;
        }
      why = "unknown certificate type '" + std::string(t) + "'";
      return false;
    }
    case Field::Loc: return loc_from_text(in, out, why);
    case Field::Apl: return apl_from_text(in, out, why);
    case Field::Hip: return hip_from_text(in, out, why);
    case Field::IpsecGateway: {
      Bytes gw;
      if (!gateway_from_text(in, out, gw, why)) return false;
      out.insert(out.end(), gw.begin(), gw.end());
      return true;
    }
    case Field::Eui48: case Field::Eui64:
      if (!take(in, t, why)) return false;
      if (!eui_from_text(t, f == Field::Eui48 ? 6 : 8, out)) {
        why = "bad address '" + std::string(t) + "'";
        return false;
      }
      return true;
    case Field::Ilnp64:
      if (!take(in, t, why)) return false;
      if (!ilnp_from_text(t, out)) {
        why = "bad identifier '" + std::string(t) + "'";
        return false;
      }
      return true;
    default:
      why = "unknown field kind";
      return false;
  }
}

bool to_text(Field f, const uint8_t* rdata, const uint8_t* p, size_t n, std::string& out) {
  char buf[32];
  switch (f) {
    case Field::AlgorithmName:
      for (const AlgName& a : kAlgorithms)
        if (a.code == p[0] && a.print) {
          out += a.name;
          return true;
        }
      out += std::to_string(p[0]);
      return true;
    case Field::CertType:
      for (const CertName& c : kCertTypes)
        if (c.code == get16(p)) {
          out += c.name;
          return true;
        }
      out += std::to_string(get16(p));
      return true;
    case Field::Loc: out += loc_text(p); return true;
    case Field::Apl: return apl_text(p, n, out);
    case Field::Hip: hip_text(p, n, out); return true;
    case Field::IpsecGateway:
      switch (rdata[1]) {
        case 0: out += '.'; return true;
        case 1: out += ipv4_text(p); return true;
        case 2: out += ipv6_text(p); return true;
        default: out += Name::from_checked_wire(p, n).to_text(); return true;
      }
    case Field::Eui48: case Field::Eui64:
      for (size_t i = 0; i < n; ++i) {
        std::snprintf(buf, sizeof buf, i ? "-%02x" : "%02x", p[i]);
        out += buf;
      }
      return true;
    case Field::Ilnp64:
      // Four digits per group: Knot reads nothing shorter (BIND drops
      // leading zeros when printing but reads both).
      std::snprintf(buf, sizeof buf, "%04x:%04x:%04x:%04x", get16(p), get16(p + 2), get16(p + 4),
                    get16(p + 6));
      out += buf;
      return true;
    default:
      return false;
  }
}

}  // namespace ddns::wire::special
