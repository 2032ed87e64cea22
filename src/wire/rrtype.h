// RR types, classes and the one table that describes each type's rdata as a
// row of named field kinds. The text parser, printer, wire codec, name
// compression and additional-section processing all read this table: a new
// type is one row plus a golden test (src/wire/testdata/rdata.golden).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ddns::wire {

enum class RRType : uint16_t {
  A = 1, NS = 2, CNAME = 5, SOA = 6, MB = 7, MG = 8, MR = 9, PTR = 12,
  HINFO = 13, MINFO = 14, MX = 15, TXT = 16, RP = 17, AFSDB = 18, X25 = 19, RT = 21,
  KEY = 25, PX = 26, AAAA = 28, LOC = 29, SRV = 33, NAPTR = 35, KX = 36, CERT = 37,
  DNAME = 39, OPT = 41, APL = 42, DS = 43, SSHFP = 44, IPSECKEY = 45, RRSIG = 46,
  NSEC = 47, DNSKEY = 48, DHCID = 49, NSEC3 = 50, NSEC3PARAM = 51, TLSA = 52, SMIMEA = 53,
  HIP = 55, NINFO = 56, CDS = 59, CDNSKEY = 60, OPENPGPKEY = 61, CSYNC = 62, ZONEMD = 63,
  SVCB = 64, HTTPS = 65, SPF = 99, NID = 104, L32 = 105, L64 = 106, LP = 107, EUI48 = 108,
  EUI64 = 109, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252, ANY = 255, URI = 256,
  CAA = 257, AVC = 258, TA = 32768, DLV = 32769,
};

enum class RRClass : uint16_t { IN = 1, CH = 3, NONE = 254, ANY = 255 };

// Type and class codes as plain integers, for switch labels and wire
// comparisons; declared here once instead of per file.
inline constexpr uint16_t kTypeA = uint16_t(RRType::A), kTypeNS = uint16_t(RRType::NS),
                          kTypeCNAME = uint16_t(RRType::CNAME), kTypeSOA = uint16_t(RRType::SOA),
                          kTypePTR = uint16_t(RRType::PTR), kTypeMX = uint16_t(RRType::MX),
                          kTypeTXT = uint16_t(RRType::TXT), kTypeAAAA = uint16_t(RRType::AAAA),
                          kTypeSRV = uint16_t(RRType::SRV), kTypeDNAME = uint16_t(RRType::DNAME),
                          kTypeOPT = uint16_t(RRType::OPT), kTypeDS = uint16_t(RRType::DS),
                          kTypeRRSIG = uint16_t(RRType::RRSIG), kTypeNSEC = uint16_t(RRType::NSEC),
                          kTypeTSIG = uint16_t(RRType::TSIG), kTypeIXFR = uint16_t(RRType::IXFR),
                          kTypeAXFR = uint16_t(RRType::AXFR), kTypeANY = uint16_t(RRType::ANY);
inline constexpr uint16_t kClassIN = uint16_t(RRClass::IN), kClassCH = uint16_t(RRClass::CH),
                          kClassNONE = uint16_t(RRClass::NONE), kClassANY = uint16_t(RRClass::ANY);

// How one rdata field is encoded. Names marked CompressedName may be
// compressed on output (RFC 3597 §4: only the RFC 1035 well-known types).
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
  Algorithm,      // u8, text: number or mnemonic, printed as a number
  AlgorithmName,  // u8, text: number or mnemonic, printed as a mnemonic (CERT)
  CertType,       // u16, text: PKIX, PGP, ... or number (RFC 4398 §2.1)
  CaaTag,         // u8 length + tag (CAA)
  QuotedRest,     // rest of rdata, text: one quoted string (CAA value, URI)
  SvcParams,      // RFC 9460 key=value list to the end
  Loc,            // RFC 1876 §2: the whole 16-octet version 0 rdata
  Apl,            // RFC 3123 §4: address prefix items to the end
  IpsecGateway,   // RFC 4025 §2.5: per the gateway type in octet 1
  Hip,            // RFC 8005 §5: HIT, public key and rendezvous servers
  Eui48, Eui64,   // RFC 7043 §3, §4: xx-xx-... hex pairs
  Ilnp64,         // RFC 6742 §2.1: four 16-bit hex groups "xxxx:xxxx:xxxx:xxxx"
  Rest,           // opaque bytes to the end (OPT, TSIG, unknown)
};

// Octets a fixed-size field kind takes on the wire (U16: 2, IPv6: 16,
// Eui48: 6, ...), or 0 for kinds whose size depends on the data.
size_t field_fixed_size(Field f);

struct FieldDef {
  Field kind;
  std::string_view name;  // for error messages: "MX.exchange: ..."
};

struct TypeInfo {
  RRType type;
  std::string_view name;             // "A", "NSEC3PARAM", ...
  std::span<const FieldDef> fields;  // one opaque Rest field for OPT/TSIG/TKEY
  bool known_text;                   // false: only RFC 3597 generic text
  // RFC 3597 §4: names in the rdata may arrive compressed (the RFC 1035
  // types, and RP AFSDB RT PX NAPTR SRV which receivers SHOULD decompress).
  bool decompress;
  // RFC 4034 §6.2 item 3 (minus HINFO and NSEC, RFC 6840 §5.1): names in
  // the rdata are lowercased in canonical form.
  bool canonical_lower;
  // Output compression, derived from the fields: `compress_names` (0..2)
  // consecutive CompressedName fields start `compress_at` octets into the
  // rdata, after fixed-size fields only (NS: 0/1, MX: 2/1, SOA: 0/2).
  uint8_t compress_at;
  uint8_t compress_names;
  // Offset of the name whose A/AAAA go to the additional section
  // (RFC 1035 §3.3.9 MX, §3.3.11 NS; RFC 2782 SRV), or -1.
  int8_t additional_at;
};

// The row for a type, or nullptr for a type we know only generically.
// O(1): an array index (the query path calls it).
const TypeInfo* type_info(RRType type);
const TypeInfo* type_info(uint16_t code);

// Every row, in type-code order (tests, tools).
std::span<const TypeInfo> all_types();

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
