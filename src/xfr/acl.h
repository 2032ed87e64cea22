// Zone transfer access control (who may AXFR/IXFR a zone): source prefixes
// and TSIG key names from ZoneConfig::allow_transfer.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "wire/name.h"

namespace ddns::xfr {

// One allow-transfer entry. Text forms: "ADDR", "ADDR/LEN" (IPv4 or IPv6),
// "any", "key NAME" (any source with a valid TSIG of that key),
// "ADDR[/LEN] key NAME" (both), or a bare key name ("NAME", as the
// --allow-transfer ZONE=KEYNAME flag gives it).
struct AclEntry {
  uint8_t family = 0;  // 0 = any address, 4 or 6
  std::array<uint8_t, 16> addr{};
  uint8_t prefix_len = 0;
  std::optional<wire::Name> key;  // set: a valid TSIG with this key is required

  static Result<AclEntry> parse(std::string_view text);
  std::string to_text() const;
};

// An ordered list of entries; a request is allowed when any entry matches.
// An empty ACL allows nobody (RFC 5936 §6: transfers are restricted by
// default).
class Acl {
 public:
  static Result<Acl> parse(std::span<const std::string> entries);
  void add(AclEntry e) { entries_.push_back(std::move(e)); }

  // `source` is the client's socket address (null = unknown: only
  // address-less entries can match); `key` the name of the TSIG key the
  // request was verified with (null when unsigned or not verified).
  bool allows(const sockaddr* source, const wire::Name* key) const;

  bool empty() const { return entries_.empty(); }
  const std::vector<AclEntry>& entries() const { return entries_; }

 private:
  std::vector<AclEntry> entries_;
};

}  // namespace ddns::xfr
