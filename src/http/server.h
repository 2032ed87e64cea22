// The HTTP(S) front end for DynDNS2, the REST API and the web page: Boost.Beast
// on Asio, keep-alive, optional TLS (OpenSSL), trusted-proxy client address.
// It knows nothing about DNS: requests go to handlers registered on a Router,
// and a handler may answer later from any thread (after a durable commit).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/endpoint.h"

namespace ddns::http {

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/nic/update?hostname=a&myip=1.2.3.4"
  std::string path;     // percent-decoded path without the query: "/nic/update"
  // Query parameters, percent-decoded ('+' = space), in order; repeated keys kept.
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  // The client's address as text ("192.0.2.1", "2001:db8::1"): the peer's,
  // or the X-Forwarded-For / Forwarded one when the peer is a trusted proxy.
  std::string client_ip;
  std::string peer_ip;  // the TCP peer, always
  bool tls = false;

  // First value of a query parameter / header (name lowercase), if present.
  std::optional<std::string_view> param(std::string_view key) const;
  std::optional<std::string_view> header(std::string_view lower_name) const;
  // HTTP Basic credentials (RFC 7617), if an Authorization: Basic header
  // decodes to "user:password".
  std::optional<std::pair<std::string, std::string>> basic_auth() const;
  // The value of cookie `name`, if sent.
  std::optional<std::string> cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;

  static Response text(int status, std::string body);
  static Response json(int status, std::string body);  // application/json
};

// Calls the reply function exactly once, from any thread.
using Reply = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Reply)>;

class Router {
 public:
  // `path` matches exactly; a path ending in '/' (e.g. "/api/hosts/")
  // matches every path below it too. Longest match wins. `method` "*" = any.
  void add(std::string method, std::string path, Handler h);
  // The handler for a request, or null (the server answers 404/405).
  const Handler* find(std::string_view method, std::string_view path, bool* method_mismatch) const;

 private:
  struct Route {
    std::string method, path;
    Handler handler;
  };
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::vector<net::Endpoint> listen;  // port 0 = pick one
  unsigned threads = 1;
  std::string tls_cert, tls_key;      // both set = TLS on every listener
  // Peers ("ADDR" or "ADDR/LEN") whose X-Forwarded-For / Forwarded is believed.
  std::vector<std::string> trusted_proxies;
  uint32_t idle_timeout_ms = 60000;   // keep-alive connections closed after this
  size_t max_body = 64 * 1024;        // larger requests get 413
  uint32_t max_connections = 10000;
};

class Server {
 public:
  Server(ServerOptions opts, std::shared_ptr<const Router> router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener (and loads the TLS certificate); errors name the
  // address or file.
  Result<void> open();
  const std::vector<net::Endpoint>& bound() const;
  void start();  // starts the I/O threads
  void stop();   // closes listeners and connections, joins. Idempotent.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddns::http
