// ddnsd's /metrics wiring: label names from the RR type table, scrape-time
// gauges of the served zones, and the optional listener of its own
// (metrics.listen).
#include <spdlog/spdlog.h>

#include "dyndns/service.h"
#include "http/server.h"
#include "metrics/exposition.h"
#include "metrics/metrics.h"
#include "net/rrl.h"
#include "server/server.h"
#include "wire/message.h"
#include "wire/rrtype.h"

namespace ddns::server {

std::string Server::metrics_text() const {
  static const metrics::Naming kNaming{
      [](uint16_t t) { return wire::type_to_text(t); },
      [](uint8_t r) { return wire::rcode_to_text(r); },
  };
  return metrics::registry().render(kNaming);
}

void Server::add_metrics_collector() {
  metrics::registry().set_dhcp_keys(cfg_.metrics.dhcp_keys);
  const auto* pub = published_.get();
  const net::Frontend* fe = frontend_.get();
  const net::Rrl* rrl = rrl_.get();
  metrics_collector_ = metrics::registry().add_collector([pub, fe, rrl](metrics::Exposition& e) {
    auto set = pub->load();
    e.family("ddns_zones", "gauge", "Zones served.");
    e.sample("ddns_zones", {}, uint64_t(set->size()));
    e.family("ddns_zone_serial", "gauge", "SOA serial of each served zone.");
    for (const auto& z : set->zones())
      e.sample("ddns_zone_serial", {{"zone", z->origin().to_text()}}, uint64_t(z->serial()));
    e.family("ddns_zone_records", "gauge", "Resource records in each served zone.");
    for (const auto& z : set->zones())
      e.sample("ddns_zone_records", {{"zone", z->origin().to_text()}}, uint64_t(z->record_count()));
    e.family("ddns_zone_nodes", "gauge", "Owner names in each served zone.");
    for (const auto& z : set->zones())
      e.sample("ddns_zone_nodes", {{"zone", z->origin().to_text()}}, uint64_t(z->node_count()));
    if (rrl) {
      // net::Rrl keeps its own counters (one table shared by the workers).
      const auto& s = rrl->stats();
      e.family("ddns_rate_limited_total", "counter",
               "UDP answers held back by response rate limiting: dropped, slipped (sent "
               "truncated so a real client retries over TCP), or would_limit (log-only mode).");
      e.sample("ddns_rate_limited_total", {{"action", "dropped"}}, s.dropped.load(std::memory_order_relaxed));
      e.sample("ddns_rate_limited_total", {{"action", "slipped"}}, s.slipped.load(std::memory_order_relaxed));
      e.sample("ddns_rate_limited_total", {{"action", "would_limit"}},
               s.would_limit.load(std::memory_order_relaxed));
    }
    if (fe) {
      e.family("ddns_tcp_clients", "gauge", "Open DNS-over-TCP connections.");
      e.sample("ddns_tcp_clients", {}, uint64_t(fe->tcp_clients()));
    }
  });
}

Result<void> Server::setup_metrics_listener() {
  const auto& mc = cfg_.metrics;
  if (!mc.enable || mc.listen.empty() || !dyndns_) return {};
  auto router = std::make_shared<http::Router>();
  dyndns_->install_metrics(*router);
  http::ServerOptions ho;
  for (const auto& spec : mc.listen) {
    auto ep = net::Endpoint::parse(spec);
    if (!ep) return make_error("metrics.listen: " + ep.error().message);
    ho.listen.push_back(*ep);
  }
  ho.threads = 1;
  metrics_http_ = std::make_unique<http::Server>(ho, router);
  if (auto r = metrics_http_->open(); !r)
    return make_error("metrics: cannot listen: " + r.error().message);
  for (const auto& ep : metrics_http_->bound())
    spdlog::info("metrics: serving /metrics at {}", ep.to_string());
  metrics_http_->start();
  return {};
}

std::vector<net::Endpoint> Server::metrics_listening() const {
  return metrics_http_ ? metrics_http_->bound() : std::vector<net::Endpoint>{};
}

}  // namespace ddns::server
