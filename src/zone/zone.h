// Immutable zone snapshot: the tree of names and RRsets that queries read
// without locks, and ZoneSet, the set of zones served (deepest match wins).
// A snapshot is never changed after build(); the next version is a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ddns::zone {

// (Owned by the auth/zone-tree work: extend freely; keep build() and the
// ZoneSet lookup contract.)
class Zone {
 public:
  // Builds a snapshot from records (any order). Records outside `origin`
  // are an error; semantic checks are the master-file checker's job.
  static Result<std::shared_ptr<const Zone>> build(const wire::Name& origin,
                                                   std::vector<wire::RR> records);
  const wire::Name& origin() const;
  uint32_t serial() const;
  size_t record_count() const;
  // All records in canonical order (for the zone writer, AXFR).
  std::vector<wire::RR> records() const;

  virtual ~Zone() = default;
};

class ZoneSet {
 public:
  // A new set with `z` added or replacing the zone of the same origin.
  std::shared_ptr<const ZoneSet> with(std::shared_ptr<const Zone> z) const;
  // The zone with the longest origin that `name` is at or below, or null.
  const Zone* find(const wire::Name& name) const;
  size_t size() const;
};

}  // namespace ddns::zone
