// Registry: shard bookkeeping, scrape-time aggregation and the exposition of
// every ddns_* family (see metrics.h).
#include "metrics/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "metrics/exposition.h"

namespace ddns::metrics {

std::string_view source_name(Source s) {
  switch (s) {
    case Source::Rfc2136: return "rfc2136";
    case Source::Dhcp: return "dhcp";
    case Source::DynDNS2: return "dyndns2";
    case Source::Rest: return "rest";
    case Source::Transfer: return "transfer";
    case Source::Ddnsctl: return "ddnsctl";
  }
  return "other";
}

Registry::Registry() = default;

Registry::~Registry() = default;

Registry::ShardPtr Registry::query_shard() {
  auto* s = new QueryShard();
  std::lock_guard<std::mutex> lock(mu_);
  live_.push_back(s);
  return ShardPtr(s, ShardRelease{this});
}

namespace {

void add_shard(Registry::QueryTotals& t, const QueryShard& s) {
  for (size_t i = 0; i < kTransports; ++i) {
    t.queries[i] += s.queries[i].get();
    t.dropped[i] += s.dropped[i].get();
  }
  for (size_t i = 0; i < kTypeSlots; ++i) t.qtypes[i] += s.qtypes[i].get();
  for (size_t i = 0; i < 16; ++i) t.rcodes[i] += s.rcodes[i].get();
  t.latency.add(s.latency);
}

}  // namespace

void Registry::retire(QueryShard* s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    add_shard(retired_, *s);
    live_.erase(std::remove(live_.begin(), live_.end(), s), live_.end());
  }
  delete s;
}

Registry::QueryTotals Registry::query_totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  QueryTotals t = retired_;
  for (const QueryShard* s : live_) add_shard(t, *s);
  return t;
}

uint64_t Registry::add_collector(Collector c) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_id_++;
  collectors_.emplace_back(id, std::move(c));
  return id;
}

void Registry::remove_collector(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(collectors_, [id](const auto& e) { return e.first == id; });
}

