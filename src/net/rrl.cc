// Response rate limiting: classifies each UDP answer from its own bytes,
// keys it by client network, and debits a token bucket packed into one
// 64-bit word of a fixed, lock-free table.
#include "net/rrl.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>

#include "base/bytes.h"

namespace ddns::net {
namespace {

// Answer classes, as BIND's rate-limit {} and Knot's mod-rrl tell them
// apart. A positive answer is keyed by its name and type (a reflector's
// victim gets one bucket per name asked); NXDOMAIN and NODATA by the zone
// (the owner of the SOA in the authority section), so random subdomains of
// one zone share one bucket; a referral by the delegation point; errors
// by the client network alone.
enum Cls : uint8_t { kAnswer = 1, kNxdomain, kNodata, kError };

constexpr const char* cls_text(uint8_t c) {
  return c == kAnswer ? "positive" : c == kNxdomain ? "NXDOMAIN" : c == kNodata ? "empty" : "error";
}

// The key's bytes mixed a word at a time from a random offset, finished
// with MurmurHash3's fmix64 so that both the bucket index (low bits) and
// the tag (high bits) depend on every byte.
struct Hasher {
  uint64_t h;
  void add(uint64_t w) { h = (h ^ w) * 0x9E3779B97F4A7C15ull; h ^= h >> 29; }
  // Bytes of a name, ASCII letters folded to lower case eight at a time
  // (the test for 'A'-'Z' done on every byte of the word at once).
  void add_folded(const uint8_t* p, size_t n) {
    while (n) {
      uint64_t w = 0;
      const size_t k = n < 8 ? n : 8;
      std::memcpy(&w, p, k);
      const uint64_t low7 = w & 0x7F7F7F7F7F7F7F7Full;
      const uint64_t ge_a = low7 + 0x3F3F3F3F3F3F3F3Full;  // high bit: byte >= 'A'
      const uint64_t gt_z = low7 + 0x2525252525252525ull;  // high bit: byte > 'Z'
      const uint64_t upper = ge_a & ~gt_z & ~w & 0x8080808080808080ull;
      add(w | upper >> 2);
      p += k;
      n -= k;
    }
  }
  uint64_t finish() const {
    uint64_t k = h;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
  }
};

// Adds the (possibly compressed, RFC 1035 §4.1.4) name at `pos` to `h`,
// case-folded, and returns the offset just past it in the message; 0 when
// the name is malformed. Each pointer must land before where the previous
// jump (or the name) began, so the walk ends: pointing merely backwards
// would let "a" + pointer-to-"a" loop for ever.
size_t hash_name(const uint8_t* m, size_t len, size_t pos, Hasher& h) {
  size_t end = 0, floor = pos;
  for (;;) {
    if (pos >= len) return 0;
    const uint8_t l = m[pos];
    if ((l & 0xC0) == 0xC0) {
      if (pos + 1 >= len) return 0;
      const size_t target = size_t(l & 0x3F) << 8 | m[pos + 1];
      if (target >= floor) return 0;
      if (!end) end = pos + 2;
      pos = floor = target;
      continue;
    }
    if (l & 0xC0 || pos + 1 + l > len) return 0;
    h.add_folded(m + pos, 1 + size_t(l));  // length octets (< 64) are never folded
    pos += 1 + size_t(l);
    if (l == 0) return end ? end : pos;
  }
}

// Offset just past the name at `pos` (a pointer ends it); 0 when malformed.
size_t skip_name(const uint8_t* m, size_t len, size_t pos) {
  while (pos < len) {
    const uint8_t l = m[pos];
    if ((l & 0xC0) == 0xC0) return pos + 2 <= len ? pos + 2 : 0;
    if (l & 0xC0) return 0;
    pos += 1 + size_t(l);
    if (l == 0) return pos <= len ? pos : 0;
  }
  return 0;
}

// One bucket entry in 64 bits, so that a worker updates it with one
// compare-and-swap and never sees half of another's update:
//   bit 63 valid | 62 limiting (for the start-of-limiting log line) |
//   61-58 slip counter | 57-32 balance + 2^25 | 31-16 time (s mod 2^16) |
//   15-0 tag (high hash bits; the low ones chose the bucket).
struct Entry {
  bool limiting = false;
  uint32_t slip = 0;
  int64_t balance = 0;
  uint32_t time = 0;
  uint32_t tag = 0;

