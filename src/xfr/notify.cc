// The NOTIFY sender thread: one UDP socket per address family, a poll loop
// with the earliest retransmission as its timeout.
#include "xfr/notify.h"

#include "metrics/metrics.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <random>
#include <unordered_map>

#include "base/thread_annotations.h"

namespace ddns::xfr {
namespace {

using Clock = std::chrono::steady_clock;

bool same_addr(const sockaddr_storage& a, socklen_t, const net::Endpoint& b) {
  if (a.ss_family != b.family()) return false;
  if (a.ss_family == AF_INET) {
    auto* x = reinterpret_cast<const sockaddr_in*>(&a);
    auto* y = reinterpret_cast<const sockaddr_in*>(&b.addr);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    auto* x = reinterpret_cast<const sockaddr_in6*>(&a);
    auto* y = reinterpret_cast<const sockaddr_in6*>(&b.addr);
    return x->sin6_port == y->sin6_port &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

uint32_t soa_serial(const wire::RR& soa) {
  // SOA rdata: MNAME RNAME (uncompressed as stored) SERIAL ...
  ByteReader r(soa.rdata);
  for (int i = 0; i < 2; ++i) {
    for (;;) {
      uint8_t l = r.u8();
      if (!r.ok() || l == 0) break;
      r.skip(l);
    }
  }
  uint32_t s = r.u32();
  return r.ok() ? s : 0;
}

}  // namespace

Result<NotifyTarget> NotifyTarget::parse(std::string_view text, const tsig::KeyRing& ring) {
  NotifyTarget t;
  t.text = std::string(text);
  std::string_view addr = text;
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    addr = text.substr(0, at);
    std::string kn(text.substr(at + 1));
    if (kn.empty()) return make_error("notify '" + t.text + "': empty key name");
    if (kn.back() != '.') kn += '.';
    auto name = wire::Name::from_text(kn);
    if (!name) return make_error("notify '" + t.text + "': bad key name");
    const tsig::Key* k = ring.find(*name);
    if (!k) return make_error("notify '" + t.text + "': unknown key " + name->to_text());
    t.key = *k;
  }
  std::string spec(addr);
  bool has_port = false;
  if (!spec.empty() && spec.front() == '[') {
    has_port = spec.find("]:") != std::string::npos;
  } else {
    // One colon: v4 host:port; several (bare v6): no port.
    size_t colons = std::count(spec.begin(), spec.end(), ':');
    if (colons == 1) has_port = true;
    else if (colons > 1) spec = "[" + spec + "]";
  }
  if (!has_port) spec += ":53";
  auto ep = net::Endpoint::parse(spec);
  if (!ep) return make_error("notify '" + t.text + "': " + ep.error().message);
  t.addr = *ep;
  return t;
}

Result<std::vector<uint8_t>> make_notify(uint16_t id, const wire::Name& zone, const wire::RR& soa,
                                         const tsig::Key* key, std::vector<uint8_t>* mac_out) {
  std::vector<uint8_t> buf(1024 + soa.rdata.size() + zone.wire_size() * 2);
  wire::MessageBuilder b(buf.data(), buf.size() - (key ? tsig::tsig_size(*key) : 0));
  wire::Header h;
  h.id = id;
  h.set_opcode(wire::Opcode::Notify);
  h.set_aa(true);  // RFC 1996 §3.7
  b.set_header(h);
  b.add_question(zone, 6, 1);
  std::span<const uint8_t> rd(soa.rdata.data(), soa.rdata.size());
  if (!b.add_rrset(wire::MessageBuilder::Section::Answer, soa.owner, soa.type, soa.rclass, soa.ttl,
                   std::span<const std::span<const uint8_t>>(&rd, 1)))
    return make_error("NOTIFY does not fit");
  size_t n = b.finish();
  if (key) {
    std::vector<uint8_t> mac;
    auto r = tsig::sign_request(buf.data(), n, buf.size(), *key, tsig::now_seconds(), &mac);
    if (!r) return r.error();
    n = *r;
    if (mac_out) *mac_out = std::move(mac);
  }
  buf.resize(n);
  return buf;
}

struct NotifySender::Impl {
  NotifyOptions opts;
  std::unordered_map<wire::Name, std::vector<NotifyTarget>, wire::NameHash> targets;

