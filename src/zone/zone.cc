// Zone snapshot build and lookup: a hash table of lowercased owner names to
// nodes (empty non-terminals included), RRsets sorted by type, rdata packed
// in one arena, and the set of served zones.
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

// Equality of two short byte strings (names) without a libc call: whole
// words, the tail as one overlapping word.
inline bool same_bytes(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 < n; i += 8)
      if (load8(a + i) != load8(b + i)) return false;
    return load8(a + n - 8) == load8(b + n - 8);
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

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
// additional-section processing (RFC 1035 §3.3.9, §3.3.11; RFC 2782).
int target_offset(uint16_t type) {
  switch (wire::RRType(type)) {
    case wire::RRType::NS: return 0;
    case wire::RRType::MX: return 2;
    case wire::RRType::SRV: return 6;
    default: return -1;
  }
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

// ---------------------------------------------------------------- Zone

NodeId Zone::find(const uint8_t* lw, size_t len) const {
  return find(lw, len, name_hash(lw, len));
}

NodeId Zone::find(const uint8_t* lw, size_t len, uint64_t h) const {
  const uint64_t tag = h >> 32;
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    uint64_t e = table_[i];
    if (e == 0) return kNoNode;
    if ((e >> 32) == tag) {
      NodeId id = NodeId(e & 0xFFFFFFFFu) - 1;
      const Node& n = nodes_[id];
      if (n.name_len == len && same_bytes(names_.data() + n.name_off, lw, len)) return id;
    }
  }
}

void Zone::grow_table() {
  std::vector<uint64_t> old = std::move(table_);
  table_.assign(old.size() * 2, 0);
  mask_ = table_.size() - 1;
  for (uint64_t e : old) {
    if (e == 0) continue;
    const Node& n = nodes_[NodeId(e & 0xFFFFFFFFu) - 1];
    uint64_t h = name_hash(names_.data() + n.name_off, n.name_len);
    uint64_t i = h & mask_;
    while (table_[i] != 0) i = (i + 1) & mask_;
    table_[i] = e;
  }
}

NodeId Zone::insert_node(const uint8_t* lw, size_t len, uint64_t h, bool* created) {
  NodeId found = find(lw, len, h);
  if (found != kNoNode) {
    *created = false;
    return found;
  }
  *created = true;
  if ((nodes_.size() + 1) * 10 > table_.size() * 6) grow_table();
  NodeId id = NodeId(nodes_.size());
  Node n{};
  n.name_off = uint32_t(names_.size());
  n.name_len = uint8_t(len);
  n.parent = kNoNode;
  n.cut = kNoNode;
  size_t labels = 0;
  for (size_t pos = 0; lw[pos] != 0; pos += size_t(lw[pos]) + 1) ++labels;
  n.labels = uint8_t(labels);
  names_.insert(names_.end(), lw, lw + len);
  nodes_.push_back(n);
  uint64_t i = h & mask_;
  while (table_[i] != 0) i = (i + 1) & mask_;
  table_[i] = (h >> 32) << 32 | uint64_t(id + 1);
  return id;
}

RRsetView Zone::view(const RRset& s) const {
  RRsetView v;
  v.type = s.type;
  v.count = s.count;
  v.ttl = s.ttl;
  v.data = rdata_.data() + s.data_off;
  v.targets = s.target_off == UINT32_MAX ? nullptr : targets_.data() + s.target_off;
  return v;
}

RRsetView Zone::rrset(NodeId id, uint16_t type) const {
  const Node& n = nodes_[id];
  const RRset* s = rrsets_.data() + n.rrset_begin;
  for (size_t i = 0; i < n.rrset_count; ++i) {
    if (s[i].type == type) return view(s[i]);
    if (s[i].type > type) break;
  }
  return {};
}

RRsetView Zone::rrset_at(NodeId id, size_t i) const {
  const Node& n = nodes_[id];
  if (i >= n.rrset_count) return {};
  return view(rrsets_[n.rrset_begin + i]);
}

size_t Zone::memory_usage() const {
  return sizeof(Zone) + nodes_.capacity() * sizeof(Node) + names_.capacity() +
         rrsets_.capacity() * sizeof(RRset) + rdata_.capacity() +
         targets_.capacity() * sizeof(NodeId) + table_.capacity() * sizeof(uint64_t);
}

