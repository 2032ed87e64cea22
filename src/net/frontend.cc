// UDP workers and TCP event loops. Buffers are allocated once per thread (UDP)
// or per connection (TCP), so the steady-state query path does no heap work
// of its own; every socket is non-blocking and every loop is bounded.
#include "net/frontend.h"

#include "metrics/metrics.h"
#include "net/coalesce.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ddns::net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kStopTag = ~uint64_t(0);
constexpr uint64_t kListenerTag = uint64_t(1) << 62;
constexpr uint64_t kReplyTag = ~uint64_t(0) - 1;  // TCP: deferred answers queued

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd = o.fd;
      o.fd = -1;
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool is_wildcard(const Endpoint& ep) {
  if (ep.family() == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&ep.addr)->sin_addr.s_addr == htonl(INADDR_ANY);
  if (ep.family() == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&ep.addr)->sin6_addr);
  return false;
}

// Room for one IP_PKTINFO or IPV6_PKTINFO control message.
constexpr size_t kCmsgSpace = CMSG_SPACE(sizeof(in6_pktinfo)) > CMSG_SPACE(sizeof(in_pktinfo))
                                  ? CMSG_SPACE(sizeof(in6_pktinfo))
                                  : CMSG_SPACE(sizeof(in_pktinfo));

