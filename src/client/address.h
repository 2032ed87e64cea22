// Addresses for ddns-client: IPv4/IPv6 values, which ones are worth
// publishing (RFC 6890 special-purpose ranges), finding one in a checkip
// page or a command's output, and reading a local interface's addresses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ddns::client {

enum class Family : uint8_t { V4, V6 };
std::string_view family_text(Family f);  // "IPv4" / "IPv6"

struct IpAddr {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // first 4 used for IPv4

  static std::optional<IpAddr> parse(std::string_view text);  // inet_pton rules
  std::string text() const;  // inet_ntop form
  bool operator==(const IpAddr& o) const;
};

// Where an address is worth publishing in DNS.
enum class Scope : uint8_t {
  Global,
  Private,     // RFC 1918, RFC 6598 CGNAT, RFC 4193 ULA: only on request
  Unusable,    // loopback, link-local, unspecified, multicast, documentation
               // is NOT here (tests and examples use 192.0.2.0/24)
};
Scope scope_of(const IpAddr& a);

// Finds an address of `family` in `text` (a checkip page, a command's
// output). `pattern` empty: the first token that parses as such an address
// (the usual "Current IP Address: 192.0.2.1" page). Otherwise `pattern` is
// literal text containing "{ip}": the text before {ip} is searched for
// (ASCII case-insensitive), the address must follow it immediately, and the
// text after {ip} (if any) must follow the address. Never reads past
// `text`; bounded work (each offset visited a bounded number of times).
std::optional<IpAddr> extract_address(std::string_view text, Family family,
                                      std::string_view pattern = {});
// Checks a pattern once at config time: empty, or exactly one "{ip}".
Result<void> check_pattern(std::string_view pattern);

struct InterfaceOptions {
  std::string name;              // "" or "*" = any interface
  bool allow_private = false;    // take Scope::Private addresses too
  bool allow_temporary = false;  // IPv6 temporary (RFC 8981) / deprecated
};
// The addresses of `family` on the interface(s), best first: global before
// private, stable before temporary; loopback/link-local never. IPv6 flags
// come from /proc/net/if_inet6 (IFA_F_TEMPORARY, IFA_F_DEPRECATED,
// IFA_F_TENTATIVE), falling back to getifaddrs(). An empty list when none
// qualifies; an Error only when the interfaces cannot be read or `name`
// does not exist.
Result<std::vector<IpAddr>> interface_addresses(Family family, const InterfaceOptions& opts);

// Runs `command` with /bin/sh -c, returns its stdout (at most `max_bytes`).
// Killed after `timeout_ms`. Fails on spawn errors, a timeout or a non-zero
// exit status.
Result<std::string> run_command(const std::string& command, int timeout_ms,
                                size_t max_bytes = 65536);

}  // namespace ddns::client
