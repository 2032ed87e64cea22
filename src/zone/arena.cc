// Owner-name hashing and lowercasing for the zone's hash table (the query
// path's first step), apart from the storage they index.
#include "zone/arena.h"

namespace ddns::zone {

uint64_t name_hash(const uint8_t* p, size_t len) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (len * 0xff51afd7ed558ccdULL);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    h = (h ^ load8(p + i)) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  if (i < len) {
    // The tail as the low octets of a word (as a memcpy into zero would
    // give on little endian), read without a libc call.
    const size_t r = len - i;
    uint64_t t = 0;
    if (len >= 8) {
      t = load8(p + len - 8) >> (8 * (8 - r));
    } else {
      for (size_t k = 0; k < r; ++k) t |= uint64_t(p[i + k]) << (8 * k);
    }
    h = (h ^ t) * 0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 32;
  return h;
}

using detail::lower8;

void LowerName::assign(const uint8_t* w, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, w + i, 8);
    v = lower8(v);
    std::memcpy(wire + i, &v, 8);
  }
  if (i < n && n >= 8) {
    // The tail as one overlapping word: lowercasing is idempotent.
    uint64_t v;
    std::memcpy(&v, w + n - 8, 8);
    v = lower8(v);
    std::memcpy(wire + n - 8, &v, 8);
  } else {
    for (; i < n; ++i) wire[i] = kLower.t[w[i]];
  }
  len = uint8_t(n);
  size_t pos = 0, k = 0;
  while (pos < n && wire[pos] != 0) {
    offsets[k++] = uint8_t(pos);
    pos += size_t(wire[pos]) + 1;
  }
  offsets[k] = uint8_t(pos);
  labels = uint8_t(k);
}

}  // namespace ddns::zone
