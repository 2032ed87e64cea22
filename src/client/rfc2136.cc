// RFC 2136 UPDATE with TSIG for ddns-client (see rfc2136.h).
#include "client/rfc2136.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "wire/rrtype.h"

namespace ddns::client {

namespace {

constexpr uint16_t kTypeA = uint16_t(wire::RRType::A);
constexpr uint16_t kTypeAAAA = uint16_t(wire::RRType::AAAA);
constexpr uint16_t kTypeSOA = uint16_t(wire::RRType::SOA);
constexpr uint16_t kClassIN = uint16_t(wire::RRClass::IN);
constexpr uint16_t kClassANY = uint16_t(wire::RRClass::ANY);

std::string rcode_text(uint16_t rc) {
  static const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rc < sizeof names / sizeof names[0]) return names[rc];
  return "RCODE" + std::to_string(rc);
}

std::string tsig_error_text(uint16_t e) {
  switch (e) {
    case 16: return "BADSIG";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 22: return "BADTRUNC";
    default: return "TSIG error " + std::to_string(e);
  }
}

// RAII file descriptor.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Result<sockaddr_storage> resolve(const std::string& server, socklen_t* len) {
  std::string host = server, port = "53";
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) return make_error("bad server '" + server + "'");
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return make_error("bad server '" + server + "'");
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    size_t c = host.find(':');
    port = host.substr(c + 1);
    host = host.substr(0, c);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res) return make_error("cannot resolve server '" + server + "': " + gai_strerror(rc));
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return ss;
}

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : int(ms);
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, ms_left(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// One UDP exchange; the answer must come from the server and carry our id.
Result<wire::Bytes> udp_exchange(const sockaddr_storage& ss, socklen_t len, const wire::Bytes& msg,
                                 uint16_t id, Clock::time_point deadline) {
  Fd s(socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    return make_error(std::string("connect: ") + std::strerror(errno));
  if (send(s.fd, msg.data(), msg.size(), 0) != ssize_t(msg.size()))
    return make_error(std::string("send: ") + std::strerror(errno));
  wire::Bytes buf(65535);
  for (int tries = 0; tries < 64; ++tries) {  // stray datagrams are skipped, boundedly
    if (!wait_fd(s.fd, POLLIN, deadline)) return make_error("timeout");
    ssize_t n = recv(s.fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(std::string("recv: ") + std::strerror(errno));
    }
    if (n >= 12 && (uint16_t(buf[0] << 8 | buf[1]) == id) && (buf[2] & 0x80)) {
      buf.resize(size_t(n));
      return buf;
    }
  }
  return make_error("no matching answer");
}

Result<wire::Bytes> tcp_exchange(const sockaddr_storage& ss, socklen_t len, const wire::Bytes& msg,
                                 Clock::time_point deadline) {
  Fd s(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return make_error(std::string("connect: ") + std::strerror(errno));
  if (!wait_fd(s.fd, POLLOUT, deadline)) return make_error("timeout (TCP connect)");
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err != 0) return make_error(std::string("connect: ") + std::strerror(err));
  // RFC 1035 §4.2.2: two-octet length prefix.
  wire::Bytes out;
  out.push_back(uint8_t(msg.size() >> 8));
  out.push_back(uint8_t(msg.size()));
  out.insert(out.end(), msg.begin(), msg.end());
  size_t sent = 0;
  while (sent < out.size()) {
    if (!wait_fd(s.fd, POLLOUT, deadline)) return make_error("timeout (TCP send)");
    ssize_t n = send(s.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(std::string("send: ") + std::strerror(errno));
    }
    sent += size_t(n);
  }
  wire::Bytes in;
  size_t want = 2;
  while (in.size() < want) {
    if (!wait_fd(s.fd, POLLIN, deadline)) return make_error("timeout (TCP read)");
    uint8_t buf[4096];
    ssize_t n = recv(s.fd, buf, std::min(sizeof buf, want - in.size()), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(std::string("recv: ") + std::strerror(errno));
    }
    if (n == 0) return make_error("connection closed");
    in.insert(in.end(), buf, buf + n);
    if (want == 2 && in.size() == 2) {
      want = 2 + size_t(in[0] << 8 | in[1]);
      if (want == 2) return make_error("empty TCP answer");
    }
  }
  return wire::Bytes(in.begin() + 2, in.end());
}

}  // namespace

Result<wire::Bytes> build_update(const Rfc2136Request& req) {
  if (!req.name.is_subdomain_of(req.zone))
    return make_error(req.name.to_text() + " is not in zone " + req.zone.to_text());
  if (!req.v4 && !req.v6) return make_error("no address to update");
  wire::Bytes buf(4096);
  wire::MessageBuilder b(buf.data(), buf.size());
  wire::Header h;
  h.id = req.id;
  h.set_opcode(wire::Opcode::Update);
  b.set_header(h);
  // RFC 2136 §2.3: the zone section names the zone, type SOA.
  if (!b.add_question(req.zone, kTypeSOA, kClassIN)) return make_error("message too large");
  // RFC 2136 §2.5.2 delete an RRset: class ANY, TTL 0, empty RDATA; then
  // §2.5.1 add to an RRset. Processed in order, so the result is exactly
  // the new address (RFC 2136 §3.4.2).
  auto replace = [&](uint16_t type, const IpAddr& a) {
    wire::RR del{req.name, type, kClassANY, 0, {}};
    size_t n = a.family == Family::V4 ? 4 : 16;
    std::vector<wire::Bytes> rd{wire::Bytes(a.bytes.begin(), a.bytes.begin() + long(n))};
    return b.add_rr(wire::MessageBuilder::Section::Authority, del) &&
           b.add_rrset(wire::MessageBuilder::Section::Authority, req.name, type, kClassIN, req.ttl,
                       std::span<const wire::Bytes>(rd));
  };
  if (req.v4 && !replace(kTypeA, *req.v4)) return make_error("message too large");
  if (req.v6 && !replace(kTypeAAAA, *req.v6)) return make_error("message too large");
  size_t n = b.finish();
  buf.resize(n);
  return buf;
}

UpdateResult rfc2136_result(uint16_t rcode, uint16_t tsig_error) {
  UpdateResult r;
  r.code = rcode_text(rcode);
  switch (rcode) {
    case 0:
      r.verdict = Verdict::Good;
      return r;
    case 2:  // SERVFAIL: the server could not apply it now
      r.verdict = Verdict::Retry;
      return r;
    case 9:  // NOTAUTH: TSIG refused (RFC 8945 §5.2) or not authoritative
      if (tsig_error == 18) {  // BADTIME: our clock is off; may get fixed
        r.verdict = Verdict::Retry;
        r.code = "BADTIME";
        r.detail = "clock differs from the server's by more than the fudge";
        r.min_retry_s = 60;
        return r;
      }
      r.verdict = Verdict::Stop;
      if (tsig_error) r.code = tsig_error_text(tsig_error);
      return r;
    case 1: case 3: case 4: case 5: case 6: case 7: case 8: case 10:
      r.verdict = Verdict::Stop;
      return r;
    default:
      r.verdict = Verdict::Retry;
      return r;
  }
}

UpdateResult rfc2136_update(const Rfc2136Target& target, const Rfc2136Request& req,
                            const tsig::Key* key, uint64_t now) {
  UpdateResult r;
  r.verdict = Verdict::Retry;
  auto msg = build_update(req);
  if (!msg) {
    r.verdict = Verdict::Stop;
    r.code = "config";
    r.detail = msg.error().message;
    return r;
  }
  tsig::Bytes mac;
  if (key) {
    auto s = tsig::sign_request(*msg, *key, now, &mac);
    if (!s) {
      r.code = "sign";
      r.detail = s.error().message;
      return r;
    }
  }
  socklen_t len = 0;
  auto addr = resolve(target.server, &len);
  if (!addr) {
    r.code = "network";
    r.detail = addr.error().message;
    return r;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(target.timeout_ms);
  auto answer = udp_exchange(*addr, len, *msg, req.id, deadline);
  bool tcp = false;
  if (answer && answer->size() >= 12 && ((*answer)[2] & 0x02)) {  // TC: RFC 2136 §3.8 retry over TCP
    tcp = true;
    answer = tcp_exchange(*addr, len, *msg, deadline);
  }
  if (!answer) {
    r.code = answer.error().message.starts_with("timeout") ? "timeout" : "network";
    r.detail = answer.error().message + (tcp ? " (TCP)" : "");
    return r;
  }
  wire::ParseInfo info;
  auto resp = wire::parse(*answer, &info);
  if (!resp) {
    r.code = "badreply";
    r.detail = resp.error().message;
    return r;
  }
  if (resp->header.id != req.id || resp->header.opcode() != wire::Opcode::Update) {
    r.code = "badreply";
    r.detail = "answer does not match the request";
    return r;
  }
  uint16_t rcode = resp->rcode();
  uint16_t tsig_error = 0;
  if (key) {
    if (!info.tsig_offset) {
      // RFC 8945 §5.3.2 lets only error answers go unsigned; an unsigned
      // "NOERROR" could be forged, so it never counts as done.
      r = rfc2136_result(rcode, 0);
      if (r.verdict == Verdict::Good) {
        r.verdict = Verdict::Retry;
        r.code = "unsigned";
      }
      r.detail = "answer " + rcode_text(rcode) + " carries no TSIG";
      return r;
    }
    auto v = tsig::verify_response(*answer, info, resp->additional.back(), *key, mac, now);
    if (v.status == tsig::Status::Unsigned) {
      tsig_error = v.tsig.error;
      r = rfc2136_result(rcode, tsig_error);
      if (r.verdict == Verdict::Good) r.verdict = Verdict::Retry;
      r.detail = "server refused our TSIG (" + tsig_error_text(tsig_error) + ")" +
                 (tsig_error == 17 ? ": it does not know key " + key->name.to_text() : "");
      return r;
    }
    if (!v.ok()) {
      r.code = "badsig";
      r.detail = std::string("answer's TSIG does not verify: ") + v.reason;
      return r;
    }
    tsig_error = v.tsig.error;
  }
  r = rfc2136_result(rcode, tsig_error);
  if (r.detail.empty()) r.detail = rcode_text(rcode) + (tcp ? " (over TCP)" : "");
  return r;
}

}  // namespace ddns::client
