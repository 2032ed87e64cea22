// http::Server: HTTP/1.1 on Boost.Beast + Asio. N threads run one
// io_context; every connection is its own strand, so a handler's late reply
// (posted from a writer thread) never races the connection's own I/O.
#include "http/server.h"

// Asio's SSL stream uses std::atomic_thread_fence, which GCC 12 flags under
// -fsanitize=thread (-Wtsan, an error with -Werror). TSan cannot model the
// fence, but the strand serializes those operations anyway.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <atomic>
#include <cstring>
#include <chrono>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "base/thread_annotations.h"
#include "http/parse.h"
#include "metrics/metrics.h"

namespace ddns::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);

std::string addr_text(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

tcp::endpoint to_asio(const net::Endpoint& e) {
  tcp::endpoint ep;
  std::memcpy(ep.data(), &e.addr, e.len);
  ep.resize(e.len);
  return ep;
}

}  // namespace

// Everything the connections share. Connections hold it by shared_ptr, so
// the io_context outlives every socket even when a late Reply keeps a
// connection alive after stop().
struct Hub {
  ServerOptions opts;
  std::shared_ptr<const Router> router;
  ProxyList proxies;
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl;
  std::atomic<uint32_t> connections{0};

  // Guards `stopped` against replies posting while stop() runs.
  SharedMutex mu;
  bool stopped GUARDED_BY(mu) = false;

  // Live connections, so stop() can close them.
  Mutex conns_mu;
  uint64_t next_id GUARDED_BY(conns_mu) = 1;
  std::unordered_map<uint64_t, std::function<void()>> closers GUARDED_BY(conns_mu);

  explicit Hub(ServerOptions o) : opts(std::move(o)), ioc(int(std::max(1u, opts.threads))) {}
};

namespace {

// One HTTP connection over Stream (beast::tcp_stream or an ssl_stream of
// one). Reads one request at a time; pipelined requests wait in the buffer.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<Hub> hub, Stream stream, std::string peer, uint64_t id)
      : hub_(std::move(hub)), stream_(std::move(stream)), peer_(std::move(peer)), id_(id) {}

  ~Session() { hub_->connections.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    auto self = this->shared_from_this();
    {
      MutexLock lk(hub_->conns_mu);
      std::weak_ptr<Session> weak = self;
      hub_->closers[id_] = [weak] {
        if (auto s = weak.lock())
          asio::dispatch(s->executor(), [s] { s->close(); });
      };
    }
    asio::dispatch(executor(), [self] { self->handshake(); });
  }

  asio::any_io_executor executor() { return beast::get_lowest_layer(stream_).get_executor(); }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    if constexpr (kTls) {
      lowest().expires_after(kHandshakeTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->read();
                              });
    } else {
      read();
    }
  }

  void read() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(hub_->opts.max_body);
    parser_->header_limit(16 * 1024);
    lowest().expires_after(std::chrono::milliseconds(hub_->opts.idle_timeout_ms));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail_read(ec);
    auto& req = parser_->get();
    auto expect = req[bhttp::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      // RFC 9110 §10.1.1: tell the client to send the body. Small and rare:
      // written synchronously would risk blocking, so queue it.
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, req.version()};
      auto msg = std::make_shared<bhttp::response<bhttp::empty_body>>(std::move(cont));
      bhttp::async_write(stream_, *msg,
                         [self = this->shared_from_this(), msg](beast::error_code ec2, size_t) {
                           if (ec2) return self->close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->fail_read(ec);
                        self->on_request();
                      });
  }

  void fail_read(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return send_error(413, "request body too large\n");
    if (ec == bhttp::error::header_limit) return send_error(431, "request header too large\n");
    // A malformed request gets a 400; end of stream, timeouts and socket
    // errors just close.
    bool protocol = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
    if (protocol && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
      return send_error(400, "bad request\n");
    close();
  }

  void send_error(int status, std::string body) {
    keep_alive_ = false;
    version_ = 11;
    head_ = false;
    write(Response::text(status, std::move(body)));
  }

  void on_request() {
    auto msg = parser_->release();
    parser_.reset();
    version_ = msg.version();
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == bhttp::verb::head;

    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    std::string_view target = req.target;
    size_t q = target.find('?');
    req.path = percent_decode(target.substr(0, q), false);
    if (q != std::string_view::npos) parse_query(target.substr(q + 1), req.params);
    req.headers.reserve(8);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    req.peer_ip = peer_;
    req.client_ip = peer_;
    req.tls = kTls;
    if (!hub_->proxies.empty() && hub_->proxies.contains(peer_)) {
      auto xff = req.header("x-forwarded-for");
      auto fwd = req.header("forwarded");
      if (xff || fwd) {
        if (auto ip = forwarded_client(xff.value_or(""), fwd.value_or(""), hub_->proxies))
          req.client_ip = *ip;
      }
    }

    bool mismatch = false;
    const Handler* h = hub_->router ? hub_->router->find(head_ ? "GET" : req.method, req.path, &mismatch)
                                    : nullptr;
    if (!h && head_) h = hub_->router->find(req.method, req.path, &mismatch);
    if (!h) {
      if (mismatch) {
        Response r = Response::text(405, "method not allowed\n");
        return write(std::move(r));
      }
      return write(Response::text(404, "not found\n"));
    }

    // The handler may answer at once or later from any thread; either way
    // the answer is written on this connection's strand, exactly once.
    pending_ = true;
    auto once = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self = this->shared_from_this(), once](Response r) {
      if (once->exchange(true)) return;
      ReaderLock lk(self->hub_->mu);
      if (self->hub_->stopped) return;
      asio::post(self->executor(), [self, r = std::move(r)]() mutable {
        self->pending_ = false;
        self->write(std::move(r));
      });
    };
    (*h)(req, std::move(reply));
  }

  void write(Response r) {
    if (closed_) return;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    metrics::registry().shared().http(r.status);
    res->set(bhttp::field::server, "ddnsd");
    res->set(bhttp::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->keep_alive(keep_alive_);
    // HEAD: headers only (Content-Length then describes the empty body).
    if (!head_) res->body() = std::move(r.body);
    res->prepare_payload();
    lowest().expires_after(kWriteTimeout);
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return self->close();
      if (!self->keep_alive_) return self->shutdown();
      self->read();
    });
  }

  void shutdown() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      close();
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    lowest().cancel();
    lowest().socket().close(ec);
    MutexLock lk(hub_->conns_mu);
    hub_->closers.erase(id_);
  }

  std::shared_ptr<Hub> hub_;
  Stream stream_;
  std::string peer_;
  uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool pending_ = false;
  bool closed_ = false;
};