  struct Job {
    wire::Name zone;
    wire::RR soa;
    std::optional<std::vector<NotifyTarget>> targets;  // none = the configured ones
  };
  mutable Mutex mu;
  std::vector<Job> incoming GUARDED_BY(mu);
  NotifyStats st GUARDED_BY(mu);

  int wake = -1;
  int sock4 = -1, sock6 = -1;
  std::thread thread;
  bool running GUARDED_BY(mu) = false;

  struct Pending {
    wire::Name zone;
    std::shared_ptr<const NotifyTarget> target;
    uint32_t serial = 0;
    uint16_t id = 0;
    std::vector<uint8_t> msg;
    std::vector<uint8_t> mac;
    size_t tries = 0;
    Clock::time_point due;
  };
  // Key: zone text + target address; one pending NOTIFY per zone and target.
  std::map<std::pair<std::string, std::string>, Pending> pending;
  std::mt19937 rng{std::random_device{}()};

  void count(uint64_t NotifyStats::*f, uint64_t n = 1) {
    MutexLock lock(mu);
    st.*f += n;
  }

  void send(Pending& p) {
    int& fd = p.target->addr.family() == AF_INET6 ? sock6 : sock4;
    // NS-derived targets may bring a family no configured target had.
    if (fd < 0)
      fd = ::socket(p.target->addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      ::sendto(fd, p.msg.data(), p.msg.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&p.target->addr.addr), p.target->addr.len);
    }
    count(&NotifyStats::sent);
    size_t i = p.tries++;
    auto wait = i < opts.backoff.size() ? opts.backoff[i] : std::chrono::milliseconds(0);
    p.due = Clock::now() + wait;
  }

  void take_incoming() {
    std::vector<Job> jobs;
    {
      MutexLock lock(mu);
      jobs.swap(incoming);
    }
    for (auto& j : jobs) {
      std::vector<NotifyTarget> list;
      if (j.targets) {
        list = std::move(*j.targets);
      } else {
        auto it = targets.find(j.zone);
        if (it == targets.end()) continue;
        list = it->second;
      }
      uint32_t serial = soa_serial(j.soa);
      std::string ztext = j.zone.to_text();
      for (auto& tv : list) {
        auto tp = std::make_shared<const NotifyTarget>(std::move(tv));
        const NotifyTarget& t = *tp;
        auto key = std::make_pair(ztext, t.addr.to_string());
        auto old = pending.find(key);
        if (old != pending.end()) {
          count(&NotifyStats::replaced);
          pending.erase(old);
        }
        Pending p;
        p.zone = j.zone;
        p.target = tp;
        p.serial = serial;
        p.id = uint16_t(rng());
        auto m = make_notify(p.id, j.zone, j.soa, t.key ? &*t.key : nullptr, &p.mac);
        if (!m) {
          spdlog::error("NOTIFY {} serial {} to {}: {}", ztext, serial, t.text, m.error().message);
          continue;
        }
        p.msg = std::move(*m);
        auto& slot = pending[key] = std::move(p);
        metrics::registry().shared().notify_sent.add();
        send(slot);
      }
    }
  }

