// The secondary's refresh engine: SOA timers and one refresh attempt over
// the primaries (see refresh.h).
#include "xfr/refresh.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "metrics/metrics.h"
#include "zone/serial.h"

namespace ddns::xfr {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

seconds clamp_timer(uint32_t v, uint32_t lo, uint32_t hi) { return seconds(std::clamp(v, lo, hi)); }

const char* kind_text(Transfer::Kind k) {
  switch (k) {
    case Transfer::Kind::UpToDate: return "up to date";
    case Transfer::Kind::Full: return "AXFR";
    case Transfer::Kind::Incremental: return "IXFR";
  }
  return "?";
}

// "AXFR from P -> serial S (N records, M messages, B bytes, T ms)".
std::string log_text(const Transfer& t, const std::string& primary, RefreshClock::time_point start) {
  const bool full = t.kind == Transfer::Kind::Full;
  auto ms = std::chrono::duration_cast<milliseconds>(RefreshClock::now() - start).count();
  return fmt::format("{} from {} -> serial {} ({} {}, {} messages, {} bytes, {} ms)",
                     kind_text(t.kind), primary, t.serial, full ? t.records.size() : t.changes.size(),
                     full ? "records" : "changesets", t.messages, t.bytes, ms);
}

}  // namespace

seconds refresh_interval(const SoaTimers& t) { return clamp_timer(t.refresh, 1, 7 * 86400); }
seconds retry_interval(const SoaTimers& t) { return clamp_timer(t.retry, 1, 86400); }
seconds expire_interval(const SoaTimers& t) { return clamp_timer(t.expire, 1, 0x7fffffff); }

RefreshSchedule::RefreshSchedule(std::optional<SoaTimers> timers,
                                 std::optional<milliseconds> expire_left, bool expired,
                                 RefreshClock::time_point now)
    : next_refresh_(now), expired_(expired) {
  if (timers)
    expire_at_ = now + (expire_left ? *expire_left : milliseconds(expire_interval(*timers)));
}

Due RefreshSchedule::due(RefreshClock::time_point now) {
  // RFC 1035 §3.3.13: no successful refresh for EXPIRE seconds -> the copy
  // is no longer authoritative.
  if (expire_at_ && !expired_ && now >= *expire_at_) {
    expired_ = true;
    return Due::Expire;
  }
  if (notified_) {
    notified_ = false;
    return Due::NotifyRefresh;
  }
  if (now >= next_refresh_) return Due::Refresh;
  return Due::Nothing;
}

RefreshClock::time_point RefreshSchedule::wake() const {
  if (notified_) return RefreshClock::time_point::min();  // an Expire came first
  if (expire_at_ && !expired_) return std::min(next_refresh_, *expire_at_);
  return next_refresh_;
}

bool RefreshSchedule::attempted(Attempt a, std::optional<SoaTimers> timers,
                                RefreshClock::time_point now) {
  if (!timers) {
    next_refresh_ = now + kNoDataRetry;
    return false;
  }
  if (a == Attempt::Failed) {
    // RFC 1034 §4.3.5: RETRY after a failed refresh; EXPIRE keeps running.
    next_refresh_ = now + retry_interval(*timers);
    return false;
  }
  next_refresh_ = now + refresh_interval(*timers);
  expire_at_ = now + expire_interval(*timers);
  const bool revived = expired_;
  expired_ = false;
  return revived;
}

namespace {

// A transfer from primary `i`, applied: AXFR after an IXFR that failed or
// does not fit. Returns the attempt's outcome or the error to log.
Result<Attempt> from_primary(RefreshTransport& t, size_t i, const std::string& zone,
                             bool via_notify) {
  const std::optional<wire::RR> ours = t.our_soa();
  const uint32_t our_serial = ours ? soa_serial(ours->rdata).value_or(0) : 0;
  // RFC 1996 §3.11 asks for the SOA first; after a NOTIFY the IXFR answers it.
  if (ours && !via_notify) {
    auto serial = t.query_soa(i);
    if (!serial) return serial.error();
    if (!zone::serial_gt(*serial, our_serial)) return Attempt::UpToDate;
  }
  const auto start = RefreshClock::now();
  auto tr = t.transfer(i, ours ? &*ours : nullptr);
  if (!tr && ours && !t.cancelled()) {
    spdlog::info("zone {}: IXFR from {} failed ({}), trying AXFR", zone, t.primary_text(i),
                 tr.error().message);
    tr = t.transfer(i, nullptr);
  }
  if (!tr) return tr.error();
  if (tr->kind == Transfer::Kind::UpToDate) return Attempt::UpToDate;
  if (ours && !zone::serial_gt(tr->serial, our_serial)) return Attempt::UpToDate;
  std::string why;
  Applied a = t.apply(std::move(*tr), log_text(*tr, t.primary_text(i), start), &why);
  if (a == Applied::Diverged && !t.cancelled()) {
    spdlog::warn("zone {}: IXFR from {} not applicable ({}), trying AXFR", zone, t.primary_text(i),
                 why);
    auto full = t.transfer(i, nullptr);
    if (!full) return full.error();
    if (full->kind != Transfer::Kind::Full) return make_error("AXFR brought no zone");
    a = t.apply(std::move(*full), log_text(*full, t.primary_text(i), start), &why);
  }
  metrics::registry().shared().update(metrics::Source::Transfer, a == Applied::Ok);
  if (a != Applied::Ok) return make_error(why);
  return Attempt::Transferred;
}

}  // namespace

Attempt refresh_once(RefreshTransport& t, const std::string& zone, bool via_notify) {
  for (size_t i = 0; i < t.primaries(); ++i) {
    if (t.cancelled()) return Attempt::Failed;
    auto r = from_primary(t, i, zone, via_notify);
    if (r) return *r;
    spdlog::warn("zone {}: refresh from {} failed: {}", zone, t.primary_text(i), r.error().message);
  }
  return Attempt::Failed;
}

}  // namespace ddns::xfr
