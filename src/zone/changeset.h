// ChangeSet: one change to one zone, as concrete records removed and added
// (the RFC 1995 IXFR difference form). Every change source (RFC 2136,
// DynDNS2, REST, ddnsctl, incoming IXFR) is reduced to this before it reaches
// the zone's writer, the journal and the next snapshot.
#pragma once

#include <cstdint>
#include <vector>

#include "wire/message.h"
#include "wire/name.h"

namespace ddns::zone {

struct ChangeSet {
  wire::Name origin;
  uint32_t serial_from = 0;  // SOA serial of the snapshot this applies to
  uint32_t serial_to = 0;    // SOA serial after it
  // Records as stored (owner, type, class, TTL, rdata). `removed` starts
  // with the old SOA and `added` with the new SOA, as in an IXFR
  // difference sequence (RFC 1995 §4).
  std::vector<wire::RR> removed;
  std::vector<wire::RR> added;

  bool empty() const { return removed.empty() && added.empty(); }
};

}  // namespace ddns::zone
