// Applying ChangeSets to a snapshot: the next immutable Zone from a base
// and one or many changes (a group commit applies a whole batch at once).
#pragma once

#include <memory>
#include <span>

#include "base/result.h"
#include "zone/changeset.h"
#include "zone/zone.h"

namespace ddns::zone {

// The snapshot after `cs`. Every removed record must be in the zone (owner
// case-insensitive, type and exact rdata; its TTL is not compared, as IXFR
// peers differ there) and no added record may already be there. The SOA is
// replaced like any other record (removed old, added new). An added record
// sets the TTL of its whole RRset (RFC 2181 §5.2; update:: emits whole
// RRsets when a TTL changes). Errors say which record and why; the base is
// never touched.
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
