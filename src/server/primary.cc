// ddnsd as a primary: routes diverted AXFR/IXFR queries through the ACL and
// TSIG checks to a streamed answer (xfr/out), and NOTIFY to xfr/notify.
#include "server/primary.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <unordered_map>

#include "base/thread_annotations.h"
#include "xfr/acl.h"
#include "xfr/notify.h"
#include "xfr/out.h"
#include "zone/serial.h"

namespace ddns::server {
namespace {

using Clock = std::chrono::steady_clock;

std::string peer_text(const net::Peer* peer) {
  if (!peer || !peer->addr) return "?";
  return net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(peer->addr), peer->addr_len)
      .to_string();
}

const char* type_text(uint16_t t) { return t == xfr::kTypeAxfr ? "AXFR" : "IXFR"; }

// Logs how a streamed transfer went when the front end drops it (complete,
// or the connection closed).
class LoggedSource : public net::MessageSource {
 public:
  LoggedSource(std::unique_ptr<xfr::XfrSource> src, std::string what)
      : src_(std::move(src)), what_(std::move(what)), t0_(Clock::now()) {}
  ~LoggedSource() override {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
    if (src_->finished())
      spdlog::info("{}: done, {} records in {} messages, {:.1f} ms", what_, src_->records(),
                   src_->messages(), ms);
    else
      spdlog::warn("{}: aborted after {} records in {} messages, {:.1f} ms", what_,
                   src_->records(), src_->messages(), ms);
  }
  size_t next(uint8_t* out, size_t cap) override { return src_->next(out, cap); }

 private:
  std::unique_ptr<xfr::XfrSource> src_;
  std::string what_;
  Clock::time_point t0_;
};

}  // namespace

struct Primary::Impl {
  const net::Published<zone::ZoneSet>* zones;
  store::Store* store;
  std::shared_ptr<const tsig::KeyRing> ring;
  // Replaced whole by set_acls() (SIGHUP); a transfer reads the current
  // map once (transfers are rare: the lock behind load() costs nothing).
  using AclMap = std::unordered_map<wire::Name, xfr::Acl, wire::NameHash>;
  net::Published<AclMap> acls{std::make_shared<const AclMap>()};
  xfr::NotifySender notifier;
  bool started = false;

  // Zones that NOTIFY their NS hosts too: the list is derived from each
  // published version (an UPDATE may change the NS set or its glue).
  struct NsNotify {
    uint16_t port = 53;
    std::vector<xfr::NotifyTarget> configured;
    std::string logged;  // the last target list logged
  };
  Mutex ns_mu;
  std::unordered_map<wire::Name, NsNotify, wire::NameHash> ns_notify GUARDED_BY(ns_mu);
  std::vector<net::Endpoint> own;  // our listeners: never NOTIFY ourselves

  // The configured targets plus the NS hosts of `z` (the list logged when it
  // changes).
  std::vector<xfr::NotifyTarget> ns_list(NsNotify& nn, const zone::Zone& z) REQUIRES(ns_mu) {
    std::vector<std::string> unknown;
    auto set = zones->load();
    std::vector<xfr::NotifyTarget> ns;
    if (set) {
      ns = xfr::ns_targets(z, *set, nn.port, own, &unknown);
    } else {
      ns = xfr::ns_targets(z, zone::ZoneSet{}, nn.port, own, &unknown);
    }
    auto all = xfr::merge_targets(nn.configured, std::move(ns));
    std::string text;
    for (const auto& t : all) text += (text.empty() ? "" : ", ") + t.text;
    for (const auto& u : unknown) text += "; no address for NS " + u;
    if (text != nn.logged) {
      spdlog::info("zone {}: NOTIFY targets: {}", z.origin().to_text(),
                   text.empty() ? "none" : text);
      nn.logged = text;
    }
    return all;
  }

  std::shared_ptr<const zone::Zone> find_zone(const wire::Name& origin) const {
    auto set = zones->load();
    if (!set) return nullptr;
    for (const auto& z : set->zones())
      if (z->origin() == origin) return z;
    return nullptr;
  }
};

Primary::Primary(const net::Published<zone::ZoneSet>* zones, store::Store* store,
                 std::shared_ptr<const tsig::KeyRing> ring)
    : impl_(std::make_unique<Impl>()) {
  impl_->zones = zones;
  impl_->store = store;
  impl_->ring = ring ? std::move(ring) : std::make_shared<const tsig::KeyRing>();
}

Primary::~Primary() { stop(); }

// The zone's origin ("example.test" read as absolute), or an error that
// names the config location.
Result<wire::Name> origin_of(const conf::ZoneConfig& zc) {
  static const wire::Name root;
  auto origin = wire::Name::from_text(zc.name, &root);
  if (!origin) return make_error(zc.where + ": zone '" + zc.name + "': " + origin.error().message);
  return origin;
}

