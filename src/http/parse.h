// Small HTTP text parsers the server and handlers share: percent-decoding,
// query strings, Basic credentials, cookies, X-Forwarded-For / Forwarded
// (RFC 7239) and trusted-proxy matching. Pure functions: fuzzed directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ddns::http {

// Percent-decodes `in` (RFC 3986 §2.1); with `plus_is_space`, '+' is a
// space (HTML form encoding). Bad escapes are kept literally.
std::string percent_decode(std::string_view in, bool plus_is_space);

// Splits a query string ("a=1&b=%20x") into decoded pairs, in order.
void parse_query(std::string_view query, std::vector<std::pair<std::string, std::string>>& out);

// The "user:password" of an Authorization header value "Basic BASE64"
// (RFC 7617 §2; scheme case-insensitive); nullopt when not Basic or malformed.
std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view value);

// The value of cookie `name` in a Cookie header value (RFC 6265 §5.4).
std::optional<std::string> find_cookie(std::string_view header, std::string_view name);

// The canonical text of an IPv4/IPv6 address ("[2001:db8::1]:80" and
// "192.0.2.1:80" forms accepted), or nullopt when it is not one.
std::optional<std::string> canonical_ip(std::string_view text);

// The client address that a chain of trusted proxies reports: walks the
// X-Forwarded-For list (or the Forwarded "for=" elements, RFC 7239 §5.2)
// from the right, skipping trusted proxies, and returns the first address
// that is not one. nullopt when the header holds no usable address.
class ProxyList;
std::optional<std::string> forwarded_client(std::string_view xff, std::string_view forwarded,
                                            const ProxyList& trusted);

// A set of networks ("192.0.2.1", "192.0.2.0/24", "2001:db8::/32").
class ProxyList {
 public:
  // false (and nothing added) when `spec` is not an address or network.
  bool add(std::string_view spec);
  bool contains(std::string_view ip) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    int family = 0;
    unsigned char addr[16] = {};
    unsigned prefix = 0;
  };
  std::vector<Net> nets_;
};

}  // namespace ddns::http
