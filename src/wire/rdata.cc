// Table-driven rdata codec: presentation text <-> uncompressed wire, rdata
// out of messages (decompressing names), validation and canonical form.
#include "wire/rdata.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "base/encoding.h"
#include "wire/rdata_special.h"

namespace ddns::wire {
namespace {

using special::get16;
using special::get32;
using special::iequals;
using special::ipv4_text;
using special::ipv6_text;
using special::name_extent;
using special::parse_ipv4;
using special::parse_ipv6;
using special::parse_uint;
using special::put16;
using special::put32;

constexpr size_t kMaxRdata = 65535;

// ---------------------------------------------------------------------------
// Field labels for error messages ("MX.exchange: ...") come from the table.

std::string field_label(uint16_t type, size_t index) {
  const TypeInfo* info = type_info(type);
  std::string s = type_to_text(type);
  s += '.';
  s += info && index < info->fields.size() ? info->fields[index].name : std::string_view("data");
  return s;
}

Error field_error(uint16_t type, size_t index, std::string_view why) {
  return make_error(field_label(type, index) + ": " + std::string(why));
}

// ---------------------------------------------------------------------------
// Wire walking over uncompressed rdata.

// RFC 4034 §4.1.2: window blocks in increasing order, 1..32 octets each,
// no trailing zero octet.
bool bitmap_valid(const uint8_t* p, size_t n, const char*& why) {
  size_t pos = 0;
  int last_window = -1;
  while (pos < n) {
    if (n - pos < 2) {
      why = "truncated type bitmap";
      return false;
    }
    uint8_t window = p[pos], len = p[pos + 1];
    if (int(window) <= last_window) {
      why = "type bitmap windows out of order";
      return false;
    }
    if (len == 0 || len > 32) {
      why = "bad type bitmap block length";
      return false;
    }
    if (n - pos - 2 < len) {
      why = "truncated type bitmap";
      return false;
    }
    if (p[pos + 1 + len] == 0) {
      why = "type bitmap block ends in a zero octet";
      return false;
    }
    last_window = window;
    pos += 2 + size_t(len);
  }
  return true;
}

bool svc_params_valid(const uint8_t* p, size_t n, const char*& why);

// Octets taken by field `f` at p in uncompressed rdata (avail left), or
// false with `why`. Fields that run to the end take all of avail.
bool field_extent(Field f, const uint8_t* rdata, const uint8_t* p, size_t avail, size_t& used,
                  const char*& why) {
  if (const size_t k = field_fixed_size(f)) {
    if (avail < k) {
      why = "truncated";
      return false;
    }
    used = k;
    return true;
  }
  switch (f) {
    case Field::Name:
    case Field::CompressedName:
      used = name_extent(p, avail, why);
      return used != 0;
    case Field::CharString:
    case Field::HexLen8:
      if (avail < 1 || avail < size_t(1) + p[0]) {
        why = "truncated";
        return false;
      }
      used = size_t(1) + p[0];
      return true;
    case Field::Base32Len8:
      if (avail < 1 || avail < size_t(1) + p[0]) {
        why = "truncated";
        return false;
      }
      if (p[0] == 0) {
        why = "empty hash";
        return false;
      }
      used = size_t(1) + p[0];
      return true;
    case Field::CaaTag:
      if (avail < 1 || avail < size_t(1) + p[0]) {
        why = "truncated";
        return false;
      }
      if (p[0] == 0) {
        why = "empty tag";
        return false;
      }
      used = size_t(1) + p[0];
      return true;
    case Field::CharStrings: {
      if (avail == 0) {
        why = "no character-string";
        return false;
      }
      size_t pos = 0;
      while (pos < avail) {
        size_t len = p[pos];
        if (avail - pos - 1 < len) {
          why = "truncated character-string";
          return false;
        }
        pos += len + 1;
      }
      used = avail;
      return true;
    }
    case Field::TypeBitmap:
      if (!bitmap_valid(p, avail, why)) return false;
      used = avail;
      return true;
    case Field::SvcParams:
      if (!svc_params_valid(p, avail, why)) return false;
      used = avail;
      return true;
    case Field::Base64: case Field::Hex: case Field::QuotedRest: case Field::Rest:
      used = avail;
      return true;
    default:
      return special::extent(f, rdata, p, avail, used, why);
  }
}

// Walks `rdata` field by field; calls fn(index, field, offset, size).
// Returns an error naming the field when the rdata does not fit the row.
template <class Fn>
Result<void> walk(uint16_t type, const TypeInfo& info, std::span<const uint8_t> rdata, Fn&& fn) {
  size_t pos = 0;
  for (size_t i = 0; i < info.fields.size(); ++i) {
    size_t used = 0;
    const char* why = "";
    const Field f = info.fields[i].kind;
    if (!field_extent(f, rdata.data(), rdata.data() + pos, rdata.size() - pos, used, why))
      return field_error(type, i, why);
    // An NSEC always covers at least itself (RFC 4034 §4.1.2), and BIND
    // refuses an empty bitmap there (NSEC3 may have one: empty non-terminals).
    if (used == 0 && f == Field::TypeBitmap && type == kTypeNSEC)
      return field_error(type, i, "empty type bitmap (BIND rejects it)");
    fn(i, f, pos, used);
    pos += used;
  }
  if (pos != rdata.size()) return make_error(type_to_text(type) + ": trailing data in rdata");
  return {};
}

// ---------------------------------------------------------------------------
// SVCB/HTTPS parameters (RFC 9460 §2.2, §7).

enum SvcKey : uint16_t {
  kMandatory = 0, kAlpn = 1, kNoDefaultAlpn = 2, kPort = 3, kIpv4Hint = 4,
  kEch = 5, kIpv6Hint = 6, kDohPath = 7, kOhttp = 8, kInvalidKey = 65535,
};

constexpr std::string_view kSvcKeyNames[] = {"mandatory", "alpn", "no-default-alpn", "port",
                                             "ipv4hint", "ech", "ipv6hint", "dohpath",
                                             "ohttp"};

bool svc_value_valid(uint16_t key, const uint8_t* v, size_t n, const char*& why) {
  switch (key) {
    case kMandatory:
      if (n == 0 || n % 2) {
        why = "bad mandatory value";
        return false;
      }
      for (size_t i = 0; i + 2 <= n; i += 2) {
        uint16_t k = uint16_t(v[i] << 8 | v[i + 1]);
        if (k == kMandatory || (i > 0 && k <= uint16_t(v[i - 2] << 8 | v[i - 1]))) {
          why = "bad mandatory key list";
          return false;
        }
      }
      return true;
    case kAlpn: {
      if (n == 0) {
        why = "empty alpn";
        return false;
      }
      size_t pos = 0;
      while (pos < n) {
        size_t len = v[pos];
        if (len == 0 || n - pos - 1 < len) {
          why = "bad alpn value";
          return false;
        }
        pos += len + 1;
      }
      return true;
    }
    case kNoDefaultAlpn: case kOhttp:
      if (n != 0) {
        why = "key takes no value";
        return false;
      }
      return true;
    case kPort:
      if (n != 2) {
        why = "bad port value";
        return false;
      }
      return true;
    case kIpv4Hint:
      if (n == 0 || n % 4) {
        why = "bad ipv4hint value";
        return false;
      }
      return true;
    case kIpv6Hint:
      if (n == 0 || n % 16) {
        why = "bad ipv6hint value";
        return false;
      }
      return true;
    case kInvalidKey:
      why = "reserved key65535";
      return false;
    default:
      return true;
  }
}

bool svc_params_valid(const uint8_t* p, size_t n, const char*& why) {
  size_t pos = 0;
  int last = -1;
  while (pos < n) {
    if (n - pos < 4) {
      why = "truncated SvcParam";
      return false;
    }
    uint16_t key = uint16_t(p[pos] << 8 | p[pos + 1]);
    size_t len = size_t(p[pos + 2]) << 8 | p[pos + 3];
    if (int(key) <= last) {
      why = "SvcParam keys not in increasing order";
      return false;
    }
    if (n - pos - 4 < len) {
      why = "truncated SvcParam value";
      return false;
    }
    if (!svc_value_valid(key, p + pos + 4, len, why)) return false;
    last = key;
    pos += 4 + len;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Text helpers.

// Interprets RFC 1035 §5.1 escapes (\DDD, \X) of a <character-string> token.
bool unescape(std::string_view in, std::string& out, const char*& why) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= in.size()) {
      why = "backslash at end";
      return false;
    }
    char d = in[i + 1];
    if (d >= '0' && d <= '9') {
      if (i + 3 >= in.size() || in[i + 2] < '0' || in[i + 2] > '9' || in[i + 3] < '0' ||
          in[i + 3] > '9') {
        why = "bad \\DDD escape";
        return false;
      }
      int v = (d - '0') * 100 + (in[i + 2] - '0') * 10 + (in[i + 3] - '0');
      if (v > 255) {
        why = "bad \\DDD escape";
        return false;
      }
      out.push_back(char(v));
      i += 3;
    } else {
      out.push_back(d);
      ++i;
    }
  }
  return true;
}

// Quoted <character-string> as BIND prints it: " and \ escaped, octets
// outside printable ASCII as \DDD.
void append_quoted(std::string& out, const uint8_t* p, size_t n) {
  out.push_back('"');
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = p[i];
    if (c < 0x20 || c >= 0x7f) {
      out.push_back('\\');
      out.push_back(char('0' + c / 100));
      out.push_back(char('0' + c / 10 % 10));
      out.push_back(char('0' + c % 10));
    } else {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(char(c));
    }
  }
  out.push_back('"');
}