  static constexpr uint64_t kValid = 1ull << 63;
  static constexpr int64_t kBias = 1 << 25;  // balance range [-2^25, 2^25)

  uint64_t pack() const {
    return kValid | uint64_t(limiting) << 62 | uint64_t(slip & 0xF) << 58 |
           uint64_t(balance + kBias) << 32 | uint64_t(time & 0xFFFF) << 16 | (tag & 0xFFFF);
  }
  static Entry unpack(uint64_t w) {
    Entry e;
    e.limiting = w >> 62 & 1;
    e.slip = uint32_t(w >> 58 & 0xF);
    e.balance = int64_t(w >> 32 & 0x3FFFFFF) - kBias;
    e.time = uint32_t(w >> 16 & 0xFFFF);
    e.tag = uint32_t(w & 0xFFFF);
    return e;
  }
};

constexpr size_t kWays = 4;  // entries per bucket: 32 bytes, within one cache line

// Seconds since the entry's time on a 16-bit clock. A worker may carry a
// clock reading a second older than another's that already wrote the
// entry: such a small step back counts as no time at all (it must not look
// like 18 hours and refill the bucket).
uint32_t elapsed(uint32_t now16, uint32_t then16) {
  const uint32_t d = (now16 - then16) & 0xFFFF;
  return d > 0xFFFF - 60 ? 0 : d;
}

uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Byte i of a netmask `bits` long.
uint8_t mask_byte(unsigned bits, size_t i) {
  const unsigned keep = bits > i * 8 ? std::min(8u, bits - unsigned(i * 8)) : 0;
  return uint8_t(0xFF00 >> keep);
}

}  // namespace

Result<Prefix> Prefix::parse(std::string_view text) {
  std::string_view a = text, l;
  const bool has_len = text.find('/') != std::string_view::npos;
  if (has_len) {
    a = text.substr(0, text.find('/'));
    l = text.substr(text.find('/') + 1);
  }
  Prefix p;
  const std::string s(a);
  if (::inet_pton(AF_INET, s.c_str(), p.addr.data()) == 1) {
    p.family = AF_INET;
    p.len = 32;
  } else if (::inet_pton(AF_INET6, s.c_str(), p.addr.data()) == 1) {
    p.family = AF_INET6;
    p.len = 128;
  } else {
    return make_error("'" + std::string(text) + "': expected an IP address or ADDR/LEN");
  }
  if (has_len) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), n);
    if (l.empty() || ec != std::errc() || end != l.data() + l.size() || n > p.len)
      return make_error("'" + std::string(text) + "': prefix length must be 0-" +
                        std::to_string(p.len));
    p.len = uint8_t(n);
  }
  for (size_t i = 0; i < 16; ++i) p.addr[i] &= mask_byte(p.len, i);
  return p;
}

bool Prefix::contains(const sockaddr* sa) const {
  if (!sa || sa->sa_family != family) return false;
  const uint8_t* b = family == AF_INET
                         ? reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr)
                         : reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  const unsigned full = len / 8u;
  if (std::memcmp(b, addr.data(), full) != 0) return false;
  return len % 8u == 0 || (b[full] & mask_byte(len, full)) == addr[full];
}

std::string Prefix::to_text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, addr.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(len);
}

Rrl::Rrl(size_t entries, uint64_t seed) {
  size_t buckets = 256;
  while (buckets * kWays < entries && buckets < (size_t(1) << 26)) buckets <<= 1;
  // calloc: a large zeroed block comes straight from mmap, so the pages of
  // a table that RRL off (or a light load) never touches cost no memory.
  table_ = static_cast<uint64_t*>(std::calloc(buckets * kWays, sizeof(uint64_t)));
  if (!table_) throw std::bad_alloc();
  bucket_mask_ = buckets - 1;
  seed_ = seed ? seed : (uint64_t(std::random_device{}()) << 32 | std::random_device{}());
  history_.push_back(std::make_unique<const RrlSettings>());
  cur_.store(history_.back().get(), std::memory_order_release);
}

Rrl::~Rrl() { std::free(table_); }

