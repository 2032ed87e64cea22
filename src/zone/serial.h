// SOA serial arithmetic (RFC 1982) and the policies that pick the next
// serial after a change: increment, unixtime, dateserial (YYYYMMDDnn).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ddns::zone {

// RFC 1982 §3.2: -1 when a < b, 0 when equal, +1 when a > b, and 2 when
// the comparison is undefined (the two differ by exactly 2^31).
int serial_compare(uint32_t a, uint32_t b);
inline bool serial_gt(uint32_t a, uint32_t b) { return serial_compare(a, b) == 1; }
inline bool serial_lt(uint32_t a, uint32_t b) { return serial_compare(a, b) == -1; }

// RFC 1982 §3.1: s + n modulo 2^32; n must be in [0, 2^31 - 1] (larger n
// is clamped to that bound, since the result would be undefined).
uint32_t serial_add(uint32_t s, uint32_t n);

enum class SerialPolicy : uint8_t {
  Increment,   // old + 1
  UnixTime,    // seconds since the epoch
  DateSerial,  // YYYYMMDDnn (UTC date, nn counts changes within the day)
};

// "increment", "unixtime", "dateserial" (case-insensitive).
std::optional<SerialPolicy> serial_policy_from_text(std::string_view text);
std::string_view serial_policy_name(SerialPolicy p);

// The serial to publish after a change to a zone at `old`, by `policy`,
// with `now_unix` the current time (a parameter so tests need no clock).
// Always RFC 1982-greater than `old`: when the policy's value is not (clock
// behind, ten changes in one day, a serial set by hand), it falls back to
// old + 1, as BIND does; so does a `now_unix` <= 0 (no clock). Zero is
// skipped, as BIND does, because some tools treat serial 0 as "unset".
uint32_t next_serial(uint32_t old, SerialPolicy policy, int64_t now_unix);

}  // namespace ddns::zone
