// Update policy: who may change what in a zone, as ordered grant/deny
// rules in the spirit of BIND's update-policy and Knot's ACL actions.
// Pure data and matching; the server binds (key, source) into an
// update::AllowedFn per request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "update/update.h"
#include "wire/name.h"

namespace ddns::update {

// An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is held as
// IPv4 so that v4 prefixes match it (a dual-stack socket reports those).
struct Address {
  uint8_t family = 0;  // 0 none, 4, 6
  std::array<uint8_t, 16> bytes{};

  static std::optional<Address> from_text(std::string_view text);
  static Address v4(const uint8_t b[4]);
  static Address v6(const uint8_t b[16]);
};

// A CIDR prefix: "192.0.2.0/24", "2001:db8::/32", or a bare address.
struct Prefix {
  Address addr;
  uint8_t length = 0;

  static std::optional<Prefix> from_text(std::string_view text);
  bool contains(const Address& a) const;
};

struct PolicyRule {
  enum class Identity : uint8_t {
    Key,      // the TSIG key named `key` (a "*.x" name: any key below x)
    AnyKey,   // "*": any valid TSIG key
    Anyone,   // "any": signed or not (use with source prefixes)
  };
  // What the owner name of an update RR is matched against.
  enum class Match : uint8_t {
    Name,       // owner == name
    Subdomain,  // owner at or below name
    Wildcard,   // name is "*.x": owner strictly below x (RFC 4592 matching)
    Self,       // owner == key name
    SelfSub,    // owner at or below the key name
    ZoneSub,    // owner anywhere in the zone (no name given)
  };

  bool grant = true;
  Identity identity = Identity::Key;
  wire::Name key;
  Match match = Match::Name;
  wire::Name name;
  // Empty: every type except RRSIG, NS, SOA, NSEC, NSEC3 (BIND's default).
  // "ANY" listed: every type except NSEC, NSEC3 (as BIND).
  std::vector<uint16_t> types;
  bool any_type = false;
  std::vector<Prefix> sources;  // empty: any source
};

class Policy {
 public:
  // Text form, one rule per line or ';'-separated, '#' starts a comment:
  //   (grant|deny) IDENTITY MATCH [NAME] [TYPE...] [from PREFIX[,PREFIX]...]
  // IDENTITY: a key name, "*" (any key) or "any" (anyone);
  // MATCH: name | subdomain | wildcard | self | selfsub | zonesub (zonesub
  // and self/selfsub take no NAME; BIND's "self NAME" form is accepted and
  // the NAME ignored). Names are absolute with or without the final dot
  // (as in named.conf); "@" stands for `zone`.
  //   grant key1 subdomain dyn.example.test A AAAA TXT
  //   grant * self A AAAA
  //   deny any zonesub from 192.0.2.0/24, 2001:db8::/32
  // Errors name the rule's line and the token.
  static Result<Policy> parse(std::string_view text, const wire::Name& zone);

  Policy() = default;
  explicit Policy(wire::Name zone, std::vector<PolicyRule> rules = {})
      : zone_(std::move(zone)), rules_(std::move(rules)) {}

  // First matching rule decides; no match (or no rules) refuses.
  // `key` is the verified TSIG key name, or null for an unsigned request;
  // `source` may be null when unknown (then rules with prefixes never match).
  bool allowed(const wire::Name* key, const Address* source, const wire::Name& owner,
               uint16_t type) const;

  // The §3.3 hook for one request: allowed() with this key and source
  // bound. The Policy must outlive the returned function.
  AllowedFn bind(std::optional<wire::Name> key, std::optional<Address> source) const;

  const std::vector<PolicyRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

 private:
  wire::Name zone_;
  std::vector<PolicyRule> rules_;
};

}  // namespace ddns::update
