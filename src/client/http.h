// A blocking HTTP(S) GET over libcurl for ddns-client: checkip pages and
// DynDNS2 updates. One request at a time, bounded time and body size.
#pragma once

#include <string>
#include <string_view>

namespace ddns::client {

struct HttpRequest {
  std::string url;
  std::string user, password;   // HTTP Basic when user is not empty
  std::string user_agent;
  int timeout_ms = 10000;       // whole transfer, connect included
  enum class Resolve { Any, V4, V6 } resolve = Resolve::Any;  // checkip per family
  std::string ca_file;          // extra CA bundle ("" = system default)
  bool insecure = false;        // skip TLS verification (tests only)
};

struct HttpResponse {
  bool transport_ok = false;    // a response was received
  bool timed_out = false;
  long status = 0;              // HTTP status when transport_ok
  std::string body;             // at most 64 KiB
  std::string error;            // curl's reason when !transport_ok
};

HttpResponse http_get(const HttpRequest& req);

// Percent-encodes a query value (RFC 3986 §2.1: unreserved kept).
std::string url_encode(std::string_view s);

}  // namespace ddns::client
