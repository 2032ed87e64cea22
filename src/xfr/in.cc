// Incoming zone transfers: SOA query, IXFR/AXFR client over TCP with TSIG,
// and the response-stream parser (RFC 1995 §4, RFC 5936 §2.2).
#include "xfr/in.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "metrics/metrics.h"
#include "zone/serial.h"

namespace ddns::xfr {

namespace {

constexpr uint16_t kSoa = uint16_t(wire::RRType::SOA);
constexpr uint16_t kIxfr = uint16_t(wire::RRType::IXFR);
constexpr uint16_t kAxfr = uint16_t(wire::RRType::AXFR);
constexpr uint16_t kIn = uint16_t(wire::RRClass::IN);

using Clock = std::chrono::steady_clock;

uint16_t random_id() {
  uint16_t id = 0;
  if (getrandom(&id, sizeof id, 0) != sizeof id) id = uint16_t(Clock::now().time_since_epoch().count());
  return id;
}

bool cancelled(const std::atomic<bool>* c) { return c && c->load(std::memory_order_relaxed); }

// Owns a socket descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { if (fd >= 0) ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Waits for `events` on fd until `deadline`, in slices so `cancel` is seen
// within 100 ms (stop() must not wait for a slow primary).
Result<void> wait_fd(int fd, short events, Clock::time_point deadline,
                     const std::atomic<bool>* cancel) {
  for (;;) {
    if (cancelled(cancel)) return make_error("cancelled");
    auto now = Clock::now();
    if (now >= deadline) return make_error("timed out");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, int(std::min<long long>(left + 1, 100)));
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(std::string("poll: ") + std::strerror(errno));
    }
    if (r > 0) return {};
  }
}

Result<int> tcp_connect(const net::Endpoint& ep, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* cancel) {
  int fd = ::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  Fd guard(fd);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 &&
      errno != EINPROGRESS)
    return make_error(std::string("connect: ") + std::strerror(errno));
  auto w = wait_fd(fd, POLLOUT, Clock::now() + timeout, cancel);
  if (!w) return make_error("connect: " + w.error().message);
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return make_error(std::string("connect: ") + std::strerror(err));
  guard.fd = -1;
  return fd;
}

Result<void> send_all(int fd, const uint8_t* p, size_t n, Clock::time_point deadline,
                      const std::atomic<bool>* cancel) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= size_t(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return make_error(std::string("send: ") + std::strerror(errno));
    auto r = wait_fd(fd, POLLOUT, deadline, cancel);
    if (!r) return make_error("send: " + r.error().message);
  }
  return {};
}

// Reads exactly n octets.
Result<void> recv_all(int fd, uint8_t* p, size_t n, std::chrono::milliseconds idle,
                      Clock::time_point total_deadline, const std::atomic<bool>* cancel) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= size_t(r);
      continue;
    }
    if (r == 0) return make_error("connection closed by the primary");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return make_error(std::string("recv: ") + std::strerror(errno));
    auto deadline = std::min(Clock::now() + idle, total_deadline);
    auto w = wait_fd(fd, POLLIN, deadline, cancel);
    if (!w) return make_error("recv: " + w.error().message);
  }
  return {};
}

// One RFC 1035 §4.2.2 framed message into `buf`.
Result<void> read_framed(int fd, std::vector<uint8_t>& buf, const Limits& lim,
                         Clock::time_point total_deadline, const std::atomic<bool>* cancel) {
  uint8_t len[2];
  auto r = recv_all(fd, len, 2, lim.idle_timeout, total_deadline, cancel);
  if (!r) return r;
  size_t n = size_t(len[0]) << 8 | len[1];
  if (n < wire::kHeaderSize) return make_error("message shorter than a DNS header");
  buf.resize(n);
  return recv_all(fd, buf.data(), n, lim.idle_timeout, total_deadline, cancel);
}

Result<void> write_framed(int fd, const std::vector<uint8_t>& msg, Clock::time_point deadline,
                          const std::atomic<bool>* cancel) {
  if (msg.size() > 65535) return make_error("request too large");
  std::vector<uint8_t> framed(msg.size() + 2);
  framed[0] = uint8_t(msg.size() >> 8);
  framed[1] = uint8_t(msg.size());
  std::memcpy(framed.data() + 2, msg.data(), msg.size());
  return send_all(fd, framed.data(), framed.size(), deadline, cancel);
}

