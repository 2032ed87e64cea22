// ddnsd as a secondary, the wiring: one refresh thread per zone runs the
// xfr::RefreshSchedule and xfr::refresh_once (the protocol, I/O-free) over
// the real transfer functions, and hands every transfer to the zone's
// writer (durable, journaled, published, NOTIFY onwards).
#include "server/secondary.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <optional>
#include <thread>
#include <unordered_map>

#include "metrics/metrics.h"
#include "wire/message.h"
#include "xfr/in.h"
#include "xfr/refresh.h"

namespace ddns::server {

namespace {

using Clock = xfr::RefreshClock;
using std::chrono::seconds;

constexpr uint16_t kSoa = uint16_t(wire::RRType::SOA);
constexpr uint16_t kIn = uint16_t(wire::RRClass::IN);

wire::RR apex_soa(const zone::Zone& z) {
  zone::RRsetView v = z.soa();
  wire::RR rr;
  rr.owner = z.origin();
  rr.type = kSoa;
  rr.rclass = kIn;
  rr.ttl = v.ttl;
  size_t len = size_t(v.data[0]) << 8 | v.data[1];
  rr.rdata.assign(v.data + 2, v.data + 2 + len);
  return rr;
}

// SOA-only zone served (as SERVFAIL) until the first transfer.
std::shared_ptr<const zone::Zone> placeholder(const wire::Name& origin) {
  wire::RR soa;
  soa.owner = origin;
  soa.type = kSoa;
  soa.rclass = kIn;
  soa.ttl = 0;
  std::vector<uint8_t> rd(origin.wire().begin(), origin.wire().end());
  rd.insert(rd.end(), origin.wire().begin(), origin.wire().end());
  const uint32_t fields[5] = {0, 3600, 600, 86400, 0};
  for (uint32_t f : fields)
    for (int s = 24; s >= 0; s -= 8) rd.push_back(uint8_t(f >> s));
  soa.rdata = std::move(rd);
  std::vector<wire::RR> recs;
  recs.push_back(std::move(soa));
  auto z = zone::Zone::build(origin, std::move(recs));
  if (!z) return nullptr;
  (*z)->set_expired(true);
  return *z;
}

Result<wire::Name> origin_of(const std::string& text) {
  std::string t = text;
  if (t.empty() || t.back() != '.') t += '.';
  return wire::Name::from_text(t);
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace refresh_state {

Map read(const std::string& path) {
  Map m;
  std::ifstream in(path);
  if (!in) return m;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    std::istringstream ls(line);
    std::string zone;
    long long ms = 0;
    std::string rest;
    if (!(ls >> zone >> ms) || (ls >> rest) || zone.empty() || zone.back() != '.' || ms < 0) {
      spdlog::warn("{}:{}: not \"ZONE. UNIX_MS\", ignored", path, n);
      continue;
    }
    m[zone] = ms;
  }
  return m;
}

Result<void> write(const std::string& path, const Map& m) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return make_error(tmp + ": cannot write");
    for (const auto& [zone, ms] : m) out << zone << ' ' << ms << '\n';
    out.flush();
    if (!out) return make_error(tmp + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error(path + ": " + ec.message());
  return {};
}

int64_t expire_left_ms(int64_t last_ms, int64_t now_ms, uint32_t expire_s) {
  // A clock stepped back makes the last refresh look newer than now: count
  // from now rather than extend the copy's life.
  int64_t age = std::max<int64_t>(0, now_ms - last_ms);
  return int64_t(expire_s) * 1000 - age;
}

}  // namespace refresh_state

struct Secondaries::Impl {
  struct ZoneState {
    wire::Name origin;
    std::string name;  // text, for logs
    std::vector<xfr::PrimaryAddr> primaries;
    std::shared_ptr<const zone::Zone> initial;  // what initial() handed out
    update::ZoneWriter* writer = nullptr;       // set by start()

    std::mutex mu;
    std::condition_variable cv;
    bool notified = false;   // GUARDED_BY(mu): a NOTIFY asks for a refresh
    bool have_data = false;  // GUARDED_BY(mu): the writer's copy is not a placeholder
    std::thread thread;

    std::shared_ptr<const zone::Zone> current() const {
      return writer ? writer->current() : initial;
    }
  };

