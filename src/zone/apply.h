// Applying ChangeSets to a snapshot: the next immutable Zone from a base
// and one or many changes (a group commit applies a whole batch at once).
#pragma once

#include <memory>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "zone/changeset.h"
#include "zone/zone.h"

namespace ddns::zone {

// THE rule for applying a ChangeSet, the same for every change source (the
// writer's RFC 2136 / DynDNS2 / REST commits, an incoming IXFR, journal
// replay in store::apply_changes): a ChangeSet is an exact difference.
//  - its serial_from is the serial it applies to (RFC 1995 §4 chaining);
//  - every removed record is in the zone and every added record is not yet
//    there (after the removals), records compared by same_record();
//  - an added record sets the TTL of its whole RRset (RFC 2181 §5.2).
// Leniency belongs to the source, before a ChangeSet exists: RFC 2136
// §3.4.2 makes deleting an absent RR a no-op, so update:: resolves each
// UPDATE against the zone into an exact ChangeSet. For IXFR (RFC 1995) a
// difference that does not fit means the secondary's copy diverged: the
// caller fails it and falls back to AXFR.
//
// Records are the same record when owner (without case), type and rdata in
// canonical form (RFC 4034 §6.2: names inside rdata without case) match;
// TTL and class are not compared (IXFR peers differ on TTL of removals).
bool same_rdata(uint16_t type, std::span<const uint8_t> a, std::span<const uint8_t> b);

// The snapshot after `cs`, by the rule above. The SOA is replaced like any
// other record (removed old, added new). Errors say which record and why;
// the base is never touched.
//
// Cost: O(records changed) plus a copy of the touched node/table chunks and
// a per-snapshot copy of the chunk pointer lists (about 1 per 512 nodes):
// the result shares everything else with `base` (Zone::replace_owners).
// The result equals Zone::build of the changed record list.
Result<std::shared_ptr<const Zone>> apply(const Zone& base, const ChangeSet& cs);

// The snapshot after all of `batch`, applied in order (each against the
// result of the previous ones), as one new snapshot. Call it qualified
// (zone::apply): with a std::vector or std::span argument an unqualified
// call also finds std::apply by argument-dependent lookup. All or nothing: any
// bad ChangeSet fails the whole batch.
Result<std::shared_ptr<const Zone>> apply(const Zone& base, std::span<const ChangeSet> batch);

}  // namespace ddns::zone
