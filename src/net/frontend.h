// The DNS network front end: UDP worker threads (one SO_REUSEPORT socket per
// listen address each, recvmmsg/sendmmsg batches) and TCP event loops
// (RFC 7766 framing, pipelining, idle timeout, connection limit). It knows
// nothing about DNS beyond framing: each thread calls its own QueryHandler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "base/result.h"
#include "net/endpoint.h"
#include "net/rrl.h"

namespace ddns::net {

enum class Transport : uint8_t { Udp, Tcp };

// Turns one query into one response. Each thread gets its own instance and
// is the only caller, so an implementation may keep per-thread state (a
// snapshot reader, a round-robin counter) without locks.
// Where a query came from, for handlers that answer later from another
// thread: over UDP, sendto() on `fd` to `addr` is safe from any thread.
// A multi-message TCP answer (a zone transfer), produced one message at a
// time as the connection drains, so a large answer is never held whole.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // Writes the next message (unframed) into out[0..cap), cap >= 65535, and
  // returns its size; 0 ends the stream. Called on the connection's event
  // loop thread only; must not block and must not throw.
  virtual size_t next(uint8_t* out, size_t cap) = 0;
};

// TCP: lets a handler answer a query later, from any thread.
class Responder {
 public:
  virtual ~Responder() = default;
  // Queues `msg` (unframed) as an answer on connection `conn`; dropped when
  // that connection has closed meanwhile. Thread-safe.
  virtual void respond(uint64_t conn, std::vector<uint8_t> msg) = 0;
  // Answers with every message of `src`, in order, pulled whenever the
  // connection's unsent bytes drop below a threshold (backpressure: a slow
  // reader never makes the server buffer the whole answer). Later queries
  // on the connection wait until the stream ends; the source is destroyed
  // when it ends or the connection closes. Thread-safe. The default pulls
  // everything at once through respond() (for simple test responders).
  virtual void stream(uint64_t conn, std::unique_ptr<MessageSource> src) {
    std::vector<uint8_t> buf(65535);
    for (size_t n; (n = src->next(buf.data(), buf.size())) != 0;)
      respond(conn, std::vector<uint8_t>(buf.begin(), buf.begin() + ptrdiff_t(n)));
  }
};

struct Peer {
  const sockaddr_storage* addr = nullptr;  // null when unknown
  socklen_t addr_len = 0;
  int fd = -1;  // UDP: the socket the query arrived on; -1 otherwise
  // TCP: where to send a later answer (null over UDP). The front end must
  // outlive every pending answer (stop the answering threads first).
  Responder* responder = nullptr;
  uint64_t conn = 0;
};

// What a handler did with one message.
enum class Disposition : uint8_t {
  Send,   // the answer is in out[0..size)
  Drop,   // nothing is sent
  Later,  // the handler answers later: through Peer::responder or, over UDP, by itself
};
struct Handled {
  Disposition disposition = Disposition::Drop;
  size_t size = 0;  // Send only

  // Send `n` octets; 0 is Drop.
  static Handled send(size_t n) { return {n ? Disposition::Send : Disposition::Drop, n}; }
  static Handled later() { return {Disposition::Later, 0}; }
};

class QueryHandler {
 public:
  virtual ~QueryHandler() = default;
  // handle() knowing the peer, which lets a handler answer later. The
  // default ignores the peer.
  virtual Handled handle_from(std::span<const uint8_t> query, Transport transport, uint8_t* out,
                              size_t cap, const Peer& peer) {
    (void)peer;
    return Handled::send(handle(query, transport, out, cap));
  }
  // Writes the response into out[0..cap) and returns its size, or 0 to send
  // nothing. Must not throw; `query` is untrusted bytes.
  virtual size_t handle(std::span<const uint8_t> query, Transport transport, uint8_t* out,
                        size_t cap) = 0;
};

using HandlerFactory = std::function<std::unique_ptr<QueryHandler>()>;

struct FrontendOptions {
  std::vector<Endpoint> listen;          // port 0 = pick one (same for UDP and TCP)
  unsigned udp_threads = 1;
  unsigned tcp_threads = 1;
  size_t udp_batch = 64;                 // messages per recvmmsg/sendmmsg
  size_t udp_recv_size = 8192;           // larger datagrams are dropped
  size_t udp_response_cap = 1232;        // response buffer per UDP message
  // Under sustained load a worker whose batch was small pauses this long
  // before its next recvmmsg, so that batch is larger (interrupt
  // moderation): fewer system calls and wake-ups per query, at most this
  // much added wait. 0 = never pause. When it pauses: net/coalesce.h.
  uint32_t udp_coalesce_us = 100;
  // Response rate limiting of UDP answers (TCP answers are never limited,
  // as in BIND and Knot: a TCP client cannot spoof its address). Null =
  // none; otherwise owned by the caller and outliving the front end.
  Rrl* rrl = nullptr;
  uint32_t tcp_idle_timeout_ms = 10000;  // RFC 7766 §6.2.3
  uint32_t tcp_max_clients = 1000;       // over this, new connections are closed at once
  size_t tcp_max_pending = 256 * 1024;   // unsent bytes before a connection stops being read
  size_t tcp_stream_low = 128 * 1024;    // a stream's next message is made below this many unsent bytes
};

struct FrontendStats {
  uint64_t udp_received = 0, udp_sent = 0, udp_dropped = 0;
  uint64_t udp_pauses = 0;  // coalescing pauses taken (udp_coalesce_us)
  uint64_t tcp_accepted = 0, tcp_refused = 0, tcp_queries = 0, tcp_timed_out = 0;
  uint64_t tcp_streams = 0;  // multi-message answers started (zone transfers)
};

class Frontend {
 public:
  Frontend(FrontendOptions opts, HandlerFactory factory);
  ~Frontend();
  Frontend(const Frontend&) = delete;
  Frontend& operator=(const Frontend&) = delete;

  // Creates and binds every socket (all threads' sockets, so a bind error is
  // reported before anything serves). Resolves port 0.
  Result<void> open();
  // The listen addresses with their actual ports, in FrontendOptions order.
  const std::vector<Endpoint>& bound() const { return bound_; }
  // Starts the threads (after open()).
  void start();
  // Stops and joins every thread; closes the sockets. Idempotent.
  void stop();

  FrontendStats stats() const;
  // Open TCP connections right now.
  uint32_t tcp_clients() const { return tcp_clients_.load(std::memory_order_relaxed); }

  struct UdpWorker;
  struct TcpLoop;

 private:
  FrontendOptions opts_;
  HandlerFactory factory_;
  std::vector<Endpoint> bound_;
  std::vector<std::unique_ptr<UdpWorker>> udp_;
  std::vector<std::unique_ptr<TcpLoop>> tcp_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> tcp_clients_{0};
  bool started_ = false;
};

}  // namespace ddns::net