  void receive(int fd) {
    uint8_t buf[4096];
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t flen = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                             &flen);
      if (n < 0) return;
      if (size_t(n) < wire::kHeaderSize) continue;
      uint16_t id = uint16_t(buf[0] << 8 | buf[1]);
      bool qr = buf[2] & 0x80;
      uint8_t opcode = (buf[2] >> 3) & 0xF;
      if (!qr || opcode != uint8_t(wire::Opcode::Notify)) continue;
      for (auto it = pending.begin(); it != pending.end(); ++it) {
        Pending& p = it->second;
        if (p.id != id || !same_addr(from, flen, p.target->addr)) continue;
        // RFC 1996 §4.7: the answer echoes the question; match the zone too.
        wire::ParseInfo info;
        auto msg = wire::parse({buf, size_t(n)}, &info);
        if (!msg || msg->question.size() != 1 || !(msg->question[0].name == p.zone)) break;
        std::string ztext = p.zone.to_text();
        if (p.target->key) {
          if (!info.tsig_offset) {
            spdlog::warn("NOTIFY {} serial {} to {}: answer not signed; ignored", ztext, p.serial,
                         p.target->text);
            break;  // keep retrying: a forged answer must not stop us
          }
          auto v = tsig::verify_response({buf, size_t(n)}, info, msg->additional.back(),
                                         *p.target->key, p.mac, tsig::now_seconds());
          if (!v.ok()) {
            spdlog::warn("NOTIFY {} serial {} to {}: answer TSIG {}; ignored", ztext, p.serial,
                         p.target->text, tsig::status_text(v.status));
            break;
          }
        }
        uint16_t rc = msg->rcode();
        if (rc == 0) {
          spdlog::info("NOTIFY {} serial {} to {}: acknowledged", ztext, p.serial, p.target->text);
          count(&NotifyStats::acked);
        } else {
          spdlog::warn("NOTIFY {} serial {} to {}: answered with RCODE {}", ztext, p.serial,
                       p.target->text, rc);
          count(&NotifyStats::rejected);
        }
        pending.erase(it);
        break;
      }
    }
  }

  void expire() {
    auto now = Clock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      Pending& p = it->second;
      if (p.due > now) {
        ++it;
        continue;
      }
      if (p.tries > opts.backoff.size()) {
        spdlog::warn("NOTIFY {} serial {} to {}: no answer after {} tries; giving up",
                     p.zone.to_text(), p.serial, p.target->text, p.tries);
        count(&NotifyStats::given_up);
        it = pending.erase(it);
        continue;
      }
      spdlog::debug("NOTIFY {} serial {} to {}: retry {}", p.zone.to_text(), p.serial,
                    p.target->text, p.tries);
      send(p);
      ++it;
    }
  }

  void run() {
    for (;;) {
      int timeout = -1;
      if (!pending.empty()) {
        auto first = Clock::time_point::max();
        for (auto& [k, p] : pending) first = std::min(first, p.due);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now());
        timeout = int(std::max<int64_t>(0, ms.count() + 1));
      }
      pollfd fds[3] = {{wake, POLLIN, 0}, {sock4, POLLIN, 0}, {sock6, POLLIN, 0}};
      int n = ::poll(fds, 3, timeout);
      if (n < 0 && errno != EINTR) return;
      if (n > 0 && (fds[0].revents & POLLIN)) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake, &v, sizeof v);
        {
          MutexLock lock(mu);
          if (!running) return;
        }
        take_incoming();
      }
      if (n > 0 && sock4 >= 0 && (fds[1].revents & POLLIN)) receive(sock4);
      if (n > 0 && sock6 >= 0 && (fds[2].revents & POLLIN)) receive(sock6);
      expire();
    }
  }

  void close_all() {
    for (int* fd : {&wake, &sock4, &sock6}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }
};

NotifySender::NotifySender(NotifyOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(opts);
}

NotifySender::~NotifySender() { stop(); }

void NotifySender::set_targets(const wire::Name& zone, std::vector<NotifyTarget> targets) {
  if (targets.empty()) impl_->targets.erase(zone);
  else impl_->targets[zone] = std::move(targets);
}

bool NotifySender::has_targets(const wire::Name& zone) const {
  return impl_->targets.count(zone) != 0;
}

Result<void> NotifySender::start() {
  Impl& m = *impl_;
  if (m.thread.joinable()) return {};
  m.wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m.wake < 0) return make_error(std::string("eventfd: ") + std::strerror(errno));
  bool v4 = false, v6 = false;
  for (auto& [z, ts] : m.targets)
    for (auto& t : ts) (t.addr.family() == AF_INET6 ? v6 : v4) = true;
  if (v4) m.sock4 = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (v6) m.sock6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if ((v4 && m.sock4 < 0) || (v6 && m.sock6 < 0)) {
    std::string err = std::string("NOTIFY socket: ") + std::strerror(errno);
    m.close_all();
    return make_error(err);
  }
  {
    MutexLock lock(m.mu);
    m.running = true;
  }
  m.thread = std::thread([&m] { m.run(); });
  return {};
}

