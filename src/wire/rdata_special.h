// Codec for the rdata field kinds whose text is not one token per wire
// field (LOC, APL, HIP, IPSECKEY gateway, EUI, ILNP, CERT mnemonics).
// Internal to wire/: rdata.cc dispatches to these by Field kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "wire/name.h"
#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::wire::special {

// Text tokens left for one rdata, consumed from `next` on.
struct Cursor {
  std::span<const TextToken> toks;
  size_t& next;
  const Name& origin;
};

// True when `f` is one of the kinds below.
bool handles(Field f);

// Octets a variable-size field `f` takes at p (avail left) in uncompressed
// rdata that starts at `rdata` (IPSECKEY's gateway depends on octet 1);
// fixed-size kinds are sized by field_fixed_size().
// False with `why` set when malformed.
bool extent(Field f, const uint8_t* rdata, const uint8_t* p, size_t avail, size_t& used,
            const char*& why);

// Parses the field's text, appending wire octets to `out` (which holds the
// rdata's earlier fields). False with `why` set.
bool from_text(Field f, Cursor& in, Bytes& out, std::string& why);

// Appends the field's presentation text; false when it has none (the
// caller then prints the whole rdata in RFC 3597 form).
bool to_text(Field f, const uint8_t* rdata, const uint8_t* p, size_t n, std::string& out);

// Shared helpers of the rdata codec.
inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void put16(Bytes& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
inline void put32(Bytes& out, uint32_t v) {
  put16(out, uint16_t(v >> 16));
  put16(out, uint16_t(v));
}
// Decimal 0..max, digits only.
bool parse_uint(std::string_view s, uint64_t max, uint64_t& v);
bool iequals(std::string_view a, std::string_view b);
bool parse_ipv4(std::string_view s, uint8_t* out);
bool parse_ipv6(std::string_view s, uint8_t* out);
std::string ipv4_text(const uint8_t* p);
std::string ipv6_text(const uint8_t* p);
// Length of an uncompressed wire name at p, or 0 with `why` set.
size_t name_extent(const uint8_t* p, size_t avail, const char*& why);

// DNSSEC algorithm number from a mnemonic (both BIND's and IANA's
// spellings) or a decimal; false when neither.
bool algorithm_from_text(std::string_view s, uint8_t& out);

}  // namespace ddns::wire::special
