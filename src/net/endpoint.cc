// Listener address parsing and printing (numeric IPv4/IPv6 only).
#include "net/endpoint.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ddns::net {

uint16_t Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

void Endpoint::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
}

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "(unknown address family)";
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint e;
  if (len > sizeof e.addr) len = sizeof e.addr;
  std::memcpy(&e.addr, sa, len);
  e.len = len;
  return e;
}

Result<Endpoint> Endpoint::parse(std::string_view spec) {
  std::string host;
  std::string_view port;
  bool v6 = false;
  if (!spec.empty() && spec.front() == '[') {
    size_t close = spec.find(']');
    if (close == std::string_view::npos || close + 1 >= spec.size() || spec[close + 1] != ':')
      return make_error("'" + std::string(spec) + "': IPv6 addresses are written [addr]:port");
    host = std::string(spec.substr(1, close - 1));
    port = spec.substr(close + 2);
    v6 = true;
  } else {
    size_t colon = spec.rfind(':');
    if (colon == std::string_view::npos)
      return make_error("'" + std::string(spec) + "': expected host:port");
    host = std::string(spec.substr(0, colon));
    port = spec.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return make_error("'" + std::string(spec) + "': bad port");
  Endpoint e;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
    s6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) != 1)
      return make_error("'" + std::string(spec) + "': not a numeric IPv6 address");
    e.len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&e.addr);
    s4->sin_family = AF_INET;
    if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) != 1)
      return make_error("'" + std::string(spec) + "': not a numeric IPv4 address");
    e.len = sizeof(sockaddr_in);
  }
  e.set_port(uint16_t(p));
  return e;
}

}  // namespace ddns::net
