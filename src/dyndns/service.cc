// Service: route installation and apply(), the one change path of DynDNS2
// and REST: host lookup -> one edit through the zone's writer (durable,
// serial-bumped) -> history group commit (durable) -> outcome.
#include "dyndns/service.h"

#include <arpa/inet.h>

#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "dyndns/state.h"
#include "metrics/metrics.h"
#include "wire/rrtype.h"

namespace ddns::dyndns {

// ---------------------------------------------------------------- WorkPool

WorkPool::WorkPool(unsigned threads, size_t max_queue) : max_queue_(max_queue) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkPool::post(std::function<void()> job) {
  {
    std::lock_guard lk(mu_);
    if (stopping_ || q_.size() >= max_queue_) return false;
    q_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !q_.empty(); });
      if (q_.empty()) return;
      job = std::move(q_.front());
      q_.pop_front();
    }
    job();
  }
}

// ----------------------------------------------------------- HistoryWriter

HistoryWriter::HistoryWriter(accounts::Accounts* accounts)
    : accounts_(accounts), thread_([this] { run(); }) {}

HistoryWriter::~HistoryWriter() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HistoryWriter::add(std::vector<accounts::HistoryEntry> entries, std::function<void(bool)> done) {
  {
    std::lock_guard lk(mu_);
    if (!stopping_) {
      for (auto& e : entries) entries_.push_back(std::move(e));
      waiters_.push_back(std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(false);
}

HistoryWriter::Stats HistoryWriter::stats() {
  std::lock_guard lk(mu_);
  return stats_;
}

void HistoryWriter::run() {
  std::vector<accounts::HistoryEntry> batch;
  std::vector<std::function<void(bool)>> waiters;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !waiters_.empty(); });
      if (waiters_.empty()) return;
      batch.swap(entries_);
      waiters.swap(waiters_);
    }
    // Whatever queued while the previous batch was committing goes in this
    // one: the batch grows with the load, one fsync for all of it.
    bool ok = true;
    if (!batch.empty()) {
      if (!accounts_) {
        ok = false;
      } else {
        auto r = accounts_->record(batch);
        if (!r) {
          ok = false;
          spdlog::error("dyndns: history commit of {} entries failed: {}", batch.size(),
                        r.error().message);
        }
      }
    }
    {
      std::lock_guard lk(mu_);
      stats_.batches++;
      stats_.entries += batch.size();
      if (!ok) stats_.failures++;
    }
    for (auto& w : waiters) w(ok);
    batch.clear();
    waiters.clear();
  }
}

// -------------------------------------------------------------- AbuseTable

bool AbuseTable::blocked(const std::string& key, int64_t now) {
  std::lock_guard lk(mu_);
  auto it = map_.find(key);
  return it != map_.end() && it->second.blocked_until > now;
}

bool AbuseTable::hit(const std::string& key, int64_t now, uint32_t limit, uint32_t window_s,
                     uint32_t block_s) {
  std::lock_guard lk(mu_);
  if (++ops_ % 4096 == 0) prune(now);
  horizon_ = std::max<int64_t>(horizon_, std::max(window_s, block_s));
  Entry& e = map_[key];
  while (!e.events.empty() && e.events.front() <= now - int64_t(window_s)) e.events.pop_front();
  e.events.push_back(now);
  if (e.events.size() > limit && e.blocked_until <= now) {
    e.blocked_until = now + block_s;
    metrics::registry().shared().abuse_blocks.add();
    e.events.clear();
    return true;
  }
  // Never keep more than the limit needs: bounded per key too.
  while (e.events.size() > size_t(limit) + 1) e.events.pop_front();
  return false;
}

void AbuseTable::clear(const std::string& key) {
  std::lock_guard lk(mu_);
  map_.erase(key);
}

void AbuseTable::prune(int64_t now) {
  for (auto it = map_.begin(); it != map_.end();) {
    const Entry& e = it->second;
    bool stale = e.blocked_until <= now && (e.events.empty() || e.events.back() <= now - horizon_);
    it = stale ? map_.erase(it) : std::next(it);
  }
}

// ----------------------------------------------------------------- Service

namespace {

constexpr std::string_view kAcmePrefix = "_acme-challenge.";

std::string type_name(uint16_t type) {
  switch (type) {
    case uint16_t(wire::RRType::A): return "A";
    case uint16_t(wire::RRType::AAAA): return "AAAA";
    case uint16_t(wire::RRType::TXT): return "TXT";
  }
  return "TYPE" + std::to_string(type);
}

// Presentation value -> wire rdata for the three types DynDNS2 sets.
std::optional<wire::Bytes> to_rdata(uint16_t type, const std::string& value) {
  if (type == uint16_t(wire::RRType::A) || type == uint16_t(wire::RRType::AAAA)) {
    int family = type == uint16_t(wire::RRType::A) ? AF_INET : AF_INET6;
    unsigned char buf[16];
    if (inet_pton(family, value.c_str(), buf) != 1) return std::nullopt;
    return wire::Bytes(buf, buf + (family == AF_INET ? 4 : 16));
  }
  if (type == uint16_t(wire::RRType::TXT)) {
    // RFC 1035 §3.3.14: character-strings of at most 255 octets each.
    if (value.size() > 4000) return std::nullopt;
    wire::Bytes out;
    size_t i = 0;
    do {
      size_t n = std::min<size_t>(255, value.size() - i);
      out.push_back(uint8_t(n));
      out.insert(out.end(), value.begin() + long(i), value.begin() + long(i + n));
      i += n;
    } while (i < value.size());
    return out;
  }
  return std::nullopt;
}

std::string from_rdata(uint16_t type, const wire::Bytes& rd) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (type == uint16_t(wire::RRType::A) && rd.size() == 4) {
    inet_ntop(AF_INET, rd.data(), buf, sizeof buf);
    return buf;
  }
  if (type == uint16_t(wire::RRType::AAAA) && rd.size() == 16) {
    inet_ntop(AF_INET6, rd.data(), buf, sizeof buf);
    return buf;
  }
  if (type == uint16_t(wire::RRType::TXT)) {
    std::string s;
    for (size_t i = 0; i < rd.size();) {
      size_t n = rd[i++];
      n = std::min(n, rd.size() - i);
      s.append(reinterpret_cast<const char*>(rd.data() + i), n);
      i += n;
    }
    return s;
  }
  return "";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

}  // namespace

