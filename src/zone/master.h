// Master file reader (RFC 1035 §5, RFC 2308 $TTL, BIND/Knot extensions):
// a hand-written lexer over one buffer per file, so errors say FILE:LINE and
// a million-host zone loads in well under Knot's time.
#pragma once

#include <cstddef>
#include <cstdint>
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

// Reads a master file. `origin` is the initial $ORIGIN (the zone apex).
// $INCLUDE paths are relative to the directory of the including file.
// Never throws on bad input; every problem becomes a Diagnostic. A result
// with errors must be refused whole.
ParseResult parse_master_file(const std::string& path, const wire::Name& origin,
                              const ParseOptions& opts = {});

// Same, from text in memory; `file_label` names it in diagnostics and is the
// base for relative $INCLUDE paths.
ParseResult parse_master_text(std::string_view text, std::string file_label,
                              const wire::Name& origin, const ParseOptions& opts = {});

// Parses a TTL: plain seconds or units ("1h30m", "2W", "1d"), case-
// insensitive, up to 2^32-1. Empty optional on a malformed value.
bool parse_ttl(std::string_view text, uint32_t& out);

}  // namespace ddns::zone
