// Zone snapshot build and copy-on-write change: a hash table of lowercased
// owner names to nodes (empty non-terminals included), each node's name,
// RRsets and rdata packed in one blob. Nodes and the table live in chunks
// and blobs in append-only segments (arena.h), all shared between
// snapshots, so a change (editor.h) copies only what it touches. The set
// of served zones is in zone_set.cc.
#include "zone/zone.h"

#include "zone/editor.h"
#include "zone/master.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace ddns::zone {
namespace {

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

}  // namespace ddns::zone
