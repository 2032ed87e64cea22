// Internal to zone/: the storage of a Zone snapshot (append-only blob
// segments, refcounted node and table chunks, their directories), the node
// blob layout, and the small helpers the build, the editor and the zone set
// share. Not a public header: only src/zone/*.cc include it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "wire/rrtype.h"
#include "zone/zone.h"

namespace ddns::zone {


struct LowerTable {
  uint8_t t[256];
  constexpr LowerTable() : t() {
    for (int i = 0; i < 256; ++i) t[i] = uint8_t((i >= 'A' && i <= 'Z') ? i + 32 : i);
  }
};
inline constexpr LowerTable kLower;

inline uint64_t load8(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

using detail::same_bytes;

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Lowercases a wire name of known length.
inline void lower_copy(uint8_t* dst, const uint8_t* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = kLower.t[src[i]];
}

// Length of an uncompressed wire name starting at p (bounded by end), or 0.
inline size_t wire_name_len(const uint8_t* p, const uint8_t* end) {
  size_t n = 0;
  while (p + n < end) {
    uint8_t l = p[n];
    if (l == 0) return n + 1;
    if (l > 63) return 0;
    n += size_t(l) + 1;
    if (n > wire::kMaxNameLength) return 0;
  }
  return 0;
}

// Offset of the target name inside rdata for types whose target gets
// additional-section processing, from the type table (NS, MX, SRV).
inline int target_offset(uint16_t type) {
  const wire::TypeInfo* ti = wire::type_info(type);
  return ti ? ti->additional_at : -1;
}

inline size_t next_pow2(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}



namespace detail {
// An append-only arena of node blobs. Snapshots share it; only the one
// snapshot whose generation holds `claim` may append (its successor takes
// the claim over), and a sealed segment never changes again.
struct Segment {
  std::atomic<uint32_t> refs{1};
  std::atomic<uint64_t> claim{0};
  std::atomic<size_t> used{0};
  size_t cap = 0;
  uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
};
static_assert(sizeof(Segment) % 8 == 0);
static_assert(sizeof(Chunk<Zone::Node>) % alignof(Zone::Node) == 0);

constexpr size_t kDir = 64;
template <class C>
struct Dir {
  std::atomic<uint32_t> refs{1};
  uint64_t gen = 0;
  C* c[kDir] = {};
};
static_assert(sizeof(Chunk<TabEntry>) % alignof(TabEntry) == 0);
}  // namespace detail


using detail::Segment;
using Node = Zone::Node;

inline constexpr uint64_t kSealed = ~uint64_t(0);
inline constexpr size_t kSegMax = 256 * 1024;
inline constexpr size_t kSegMin = 4096;
inline constexpr uint32_t kNodeChunk = 512;     // = 1 << Zone::kNodeShift
inline constexpr uint32_t kTabChunk = 4096;     // = 1 << Zone::kTabShift
inline std::atomic<uint64_t> g_gen{1};

inline Segment* new_segment(size_t cap, uint64_t claim) {
  void* p = ::operator new(sizeof(Segment) + cap);
  auto* s = new (p) Segment;
  s->cap = cap;
  s->claim.store(claim, std::memory_order_relaxed);
  return s;
}

inline void release(Segment* s) {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    s->~Segment();
    ::operator delete(s);
  }
}

template <class T>
detail::Chunk<T>* new_chunk(uint32_t cap, uint64_t gen) {
  void* p = ::operator new(sizeof(detail::Chunk<T>) + size_t(cap) * sizeof(T));
  auto* c = new (p) detail::Chunk<T>;
  c->refs.store(1, std::memory_order_relaxed);
  c->cap = cap;
  c->gen = gen;
  return c;
}

template <class T>
inline void release(detail::Chunk<T>* c) {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    c->~Chunk();
    ::operator delete(c);
  }
}

