// RFC 2136 dynamic update, the pure logic: zone section, prerequisites,
// permission hook, prescan and update processing of an UPDATE message
// against a zone snapshot, resolved into a concrete ChangeSet. No I/O, no
// threads: the zone's writer feeds messages in and commits the ChangeSets.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "wire/message.h"
#include "wire/name.h"
#include "zone/changeset.h"
#include "zone/serial.h"
#include "zone/zone.h"

namespace ddns::update {

// RFC 2136 §3.1: the zone section. FORMERR unless ZOCOUNT is 1 and ZTYPE
// is SOA; NOTAUTH unless `served(zname, zclass)` says this server is the
// primary for that zone (a secondary answers NOTAUTH too: we do not
// forward, RFC 2136 §6). On NoError, `zone` names the zone.
struct ZoneCheck {
  wire::Rcode rcode = wire::Rcode::NoError;
  wire::Name zone;
  uint16_t zclass = 1;
};
using ServedFn = std::function<bool(const wire::Name& zname, uint16_t zclass)>;
ZoneCheck check_zone_section(const wire::Message& msg, const ServedFn& served);

// RFC 2136 §3.3: may the requester change `type` at `owner`? Called once
// per update RR after the prerequisites passed; a delete of all RRsets at a
// name (ANY/ANY) asks once per type present there (as BIND's
// update-policy does). Null = refuse everything.
using AllowedFn = std::function<bool(const wire::Name& owner, uint16_t type)>;

struct Options {
  zone::SerialPolicy serial_policy = zone::SerialPolicy::Increment;
  int64_t now = 0;  // unix seconds, for the unixtime/dateserial policies
  // An add that would grow an RRset past this many records is REFUSED and
  // the whole message fails (BIND's max-records-per-type, CVE-2024-1737).
  // 0 = only the snapshot's hard limit of 65535.
  uint32_t max_records_per_type = 0;
};

struct Outcome {
  wire::Rcode rcode = wire::Rcode::NoError;
  // NoError only: what the update changed, resolved against the zone
  // (removed starts with the old SOA, added with the new one). Empty when
  // the update changed nothing (no serial bump, RFC 2136 §3.6).
  zone::ChangeSet changes;
  std::string reason;  // why a non-NoError rcode was given, for the log
};

// The state of one zone as seen by a run of updates: the snapshot plus
// the changes accepted so far that are not yet in a snapshot. A zone's
// writer drains its queue into one Batch: every message is processed
// against the result of the ones before it (RFC 2136 §3.7: as if
// serialised), then commits changes() in one journal write and builds one
// snapshot with zone::apply(base, changes()) - group commit.
class Batch {
 public:
  // REQUIRES: base non-null.
  Batch(std::shared_ptr<const zone::Zone> base, Options options);

  // Processes one UPDATE message (opcode is the caller's: it routed it
  // here). All or nothing: a failing prerequisite, prescan or permission
  // leaves the batch as it was. The zone section must name this batch's
  // zone (else NOTAUTH); call check_zone_section() first to route.
  Outcome process(const wire::Message& msg, const AllowedFn& allowed);

  const std::shared_ptr<const zone::Zone>& base() const { return base_; }
  // Non-empty ChangeSets accepted so far, in order; each one's serial_from
  // is the previous one's serial_to.
  const std::vector<zone::ChangeSet>& changes() const { return changes_; }
  uint32_t serial() const { return serial_; }
  // The snapshot holding everything accepted so far: zone::apply(base(),
  // changes()), or base() itself when nothing changed.
  Result<std::shared_ptr<const zone::Zone>> snapshot() const;

  // One RRset of the pending state (rdata as stored, in stored order).
  struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<wire::Bytes> rdatas;
  };
  using Node = std::vector<RRset>;  // sorted by type
  // The RRsets at `owner` as base + pending changes (empty = name not in use).
  Node node(const wire::Name& owner) const;

  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

 private:
  using NodeMap = std::unordered_map<wire::Name, Node, wire::NameHash>;
  // An RRset named by value-dependent prerequisites (RFC 2136 §2.4.2).
  struct ValueRRset {
    wire::Name owner;
    uint16_t type = 0;
    std::vector<wire::Bytes> rdatas;
  };
  const Node* lookup(const NodeMap& work, const wire::Name& owner, Node& scratch) const;
  Node& touch(NodeMap& work, const wire::Name& owner) const;
  // The steps of process(), named after RFC 2136; each returns NoError to
  // go on, or the Outcome that ends the message.
  Outcome prerequisites(const wire::Message& msg) const;                      // §3.2
  Outcome value_prerequisites(const std::vector<ValueRRset>& temp) const;    // §3.2.5
  Outcome prescan(const wire::Message& msg) const;                           // §3.4.1
  Outcome permissions(const wire::Message& msg, const AllowedFn& allowed) const;  // §3.3
  Outcome update(const wire::Message& msg, NodeMap& work, bool& soa_changed) const;  // §3.4.2
  Outcome add(Node& n, const wire::RR& rr, bool apex, bool& soa_changed) const;  // §3.4.2.2
  zone::ChangeSet diff(const NodeMap& work) const;
  Outcome commit(NodeMap& work, bool soa_changed);  // §3.6 serial, then pending state

  std::shared_ptr<const zone::Zone> base_;
  Options options_;
  uint32_t serial_;
  NodeMap pending_;  // owners changed since base_ (key lowercased)
  std::vector<zone::ChangeSet> changes_;
};

// Processes one message against a snapshot (a batch of one).
Outcome process(std::shared_ptr<const zone::Zone> zone, const wire::Message& msg,
                const AllowedFn& allowed, const Options& options);

}  // namespace ddns::update
