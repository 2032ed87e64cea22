// ddnsd as a primary: per-zone transfer ACLs (read by the dispatcher, which
// hands AXFR/IXFR to xfr/out) and outgoing NOTIFY through xfr/notify.
#include "server/primary.h"

#include <spdlog/spdlog.h>

#include <unordered_map>

#include "base/thread_annotations.h"
#include "xfr/acl.h"
#include "xfr/notify.h"
#include "xfr/out.h"

namespace ddns::server {

struct Primary::Impl {
  const net::Published<zone::ZoneSet>* zones;
  store::Store* store;
  std::shared_ptr<const tsig::KeyRing> ring;
  // Replaced whole by set_acls() (SIGHUP); the dispatcher reads the current
  // map once per transfer (transfers are rare: the lock behind load()
  // costs nothing).
  net::Published<xfr::AclMap> acls{std::make_shared<const xfr::AclMap>()};
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
  auto next = std::make_shared<xfr::AclMap>();
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

const net::Published<xfr::AclMap>& Primary::transfer_acls() const { return impl_->acls; }

}  // namespace ddns::server