  store::Store* store;
  std::shared_ptr<const tsig::KeyRing> ring;
  WriterFn writer_of;
  xfr::Limits limits;
  store::TrimPolicy trim;
  size_t trim_slack = 0;
  std::vector<std::unique_ptr<ZoneState>> zones;
  std::unordered_map<wire::Name, ZoneState*, wire::NameHash> by_name;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool initialised = false;

  std::string state_path;  // "" = no data dir: expire counts from start
  std::mutex state_mu;
  refresh_state::Map last_refresh;  // GUARDED_BY(state_mu)

  std::optional<int64_t> stored_refresh(const ZoneState& zs) {
    std::lock_guard lk(state_mu);
    auto it = last_refresh.find(zs.name);
    if (it == last_refresh.end()) return std::nullopt;
    return it->second;
  }
  void note_refresh(const ZoneState& zs) {
    if (state_path.empty()) return;
    std::lock_guard lk(state_mu);
    last_refresh[zs.name] = unix_ms();
    // Only this file's zones survive; a zone removed from the config drops out.
    refresh_state::Map keep;
    for (const auto& z : zones)
      if (auto it = last_refresh.find(z->name); it != last_refresh.end()) keep.insert(*it);
    if (auto w = refresh_state::write(state_path, keep); !w)
      spdlog::warn("zone {}: {} (expire will count from the next start)", zs.name, w.error().message);
  }

  void run(ZoneState& zs);
  std::optional<xfr::SoaTimers> timers(ZoneState& zs);
  void load_initial(ZoneState& zs);
  void trim_journal(ZoneState& zs);
};

namespace {

// The real I/O behind xfr::refresh_once for one zone: transfers over the
// network, applied through the zone's writer.
class ZoneTransport final : public xfr::RefreshTransport {
 public:
  using Impl = Secondaries::Impl;
  ZoneTransport(Impl& m, Impl::ZoneState& zs) : m_(m), zs_(zs) {}

  size_t primaries() const override { return zs_.primaries.size(); }
  std::string primary_text(size_t i) const override { return zs_.primaries[i].text; }
  std::optional<wire::RR> our_soa() override {
    {
      std::lock_guard lk(zs_.mu);
      if (!zs_.have_data) return std::nullopt;
    }
    return apex_soa(*zs_.current());
  }
  Result<uint32_t> query_soa(size_t i) override {
    return xfr::query_soa(zs_.primaries[i], zs_.origin, m_.limits, &m_.stopping);
  }
  Result<xfr::Transfer> transfer(size_t i, const wire::RR* our_soa) override {
    return xfr::run_transfer(zs_.primaries[i], zs_.origin, our_soa, m_.limits, &m_.stopping);
  }
  bool cancelled() const override { return m_.stopping.load(); }

  xfr::Applied apply(xfr::Transfer&& t, std::string log, std::string* why) override {
    update::StateChange c;
    c.log = std::move(log);
    if (t.kind == xfr::Transfer::Kind::Full) {
      c.kind = update::StateChange::Kind::Replace;
      c.records = std::move(t.records);
    } else {
      c.kind = update::StateChange::Kind::Differences;
      c.changes = std::move(t.changes);
      std::lock_guard lk(zs_.mu);
      if (!zs_.have_data) {
        *why = "IXFR without a copy";
        return xfr::Applied::Diverged;
      }
    }
    update::StateResult r = zs_.writer->change_state(std::move(c));
    if (r.outcome != update::StateOutcome::Applied) {
      *why = std::string(update::outcome_text(r.outcome)) + ": " + r.reason;
      return r.outcome == update::StateOutcome::Diverged ? xfr::Applied::Diverged
                                                         : xfr::Applied::Failed;
    }
    {
      std::lock_guard lk(zs_.mu);
      zs_.have_data = true;
    }
    if (t.kind == xfr::Transfer::Kind::Incremental) m_.trim_journal(zs_);
    return xfr::Applied::Ok;
  }

