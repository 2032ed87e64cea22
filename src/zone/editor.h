// Internal to zone/: ZoneEditor, the writer's view of a snapshot under
// construction (copy-on-write of shared chunks, blob appends, the hash
// table). Zone::build_from and Zone::replace_owners use it. Only zone.cc
// includes this header.
#pragma once

#include "zone/arena.h"

namespace ddns::zone {

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

}  // namespace ddns::zone
