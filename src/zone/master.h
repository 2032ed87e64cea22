// Master file reader (RFC 1035 §5, RFC 2308 $TTL, BIND/Knot extensions):
// a hand-written lexer over one buffer per file, so errors say FILE:LINE and
// a million-host zone loads in well under Knot's time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wire/message.h"
#include "wire/name.h"

namespace ddns::zone {

// One error or warning, with the file and line it was found at. A line of
// 0 means "the whole zone" (e.g. "no SOA record").
struct Diagnostic {
  std::string file;
  size_t line = 0;
  std::string message;

  // "FILE:LINE: message" (or "FILE: message" when line is 0).
  std::string to_string() const;
};

// Where a record came from: index into ParseResult::files, and the line its
// entry starts on.
struct SourceLine {
  uint32_t file = 0;
  uint32_t line = 0;
};

struct ParseOptions {
  uint16_t rclass = 1;              // the zone's class; others are refused
  size_t max_errors = 50;           // stop collecting after this many
  bool allow_include = true;        // $INCLUDE (off for fuzzing, untrusted text)
  size_t max_include_depth = 16;    // nested $INCLUDE limit (also stops loops)
  uint32_t max_generate = 65536;    // records one $GENERATE may produce
  bool strict = false;              // load_zone_*: every warning refuses the zone
};

struct ParseResult {
  std::vector<wire::RR> records;    // in file order
  std::vector<SourceLine> where;    // parallel to records
  std::vector<std::string> files;   // files[0] is the top file
  std::vector<Diagnostic> errors, warnings;
  bool too_many_errors = false;     // parsing stopped at max_errors

  bool ok() const { return errors.empty(); }
  // "FILE:LINE" of records[i], for checks that report on a record.
  Diagnostic at(size_t i, std::string message) const;
};

// Records kept compactly for a big load: each distinct owner once (as a
// Name), per record a 20-byte entry, and all rdata in one arena. A million-
// host zone takes about half the memory of a std::vector<wire::RR> and no
// per-record heap block.
struct RecordStore {
  struct Rec {
    uint32_t owner;       // index into owners
    uint32_t rdata_off;   // into rdata
    uint32_t ttl;
    uint16_t type;
    uint16_t rclass;
    uint16_t rdata_len;
  };
  std::vector<wire::Name> owners;
  std::vector<Rec> recs;
  std::vector<uint8_t> rdata;

  size_t size() const { return recs.size(); }
  const wire::Name& owner(size_t i) const { return owners[recs[i].owner]; }
  std::span<const uint8_t> rdata_of(size_t i) const {
    return {rdata.data() + recs[i].rdata_off, recs[i].rdata_len};
  }
  // Appends a record; an owner equal (octet for octet) to the last one
  // added shares its entry. Rdata longer than 65535 octets is refused.
  bool add(const wire::Name& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
           std::span<const uint8_t> rd);
  // Converts to / from the plain form (tests, small zones).
  std::vector<wire::RR> to_rrs() const;
};

// Reads a master file. `origin` is the initial $ORIGIN (the zone apex).
// $INCLUDE paths are relative to the directory of the including file.
// Never throws on bad input; every problem becomes a Diagnostic. A result
// with errors must be refused whole.
ParseResult parse_master_file(const std::string& path, const wire::Name& origin,
                              const ParseOptions& opts = {});

// Streaming variant for loading large zones: records go into `out`
// (appended) instead of the result's `records`; `where` stays parallel to
// out.recs. Diagnostics and files are as parse_master_file gives them.
ParseResult parse_master_file(const std::string& path, const wire::Name& origin,
                              RecordStore& out, const ParseOptions& opts = {});

// Same, from text in memory; `file_label` names it in diagnostics and is the
// base for relative $INCLUDE paths.
ParseResult parse_master_text(std::string_view text, std::string file_label,
                              const wire::Name& origin, const ParseOptions& opts = {});

// Parses a TTL: plain seconds or units ("1h30m", "2W", "1d"), case-
// insensitive, up to 2^32-1. Empty optional on a malformed value.
bool parse_ttl(std::string_view text, uint32_t& out);

}  // namespace ddns::zone
