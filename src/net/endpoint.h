// Socket addresses for listeners: "127.0.0.1:53" / "[::1]:53" parsed into a
// sockaddr (numeric only: nothing here resolves names), and back to text.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ddns::net {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;

  int family() const { return addr.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  // "127.0.0.1:53" or "[::1]:53".
  std::string to_string() const;

  static Result<Endpoint> parse(std::string_view spec);
  static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len);
};

}  // namespace ddns::net