void Rrl::configure(RrlSettings s) {
  s.responses_per_second = std::min(s.responses_per_second, RrlSettings::kMaxRate);
  s.slip = std::min(s.slip, RrlSettings::kMaxSlip);
  s.window_s = std::clamp<uint32_t>(s.window_s, 1, RrlSettings::kMaxWindow);
  s.ipv4_prefix = std::min<uint8_t>(s.ipv4_prefix, 32);
  s.ipv6_prefix = std::min<uint8_t>(s.ipv6_prefix, 128);
  std::lock_guard<std::mutex> lock(settings_mu_);
  history_.push_back(std::make_unique<const RrlSettings>(std::move(s)));
  cur_.store(history_.back().get(), std::memory_order_release);
}

size_t Rrl::limit(const RrlSettings& s, const sockaddr_storage& client, uint8_t* resp, size_t len,
                  uint32_t now_s) {
  if (s.responses_per_second == 0 || len < 12) return len;
  if ((resp[2] >> 3 & 0xF) != 0) return len;  // not a QUERY answer
  const auto* sa = reinterpret_cast<const sockaddr*>(&client);
  for (const auto& p : s.exempt)
    if (p.contains(sa)) return len;

  Hasher h{seed_};
  // The client network: the address with its host bits cleared.
  const uint8_t* ab;
  unsigned bytes, bits;
  if (client.ss_family == AF_INET) {
    ab = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
    bytes = 4;
    bits = s.ipv4_prefix;
  } else if (client.ss_family == AF_INET6) {
    ab = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
    bytes = 16;
    bits = s.ipv6_prefix;
  } else {
    return len;
  }
  uint8_t net[16] = {};
  for (unsigned i = 0; i < bytes; ++i) net[i] = ab[i] & mask_byte(bits, i);
  uint64_t w[2];
  std::memcpy(w, net, 16);
  h.add(w[0] ^ bytes);
  h.add(w[1]);

  const uint16_t qd = get16(resp + 4), an = get16(resp + 6), ns = get16(resp + 8);
  const uint8_t rcode = resp[3] & 0xF;
  const size_t qname_end = qd == 1 ? skip_name(resp, len, 12) : 0;
  const size_t qend = qname_end && qname_end + 4 <= len ? qname_end + 4 : 0;
  uint8_t cls = rcode == 0 ? (an ? kAnswer : kNodata) : rcode == 3 ? kNxdomain : kError;
  if (cls != kError && !qend) cls = kError;  // no readable question: nothing to key by
  if (cls == kAnswer) {
    // The question's name is never compressed (nothing precedes it to
    // point at), so it is hashed as one run of bytes.
    h.add(uint64_t(cls) << 16 | get16(resp + qname_end));
    h.add_folded(resp + 12, qname_end - 12);
  } else if (cls != kError) {
    // The zone (SOA owner) or delegation point (NS owner) heading the
    // authority section, past any CNAME chain in the answer section.
    ByteReader r(resp, len);
    r.seek(qend);
    for (uint16_t i = 0; i < an && r.ok(); ++i) {
      const size_t p = skip_name(resp, len, r.pos());
      if (!p) r.fail();
      r.seek(p);
      r.skip(8);  // type, class, TTL
      r.skip(r.u16());
    }
    size_t owner_end = 0;
    if (r.ok() && ns) owner_end = hash_name(resp, len, r.pos(), h);
    if (owner_end && owner_end + 2 <= len) {
      // SOA (NODATA) or NS (referral)
      h.add(uint64_t(cls) << 16 | get16(resp + owner_end));
    } else {
      h.add(uint64_t(cls) << 16);
      hash_name(resp, len, 12, h);
    }
  } else {
    h.add(uint64_t(cls) << 16);
  }

  bool started = false;
  const Verdict v = account(s, h.finish(), now_s, &started);
  if (v == Verdict::Send) return len;
  if (started) log_start(s, client, cls, now_s);
  if (s.log_only) {
    stats_.would_limit.fetch_add(1, std::memory_order_relaxed);
    return len;
  }
  if (v == Verdict::Slip && qend) {
    // The header and question only, TC=1 (RFC 1035 §4.1.1): a real client
    // asks again over TCP, which RRL never limits, and a spoofed victim
    // gets no more bytes than the query had.
    resp[2] |= 0x02;
    std::memset(resp + 6, 0, 6);
    stats_.slipped.fetch_add(1, std::memory_order_relaxed);
    return qend;
  }
  stats_.dropped.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

Rrl::Verdict Rrl::account(const RrlSettings& s, uint64_t key, uint32_t now_s, bool* started) {
  const int64_t rate = s.responses_per_second;
  const int64_t floor = -std::min<int64_t>(int64_t(s.window_s) * rate, Entry::kBias - 1);
  const uint32_t now16 = now_s & 0xFFFF;
  const uint32_t tag = uint32_t(key >> 48);
  uint64_t* bucket = table_ + (key & bucket_mask_) * kWays;
  // A lost race means another worker changed this bucket meanwhile: look
  // again. After a few losses let the answer through rather than spin on
  // the packet path.
  for (int attempt = 0; attempt < 4; ++attempt) {
    uint64_t words[kWays];
    size_t idx = kWays;
    for (size_t i = 0; i < kWays; ++i) {
      words[i] = std::atomic_ref<uint64_t>(bucket[i]).load(std::memory_order_relaxed);
      if (idx == kWays && words[i] & Entry::kValid && (words[i] & 0xFFFF) == tag) idx = i;
    }
    Entry e;
    if (idx == kWays) {
      // New key: a free way, else the one idle longest (BIND's table is
      // LRU too).
      uint32_t oldest = 0;
      idx = 0;
      for (size_t i = 0; i < kWays; ++i) {
        const uint32_t age = words[i] & Entry::kValid
                                 ? elapsed(now16, uint32_t(words[i] >> 16 & 0xFFFF))
                                 : UINT32_MAX;
        if (age > oldest) idx = i, oldest = age;
      }
      e.balance = rate;
      e.time = now16;
      e.tag = tag;
    } else {
      e = Entry::unpack(words[idx]);
      const uint32_t d = elapsed(now16, e.time);
      if (d) {
        // Credit `rate` per second since the last answer, at most one
        // second's worth (a quiet client cannot save up a burst).
        e.balance = std::min<int64_t>(rate, e.balance + int64_t(d) * rate);
        e.time = now16;
      }
    }
    e.balance = std::max(floor, e.balance - 1);
    Verdict v = Verdict::Send;
    const bool was_limiting = e.limiting;
    if (e.balance >= 0) {
      e.limiting = false;
    } else {
      e.limiting = true;
      v = Verdict::Drop;
      if (s.slip && ++e.slip >= s.slip) {
        e.slip = 0;
        v = Verdict::Slip;
      }
    }
    if (std::atomic_ref<uint64_t>(bucket[idx])
            .compare_exchange_strong(words[idx], e.pack(), std::memory_order_relaxed)) {
      *started = e.limiting && !was_limiting;
      return v;
    }
  }
  return Verdict::Send;
}

// One line when a (network, class) starts being limited, at most ten a
// second in all: a flood from many networks must not flood the log too.
void Rrl::log_start(const RrlSettings& s, const sockaddr_storage& client, uint8_t cls,
                    uint32_t now_s) {
  uint32_t sec = log_second_.load(std::memory_order_relaxed);
  if (sec != now_s && log_second_.compare_exchange_strong(sec, now_s, std::memory_order_relaxed))
    log_lines_.store(0, std::memory_order_relaxed);
  if (log_lines_.fetch_add(1, std::memory_order_relaxed) >= 10) return;
  Prefix p;
  p.family = client.ss_family;
  const auto* sa = reinterpret_cast<const sockaddr*>(&client);
  if (p.family == AF_INET) {
    std::memcpy(p.addr.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    p.len = s.ipv4_prefix;
  } else {
    std::memcpy(p.addr.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    p.len = s.ipv6_prefix;
  }
  for (size_t i = 0; i < 16; ++i) p.addr[i] &= mask_byte(p.len, i);
  spdlog::info("rrl: {} answers to {} over {}/s: {}", cls_text(cls), p.to_text(),
               s.responses_per_second,
               s.log_only ? "would limit (log-only)"
                          : s.slip ? "limiting (1 in " + std::to_string(s.slip) + " sent truncated)"
                                   : std::string("limiting (all dropped)"));
}

}  // namespace ddns::net
