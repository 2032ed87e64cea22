// base64, base32hex and hex codecs for presentation format.
#include "base/encoding.h"

#include <array>

namespace ddns {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB32Hex[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

constexpr std::array<int8_t, 256> make_table(const char* alphabet, size_t n, bool fold) {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = uint8_t(alphabet[i]);
    t[c] = int8_t(i);
    if (fold && c >= 'A' && c <= 'Z') t[c + 32] = int8_t(i);
  }
  return t;
}

constexpr auto kB64Rev = make_table(kB64, 64, false);
constexpr auto kB32Rev = make_table(kB32Hex, 32, true);
constexpr auto kHexRev = make_table(kHexUpper, 16, true);

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string base64_encode(std::span<const uint8_t> d) {
  std::string out;
  out.reserve((d.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= d.size(); i += 3) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8 | d[i + 2];
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (d.size() - i == 1) {
    uint32_t v = uint32_t(d[i]) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (d.size() - i == 2) {
    uint32_t v = uint32_t(d[i]) << 16 | uint32_t(d[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::vector<uint8_t>& out) {
  uint32_t acc = 0;
  int n = 0;     // sextets in acc
  int pad = 0;
  for (char ch : text) {
    if (is_space(ch)) continue;
    if (ch == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;  // data after padding
    int8_t v = kB64Rev[uint8_t(ch)];
    if (v < 0) return false;
    acc = acc << 6 | uint32_t(v);
    if (++n == 4) {
      out.push_back(uint8_t(acc >> 16));
      out.push_back(uint8_t(acc >> 8));
      out.push_back(uint8_t(acc));
      acc = 0;
      n = 0;
    }
  }
  if (n == 0) return pad == 0;
  if (n == 1) return false;
  // Padding is required (BIND and Knot both insist on whole quads).
  if (n + pad != 4) return false;
  if (n == 2) {
    if (acc & 0xF) return false;
    out.push_back(uint8_t(acc >> 4));
  } else {  // n == 3
    if (acc & 0x3) return false;
    out.push_back(uint8_t(acc >> 10));
    out.push_back(uint8_t(acc >> 2));
  }
  return true;
}

std::string base32hex_encode(std::span<const uint8_t> d) {
  std::string out;
  out.reserve((d.size() * 8 + 4) / 5);
  uint64_t acc = 0;
  int bits = 0;
  for (uint8_t b : d) {
    acc = acc << 8 | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kB32Hex[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += kB32Hex[(acc << (5 - bits)) & 31];
  return out;
}

bool base32hex_decode(std::string_view text, std::vector<uint8_t>& out) {
  uint64_t acc = 0;
  int bits = 0;
  bool pad = false;
  size_t digits = 0;
  for (char ch : text) {
    if (is_space(ch)) continue;
    if (ch == '=') {
      pad = true;
      continue;
    }
    if (pad) return false;
    int8_t v = kB32Rev[uint8_t(ch)];
    if (v < 0) return false;
    ++digits;
    acc = acc << 5 | uint64_t(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
    }
  }
  // Valid lengths leave 0, 2, 4, 1 or 3 spare bits (groups of 8 digits =
  // 5 bytes); the spare bits must be zero.
  size_t rem = digits % 8;
  if (rem == 1 || rem == 3 || rem == 6) return false;
  if (bits > 0 && (acc & ((uint64_t(1) << bits) - 1)) != 0) return false;
  return true;
}

std::string hex_encode(std::span<const uint8_t> d, bool upper) {
  const char* digits = upper ? kHexUpper : kHexLower;
  std::string out;
  out.resize(d.size() * 2);
  for (size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

bool hex_decode(std::string_view text, std::vector<uint8_t>& out) {
  int hi = -1;
  for (char ch : text) {
    if (is_space(ch)) continue;
    int8_t v = kHexRev[uint8_t(ch)];
    if (v < 0) return false;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  return hi < 0;
}

}  // namespace ddns
