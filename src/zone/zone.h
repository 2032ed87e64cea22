// Immutable zone snapshot: the tree of names and RRsets that queries read
// without locks, and ZoneSet, the set of zones served (deepest match wins).
// A snapshot is never changed after build(); the next version is a new one
// (Zone::replace_owners, behind zone::apply) that shares every part the
// change did not touch: nodes and the name table live in copy-on-write
// chunks, node blobs (name, RRsets, rdata) in append-only segments.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ddns::zone {

struct RecordStore;  // zone/master.h

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = 0xFFFFFFFFu;

// Hash of lowercased uncompressed wire name bytes (the key of every lookup).
uint64_t name_hash(const uint8_t* lower_wire, size_t len);

// Lowercased wire name with its label start offsets, built from a name in
// any case. The fast lookup functions take this so that a query's name is
// lowercased and split once.
struct LowerName {
  uint8_t wire[wire::kMaxNameLength];
  uint8_t len = 0;          // total wire length including the root label
  uint8_t labels = 0;       // label count, root not counted
  uint8_t offsets[128];     // offsets[i] = start of label i; offsets[labels] = root

  // Fills from uncompressed wire bytes that are known to be well formed.
  void assign(const uint8_t* w, size_t n);
  // The suffix that starts at label i (i <= labels).
  const uint8_t* suffix(size_t i) const { return wire + offsets[i]; }
  size_t suffix_len(size_t i) const { return size_t(len) - offsets[i]; }
};

// One RRset as stored: rdatas live contiguously as [u16 length][rdata]
// entries. Valid as long as the Zone lives.
struct RRsetView {
  uint16_t type = 0;
  uint16_t count = 0;
  uint32_t ttl = 0;
  const uint8_t* data = nullptr;   // first [u16 len][rdata] entry
  // For NS/MX/SRV: per-rdata node id of the target name (or kNoNode when
  // the target is outside the zone), precomputed for additional-section
  // processing; else null. A target name that does not exist in the zone
  // maps to a placeholder node with no RRsets that find() never returns.
  const NodeId* targets = nullptr;

  bool empty() const { return count == 0; }
};