// Accepts connections on one listener, each onto its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<Hub> hub, tcp::acceptor acceptor)
      : hub_(std::move(hub)), acceptor_(std::move(acceptor)), retry_(hub_->ioc) {}

  void start() { accept(); }
  void close() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }
  tcp::endpoint local() const { return acceptor_.local_endpoint(); }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(hub_->ioc),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket sock) {
                             self->on_accept(ec, std::move(sock));
                           });
  }

  void on_accept(beast::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    if (hub_->connections.fetch_add(1, std::memory_order_relaxed) >= hub_->opts.max_connections) {
      hub_->connections.fetch_sub(1, std::memory_order_relaxed);
      beast::error_code ignored;
      sock.close(ignored);
      return accept();
    }
    beast::error_code pec;
    auto remote = sock.remote_endpoint(pec);
    std::string peer = pec ? std::string() : addr_text(remote.address());
    sock.set_option(tcp::no_delay(true), pec);
    uint64_t id;
    {
      MutexLock lk(hub_->conns_mu);
      id = hub_->next_id++;
    }
    bool stopped;
    {
      ReaderLock lk(hub_->mu);
      stopped = hub_->stopped;
    }
    if (stopped) {
      hub_->connections.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    if (hub_->ssl) {
      using S = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<S>>(hub_, S(beast::tcp_stream(std::move(sock)), *hub_->ssl),
                                   std::move(peer), id)
          ->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(hub_, beast::tcp_stream(std::move(sock)),
                                                   std::move(peer), id)
          ->start();
    }
    accept();
  }

  std::shared_ptr<Hub> hub_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
};

}  // namespace

struct Server::Impl {
  std::shared_ptr<Hub> hub;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<net::Endpoint> bound;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  bool started = false, stopped = false;
};

Server::Server(ServerOptions opts, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>()) {
  impl_->hub = std::make_shared<Hub>(std::move(opts));
  impl_->hub->router = std::move(router);
}

Server::~Server() { stop(); }

Result<void> Server::open() {
  Hub& hub = *impl_->hub;
  for (const auto& p : hub.opts.trusted_proxies)
    if (!hub.proxies.add(p)) return make_error("trusted proxy '" + p + "': not an address or ADDR/LEN");
  if (!hub.opts.tls_cert.empty() || !hub.opts.tls_key.empty()) {
    if (hub.opts.tls_cert.empty() || hub.opts.tls_key.empty())
      return make_error("TLS needs both a certificate and a key");
    hub.ssl.emplace(asio::ssl::context::tls_server);
    hub.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    beast::error_code ec;
    hub.ssl->use_certificate_chain_file(hub.opts.tls_cert, ec);
    if (ec) return make_error(hub.opts.tls_cert + ": " + ec.message());
    hub.ssl->use_private_key_file(hub.opts.tls_key, asio::ssl::context::pem, ec);
    if (ec) return make_error(hub.opts.tls_key + ": " + ec.message());
  }
  for (const auto& e : hub.opts.listen) {
    beast::error_code ec;
    tcp::endpoint ep = to_asio(e);
    tcp::acceptor acc(asio::make_strand(hub.ioc));
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ep.protocol() == tcp::v6()) acc.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error("http listen " + e.to_string() + ": " + ec.message());
    tcp::endpoint local = acc.local_endpoint(ec);
    net::Endpoint b = net::Endpoint::from_sockaddr(local.data(), socklen_t(local.size()));
    impl_->bound.push_back(b);
    impl_->listeners.push_back(std::make_shared<Listener>(impl_->hub, std::move(acc)));
  }
  return {};
}

const std::vector<net::Endpoint>& Server::bound() const { return impl_->bound; }

void Server::start() {
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  Hub& hub = *impl_->hub;
  impl_->work.emplace(hub.ioc.get_executor());
  for (auto& l : impl_->listeners) l->start();
  unsigned n = std::max(1u, hub.opts.threads);
  for (unsigned i = 0; i < n; ++i)
    impl_->threads.emplace_back([h = impl_->hub] { h->ioc.run(); });
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  Hub& hub = *impl_->hub;
  {
    WriterLock lk(hub.mu);
    hub.stopped = true;
  }
  for (auto& l : impl_->listeners) l->close();
  std::vector<std::function<void()>> closers;
  {
    MutexLock lk(hub.conns_mu);
    for (auto& [id, c] : hub.closers) closers.push_back(c);
  }
  for (auto& c : closers) c();
  impl_->work.reset();
  // Let the aborted operations finish (that frees the connections), but
  // never wait long: a stuck peer must not hold up shutdown.
  if (!impl_->threads.empty()) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!hub.ioc.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    hub.ioc.stop();
    for (auto& t : impl_->threads) t.join();
    impl_->threads.clear();
  }
  impl_->listeners.clear();
}

}  // namespace ddns::http
