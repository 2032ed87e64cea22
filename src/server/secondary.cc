// ddnsd as a secondary: one refresh thread per zone running the SOA timers
// (RFC 1034 §4.3.5, RFC 1035 §3.3.13), NOTIFY in (RFC 1996 §3.7-3.11),
// IXFR with AXFR fallback, applied to the store before it is published.
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

#include "wire/message.h"
#include "xfr/in.h"
#include "zone/apply.h"
#include "zone/serial.h"

namespace ddns::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

constexpr uint16_t kSoa = uint16_t(wire::RRType::SOA);
constexpr uint16_t kIn = uint16_t(wire::RRClass::IN);
// Without a copy there are no SOA timers yet: try again this often.
constexpr seconds kNoDataRetry{5};

// RFC 1912 §2.2 sanity bounds on the timers a primary hands us, so a
// zero or absurd value neither spins nor parks the zone for months.
seconds clamp_timer(uint32_t v, uint32_t lo, uint32_t hi) {
  return seconds(std::clamp(v, lo, hi));
}

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

const char* kind_text(xfr::Transfer::Kind k) {
  switch (k) {
    case xfr::Transfer::Kind::UpToDate: return "up to date";
    case xfr::Transfer::Kind::Full: return "AXFR";
    case xfr::Transfer::Kind::Incremental: return "IXFR";
  }
  return "?";
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

    std::mutex mu;
    std::condition_variable cv;
    bool notified = false;  // GUARDED_BY(mu): a NOTIFY asks for a refresh
    std::shared_ptr<const zone::Zone> current;  // GUARDED_BY(mu)
    bool have_data = false;                     // GUARDED_BY(mu): current is not a placeholder
    std::thread thread;
  };

  store::Store* store;
  std::shared_ptr<const tsig::KeyRing> ring;
  PublishFn publish;
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
  // One refresh attempt over all primaries; true on success (up to date or
  // a new copy published).
  bool refresh(ZoneState& zs, bool via_notify);
  Result<xfr::Transfer::Kind> transfer_from(ZoneState& zs, const xfr::PrimaryAddr& p,
                                            bool via_notify);
  Result<void> apply(ZoneState& zs, xfr::Transfer&& t);
  void load_initial(ZoneState& zs);
};

Secondaries::Secondaries(store::Store* store, std::shared_ptr<const tsig::KeyRing> ring,
                         PublishFn publish)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->ring = ring ? std::move(ring) : std::make_shared<tsig::KeyRing>();
  impl_->publish = std::move(publish);
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
  zs.current = z;
}