// BIND-style TTL with units (RFC 2308 §4 style "1h30m", "1w"), for SOA timers.
bool parse_ttl(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  uint64_t total = 0, cur = 0;
  bool have_digits = false, any_unit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + uint64_t(c - '0');
      if (cur > 0xFFFFFFFFULL) return false;
      have_digits = true;
      continue;
    }
    uint64_t mult;
    switch (c | 0x20) {
      case 'w': mult = 604800; break;
      case 'd': mult = 86400; break;
      case 'h': mult = 3600; break;
      case 'm': mult = 60; break;
      case 's': mult = 1; break;
      default: return false;
    }
    if (!have_digits) return false;
    total += cur * mult;
    if (total > 0xFFFFFFFFULL) return false;
    cur = 0;
    have_digits = false;
    any_unit = true;
  }
  if (have_digits) total += cur;
  else if (!any_unit) return false;
  if (total > 0xFFFFFFFFULL) return false;
  out = uint32_t(total);
  return true;
}

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// RFC 4034 §3.2: YYYYMMDDHHmmSS in UTC, or a plain number of seconds.
bool parse_time(std::string_view s, uint32_t& out) {
  if (s.size() == 14 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    auto num = [&](size_t at, size_t len) {
      unsigned v = 0;
      for (size_t i = at; i < at + len; ++i) v = v * 10 + unsigned(s[i] - '0');
      return v;
    };
    unsigned y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(8, 2), mi = num(10, 2),
             se = num(12, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
      return false;
    static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap)) return false;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    out = uint32_t(uint64_t(t));  // serial arithmetic wraps mod 2^32
    return true;
  }
  uint64_t v;
  if (!parse_uint(s, 0xFFFFFFFFULL, v)) return false;
  out = uint32_t(v);
  return true;
}