void NotifySender::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  {
    MutexLock lock(m.mu);
    m.running = false;
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = ::write(m.wake, &one, sizeof one);
  m.thread.join();
  m.pending.clear();
  m.close_all();
}

void NotifySender::notify(const wire::Name& zone, const wire::RR& soa) {
  if (!impl_->targets.count(zone)) return;
  queue(zone, soa, std::nullopt);
}

void NotifySender::notify(const wire::Name& zone, const wire::RR& soa,
                          std::vector<NotifyTarget> targets) {
  if (targets.empty()) return;
  queue(zone, soa, std::move(targets));
}

void NotifySender::queue(const wire::Name& zone, const wire::RR& soa,
                         std::optional<std::vector<NotifyTarget>> targets) {
  Impl& m = *impl_;
  {
    MutexLock lock(m.mu);
    if (!m.running) return;
    // A newer serial for the same zone supersedes a queued one.
    for (auto& j : m.incoming)
      if (j.zone == zone) {
        j.soa = soa;
        j.targets = std::move(targets);
        return;
      }
    m.incoming.push_back({zone, soa, std::move(targets)});
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = ::write(m.wake, &one, sizeof one);
}

NotifyStats NotifySender::stats() const {
  MutexLock lock(impl_->mu);
  return impl_->st;
}

namespace {

bool same_endpoint(const net::Endpoint& a, const net::Endpoint& b) {
  return same_addr(a.addr, a.len, b);
}

// The name at the start of uncompressed wire bytes (zone storage never
// compresses), or nullopt.
std::optional<wire::Name> name_at(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] != 0) i += 1 + p[i];
  if (i >= n) return std::nullopt;
  auto name = wire::Name::from_wire({p, i + 1});
  if (!name) return std::nullopt;
  return name->lowercased();
}

}  // namespace

std::vector<NotifyTarget> ns_targets(const zone::Zone& z, const zone::ZoneSet& all, uint16_t port,
                                     std::span<const net::Endpoint> own,
                                     std::vector<std::string>* unknown) {
  constexpr uint16_t kNs = uint16_t(wire::RRType::NS), kA = uint16_t(wire::RRType::A),
                     kAaaa = uint16_t(wire::RRType::AAAA);
  std::vector<NotifyTarget> out;
  zone::RRsetView soa = z.soa();
  auto mname =
      soa.data ? name_at(soa.data + 2, size_t(soa.data[0]) << 8 | soa.data[1]) : std::nullopt;
  const wire::Name origin = z.origin().lowercased();
  zone::RRsetView ns = z.rrset(z.apex(), kNs);
  const uint8_t* p = ns.data;
  for (size_t i = 0; i < ns.count; ++i) {
    size_t len = size_t(p[0]) << 8 | p[1];
    auto host = name_at(p + 2, len);
    p += 2 + len;
    // RFC 1996 §3.6: the MNAME host is the primary itself.
    if (!host || (mname && *host == *mname)) continue;
    // Our own copy of `z` may be newer than the one `all` holds.
    const zone::Zone* where = host->is_subdomain_of(origin) ? &z : all.find(*host);
    bool found = false;
    if (where) {
      zone::LowerName ln;
      ln.assign(host->wire().data(), host->wire_size());
      zone::NodeId id = where->find(ln.wire, ln.len);
      for (uint16_t type : {kA, kAaaa}) {
        if (id == zone::kNoNode) break;
        zone::RRsetView v = where->rrset(id, type);
        const uint8_t* q = v.data;
        for (size_t k = 0; k < v.count; ++k) {
          size_t n = size_t(q[0]) << 8 | q[1];
          NotifyTarget t;
          if (type == kA && n == 4) {
            auto* sa = reinterpret_cast<sockaddr_in*>(&t.addr.addr);
            sa->sin_family = AF_INET;
            std::memcpy(&sa->sin_addr, q + 2, 4);
            t.addr.len = sizeof(sockaddr_in);
          } else if (type == kAaaa && n == 16) {
            auto* sa = reinterpret_cast<sockaddr_in6*>(&t.addr.addr);
            sa->sin6_family = AF_INET6;
            std::memcpy(&sa->sin6_addr, q + 2, 16);
            t.addr.len = sizeof(sockaddr_in6);
          }
          q += 2 + n;
          if (t.addr.len == 0) continue;
          t.addr.set_port(port);
          found = true;
          bool self = false;
          for (const auto& e : own) self = self || same_endpoint(e, t.addr);
          if (self) continue;
          t.text = t.addr.to_string() + " (NS " + host->to_text() + ")";
          out.push_back(std::move(t));
        }
      }
    }
    if (!found && unknown) unknown->push_back(host->to_text());
  }
  return out;
}