std::string rcode_text(uint16_t rc) {
  static const char* const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                      "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                      "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rc < sizeof names / sizeof names[0]) return names[rc];
  return std::to_string(rc);
}

// Checks a response's header and question against the request.
Result<void> check_response(const wire::Message& m, uint16_t id, const wire::Name& origin,
                            uint16_t qtype, bool first) {
  if (!m.header.qr()) return make_error("not a response");
  if (m.header.id != id) return make_error("response id mismatch");
  if (m.header.opcode() != wire::Opcode::Query) return make_error("wrong opcode in response");
  // RFC 5936 §2.2.1: the first message echoes the question; later ones may.
  if (m.question.size() > 1) return make_error("more than one question in response");
  if (m.question.empty()) {
    if (first) return make_error("response without question");
    return {};
  }
  const auto& q = m.question[0];
  if (q.name != origin || q.qtype != qtype || q.qclass != kIn)
    return make_error("response question does not match the request");
  return {};
}

std::string tsig_failure(const tsig::Verified& v) {
  std::string s = "TSIG: " + std::string(tsig::status_text(v.status));
  if (v.reason && *v.reason) s += std::string(" (") + v.reason + ")";
  return s;
}

}  // namespace

// ---- small helpers ----------------------------------------------------------

std::optional<uint32_t> soa_serial(std::span<const uint8_t> rdata) {
  auto t = soa_timers(rdata);
  if (!t) return std::nullopt;
  // serial sits just before the four timers
  const uint8_t* p = rdata.data() + rdata.size() - 20;
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

std::optional<SoaTimers> soa_timers(std::span<const uint8_t> rdata) {
  ByteReader r(rdata);
  for (int n = 0; n < 2; ++n) {  // MNAME, RNAME: uncompressed wire names
    for (;;) {
      uint8_t len = r.u8();
      if (!r.ok() || len > 63) return std::nullopt;
      if (len == 0) break;
      r.skip(len);
    }
  }
  r.u32();  // serial
  SoaTimers t;
  t.refresh = r.u32();
  t.retry = r.u32();
  t.expire = r.u32();
  t.minimum = r.u32();
  if (!r.ok() || r.remaining() != 0) return std::nullopt;
  return t;
}

Result<PrimaryAddr> parse_primary(std::string_view spec, const tsig::KeyRing& ring) {
  PrimaryAddr p;
  p.text = std::string(spec);
  std::string_view addr = spec;
  size_t at = spec.find('@');
  if (at != std::string_view::npos) {
    addr = spec.substr(0, at);
    std::string_view keyname = spec.substr(at + 1);
    if (keyname.empty()) return make_error("primary '" + p.text + "': empty key name");
    std::string kt(keyname);
    if (kt.back() != '.') kt += '.';
    auto name = wire::Name::from_text(kt);
    if (!name) return make_error("primary '" + p.text + "': " + name.error().message);
    const tsig::Key* k = ring.find(*name);
    if (!k) return make_error("primary '" + p.text + "': unknown TSIG key " + name->to_text());
    p.key = *k;
  }
  auto ep = net::Endpoint::parse(addr);
  if (!ep) return make_error("primary '" + p.text + "': " + ep.error().message);
  if (ep->port() == 0) return make_error("primary '" + p.text + "': port 0");
  p.addr = *ep;
  return p;
}

bool same_address(const net::Endpoint& ep, const sockaddr* sa, socklen_t len) {
  if (!sa) return false;
  // Normalise both to 16 octets (IPv4 as ::ffff:a.b.c.d).
  auto norm = [](const sockaddr* s, socklen_t l, uint8_t out[16]) {
    if (s->sa_family == AF_INET && l >= socklen_t(sizeof(sockaddr_in))) {
      const auto* s4 = reinterpret_cast<const sockaddr_in*>(s);
      std::memset(out, 0, 10);
      out[10] = out[11] = 0xff;
      std::memcpy(out + 12, &s4->sin_addr, 4);
      return true;
    }
    if (s->sa_family == AF_INET6 && l >= socklen_t(sizeof(sockaddr_in6))) {
      const auto* s6 = reinterpret_cast<const sockaddr_in6*>(s);
      std::memcpy(out, &s6->sin6_addr, 16);
      return true;
    }
    return false;
  };
  uint8_t a[16], b[16];
  if (!norm(reinterpret_cast<const sockaddr*>(&ep.addr), ep.len, a) || !norm(sa, len, b))
    return false;
  return std::memcmp(a, b, 16) == 0;
}

// ---- TransferReader -----------------------------------------------------------

TransferReader::TransferReader(wire::Name origin, uint16_t qtype, uint32_t our_serial,
                               size_t max_records)
    : origin_(std::move(origin)), qtype_(qtype), our_serial_(our_serial),
      max_records_(max_records) {}

Result<bool> TransferReader::add(std::vector<wire::RR>&& answer) {
  for (auto& rr : answer) {
    if (state_ == State::Done) return make_error("records after the final SOA");
    auto r = step(std::move(rr));
    if (!r) return r;
  }
  // RFC 1995 §4: a lone SOA not newer than ours means "up to date". A newer
  // lone SOA in its own message is the start of a longer answer.
  if (state_ == State::AfterFirst && !zone::serial_gt(new_serial_, our_serial_)) {
    out_.kind = Transfer::Kind::UpToDate;
    out_.serial = new_serial_;
    state_ = State::Done;
  }
  return state_ == State::Done;
}

Result<bool> TransferReader::step(wire::RR&& rr) {
  if (++count_ > max_records_) return make_error("transfer exceeds the record limit");
  if (rr.rclass != kIn) return make_error("record of class " + std::to_string(rr.rclass) + " at " + rr.owner.to_text());
  if (!rr.owner.is_subdomain_of(origin_))
    return make_error("record outside the zone: " + rr.owner.to_text());
  bool is_soa = rr.type == kSoa;
  if (is_soa && rr.owner != origin_) return make_error("SOA not at the apex: " + rr.owner.to_text());
  std::optional<uint32_t> serial;
  if (is_soa) {
    serial = soa_serial(rr.rdata);
    if (!serial) return make_error("malformed SOA rdata");
  }
  switch (state_) {
    case State::Start:
      if (!is_soa) return make_error("transfer does not start with the zone's SOA");
      new_serial_ = *serial;
      out_.serial = *serial;
      if (qtype_ == kAxfr) {
        out_.kind = Transfer::Kind::Full;
        out_.records.push_back(std::move(rr));
        state_ = State::Axfr;
      } else {
        first_soa_ = std::move(rr);
        state_ = State::AfterFirst;
      }
      return false;
    case State::AfterFirst:
      // RFC 1995 §4: an SOA with our serial starts the difference sequences;
      // anything else is an AXFR-style answer.
      if (is_soa && *serial == our_serial_ && new_serial_ != our_serial_) {
        out_.kind = Transfer::Kind::Incremental;
        zone::ChangeSet cs;
        cs.origin = origin_;
        cs.serial_from = *serial;
        cs.removed.push_back(std::move(rr));
        out_.changes.push_back(std::move(cs));
        state_ = State::IxfrDel;
        return false;
      }
      out_.kind = Transfer::Kind::Full;
      out_.records.push_back(std::move(first_soa_));
      state_ = State::Axfr;
      [[fallthrough]];
    case State::Axfr:
      if (is_soa) {
        if (*serial != new_serial_) return make_error("AXFR: closing SOA serial differs");
        state_ = State::Done;
        return true;
      }
      out_.records.push_back(std::move(rr));
      return false;
    case State::IxfrDel: {
      auto& cs = out_.changes.back();
      if (is_soa) {
        cs.serial_to = *serial;
        if (!zone::serial_gt(cs.serial_to, cs.serial_from))
          return make_error("IXFR: difference sequence does not move the serial forward");
        cs.added.push_back(std::move(rr));
        state_ = State::IxfrAdd;
      } else {
        cs.removed.push_back(std::move(rr));
      }
      return false;
    }
    case State::IxfrAdd: {
      auto& cs = out_.changes.back();
      if (!is_soa) {
        cs.added.push_back(std::move(rr));
        return false;
      }
      if (cs.serial_to == new_serial_) {
        if (*serial != new_serial_) return make_error("IXFR: final SOA serial differs");
        state_ = State::Done;
        return true;
      }
      if (*serial != cs.serial_to) return make_error("IXFR: difference sequences do not chain");
      if (out_.changes.size() >= max_records_) return make_error("IXFR: too many differences");
      zone::ChangeSet next;
      next.origin = origin_;
      next.serial_from = *serial;
      next.removed.push_back(std::move(rr));
      out_.changes.push_back(std::move(next));
      state_ = State::IxfrDel;
      return false;
    }
    case State::Done:
      break;
  }
  return make_error("records after the final SOA");
}

Transfer TransferReader::take() { return std::move(out_); }

// ---- Requests ---------------------------------------------------------------

Result<std::vector<uint8_t>> make_request(const wire::Name& origin, uint16_t qtype, uint16_t id,
                                          const wire::RR* our_soa, const tsig::Key* key,
                                          std::vector<uint8_t>* mac_out) {
  std::vector<uint8_t> buf(4096);
  wire::MessageBuilder b(buf.data(), buf.size());
  wire::Header h;
  h.id = id;
  h.set_opcode(wire::Opcode::Query);
  b.set_header(h);
  if (!b.add_question(origin, qtype, kIn)) return make_error("request: question does not fit");
  if (our_soa && !b.add_rr(wire::MessageBuilder::Section::Authority, *our_soa))
    return make_error("request: SOA does not fit");
  size_t n = b.finish();
  if (n == 0) return make_error("request: build failed");
  buf.resize(n);
  if (key) {
    auto s = tsig::sign_request(buf, *key, tsig::now_seconds(), mac_out);
    if (!s) return make_error("request: " + s.error().message);
  }
  return buf;
}

// ---- SOA query ----------------------------------------------------------------

namespace {

// Checks a (non-stream) SOA response and returns the serial.
Result<uint32_t> soa_from_response(std::span<const uint8_t> pkt, uint16_t id,
                                   const wire::Name& origin, const tsig::Key* key,
                                   std::span<const uint8_t> req_mac, bool* truncated) {
  wire::ParseInfo info;
  auto m = wire::parse(pkt, &info);
  if (!m) return make_error("SOA response: " + m.error().message);
  auto c = check_response(*m, id, origin, kSoa, true);
  if (!c) return make_error("SOA response: " + c.error().message);
  if (key) {
    if (!info.tsig_offset) {
      return make_error("SOA response: unsigned (rcode " + rcode_text(m->rcode()) + ")");
    }
    auto v = tsig::verify_response(pkt, info, m->additional.back(), *key, req_mac,
                                   tsig::now_seconds());
    if (!v.ok()) return make_error("SOA response: " + tsig_failure(v));
    if (v.tsig.error != 0)
      return make_error("SOA response: TSIG error " + std::to_string(v.tsig.error));
  }
  if (m->header.tc()) {
    *truncated = true;
    return make_error("truncated");
  }
  if (m->rcode() != 0) return make_error("SOA response: rcode " + rcode_text(m->rcode()));
  if (!m->header.aa()) return make_error("SOA response: not authoritative");
  for (const auto& rr : m->answer) {
    if (rr.type == kSoa && rr.owner == origin && rr.rclass == kIn) {
      auto s = soa_serial(rr.rdata);
      if (!s) return make_error("SOA response: malformed SOA");
      return *s;
    }
  }
  return make_error("SOA response: no SOA in the answer");
}

}  // namespace

Result<uint32_t> query_soa(const PrimaryAddr& p, const wire::Name& origin, const Limits& lim,
                           const std::atomic<bool>* cancel) {
  const tsig::Key* key = p.key ? &*p.key : nullptr;
  uint16_t id = random_id();
  std::vector<uint8_t> mac;
  auto req = make_request(origin, kSoa, id, nullptr, key, &mac);
  if (!req) return req.error();

  int fd = ::socket(p.addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  Fd guard(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&p.addr.addr), p.addr.len) != 0)
    return make_error(std::string("connect: ") + std::strerror(errno));
  std::vector<uint8_t> buf(65535);
  std::string last = "no answer";
  bool truncated = false;
  for (int attempt = 0; attempt < std::max(1, lim.udp_tries) && !truncated; ++attempt) {
    if (::send(fd, req->data(), req->size(), 0) < 0) {
      last = std::string("send: ") + std::strerror(errno);
      continue;
    }
    auto deadline = Clock::now() + lim.udp_timeout;
    for (;;) {
      auto w = wait_fd(fd, POLLIN, deadline, cancel);
      if (!w) {
        last = "SOA query: " + w.error().message;
        if (cancelled(cancel)) return make_error("cancelled");
        break;
      }
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        last = std::string("recv: ") + std::strerror(errno);  // e.g. ICMP refused
        break;
      }
      if (size_t(n) < wire::kHeaderSize || (size_t(buf[0]) << 8 | buf[1]) != id)
        continue;  // stray datagram: keep waiting
      auto s = soa_from_response({buf.data(), size_t(n)}, id, origin, key, mac, &truncated);
      if (s || truncated) {
        if (s) return s;
        break;
      }
      return s;
    }
  }
  if (!truncated) return make_error(last);

  // RFC 1035 §4.2.1: the answer did not fit, ask again over TCP.
  auto total = Clock::now() + lim.connect_timeout + lim.idle_timeout;
  auto tfd = tcp_connect(p.addr, lim.connect_timeout, cancel);
  if (!tfd) return tfd.error();
  Fd tguard(*tfd);
  id = random_id();
  req = make_request(origin, kSoa, id, nullptr, key, &mac);
  if (!req) return req.error();
  auto w = write_framed(*tfd, *req, total, cancel);
  if (!w) return w.error();
  auto r = read_framed(*tfd, buf, lim, total, cancel);
  if (!r) return r.error();
  truncated = false;
  return soa_from_response(buf, id, origin, key, mac, &truncated);
}

