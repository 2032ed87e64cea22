// The RR type table (one row per type) and type/class mnemonics.
#include "wire/rrtype.h"

#include <array>
#include <charconv>

namespace ddns::wire {
namespace {

using F = Field;

// Field rows. Wire layouts from RFC 1035 §3.3, RFC 3596, RFC 2782,
// RFC 3403, RFC 6672, RFC 4034, RFC 5155, RFC 6698, RFC 4255, RFC 8659,
// RFC 9460.
constexpr F kA[] = {F::IPv4};
constexpr F kNS[] = {F::CompressedName};
constexpr F kSOA[] = {F::CompressedName, F::CompressedName, F::U32, F::U32,
                      F::U32,            F::U32,            F::U32};
constexpr F kHINFO[] = {F::CharString, F::CharString};
constexpr F kMX[] = {F::U16, F::CompressedName};
constexpr F kTXT[] = {F::CharStrings};
constexpr F kAAAA[] = {F::IPv6};
constexpr F kSRV[] = {F::U16, F::U16, F::U16, F::Name};
constexpr F kNAPTR[] = {F::U16, F::U16, F::CharString, F::CharString, F::CharString, F::Name};
constexpr F kDNAME[] = {F::Name};
constexpr F kRest[] = {F::Rest};
constexpr F kDS[] = {F::U16, F::Algorithm, F::U8, F::Hex};
constexpr F kSSHFP[] = {F::U8, F::U8, F::Hex};
constexpr F kRRSIG[] = {F::TypeCode, F::Algorithm, F::U8, F::U32, F::Time,
                        F::Time,     F::U16,       F::Name, F::Base64};
constexpr F kNSEC[] = {F::Name, F::TypeBitmap};
constexpr F kDNSKEY[] = {F::U16, F::U8, F::Algorithm, F::Base64};
constexpr F kNSEC3[] = {F::U8, F::U8, F::U16, F::HexLen8, F::Base32Len8, F::TypeBitmap};
constexpr F kNSEC3PARAM[] = {F::U8, F::U8, F::U16, F::HexLen8};
constexpr F kTLSA[] = {F::U8, F::U8, F::U8, F::Hex};
constexpr F kSVCB[] = {F::U16, F::Name, F::SvcParams};
constexpr F kCAA[] = {F::U8, F::CaaTag, F::CaaValue};

constexpr TypeInfo kTable[] = {
    {RRType::A, "A", kA, true},
    {RRType::NS, "NS", kNS, true},
    {RRType::CNAME, "CNAME", kNS, true},
    {RRType::SOA, "SOA", kSOA, true},
    {RRType::PTR, "PTR", kNS, true},
    {RRType::HINFO, "HINFO", kHINFO, true},
    {RRType::MX, "MX", kMX, true},
    {RRType::TXT, "TXT", kTXT, true},
    {RRType::AAAA, "AAAA", kAAAA, true},
    {RRType::SRV, "SRV", kSRV, true},
    {RRType::NAPTR, "NAPTR", kNAPTR, true},
    {RRType::DNAME, "DNAME", kDNAME, true},
    {RRType::OPT, "OPT", kRest, false},
    {RRType::DS, "DS", kDS, true},
    {RRType::SSHFP, "SSHFP", kSSHFP, true},
    {RRType::RRSIG, "RRSIG", kRRSIG, true},
    {RRType::NSEC, "NSEC", kNSEC, true},
    {RRType::DNSKEY, "DNSKEY", kDNSKEY, true},
    {RRType::NSEC3, "NSEC3", kNSEC3, true},
    {RRType::NSEC3PARAM, "NSEC3PARAM", kNSEC3PARAM, true},
    {RRType::TLSA, "TLSA", kTLSA, true},
    {RRType::SVCB, "SVCB", kSVCB, true},
    {RRType::HTTPS, "HTTPS", kSVCB, true},
    {RRType::TKEY, "TKEY", kRest, false},
    {RRType::TSIG, "TSIG", kRest, false},
    {RRType::CAA, "CAA", kCAA, true},
};

// Mnemonics of types that have no table row (queries only, or types we
// carry only in generic form) but that people still write.
struct Mnemonic {
  uint16_t code;
  std::string_view name;
};
constexpr Mnemonic kExtraNames[] = {
    {3, "MD"},       {4, "MF"},        {7, "MB"},       {8, "MG"},       {9, "MR"},
    {10, "NULL"},    {11, "WKS"},      {14, "MINFO"},   {17, "RP"},      {18, "AFSDB"},
    {21, "RT"},      {24, "SIG"},      {25, "KEY"},     {26, "PX"},      {29, "LOC"},
    {30, "NXT"},     {36, "KX"},       {37, "CERT"},    {38, "A6"},      {42, "APL"},
    {45, "IPSECKEY"}, {49, "DHCID"},   {53, "SMIMEA"},  {55, "HIP"},     {59, "CDS"},
    {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, {62, "CSYNC"}, {63, "ZONEMD"},  {99, "SPF"},
    {108, "EUI48"},  {109, "EUI64"},   {249, "TKEY"},   {251, "IXFR"},   {252, "AXFR"},
    {253, "MAILB"},  {254, "MAILA"},   {255, "ANY"},    {256, "URI"},
};

// Direct index for the common codes so lookups on the query path are O(1).
struct Index {
  std::array<const TypeInfo*, 260> by_code{};
  constexpr Index() {
    for (const TypeInfo& t : kTable) by_code[uint16_t(t.type)] = &t;
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
  if (code < kIndex.by_code.size()) return kIndex.by_code[code];
  return nullptr;
}

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