Result<Fd> open_socket(const Endpoint& ep, int type) {
  Fd s(::socket(ep.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd < 0) return make_error(ep.to_string() + ": " + errno_text("socket"));
  int one = 1;
  // One socket per thread on the same address; the kernel spreads the load.
  if (::setsockopt(s.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return make_error(ep.to_string() + ": " + errno_text("SO_REUSEPORT"));
  if (type == SOCK_STREAM) ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ep.family() == AF_INET6 &&
      ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
    return make_error(ep.to_string() + ": " + errno_text("IPV6_V6ONLY"));
  if (type == SOCK_DGRAM) {
    int sz = 4 << 20;  // absorb bursts; the kernel caps it at rmem_max
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    // RFC 9715 §3.1: responders set DF and never fragment; our replies are
    // capped at max-udp-size (1232 by default), below any path MTU. PROBE
    // sets DF without believing ICMP "fragmentation needed" (forgeable),
    // and with DF the kernel leaves the IPv4 ID at 0 instead of drawing a
    // hashed one per datagram. IPv6 sends no fragments from us either.
    if (ep.family() == AF_INET) {
      int pmtu = IP_PMTUDISC_PROBE;
      ::setsockopt(s.fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
    } else {
      int pmtu = IPV6_PMTUDISC_PROBE;
      ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
      ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
    }
    // On a wildcard address, learn each query's destination so the reply
    // leaves from the address the client asked (multi-homed hosts).
    if (is_wildcard(ep)) {
      if (ep.family() == AF_INET) ::setsockopt(s.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      else ::setsockopt(s.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    }
  }
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0)
    return make_error(ep.to_string() + (type == SOCK_DGRAM ? " (udp)" : " (tcp)") + ": " +
                      errno_text("bind"));
  if (type == SOCK_STREAM && ::listen(s.fd, 1024) != 0)
    return make_error(ep.to_string() + ": " + errno_text("listen"));
  return s;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).port();
}

void epoll_add(int ep, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

void epoll_mod(int ep, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

// Counters written by one thread, read by stats().
struct Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// CLOCK_MONOTONIC through the vDSO: ~20 ns, no system call.
uint64_t mono_us() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000u + uint64_t(t.tv_nsec) / 1000u;
}

}  // namespace

// ---------------------------------------------------------------- UDP ----

// One thread per (listen address, worker): it blocks in recvmmsg on its one
// socket rather than in epoll. Nothing else waits on the socket, so the
// kernel skips the write-space wake-up it otherwise runs for every datagram
// sent (sock_wfree -> sock_def_write_space on a socket with an epoll
// entry), and a batch costs two system calls instead of three.
struct Frontend::UdpWorker {
  Fd sock;
  bool pktinfo = false;  // wildcard bind: replies carry the query's destination as source
  std::atomic<bool> stopping{false};
  std::unique_ptr<QueryHandler> handler;
  size_t batch = 64, recv_size = 0, resp_cap = 0;
  size_t touched = SIZE_MAX;  // receive headers the last recvmmsg may have changed

  Coalescer coalescer;
  Rrl* rrl = nullptr;

  // Preallocated batch state.
  std::vector<uint8_t> rbuf, wbuf;
  std::vector<sockaddr_storage> peers;
  std::vector<iovec> riov, wiov;
  std::vector<mmsghdr> rmsg, wmsg;
  std::vector<uint8_t> rctl, wctl;  // kCmsgSpace per message, aligned for cmsghdr
  Counter received, sent, dropped, pauses;
  // This thread's /metrics counters: its own cache lines, summed only when
  // scraped. Per message: ~3 single-writer increments and a walk over the
  // question name already in cache; per batch: two clock reads. No locked
  // instruction, no allocation, no line shared with another thread.
  metrics::Registry::ShardPtr m = metrics::registry().query_shard();

  void init(const FrontendOptions& o) {
    batch = o.udp_batch ? o.udp_batch : 1;
    coalescer = Coalescer(o.udp_coalesce_us);
    rrl = o.rrl;
    recv_size = o.udp_recv_size;
    resp_cap = o.udp_response_cap < 512 ? 512 : o.udp_response_cap;
    rbuf.assign(batch * recv_size, 0);
    wbuf.assign(batch * resp_cap, 0);
    peers.assign(batch, sockaddr_storage{});
    riov.assign(batch, iovec{});
    wiov.assign(batch, iovec{});
    rmsg.assign(batch, mmsghdr{});
    wmsg.assign(batch, mmsghdr{});
    rctl.assign(batch * kCmsgSpace, 0);
    wctl.assign(batch * kCmsgSpace, 0);
    for (size_t i = 0; i < batch; ++i) {
      riov[i] = {rbuf.data() + i * recv_size, recv_size};
      rmsg[i].msg_hdr.msg_iov = &riov[i];
      rmsg[i].msg_hdr.msg_iovlen = 1;
      rmsg[i].msg_hdr.msg_name = &peers[i];
    }
  }

  // One batch: waits for the first datagram, takes what else is queued.
  // False once the worker is told to stop.
  bool serve_batch() {
    const int fd = sock.fd;
    const bool pi = pktinfo;
    {
      // Only the headers the last call filled need resetting (plus the one
      // after them, in case the kernel wrote into it before finding the
      // queue empty): under a light load that is 2-3 of the 64.
      const size_t dirty = std::min(batch, touched);
      for (size_t i = 0; i < dirty; ++i) {
        rmsg[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        rmsg[i].msg_hdr.msg_flags = 0;
        rmsg[i].msg_hdr.msg_control = pi ? rctl.data() + i * kCmsgSpace : nullptr;
        rmsg[i].msg_hdr.msg_controllen = pi ? kCmsgSpace : 0;
        rmsg[i].msg_len = 0;
      }
      int n = ::recvmmsg(fd, rmsg.data(), unsigned(batch), MSG_WAITFORONE, nullptr);
      touched = n > 0 ? size_t(n) + 1 : 1;
      if (stopping.load(std::memory_order_relaxed)) return false;
      if (n <= 0) {
        // EINTR, or a transient failure (ENOMEM): do not spin on it.
        if (n < 0 && errno != EINTR && errno != EAGAIN) ::usleep(1000);
        return true;
      }
      received.add(uint64_t(n));
      // Latency is taken per batch, not per message: every message of the
      // batch waited for the whole batch's answers anyway (they leave in one
      // sendmmsg), so the batch's time is each one's time in the server.
      const uint64_t t0 = mono_us();
      size_t out = 0;
      for (int i = 0; i < n; ++i) {
        msghdr& h = rmsg[i].msg_hdr;
        std::span<const uint8_t> query{rbuf.data() + size_t(i) * recv_size, rmsg[i].msg_len};
        if (h.msg_flags & MSG_TRUNC) {  // larger than any query we accept
          m->count(metrics::Transport::Udp, query, nullptr, 0);
          dropped.add(1);
          continue;
        }
        uint8_t* resp = wbuf.data() + size_t(i) * resp_cap;
        Peer peer{&peers[i], h.msg_namelen, fd};
        Handled r = handler->handle_from(query, Transport::Udp, resp, resp_cap, peer);
        size_t len = r.disposition == Disposition::Send && r.size <= resp_cap ? r.size : 0;
        if (len == 0) {
          if (r.disposition != Disposition::Later) dropped.add(1);  // Later: answered by the handler
        } else if (rrl) {
          len = rrl->filter(peers[i], resp, len, uint32_t(t0 / 1000000));  // 0: held back, counted by Rrl
        }
        // After RRL, so the rcode counts are of answers that really leave.
        m->count(metrics::Transport::Udp, query, resp, len);
        if (len == 0) continue;
        wiov[out] = {resp, len};
        msghdr& w = wmsg[out].msg_hdr;
        w = msghdr{};
        w.msg_name = &peers[i];
        w.msg_namelen = h.msg_namelen;
        w.msg_iov = &wiov[out];
        w.msg_iovlen = 1;
        if (pi) set_source(h, w, out);
        ++out;
      }
      size_t done = 0;
      while (done < out) {
        int s = ::sendmmsg(fd, wmsg.data() + done, unsigned(out - done), MSG_DONTWAIT);
        if (s > 0) {
          done += size_t(s);
          continue;
        }
        if (s < 0 && errno == EINTR) continue;
        if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          dropped.add(out - done);  // socket buffer full: UDP may drop
          break;
        }
        dropped.add(1);  // this one datagram failed (e.g. unreachable): skip it
        ++done;
      }
      sent.add(done);
      if (done) m->latency.observe(mono_us() - t0, done);
      pause_if_loaded(size_t(n));
    }
    return true;
  }

  // See Coalescer (coalesce.h) for when, and why, a worker pauses.
  void pause_if_loaded(size_t n) {
    if (coalescer.pause_us() == 0) return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // vDSO: no system call
    if (!coalescer.after_batch(n, uint64_t(now.tv_sec) * 1'000'000'000u + uint64_t(now.tv_nsec)))
      return;
    pauses.add(1);
    timespec d{0, long(coalescer.pause_us()) * 1000};
    ::clock_nanosleep(CLOCK_MONOTONIC, 0, &d, nullptr);  // EINTR: just go on
  }

  // Copies the query's destination address (IP_PKTINFO / IPV6_PKTINFO) into
  // the reply's control message, so the kernel sends from that address.
  void set_source(msghdr& rh, msghdr& w, size_t slot) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&rh); c; c = CMSG_NXTHDR(&rh, c)) {
      bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO;
      bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO;
      if (!v4 && !v6) continue;
      size_t len = v4 ? sizeof(in_pktinfo) : sizeof(in6_pktinfo);
      w.msg_control = wctl.data() + slot * kCmsgSpace;
      w.msg_controllen = CMSG_SPACE(len);
      cmsghdr* o = CMSG_FIRSTHDR(&w);
      o->cmsg_level = c->cmsg_level;
      o->cmsg_type = c->cmsg_type;
      o->cmsg_len = CMSG_LEN(len);
      std::memcpy(CMSG_DATA(o), CMSG_DATA(c), len);
      if (v4) {
        auto* p = reinterpret_cast<in_pktinfo*>(CMSG_DATA(o));
        p->ipi_spec_dst = p->ipi_addr;
        p->ipi_ifindex = 0;
      }
      return;
    }
  }

  void run() {
    // The default timer slack (50 us) would stretch every pause by up to
    // half again; it applies to this thread only.
    if (const unsigned long us = coalescer.pause_us())
      ::prctl(PR_SET_TIMERSLACK, std::max(1000ul, us * 100));
    while (serve_batch()) {
    }
  }
};

// ---------------------------------------------------------------- TCP ----

struct Frontend::TcpLoop : Responder {
  struct Conn {
    Fd fd;
    uint64_t id = 0;            // unique per loop (fds are reused)
    uint32_t deferred = 0;      // answers a handler will send later
    std::vector<uint8_t> in;   // received bytes, in[0..in_len)
    size_t in_len = 0;
    std::vector<uint8_t> out;  // framed responses not yet sent, from out_off
    size_t out_off = 0;
    Clock::time_point last;
    sockaddr_storage addr{};    // the client, for handlers' access checks
    socklen_t addr_len = 0;
    // Multi-message answers in order; the front one is being sent.
    std::deque<std::unique_ptr<MessageSource>> streams;
    bool read_closed = false;
    bool reading = true;       // EPOLLIN armed
    bool writing = false;      // EPOLLOUT armed
  };

  std::vector<Fd> listeners;
  Fd epoll, stop;
  std::unique_ptr<QueryHandler> handler;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::vector<uint8_t> scratch;  // 2-octet length + largest response
  std::atomic<uint32_t>* clients = nullptr;
  std::chrono::milliseconds idle{10000};
  uint32_t max_clients = 1000;
  size_t max_pending = 256 * 1024;
  size_t stream_low = 128 * 1024;
  bool listeners_paused = false;
  Counter accepted, refused, queries, timed_out, streams_started;
  metrics::Registry::ShardPtr m = metrics::registry().query_shard();  // see UdpWorker
  std::thread::id loop_thread;
  uint32_t next_id = 0;
  // Deferred answers from other threads, (conn id, message); `replies` wakes us.
  Fd replies;
  std::mutex reply_mu;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> reply_queue;
  std::vector<std::pair<uint64_t, std::unique_ptr<MessageSource>>> stream_queue;

  static uint64_t conn_key(const Conn& c) { return c.id << 32 | uint32_t(c.fd.fd); }

  void respond(uint64_t conn, std::vector<uint8_t> msg) override {
    {
      std::lock_guard<std::mutex> lock(reply_mu);
      reply_queue.emplace_back(conn, std::move(msg));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(replies.fd, &one, sizeof one);
  }

  Conn* find_conn(uint64_t key) {
    auto it = conns.find(int(uint32_t(key)));
    if (it == conns.end() || conn_key(*it->second) != key) return nullptr;  // closed meanwhile
    return it->second.get();
  }

  void stream(uint64_t conn, std::unique_ptr<MessageSource> src) override {
    if (std::this_thread::get_id() == loop_thread) {
      // Called by our own handler (inside process()): attach now, so that
      // process() stops before the next query and pump() starts sending.
      streams_started.add(1);
      if (Conn* c = find_conn(conn)) c->streams.push_back(std::move(src));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(reply_mu);
      stream_queue.emplace_back(conn, std::move(src));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(replies.fd, &one, sizeof one);
  }

  void deliver_replies() {
    uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(replies.fd, &v, sizeof v);
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> q;
    std::vector<std::pair<uint64_t, std::unique_ptr<MessageSource>>> sq;
    {
      std::lock_guard<std::mutex> lock(reply_mu);
      q.swap(reply_queue);
      sq.swap(stream_queue);
    }
    for (auto& [key, src] : sq) {
      streams_started.add(1);
      Conn* c = find_conn(key);
      if (!c) continue;  // the source dies here
      c->streams.push_back(std::move(src));
      pump(*c);
    }
    for (auto& [key, msg] : q) {
      auto it = conns.find(int(uint32_t(key)));
      if (it == conns.end() || conn_key(*it->second) != key) continue;  // closed meanwhile
      Conn& c = *it->second;
      if (c.deferred) c.deferred--;
      if (msg.empty() || msg.size() > 65535) continue;
      c.out.push_back(uint8_t(msg.size() >> 8));
      c.out.push_back(uint8_t(msg.size()));
      c.out.insert(c.out.end(), msg.begin(), msg.end());
      c.last = Clock::now();
      pump(c);
    }
  }

  void close_conn(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    ::epoll_ctl(epoll.fd, EPOLL_CTL_DEL, fd, nullptr);
    conns.erase(it);  // closes the fd
    clients->fetch_sub(1, std::memory_order_relaxed);
  }

  void set_events(Conn& c) {
    // EPOLLRDHUP only while reading: level-triggered, it would spin otherwise.
    uint32_t ev = 0;
    if (c.reading) ev |= EPOLLIN | EPOLLRDHUP;
    if (c.writing) ev |= EPOLLOUT;
    epoll_mod(epoll.fd, c.fd.fd, ev, uint64_t(c.fd.fd));
  }

  void accept_all(int lfd) {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t addr_len = sizeof addr;
      int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&addr), &addr_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop accepting until the next sweep instead of spinning.
          for (auto& l : listeners) ::epoll_ctl(epoll.fd, EPOLL_CTL_DEL, l.fd, nullptr);
          listeners_paused = true;
        }
        return;
      }
      if (clients->fetch_add(1, std::memory_order_relaxed) >= max_clients) {
        clients->fetch_sub(1, std::memory_order_relaxed);
        refused.add(1);
        ::close(fd);  // RFC 7766 §6.2.2: the server may close to limit resources
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = Fd(fd);
      c->id = ++next_id;
      c->addr = addr;
      c->addr_len = addr_len;
      c->in.resize(4096);
      c->last = Clock::now();
      epoll_add(epoll.fd, fd, EPOLLIN | EPOLLRDHUP, uint64_t(fd));
      conns.emplace(fd, std::move(c));
      accepted.add(1);
    }
  }

  // Answers every complete message in the input buffer, unless too much
  // output is already waiting (the client is not reading) or a stream is
  // being sent (its messages must not be interleaved with other answers).
  void process(Conn& c) {
    size_t pos = 0;
    while (c.in_len - pos >= 2 && c.out.size() - c.out_off < max_pending && c.streams.empty()) {
      size_t len = size_t(c.in[pos]) << 8 | c.in[pos + 1];
      if (c.in_len - pos - 2 < len) break;
      queries.add(1);
      Peer peer;
      peer.addr = &c.addr;
      peer.addr_len = c.addr_len;
      peer.responder = this;
      peer.conn = conn_key(c);
      const std::span<const uint8_t> query{c.in.data() + pos + 2, len};
      const uint64_t t0 = mono_us();
      Handled h = handler->handle_from(query, Transport::Tcp, scratch.data() + 2, 65535, peer);
      const bool sent = h.disposition == Disposition::Send && h.size <= 65535;
      m->count(metrics::Transport::Tcp, query, scratch.data() + 2, sent ? h.size : 0);
      if (sent) m->latency.observe(mono_us() - t0);
      pos += 2 + len;
      if (h.disposition == Disposition::Later) c.deferred++;
      if (h.disposition != Disposition::Send || h.size > 65535) continue;
      const size_t r = h.size;
      scratch[0] = uint8_t(r >> 8);
      scratch[1] = uint8_t(r);
      c.out.insert(c.out.end(), scratch.begin(), scratch.begin() + ptrdiff_t(r + 2));
    }
    if (pos) {
      std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
      c.in_len -= pos;
    }
  }

  // Returns false when the connection was closed.
  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      ssize_t w = ::send(c.fd.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        c.out_off += size_t(w);
        c.last = Clock::now();
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close_conn(c.fd.fd);
      return false;
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();  // keeps capacity for the next responses
      c.out_off = 0;
    }
    return true;
  }

  // Pulls stream messages while fewer than stream_low bytes wait to be
  // sent; a finished stream is dropped and the next query may be answered.
  void fill(Conn& c) {
    while (!c.streams.empty() && c.out.size() - c.out_off < stream_low) {
      if (c.out_off > 0) {  // drop what was sent, so the buffer stays bounded
        c.out.erase(c.out.begin(), c.out.begin() + ptrdiff_t(c.out_off));
        c.out_off = 0;
      }
      size_t n = c.streams.front()->next(scratch.data() + 2, 65535);
      if (n == 0 || n > 65535) {
        c.streams.pop_front();
        if (c.deferred) c.deferred--;
        continue;
      }
      scratch[0] = uint8_t(n >> 8);
      scratch[1] = uint8_t(n);
      c.out.insert(c.out.end(), scratch.begin(), scratch.begin() + ptrdiff_t(n + 2));
    }
  }

  // After reading, writing or EOF: answer, send, and re-arm events.
  void pump(Conn& c) {
    for (int round = 0; round < 64; ++round) {
      process(c);
      fill(c);
      if (!flush(c)) return;
      bool pending = c.out_off < c.out.size();
      // A stream whose output the socket took at once: make more.
      if (!pending && !c.streams.empty()) continue;
      // Flushed fully and more complete queries may wait behind the limit.
      if (pending || c.in_len < 2) break;
      size_t len = size_t(c.in[0]) << 8 | c.in[1];
      if (c.in_len - 2 < len) break;
    }
    bool pending = c.out_off < c.out.size();
    if (c.read_closed && !pending && !c.deferred) {
      close_conn(c.fd.fd);
      return;
    }
    bool want_read = !c.read_closed && c.out.size() - c.out_off < max_pending;
    // A stream with nothing queued (round limit reached) waits for EPOLLOUT,
    // which fires at once on a writable socket: other connections get a turn.
    bool want_write = pending || !c.streams.empty();
    if (want_read != c.reading || want_write != c.writing) {
      c.reading = want_read;
      c.writing = want_write;
      set_events(c);
    }
  }

  void on_readable(Conn& c) {
    for (int i = 0; i < 16; ++i) {
      if (c.in_len == c.in.size()) {
        // Grow to hold the message being received (at most 2 + 65535).
        size_t need = c.in_len >= 2 ? 2 + (size_t(c.in[0]) << 8 | c.in[1]) : 2;
        if (need <= c.in.size()) break;  // full of complete messages: process first
        c.in.resize(need);
      }
      ssize_t r = ::recv(c.fd.fd, c.in.data() + c.in_len, c.in.size() - c.in_len, MSG_DONTWAIT);
      if (r > 0) {
        c.in_len += size_t(r);
        c.last = Clock::now();
        if (c.in_len < c.in.size()) break;
        continue;
      }
      if (r == 0) {
        c.read_closed = true;  // half-close: answer what came, then close
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(c.fd.fd);
      return;
    }
    pump(c);
  }

  void sweep(Clock::time_point now) {
    std::vector<int> expired;
    for (auto& [fd, c] : conns)
      if (now - c->last >= idle) expired.push_back(fd);
    for (int fd : expired) {
      timed_out.add(1);
      close_conn(fd);
    }
    if (listeners_paused) {
      for (size_t i = 0; i < listeners.size(); ++i)
        epoll_add(epoll.fd, listeners[i].fd, EPOLLIN, kListenerTag | i);
      listeners_paused = false;
    }
  }

  void run() {
    loop_thread = std::this_thread::get_id();
    epoll_event evs[64];
    auto tick = std::max<std::chrono::milliseconds>(
        std::chrono::milliseconds(20), std::min<std::chrono::milliseconds>(idle / 4, std::chrono::milliseconds(1000)));
    auto next_sweep = Clock::now() + tick;
    for (;;) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_sweep - Clock::now());
      int n = ::epoll_wait(epoll.fd, evs, 64, int(std::max<int64_t>(0, wait.count())));
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        uint64_t tag = evs[i].data.u64;
        if (tag == kStopTag) {
          shutdown();
          return;
        }
        if (tag == kReplyTag) {
          deliver_replies();
          continue;
        }
        if (tag & kListenerTag) {
          if (!listeners_paused) accept_all(listeners[tag & ~kListenerTag].fd);
          continue;
        }
        auto it = conns.find(int(tag));
        if (it == conns.end()) continue;
        Conn& c = *it->second;
        uint32_t e = evs[i].events;
        if (e & EPOLLERR) {
          close_conn(int(tag));
          continue;
        }
        if (c.reading && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
          on_readable(c);  // also sends, so EPOLLOUT needs nothing more
        } else if (e & EPOLLOUT) {
          pump(c);
        } else if (e & EPOLLHUP) {
          close_conn(int(tag));
        }
      }
      auto now = Clock::now();
      if (now >= next_sweep) {
        sweep(now);
        next_sweep = now + tick;
      }
    }
    shutdown();
  }

  void shutdown() {
    std::vector<int> all;
    for (auto& [fd, c] : conns) all.push_back(fd);
    for (int fd : all) close_conn(fd);
  }
};