namespace {

std::string canonical_key(std::string_view name) {
  std::string s(name);
  if (!s.empty() && s.back() == '.') s.pop_back();
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void Registry::set_dhcp_keys(std::vector<std::string> names) {
  std::lock_guard<std::mutex> lock(mu_);
  dhcp_keys_.clear();
  for (const auto& n : names) dhcp_keys_.push_back(canonical_key(n));
  has_dhcp_keys_.store(!dhcp_keys_.empty(), std::memory_order_relaxed);
}

bool Registry::is_dhcp_key(std::string_view name) const {
  if (!has_dhcp_keys_.load(std::memory_order_relaxed)) return false;
  std::string k = canonical_key(name);
  std::lock_guard<std::mutex> lock(mu_);
  return std::find(dhcp_keys_.begin(), dhcp_keys_.end(), k) != dhcp_keys_.end();
}

std::string Registry::render(const Naming& naming) const {
  const QueryTotals q = query_totals();
  Exposition e;
  static constexpr std::string_view kTransportNames[] = {"udp", "tcp"};

  e.family("ddns_dns_queries_total", "counter", "DNS messages received, by transport.");
  for (size_t t = 0; t < kTransports; ++t)
    e.sample("ddns_dns_queries_total", {{"transport", kTransportNames[t]}}, q.queries[t]);
  e.family("ddns_dns_unanswered_total", "counter",
           "DNS messages received and not answered at once (dropped, or answered later by a "
           "writer), by transport.");
  for (size_t t = 0; t < kTransports; ++t)
    e.sample("ddns_dns_unanswered_total", {{"transport", kTransportNames[t]}}, q.dropped[t]);

  e.family("ddns_dns_queries_by_type_total", "counter",
           "Standard queries (opcode QUERY) by QTYPE; types above 255 are counted as OTHER.");
  for (size_t i = 0; i < kTypeSlots; ++i) {
    if (q.qtypes[i] == 0) continue;
    std::string name = i < 256 && naming.qtype ? naming.qtype(uint16_t(i)) : std::string("OTHER");
    e.sample("ddns_dns_queries_by_type_total", {{"type", name}}, q.qtypes[i]);
  }
  e.family("ddns_dns_responses_total", "counter", "DNS responses sent, by RCODE.");
  for (size_t i = 0; i < 16; ++i) {
    if (q.rcodes[i] == 0 && i != 0) continue;
    std::string name = naming.rcode ? naming.rcode(uint8_t(i)) : std::to_string(i);
    e.sample("ddns_dns_responses_total", {{"rcode", name}}, q.rcodes[i]);
  }
  e.family("ddns_dns_answer_latency_seconds", "histogram",
           "Time from receiving a query to sending its answer. UDP: measured once per "
           "recvmmsg batch and counted for every message of the batch.");
  e.histogram("ddns_dns_answer_latency_seconds", {}, q.latency, 1e6);

  const Shared& s = shared_;
  e.family("ddns_updates_total", "counter",
           "Changes submitted, by source and result (accepted = applied or already in place).");
  for (size_t i = 0; i < kSources; ++i) {
    auto src = source_name(Source(i));
    e.sample("ddns_updates_total", {{"source", src}, {"result", "accepted"}}, s.updates[i][0].get());
    e.sample("ddns_updates_total", {{"source", src}, {"result", "refused"}}, s.updates[i][1].get());
  }
  HistogramTotals h;
  h.add(s.writer_batch_size);
  e.family("ddns_writer_batch_size", "histogram",
           "Requests per zone-writer batch (one group commit).");
  e.histogram("ddns_writer_batch_size", {}, h, 1.0);
  h = {};
  h.add(s.writer_commit_latency);
  e.family("ddns_writer_commit_seconds", "histogram",
           "Time to make one writer batch durable in the store.");
  e.histogram("ddns_writer_commit_seconds", {}, h, 1e6);

  static constexpr std::string_view kXfrNames[] = {"axfr", "ixfr"};
  e.family("ddns_xfr_out_total", "counter", "Zone transfers served to secondaries.");
  for (size_t i = 0; i < 2; ++i)
    e.sample("ddns_xfr_out_total", {{"kind", kXfrNames[i]}}, s.xfr_out[i].get());
  e.family("ddns_xfr_in_total", "counter", "Zone transfers received from primaries, by result.");
  for (size_t i = 0; i < 2; ++i) {
    e.sample("ddns_xfr_in_total", {{"kind", kXfrNames[i]}, {"result", "ok"}}, s.xfr_in[i].get());
    e.sample("ddns_xfr_in_total", {{"kind", kXfrNames[i]}, {"result", "failed"}},
             s.xfr_in_failed[i].get());
  }
  e.family("ddns_notify_total", "counter", "NOTIFY messages (RFC 1996) sent and received.");
  e.sample("ddns_notify_total", {{"direction", "sent"}}, s.notify_sent.get());
  e.sample("ddns_notify_total", {{"direction", "received"}}, s.notify_received.get());

  e.family("ddns_http_requests_total", "counter", "HTTP responses sent, by status code.");
  for (size_t i = 0; i < s.http_status.size(); ++i) {
    uint64_t v = s.http_status[i].get();
    if (v == 0) continue;
    e.sample("ddns_http_requests_total", {{"code", i == 0 ? "other" : std::to_string(i + 100)}}, v);
  }
  e.family("ddns_login_failures_total", "counter", "Failed logins (web, REST and DynDNS2).");
  e.sample("ddns_login_failures_total", {}, s.login_failures.get());
  e.family("ddns_abuse_blocks_total", "counter",
           "Hosts, accounts or addresses blocked for abuse (repeated nochg, failed logins).");
  e.sample("ddns_abuse_blocks_total", {}, s.abuse_blocks.get());

  e.family("ddns_resident_memory_bytes", "gauge", "Resident memory of the ddnsd process.");
  e.sample("ddns_resident_memory_bytes", {}, resident_bytes());

  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, c] : collectors_) c(e);
  return e.take();
}

Registry& registry() {
  // Never destroyed: threads that outlive main() may still count.
  static Registry* r = new Registry();
  return *r;
}

uint64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, rss = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &rss);
  std::fclose(f);
  if (n != 2) return 0;
  return uint64_t(rss) * uint64_t(::sysconf(_SC_PAGESIZE));
}

}  // namespace ddns::metrics
