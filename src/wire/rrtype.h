// RR types, classes and the one table that describes each type's rdata as a
// row of field kinds. The text parser, printer, wire codec and compression
// all read this table: a new type is one row plus a golden test.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ddns::wire {

enum class RRType : uint16_t {
  A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, HINFO = 13, MX = 15, TXT = 16,
  AAAA = 28, SRV = 33, NAPTR = 35, DNAME = 39, OPT = 41, DS = 43, SSHFP = 44,
  RRSIG = 46, NSEC = 47, DNSKEY = 48, NSEC3 = 50, NSEC3PARAM = 51, TLSA = 52,
  SVCB = 64, HTTPS = 65, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252,
  ANY = 255, CAA = 257,
};

enum class RRClass : uint16_t { IN = 1, CH = 3, NONE = 254, ANY = 255 };

// How one rdata field is encoded. Names marked Compressible may be
// compressed on output (RFC 3597 §4: only the RFC 1035 well-known types);
// all names are decompressed on input for types that RFC 3597 §4 allows.
enum class Field : uint8_t {
  U8, U16, U32,
  Name,           // domain name, never compressed on output
  CompressedName, // domain name, compressible on output (NS, SOA, MX, ...)
  IPv4, IPv6,
  CharString,     // one <character-string> (length octet + up to 255)
  CharStrings,    // one or more <character-string>s to the end (TXT)
  Base64,         // base64 to the end of rdata (whitespace allowed in text)
  Hex,            // hex to the end of rdata (whitespace allowed in text)
  HexLen8,        // u8 length + bytes, "-" when empty (NSEC3 salt)
  Base32Len8,     // u8 length + bytes, base32hex (NSEC3 next hashed owner)
  TypeBitmap,     // RFC 4034 §4.1.2 window blocks, text: type mnemonics
  TypeCode,       // u16 type, text: mnemonic (RRSIG type covered)
  Time,           // u32 seconds, text: YYYYMMDDHHmmSS or integer (RRSIG)
  Algorithm,      // u8, text: number or mnemonic
  CaaTag,         // u8 length + tag (CAA)
  CaaValue,       // rest of rdata, text: quoted string (CAA)
  SvcParams,      // RFC 9460 key=value list to the end
  Rest,           // opaque bytes to the end (OPT, TSIG, unknown)
};

struct TypeInfo {
  RRType type;
  std::string_view name;           // "A", "NSEC3PARAM", ...
  std::span<const Field> fields;   // empty + opaque for OPT/TSIG/generic
  bool known_text;                 // false: only RFC 3597 generic text
};

// The row for a type, or nullptr for a type we know only generically.
const TypeInfo* type_info(RRType type);
const TypeInfo* type_info(uint16_t code);

// "A" -> A, "TYPE65280" -> 65280; case-insensitive.
std::optional<uint16_t> type_from_text(std::string_view text);
// A -> "A", 65280 -> "TYPE65280".
std::string type_to_text(uint16_t type);
inline std::string type_to_text(RRType t) { return type_to_text(uint16_t(t)); }

// "IN" -> 1, "CH"/"CHAOS", "HS", "NONE", "ANY", "CLASS42" -> 42.
std::optional<uint16_t> class_from_text(std::string_view text);
std::string class_to_text(uint16_t rclass);

// Meta and query-only types that may not appear as zone data.
bool is_meta_type(uint16_t type);

}  // namespace ddns::wire