std::vector<std::shared_ptr<const zone::Zone>> Secondaries::initial() {
  std::vector<std::shared_ptr<const zone::Zone>> out;
  for (auto& zs : impl_->zones) {
    if (!impl_->initialised) impl_->load_initial(*zs);
    std::lock_guard lk(zs->mu);
    if (zs->current) out.push_back(zs->current);
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

void Secondaries::Impl::run(ZoneState& zs) {
  auto now = Clock::now();
  auto next_refresh = now;  // first refresh at once
  std::optional<Clock::time_point> expire_at;
  bool expired = false;
  auto timers = [&]() -> std::optional<xfr::SoaTimers> {
    std::lock_guard lk(zs.mu);
    if (!zs.have_data) return std::nullopt;
    return xfr::soa_timers(apex_soa(*zs.current).rdata);
  };
  if (auto t = timers()) {
    auto left = std::chrono::milliseconds(int64_t(clamp_timer(t->expire, 1, 0x7fffffff).count()) * 1000);
    if (auto last = stored_refresh(zs)) {
      left = std::chrono::milliseconds(refresh_state::expire_left_ms(*last, unix_ms(), t->expire));
      spdlog::info("zone {}: last refresh {} s ago, expires in {} s without one", zs.name,
                   (unix_ms() - *last) / 1000, std::max<int64_t>(0, left.count() / 1000));
    }
    expire_at = now + left;
    std::lock_guard lk(zs.mu);
    expired = zs.current->expired();
  }

  while (!stopping.load()) {
    bool via_notify = false;
    {
      std::unique_lock lk(zs.mu);
      auto wake = next_refresh;
      if (expire_at && !expired) wake = std::min(wake, *expire_at);
      zs.cv.wait_until(lk, wake, [&] {
        return stopping.load() || zs.notified || Clock::now() >= wake;
      });
      if (stopping.load()) break;
      via_notify = zs.notified;
      zs.notified = false;
      now = Clock::now();
      // RFC 1035 §3.3.13: no successful refresh for EXPIRE seconds -> the
      // copy is no longer authoritative.
      if (expire_at && !expired && now >= *expire_at) {
        expired = true;
        zs.current->set_expired(true);
        spdlog::warn("zone {}: expired (no successful refresh from any primary), answering SERVFAIL",
                     zs.name);
      }
    }
    if (!via_notify && now < next_refresh) continue;

    bool ok = refresh(zs, via_notify);
    if (stopping.load()) break;
    now = Clock::now();
    auto t = timers();
    if (ok) note_refresh(zs);
    if (ok && t) {
      expire_at = now + clamp_timer(t->expire, 1, 0x7fffffff);
      next_refresh = now + clamp_timer(t->refresh, 1, 7 * 86400);
      if (expired) {
        std::lock_guard lk(zs.mu);
        zs.current->set_expired(false);  // a new snapshot starts unexpired anyway
        expired = false;
        spdlog::info("zone {}: refreshed, serving again (serial {})", zs.name, zs.current->serial());
      }
    } else if (t) {
      next_refresh = now + clamp_timer(t->retry, 1, 86400);
    } else {
      next_refresh = now + kNoDataRetry;
    }
  }
}

bool Secondaries::Impl::refresh(ZoneState& zs, bool via_notify) {
  for (const auto& p : zs.primaries) {
    if (stopping.load()) return false;
    auto r = transfer_from(zs, p, via_notify);
    if (r) return true;
    spdlog::warn("zone {}: refresh from {} failed: {}", zs.name, p.text, r.error().message);
  }
  return false;
}

Result<xfr::Transfer::Kind> Secondaries::Impl::transfer_from(ZoneState& zs,
                                                              const xfr::PrimaryAddr& p,
                                                              bool via_notify) {
  std::optional<wire::RR> our_soa;
  uint32_t our_serial = 0;
  {
    std::lock_guard lk(zs.mu);
    if (zs.have_data) {
      our_soa = apex_soa(*zs.current);
      our_serial = zs.current->serial();
    }
  }
  // RFC 1996 §3.11 asks for the SOA first; after a NOTIFY we go straight
  // to IXFR instead, whose single-SOA answer (RFC 1995 §4) says the same
  // and saves a round trip on the propagation path.
  if (our_soa && !via_notify) {
    auto serial = xfr::query_soa(p, zs.origin, limits, &stopping);
    if (!serial) return serial.error();
    if (!zone::serial_gt(*serial, our_serial)) return xfr::Transfer::Kind::UpToDate;
  }
  auto start = Clock::now();
  bool tried_ixfr = our_soa.has_value();
  auto t = xfr::run_transfer(p, zs.origin, our_soa ? &*our_soa : nullptr, limits, &stopping);
  if (!t && tried_ixfr && !stopping.load()) {
    spdlog::info("zone {}: IXFR from {} failed ({}), trying AXFR", zs.name, p.text,
                 t.error().message);
    tried_ixfr = false;
    t = xfr::run_transfer(p, zs.origin, nullptr, limits, &stopping);
  }
  if (!t) return t.error();
  auto kind = t->kind;
  if (kind == xfr::Transfer::Kind::UpToDate) return kind;
  // Never step back to an older (or the same) serial (RFC 1982 compare).
  if (our_soa && !zone::serial_gt(t->serial, our_serial)) return xfr::Transfer::Kind::UpToDate;
  size_t msgs = t->messages, bytes = t->bytes, n = t->records.size() + t->changes.size();
  uint32_t serial = t->serial;
  auto applied = apply(zs, std::move(*t));
  if (!applied && kind == xfr::Transfer::Kind::Incremental && !stopping.load()) {
    // The differences do not fit our copy: take the whole zone.
    spdlog::warn("zone {}: IXFR from {} not applicable ({}), trying AXFR", zs.name, p.text,
                 applied.error().message);
    auto full = xfr::run_transfer(p, zs.origin, nullptr, limits, &stopping);
    if (!full) return full.error();
    kind = full->kind;
    msgs = full->messages;
    bytes = full->bytes;
    n = full->records.size();
    serial = full->serial;
    applied = apply(zs, std::move(*full));
  }
  if (!applied) return applied.error();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  spdlog::info("zone {}: {} from {} -> serial {} ({} {}, {} messages, {} bytes, {} ms)", zs.name,
               kind_text(kind), p.text, serial, n,
               kind == xfr::Transfer::Kind::Full ? "records" : "changesets", msgs, bytes, ms);
  return kind;
}

Result<void> Secondaries::Impl::apply(ZoneState& zs, xfr::Transfer&& t) {
  std::shared_ptr<const zone::Zone> next;
  if (t.kind == xfr::Transfer::Kind::Full) {
    auto t0 = Clock::now();
    // One transaction: a crash leaves the old copy or the new one, never half.
    auto put = store->put_zone_snapshot(zs.origin, t.serial, t.records);
    if (!put) return make_error("store: " + put.error().message);
    auto t1 = Clock::now();
    auto built = zone::Zone::build(zs.origin, std::move(t.records));
    if (!built) return make_error("zone: " + built.error().message);
    next = *built;
    using ms = std::chrono::milliseconds;
    spdlog::debug("zone {}: AXFR applied: store {} ms, build {} ms", zs.name,
                  std::chrono::duration_cast<ms>(t1 - t0).count(),
                  std::chrono::duration_cast<ms>(Clock::now() - t1).count());
  } else if (t.kind == xfr::Transfer::Kind::Incremental) {
    std::shared_ptr<const zone::Zone> cur;
    {
      std::lock_guard lk(zs.mu);
      if (!zs.have_data) return make_error("IXFR without a copy");
      cur = zs.current;
    }
    // Check the differences against our copy before anything is written.
    auto built = zone::apply(*cur, std::span<const zone::ChangeSet>(t.changes));
    if (!built) return make_error(built.error().message);
    auto app = store->append_changes(t.changes);
    if (!app) return make_error("store: " + app.error().message);
    next = *built;
    auto info = store->zone_info(zs.origin);
    if (info && info->has_value() && trim.keep_count &&
        (*info)->journal_length > trim.keep_count + trim_slack) {
      store::TrimPolicy tp = trim;
      tp.now = std::chrono::system_clock::now();
      auto folded = store->trim_journal(zs.origin, tp);
      if (!folded) spdlog::warn("zone {}: journal trim: {}", zs.name, folded.error().message);
    }
  } else {
    return {};
  }
  {
    std::lock_guard lk(zs.mu);
    zs.current = next;
    zs.have_data = true;
  }
  if (publish) publish(next);
  return {};
}

size_t Secondaries::handle_notify(std::span<const uint8_t> query, const net::Peer* peer,
                                  uint8_t* out, size_t cap) {
  if (query.size() < wire::kHeaderSize || cap < wire::kHeaderSize) return 0;
  wire::ParseInfo info;
  auto m = wire::parse(query, &info);
  wire::Header h;
  h.id = uint16_t(query[0] << 8 | query[1]);
  h.set_qr(true);
  h.set_opcode(wire::Opcode::Notify);
  auto reply = [&](wire::Rcode rc, const wire::Question* q, const tsig::Verified* v) -> size_t {
    wire::MessageBuilder b(out, cap);
    wire::Header rh = h;
    rh.set_aa(rc == wire::Rcode::NoError);
    b.set_header(rh);
    // RFC 1996 §4.7: the response echoes the question.
    if (q) b.add_question(*q);
    b.set_rcode(uint16_t(rc));
    size_t n = b.finish();
    if (v && v->status != tsig::Status::FormErr) {
      auto s = tsig::sign_response(out, n, cap, *v, tsig::now_seconds());
      if (s) n = *s;
    }
    return n;
  };
  if (!m || m->header.qr()) return m ? 0 : reply(wire::Rcode::FormErr, nullptr, nullptr);
  if (m->question.size() != 1) return reply(wire::Rcode::FormErr, nullptr, nullptr);
  const wire::Question& q = m->question[0];
  // RFC 1996 §3.7: QTYPE SOA, class IN for our zones.
  if (q.qtype != kSoa || q.qclass != kIn) return reply(wire::Rcode::FormErr, &q, nullptr);

  std::optional<tsig::Verified> v;
  if (info.tsig_offset) {
    v = tsig::verify_request(query, info, m->additional.back(), *impl_->ring,
                             tsig::now_seconds());
    if (v->status == tsig::Status::FormErr) return reply(wire::Rcode::FormErr, &q, nullptr);
    if (!v->ok()) {
      spdlog::warn("NOTIFY for {}: {}", q.name.to_text(), tsig::status_text(v->status));
      return reply(v->rcode(), &q, &*v);
    }
  }
  const tsig::Verified* vp = v ? &*v : nullptr;
  auto it = impl_->by_name.find(q.name);
  if (it == impl_->by_name.end()) return reply(wire::Rcode::NotAuth, &q, vp);
  Impl::ZoneState& zs = *it->second;

  // RFC 1996 §3.10: only from a configured primary (and with its key).
  const sockaddr* sa = peer ? reinterpret_cast<const sockaddr*>(peer->addr) : nullptr;
  socklen_t sl = peer ? peer->addr_len : 0;
  bool allowed = false;
  for (const auto& p : zs.primaries) {
    if (!xfr::same_address(p.addr, sa, sl)) continue;
    if (p.key && !(v && v->key && v->key->name == p.key->name)) continue;
    allowed = true;
    break;
  }
  if (!allowed) {
    spdlog::warn("zone {}: NOTIFY refused (not from a configured primary{})", zs.name,
                 v ? "" : ", or unsigned");
    return reply(wire::Rcode::Refused, &q, vp);
  }
  {
    std::lock_guard lk(zs.mu);
    zs.notified = true;
  }
  zs.cv.notify_one();
  spdlog::debug("zone {}: NOTIFY accepted", zs.name);
  return reply(wire::Rcode::NoError, &q, vp);
}

}  // namespace ddns::server
