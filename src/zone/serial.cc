// RFC 1982 serial number arithmetic and next-serial policies.
#include "zone/serial.h"

#include <cctype>

namespace ddns::zone {
namespace {

constexpr uint32_t kHalf = 0x80000000u;  // 2^(SERIAL_BITS - 1)

// Days since 1970-01-01 -> civil date (proleptic Gregorian, UTC).
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

}  // namespace

int serial_compare(uint32_t a, uint32_t b) {
  if (a == b) return 0;
  // RFC 1982 §3.2: i1 < i2 if (i1 < i2 and i2 - i1 < 2^31) or
  // (i1 > i2 and i1 - i2 > 2^31); both differences are taken mod 2^32.
  const uint32_t d = b - a;
  if (d == kHalf) return 2;
  return d < kHalf ? -1 : 1;
}

uint32_t serial_add(uint32_t s, uint32_t n) {
  if (n > kHalf - 1) n = kHalf - 1;
  return s + n;
}

std::optional<SerialPolicy> serial_policy_from_text(std::string_view text) {
  if (iequals(text, "increment")) return SerialPolicy::Increment;
  if (iequals(text, "unixtime")) return SerialPolicy::UnixTime;
  if (iequals(text, "dateserial")) return SerialPolicy::DateSerial;
  return std::nullopt;
}

std::string_view serial_policy_name(SerialPolicy p) {
  switch (p) {
    case SerialPolicy::Increment: return "increment";
    case SerialPolicy::UnixTime: return "unixtime";
    case SerialPolicy::DateSerial: return "dateserial";
  }
  return "increment";
}

uint32_t next_serial(uint32_t old, SerialPolicy policy, int64_t now_unix) {
  uint32_t want = old + 1;
  switch (policy) {
    case SerialPolicy::Increment: break;
    case SerialPolicy::UnixTime:
      if (now_unix > 0 && now_unix <= int64_t(UINT32_MAX)) want = uint32_t(now_unix);
      break;
    case SerialPolicy::DateSerial: {
      if (now_unix <= 0) break;  // no clock given: never invent 1970
      int64_t y;
      unsigned m, d;
      civil_from_days(now_unix / 86400, &y, &m, &d);
      const int64_t v = (y * 10000 + m * 100 + d) * 100;
      if (v > 0 && v <= int64_t(UINT32_MAX)) want = uint32_t(v);
      break;
    }
  }
  if (!serial_gt(want, old)) want = old + 1;
  if (want == 0) want = 1;  // old + 2: still greater by RFC 1982
  return want;
}

}  // namespace ddns::zone
