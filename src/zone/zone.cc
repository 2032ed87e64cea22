// Zone snapshot build, lookup and copy-on-write change: a hash table of
// lowercased owner names to nodes (empty non-terminals included), each
// node's name, RRsets and rdata packed in one blob, and the set of served
// zones. Nodes and the table live in chunks and blobs in append-only
// segments, all shared between snapshots, so a change copies only what it
// touches.
#include "zone/zone.h"

#include "zone/master.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace ddns::zone {
namespace {

struct LowerTable {
  uint8_t t[256];
  constexpr LowerTable() : t() {
    for (int i = 0; i < 256; ++i) t[i] = uint8_t((i >= 'A' && i <= 'Z') ? i + 32 : i);
  }
};
constexpr LowerTable kLower;

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
size_t wire_name_len(const uint8_t* p, const uint8_t* end) {
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
int target_offset(uint16_t type) {
  const wire::TypeInfo* ti = wire::type_info(type);
  return ti ? ti->additional_at : -1;
}

size_t next_pow2(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

// Record sources for Zone::build_from: the plain vector, or the parser's
// compact store. release() frees what a record holds once it is copied.
struct RRVecSource {
  std::vector<wire::RR>& v;
  size_t size() const { return v.size(); }
  std::span<const uint8_t> owner_wire(size_t i) const { return v[i].owner.wire(); }
  const wire::Name& owner(size_t i) const { return v[i].owner; }
  uint16_t type(size_t i) const { return v[i].type; }
  uint32_t ttl(size_t i) const { return v[i].ttl; }
  std::span<const uint8_t> rdata(size_t i) const { return v[i].rdata; }
  std::string owner_text(size_t i, std::span<const uint8_t>) const { return v[i].owner.to_text(); }
  void release(size_t i) { wire::Bytes().swap(v[i].rdata); }
  void release_owners() {}
  void release_all() { std::vector<wire::RR>().swap(v); }
};

struct StoreSource {
  RecordStore& s;
  size_t size() const { return s.recs.size(); }
  std::span<const uint8_t> owner_wire(size_t i) const { return s.owner(i).wire(); }
  const wire::Name& owner(size_t i) const { return s.owner(i); }
  uint16_t type(size_t i) const { return s.recs[i].type; }
  uint32_t ttl(size_t i) const { return s.recs[i].ttl; }
  std::span<const uint8_t> rdata(size_t i) const { return s.rdata_of(i); }
  // After the owners are released: the node's (lowercased) name.
  std::string owner_text(size_t i, std::span<const uint8_t> node_wire) const {
    if (!s.owners.empty()) return s.owner(i).to_text();
    auto n = wire::Name::from_wire(node_wire);
    return n ? n->to_text() : std::string("?");
  }
  void release(size_t) {}
  // Owners are only needed to map records to nodes: dropping them before
  // the arenas fill keeps a big load's peak down.
  void release_owners() { std::vector<wire::Name>().swap(s.owners); }
  void release_all() {
    std::vector<RecordStore::Rec>().swap(s.recs);
    std::vector<uint8_t>().swap(s.rdata);
    std::vector<wire::Name>().swap(s.owners);
  }
};

}  // namespace

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

// Lowercases 8 ASCII octets at once: a lane gets 0x20 added exactly when
// it is 'A'..'Z' (length octets are <= 63 and never change).
inline uint64_t lower8(uint64_t x) {
  constexpr uint64_t k7f = 0x7F7F7F7F7F7F7F7FULL, k80 = 0x8080808080808080ULL;
  const uint64_t h = x & k7f;
  const uint64_t ge_a = h + 0x3F3F3F3F3F3F3F3FULL;  // bit 7 set when >= 'A'
  const uint64_t gt_z = h + 0x2525252525252525ULL;  // bit 7 set when > 'Z'
  return x | (((ge_a & ~gt_z & ~x) & k80) >> 2);
}

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

// ---------------------------------------------------------------- storage

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

namespace {

using detail::Segment;
using Node = Zone::Node;

constexpr uint64_t kSealed = ~uint64_t(0);
constexpr size_t kSegMax = 256 * 1024;
constexpr size_t kSegMin = 4096;
constexpr uint32_t kNodeChunk = 512;     // = 1 << Zone::kNodeShift
constexpr uint32_t kTabChunk = 4096;     // = 1 << Zone::kTabShift
std::atomic<uint64_t> g_gen{1};

Segment* new_segment(size_t cap, uint64_t claim) {
  void* p = ::operator new(sizeof(Segment) + cap);
  auto* s = new (p) Segment;
  s->cap = cap;
  s->claim.store(claim, std::memory_order_relaxed);
  return s;
}

void release(Segment* s) {
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
void release(detail::Chunk<T>* c) {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    c->~Chunk();
    ::operator delete(c);
  }
}

template <class C>
void retain(C* c) {
  c->refs.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
size_t chunk_bytes(const detail::Chunk<T>* c) {
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
void release(detail::Dir<C>* d) {
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

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t(3); }
constexpr size_t align8(size_t n) { return (n + 7) & ~size_t(7); }

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
alignas(8) const uint8_t kFreeBlob[16] = {};

// One RRset to store: rdatas sorted and unique.
struct SetIn {
  uint16_t type;
  uint32_t ttl;
  std::vector<std::span<const uint8_t>> rdatas;
};

bool rdata_less(std::span<const uint8_t> a, std::span<const uint8_t> c) {
  const size_t m = std::min(a.size(), c.size());
  const int cmp = m ? std::memcmp(a.data(), c.data(), m) : 0;
  return cmp != 0 ? cmp < 0 : a.size() < c.size();
}
bool rdata_eq(std::span<const uint8_t> a, std::span<const uint8_t> c) {
  return a.size() == c.size() && (a.empty() || std::memcmp(a.data(), c.data(), a.size()) == 0);
}

size_t blob_size(size_t name_len, const std::vector<SetIn>& sets, size_t* ntargets) {
  size_t n = 8 + align4(name_len) + sizeof(RRsetHdr) * sets.size();
  size_t t = 0;
  for (const SetIn& s : sets) {
    for (const auto& r : s.rdatas) n += 2 + r.size();
    if (target_offset(s.type) >= 0) t += s.rdatas.size();
  }
  *ntargets = t;
  return align8(align4(n) + 4 * t);
}

size_t count_labels(const uint8_t* lw) {
  size_t labels = 0;
  for (size_t pos = 0; lw[pos] != 0; pos += size_t(lw[pos]) + 1) ++labels;
  return labels;
}

// SOA serial and minimum from well-formed SOA rdata, or false.
bool soa_fields(std::span<const uint8_t> rd, uint32_t* serial, uint32_t* minimum) {
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

}  // namespace

// The writer's view of a snapshot under construction: every write goes
// through here and copies the shared chunk it lands in first.
class ZoneEditor {
 public:
  explicit ZoneEditor(Zone& z) : z_(z), gen_(z.gen_) {}

  // A successor of `base` sharing all of its parts.
  static std::shared_ptr<Zone> successor(const Zone& base) {
    std::shared_ptr<Zone> z(new Zone());
    z->origin_ = base.origin_;
    z->serial_ = base.serial_;
    z->soa_minimum_ = base.soa_minimum_;
    z->record_count_ = base.record_count_;
    z->soa_index_ = base.soa_index_;
    z->gen_ = g_gen.fetch_add(1, std::memory_order_relaxed);
    z->node_count_ = base.node_count_;
    z->free_head_ = base.free_head_;
    z->nchunks_ = base.nchunks_;
    z->tchunks_ = base.tchunks_;
    z->ndirs_ = base.ndirs_;
    z->tdirs_ = base.tdirs_;
    z->mask_ = base.mask_;
    z->shift_ = base.shift_;
    z->table_used_ = base.table_used_;
    z->segs_ = base.segs_;
    z->seg_live_ = base.seg_live_;
    for (auto* d : z->ndirs_) retain(d);
    for (auto* d : z->tdirs_) retain(d);
    for (auto* s : z->segs_) retain(s);
    if (base.tail_) {
      uint64_t expect = base.gen_;
      if (base.tail_->claim.compare_exchange_strong(expect, z->gen_, std::memory_order_acq_rel))
        z->tail_ = base.tail_;
    }
    return z;
  }

  const Node& node(NodeId id) const { return z_.node(id); }

  Node& wnode(NodeId id) {
    const size_t ci = id >> Zone::kNodeShift;
    auto* c = z_.nchunks_[ci];
    if (c->gen != gen_) c = put(z_.nchunks_, z_.ndirs_, ci, copy(c, c->cap));
    return c->v()[id & Zone::kNodeMask];
  }

  detail::TabEntry& wentry(uint64_t i) {
    const size_t ci = i >> Zone::kTabShift;
    auto* c = z_.tchunks_[ci];
    if (c->gen != gen_) c = put(z_.tchunks_, z_.tdirs_, ci, copy(c, c->cap));
    return c->v()[i & Zone::kTabMask];
  }

  // ---- blobs

  size_t est_remaining_ = 0;  // build: bytes still to come (segment sizing)
  size_t appended_ = 0;

  size_t seg_index(const uint8_t* p) const {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    auto it = std::upper_bound(z_.segs_.begin(), z_.segs_.end(), a, [](uintptr_t x, const Segment* s) {
      return x < reinterpret_cast<uintptr_t>(s->data());
    });
    return size_t(it - z_.segs_.begin()) - 1;
  }

  uint8_t* alloc_blob(size_t size) {
    if (est_remaining_) est_remaining_ = est_remaining_ > size ? est_remaining_ - size : 1;
    Segment* t = z_.tail_;
    if (t) {
      const size_t off = t->used.load(std::memory_order_relaxed);
      if (off + size <= t->cap) {
        t->used.store(off + size, std::memory_order_release);
        appended_ += size;
        z_.seg_live_[seg_index(t->data())] += size;
        return t->data() + off;
      }
      t->claim.store(kSealed, std::memory_order_release);
    }
    size_t cap;
    if (est_remaining_) {
      cap = std::clamp(align8(est_remaining_), kSegMin, kSegMax);
    } else {
      cap = std::clamp(next_pow2(z_.node_count_ * 4), kSegMin, kSegMax);
    }
    cap = std::max(cap, size);
    Segment* s = new_segment(cap, gen_);
    const uintptr_t a = reinterpret_cast<uintptr_t>(s->data());
    auto it = std::upper_bound(z_.segs_.begin(), z_.segs_.end(), a, [](uintptr_t x, const Segment* q) {
      return x < reinterpret_cast<uintptr_t>(q->data());
    });
    const size_t idx = size_t(it - z_.segs_.begin());
    z_.segs_.insert(it, s);
    z_.seg_live_.insert(z_.seg_live_.begin() + ptrdiff_t(idx), size);
    z_.tail_ = s;
    s->used.store(size, std::memory_order_release);
    appended_ += size;
    return s->data();
  }

  void dead_blob(const uint8_t* b) {
    if (b == nullptr || b == kFreeBlob) return;
    z_.seg_live_[seg_index(b)] -= detail::blob_size(b);
  }

  // A blob with the name and RRsets; targets filled from `tg` (in RRset
  // order) or left as kNoNode when `tg` is null.
  const uint8_t* write_blob(NodeId id, const uint8_t* name, size_t name_len, const std::vector<SetIn>& sets,
                            const std::vector<NodeId>* tg) {
    size_t nt = 0;
    const size_t size = blob_size(name_len, sets, &nt);
    uint8_t* p = alloc_blob(size);
    put32le(p, id);
    put32le(p + 4, uint32_t(size));
    std::memcpy(p + 8, name, name_len);
    size_t off = 8 + name_len;
    while (off < 8 + align4(name_len)) p[off++] = 0;
    auto* h = reinterpret_cast<RRsetHdr*>(p + off);
    size_t data = off + sizeof(RRsetHdr) * sets.size();
    size_t tdata = 0;
    for (const SetIn& s : sets)
      for (const auto& r : s.rdatas) tdata += 2 + r.size();
    size_t toff = align4(data + tdata);
    for (size_t i = data + tdata; i < toff; ++i) p[i] = 0;
    size_t tk = 0;
    for (size_t i = 0; i < sets.size(); ++i) {
      const SetIn& s = sets[i];
      RRsetHdr hd{s.type, uint16_t(s.rdatas.size()), s.ttl, uint32_t(data), 0};
      if (target_offset(s.type) >= 0) {
        hd.target_off = uint32_t(toff);
        auto* t = reinterpret_cast<NodeId*>(p + toff);
        for (size_t k = 0; k < s.rdatas.size(); ++k) t[k] = tg ? (*tg)[tk++] : kNoNode;
        toff += 4 * s.rdatas.size();
      }
      new (h + i) RRsetHdr(hd);
      for (const auto& r : s.rdatas) {
        p[data] = uint8_t(r.size() >> 8);
        p[data + 1] = uint8_t(r.size());
        if (!r.empty()) std::memcpy(p + data + 2, r.data(), r.size());
        data += 2 + r.size();
      }
    }
    for (size_t i = toff; i < size; ++i) p[i] = 0;
    (void)nt;
    return p;
  }

  // ---- nodes

  NodeId alloc_node() {
    if (z_.free_head_ != kNoNode) {
      const NodeId id = z_.free_head_;
      z_.free_head_ = node(id).next_sibling;
      return id;
    }
    const NodeId id = NodeId(z_.node_count_);
    const size_t ci = id >> Zone::kNodeShift;
    const uint32_t k = id & Zone::kNodeMask;
    if (ci == z_.nchunks_.size()) {
      z_.nchunks_.push_back(nullptr);
      put(z_.nchunks_, z_.ndirs_, ci, new_chunk<Node>(ci == 0 ? 16 : kNodeChunk, gen_));
    } else if (k >= z_.nchunks_[ci]->cap) {
      auto* old = z_.nchunks_[ci];
      put(z_.nchunks_, z_.ndirs_, ci, copy(old, std::min<uint32_t>(old->cap * 4, kNodeChunk)));
    }
    ++z_.node_count_;
    return id;
  }

  // A new node with only its name (not linked into the tree).
  NodeId new_node(const uint8_t* lw, size_t len, uint64_t h, uint16_t flags) {
    const NodeId id = alloc_node();
    const uint8_t* b = write_blob(id, lw, len, {}, nullptr);
    Node& n = wnode(id);
    n.blob = b;
    n.flags = flags;
    n.rrset_count = 0;
    n.name_len = uint8_t(len);
    n.labels = uint8_t(count_labels(lw));
    n.cut = n.parent = n.first_child = n.next_sibling = n.prev_sibling = kNoNode;
    n.refs = 0;
    n.sets_off = uint16_t(8 + align4(len));
    tab_insert(h, id, flags & Zone::kGhost, b);
    return id;
  }

  void free_node(NodeId id) {
    const Node old = node(id);
    tab_erase(name_hash(old.blob + Zone::kNameOff, old.name_len), id);
    dead_blob(old.blob);
    Node& n = wnode(id);
    n.blob = kFreeBlob;
    n.flags = Zone::kFree | Zone::kEmpty;
    n.rrset_count = 0;
    n.name_len = 0;
    n.labels = 0;
    n.sets_off = 8;
    n.cut = n.parent = n.first_child = n.prev_sibling = kNoNode;
    n.refs = 0;
    n.next_sibling = z_.free_head_;
    z_.free_head_ = id;
  }

  static bool is_wildcard(const Node& n) { return n.name_len >= 2 && n.blob[8] == 1 && n.blob[9] == '*'; }

  void link(NodeId id, NodeId parent) {
    const NodeId first = node(parent).first_child;
    const NodeId pcut = node(parent).cut;
    {
      Node& n = wnode(id);
      n.parent = parent;
      n.prev_sibling = kNoNode;
      n.next_sibling = first;
      n.cut = pcut;
    }
    if (first != kNoNode) wnode(first).prev_sibling = id;
    Node& p = wnode(parent);
    p.first_child = id;
    if (is_wildcard(node(id))) p.flags |= Zone::kWildcardChild;
  }

  void unlink(NodeId id) {
    const Node n = node(id);
    if (n.prev_sibling != kNoNode) {
      wnode(n.prev_sibling).next_sibling = n.next_sibling;
    } else {
      wnode(n.parent).first_child = n.next_sibling;
    }
    if (n.next_sibling != kNoNode) wnode(n.next_sibling).prev_sibling = n.prev_sibling;
    if (is_wildcard(n)) wnode(n.parent).flags &= uint16_t(~Zone::kWildcardChild);
    Node& w = wnode(id);
    w.parent = w.next_sibling = w.prev_sibling = kNoNode;
  }

  // Recomputes the cut of `id` and, where it changed, of its subtree
  // (RFC 1034 §4.2.1: the topmost delegation wins).
  void propagate_cut(NodeId root) {
    std::vector<NodeId> stack{root};
    while (!stack.empty()) {
      const NodeId id = stack.back();
      stack.pop_back();
      const Node& n = node(id);
      const NodeId pc = n.parent == kNoNode ? kNoNode : node(n.parent).cut;
      const NodeId c = pc != kNoNode ? pc : ((n.flags & Zone::kDelegation) ? id : kNoNode);
      if (c == n.cut) continue;
      wnode(id).cut = c;
      for (NodeId k = node(id).first_child; k != kNoNode; k = node(k).next_sibling) stack.push_back(k);
    }
  }

  // ---- table

  NodeId find_any(const uint8_t* lw, size_t len, uint64_t h) const {
    const uint64_t tag = h >> 32;
    for (uint64_t i = h >> z_.shift_;; i = (i + 1) & z_.mask_) {
      const uint64_t e = z_.entry(i).key;
      if (e == 0) return kNoNode;
      if (((e >> 32) | 1) == (tag | 1)) {
        const NodeId id = NodeId(e) - 1;
        const Node& n = node(id);
        if (n.name_len == len && same_bytes(n.blob + Zone::kNameOff, lw, len)) return id;
      }
    }
  }

  uint64_t home(uint64_t e) const { return (e >> 32) >> (z_.shift_ - 32); }

  // A table of `size` (a power of two >= 16) empty slots.
  void tab_reset(size_t size) {
    for (auto* d : z_.tdirs_) release(d);
    z_.tdirs_.clear();
    z_.tchunks_.clear();
    const uint32_t per = uint32_t(std::min<size_t>(size, kTabChunk));
    for (size_t i = 0; i < size; i += per) {
      auto* c = new_chunk<detail::TabEntry>(per, gen_);
      std::fill_n(c->v(), per, detail::TabEntry{0, nullptr});
      z_.tchunks_.push_back(nullptr);
      put(z_.tchunks_, z_.tdirs_, z_.tchunks_.size() - 1, c);
    }
    z_.mask_ = size - 1;
    z_.shift_ = 64 - unsigned(__builtin_ctzll(size));
  }

  // Puts `e` at the first free slot from its home (the table has room).
  void tab_place(const detail::TabEntry& e) {
    uint64_t i = home(e.key);
    while (z_.entry(i).key != 0) i = (i + 1) & z_.mask_;
    wentry(i) = e;
  }

  void tab_grow() {
    std::vector<detail::TabEntry> old;
    old.reserve(z_.table_used_);
    for (uint64_t i = 0; i <= z_.mask_; ++i)
      if (z_.entry(i).key != 0) old.push_back(z_.entry(i));
    tab_reset((z_.mask_ + 1) * 2);
    for (const auto& e : old) tab_place(e);
  }

  // Placeholders (ghost) carry the low tag bit flipped, so that the
  // public find() never matches them; home slots use the top tag bits only.
  void tab_insert(uint64_t h, NodeId id, bool ghost, const uint8_t* blob) {
    if ((z_.table_used_ + 1) * 10 > (z_.mask_ + 1) * 6) tab_grow();
    tab_place({((h >> 32) ^ uint64_t(ghost)) << 32 | uint64_t(id + 1), blob});
    ++z_.table_used_;
  }

  // The slot of node `id` (whose name hashes to `h`).
  uint64_t tab_slot(uint64_t h, NodeId id) const {
    uint64_t i = h >> z_.shift_;
    while ((z_.entry(i).key & 0xFFFFFFFFu) != uint64_t(id) + 1) i = (i + 1) & z_.mask_;
    return i;
  }

  void tab_retag(uint64_t h, NodeId id, bool ghost) {
    wentry(tab_slot(h, id)).key = ((h >> 32) ^ uint64_t(ghost)) << 32 | uint64_t(id + 1);
  }

  // Gives node `id` (in the table) a new blob: the node and its table slot
  // (detail::TabEntry) always point at the same one.
  void set_blob(NodeId id, const uint8_t* blob) {
    Node& n = wnode(id);
    n.blob = blob;
    wentry(tab_slot(name_hash(blob + Zone::kNameOff, n.name_len), id)).blob = blob;
  }

  // Removal with backward shift (no tombstones), linear probing.
  void tab_erase(uint64_t h, NodeId id) {
    uint64_t i = tab_slot(h, id);
    uint64_t j = i;
    for (;;) {
      j = (j + 1) & z_.mask_;
      const detail::TabEntry e = z_.entry(j);
      if (e.key == 0) break;
      const uint64_t k = home(e.key);
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        wentry(i) = e;
        i = j;
      }
    }
    wentry(i) = {0, nullptr};
    --z_.table_used_;
  }

  // ---- targets

  bool in_zone(const uint8_t* lw, size_t len) const {
    const auto ow = z_.origin_.wire();
    for (size_t pos = 0;; pos += size_t(lw[pos]) + 1) {
      if (len - pos == ow.size() && std::memcmp(lw + pos, ow.data(), ow.size()) == 0) return true;
      if (lw[pos] == 0) return false;
    }
  }

  // The node an NS/MX/SRV rdata points at (a placeholder made if needed),
  // with its reference taken; kNoNode when outside the zone or malformed.
  NodeId ref_target(std::span<const uint8_t> rd, int off) {
    if (rd.size() <= size_t(off)) return kNoNode;
    const size_t tl = wire_name_len(rd.data() + off, rd.data() + rd.size());
    if (!tl) return kNoNode;
    uint8_t buf[wire::kMaxNameLength];
    lower_copy(buf, rd.data() + off, tl);
    if (!in_zone(buf, tl)) return kNoNode;
    const uint64_t h = name_hash(buf, tl);
    NodeId id = find_any(buf, tl, h);
    if (id == kNoNode) id = new_node(buf, tl, h, Zone::kGhost | Zone::kEmpty);
    ++wnode(id).refs;
    return id;
  }

  void unref(NodeId t) {
    if (t == kNoNode) return;
    Node& n = wnode(t);
    if (--n.refs == 0 && (n.flags & Zone::kGhost)) free_node(t);
  }

  void unref_targets(const uint8_t* blob, size_t name_len, size_t count) {
    const RRsetHdr* s = hdrs_of(blob, name_len);
    for (size_t i = 0; i < count; ++i) {
      if (!s[i].target_off) continue;
      const auto* t = reinterpret_cast<const NodeId*>(blob + s[i].target_off);
      for (size_t k = 0; k < s[i].count; ++k) unref(t[k]);
    }
  }

  // ---- changes

  void set_rrsets(NodeId id, const std::vector<SetIn>& sets) {
    const Node old = node(id);
    std::vector<NodeId> tg;
    size_t count = 0;
    for (const SetIn& s : sets) {
      count += s.rdatas.size();
      const int off = target_offset(s.type);
      if (off < 0) continue;
      for (const auto& r : s.rdatas) tg.push_back(ref_target(r, off));
    }
    const uint8_t* b = write_blob(id, old.blob + Zone::kNameOff, old.name_len, sets, &tg);
    uint16_t f = old.flags & (Zone::kApex | Zone::kWildcardChild);
    for (const SetIn& s : sets) {
      switch (wire::RRType(s.type)) {
        case wire::RRType::CNAME: f |= Zone::kHasCname; break;
        case wire::RRType::DNAME: f |= Zone::kHasDname; break;
        case wire::RRType::NS:
          if (id != 0) f |= Zone::kDelegation;
          break;
        default: break;
      }
    }
    if (sets.empty()) f |= Zone::kEmpty;
    size_t old_count = 0;
    const RRsetHdr* oh = hdrs_of(old.blob, old.name_len);
    for (size_t i = 0; i < old.rrset_count; ++i) old_count += oh[i].count;
    set_blob(id, b);
    {
      Node& n = wnode(id);
      n.rrset_count = uint16_t(sets.size());
      n.flags = f;
    }
    z_.record_count_ = z_.record_count_ + count - old_count;
    unref_targets(old.blob, old.name_len, old.rrset_count);
    dead_blob(old.blob);
    if ((old.flags ^ f) & Zone::kDelegation) propagate_cut(id);
  }

  // Makes the node of a name part of the tree (creating it and any empty
  // non-terminals above it, or adopting placeholders).
  NodeId make_real(const uint8_t* lw, size_t len) {
    uint8_t offs[128];
    size_t labels = 0;
    for (size_t pos = 0; lw[pos] != 0; pos += size_t(lw[pos]) + 1) offs[labels++] = uint8_t(pos);
    offs[labels] = uint8_t(len - 1);
    size_t i = 0;
    NodeId parent = kNoNode;
    for (;; ++i) {
      const uint8_t* s = lw + offs[i];
      const size_t sl = len - offs[i];
      const NodeId f = find_any(s, sl, name_hash(s, sl));
      if (f != kNoNode && !(node(f).flags & Zone::kGhost)) {
        parent = f;
        break;
      }
    }
    for (size_t k = i; k-- > 0;) {
      const uint8_t* s = lw + offs[k];
      const size_t sl = len - offs[k];
      const uint64_t h = name_hash(s, sl);
      NodeId id = find_any(s, sl, h);
      if (id == kNoNode) {
        id = new_node(s, sl, h, Zone::kEmpty);
      } else {
        wnode(id).flags &= uint16_t(~Zone::kGhost);
        tab_retag(h, id, false);
      }
      link(id, parent);
      parent = id;
    }
    return parent;
  }

  // Takes an RRset-less leaf out of the tree, and so its empty parents.
  void remove_unused(NodeId id) {
    while (id != 0 && id != kNoNode) {
      const Node n = node(id);
      if (n.rrset_count || n.first_child != kNoNode || (n.flags & Zone::kGhost)) return;
      const NodeId parent = n.parent;
      unlink(id);
      if (n.refs > 0) {
        Node& w = wnode(id);
        w.flags = Zone::kGhost | Zone::kEmpty;
        w.cut = kNoNode;
        tab_retag(name_hash(n.blob + Zone::kNameOff, n.name_len), id, true);
      } else {
        free_node(id);
      }
      id = parent;
    }
  }

  void commit(const uint8_t* lw, size_t len, const std::vector<SetIn>& sets) {
    NodeId id = find_any(lw, len, name_hash(lw, len));
    const bool real = id != kNoNode && !(node(id).flags & Zone::kGhost);
    if (sets.empty()) {
      if (!real) return;
      if (node(id).rrset_count) set_rrsets(id, sets);
      remove_unused(id);
      return;
    }
    if (!real) id = make_real(lw, len);
    set_rrsets(id, sets);
  }

  // ---- cleaning

  // Moves the blobs still in use out of the emptiest sealed segments while
  // garbage exceeds half of the live data, copying at most about `budget`
  // bytes: each byte copied frees at least half a byte, so memory stays
  // within ~1.5x of the live data and the work within a constant factor of
  // what the changes wrote.
  void clean(size_t budget) {
    size_t copied = 0;
    for (;;) {
      size_t live = 0, used = 0;
      for (size_t i = 0; i < z_.segs_.size(); ++i) {
        live += z_.seg_live_[i];
        used += z_.segs_[i]->used.load(std::memory_order_acquire);
      }
      if (used - live <= live / 2 + kSegMax || copied >= budget) return;
      size_t best = SIZE_MAX;
      double best_ratio = 2;
      for (size_t i = 0; i < z_.segs_.size(); ++i) {
        Segment* s = z_.segs_[i];
        if (s == z_.tail_ || s->claim.load(std::memory_order_acquire) != kSealed) continue;
        const size_t u = s->used.load(std::memory_order_acquire);
        const double r = u ? double(z_.seg_live_[i]) / double(u) : 0;
        if (r < best_ratio) {
          best_ratio = r;
          best = i;
        }
      }
      if (best == SIZE_MAX || best_ratio > 0.75) return;
      Segment* s = z_.segs_[best];
      const size_t u = s->used.load(std::memory_order_acquire);
      for (size_t off = 0; off < u;) {
        const uint8_t* p = s->data() + off;
        const NodeId id = get32le(p);
        const size_t size = detail::blob_size(p);
        if (size == 0) break;  // never: blobs are at least 16 bytes
        if (id < z_.node_count_ && node(id).blob == p) {
          uint8_t* q = alloc_blob(size);
          std::memcpy(q, p, size);
          set_blob(id, q);
          copied += size;
        }
        off += size;
      }
      const size_t idx = seg_index(s->data());
      z_.segs_.erase(z_.segs_.begin() + ptrdiff_t(idx));
      z_.seg_live_.erase(z_.seg_live_.begin() + ptrdiff_t(idx));
      release(s);
    }
  }

 private:
  // A copy of a chunk (to `cap` elements, >= its own), owned by this edit.
  template <class T>
  detail::Chunk<T>* copy(const detail::Chunk<T>* old, uint32_t cap) {
    auto* c = new_chunk<T>(cap, gen_);
    std::memcpy(static_cast<void*>(c->v()), old->v(), size_t(old->cap) * sizeof(T));
    return c;
  }

  // Installs chunk `c` (one reference, handed over) at index `ci`, copying
  // its directory first when it is shared with another snapshot.
  template <class C>
  C* put(std::vector<C*>& flat, std::vector<detail::Dir<C>*>& dirs, size_t ci, C* c) {
    const size_t di = ci / detail::kDir, k = ci % detail::kDir;
    if (di == dirs.size()) dirs.push_back(new_dir<C>(gen_));
    detail::Dir<C>*& d = dirs[di];
    if (d->gen != gen_) {
      auto* nd = new_dir<C>(gen_);
      for (size_t i = 0; i < detail::kDir; ++i) {
        nd->c[i] = d->c[i];
        if (nd->c[i]) retain(nd->c[i]);
      }
      release(d);
      d = nd;
    }
    if (d->c[k]) release(d->c[k]);
    d->c[k] = c;
    flat[ci] = c;
    return c;
  }

  Zone& z_;
  uint64_t gen_;
};

// ---------------------------------------------------------------- Zone

Zone::~Zone() {
  // Nobody can append after us unless a successor took the claim over.
  if (tail_) {
    uint64_t expect = gen_;
    tail_->claim.compare_exchange_strong(expect, kSealed, std::memory_order_acq_rel);
  }
  for (auto* d : ndirs_) release(d);
  for (auto* d : tdirs_) release(d);
  for (auto* s : segs_) release(s);
}

size_t Zone::memory_usage() const {
  size_t m = sizeof(Zone) + nchunks_.capacity() * sizeof(void*) + tchunks_.capacity() * sizeof(void*) +
             segs_.capacity() * sizeof(void*) + seg_live_.capacity() * sizeof(size_t);
  m += (ndirs_.size() + tdirs_.size()) * sizeof(detail::Dir<NodeChunk>);
  for (const auto* c : nchunks_) m += chunk_bytes(c);
  for (const auto* c : tchunks_) m += chunk_bytes(c);
  for (const auto* s : segs_) m += sizeof(Segment) + s->cap;
  return m;
}

size_t Zone::garbage_bytes() const {
  size_t used = 0, live = 0;
  for (size_t i = 0; i < segs_.size(); ++i) {
    used += segs_[i]->used.load(std::memory_order_acquire);
    live += seg_live_[i];
  }
  return used - live;
}

template <class Recs>
Result<std::shared_ptr<const Zone>> Zone::build_from(const wire::Name& origin, Recs& records) {
  std::shared_ptr<Zone> z(new Zone());
  z->gen_ = g_gen.fetch_add(1, std::memory_order_relaxed);
  z->origin_ = origin.lowercased();
  const auto ow = z->origin_.wire();
  const size_t olen = ow.size();
  ZoneEditor ed(*z);

  // Pass 1 works on a flat index (names in one arena): nodes get their
  // blobs only once their records are grouped.
  struct Tmp {
    uint32_t name_off;
    uint8_t name_len;
    NodeId parent;
  };
  std::vector<Tmp> tnodes;
  std::vector<uint8_t> tnames;
  std::vector<uint64_t> table(next_pow2(records.size() / 2 + 16), 0);
  uint64_t mask = table.size() - 1;
  unsigned shift = 64 - unsigned(__builtin_ctzll(table.size()));
  tnodes.reserve(records.size() / 2 + 16);
  tnames.reserve(records.size() * 12 + 256);
  auto tfind = [&](const uint8_t* lw, size_t len, uint64_t h) -> NodeId {
    const uint64_t tag = h >> 32;
    for (uint64_t i = h >> shift;; i = (i + 1) & mask) {
      const uint64_t e = table[i];
      if (e == 0) return kNoNode;
      if ((e >> 32) == tag) {
        const NodeId id = NodeId(e) - 1;
        const Tmp& n = tnodes[id];
        if (n.name_len == len && same_bytes(tnames.data() + n.name_off, lw, len)) return id;
      }
    }
  };
  auto tinsert = [&](const uint8_t* lw, size_t len, uint64_t h, NodeId parent) -> NodeId {
    if ((tnodes.size() + 1) * 10 > table.size() * 6) {
      std::vector<uint64_t> old = std::move(table);
      table.assign(old.size() * 2, 0);
      mask = table.size() - 1;
      --shift;
      for (uint64_t e : old) {
        if (e == 0) continue;
        uint64_t i = (e >> 32) >> (shift - 32);
        while (table[i] != 0) i = (i + 1) & mask;
        table[i] = e;
      }
    }
    const NodeId id = NodeId(tnodes.size());
    tnodes.push_back(Tmp{uint32_t(tnames.size()), uint8_t(len), parent});
    tnames.insert(tnames.end(), lw, lw + len);
    uint64_t i = h >> shift;
    while (table[i] != 0) i = (i + 1) & mask;
    table[i] = (h >> 32) << 32 | uint64_t(id + 1);
    return id;
  };
  tinsert(ow.data(), olen, name_hash(ow.data(), olen), kNoNode);

  // Map each record to its node, creating empty non-terminals between it
  // and the apex. A parent is always created before its child, so node ids
  // grow downwards (used by the link and cut pass below).
  std::vector<NodeId> rec_node(records.size());
  uint8_t buf[wire::kMaxNameLength];
  uint8_t offs[128];
  // Zone files list an owner's records together: remember the last owner
  // (as given, case included) to skip the hash lookup for its siblings.
  const uint8_t* last_w = nullptr;
  size_t last_n = 0;
  NodeId last_id = kNoNode;
  for (size_t r = 0; r < records.size(); ++r) {
    const auto w = records.owner_wire(r);
    const size_t n = w.size();
    if (n == last_n && std::memcmp(w.data(), last_w, n) == 0 &&
        records.type(r) != uint16_t(wire::RRType::SOA)) {
      rec_node[r] = last_id;
      continue;
    }
    lower_copy(buf, w.data(), n);
    size_t labels = 0;
    for (size_t pos = 0; buf[pos] != 0; pos += size_t(buf[pos]) + 1) offs[labels++] = uint8_t(pos);
    offs[labels] = uint8_t(n - 1);
    if (n < olen || std::memcmp(buf + n - olen, ow.data(), olen) != 0 ||
        (n > olen && std::find(offs, offs + labels + 1, uint8_t(n - olen)) == offs + labels + 1)) {
      return make_error("zone " + origin.to_text() + ": record owner " +
                        records.owner(r).to_text() + " is outside the zone");
    }
    if (records.type(r) == uint16_t(wire::RRType::SOA) && n != olen) {
      return make_error("zone " + origin.to_text() + ": SOA record not at the apex: " +
                        records.owner(r).to_text());
    }
    NodeId id = tfind(buf, n, name_hash(buf, n));
    if (id == kNoNode) {
      size_t i = 1;
      NodeId parent;
      while ((parent = tfind(buf + offs[i], n - offs[i], name_hash(buf + offs[i], n - offs[i]))) == kNoNode) ++i;
      for (size_t k = i; k-- > 0;) {
        const uint8_t* s = buf + offs[k];
        const size_t sl = n - offs[k];
        parent = tinsert(s, sl, name_hash(s, sl), parent);
      }
      id = parent;
    }
    rec_node[r] = id;
    last_w = w.data();
    last_n = n;
    last_id = id;
  }

  records.release_owners();
  const size_t nn = tnodes.size();

  // Bucket records by node (stable, so input order is kept).
  std::vector<uint32_t> start(nn + 1, 0);
  for (NodeId id : rec_node) ++start[id + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<uint32_t> order(records.size());
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (uint32_t r = 0; r < records.size(); ++r) order[fill[rec_node[r]]++] = r;
  }
  std::vector<NodeId>().swap(rec_node);

  {
    size_t est = tnames.size() + nn * 24;
    for (size_t r = 0; r < records.size(); ++r) est += records.rdata(r).size() + 2 + 16 + 4;
    ed.est_remaining_ = est;
  }

  bool have_soa = false;
  std::vector<SetIn> sets;
  for (NodeId id = 0; id < nn; ++id) {
    uint32_t* b = order.data() + start[id];
    uint32_t* e = order.data() + start[id + 1];
    // Stable insertion sort by type: nodes hold a handful of records, and
    // std::stable_sort would allocate a buffer per node.
    if (e - b > 32) {
      std::stable_sort(b, e, [&](uint32_t x, uint32_t y) { return records.type(x) < records.type(y); });
    }
    for (uint32_t* i = b + 1; i < e; ++i) {
      const uint32_t v = *i;
      const uint16_t t = records.type(v);
      uint32_t* j = i;
      for (; j > b && records.type(*(j - 1)) > t; --j) *j = *(j - 1);
      *j = v;
    }
    const Tmp& tn = tnodes[id];
    const uint8_t* name = tnames.data() + tn.name_off;
    sets.clear();
    size_t nrec = 0;
    uint16_t flags = 0;
    for (uint32_t* g = b; g < e;) {
      const uint16_t type = records.type(*g);
      uint32_t* ge = g;
      while (ge < e && records.type(*ge) == type) ++ge;
      // RFC 2181 §5: an RRset is a set; Knot keeps it sorted by rdata and
      // takes the TTL of the last record loaded.
      SetIn& s = sets.emplace_back();
      s.type = type;
      s.ttl = records.ttl(*(ge - 1));
      for (uint32_t* k = g; k < ge; ++k) {
        const auto rd = records.rdata(*k);
        if (rd.size() > 0xFFFF) {
          return make_error("zone " + origin.to_text() + ": rdata too long at " +
                            records.owner_text(*k, {name, tn.name_len}));
        }
        s.rdatas.push_back(rd);
      }
      std::sort(s.rdatas.begin(), s.rdatas.end(), rdata_less);
      s.rdatas.erase(std::unique(s.rdatas.begin(), s.rdatas.end(), rdata_eq), s.rdatas.end());
      if (s.rdatas.size() > 0xFFFF) {
        return make_error("zone " + origin.to_text() + ": RRset too large at " +
                          records.owner_text(*g, {name, tn.name_len}));
      }
      nrec += s.rdatas.size();
      switch (wire::RRType(type)) {
        case wire::RRType::CNAME: flags |= kHasCname; break;
        case wire::RRType::DNAME: flags |= kHasDname; break;
        case wire::RRType::NS:
          if (id != 0) flags |= kDelegation;
          break;
        case wire::RRType::SOA:
          if (have_soa || s.rdatas.size() != 1) {
            return make_error("zone " + origin.to_text() + ": more than one SOA record");
          }
          have_soa = true;
          z->soa_index_ = uint16_t(sets.size() - 1);
          if (!soa_fields(s.rdatas[0], &z->serial_, &z->soa_minimum_)) {
            return make_error("zone " + origin.to_text() + ": malformed SOA rdata");
          }
          break;
        default: break;
      }
      g = ge;
    }
    if (sets.empty()) flags |= kEmpty;
    if (id == 0) flags |= kApex;
    const NodeId nid = ed.alloc_node();  // == id: slots are handed out in order
    const uint8_t* blob = ed.write_blob(nid, name, tn.name_len, sets, nullptr);
    Node& nd = ed.wnode(nid);
    nd.blob = blob;
    nd.flags = flags;
    nd.rrset_count = uint16_t(sets.size());
    nd.name_len = tn.name_len;
    nd.labels = uint8_t(count_labels(name));
    nd.sets_off = uint16_t(8 + align4(tn.name_len));
    nd.cut = nd.parent = nd.first_child = nd.next_sibling = nd.prev_sibling = kNoNode;
    nd.refs = 0;
    z->record_count_ += nrec;
    for (uint32_t* k = b; k < e; ++k) records.release(*k);  // keeps the peak of a big load down
  }
  records.release_all();
  sets.clear();
  std::vector<uint32_t>().swap(order);
  std::vector<uint32_t>().swap(start);
  std::vector<uint8_t>().swap(tnames);
  if (!have_soa) return make_error("zone " + origin.to_text() + ": no SOA record at the apex");
  ed.est_remaining_ = 0;

  // The final table: the same slots, now in shared chunks.
  ed.tab_reset(table.size());
  for (size_t i = 0; i < table.size(); ++i)
    if (const uint64_t k = table[i]) ed.wentry(i) = {k, ed.node(NodeId(k) - 1).blob};
  z->table_used_ = nn;
  std::vector<uint64_t>().swap(table);

  // Tree links, zone cuts and wildcard parents; parents precede children.
  for (NodeId id = 1; id < nn; ++id) {
    Node& nd = ed.wnode(id);
    const NodeId parent = tnodes[id].parent;
    Node& p = ed.wnode(parent);
    nd.parent = parent;
    nd.next_sibling = p.first_child;
    if (p.first_child != kNoNode) ed.wnode(p.first_child).prev_sibling = id;
    p.first_child = id;
    nd.cut = p.cut != kNoNode ? p.cut : ((nd.flags & kDelegation) ? id : kNoNode);
    if (ZoneEditor::is_wildcard(nd)) p.flags |= kWildcardChild;
  }
  std::vector<Tmp>().swap(tnodes);

  // Additional-section targets, resolved once here instead of per query.
  for (NodeId id = 0; id < nn; ++id) {
    const Node nd = z->node(id);
    const RRsetHdr* s = hdrs_of(nd.blob, nd.name_len);
    for (size_t i = 0; i < nd.rrset_count; ++i) {
      const int off = target_offset(s[i].type);
      if (off < 0) continue;
      auto* t = reinterpret_cast<NodeId*>(const_cast<uint8_t*>(nd.blob) + s[i].target_off);
      const uint8_t* p = nd.blob + s[i].data_off;
      for (size_t k = 0; k < s[i].count; ++k) {
        const size_t rl = get16(p);
        t[k] = ed.ref_target({p + 2, rl}, off);
        p += 2 + rl;
      }
    }
  }
  return std::shared_ptr<const Zone>(std::move(z));
}

Result<std::shared_ptr<const Zone>> Zone::build(const wire::Name& origin,
                                                std::vector<wire::RR> records) {
  RRVecSource src{records};
  return build_from(origin, src);
}

Result<std::shared_ptr<const Zone>> Zone::build(const wire::Name& origin, RecordStore&& records) {
  StoreSource src{records};
  return build_from(origin, src);
}

Result<std::shared_ptr<const Zone>> Zone::replace_owners(const Zone& base,
                                                         const std::vector<detail::OwnerRecords>& owners) {
  const std::string zname = base.origin_.to_text();
  struct Prep {
    const detail::OwnerRecords* o;
    std::vector<SetIn> sets;
    size_t labels;
  };
  std::vector<Prep> preps;
  preps.reserve(owners.size());
  std::vector<uint32_t> idx;
  bool apex_touched = false;
  uint32_t serial = base.serial_, minimum = base.soa_minimum_;
  uint16_t soa_index = base.soa_index_;
  for (const auto& o : owners) {
    Prep& p = preps.emplace_back();
    p.o = &o;
    p.labels = o.name.label_count();
    const bool apex = o.name == base.origin_;
    idx.resize(o.recs.size());
    std::iota(idx.begin(), idx.end(), 0u);
    std::stable_sort(idx.begin(), idx.end(), [&](uint32_t x, uint32_t y) { return o.recs[x].type < o.recs[y].type; });
    bool soa = false;
    for (size_t g = 0; g < idx.size();) {
      const uint16_t type = o.recs[idx[g]].type;
      size_t ge = g;
      while (ge < idx.size() && o.recs[idx[ge]].type == type) ++ge;
      SetIn& s = p.sets.emplace_back();
      s.type = type;
      s.ttl = o.recs[idx[ge - 1]].ttl;
      for (size_t k = g; k < ge; ++k) {
        const auto& rd = o.recs[idx[k]].rdata;
        if (rd.size() > 0xFFFF) return make_error("zone " + zname + ": rdata too long at " + o.name.to_text());
        s.rdatas.emplace_back(rd.data(), rd.size());
      }
      std::sort(s.rdatas.begin(), s.rdatas.end(), rdata_less);
      s.rdatas.erase(std::unique(s.rdatas.begin(), s.rdatas.end(), rdata_eq), s.rdatas.end());
      if (s.rdatas.size() > 0xFFFF) return make_error("zone " + zname + ": RRset too large at " + o.name.to_text());
      if (type == uint16_t(wire::RRType::SOA)) {
        if (!apex) return make_error("zone " + zname + ": SOA record not at the apex: " + o.name.to_text());
        if (s.rdatas.size() != 1) return make_error("zone " + zname + ": more than one SOA record");
        if (!soa_fields(s.rdatas[0], &serial, &minimum)) return make_error("zone " + zname + ": malformed SOA rdata");
        soa = true;
        soa_index = uint16_t(p.sets.size() - 1);
      }
      g = ge;
    }
    if (apex) {
      if (!soa) return make_error("zone " + zname + ": no SOA record at the apex");
      apex_touched = true;
    }
  }

  std::shared_ptr<Zone> z = ZoneEditor::successor(base);
  ZoneEditor ed(*z);
  // Removals deepest first (a parent left empty goes with its last
  // child), then the rest shallowest first (parents exist before children).
  std::sort(preps.begin(), preps.end(), [](const Prep& a, const Prep& b) {
    if (a.sets.empty() != b.sets.empty()) return a.sets.empty();
    return a.sets.empty() ? a.labels > b.labels : a.labels < b.labels;
  });
  for (const Prep& p : preps) {
    const auto w = p.o->name.wire();
    ed.commit(w.data(), w.size(), p.sets);
  }
  if (apex_touched) {
    z->serial_ = serial;
    z->soa_minimum_ = minimum;
    z->soa_index_ = soa_index;
  }
  ed.clean(2 * ed.appended_ + kSegMax);
  return std::shared_ptr<const Zone>(std::move(z));
}

std::vector<wire::RR> Zone::records() const {
  std::vector<std::pair<wire::Name, NodeId>> names;
  names.reserve(node_count_);
  for (NodeId id = 0; id < node_count_; ++id) {
    if (node(id).rrset_count == 0) continue;
    const auto nw = node_name(id);
    names.emplace_back(wire::Name::from_checked_wire(nw.data(), nw.size()), id);
  }
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first.canonical_less(b.first); });
  std::vector<wire::RR> out;
  out.reserve(record_count_);
  for (const auto& [name, id] : names) {
    const Node& n = node(id);
    for (size_t i = 0; i < n.rrset_count; ++i) {
      const RRsetView v = rrset_at(id, i);
      const uint8_t* p = v.data;
      for (size_t k = 0; k < v.count; ++k) {
        const size_t rl = get16(p);
        wire::RR rr;
        rr.owner = name;
        rr.type = v.type;
        rr.rclass = uint16_t(wire::RRClass::IN);
        rr.ttl = v.ttl;
        rr.rdata.assign(p + 2, p + 2 + rl);
        out.push_back(std::move(rr));
        p += 2 + rl;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- ZoneSet

void ZoneSet::index() {
  table_.assign(next_pow2(zones_.size() * 2 + 1), 0);
  max_labels_ = 0;
  const size_t mask = table_.size() - 1;
  for (size_t i = 0; i < zones_.size(); ++i) {
    auto w = zones_[i]->origin().wire();
    uint64_t h = name_hash(w.data(), w.size());
    size_t k = h & mask;
    while (table_[k] != 0) k = (k + 1) & mask;
    table_[k] = uint32_t(i + 1);
    max_labels_ = std::max<uint8_t>(max_labels_, uint8_t(zones_[i]->origin().label_count()));
  }
}

std::shared_ptr<const ZoneSet> ZoneSet::with(std::shared_ptr<const Zone> z) const {
  auto s = std::make_shared<ZoneSet>(*this);
  bool replaced = false;
  for (auto& old : s->zones_) {
    if (old->origin() == z->origin()) {
      old = z;
      replaced = true;
    }
  }
  if (!replaced) s->zones_.push_back(std::move(z));
  s->index();
  return s;
}

std::shared_ptr<const ZoneSet> ZoneSet::without(const wire::Name& origin) const {
  auto s = std::make_shared<ZoneSet>(*this);
  std::erase_if(s->zones_, [&](const auto& z) { return z->origin() == origin; });
  s->index();
  return s;
}

const Zone* ZoneSet::find(const LowerName& name, size_t from) const {
  if (zones_.empty()) return nullptr;
  if (zones_.size() <= 4) {
    // Few zones (the common case): compare each origin with the suffix of
    // the same label count; the longest match wins.
    const Zone* best = nullptr;
    size_t best_labels = 0;
    for (const auto& z : zones_) {
      const size_t zl = z->node(0).labels;
      if (zl > name.labels || name.labels - zl < from || (best && zl <= best_labels)) continue;
      auto ow = z->origin().wire();
      const size_t i = name.labels - zl;
      if (ow.size() == name.suffix_len(i) && same_bytes(ow.data(), name.suffix(i), ow.size())) {
        best = z.get();
        best_labels = zl;
      }
    }
    return best;
  }
  const size_t mask = table_.size() - 1;
  size_t i = from;
  if (name.labels > max_labels_ && size_t(name.labels - max_labels_) > i) i = name.labels - max_labels_;
  for (; i <= name.labels; ++i) {
    const uint8_t* s = name.suffix(i);
    const size_t sl = name.suffix_len(i);
    uint64_t h = name_hash(s, sl);
    for (size_t k = h & mask; table_[k] != 0; k = (k + 1) & mask) {
      const Zone* z = zones_[table_[k] - 1].get();
      auto ow = z->origin().wire();
      if (ow.size() == sl && same_bytes(ow.data(), s, sl)) return z;
    }
  }
  return nullptr;
}

const Zone* ZoneSet::find(const wire::Name& name) const {
  LowerName ln;
  ln.assign(name.wire().data(), name.wire_size());
  return find(ln, 0);
}

}  // namespace ddns::zone
