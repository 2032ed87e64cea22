// Semantic checks that decide whether a parsed zone may be served (SOA, NS,
// CNAME rules, out-of-zone data, class), warnings for occluded data and
// missing glue, and the shared `check-zone` command behind ddnsctl/ddnsd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "wire/message.h"
#include "wire/name.h"
#include "zone/master.h"
#include "zone/zone.h"

namespace ddns::zone {

struct CheckOptions {
  uint16_t rclass = 1;           // every record must be of this class
  size_t max_diagnostics = 100;  // errors and warnings each, then a summary
  bool strict = false;           // every warning is an error (--strict, strict:)
};

struct CheckResult {
  std::vector<Diagnostic> errors;    // any error: the zone is refused whole
  std::vector<Diagnostic> warnings;
  uint32_t serial = 0;               // of the apex SOA, when there is one
  size_t duplicates_removed = 0;     // exact duplicates dropped (like BIND/Knot)
  size_t ttl_adjusted = 0;           // records whose TTL was set to their RRset's first
  size_t out_of_zone_ignored = 0;    // records outside the origin, dropped (like BIND/Knot)

  bool ok() const { return errors.empty(); }
};

// Checks one zone's records. Removes exact duplicates (same owner, type
// and canonical rdata) and makes each RRset's TTL that of its first record
// (RFC 2181 §5.2, with a warning), keeping `where` parallel.
// Errors (the zone must be refused): no SOA or more than one at the apex;
// SOA elsewhere; no NS at the apex; CNAME beside other data or more than
// one CNAME at a name (RFC 1034 §3.6.2; RRSIG/NSEC allowed); a record of
// another class; an apex NS whose in-zone target has no address (like BIND).
// Warnings (the zone loads, as in BIND and Knot): data outside `origin`,
// which is dropped; a delegation NS whose in-zone target has no address;
// data occluded by a delegation (other than glue) or by a DNAME; missing
// glue for an NS target below a delegation. With opts.strict every
// warning is an error instead.
// Diagnostics carry FILE:LINE from `where`/`files` when given.
CheckResult check_zone(const wire::Name& origin, std::vector<wire::RR>& records,
                       std::vector<SourceLine>* where = nullptr,
                       const std::vector<std::string>* files = nullptr,
                       const CheckOptions& opts = {});

// Same rules on the parser's compact store (the large-zone load path).
CheckResult check_zone(const wire::Name& origin, RecordStore& records,
                       std::vector<SourceLine>* where = nullptr,
                       const std::vector<std::string>* files = nullptr,
                       const CheckOptions& opts = {});

// Convenience: checks a ParseResult in place (records and where).
CheckResult check_zone(const wire::Name& origin, ParseResult& parsed,
                       const CheckOptions& opts = {});

// A zone file read and checked: what the server loads.
struct LoadedZone {
  std::vector<wire::RR> records;     // deduplicated, file order
  std::vector<Diagnostic> errors, warnings;
  uint32_t serial = 0;

  bool ok() const { return errors.empty(); }
};

// parse_master_file + check_zone. Records are kept only when ok().
LoadedZone load_zone_file(const std::string& path, const wire::Name& origin,
                          const ParseOptions& opts = {});

// A zone file read, checked and built into the served tree: what ddnsd does
// at start-up and reload. Streams records into a compact store instead of a
// std::vector<wire::RR>, so a million-host zone peaks at well under half
// the memory of load_zone_file + Zone::build. Same diagnostics as those
// two (a build error becomes an error with line 0).
struct LoadedTree {
  std::shared_ptr<const Zone> zone;  // null when refused
  std::vector<Diagnostic> errors, warnings;
  uint32_t serial = 0;
  size_t records = 0;                // records loaded (after deduplication)

  bool ok() const { return zone != nullptr && errors.empty(); }
};
LoadedTree load_zone_tree(const std::string& path, const wire::Name& origin,
                          const ParseOptions& opts = {});

// `check-zone ORIGIN FILE` as named-checkzone does it: warnings and errors
// as "FILE:LINE: message" on `err`, then on `out`
// "OK: ORIGIN loaded serial N (R records)". Returns the exit status:
// 0 loaded, 1 refused (or bad ORIGIN / unreadable file). `strict`: any
// warning refuses the zone.
int run_check_zone(const std::string& origin, const std::string& path, std::ostream& out,
                   std::ostream& err, bool strict = false);

}  // namespace ddns::zone