std::string time_to_text(uint32_t t) {
  int64_t days = int64_t(t) / 86400, rem = int64_t(t) % 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02u%02u%02u%02u%02u", static_cast<long long>(y), m, d,
                unsigned(rem / 3600), unsigned(rem / 60 % 60), unsigned(rem % 60));
  return buf;
}

// Splits an RFC 9460 Appendix A.1 value-list on commas not escaped by a
// backslash; "\," and "\\" inside an item stand for "," and "\".
std::vector<std::string> split_value_list(std::string_view s) {
  std::vector<std::string> items(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      items.back().push_back(s[++i]);
    } else if (s[i] == ',') {
      items.emplace_back();
    } else {
      items.back().push_back(s[i]);
    }
  }
  return items;
}

std::optional<uint16_t> svc_key_from_text(std::string_view k) {
  for (size_t i = 0; i < std::size(kSvcKeyNames); ++i)
    if (iequals(k, kSvcKeyNames[i])) return uint16_t(i);
  if (k.size() > 3 && iequals(k.substr(0, 3), "key")) {
    uint64_t v;
    if (parse_uint(k.substr(3), 65535, v)) return uint16_t(v);
  }
  return std::nullopt;
}

std::string svc_key_to_text(uint16_t k) {
  // dohpath/ohttp print in the generic form, which every parser accepts.
  if (k <= kIpv6Hint) return std::string(kSvcKeyNames[k]);
  return "key" + std::to_string(k);
}

// ---------------------------------------------------------------------------
// Text -> wire.

class TextParser {
 public:
  TextParser(uint16_t type, std::span<const TextToken> tokens, const Name& origin)
      : type_(type), toks_(tokens), origin_(origin) {}

  Result<Bytes> run(const TypeInfo& info) {
    for (size_t i = 0; i < info.fields.size(); ++i) {
      idx_ = i;
      if (!field(info.fields[i].kind)) return Error{err_};
    }
    if (next_ < toks_.size())
      return make_error(type_to_text(type_) + ": unexpected '" +
                        std::string(toks_[next_].text) + "' after the last field");
    if (out_.size() > kMaxRdata) return make_error(type_to_text(type_) + ": rdata too long");
    return std::move(out_);
  }

 private:
  bool fail(std::string_view why) {
    err_ = field_label(type_, idx_) + ": " + std::string(why);
    return false;
  }
  bool take(TextToken& t) {
    if (next_ >= toks_.size()) return fail("missing");
    t = toks_[next_++];
    return true;
  }
  bool number(uint64_t max, uint64_t& v) {
    TextToken t;
    if (!take(t)) return false;
    if (!parse_uint(t.text, max, v)) {
      uint64_t big;
      if (parse_uint(t.text, UINT64_MAX, big)) return fail("number out of range");
      return fail("not a number: '" + std::string(t.text) + "'");
    }
    return true;
  }
  bool name() {
    TextToken t;
    if (!take(t)) return false;
    auto n = Name::from_text(t.text, &origin_);
    if (!n) return fail(n.error().message);
    auto w = n->wire();
    out_.insert(out_.end(), w.begin(), w.end());
    return true;
  }
  bool char_string(const TextToken& t) {
    const char* why = "";
    if (!unescape(t.text, scratch_, why)) return fail(why);
    if (scratch_.size() > 255) return fail("character-string longer than 255 octets");
    out_.push_back(uint8_t(scratch_.size()));
    out_.insert(out_.end(), scratch_.begin(), scratch_.end());
    return true;
  }
  // Concatenates the remaining tokens (base64/hex split over lines).
  std::string rest_joined() {
    std::string s;
    while (next_ < toks_.size()) s += toks_[next_++].text;
    return s;
  }
  uint16_t type_code(std::string_view s, bool& ok) {
    auto t = type_from_text(s);
    ok = t.has_value();
    return t.value_or(0);
  }