Result<void> Primary::set_acls(const conf::Config& cfg) {
  auto next = std::make_shared<Impl::AclMap>();
  for (const auto& zc : cfg.zones) {
    auto origin = origin_of(zc);
    if (!origin) return origin.error();
    const std::string where =
        (zc.where.empty() ? std::string() : zc.where + ": ") + "zone " + origin->to_text() + ": ";
    auto acl = xfr::Acl::parse(zc.allow_transfer);
    if (!acl) return make_error(where + "allow-transfer: " + acl.error().message);
    for (const auto& e : acl->entries())
      if (e.key && !impl_->ring->find(*e.key))
        return make_error(where + "allow-transfer: unknown key " + e.key->to_text());
    (*next)[*origin] = std::move(*acl);
  }
  impl_->acls.publish(std::move(next));
  return {};
}

Result<void> Primary::configure(const conf::Config& cfg) {
  if (auto r = set_acls(cfg); !r) return r;
  for (const auto& zc : cfg.zones) {
    auto origin = origin_of(zc);
    if (!origin) return origin.error();
    auto where = [&](const std::string& what) {
      return (zc.where.empty() ? std::string() : zc.where + ": ") + "zone " + origin->to_text() +
             ": " + what;
    };
    std::vector<xfr::NotifyTarget> targets;
    for (const auto& n : zc.notify) {
      auto t = xfr::NotifyTarget::parse(n, *impl_->ring);
      if (!t) return make_error(where(t.error().message));
      targets.push_back(std::move(*t));
    }
    if (zc.notify_ns) {
      MutexLock lk(impl_->ns_mu);
      impl_->ns_notify[*origin] = {zc.notify_ns_port, targets, {}};
    }
    impl_->notifier.set_targets(*origin, std::move(targets));
  }
  for (const auto& l : cfg.server.listen)
    if (auto e = net::Endpoint::parse(l)) impl_->own.push_back(*e);
  return {};
}

void Primary::start() {
  if (impl_->started) return;
  if (auto r = impl_->notifier.start(); !r) {
    spdlog::error("NOTIFY sender: {}", r.error().message);
    return;
  }
  impl_->started = true;
  // Say at once where NOTIFYs will go (the NS set is known from the start).
  MutexLock lk(impl_->ns_mu);
  for (auto& [origin, nn] : impl_->ns_notify)
    if (auto z = impl_->find_zone(origin)) impl_->ns_list(nn, *z);
}

void Primary::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->notifier.stop();
  impl_->started = false;
}

void Primary::published(const zone::Zone& z) {
  Impl& m = *impl_;
  {
    MutexLock lk(m.ns_mu);
    auto it = m.ns_notify.find(z.origin());
    if (it != m.ns_notify.end()) {
      auto all = m.ns_list(it->second, z);
      lk.unlock();
      m.notifier.notify(z.origin(), xfr::soa_record(z), std::move(all));
      return;
    }
  }
  if (!m.notifier.has_targets(z.origin())) return;
  m.notifier.notify(z.origin(), xfr::soa_record(z));
}

