// Rdata codec driven by the type table: presentation text <-> wire, and
// reading rdata out of a message (decompressing names) with validation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "wire/name.h"
#include "wire/rrtype.h"

namespace ddns::wire {

using Bytes = std::vector<uint8_t>;

// One token of master-file rdata as the zone lexer hands it over:
// quotes already removed (quoted = true), backslash escapes left in place
// for the field parser to interpret (\DDD, \X).
struct TextToken {
  std::string_view text;
  bool quoted = false;
};

// Parses rdata text for `type`. Relative names are completed with `origin`.
// Accepts RFC 3597 generic form (`\# 4 0a000001`) for every type.
// Errors name the type and field: "MX.preference: not a number".
Result<Bytes> rdata_from_text(uint16_t type, std::span<const TextToken> tokens,
                              const Name& origin);

// Presentation text of rdata (canonical spacing, names absolute). Types with
// no text form, or rdata that does not parse as its type, print in the
// RFC 3597 generic form.
std::string rdata_to_text(uint16_t type, std::span<const uint8_t> rdata);

// RFC 3597 §5 generic text: "\# 4 0a000001".
std::string rdata_to_generic_text(std::span<const uint8_t> rdata);

// Reads `rdlength` octets of rdata from a message at the reader's position,
// decompressing embedded names (pointers only backwards) and checking that
// the fields fill rdlength exactly. The result is uncompressed wire rdata.
// RDLENGTH 0 is accepted for every type: RFC 2136 §2.4/§2.5 send empty
// rdata with class ANY (and in prerequisites); a caller that needs real
// data for a class IN record calls rdata_validate() on the result.
// Errors name the type and field ("MX.exchange: name: truncated"); on error
// the reader is failed too.
Result<Bytes> rdata_from_message(uint16_t type, ByteReader& msg, uint16_t rdlength);

// Checks that uncompressed rdata is well formed for its type.
Result<void> rdata_validate(uint16_t type, std::span<const uint8_t> rdata);

// Canonical form for DNSSEC/comparison (RFC 4034 §6.2): names lowercased for
// the types that section lists.
Bytes rdata_canonical(uint16_t type, std::span<const uint8_t> rdata);

// Where the domain names sit inside well-formed uncompressed rdata, so the
// message builder can compress on output. Only names of kind
// Field::CompressedName may be compressed (RFC 3597 §4).
struct RdataNameRef {
  uint16_t offset = 0;   // into the rdata
  uint16_t length = 0;   // uncompressed wire length of the name
  bool compressible = false;
};
// Fills `out` (at most out.size() entries; two suffice for every type in
// the table) and returns how many names there are. Rdata that does not
// parse as its type yields 0 and is then copied verbatim.
size_t rdata_name_refs(uint16_t type, std::span<const uint8_t> rdata,
                       std::span<RdataNameRef> out);

}  // namespace ddns::wire