  bool field(Field f) {
    uint64_t v = 0;
    TextToken t;
    switch (f) {
      case Field::U8:
        if (!number(0xFF, v)) return false;
        out_.push_back(uint8_t(v));
        return true;
      case Field::U16:
        if (!number(0xFFFF, v)) return false;
        put16(out_, uint16_t(v));
        return true;
      case Field::U32:
        if (type_ == uint16_t(RRType::SOA) && idx_ >= 3) {
          // SOA timers take TTL units; the serial does not.
          if (!take(t)) return false;
          uint32_t ttl;
          if (!parse_ttl(t.text, ttl)) return fail("bad time value '" + std::string(t.text) + "'");
          put32(out_, ttl);
          return true;
        }
        if (!number(0xFFFFFFFFULL, v)) return false;
        put32(out_, uint32_t(v));
        return true;
      case Field::Name:
      case Field::CompressedName:
        return name();
      case Field::IPv4: {
        if (!take(t)) return false;
        uint8_t a[4];
        if (!parse_ipv4(t.text, a)) return fail("bad IPv4 address '" + std::string(t.text) + "'");
        out_.insert(out_.end(), a, a + 4);
        return true;
      }
      case Field::IPv6: {
        if (!take(t)) return false;
        uint8_t a[16];
        if (!parse_ipv6(t.text, a)) return fail("bad IPv6 address '" + std::string(t.text) + "'");
        out_.insert(out_.end(), a, a + 16);
        return true;
      }
      case Field::CharString:
        if (!take(t)) return false;
        return char_string(t);
      case Field::CharStrings:
        if (next_ >= toks_.size()) return fail("missing");
        while (next_ < toks_.size())
          if (!char_string(toks_[next_++])) return false;
        return true;
      case Field::Base64: {
        std::string s = rest_joined();
        if (!base64_decode(s, out_)) return fail("bad base64");
        return true;
      }
      case Field::Hex: {
        std::string s = rest_joined();
        if (!hex_decode(s, out_)) return fail("bad hex");
        return true;
      }
      case Field::HexLen8: {
        if (!take(t)) return false;
        Bytes b;
        if (t.text != "-" && !hex_decode(t.text, b)) return fail("bad hex");
        if (b.size() > 255) return fail("longer than 255 octets");
        out_.push_back(uint8_t(b.size()));
        out_.insert(out_.end(), b.begin(), b.end());
        return true;
      }
      case Field::Base32Len8: {
        if (!take(t)) return false;
        Bytes b;
        if (!base32hex_decode(t.text, b) || b.empty()) return fail("bad base32hex");
        if (b.size() > 255) return fail("longer than 255 octets");
        out_.push_back(uint8_t(b.size()));
        out_.insert(out_.end(), b.begin(), b.end());
        return true;
      }
      case Field::TypeBitmap:
        return bitmap();
      case Field::TypeCode: {
        if (!take(t)) return false;
        bool ok;
        uint16_t code = type_code(t.text, ok);
        if (!ok) return fail("unknown type '" + std::string(t.text) + "'");
        put16(out_, code);
        return true;
      }
      case Field::Time: {
        if (!take(t)) return false;
        uint32_t when;
        if (!parse_time(t.text, when)) return fail("bad time '" + std::string(t.text) + "'");
        put32(out_, when);
        return true;
      }
      case Field::Algorithm: {
        if (!take(t)) return false;
        uint8_t a;
        if (!special::algorithm_from_text(t.text, a))
          return fail("unknown algorithm '" + std::string(t.text) + "'");
        out_.push_back(a);
        return true;
      }
      case Field::CaaTag: {
        if (!take(t)) return false;
        // RFC 8659 §4.1: tags are ASCII letters and digits.
        if (t.text.empty() || t.text.size() > 255 ||
            !std::all_of(t.text.begin(), t.text.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            }))
          return fail("tag must be 1-255 letters and digits");
        out_.push_back(uint8_t(t.text.size()));
        out_.insert(out_.end(), t.text.begin(), t.text.end());
        return true;
      }
      case Field::QuotedRest: {
        if (!take(t)) return false;
        const char* why = "";
        if (!unescape(t.text, scratch_, why)) return fail(why);
        out_.insert(out_.end(), scratch_.begin(), scratch_.end());
        return true;
      }
      case Field::SvcParams:
        return svc_params();
      case Field::Rest:
        return fail("no text form; use \\# generic syntax");
      default: {
        special::Cursor in{toks_, next_, origin_};
        std::string why;
        if (!special::from_text(f, in, out_, why)) return fail(why);
        return true;
      }
    }
  }

  bool bitmap() {
    if (next_ >= toks_.size() && type_ == uint16_t(RRType::NSEC))
      return fail("empty type bitmap (BIND rejects it)");
    std::vector<uint16_t> types;
    while (next_ < toks_.size()) {
      std::string_view s = toks_[next_++].text;
      bool ok;
      uint16_t code = type_code(s, ok);
      if (!ok) return fail("unknown type '" + std::string(s) + "'");
      types.push_back(code);
    }
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    size_t i = 0;
    while (i < types.size()) {
      uint8_t window = uint8_t(types[i] >> 8);
      uint8_t block[32] = {};
      size_t len = 0;
      for (; i < types.size() && (types[i] >> 8) == window; ++i) {
        uint8_t low = uint8_t(types[i]);
        block[low / 8] |= uint8_t(0x80 >> (low % 8));
        len = std::max<size_t>(len, low / 8 + 1);
      }
      out_.push_back(window);
      out_.push_back(uint8_t(len));
      out_.insert(out_.end(), block, block + len);
    }
    return true;
  }

  bool svc_params() {
    struct Param {
      uint16_t key;
      Bytes value;
    };
    std::vector<Param> params;
    while (next_ < toks_.size()) {
      TextToken t = toks_[next_++];
      std::string_view text = t.text;
      std::string_view key = text, value;
      bool has_value = false;
      size_t eq = text.find('=');
      if (eq != std::string_view::npos) {
        key = text.substr(0, eq);
        value = text.substr(eq + 1);
        has_value = true;
        if (value.empty() && next_ < toks_.size() && toks_[next_].quoted) {
          value = toks_[next_++].text;  // key= "quoted value"
        } else if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
      }
      auto code = svc_key_from_text(key);
      if (!code) return fail("unknown key '" + std::string(key) + "'");
      if (*code == kInvalidKey) return fail("key65535 is reserved");
      const char* why = "";
      std::string raw;
      if (!unescape(value, raw, why)) return fail(why);
      Param p{*code, {}};
      std::string kname = svc_key_to_text(*code);
      switch (*code) {
        case kMandatory: {
          if (raw.empty()) return fail("mandatory needs a value");
          std::vector<uint16_t> keys;
          for (const std::string& item : split_value_list(raw)) {
            auto k = svc_key_from_text(item);
            if (!k) return fail("unknown key '" + item + "' in mandatory");
            if (*k == kMandatory) return fail("mandatory lists itself");
            keys.push_back(*k);
          }
          std::sort(keys.begin(), keys.end());
          if (std::adjacent_find(keys.begin(), keys.end()) != keys.end())
            return fail("duplicate key in mandatory");
          for (uint16_t k : keys) put16(p.value, k);
          break;
        }
        case kAlpn:
          if (raw.empty()) return fail("alpn needs a value");
          for (const std::string& item : split_value_list(raw)) {
            if (item.empty() || item.size() > 255) return fail("bad alpn id");
            p.value.push_back(uint8_t(item.size()));
            p.value.insert(p.value.end(), item.begin(), item.end());
          }
          break;
        case kNoDefaultAlpn: case kOhttp:
          if (has_value && !raw.empty()) return fail(kname + " takes no value");
          break;
        case kPort: {
          uint64_t v;
          if (!parse_uint(raw, 65535, v)) return fail("bad port '" + raw + "'");
          put16(p.value, uint16_t(v));
          break;
        }
        case kIpv4Hint:
          if (raw.empty()) return fail("ipv4hint needs a value");
          for (const std::string& item : split_value_list(raw)) {
            uint8_t a[4];
            if (!parse_ipv4(item, a)) return fail("bad IPv4 address '" + item + "'");
            p.value.insert(p.value.end(), a, a + 4);
          }
          break;
        case kIpv6Hint:
          if (raw.empty()) return fail("ipv6hint needs a value");
          for (const std::string& item : split_value_list(raw)) {
            uint8_t a[16];
            if (!parse_ipv6(item, a)) return fail("bad IPv6 address '" + item + "'");
            p.value.insert(p.value.end(), a, a + 16);
          }
          break;
        case kEch:
          if (!base64_decode(raw, p.value)) return fail("bad base64 in ech");
          break;
        default:
          p.value.assign(raw.begin(), raw.end());
          break;
      }
      if (p.value.size() > 65535) return fail("value too long");
      params.push_back(std::move(p));
    }
    // RFC 9460 §2.2: keys in strictly increasing order on the wire.
    std::stable_sort(params.begin(), params.end(),
                     [](const Param& a, const Param& b) { return a.key < b.key; });
    for (size_t i = 1; i < params.size(); ++i)
      if (params[i].key == params[i - 1].key)
        return fail("duplicate key " + svc_key_to_text(params[i].key));
    auto has = [&](uint16_t k) {
      return std::any_of(params.begin(), params.end(), [k](const Param& p) { return p.key == k; });
    };
    // RFC 9460 §8: every key listed in mandatory must be present;
    // no-default-alpn needs alpn.
    for (const Param& p : params)
      if (p.key == kMandatory)
        for (size_t i = 0; i + 1 < p.value.size(); i += 2)
          if (!has(get16(&p.value[i])))
            return fail("mandatory key " + svc_key_to_text(get16(&p.value[i])) + " is missing");
    if (has(kNoDefaultAlpn) && !has(kAlpn)) return fail("no-default-alpn without alpn");
    for (const Param& p : params) {
      put16(out_, p.key);
      put16(out_, uint16_t(p.value.size()));
      out_.insert(out_.end(), p.value.begin(), p.value.end());
    }
    return true;
  }

  uint16_t type_;
  std::span<const TextToken> toks_;
  const Name& origin_;
  size_t next_ = 0;
  size_t idx_ = 0;
  Bytes out_;
  std::string scratch_;
  std::string err_;
};