Service::Service(Context ctx, Options opts)
    : ctx_(std::move(ctx)), opts_(std::move(opts)), state_(std::make_unique<State>(ctx_.accounts)) {
  if (!opts_.clock)
    opts_.clock = [] {
      return int64_t(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
    };
}

Service::~Service() = default;

void Service::install(http::Router& router) {
  install_nic(router);
  install_api(router);
  install_web(router);
  install_metrics(router);
}

// The outcome is reported from the writer thread (nochg, errors) or the
// history thread (good, after its history row is durable): `done` must not
// block.
std::string_view Service::text(Outcome o) {
  switch (o) {
    case Outcome::Good: return "good";
    case Outcome::NoChg: return "nochg";
    case Outcome::NoHost: return "nohost";
    case Outcome::DnsErr: return "dnserr";
  }
  return "dnserr";
}

void Service::apply(Change change, std::function<void(Outcome)> done) {
  // Counted by outcome: good and nochg accepted, anything else refused.
  done = [src = change.via == "dyndns2" ? metrics::Source::DynDNS2 : metrics::Source::Rest,
          d = std::move(done)](Outcome o) {
    metrics::registry().shared().update(src, o == Outcome::Good || o == Outcome::NoChg);
    d(o);
  };
  if (!ctx_.accounts) return done(Outcome::DnsErr);
  std::string host = accounts::normalize_host(change.host);
  if (host.empty()) return done(Outcome::NoHost);
  // "_acme-challenge.H" belongs to host H and takes TXT only (DNS-01, RFC 8555 §8.4).
  std::string base = host;
  bool acme = false;
  if (host.size() > kAcmePrefix.size() && host.compare(0, kAcmePrefix.size(), kAcmePrefix) == 0) {
    auto h = ctx_.accounts->host_zone(host);
    if (!h) return done(Outcome::DnsErr);
    if (!*h) {
      base = host.substr(kAcmePrefix.size());
      acme = true;
    }
  }
  // The host's zone, from the accounts cache in the steady state.
  auto zone = ctx_.accounts->host_zone(base);
  if (!zone) {
    spdlog::warn("dyndns: host lookup {}: {}", base, zone.error().message);
    return done(Outcome::DnsErr);
  }
  if (!*zone) return done(Outcome::NoHost);

  auto origin = wire::Name::from_text(**zone + ".");
  auto owner = wire::Name::from_text(host + ".");
  if (!origin || !owner) return done(Outcome::DnsErr);
  update::ZoneWriter* writer = ctx_.writer ? ctx_.writer(*origin) : nullptr;
  if (!writer) return done(Outcome::DnsErr);

  update::EditRequest req;
  for (const auto& set : change.sets) {
    if (acme && set.type != uint16_t(wire::RRType::TXT)) return done(Outcome::NoHost);
    update::RRsetChange c;
    c.owner = *owner;
    c.type = set.type;
    c.ttl = opts_.ttl;
    for (const auto& v : set.values) {
      auto rd = to_rdata(set.type, v);
      if (!rd) return done(Outcome::DnsErr);
      c.rdatas.push_back(std::move(*rd));
    }
    req.changes.push_back(std::move(c));
  }
  if (req.changes.empty()) return done(Outcome::NoChg);

  auto shared = std::make_shared<Change>(std::move(change));
  auto cb = std::make_shared<std::function<void(Outcome)>>(std::move(done));
  int64_t now = opts_.clock();
  State* state = state_.get();
  req.done = [shared, cb, host, now, state](const update::EditResult& r) {
    if (r.rcode != wire::Rcode::NoError) {
      spdlog::warn("dyndns: edit of {} failed: {}", host, r.reason);
      return (*cb)(Outcome::DnsErr);
    }
    if (!r.changed) return (*cb)(Outcome::NoChg);
    std::vector<accounts::HistoryEntry> entries;
    for (size_t i = 0; i < shared->sets.size(); ++i) {
      const auto& set = shared->sets[i];
      accounts::HistoryEntry e;
      e.time = now;
      e.host = host;
      e.type = type_name(set.type);
      if (i < r.previous.size()) {
        std::vector<std::string> old;
        for (const auto& rd : r.previous[i]) old.push_back(from_rdata(set.type, rd));
        e.old_value = join(old);
      }
      e.new_value = join(set.values);
      if (e.old_value == e.new_value) continue;  // this type did not change
      e.source = shared->source;
      e.via = shared->via;
      entries.push_back(std::move(e));
    }
    // The DNS change is durable; answer only once its history is too.
    state->history.add(std::move(entries), [cb](bool ok) { (*cb)(ok ? Outcome::Good : Outcome::DnsErr); });
  };
  if (!writer->submit_edit(std::move(req))) (*cb)(Outcome::DnsErr);
}

}  // namespace ddns::dyndns
