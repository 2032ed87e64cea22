// Name: a domain name held as uncompressed wire bytes (length-prefixed
// labels ending in the root label). Equality and hash ignore ASCII case
// (RFC 4343); canonical DNSSEC order (RFC 4034 §6.1) is a separate compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddns::wire {

inline constexpr size_t kMaxNameLength = 255;   // RFC 1035 §2.3.4, wire octets
inline constexpr size_t kMaxLabelLength = 63;

// Lowercases one ASCII octet; other octets are left alone (RFC 4343 §3).
inline uint8_t ascii_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

class Name {
 public:
  // The root name ".".
  Name();

  // Parses presentation format with RFC 1035 §5.1 escapes (\. and \DDD).
  // A name without a trailing dot is relative: `origin` is appended, and
  // when `origin` is null it is an error. "@" means the origin.
  static Result<Name> from_text(std::string_view text, const Name* origin = nullptr);

  // Takes uncompressed wire bytes; checks label and total limits.
  static Result<Name> from_wire(std::span<const uint8_t> wire);

  // Presentation format, absolute with trailing dot, escaping as needed.
  std::string to_text() const;

  std::span<const uint8_t> wire() const {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }
  size_t wire_size() const { return bytes_.size(); }
  // Number of labels not counting the root label ("." has 0).
  size_t label_count() const;
  bool is_root() const { return bytes_.size() == 1; }
  // True when the first label is "*".
  bool is_wildcard() const;

  // True when this name equals `parent` or lies below it.
  bool is_subdomain_of(const Name& parent) const;
  // This name without its first label; the root's parent is the root.
  Name parent() const;
  // The last `labels` labels of this name (labels <= label_count()).
  Name suffix(size_t labels) const;
  // `this` + `suffix` (this must be relative-usable: its root label is
  // dropped). Fails when the result is longer than 255 octets.
  Result<Name> concat(const Name& suffix) const;
  // "*." + this name.
  Result<Name> wildcard_child() const;
  Name lowercased() const;

  // Case-insensitive.
  bool operator==(const Name& o) const;
  bool operator!=(const Name& o) const { return !(*this == o); }
  size_t hash() const;
  // RFC 4034 §6.1 canonical order: <0, 0, >0.
  int canonical_compare(const Name& o) const;
  bool canonical_less(const Name& o) const { return canonical_compare(o) < 0; }

 private:
  explicit Name(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;  // wire bytes, never compressed
};

struct NameHash {
  size_t operator()(const Name& n) const { return n.hash(); }
};

}  // namespace ddns::wire

template <>
struct std::hash<ddns::wire::Name> {
  size_t operator()(const ddns::wire::Name& n) const { return n.hash(); }
};