template <class Recs>
Result<std::shared_ptr<const Zone>> Zone::build_from(const wire::Name& origin, Recs& records) {
  std::shared_ptr<Zone> z(new Zone());
  z->origin_ = origin.lowercased();
  const auto ow = z->origin_.wire();
  const size_t olen = ow.size();

  z->table_.assign(next_pow2(records.size() / 2 + 16), 0);
  z->mask_ = z->table_.size() - 1;
  z->nodes_.reserve(records.size() / 2 + 16);
  z->names_.reserve(records.size() * 12 + 256);

  bool created = false;
  z->insert_node(ow.data(), olen, name_hash(ow.data(), olen), &created);

  // Pass 1: map each record to its node, creating empty non-terminals
  // between it and the apex. A parent is always created before its child,
  // so node ids grow downwards (used by the cut pass below).
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
    NodeId id = z->find(buf, n);
    if (id == kNoNode) {
      // Find the deepest existing ancestor, then create downwards.
      size_t i = 1;
      NodeId parent;
      while ((parent = z->find(buf + offs[i], n - offs[i])) == kNoNode) ++i;
      for (size_t k = i; k-- > 0;) {
        const uint8_t* s = buf + offs[k];
        size_t sl = n - offs[k];
        id = z->insert_node(s, sl, name_hash(s, sl), &created);
        z->nodes_[id].parent = parent;
        parent = id;
      }
    }
    rec_node[r] = id;
    last_w = w.data();
    last_n = n;
    last_id = id;
  }

  records.release_owners();
  const size_t nn = z->nodes_.size();

  // Pass 2: bucket records by node (stable, so input order is kept).
  std::vector<uint32_t> start(nn + 1, 0);
  for (NodeId id : rec_node) ++start[id + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<uint32_t> order(records.size());
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (uint32_t r = 0; r < records.size(); ++r) order[fill[rec_node[r]]++] = r;
  }
  std::vector<NodeId>().swap(rec_node);

  size_t rdata_bytes = 0;
  for (size_t r = 0; r < records.size(); ++r) rdata_bytes += records.rdata(r).size() + 2;
  z->rdata_.reserve(rdata_bytes);
  z->rrsets_.reserve(records.size() / 2 + 16);

  bool have_soa = false;
  std::vector<uint32_t> group;
  for (NodeId id = 0; id < nn; ++id) {
    Node& nd = z->nodes_[id];
    nd.rrset_begin = uint32_t(z->rrsets_.size());
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
    for (uint32_t* g = b; g < e;) {
      const uint16_t type = records.type(*g);
      uint32_t* ge = g;
      while (ge < e && records.type(*ge) == type) ++ge;
      // RFC 2181 §5: an RRset is a set; Knot keeps it sorted by rdata and
      // takes the TTL of the last record loaded.
      group.assign(g, ge);
      const uint32_t ttl = records.ttl(*(ge - 1));
      std::sort(group.begin(), group.end(), [&](uint32_t x, uint32_t y) {
        const auto& a = records.rdata(x);
        const auto& c = records.rdata(y);
        size_t m = std::min(a.size(), c.size());
        int cmp = m ? std::memcmp(a.data(), c.data(), m) : 0;
        return cmp != 0 ? cmp < 0 : a.size() < c.size();
      });
      group.erase(std::unique(group.begin(), group.end(),
                              [&](uint32_t x, uint32_t y) {
                                const auto a = records.rdata(x);
                                const auto c = records.rdata(y);
                                return a.size() == c.size() &&
                                       (a.empty() || std::memcmp(a.data(), c.data(), a.size()) == 0);
                              }),
                  group.end());
      if (group.size() > 0xFFFF) {
        return make_error("zone " + origin.to_text() + ": RRset too large at " +
                          records.owner_text(*g, z->node_name(id)));
      }
      RRset s{};
      s.type = type;
      s.count = uint16_t(group.size());
      s.ttl = ttl;
      s.data_off = uint32_t(z->rdata_.size());
      s.target_off = UINT32_MAX;
      for (uint32_t r : group) {
        const auto rd = records.rdata(r);
        if (rd.size() > 0xFFFF) {
          return make_error("zone " + origin.to_text() + ": rdata too long at " +
                            records.owner_text(r, z->node_name(id)));
        }
        z->rdata_.push_back(uint8_t(rd.size() >> 8));
        z->rdata_.push_back(uint8_t(rd.size()));
        z->rdata_.insert(z->rdata_.end(), rd.begin(), rd.end());
        records.release(r);  // keeps the peak memory of a big load down
      }
      z->record_count_ += group.size();
      switch (wire::RRType(type)) {
        case wire::RRType::CNAME: nd.flags |= kHasCname; break;
        case wire::RRType::DNAME: nd.flags |= kHasDname; break;
        case wire::RRType::NS:
          if (id != 0) nd.flags |= kDelegation;
          break;
        case wire::RRType::SOA: {
          if (have_soa || s.count != 1) {
            return make_error("zone " + origin.to_text() + ": more than one SOA record");
          }
          have_soa = true;
          z->soa_index_ = uint16_t(z->rrsets_.size() - nd.rrset_begin);
          const uint8_t* p = z->rdata_.data() + s.data_off + 2;
          const uint8_t* end = z->rdata_.data() + z->rdata_.size();
          size_t l1 = wire_name_len(p, end);
          size_t l2 = l1 ? wire_name_len(p + l1, end) : 0;
          if (!l2 || p + l1 + l2 + 20 != end) {
            return make_error("zone " + origin.to_text() + ": malformed SOA rdata");
          }
          const uint8_t* f = p + l1 + l2;
          z->serial_ = uint32_t(f[0]) << 24 | uint32_t(f[1]) << 16 | uint32_t(f[2]) << 8 | f[3];
          z->soa_minimum_ = uint32_t(f[16]) << 24 | uint32_t(f[17]) << 16 | uint32_t(f[18]) << 8 | f[19];
          break;
        }
        default: break;
      }
      z->rrsets_.push_back(s);
      g = ge;
    }
    nd.rrset_count = uint16_t(z->rrsets_.size() - nd.rrset_begin);
    if (nd.rrset_count == 0) nd.flags |= kEmpty;
  }
  records.release_all();
  std::vector<uint32_t>().swap(order);
  std::vector<uint32_t>().swap(start);
  if (!have_soa) return make_error("zone " + origin.to_text() + ": no SOA record at the apex");
  z->nodes_[0].flags |= kApex;

  // Zone cuts and wildcard parents; parents precede children in id order.
  for (NodeId id = 1; id < nn; ++id) {
    Node& nd = z->nodes_[id];
    const Node& p = z->nodes_[nd.parent];
    nd.cut = p.cut != kNoNode ? p.cut : ((nd.flags & kDelegation) ? id : kNoNode);
    const uint8_t* s = z->names_.data() + nd.name_off;
    if (s[0] == 1 && s[1] == '*') z->nodes_[nd.parent].flags |= kWildcardChild;
  }

  // Additional-section targets, resolved once here instead of per query.
  for (auto& s : z->rrsets_) {
    int off = target_offset(s.type);
    if (off < 0) continue;
    s.target_off = uint32_t(z->targets_.size());
    const uint8_t* p = z->rdata_.data() + s.data_off;
    for (size_t i = 0; i < s.count; ++i) {
      size_t rl = get16(p);
      const uint8_t* rd = p + 2;
      NodeId t = kNoNode;
      if (rl > size_t(off)) {
        size_t tl = wire_name_len(rd + off, rd + rl);
        if (tl) {
          lower_copy(buf, rd + off, tl);
          t = z->find(buf, tl);
        }
      }
      z->targets_.push_back(t);
      p += 2 + rl;
    }
  }
  z->nodes_.shrink_to_fit();
  z->rrsets_.shrink_to_fit();
  z->names_.shrink_to_fit();
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

std::vector<wire::RR> Zone::records() const {
  std::vector<std::pair<wire::Name, NodeId>> names;
  names.reserve(nodes_.size());
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].rrset_count == 0) continue;
    auto n = wire::Name::from_wire(node_name(id));
    if (n.ok()) names.emplace_back(std::move(*n), id);
  }
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first.canonical_less(b.first); });
  std::vector<wire::RR> out;
  out.reserve(record_count_);
  for (const auto& [name, id] : names) {
    const Node& n = nodes_[id];
    for (size_t i = 0; i < n.rrset_count; ++i) {
      const RRset& s = rrsets_[n.rrset_begin + i];
      const uint8_t* p = rdata_.data() + s.data_off;
      for (size_t k = 0; k < s.count; ++k) {
        size_t rl = get16(p);
        wire::RR rr;
        rr.owner = name;
        rr.type = s.type;
        rr.rclass = uint16_t(wire::RRClass::IN);
        rr.ttl = s.ttl;
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
