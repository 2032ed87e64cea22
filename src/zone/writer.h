// Master file printer: a zone's records as a file that BIND, Knot, NSD and
// our own reader load unchanged ($ORIGIN/$TTL, SOA first, canonical order).
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "base/result.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ddns::zone {

struct WriteOptions {
  // Owner names at or below the origin as "@" / relative labels; rdata
  // names are always absolute (never ambiguous).
  bool relative_owners = true;
  // A "; comment" header line naming the zone and record count.
  bool header_comment = true;
};

// Writes `records` (any order) as a master file: "$ORIGIN origin", "$TTL"
// (the SOA's TTL), then the apex SOA, then names in RFC 4034 §6.1 canonical
// order, within a name by type (record order kept inside an RRset). One RR
// per line: owner, explicit TTL, class, type, rdata.
void write_master(std::ostream& out, const wire::Name& origin,
                  std::span<const wire::RR> records, const WriteOptions& opts = {});

// Same, as a string.
std::string master_text(const wire::Name& origin, std::span<const wire::RR> records,
                        const WriteOptions& opts = {});

// Writes to `path` atomically (a temporary file beside it, fsync, rename).
Result<void> write_master_file(const std::string& path, const wire::Name& origin,
                               std::span<const wire::RR> records,
                               const WriteOptions& opts = {});

}  // namespace ddns::zone