Result<Bytes> generic_from_text(uint16_t type, std::span<const TextToken> tokens) {
  const std::string tname = type_to_text(type);
  if (tokens.size() < 2) return make_error(tname + ": \\# needs a length");
  uint64_t len;
  if (!parse_uint(tokens[1].text, kMaxRdata, len))
    return make_error(tname + ": bad \\# length '" + std::string(tokens[1].text) + "'");
  Bytes out;
  std::string hex;
  for (size_t i = 2; i < tokens.size(); ++i) hex += tokens[i].text;
  if (!hex_decode(hex, out)) return make_error(tname + ": bad hex in \\# data");
  if (out.size() != len)
    return make_error(tname + ": \\# length " + std::to_string(len) + " but " +
                      std::to_string(out.size()) + " octets of data");
  return out;
}

// ---------------------------------------------------------------------------
// Wire -> text.

void bitmap_to_text(const uint8_t* p, size_t n, std::string& out) {
  size_t pos = 0;
  bool first = true;
  while (pos + 2 <= n) {
    uint8_t window = p[pos], len = p[pos + 1];
    for (size_t i = 0; i < len && pos + 2 + i < n; ++i) {
      uint8_t bits = p[pos + 2 + i];
      for (int b = 0; b < 8; ++b) {
        if (bits & (0x80 >> b)) {
          if (!first) out.push_back(' ');
          first = false;
          out += type_to_text(uint16_t(window << 8 | (i * 8 + size_t(b))));
        }
      }
    }
    pos += 2 + size_t(len);
  }
}

