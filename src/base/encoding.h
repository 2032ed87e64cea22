// Binary-to-text encodings used in DNS presentation format: base64
// (RFC 4648 §4), base32hex without padding (RFC 4648 §7, NSEC3) and hex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ddns {

std::string base64_encode(std::span<const uint8_t> data);
// Appends decoded bytes to `out`. Whitespace is skipped; padding to a
// whole quad is required. Returns false on bad input.
bool base64_decode(std::string_view text, std::vector<uint8_t>& out);

// Upper-case base32hex, no padding (RFC 5155 §3.3 presentation).
std::string base32hex_encode(std::span<const uint8_t> data);
// Case-insensitive; padding '=' accepted at the end only; rejects non-zero
// trailing bits.
bool base32hex_decode(std::string_view text, std::vector<uint8_t>& out);

// Upper-case hex (BIND prints DS digests this way); lower-case on request.
std::string hex_encode(std::span<const uint8_t> data, bool upper = true);
// Case-insensitive, needs an even number of digits, skips whitespace.
bool hex_decode(std::string_view text, std::vector<uint8_t>& out);

}  // namespace ddns
