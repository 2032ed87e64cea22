// --check-config, the RRL settings, and SIGHUP's re-read configuration
// applied to a running server (Server::reconfigure): zones added, removed
// or moved to another file, transfer ACLs, RRL and the log level change at
// once; what the running threads hold without locks (listeners, keys,
// update policies, writers, the data directory) is reported as needing a
// restart.
#include "server/runtime_config.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "net/endpoint.h"
#include "server/primary.h"
#include "server/server.h"
#include "tsig/keyfile.h"
#include "update/policy.h"
#include "xfr/acl.h"
#include "xfr/in.h"
#include "xfr/notify.h"
#include "zone/check.h"

namespace ddns::server {
namespace {

static_assert(conf::RrlConfig::kMaxRate == net::RrlSettings::kMaxRate &&
              conf::RrlConfig::kMaxSlip == net::RrlSettings::kMaxSlip &&
              conf::RrlConfig::kMaxWindow == net::RrlSettings::kMaxWindow);

// "example.test" and "example.test." alike.
Result<wire::Name> origin_of(const std::string& text) {
  static const wire::Name root;
  return wire::Name::from_text(text, &root);
}

std::string zone_where(const conf::ZoneConfig& zc, const std::string& origin) {
  return (zc.where.empty() ? std::string() : zc.where + ": ") + "zone " + origin + ": ";
}

// A zone that only its file feeds: no writer, no primaries. Only these can
// come and go while running (a writer or a secondary's refresh timers are
// wired at start).
bool file_only(const conf::ZoneConfig& zc) {
  return zc.update_policy.empty() && !zc.ddns && zc.primaries.empty();
}

// The per-zone settings other than the file, which the running server
// holds in structures its threads read without locks.
bool same_wiring(const conf::ZoneConfig& a, const conf::ZoneConfig& b) {
  return a.update_policy == b.update_policy && a.serial_policy == b.serial_policy &&
         a.notify == b.notify &&
         a.notify_ns == b.notify_ns && a.notify_ns_port == b.notify_ns_port &&
         a.primaries == b.primaries && a.ddns == b.ddns && a.write_back_s == b.write_back_s;
}

// Every zone's allow-transfer, to tell whether a reload changed any.
std::string acl_text(const std::vector<conf::ZoneConfig>& zones) {
  std::string out;
  for (const auto& z : zones) {
    out += z.name + ":";
    for (const auto& e : z.allow_transfer) out += e + ",";
    out += ";";
  }
  return out;
}

bool same_rrl(const conf::RrlConfig& a, const conf::RrlConfig& b) {
  return a.responses_per_second == b.responses_per_second && a.slip == b.slip &&
         a.window_s == b.window_s && a.ipv4_prefix_length == b.ipv4_prefix_length &&
         a.ipv6_prefix_length == b.ipv6_prefix_length && a.exempt_clients == b.exempt_clients &&
         a.log_only == b.log_only;
}

}  // namespace

net::RrlSettings rrl_settings(const conf::RrlConfig& c) {
  net::RrlSettings s;
  s.responses_per_second = c.responses_per_second;
  s.slip = c.slip;
  s.window_s = c.window_s;
  s.ipv4_prefix = uint8_t(std::min(c.ipv4_prefix_length, 32u));
  s.ipv6_prefix = uint8_t(std::min(c.ipv6_prefix_length, 128u));
  s.log_only = c.log_only;
  for (const auto& e : c.exempt_clients)
    if (auto p = net::Prefix::parse(e)) s.exempt.push_back(*p);
  return s;
}

std::string rrl_summary(const conf::RrlConfig& c) {
  if (c.responses_per_second == 0) return "off";
  return std::to_string(c.responses_per_second) + " responses/s per /" +
         std::to_string(c.ipv4_prefix_length) + " and /" + std::to_string(c.ipv6_prefix_length) +
         ", slip " + std::to_string(c.slip) + ", window " + std::to_string(c.window_s) + "s" +
         (c.exempt_clients.empty() ? "" : ", " + std::to_string(c.exempt_clients.size()) + " exempt") +
         (c.log_only ? ", log-only" : "");
}

std::vector<std::string> config_problems(const conf::Config& cfg) {
  std::vector<std::string> out;
  if (auto r = conf::validate(cfg); !r) out.push_back(r.error().message);
  for (const auto& l : cfg.server.listen)
    if (auto e = net::Endpoint::parse(l); !e) out.push_back("server.listen: " + e.error().message);
  tsig::KeyRing ring;
  for (const auto& file : cfg.keys) {
    auto keys = tsig::load_keyfile(file);
    if (!keys) {
      out.push_back("keys: " + keys.error().message);
      continue;
    }
    for (auto& k : *keys) {
      std::string name = k.name.to_text();
      if (!ring.add(std::move(k))) out.push_back("keys: " + file + ": key " + name + " defined twice");
    }
  }
  const bool have_store = !cfg.server.data_dir.empty();
  for (const auto& zc : cfg.zones) {
    auto origin = origin_of(zc.name);
    if (!origin) {
      out.push_back(zc.where + ": zone '" + zc.name + "': " + origin.error().message);
      continue;
    }
    const std::string where = zone_where(zc, origin->to_text());
    if (!zc.update_policy.empty()) {
      std::string text;
      for (const auto& rule : zc.update_policy) text += rule + "\n";
      if (auto p = update::Policy::parse(text, *origin); !p)
        out.push_back(where + "update-policy: " + p.error().message);
    }
    if ((!zc.update_policy.empty() || zc.ddns || !zc.primaries.empty()) && !have_store)
      out.push_back(where + "needs a data directory (server.data-dir / --data-dir)");
    if (auto acl = xfr::Acl::parse(zc.allow_transfer); !acl) {
      out.push_back(where + "allow-transfer: " + acl.error().message);
    } else {
      for (const auto& e : acl->entries())
        if (e.key && !ring.find(*e.key))
          out.push_back(where + "allow-transfer: unknown key " + e.key->to_text());
    }
    for (const auto& n : zc.notify)
      if (auto t = xfr::NotifyTarget::parse(n, ring); !t) out.push_back(where + "notify: " + t.error().message);
    for (const auto& p : zc.primaries)
      if (auto t = xfr::parse_primary(p, ring); !t) out.push_back(where + "primaries: " + t.error().message);
  }
  if (!cfg.http.listen.empty()) {
    if (!have_store) out.push_back("http.listen: DynDNS needs a data directory (server.data-dir / --data-dir)");
    for (const auto& l : cfg.http.listen)
      if (auto e = net::Endpoint::parse(l); !e) out.push_back("http.listen: " + e.error().message);
    for (const auto* f : {&cfg.http.tls_cert, &cfg.http.tls_key}) {
      std::error_code ec;
      if (!f->empty() && !std::filesystem::is_regular_file(*f, ec))
        out.push_back(std::string(f == &cfg.http.tls_cert ? "http.tls-cert" : "http.tls-key") +
                      ": " + *f + ": no such file");
    }
  }
  for (const auto& e : cfg.rrl.exempt_clients)
    if (auto p = net::Prefix::parse(e); !p) out.push_back("rrl.exempt-clients: " + p.error().message);
  return out;
}

int run_check_config(const conf::Config& cfg, std::ostream& out, std::ostream& err) {
  const auto problems = config_problems(cfg);
  for (const auto& p : problems) err << p << '\n';
  size_t bad_zones = 0;
  for (const auto& zc : cfg.zones) {
    if (zc.file.empty()) continue;  // a secondary without a file: nothing to read yet
    if (zone::run_check_zone(zc.name, zc.file, out, err) != 0) bad_zones++;
  }
  const std::string source = cfg.source.empty() ? "the command line" : cfg.source;
  if (!problems.empty() || bad_zones) {
    err << source << ": " << problems.size() << (problems.size() == 1 ? " problem" : " problems")
        << " in the configuration, " << bad_zones << " of " << cfg.zones.size()
        << " zones refused\n";
    return 1;
  }
  out << "OK: " << source << ": " << cfg.zones.size() << " zones, rrl " << rrl_summary(cfg.rrl)
      << "\n";
  return 0;
}

Result<void> Server::reconfigure(const conf::Config& next) {
  if (auto problems = config_problems(next); !problems.empty()) {
    for (const auto& p : problems) spdlog::error("reload: {}", p);
    return make_error("reload: new configuration refused (" + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem" : " problems") +
                      "), the running one is kept");
  }
  // Held by the threads as they run: a change waits for the next start.
  auto restart = [](const char* what) {
    spdlog::warn("reload: {} changed: takes effect at the next restart", what);
  };
  const auto& a = cfg_.server;
  const auto& b = next.server;
  if (a.listen != b.listen) restart("server.listen");
  if (a.data_dir != b.data_dir) restart("server.data-dir");
  if (a.threads != b.threads || a.tcp_threads != b.tcp_threads) restart("server.threads");
  if (a.udp_coalesce_us != b.udp_coalesce_us) restart("server.udp-coalesce");
  if (a.identity != b.identity || a.version != b.version || a.chaos != b.chaos ||
      a.round_robin != b.round_robin || a.max_udp_size != b.max_udp_size)
    restart("server answer options (identity, version, chaos, round-robin, max-udp-size)");
  if (a.tcp_idle_timeout_ms != b.tcp_idle_timeout_ms || a.tcp_max_clients != b.tcp_max_clients)
    restart("server TCP limits");
  if (a.journal_max_entries != b.journal_max_entries || a.journal_max_age_s != b.journal_max_age_s)
    restart("server.journal-max-*");
  if (cfg_.keys != next.keys) restart("keys");
  if (cfg_.http.listen != next.http.listen || cfg_.http.tls_cert != next.http.tls_cert ||
      cfg_.http.tls_key != next.http.tls_key || cfg_.http.trusted_proxies != next.http.trusted_proxies)
    restart("http");
  if (cfg_.rrl.table_size != next.rrl.table_size) restart("rrl.table-size");

  if (b.log_level != a.log_level) {
    spdlog::set_level(spdlog::level::from_str(b.log_level));
    spdlog::info("reload: log level {}", b.log_level);
    cfg_.server.log_level = b.log_level;
  }
  if (!same_rrl(cfg_.rrl, next.rrl)) {
    const uint32_t table = cfg_.rrl.table_size;
    cfg_.rrl = next.rrl;
    cfg_.rrl.table_size = table;
    if (rrl_) rrl_->configure(rrl_settings(cfg_.rrl));
    spdlog::info("reload: rrl {}", rrl_summary(cfg_.rrl));
  }

  // Transfer ACLs, every zone's at once (keys stay the running ones).
  if (primary_) {
    if (auto r = primary_->set_acls(next); !r)
      spdlog::error("reload: {} (new keys take effect at the next restart); transfer ACLs kept",
                    r.error().message);
    else if (acl_text(cfg_.zones) != acl_text(next.zones))
      spdlog::info("reload: allow-transfer updated");
  }

  // Zones, matched by origin.
  std::lock_guard<std::mutex> slots_lock(slots_mu_);
  std::unordered_set<wire::Name, wire::NameHash> wanted;
  size_t added = 0, removed = 0;
  for (const auto& zc : next.zones) {
    auto origin = origin_of(zc.name);
    if (!origin) continue;  // config_problems() said so already
    wanted.insert(*origin);
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const ZoneSlot& s) {
      auto o = origin_of(s.cfg.name);
      return o && *o == *origin;
    });
    if (it == slots_.end()) {
      if (!file_only(zc)) {
        spdlog::warn("reload: zone {}: a new dynamic or secondary zone is served from the next "
                     "restart",
                     origin->to_text());
        continue;
      }
      if (!zc.notify.empty() || zc.notify_ns)
        spdlog::warn("reload: zone {}: its notify takes effect at the next restart",
                     origin->to_text());
      ZoneSlot slot{zc, nullptr};
      auto z = load(slot, true);
      if (z && store_) z = restore(*z, &slot.import);
      if (!z) {
        spdlog::error("reload: {} (zone not added)", z.error().message);
        continue;
      }
      slot.zone = *z;
      if (auto w = attach_writer(slot); !w) {
        spdlog::error("reload: {} (zone not added)", w.error().message);
        continue;
      }
      // A file newer than the store's copy goes in through the zone's writer
      // (which publishes it); else the store's copy is published here.
      if (auto r = import_file(slot); !r) {
        spdlog::error("reload: {} (zone not added)", r.error().message);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(publish_mu_);
        slots_.push_back(std::move(slot));
        published_->publish(published_->load()->with(*z));
      }
      spdlog::info("reload: zone {} added", origin->to_text());
      added++;
      continue;
    }
    if (!same_wiring(it->cfg, zc)) {
      spdlog::warn("reload: zone {}: changes other than its file take effect at the next restart",
                   origin->to_text());
    }
    if (it->cfg.file != zc.file && !file_only(it->cfg)) {
      spdlog::warn("reload: zone {}: the file of a dynamic or secondary zone changes at the next "
                   "restart",
                   origin->to_text());
    } else if (it->cfg.file != zc.file) {
      // reload() then reads the new file, as for any changed file.
      std::lock_guard<std::mutex> lock(publish_mu_);
      it->cfg.file = zc.file;
      it->size = -1;
      spdlog::info("reload: zone {} now read from {}", origin->to_text(), zc.file);
    }
  }
  for (auto it = slots_.begin(); it != slots_.end();) {
    auto origin = origin_of(it->cfg.name);
    if (!origin || wanted.count(*origin)) {
      ++it;
      continue;
    }
    if (!file_only(it->cfg)) {
      spdlog::warn("reload: zone {}: a dynamic or secondary zone is removed at the next restart",
                   origin->to_text());
      ++it;
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(publish_mu_);
      published_->publish(published_->load()->without(*origin));
      it = slots_.erase(it);
    }
    spdlog::info("reload: zone {} removed", origin->to_text());
    removed++;
  }
  cfg_.zones = next.zones;  // read only here after the start
  spdlog::info("reload: configuration applied ({} zones added, {} removed)", added, removed);
  return {};
}

}  // namespace ddns::server