 private:
  Impl& m_;
  Impl::ZoneState& zs_;
};

}  // namespace

Secondaries::Secondaries(store::Store* store, std::shared_ptr<const tsig::KeyRing> ring,
                         WriterFn writer_of)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->ring = ring ? std::move(ring) : std::make_shared<tsig::KeyRing>();
  impl_->writer_of = std::move(writer_of);
}

Secondaries::~Secondaries() { stop(); }

Result<void> Secondaries::configure(const conf::Config& cfg) {
  if (!impl_->store) return make_error("secondary zones need a store (data directory)");
  impl_->trim.keep_count = cfg.server.journal_max_entries ? cfg.server.journal_max_entries : 0;
  impl_->trim.max_age = seconds(cfg.server.journal_max_age_s);
  // Folding rewrites the whole zone: do it in batches, not per transfer.
  impl_->trim_slack = std::max<size_t>(16, impl_->trim.keep_count / 10);
  for (const auto& zc : cfg.zones) {
    if (zc.primaries.empty()) continue;
    std::string where = zc.where.empty() ? "" : zc.where + ": ";
    auto origin = origin_of(zc.name);
    if (!origin) return make_error(where + "zone '" + zc.name + "': " + origin.error().message);
    if (impl_->by_name.count(*origin))
      return make_error(where + "zone " + origin->to_text() + " listed twice");
    auto zs = std::make_unique<Impl::ZoneState>();
    zs->origin = origin->lowercased();
    zs->name = zs->origin.to_text();
    for (const auto& spec : zc.primaries) {
      auto p = xfr::parse_primary(spec, *impl_->ring);
      if (!p) return make_error(where + "zone " + zs->name + ": " + p.error().message);
      zs->primaries.push_back(std::move(*p));
    }
    impl_->by_name[zs->origin] = zs.get();
    impl_->zones.push_back(std::move(zs));
  }
  if (!impl_->zones.empty() && !cfg.server.data_dir.empty()) {
    impl_->state_path = (std::filesystem::path(cfg.server.data_dir) / "secondary-refresh.state").string();
    impl_->last_refresh = refresh_state::read(impl_->state_path);
  }
  return {};
}

void Secondaries::Impl::load_initial(ZoneState& zs) {
  std::shared_ptr<const zone::Zone> z;
  auto info = store->zone_info(zs.origin);
  if (!info) {
    spdlog::error("zone {}: store: {}", zs.name, info.error().message);
  } else if (info->has_value()) {
    auto data = store->load_zone(zs.origin);
    if (!data) {
      spdlog::error("zone {}: store: {}", zs.name, data.error().message);
    } else {
      auto built = zone::Zone::build(zs.origin, std::move(data->records));
      if (built) {
        z = *built;
        spdlog::info("zone {}: serving stored copy, serial {} ({} records)", zs.name, z->serial(),
                     z->record_count());
      } else {
        spdlog::error("zone {}: stored copy unusable: {}", zs.name, built.error().message);
      }
    }
  }
  if (z) {
    auto t = xfr::soa_timers(apex_soa(*z).rdata);
    auto last = stored_refresh(zs);
    if (t && last && refresh_state::expire_left_ms(*last, unix_ms(), t->expire) <= 0) {
      // RFC 1035 §3.3.13: expired while we were down; SERVFAIL from the
      // first query, until a primary answers.
      z->set_expired(true);
      spdlog::warn("zone {}: stored copy expired (last refresh {} s ago), answering SERVFAIL",
                   zs.name, (unix_ms() - *last) / 1000);
    }
  }
  std::lock_guard lk(zs.mu);
  zs.have_data = z != nullptr;
  if (!z) {
    z = placeholder(zs.origin);
    spdlog::info("zone {}: no copy yet, SERVFAIL until the first transfer", zs.name);
  }
  zs.initial = z;
}

std::vector<std::shared_ptr<const zone::Zone>> Secondaries::initial() {
  std::vector<std::shared_ptr<const zone::Zone>> out;
  for (auto& zs : impl_->zones) {
    if (!impl_->initialised) impl_->load_initial(*zs);
    if (zs->initial) out.push_back(zs->initial);
  }
  impl_->initialised = true;
  return out;
}

void Secondaries::start() {
  if (impl_->started) return;
  if (!impl_->initialised) (void)initial();
  impl_->started = true;
  impl_->stopping = false;
  for (auto& zs : impl_->zones) {
    zs->writer = impl_->writer_of ? impl_->writer_of(zs->origin) : nullptr;
    if (!zs->writer) {
      spdlog::error("zone {}: no zone writer, not refreshed", zs->name);
      continue;
    }
    Impl::ZoneState* p = zs.get();
    zs->thread = std::thread([this, p] { impl_->run(*p); });
  }
}

void Secondaries::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->stopping = true;
  for (auto& zs : impl_->zones) {
    { std::lock_guard lk(zs->mu); }
    zs->cv.notify_all();
  }
  for (auto& zs : impl_->zones)
    if (zs->thread.joinable()) zs->thread.join();
  impl_->started = false;
}