template <class C>
inline void retain(C* c) {
  c->refs.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
inline size_t chunk_bytes(const detail::Chunk<T>* c) {
  return sizeof(detail::Chunk<T>) + size_t(c->cap) * sizeof(T);
}

template <class C>
detail::Dir<C>* new_dir(uint64_t gen) {
  auto* d = new detail::Dir<C>;
  d->gen = gen;
  return d;
}

// A directory's chunks are released with it (a chunk counts directories).
template <class C>
inline void release(detail::Dir<C>* d) {
  if (d->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    for (C* c : d->c)
      if (c) release(c);
    delete d;
  }
}

// Blob layout (8-aligned, position independent):
//   u32 node id, u32 blob size        (so that a segment can be walked)
//   name (lowercased wire), padded to 4
//   RRsetHdr[rrset_count]             (sorted by type)
//   [u16 len][rdata] entries of each RRset in turn, padded to 4
//   NodeId targets of the NS/MX/SRV RRsets, padded to 8
using RRsetHdr = detail::SetHdr;
static_assert(sizeof(RRsetHdr) == 16);

inline constexpr size_t align4(size_t n) { return (n + 3) & ~size_t(3); }
inline constexpr size_t align8(size_t n) { return (n + 7) & ~size_t(7); }

inline const RRsetHdr* hdrs_of(const uint8_t* blob, size_t name_len) {
  return reinterpret_cast<const RRsetHdr*>(blob + 8 + align4(name_len));
}
inline uint32_t get32le(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void put32le(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// The blob of unused slots: no name, no RRsets.
alignas(8) inline constexpr uint8_t kFreeBlob[16] = {};

// One RRset to store: rdatas sorted and unique.
struct SetIn {
  uint16_t type;
  uint32_t ttl;
  std::vector<std::span<const uint8_t>> rdatas;
};

inline bool rdata_less(std::span<const uint8_t> a, std::span<const uint8_t> c) {
  const size_t m = std::min(a.size(), c.size());
  const int cmp = m ? std::memcmp(a.data(), c.data(), m) : 0;
  return cmp != 0 ? cmp < 0 : a.size() < c.size();
}
inline bool rdata_eq(std::span<const uint8_t> a, std::span<const uint8_t> c) {
  return a.size() == c.size() && (a.empty() || std::memcmp(a.data(), c.data(), a.size()) == 0);
}

inline size_t blob_size(size_t name_len, const std::vector<SetIn>& sets, size_t* ntargets) {
  size_t n = 8 + align4(name_len) + sizeof(RRsetHdr) * sets.size();
  size_t t = 0;
  for (const SetIn& s : sets) {
    for (const auto& r : s.rdatas) n += 2 + r.size();
    if (target_offset(s.type) >= 0) t += s.rdatas.size();
  }
  *ntargets = t;
  return align8(align4(n) + 4 * t);
}

inline size_t count_labels(const uint8_t* lw) {
  size_t labels = 0;
  for (size_t pos = 0; lw[pos] != 0; pos += size_t(lw[pos]) + 1) ++labels;
  return labels;
}

// SOA serial and minimum from well-formed SOA rdata, or false.
inline bool soa_fields(std::span<const uint8_t> rd, uint32_t* serial, uint32_t* minimum) {
  const uint8_t* p = rd.data();
  const uint8_t* end = p + rd.size();
  const size_t l1 = wire_name_len(p, end);
  const size_t l2 = l1 ? wire_name_len(p + l1, end) : 0;
  if (!l2 || p + l1 + l2 + 20 != end) return false;
  const uint8_t* f = p + l1 + l2;
  *serial = uint32_t(f[0]) << 24 | uint32_t(f[1]) << 16 | uint32_t(f[2]) << 8 | f[3];
  *minimum = uint32_t(f[16]) << 24 | uint32_t(f[17]) << 16 | uint32_t(f[18]) << 8 | f[19];
  return true;
}


}  // namespace ddns::zone