// ----------------------------------------------------------- Frontend ----

Frontend::Frontend(FrontendOptions opts, HandlerFactory factory)
    : opts_(std::move(opts)), factory_(std::move(factory)) {}

Frontend::~Frontend() { stop(); }

Result<void> Frontend::open() {
  if (opts_.udp_threads == 0) opts_.udp_threads = 1;
  if (opts_.tcp_threads == 0) opts_.tcp_threads = 1;
  udp_.clear();
  tcp_.clear();
  bound_.clear();
  for (unsigned i = 0; i < opts_.tcp_threads; ++i) {
    auto t = std::make_unique<TcpLoop>();
    t->scratch.assign(2 + 65535, 0);
    t->clients = &tcp_clients_;
    t->idle = std::chrono::milliseconds(opts_.tcp_idle_timeout_ms);
    t->max_clients = opts_.tcp_max_clients;
    t->max_pending = opts_.tcp_max_pending;
    t->stream_low = opts_.tcp_stream_low ? opts_.tcp_stream_low : 1;
    tcp_.push_back(std::move(t));
  }
  for (const Endpoint& want : opts_.listen) {
    // Port 0: the first UDP socket picks a port and the rest follow it; a TCP
    // clash on that port means trying again with another one.
    Result<void> last_error;
    bool done = false;
    for (int attempt = 0; attempt < (want.port() == 0 ? 20 : 1) && !done; ++attempt) {
      Endpoint ep = want;
      std::vector<Fd> us, ts;
      last_error = {};
      for (unsigned i = 0; i < opts_.udp_threads && last_error.ok(); ++i) {
        auto s = open_socket(ep, SOCK_DGRAM);
        if (!s) {
          last_error = s.error();
          break;
        }
        if (ep.port() == 0) ep.set_port(bound_port(s->fd));
        us.push_back(std::move(*s));
      }
      for (unsigned i = 0; i < opts_.tcp_threads && last_error.ok(); ++i) {
        auto s = open_socket(ep, SOCK_STREAM);
        if (!s) {
          last_error = s.error();
          break;
        }
        ts.push_back(std::move(*s));
      }
      if (!last_error.ok()) continue;
      for (unsigned i = 0; i < opts_.udp_threads; ++i) {
        auto w = std::make_unique<UdpWorker>();
        w->init(opts_);
        w->sock = std::move(us[i]);
        w->pktinfo = is_wildcard(ep);
        udp_.push_back(std::move(w));
      }
      for (unsigned i = 0; i < opts_.tcp_threads; ++i)
        tcp_[i]->listeners.push_back(std::move(ts[i]));
      bound_.push_back(ep);
      done = true;
    }
    if (!done) return last_error;
  }
  for (auto& w : udp_) {
    // The worker blocks in recvmmsg; replies are still sent MSG_DONTWAIT.
    const int fl = ::fcntl(w->sock.fd, F_GETFL);
    if (fl < 0 || ::fcntl(w->sock.fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
      return make_error(errno_text("fcntl"));
  }
  for (auto& t : tcp_) {
    t->epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
    t->stop = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (t->epoll.fd < 0 || t->stop.fd < 0) return make_error(errno_text("epoll/eventfd"));
    epoll_add(t->epoll.fd, t->stop.fd, EPOLLIN, kStopTag);
    t->replies = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (t->replies.fd < 0) return make_error(errno_text("eventfd"));
    epoll_add(t->epoll.fd, t->replies.fd, EPOLLIN, kReplyTag);
    for (size_t i = 0; i < t->listeners.size(); ++i)
      epoll_add(t->epoll.fd, t->listeners[i].fd, EPOLLIN, kListenerTag | i);
  }
  return {};
}

void Frontend::start() {
  if (started_) return;
  started_ = true;
  // Handlers are created here, on the caller's thread, then owned by one thread each.
  for (auto& w : udp_) w->handler = factory_();
  for (auto& t : tcp_) t->handler = factory_();
  for (auto& w : udp_) threads_.emplace_back([p = w.get()] { p->run(); });
  for (auto& t : tcp_) threads_.emplace_back([p = t.get()] { p->run(); });
}

void Frontend::stop() {
  auto wake = [](const Fd& fd) {
    uint64_t one = 1;
    if (fd.fd >= 0 && ::write(fd.fd, &one, sizeof one) < 0) {
      // Only fails if the counter would overflow: the loop is already woken.
    }
  };
  for (auto& w : udp_) {
    // Wakes a recvmmsg blocked on the socket (Linux sets RCV_SHUTDOWN and
    // wakes waiters even on an unconnected UDP socket, returning ENOTCONN).
    w->stopping.store(true, std::memory_order_relaxed);
    ::shutdown(w->sock.fd, SHUT_RD);
  }
  for (auto& t : tcp_) wake(t->stop);
  for (auto& th : threads_)
    if (th.joinable()) th.join();
  threads_.clear();
  // Sockets close here, after every thread has left its loop.
  for (auto& w : udp_) w->sock = Fd();
  for (auto& t : tcp_) t->listeners.clear();
}

FrontendStats Frontend::stats() const {
  FrontendStats s;
  for (auto& w : udp_) {
    s.udp_received += w->received.get();
    s.udp_sent += w->sent.get();
    s.udp_dropped += w->dropped.get();
    s.udp_pauses += w->pauses.get();
  }
  for (auto& t : tcp_) {
    s.tcp_accepted += t->accepted.get();
    s.tcp_refused += t->refused.get();
    s.tcp_queries += t->queries.get();
    s.tcp_timed_out += t->timed_out.get();
    s.tcp_streams += t->streams_started.get();
  }
  return s;
}

}  // namespace ddns::net
