// Immutable zone snapshot: the tree of names and RRsets that queries read
// without locks, and ZoneSet, the set of zones served (deepest match wins).
// A snapshot is never changed after build(); the next version is a new one.
#pragma once

#include <cstdint>
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

// One RRset as stored: rdatas live contiguously in the zone's arena as
// [u16 length][rdata] entries. Valid as long as the Zone lives.
struct RRsetView {
  uint16_t type = 0;
  uint16_t count = 0;
  uint32_t ttl = 0;
  const uint8_t* data = nullptr;   // first [u16 len][rdata] entry
  // For NS/MX/SRV: per-rdata node id of the target name in this zone (or
  // kNoNode), precomputed for additional-section processing; else null.
  const NodeId* targets = nullptr;

  bool empty() const { return count == 0; }
};

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
  };

  struct Node {
    uint32_t name_off;     // lowercased wire name in the name arena
    uint8_t name_len;
    uint8_t labels;
    uint16_t flags;
    NodeId parent;         // kNoNode for the apex
    NodeId cut;            // topmost delegation at or above this node, or kNoNode
    uint32_t rrset_begin;
    uint16_t rrset_count;
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
  const wire::Name& origin() const { return origin_; }
  uint32_t serial() const { return serial_; }
  size_t record_count() const { return record_count_; }
  // All records in canonical order (for the zone writer, AXFR).
  std::vector<wire::RR> records() const;

  // --- Fast read API for the answer engine (no allocation) ---
  size_t node_count() const { return nodes_.size(); }
  NodeId apex() const { return 0; }
  const Node& node(NodeId id) const { return nodes_[id]; }
  std::span<const uint8_t> node_name(NodeId id) const {
    return {names_.data() + nodes_[id].name_off, nodes_[id].name_len};
  }
  // Exact match of a lowercased wire name (any name, below cuts too).
  NodeId find(const uint8_t* lower_wire, size_t len) const;
  NodeId find(const uint8_t* lower_wire, size_t len, uint64_t hash) const;
  // The RRset of `type` at a node, or an empty view.
  RRsetView rrset(NodeId id, uint16_t type) const;
  // The i-th RRset of a node (RRsets are sorted by type code).
  RRsetView rrset_at(NodeId id, size_t i) const;
  // Apex SOA (always present).
  RRsetView soa() const { return rrset_at(0, soa_index_); }
  uint32_t soa_minimum() const { return soa_minimum_; }

  // Memory held by the snapshot's arenas and tables, in bytes.
  size_t memory_usage() const;

  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;
  ~Zone() = default;

 private:
  Zone() = default;
  template <class Recs>
  static Result<std::shared_ptr<const Zone>> build_from(const wire::Name& origin, Recs& records);
  struct RRset {
    uint16_t type;
    uint16_t count;
    uint32_t ttl;
    uint32_t data_off;     // into rdata_
    uint32_t target_off;   // into targets_, or UINT32_MAX
  };
  NodeId insert_node(const uint8_t* lw, size_t len, uint64_t h, bool* created);
  void grow_table();
  RRsetView view(const RRset& s) const;

  wire::Name origin_;
  uint32_t serial_ = 0;
  uint32_t soa_minimum_ = 0;
  size_t record_count_ = 0;
  uint16_t soa_index_ = 0;
  std::vector<Node> nodes_;
  std::vector<uint8_t> names_;
  std::vector<RRset> rrsets_;
  std::vector<uint8_t> rdata_;
  std::vector<NodeId> targets_;
  // Open addressing, linear probing: (hash high 32 bits << 32) | node id;
  // 0 = empty (node ids are stored +1).
  std::vector<uint64_t> table_;
  uint64_t mask_ = 0;
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
