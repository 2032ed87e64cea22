// Name: a domain name held as uncompressed wire bytes (length-prefixed
// labels ending in the root label). Equality and hash ignore ASCII case
// (RFC 4343); canonical DNSSEC order (RFC 4034 §6.1) is a separate compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
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

  std::span<const uint8_t> wire() const { return {data(), size_}; }
  size_t wire_size() const { return size_; }
  // Number of labels not counting the root label ("." has 0).
  size_t label_count() const;
  // The octets of label `i` (0 = leftmost), without its length octet.
  // REQUIRES: i < label_count().
  std::span<const uint8_t> label(size_t i) const;
  bool is_root() const { return size_ == 1; }
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

  Name(const Name& o);
  Name(Name&& o) noexcept;
  Name& operator=(const Name& o);
  Name& operator=(Name&& o) noexcept;
  ~Name();

  // Builds a name from wire bytes the caller has already checked (labels
  // <= 63, total <= 255, ends in the root label). For codecs that validate
  // while they copy; everyone else uses from_wire().
  static Name from_checked_wire(const uint8_t* wire, size_t size);

 private:
  // Small-buffer storage: names up to kInline octets (nearly all of them)
  // live inside the object, so copying a Name on the query path or storing
  // a million of them in a zone costs no allocation. Longer ones go to the
  // heap; the pointer is kept in the first bytes of buf_.
  static constexpr size_t kInline = 47;
  bool on_heap() const { return size_ > kInline; }
  const uint8_t* data() const { return on_heap() ? heap() : buf_; }
  uint8_t* mutable_data() { return on_heap() ? heap() : buf_; }
  uint8_t* heap() const {
    uint8_t* p;
    std::memcpy(&p, buf_, sizeof p);
    return p;
  }
  void assign(const uint8_t* wire, size_t size);
  void release();

  alignas(8) uint8_t buf_[kInline];
  uint8_t size_;  // wire octets, 1..255
};

// Reads one possibly compressed name from a message at the reader's
// position (RFC 1035 §4.1.4). Pointers must point strictly backwards (so
// they cannot loop); the expanded name is limited to 255 octets; the reader
// ends just past the name's bytes at the original position. With
// allow_compression false a pointer is an error (RFC 3597 §4 / RFC 4034:
// names in newer types are never compressed). Error messages start with
// "name: ".
Result<Name> read_compressed_name(ByteReader& msg, bool allow_compression = true);

// The inline buffer plus the size octet fill exactly six words.
static_assert(sizeof(Name) == 48);

struct NameHash {
  size_t operator()(const Name& n) const { return n.hash(); }
};

}  // namespace ddns::wire

template <>
struct std::hash<ddns::wire::Name> {
  size_t operator()(const ddns::wire::Name& n) const { return n.hash(); }
};
