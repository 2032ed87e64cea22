// A small YAML reader for ddns-client's config: the block subset that
// config files use (mappings, sequences, plain and quoted scalars, flow
// sequences of scalars, comments), every node tagged with its line so
// errors can say "FILE:LINE: key: reason".
//
// Why not yaml-cpp: the client layer links wire, tsig and libcurl only
// (CMakeLists.txt), and the client must stay a small static binary. Adding
// `yaml-cpp` to the client layer's LIBS would let this be swapped out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace ddns::client::yaml {

struct Node {
  struct Entry;  // key + value; a vector of an incomplete type is fine, a pair is not
  enum class Kind { Null, Scalar, Map, Seq };
  Kind kind = Kind::Null;
  int line = 0;                                   // 1-based line it starts on
  bool quoted = false;                            // scalar was quoted
  std::string scalar;                             // Kind::Scalar
  std::vector<Entry> map;                         // Kind::Map, in file order
  std::vector<Node> seq;                          // Kind::Seq

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_map() const { return kind == Kind::Map; }
  bool is_seq() const { return kind == Kind::Seq; }
  // The value of `key` in a mapping, or null when absent / not a mapping.
  const Node* find(std::string_view key) const;
};

struct Node::Entry {
  std::string key;
  Node value;
};

// Parses one document. Errors read "<file>:<line>: <reason>". Refuses what
// it does not understand (anchors, aliases, tags, block scalars, multi-line
// flow, tabs in indentation, duplicate keys) rather than guessing. Nesting
// is bounded (64 levels), so hostile input cannot exhaust the stack.
Result<Node> parse(std::string_view text, std::string_view file = "<input>");

}  // namespace ddns::client::yaml