// ---- Transfer -------------------------------------------------------------------

Result<Transfer> run_transfer(const PrimaryAddr& p, const wire::Name& origin,
                              const wire::RR* our_soa, const Limits& lim,
                              const std::atomic<bool>* cancel) {
  const tsig::Key* key = p.key ? &*p.key : nullptr;
  uint16_t qtype = our_soa ? kIxfr : kAxfr;
  const char* what = our_soa ? "IXFR" : "AXFR";
  // Every return below but the last is a failure.
  struct Counted {
    size_t kind;
    bool ok = false;
    ~Counted() {
      auto& s = metrics::registry().shared();
      (ok ? s.xfr_in : s.xfr_in_failed)[kind].add();
    }
  } counted{our_soa ? 1u : 0u};
  uint32_t our_serial = 0;
  if (our_soa) {
    auto s = soa_serial(our_soa->rdata);
    if (!s) return make_error("our SOA is malformed");
    our_serial = *s;
  }
  uint16_t id = random_id();
  std::vector<uint8_t> mac;
  auto req = make_request(origin, qtype, id, our_soa, key, &mac);
  if (!req) return req.error();

  auto total = Clock::now() + lim.total_timeout;
  auto fd = tcp_connect(p.addr, lim.connect_timeout, cancel);
  if (!fd) return fd.error();
  Fd guard(*fd);
  auto w = write_framed(*fd, *req, total, cancel);
  if (!w) return w.error();

  std::optional<tsig::StreamVerifier> verifier;
  if (key) verifier.emplace(*key, mac);
  TransferReader reader(origin, qtype, our_serial, lim.max_records);
  std::vector<uint8_t> buf;
  size_t messages = 0, bytes = 0;
  for (;;) {
    auto r = read_framed(*fd, buf, lim, total, cancel);
    if (!r) return make_error(std::string(what) + ": " + r.error().message);
    ++messages;
    bytes += buf.size() + 2;
    if (bytes > lim.max_bytes) return make_error(std::string(what) + ": transfer too large");
    wire::ParseInfo info;
    auto m = wire::parse(buf, &info);
    if (!m) return make_error(std::string(what) + ": " + m.error().message);
    auto c = check_response(*m, id, origin, qtype, messages == 1);
    if (!c) return make_error(std::string(what) + ": " + c.error().message);
    if (verifier) {
      const wire::RR* trr = info.tsig_offset ? &m->additional.back() : nullptr;
      auto v = verifier->verify(buf, info, trr, tsig::now_seconds());
      if (!v.ok()) {
        std::string rc = m->rcode() ? " (rcode " + rcode_text(m->rcode()) + ")" : "";
        return make_error(std::string(what) + ": " + tsig_failure(v) + rc);
      }
      if (v.tsig.error != 0)
        return make_error(std::string(what) + ": TSIG error " + std::to_string(v.tsig.error));
    }
    if (m->rcode() != 0) return make_error("rcode " + rcode_text(m->rcode()) + " to " + what);
    if (m->header.tc()) return make_error(std::string(what) + ": truncated over TCP");
    auto done = reader.add(std::move(m->answer));
    if (!done) return make_error(std::string(what) + ": " + done.error().message);
    if (*done) {
      // RFC 8945 §5.3.1: the last message must be signed.
      if (verifier && !verifier->complete())
        return make_error(std::string(what) + ": last message not signed");
      Transfer t = reader.take();
      t.messages = messages;
      t.bytes = bytes;
      counted.ok = true;
      return t;
    }
  }
}

}  // namespace ddns::xfr
