// The RR type table (one row per type) and type/class mnemonics.
#include "wire/rrtype.h"

#include <array>
#include <charconv>

namespace ddns::wire {
namespace {

using F = Field;

// Field rows. Wire layouts from RFC 1035 §3.3, RFC 1183 (RP AFSDB X25 RT),
// RFC 2163 (PX), RFC 2535 (KEY), RFC 3596, RFC 1876 (LOC), RFC 2782,
// RFC 3403, RFC 2230 (KX), RFC 4398 (CERT), RFC 6672, RFC 3123 (APL),
// RFC 4034, RFC 4255, RFC 4025 (IPSECKEY), RFC 4701 (DHCID), RFC 5155,
// RFC 6698, RFC 8162 (SMIMEA), RFC 8005 (HIP), RFC 7344 (CDS CDNSKEY),
// RFC 7929 (OPENPGPKEY), RFC 7477 (CSYNC), RFC 8976 (ZONEMD), RFC 9460,
// RFC 7208 (SPF), RFC 6742 (NID L32 L64 LP), RFC 7043 (EUI48 EUI64),
// RFC 7553 (URI), RFC 8659 (CAA), RFC 4431 (DLV).
constexpr FieldDef kA[] = {{F::IPv4, "address"}};
constexpr FieldDef kAAAA[] = {{F::IPv6, "address"}};
constexpr FieldDef kNS[] = {{F::CompressedName, "nsdname"}};
constexpr FieldDef kCNAME[] = {{F::CompressedName, "target"}};
constexpr FieldDef kPTR[] = {{F::CompressedName, "ptrdname"}};
constexpr FieldDef kMB[] = {{F::CompressedName, "madname"}};
constexpr FieldDef kMG[] = {{F::CompressedName, "mgmname"}};
constexpr FieldDef kMR[] = {{F::CompressedName, "newname"}};
constexpr FieldDef kMINFO[] = {{F::CompressedName, "rmailbx"}, {F::CompressedName, "emailbx"}};
constexpr FieldDef kSOA[] = {{F::CompressedName, "mname"}, {F::CompressedName, "rname"},
                             {F::U32, "serial"},           {F::U32, "refresh"},
                             {F::U32, "retry"},            {F::U32, "expire"},
                             {F::U32, "minimum"}};
constexpr FieldDef kHINFO[] = {{F::CharString, "cpu"}, {F::CharString, "os"}};
constexpr FieldDef kMX[] = {{F::U16, "preference"}, {F::CompressedName, "exchange"}};
constexpr FieldDef kTXT[] = {{F::CharStrings, "txt"}};
constexpr FieldDef kRP[] = {{F::Name, "mbox"}, {F::Name, "txt"}};
constexpr FieldDef kAFSDB[] = {{F::U16, "subtype"}, {F::Name, "hostname"}};
constexpr FieldDef kX25[] = {{F::CharString, "psdn_address"}};
constexpr FieldDef kRT[] = {{F::U16, "preference"}, {F::Name, "intermediate"}};
constexpr FieldDef kKX[] = {{F::U16, "preference"}, {F::Name, "exchanger"}};
constexpr FieldDef kPX[] = {{F::U16, "preference"}, {F::Name, "map822"}, {F::Name, "mapx400"}};
constexpr FieldDef kLOC[] = {{F::Loc, "location"}};
constexpr FieldDef kSRV[] = {{F::U16, "priority"}, {F::U16, "weight"}, {F::U16, "port"},
                             {F::Name, "target"}};
constexpr FieldDef kNAPTR[] = {{F::U16, "order"},          {F::U16, "preference"},
                               {F::CharString, "flags"},   {F::CharString, "services"},
                               {F::CharString, "regexp"},  {F::Name, "replacement"}};
constexpr FieldDef kCERT[] = {{F::CertType, "cert_type"}, {F::U16, "key_tag"},
                              {F::AlgorithmName, "algorithm"}, {F::Base64, "certificate"}};
constexpr FieldDef kDNAME[] = {{F::Name, "target"}};
constexpr FieldDef kRest[] = {{F::Rest, "data"}};
constexpr FieldDef kAPL[] = {{F::Apl, "items"}};
constexpr FieldDef kDS[] = {{F::U16, "key_tag"}, {F::Algorithm, "algorithm"},
                            {F::U8, "digest_type"}, {F::Hex, "digest"}};
constexpr FieldDef kSSHFP[] = {{F::U8, "algorithm"}, {F::U8, "fp_type"}, {F::Hex, "fingerprint"}};
constexpr FieldDef kIPSECKEY[] = {{F::U8, "precedence"}, {F::U8, "gateway_type"},
                                  {F::U8, "algorithm"}, {F::IpsecGateway, "gateway"},
                                  {F::Base64, "public_key"}};
constexpr FieldDef kRRSIG[] = {{F::TypeCode, "type_covered"}, {F::Algorithm, "algorithm"},
                               {F::U8, "labels"},             {F::U32, "original_ttl"},
                               {F::Time, "expiration"},       {F::Time, "inception"},
                               {F::U16, "key_tag"},           {F::Name, "signer"},
                               {F::Base64, "signature"}};
constexpr FieldDef kNSEC[] = {{F::Name, "next"}, {F::TypeBitmap, "types"}};
constexpr FieldDef kDNSKEY[] = {{F::U16, "flags"}, {F::U8, "protocol"},
                                {F::Algorithm, "algorithm"}, {F::Base64, "public_key"}};
constexpr FieldDef kDHCID[] = {{F::Base64, "digest"}};
constexpr FieldDef kNSEC3[] = {{F::U8, "hash_algorithm"}, {F::U8, "flags"},
                               {F::U16, "iterations"},    {F::HexLen8, "salt"},
                               {F::Base32Len8, "next_hashed"}, {F::TypeBitmap, "types"}};
constexpr FieldDef kNSEC3PARAM[] = {{F::U8, "hash_algorithm"}, {F::U8, "flags"},
                                    {F::U16, "iterations"}, {F::HexLen8, "salt"}};
constexpr FieldDef kTLSA[] = {{F::U8, "usage"}, {F::U8, "selector"}, {F::U8, "matching_type"},
                              {F::Hex, "data"}};
constexpr FieldDef kHIP[] = {{F::Hip, "hip"}};
constexpr FieldDef kOPENPGPKEY[] = {{F::Base64, "public_key"}};
constexpr FieldDef kCSYNC[] = {{F::U32, "serial"}, {F::U16, "flags"}, {F::TypeBitmap, "types"}};
constexpr FieldDef kZONEMD[] = {{F::U32, "serial"}, {F::U8, "scheme"}, {F::U8, "hash_algorithm"},
                                {F::Hex, "digest"}};
constexpr FieldDef kSVCB[] = {{F::U16, "priority"}, {F::Name, "target"}, {F::SvcParams, "params"}};
constexpr FieldDef kNID[] = {{F::U16, "preference"}, {F::Ilnp64, "node_id"}};
constexpr FieldDef kL32[] = {{F::U16, "preference"}, {F::IPv4, "locator32"}};
constexpr FieldDef kL64[] = {{F::U16, "preference"}, {F::Ilnp64, "locator64"}};
constexpr FieldDef kLP[] = {{F::U16, "preference"}, {F::Name, "fqdn"}};
constexpr FieldDef kEUI48[] = {{F::Eui48, "address"}};
constexpr FieldDef kEUI64[] = {{F::Eui64, "address"}};
constexpr FieldDef kURI[] = {{F::U16, "priority"}, {F::U16, "weight"}, {F::QuotedRest, "target"}};
constexpr FieldDef kCAA[] = {{F::U8, "flags"}, {F::CaaTag, "tag"}, {F::QuotedRest, "value"}};

// Row flags.
constexpr unsigned kGeneric = 1;     // no presentation form beyond RFC 3597 \#
constexpr unsigned kDecompress = 2;  // RFC 3597 §4: names may arrive compressed
constexpr unsigned kAdditional = 4;  // the first name gets additional-section processing
constexpr unsigned kLower = 8;       // RFC 4034 §6.2: names lowercased in canonical form

// Octets a fixed-size field takes, or 0 for variable ones.
constexpr size_t fixed_size(Field f) {
  switch (f) {
    case F::U8: case F::Algorithm: case F::AlgorithmName: return 1;
    case F::U16: case F::TypeCode: case F::CertType: return 2;
    case F::U32: case F::Time: case F::IPv4: return 4;
    case F::Eui48: return 6;
    case F::Eui64: case F::Ilnp64: return 8;
    case F::IPv6: return 16;
    default: return 0;
  }
}

// Builds a row, deriving where its compressible and additional-section
// names sit from the field kinds.
constexpr TypeInfo row(RRType t, std::string_view name, std::span<const FieldDef> fields,
                       unsigned flags = 0) {
  TypeInfo r{t,    name, fields, (flags & kGeneric) == 0, (flags & kDecompress) != 0,
             (flags & kLower) != 0, 0, 0, -1};
  size_t off = 0;
  bool fixed_prefix = true;
  for (size_t i = 0; i < fields.size(); ++i) {
    Field f = fields[i].kind;
    if (f == F::Name || f == F::CompressedName) {
      if (fixed_prefix && (flags & kAdditional) && r.additional_at < 0) r.additional_at = int8_t(off);
      if (fixed_prefix && f == F::CompressedName) {
        r.compress_at = uint8_t(off);
        while (i < fields.size() && fields[i].kind == F::CompressedName) {
          ++r.compress_names;
          ++i;
        }
      }
      break;
    }
    size_t n = fixed_size(f);
    if (n == 0) fixed_prefix = false;
    off += n;
  }
  return r;
}

// RFC 1035 types are compressible on output and always decompressed.
constexpr unsigned k1035 = kDecompress | kLower;

constexpr TypeInfo kTable[] = {
    row(RRType::A, "A", kA),
    row(RRType::NS, "NS", kNS, k1035 | kAdditional),
    row(RRType::CNAME, "CNAME", kCNAME, k1035),
    row(RRType::SOA, "SOA", kSOA, k1035),
    row(RRType::MB, "MB", kMB, k1035),
    row(RRType::MG, "MG", kMG, k1035),
    row(RRType::MR, "MR", kMR, k1035),
    row(RRType::PTR, "PTR", kPTR, k1035),
    row(RRType::HINFO, "HINFO", kHINFO),
    row(RRType::MINFO, "MINFO", kMINFO, k1035),
    row(RRType::MX, "MX", kMX, k1035 | kAdditional),
    row(RRType::TXT, "TXT", kTXT),
    row(RRType::RP, "RP", kRP, kDecompress | kLower),
    row(RRType::AFSDB, "AFSDB", kAFSDB, kDecompress | kLower),
    row(RRType::X25, "X25", kX25),
    row(RRType::RT, "RT", kRT, kDecompress | kLower),
    row(RRType::KEY, "KEY", kDNSKEY),
    row(RRType::PX, "PX", kPX, kDecompress | kLower),
    row(RRType::AAAA, "AAAA", kAAAA),
    row(RRType::LOC, "LOC", kLOC),
    row(RRType::SRV, "SRV", kSRV, kDecompress | kAdditional | kLower),
    row(RRType::NAPTR, "NAPTR", kNAPTR, kDecompress | kLower),
    row(RRType::KX, "KX", kKX, kLower),
    row(RRType::CERT, "CERT", kCERT),
    row(RRType::DNAME, "DNAME", kDNAME, kLower),
    row(RRType::OPT, "OPT", kRest, kGeneric),
    row(RRType::APL, "APL", kAPL),
    row(RRType::DS, "DS", kDS),
    row(RRType::SSHFP, "SSHFP", kSSHFP),
    row(RRType::IPSECKEY, "IPSECKEY", kIPSECKEY),
    row(RRType::RRSIG, "RRSIG", kRRSIG, kLower),
    row(RRType::NSEC, "NSEC", kNSEC),
    row(RRType::DNSKEY, "DNSKEY", kDNSKEY),
    row(RRType::DHCID, "DHCID", kDHCID),
    row(RRType::NSEC3, "NSEC3", kNSEC3),
    row(RRType::NSEC3PARAM, "NSEC3PARAM", kNSEC3PARAM),
    row(RRType::TLSA, "TLSA", kTLSA),
    row(RRType::SMIMEA, "SMIMEA", kTLSA),
    row(RRType::HIP, "HIP", kHIP),
    row(RRType::NINFO, "NINFO", kTXT),
    row(RRType::CDS, "CDS", kDS),
    row(RRType::CDNSKEY, "CDNSKEY", kDNSKEY),
    row(RRType::OPENPGPKEY, "OPENPGPKEY", kOPENPGPKEY),
    row(RRType::CSYNC, "CSYNC", kCSYNC),
    row(RRType::ZONEMD, "ZONEMD", kZONEMD),
    row(RRType::SVCB, "SVCB", kSVCB),
    row(RRType::HTTPS, "HTTPS", kSVCB),
    row(RRType::SPF, "SPF", kTXT),
    row(RRType::NID, "NID", kNID),
    row(RRType::L32, "L32", kL32),
    row(RRType::L64, "L64", kL64),
    row(RRType::LP, "LP", kLP),
    row(RRType::EUI48, "EUI48", kEUI48),
    row(RRType::EUI64, "EUI64", kEUI64),
    row(RRType::TKEY, "TKEY", kRest, kGeneric),
    row(RRType::TSIG, "TSIG", kRest, kGeneric),
    row(RRType::URI, "URI", kURI),
    row(RRType::CAA, "CAA", kCAA),
    row(RRType::AVC, "AVC", kTXT),
    row(RRType::TA, "TA", kDS),
    row(RRType::DLV, "DLV", kDS),
};

constexpr const TypeInfo& row_of(RRType t) {
  for (const TypeInfo& r : kTable)
    if (r.type == t) return r;
  return kTable[0];
}
// The derived layout of the rows the hot paths rely on.
static_assert(row_of(RRType::NS).compress_at == 0 && row_of(RRType::NS).compress_names == 1 &&
              row_of(RRType::NS).additional_at == 0);
static_assert(row_of(RRType::SOA).compress_at == 0 && row_of(RRType::SOA).compress_names == 2);
static_assert(row_of(RRType::MX).compress_at == 2 && row_of(RRType::MX).additional_at == 2);
static_assert(row_of(RRType::SRV).compress_names == 0 && row_of(RRType::SRV).additional_at == 6);
static_assert(row_of(RRType::RP).compress_names == 0 && row_of(RRType::RP).decompress);

// Mnemonics of types that have no table row (queries only, or types we
// carry only in generic form) but that people still write.
struct Mnemonic {
  uint16_t code;
  std::string_view name;
};
constexpr Mnemonic kExtraNames[] = {
    {3, "MD"},     {4, "MF"},
    {10, "NULL"},  {11, "WKS"},   {20, "ISDN"},  {22, "NSAP"},   {23, "NSAP-PTR"},
    {24, "SIG"},   {27, "GPOS"},  {30, "NXT"},   {31, "EID"},    {32, "NIMLOC"},
    {34, "ATMA"},  {38, "A6"},    {40, "SINK"},  {57, "RKEY"},   {58, "TALINK"},
    {100, "UINFO"}, {101, "UID"}, {102, "GID"},  {103, "UNSPEC"}, {251, "IXFR"},
    {252, "AXFR"}, {253, "MAILB"}, {254, "MAILA"}, {255, "ANY"}, {259, "DOA"},
    {260, "AMTRELAY"},
};

// Direct index by code: every row below kLowCodes, then the few high codes
// (TA, DLV) at 32768 + i. Both O(1).
constexpr size_t kLowCodes = 260;
constexpr size_t kHighBase = 32768, kHighCodes = 2;
struct Index {
  std::array<const TypeInfo*, kLowCodes> low{};
  std::array<const TypeInfo*, kHighCodes> high{};
  constexpr Index() {
    for (const TypeInfo& t : kTable) {
      size_t c = uint16_t(t.type);
      if (c < kLowCodes) low[c] = &t;
      else high[c - kHighBase] = &t;
    }
  }
};
constexpr Index kIndex;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = char(x - 32);
    if (y >= 'a' && y <= 'z') y = char(y - 32);
    if (x != y) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Parses the decimal after a prefix like "TYPE" or "CLASS": 0..65535, digits only.
std::optional<uint16_t> parse_code(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v > 65535) return std::nullopt;
  return uint16_t(v);
}

}  // namespace