// Escapes one value-list item (RFC 9460 Appendix A.1): "," and "\" get a
// backslash, then the whole value is printed as a quoted character-string.
void append_list_item(std::string& raw, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == ',' || p[i] == '\\') raw.push_back('\\');
    raw.push_back(char(p[i]));
  }
}

// RFC 9460 §8 self-consistency, which the text form requires: keys listed
// in mandatory are present, and no-default-alpn comes with alpn. Wire that
// lacks it is still carried, but prints in the generic form.
bool svc_params_consistent(const uint8_t* p, size_t n) {
  std::vector<uint16_t> keys;
  const uint8_t* mandatory = nullptr;
  size_t mandatory_len = 0;
  for (size_t pos = 0; pos + 4 <= n;) {
    uint16_t key = get16(p + pos);
    size_t len = get16(p + pos + 2);
    if (key == kMandatory) {
      mandatory = p + pos + 4;
      mandatory_len = len;
    }
    keys.push_back(key);
    pos += 4 + len;
  }
  auto has = [&](uint16_t k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
  for (size_t i = 0; mandatory && i + 2 <= mandatory_len; i += 2)
    if (!has(get16(mandatory + i))) return false;
  return !has(kNoDefaultAlpn) || has(kAlpn);
}

void svc_params_to_text(const uint8_t* p, size_t n, std::string& out) {
  size_t pos = 0;
  while (pos + 4 <= n) {
    uint16_t key = get16(p + pos);
    size_t len = get16(p + pos + 2);
    const uint8_t* v = p + pos + 4;
    pos += 4 + len;
    out.push_back(' ');
    out += svc_key_to_text(key);
    switch (key) {
      case kMandatory:
        out.push_back('=');
        for (size_t i = 0; i + 2 <= len; i += 2) {
          if (i) out.push_back(',');
          out += svc_key_to_text(get16(v + i));
        }
        break;
      case kAlpn: {
        std::string raw;
        size_t i = 0;
        while (i < len) {
          size_t l = v[i];
          if (i) raw.push_back(',');
          append_list_item(raw, v + i + 1, l);
          i += l + 1;
        }
        out.push_back('=');
        append_quoted(out, reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
        break;
      }
      case kNoDefaultAlpn:
        break;
      case kPort:
        out += '=' + std::to_string(get16(v));
        break;
      case kIpv4Hint:
        out.push_back('=');
        for (size_t i = 0; i + 4 <= len; i += 4) {
          if (i) out.push_back(',');
          out += ipv4_text(v + i);
        }
        break;
      case kIpv6Hint:
        out.push_back('=');
        for (size_t i = 0; i + 16 <= len; i += 16) {
          if (i) out.push_back(',');
          out += ipv6_text(v + i);
        }
        break;
      case kEch:
        out.push_back('=');
        out += base64_encode({v, len});
        break;
      default:
        if (len) {
          out.push_back('=');
          append_quoted(out, v, len);
        }
        break;
    }
  }
}

// Appends the text of one field; returns false when the field has no
// faithful text form (then the caller prints generic).
bool field_to_text(Field f, const uint8_t* rdata, const uint8_t* p, size_t n, std::string& out) {
  switch (f) {
    case Field::U8: out += std::to_string(p[0]); return true;
    case Field::Algorithm: out += std::to_string(p[0]); return true;
    case Field::U16: out += std::to_string(get16(p)); return true;
    case Field::U32: out += std::to_string(get32(p)); return true;
    case Field::Name:
    case Field::CompressedName:
      out += Name::from_checked_wire(p, n).to_text();
      return true;
    case Field::IPv4: out += ipv4_text(p); return true;
    case Field::IPv6: out += ipv6_text(p); return true;
    case Field::CharString: append_quoted(out, p + 1, p[0]); return true;
    case Field::CharStrings: {
      size_t pos = 0;
      while (pos < n) {
        if (pos) out.push_back(' ');
        append_quoted(out, p + pos + 1, p[pos]);
        pos += size_t(p[pos]) + 1;
      }
      return true;
    }
    case Field::Base64: out += base64_encode({p, n}); return true;
    case Field::Hex: out += hex_encode({p, n}); return true;
    case Field::HexLen8:
      out += p[0] ? hex_encode({p + 1, p[0]}) : std::string("-");
      return true;
    case Field::Base32Len8: out += base32hex_encode({p + 1, p[0]}); return true;
    case Field::TypeBitmap: bitmap_to_text(p, n, out); return true;
    case Field::TypeCode: out += type_to_text(get16(p)); return true;
    case Field::Time: out += time_to_text(get32(p)); return true;
    case Field::CaaTag:
      for (size_t i = 1; i < n; ++i) {
        char c = char(p[i]);
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum) return false;
        out.push_back(c);
      }
      return true;
    case Field::QuotedRest: append_quoted(out, p, n); return true;
    case Field::SvcParams:
      if (!svc_params_consistent(p, n)) return false;
      // svc_params_to_text writes a leading space per param; drop the
      // caller's separator by trimming.
      if (!out.empty() && out.back() == ' ') out.pop_back();
      svc_params_to_text(p, n, out);
      return true;
    case Field::Rest: return false;
    default: return special::to_text(f, rdata, p, n, out);
  }
}

// SIG and NXT (RFC 2535), obsolete and without a table row, whose names
// RFC 4034 §6.2 still lowercases.
constexpr FieldDef kSigFields[] = {{Field::TypeCode, ""}, {Field::Algorithm, ""}, {Field::U8, ""},
                                   {Field::U32, ""},      {Field::Time, ""},      {Field::Time, ""},
                                   {Field::U16, ""},      {Field::Name, ""},      {Field::Rest, ""}};
constexpr FieldDef kNxtFields[] = {{Field::Name, ""}, {Field::Rest, ""}};

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

Result<Bytes> rdata_from_text(uint16_t type, std::span<const TextToken> tokens,
                              const Name& origin) {
  // RFC 3597 §5: "\#" must be an unquoted token.
  if (!tokens.empty() && !tokens[0].quoted && tokens[0].text == "\\#") {
    auto r = generic_from_text(type, tokens);
    if (!r) return r;
    if (auto v = rdata_validate(type, *r); !v) return v.error();
    return r;
  }
  const TypeInfo* info = type_info(type);
  if (!info || !info->known_text)
    return make_error(type_to_text(type) + ": only the generic \\# syntax is known for this type");
  return TextParser(type, tokens, origin).run(*info);
}

std::string rdata_to_generic_text(std::span<const uint8_t> rdata) {
  std::string s = "\\# " + std::to_string(rdata.size());
  if (!rdata.empty()) {
    s.push_back(' ');
    s += hex_encode(rdata, false);
  }
  return s;
}

std::string rdata_to_text(uint16_t type, std::span<const uint8_t> rdata) {
  const TypeInfo* info = type_info(type);
  if (!info || !info->known_text) return rdata_to_generic_text(rdata);
  std::string out;
  bool ok = true;
  auto r = walk(type, *info, rdata, [&](size_t i, Field f, size_t off, size_t size) {
    if (!ok) return;
    if (i > 0) out.push_back(' ');
    size_t before = out.size();
    if (!field_to_text(f, rdata.data(), rdata.data() + off, size, out)) ok = false;
    // A field that prints nothing (empty hex/base64) leaves no gap.
    if (out.size() == before && i > 0 && out.back() == ' ') out.pop_back();
  });
  if (!r || !ok) return rdata_to_generic_text(rdata);
  return out;
}

Result<Bytes> rdata_from_message(uint16_t type, ByteReader& msg, uint16_t rdlength) {
  if (!msg.ok() || msg.remaining() < rdlength) {
    msg.fail();
    return make_error(type_to_text(type) + ": rdata truncated");
  }
  if (rdlength == 0) return Bytes{};
  const size_t start = msg.pos();
  const size_t end = start + rdlength;
  const TypeInfo* info = type_info(type);
  bool has_name = false;
  if (info)
    for (const FieldDef& f : info->fields)
      has_name |= (f.kind == Field::Name || f.kind == Field::CompressedName);
  if (!has_name) {
    // No names inside: the wire rdata is already uncompressed.
    auto s = msg.bytes(rdlength);
    Bytes out(s.begin(), s.end());
    if (info) {
      if (auto v = rdata_validate(type, out); !v) return v.error();
    }
    return out;
  }
  Bytes out;
  out.reserve(size_t(rdlength) + 64);
  for (size_t i = 0; i < info->fields.size(); ++i) {
    const Field f = info->fields[i].kind;
    if (f == Field::Name || f == Field::CompressedName) {
      // RFC 3597 §4: only the types the table marks may arrive compressed.
      auto n = read_compressed_name(msg, info->decompress);
      if (!n) return field_error(type, i, n.error().message);
      if (msg.pos() > end) {
        msg.fail();
        return field_error(type, i, "name runs past RDLENGTH");
      }
      auto w = n->wire();
      out.insert(out.end(), w.begin(), w.end());
      continue;
    }
    size_t used = 0;
    const char* why = "";
    if (!field_extent(f, out.data(), msg.cursor(), end - msg.pos(), used, why)) {
      msg.fail();
      return field_error(type, i, why);
    }
    auto s = msg.bytes(used);
    out.insert(out.end(), s.begin(), s.end());
  }
  if (msg.pos() != end) {
    msg.fail();
    return make_error(type_to_text(type) + ": rdata longer than its fields");
  }
  if (out.size() > kMaxRdata) {
    msg.fail();
    return make_error(type_to_text(type) + ": rdata too long after decompression");
  }
  return out;
}

Result<void> rdata_validate(uint16_t type, std::span<const uint8_t> rdata) {
  if (rdata.size() > kMaxRdata) return make_error(type_to_text(type) + ": rdata too long");
  const TypeInfo* info = type_info(type);
  if (!info) return {};
  return walk(type, *info, rdata, [](size_t, Field, size_t, size_t) {});
}

Bytes rdata_canonical(uint16_t type, std::span<const uint8_t> rdata) {
  Bytes out(rdata.begin(), rdata.end());
  std::span<const FieldDef> fields;
  if (const TypeInfo* info = type_info(type)) {
    if (!info->canonical_lower) return out;
    fields = info->fields;
  } else if (type == 24) {  // SIG
    fields = kSigFields;
  } else if (type == 30) {  // NXT
    fields = kNxtFields;
  } else {
    return out;
  }
  TypeInfo row{RRType(type), "", fields, true, false, true, 0, 0, -1};
  (void)walk(type, row, rdata, [&](size_t, Field f, size_t off, size_t size) {
    if (f == Field::Name || f == Field::CompressedName)
      for (size_t k = off; k < off + size; ++k) out[k] = ascii_lower(out[k]);
  });
  return out;
}

size_t rdata_name_refs(uint16_t type, std::span<const uint8_t> rdata,
                       std::span<RdataNameRef> out) {
  const TypeInfo* info = type_info(type);
  if (!info) return 0;
  size_t n = 0;
  auto r = walk(type, *info, rdata, [&](size_t, Field f, size_t off, size_t size) {
    if (f != Field::Name && f != Field::CompressedName) return;
    if (n < out.size()) out[n] = RdataNameRef{uint16_t(off), uint16_t(size), f == Field::CompressedName};
    ++n;
  });
  if (!r) return 0;
  return std::min(n, out.size());
}

}  // namespace ddns::wire