size_t Primary::handle_transfer(std::span<const uint8_t> query, net::Transport t,
                                const net::Peer* peer, uint8_t* out, size_t cap) {
  Impl& m = *impl_;
  if (query.size() < wire::kHeaderSize || (query[2] & 0x80)) return 0;
  wire::ParseInfo info;
  auto msg = wire::parse(query, &info);
  if (!msg) {
    wire::Header h;
    h.id = uint16_t(query[0] << 8 | query[1]);
    h.flags = uint16_t(query[2] << 8 | query[3]);
    return xfr::error_answer(out, cap, h, nullptr, wire::Rcode::FormErr, nullptr);
  }
  const wire::Header& qh = msg->header;
  if (msg->question.size() != 1)
    return xfr::error_answer(out, cap, qh, nullptr, wire::Rcode::FormErr, nullptr);
  const wire::Question& q = msg->question[0];
  const std::string who = peer_text(peer);

  // RFC 8945 §5.2: TSIG first; a failed check gets the TSIG error answer.
  std::optional<tsig::Verified> v;
  if (info.tsig_offset) {
    v = tsig::verify_request(query, info, msg->additional.back(), *m.ring, tsig::now_seconds());
    if (v->status == tsig::Status::FormErr)
      return xfr::error_answer(out, cap, qh, &q, wire::Rcode::FormErr, nullptr);
    if (!v->ok()) {
      spdlog::warn("{} of {} from {}: TSIG {} ({})", type_text(q.qtype), q.name.to_text(), who,
                   tsig::status_text(v->status), v->reason);
      return xfr::error_answer(out, cap, qh, &q, wire::Rcode::NotAuth, &*v);
    }
  }
  const tsig::Verified* signer = v ? &*v : nullptr;
  if (q.qtype != xfr::kTypeAxfr && q.qtype != xfr::kTypeIxfr)
    return xfr::error_answer(out, cap, qh, &q, wire::Rcode::FormErr, signer);

  auto z = m.find_zone(q.name);
  if (!z) return xfr::error_answer(out, cap, qh, &q, wire::Rcode::NotAuth, signer);
  if (q.qtype == xfr::kTypeAxfr && t == net::Transport::Udp)
    return xfr::error_answer(out, cap, qh, &q, wire::Rcode::NotImp, signer);  // as Knot

  const auto acls = m.acls.load();
  auto acl = acls->find(z->origin());
  const wire::Name* key = v && v->key ? &v->key->name : nullptr;
  if (acl == acls->end() ||
      !acl->second.allows(peer && peer->addr ? reinterpret_cast<const sockaddr*>(peer->addr) : nullptr,
                          key)) {
    spdlog::warn("{} of {} from {}{}: refused by allow-transfer", type_text(q.qtype),
                 z->origin().to_text(), who, key ? " key " + key->to_text() : std::string());
    return xfr::error_answer(out, cap, qh, &q, wire::Rcode::Refused, signer);
  }
  if (z->expired()) return xfr::error_answer(out, cap, qh, &q, wire::Rcode::ServFail, signer);

  const wire::RR soa = xfr::soa_record(*z);
  std::unique_ptr<xfr::XfrSource> src;
  xfr::OutRequest req;
  req.id = qh.id;
  req.qname = q.name;
  req.qtype = q.qtype;
  req.qclass = q.qclass;
  if (v) {
    req.signer.emplace(*v->key, v->mac());
    req.tsig_reserve = tsig::tsig_size(*v);
  }
  const bool udp = t == net::Transport::Udp;
  size_t limit = 65535;
  if (udp) {
    size_t want = msg->edns ? std::max<size_t>(msg->edns->udp_size, wire::kMinUdpSize)
                            : wire::kMinUdpSize;
    limit = std::min(want, cap);
  }
  std::string what;

  if (q.qtype == xfr::kTypeIxfr) {
    // RFC 1995 §3: the client's serial is the SOA in the authority section.
    const wire::RR* csoa = nullptr;
    for (const auto& rr : msg->authority)
      if (rr.type == xfr::kTypeSoa) csoa = &rr;
    if (!csoa) return xfr::error_answer(out, cap, qh, &q, wire::Rcode::FormErr, signer);
    ByteReader r(csoa->rdata);
    for (int i = 0; i < 2; ++i)
      for (uint8_t l; r.ok() && (l = r.u8()) != 0;) r.skip(l);
    uint32_t from = r.u32();
    if (!r.ok()) return xfr::error_answer(out, cap, qh, &q, wire::Rcode::FormErr, signer);
    // RFC 1995 §2: a client at or past our serial gets our SOA alone.
    if (!zone::serial_lt(from, z->serial()))
      return xfr::single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer);
    std::optional<store::Journal> j;
    if (m.store) {
      auto jr = m.store->journal(z->origin(), from);
      if (!jr)
        spdlog::warn("IXFR of {} from {}: journal: {}; sending the whole zone",
                     z->origin().to_text(), who, jr.error().message);
      else
        j = std::move(*jr);
    }
    if (j && j->status == store::JournalStatus::Newer)
      return xfr::single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer);
    if (j && j->status == store::JournalStatus::Ok && j->changes.empty())
      return xfr::single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer);
    if (j && j->status == store::JournalStatus::Ok) {
      // The journal may run ahead of the published snapshot (a commit not
      // yet published): its newest SOA frames the answer.
      wire::RR newest = soa;
      const auto& last = j->changes.back().added;
      if (!last.empty() && last.front().type == xfr::kTypeSoa) newest = last.front();
      what = "IXFR of " + z->origin().to_text() + " " + std::to_string(from) + "->" +
             std::to_string(j->current_serial) + " to " + who;
      src = xfr::XfrSource::ixfr(std::move(req), std::move(newest), std::move(j->changes), limit);
    } else {
      if (udp)  // RFC 1995 §2: too large for UDP: the SOA tells the client to use TCP
        return xfr::single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer);
      what = "IXFR of " + z->origin().to_text() + " " + std::to_string(from) + "->" +
             std::to_string(z->serial()) + " (full, RFC 1995 §4) to " + who;
      src = xfr::XfrSource::axfr(std::move(req), z, limit);
    }
  } else {
    what = "AXFR of " + z->origin().to_text() + " serial " + std::to_string(z->serial()) + " to " +
           who;
    src = xfr::XfrSource::axfr(std::move(req), z, limit);
  }
  if (key) what += " (key " + key->to_text() + ")";

  if (udp) {
    size_t n = src->next(out, limit);
    if (n && src->finished()) return n;
    return xfr::single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer);
  }
  if (peer && peer->responder) {
    spdlog::info("{}: started", what);
    peer->responder->stream(peer->conn, std::make_unique<LoggedSource>(std::move(src), what));
    peer->deferred = true;
    return 0;
  }
  // No way to stream (a caller without a connection): only a one-message
  // answer can be given.
  size_t n = src->next(out, std::min<size_t>(cap, 65535));
  if (n && src->finished()) return n;
  return xfr::error_answer(out, cap, qh, &q, wire::Rcode::ServFail, nullptr);
}

}  // namespace ddns::server