bool Secondaries::is_secondary(const wire::Name& origin) const {
  return impl_->by_name.count(origin) != 0;
}

std::optional<xfr::SoaTimers> Secondaries::Impl::timers(ZoneState& zs) {
  {
    std::lock_guard lk(zs.mu);
    if (!zs.have_data) return std::nullopt;
  }
  return xfr::soa_timers(apex_soa(*zs.current()).rdata);
}

void Secondaries::Impl::trim_journal(ZoneState& zs) {
  auto info = store->zone_info(zs.origin);
  if (!info || !info->has_value() || !trim.keep_count ||
      (*info)->journal_length <= trim.keep_count + trim_slack)
    return;
  store::TrimPolicy tp = trim;
  tp.now = std::chrono::system_clock::now();
  auto folded = store->trim_journal(zs.origin, tp);
  if (!folded) spdlog::warn("zone {}: journal trim: {}", zs.name, folded.error().message);
}

void Secondaries::Impl::run(ZoneState& zs) {
  std::optional<std::chrono::milliseconds> left;
  auto t = timers(zs);
  if (auto last = stored_refresh(zs); t && last) {
    left = std::chrono::milliseconds(refresh_state::expire_left_ms(*last, unix_ms(), t->expire));
    spdlog::info("zone {}: last refresh {} s ago, expires in {} s without one", zs.name,
                 (unix_ms() - *last) / 1000, std::max<int64_t>(0, left->count() / 1000));
  }
  xfr::RefreshSchedule sched(t, left, t && zs.current()->expired(), Clock::now());
  while (!stopping.load()) {
    xfr::Due due = xfr::Due::Nothing;
    {
      std::unique_lock lk(zs.mu);
      const auto wake = sched.wake();
      zs.cv.wait_until(lk, wake, [&] {
        return stopping.load() || zs.notified || Clock::now() >= wake;
      });
      if (stopping.load()) break;
      if (zs.notified) sched.notified();
      zs.notified = false;
      due = sched.due(Clock::now());
    }
    if (due == xfr::Due::Nothing) continue;
    if (due == xfr::Due::Expire) {
      zs.current()->set_expired(true);
      spdlog::warn("zone {}: expired (no successful refresh from any primary), answering SERVFAIL",
                   zs.name);
      continue;
    }
    ZoneTransport transport(*this, zs);
    const xfr::Attempt a = xfr::refresh_once(transport, zs.name, due == xfr::Due::NotifyRefresh);
    if (stopping.load()) break;
    if (a != xfr::Attempt::Failed) note_refresh(zs);
    if (sched.attempted(a, timers(zs), Clock::now())) {
      auto z = zs.current();
      z->set_expired(false);  // a new snapshot starts unexpired anyway
      spdlog::info("zone {}: refreshed, serving again (serial {})", zs.name, z->serial());
    }
  }
}

const std::vector<xfr::PrimaryAddr>* Secondaries::primaries(const wire::Name& origin) const {
  auto it = impl_->by_name.find(origin);
  return it == impl_->by_name.end() ? nullptr : &it->second->primaries;
}

bool Secondaries::notify_received(const wire::Name& origin) {
  auto it = impl_->by_name.find(origin);
  if (it == impl_->by_name.end()) return false;
  Impl::ZoneState& zs = *it->second;
  {
    std::lock_guard lk(zs.mu);
    zs.notified = true;
  }
  zs.cv.notify_one();
  return true;
}

bool Secondaries::notify_allowed(const wire::Name& origin, const sockaddr* sa, socklen_t len,
                                 const wire::Name* key) const {
  auto it = impl_->by_name.find(origin);
  if (it == impl_->by_name.end()) return false;
  // RFC 1996 §3.10: only from a configured primary (and with its key).
  for (const auto& p : it->second->primaries) {
    if (!xfr::same_address(p.addr, sa, len)) continue;
    if (p.key && !(key && *key == p.key->name)) continue;
    return true;
  }
  return false;
}

}  // namespace ddns::server