const TypeInfo* type_info(uint16_t code) {
  if (code < kLowCodes) return kIndex.low[code];
  if (code >= kHighBase && code - kHighBase < kHighCodes) return kIndex.high[code - kHighBase];
  return nullptr;
}

std::span<const TypeInfo> all_types() { return kTable; }

size_t field_fixed_size(Field f) { return fixed_size(f); }

const TypeInfo* type_info(RRType type) { return type_info(uint16_t(type)); }

std::optional<uint16_t> type_from_text(std::string_view text) {
  for (const TypeInfo& t : kTable)
    if (iequals(text, t.name)) return uint16_t(t.type);
  for (const Mnemonic& m : kExtraNames)
    if (iequals(text, m.name)) return m.code;
  // RFC 3597 §5: TYPEnnn.
  if (istarts_with(text, "TYPE")) return parse_code(text.substr(4));
  return std::nullopt;
}

std::string type_to_text(uint16_t type) {
  if (const TypeInfo* t = type_info(type)) return std::string(t->name);
  for (const Mnemonic& m : kExtraNames)
    if (m.code == type) return std::string(m.name);
  return "TYPE" + std::to_string(type);
}

std::optional<uint16_t> class_from_text(std::string_view text) {
  if (iequals(text, "IN")) return 1;
  if (iequals(text, "CH") || iequals(text, "CHAOS")) return 3;
  if (iequals(text, "HS")) return 4;
  if (iequals(text, "NONE")) return 254;
  if (iequals(text, "ANY")) return 255;
  if (istarts_with(text, "CLASS")) return parse_code(text.substr(5));
  return std::nullopt;
}

std::string class_to_text(uint16_t rclass) {
  switch (rclass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return "CLASS" + std::to_string(rclass);
  }
}

// RFC 6895 §3.1: 128-255 are Q/meta types; OPT (41) is a pseudo-RR; TSIG
// and TKEY too. Type 0 is reserved.
bool is_meta_type(uint16_t type) {
  if (type == 0) return true;
  if (type == uint16_t(RRType::OPT)) return true;
  if (type >= 128 && type <= 255) return true;
  return false;
}

}  // namespace ddns::wire