namespace detail {
struct Segment;

// Lowercases the ASCII letters of 8 octets at once: a lane gets 0x20 added
// exactly when it is 'A'..'Z' (length octets are <= 63 and never change;
// octets >= 0x80 neither).
inline uint64_t lower8(uint64_t x) {
  constexpr uint64_t k7f = 0x7F7F7F7F7F7F7F7FULL, k80 = 0x8080808080808080ULL;
  const uint64_t h = x & k7f;
  const uint64_t ge_a = h + 0x3F3F3F3F3F3F3F3FULL;  // bit 7 set when >= 'A'
  const uint64_t gt_z = h + 0x2525252525252525ULL;  // bit 7 set when > 'Z'
  return x | (((ge_a & ~gt_z & ~x) & k80) >> 2);
}

// Equality of two short byte strings (names) without a libc call: whole
// words, the tail as one overlapping word.
inline bool same_bytes(const uint8_t* a, const uint8_t* b, size_t n) {
  auto load8 = [](const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
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

// A node blob starts [u32 node id][u32 size] in host order (arena.h).
inline uint32_t blob_size(const uint8_t* blob) {
  uint32_t v;
  std::memcpy(&v, blob + 4, 4);
  return v;
}

// A name-table slot: (hash high 32 bits << 32) | (node id + 1), 0 = empty,
// with that node's blob. find() compares the name in the blob straight from
// the slot, so the blob's cache miss and the node's (which the caller reads
// next) overlap instead of following one another.
struct TabEntry {
  uint64_t key;
  const uint8_t* blob;
};

// An RRset header inside a node blob (offsets from the blob start).
struct SetHdr {
  uint16_t type;
  uint16_t count;
  uint32_t ttl;
  uint32_t data_off;
  uint32_t target_off;  // 0 = no targets
};

// One owner's complete records after a change, in order (zone::apply).
struct OwnerRecords {
  struct Rec {
    uint16_t type;
    uint32_t ttl;
    wire::Bytes rdata;
  };
  wire::Name name;  // lowercased, inside the zone
  std::vector<Rec> recs;
};
// A fixed-capacity block of T shared by snapshots (copy on write): the
// next snapshot copies a chunk only when it changes something in it.
template <class T>
struct Chunk {
  std::atomic<uint32_t> refs;
  uint32_t cap;
  uint64_t gen;  // the snapshot that created it (and alone may write it)
  // The cap elements follow the header.
  T* v() { return reinterpret_cast<T*>(this + 1); }
  const T* v() const { return reinterpret_cast<const T*>(this + 1); }
};
// Owner of up to 64 chunks (arena.h): snapshots share directories, so a
// new snapshot takes one reference per 64 chunks, not one per chunk.
template <class C>
struct Dir;
}  // namespace detail

class Zone {
 public:
  // Node flags.
  enum : uint16_t {
    kApex = 1,
    kDelegation = 2,     // NS not at the apex: a zone cut (RFC 1034 §4.2.1)
    kHasCname = 4,
    kHasDname = 8,
    kWildcardChild = 16, // a "*" child node exists (RFC 4592 §2.2)
    kEmpty = 32,         // no RRsets: an empty non-terminal (RFC 4592 §2.2.2)
    // Internal: a target placeholder outside the tree (see RRsetView::targets)
    // and an unused slot. Neither is returned by find() nor has RRsets.
    kGhost = 64,
    kFree = 128,
  };

  // Hot fields first (the answer path reads blob, flags, counts and cut).
  struct Node {
    const uint8_t* blob;   // name, RRset headers, rdata, targets (arena.h)
    uint16_t flags;
    uint16_t rrset_count;
    uint8_t name_len;
    uint8_t labels;
    uint16_t sets_off;     // RRset headers in the blob
    NodeId cut;            // topmost delegation at or above this node, or kNoNode
    NodeId parent;         // kNoNode for the apex
    NodeId first_child;    // tree links, kNoNode = none
    NodeId next_sibling;
    NodeId prev_sibling;
    uint32_t refs;         // NS/MX/SRV rdatas that target this node
  };

  // Builds a snapshot from records (any order). Records outside `origin`
  // are an error, and so is a missing SOA at the apex; other semantic
  // checks are the master-file checker's job. Owner names are stored
  // lowercased. An RRset whose records have different TTLs takes the TTL of
  // the last record given (as Knot DNS does for zone-file order).
  static Result<std::shared_ptr<const Zone>> build(const wire::Name& origin,
                                                   std::vector<wire::RR> records);
  // Same from the parser's compact store (the large-zone load path); the
  // store is emptied as it is consumed.
  static Result<std::shared_ptr<const Zone>> build(const wire::Name& origin,
                                                   RecordStore&& records);
  // The next snapshot: `base` with the records of each owner in `owners`
  // replaced by that owner's list (empty = the name goes). Shares every
  // untouched part with `base` (copy on write), so the cost follows the
  // size of the change, not of the zone. Same result as build() of the
  // changed record list (RRsets sorted and deduplicated, an RRset's TTL =
  // its last record's). Errors (misplaced or missing SOA, oversized RRset)
  // leave `base` as it was. The writer of zone::apply.
  static Result<std::shared_ptr<const Zone>> replace_owners(const Zone& base,
                                                            const std::vector<detail::OwnerRecords>& owners);
  const wire::Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  size_t record_count() const { return record_count_; }
  // All records in canonical order (for the zone writer, AXFR).
  std::vector<wire::RR> records() const;

  // --- Fast read API for the answer engine (no allocation) ---
  // Node ids are below node_count(); ids of placeholders and unused slots
  // (flags kGhost / kFree, no RRsets) are among them.
  size_t node_count() const { return node_count_; }
  NodeId apex() const { return 0; }
  const Node& node(NodeId id) const { return nchunks_[id >> kNodeShift]->v()[id & kNodeMask]; }
  std::span<const uint8_t> node_name(NodeId id) const {
    const Node& n = node(id);
    return {n.blob + kNameOff, n.name_len};
  }
  // Exact match of a lowercased wire name (any name, below cuts too).
  NodeId find(const uint8_t* lower_wire, size_t len) const { return find(lower_wire, len, name_hash(lower_wire, len)); }
  NodeId find(const uint8_t* lower_wire, size_t len, uint64_t hash) const {
    const uint64_t tag = hash >> 32;
    for (uint64_t i = hash >> shift_;; i = (i + 1) & mask_) {
      const detail::TabEntry& e = entry(i);
      if (e.key == 0) return kNoNode;
      // Placeholders are stored with the low tag bit flipped: never a match.
      if ((e.key >> 32) == tag) {
        const NodeId id = NodeId(e.key) - 1;
        __builtin_prefetch(&node(id));
        // A wire name ends at its root label, so a blob whose first `len`
        // name bytes equal the query's holds exactly that name; the blob's
        // size keeps the read inside it.
        if (detail::blob_size(e.blob) >= kNameOff + len &&
            detail::same_bytes(e.blob + kNameOff, lower_wire, len))
          return id;
      }
    }
  }
  // The RRset of `type` at a node, or an empty view.
  RRsetView rrset(NodeId id, uint16_t type) const {
    const Node& n = node(id);
    const auto* s = reinterpret_cast<const detail::SetHdr*>(n.blob + n.sets_off);
    for (size_t i = 0; i < n.rrset_count; ++i) {
      if (s[i].type == type) return view(n.blob, s[i]);
      if (s[i].type > type) break;
    }
    return {};
  }
  // The i-th RRset of a node (RRsets are sorted by type code).
  RRsetView rrset_at(NodeId id, size_t i) const {
    const Node& n = node(id);
    if (i >= n.rrset_count) return {};
    return view(n.blob, reinterpret_cast<const detail::SetHdr*>(n.blob + n.sets_off)[i]);
  }
  // Apex SOA (always present).
  RRsetView soa() const { return rrset_at(0, soa_index_); }
  uint32_t soa_minimum() const { return soa_minimum_; }

  // A secondary's copy past its SOA expire time (RFC 1035 §3.3.13): queries
  // get SERVFAIL. The one mutable bit of a snapshot, set by the secondary's
  // timer on the snapshot being served; a fresh transfer publishes a new
  // snapshot, which starts unexpired.
  bool expired() const { return expired_.load(std::memory_order_relaxed); }
  void set_expired(bool e) const { expired_.store(e, std::memory_order_relaxed); }

  // Memory held by the snapshot's arenas and tables, in bytes (parts shared
  // with other snapshots are counted in each).
  size_t memory_usage() const;
  // Bytes of node data in this snapshot's arenas that it no longer uses
  // (left by changes; bounded by apply's cleaning).
  size_t garbage_bytes() const;

  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;
  ~Zone();

 private:
  friend class ZoneEditor;  // editor.h: the copy-on-write next version
  Zone() = default;
  template <class Recs>
  static Result<std::shared_ptr<const Zone>> build_from(const wire::Name& origin, Recs& records);

  static constexpr size_t kNameOff = 8;   // blob: [u32 node id][u32 size][name]...
  static constexpr unsigned kNodeShift = 9;
  static constexpr NodeId kNodeMask = (NodeId(1) << kNodeShift) - 1;
  static constexpr unsigned kTabShift = 12;
  static constexpr uint64_t kTabMask = (uint64_t(1) << kTabShift) - 1;
  using NodeChunk = detail::Chunk<Node>;
  using TabChunk = detail::Chunk<detail::TabEntry>;

  const detail::TabEntry& entry(uint64_t i) const { return tchunks_[i >> kTabShift]->v()[i & kTabMask]; }
  static RRsetView view(const uint8_t* blob, const detail::SetHdr& s) {
    RRsetView v;
    v.type = s.type;
    v.count = s.count;
    v.ttl = s.ttl;
    v.data = blob + s.data_off;
    v.targets = s.target_off ? reinterpret_cast<const NodeId*>(blob + s.target_off) : nullptr;
    return v;
  }

  wire::Name origin_;
  uint32_t serial_ = 0;
  uint32_t soa_minimum_ = 0;
  mutable std::atomic<bool> expired_{false};
  size_t record_count_ = 0;
  uint16_t soa_index_ = 0;
  uint64_t gen_ = 0;
  size_t node_count_ = 0;
  NodeId free_head_ = kNoNode;   // unused slots, linked through next_sibling
  std::vector<NodeChunk*> nchunks_;              // flat, for reads
  std::vector<detail::Dir<NodeChunk>*> ndirs_;   // the same chunks, owned
  // Open addressing, linear probing, home slot = top bits of the hash
  // (detail::TabEntry).
  std::vector<TabChunk*> tchunks_;
  std::vector<detail::Dir<TabChunk>*> tdirs_;
  uint64_t mask_ = 0;
  unsigned shift_ = 64;
  size_t table_used_ = 0;
  // Node blobs live in append-only segments shared by snapshots, sorted by
  // address, with the bytes this snapshot still uses in each.
  std::vector<detail::Segment*> segs_;
  std::vector<size_t> seg_live_;
  detail::Segment* tail_ = nullptr;  // where this snapshot's successor appends
};

class ZoneSet {
 public:
  // A new set with `z` added or replacing the zone of the same origin.
  std::shared_ptr<const ZoneSet> with(std::shared_ptr<const Zone> z) const;
  // A new set without the zone of that origin (same set if absent).
  std::shared_ptr<const ZoneSet> without(const wire::Name& origin) const;
  // The zone with the longest origin that `name` is at or below, or null.
  const Zone* find(const wire::Name& name) const;
  // Same on a split lowercased name, starting at label `from` (e.g. 1 to
  // search from the parent, as DS queries do). No allocation.
  const Zone* find(const LowerName& name, size_t from = 0) const;
  size_t size() const { return zones_.size(); }
  // The zones, in no particular order.
  const std::vector<std::shared_ptr<const Zone>>& zones() const { return zones_; }

 private:
  void index();
  std::vector<std::shared_ptr<const Zone>> zones_;
  // Open addressing on name_hash(origin): index+1 into zones_, 0 = empty.
  std::vector<uint32_t> table_;
  uint8_t max_labels_ = 0;
};

}  // namespace ddns::zone