std::vector<NotifyTarget> merge_targets(const std::vector<NotifyTarget>& configured,
                                        std::vector<NotifyTarget> extra) {
  std::vector<NotifyTarget> out = configured;
  for (auto& t : extra) {
    bool dup = false;
    for (const auto& c : out) dup = dup || same_endpoint(c.addr, t.addr);
    if (!dup) out.push_back(std::move(t));
  }
  return out;
}

NotifyVerdict check_notify(const NotifyRequest& req, const PrimariesOf& primaries) {
  const wire::Message& m = *req.msg;
  if (m.question.size() != 1) return NotifyVerdict::FormErr;
  const wire::Question& q = m.question[0];
  // RFC 1996 §3.7: QTYPE SOA, class IN for our zones.
  if (q.qtype != uint16_t(wire::RRType::SOA) || q.qclass != uint16_t(wire::RRClass::IN))
    return NotifyVerdict::FormErr;
  const std::vector<PrimaryAddr>* list = primaries ? primaries(q.name) : nullptr;
  if (!list) return NotifyVerdict::NotAuth;
  // RFC 1996 §3.10: only from a configured primary (and with its key).
  const tsig::Verified* v = req.signer;
  for (const auto& p : *list) {
    if (!req.source || !same_address(p.addr, req.source, req.source_len)) continue;
    if (p.key && !(v && v->key && v->key->name == p.key->name)) continue;
    return NotifyVerdict::Accepted;
  }
  spdlog::warn("zone {}: NOTIFY refused (not from a configured primary{})", q.name.to_text(),
               v ? "" : ", or unsigned");
  return NotifyVerdict::Refused;
}

size_t notify_response(const NotifyRequest& req, NotifyVerdict verdict, uint8_t* out, size_t cap,
                       uint64_t now) {
  const wire::Message& m = *req.msg;
  wire::Rcode rc = wire::Rcode::NoError;
  switch (verdict) {
    case NotifyVerdict::Accepted: rc = wire::Rcode::NoError; break;
    case NotifyVerdict::FormErr: rc = wire::Rcode::FormErr; break;
    case NotifyVerdict::NotAuth: rc = wire::Rcode::NotAuth; break;
    case NotifyVerdict::Refused: rc = wire::Rcode::Refused; break;
  }
  const size_t reserve = req.signer ? tsig::tsig_size(*req.signer) : 0;
  if (cap < reserve + wire::kHeaderSize) return 0;
  wire::MessageBuilder b(out, cap - reserve);
  wire::Header h;
  h.id = m.header.id;
  h.set_qr(true);
  h.set_opcode(wire::Opcode::Notify);
  h.set_aa(rc == wire::Rcode::NoError);
  b.set_header(h);
  // RFC 1996 §4.7: the response echoes the question; a FORMERR for a
  // question count other than one has none to echo.
  if (m.question.size() == 1) b.add_question(m.question[0]);
  b.set_rcode(uint16_t(rc));
  size_t n = b.finish();
  if (n && req.signer)
    if (auto s = tsig::sign_response(out, n, cap, *req.signer, now)) n = *s;
  return n;
}

}  // namespace ddns::xfr
