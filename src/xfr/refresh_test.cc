// Tests of the secondary's refresh engine without sockets: the SOA timer
// schedule on a fake clock, and refresh_once over a scripted transport.
#include "xfr/refresh.h"

#include <gtest/gtest.h>

#include <deque>

namespace ddns::xfr {
namespace {

using namespace std::chrono_literals;
using T = RefreshClock::time_point;

const T t0{};  // a fake clock: tests pass times explicitly

SoaTimers timers(uint32_t refresh, uint32_t retry, uint32_t expire) {
  return SoaTimers{refresh, retry, expire, 60};
}

TEST(RefreshSchedule, RefreshRetryExpire) {
  RefreshSchedule s(timers(100, 10, 300), std::nullopt, false, t0);
  EXPECT_EQ(s.due(t0), Due::Refresh);  // first refresh at once
  EXPECT_FALSE(s.attempted(Attempt::UpToDate, timers(100, 10, 300), t0));
  EXPECT_EQ(s.wake(), t0 + 100s);
  EXPECT_EQ(s.due(t0 + 99s), Due::Nothing);
  EXPECT_EQ(s.due(t0 + 100s), Due::Refresh);
  // Failures retry every RETRY; EXPIRE counts from the last success.
  s.attempted(Attempt::Failed, timers(100, 10, 300), t0 + 100s);
  EXPECT_EQ(s.wake(), t0 + 110s);
  for (T now = t0 + 110s; now < t0 + 300s; now += 10s) {
    ASSERT_EQ(s.due(now), Due::Refresh);
    s.attempted(Attempt::Failed, timers(100, 10, 300), now);
  }
  EXPECT_EQ(s.due(t0 + 300s), Due::Expire);  // RFC 1035 §3.3.13
  EXPECT_TRUE(s.expired());
  EXPECT_EQ(s.due(t0 + 300s), Due::Refresh);  // reported once, refresh still due
  // A success serves again and restarts both timers.
  EXPECT_TRUE(s.attempted(Attempt::Transferred, timers(100, 10, 300), t0 + 300s));
  EXPECT_FALSE(s.expired());
  EXPECT_EQ(s.wake(), t0 + 400s);
}

TEST(RefreshSchedule, NotifyRefreshesAtOnceAndNoCopyRetriesSoon) {
  RefreshSchedule s(std::nullopt, std::nullopt, false, t0);
  EXPECT_EQ(s.due(t0), Due::Refresh);
  EXPECT_FALSE(s.attempted(Attempt::Failed, std::nullopt, t0));
  EXPECT_EQ(s.wake(), t0 + RefreshSchedule::kNoDataRetry);
  EXPECT_EQ(s.due(t0 + 1s), Due::Nothing);
  s.notified();
  EXPECT_EQ(s.due(t0 + 1s), Due::NotifyRefresh);
  EXPECT_EQ(s.due(t0 + 1s), Due::Nothing);  // one NOTIFY, one refresh

  // A NOTIFY that arrives as the copy expires is not lost behind the Expire.
  RefreshSchedule e(timers(100, 10, 300), std::nullopt, false, t0);
  e.attempted(Attempt::UpToDate, timers(100, 10, 300), t0 + 250s);  // expires at 550 s
  e.notified();
  EXPECT_EQ(e.due(t0 + 550s), Due::Expire);
  EXPECT_LE(e.wake(), t0 + 550s);
  EXPECT_EQ(e.due(t0 + 550s), Due::NotifyRefresh);
}

TEST(RefreshSchedule, PersistedExpireAndBoundsOnTimers) {
  // Restarted with 5 s of EXPIRE left (refresh_state on disk).
  RefreshSchedule s(timers(0, 0, 3600), 5000ms, false, t0);
  EXPECT_EQ(s.due(t0), Due::Refresh);
  s.attempted(Attempt::Failed, timers(0, 0, 3600), t0);
  EXPECT_EQ(s.wake(), t0 + 1s);  // RETRY 0 is clamped to 1 s, not a spin
  EXPECT_EQ(s.due(t0 + 5s), Due::Expire);
  EXPECT_EQ(refresh_interval(timers(0xffffffff, 0, 0)), std::chrono::seconds(7 * 86400));
  // Already expired at start: no second Expire event.
  RefreshSchedule e(timers(100, 10, 300), -1ms, true, t0);
  EXPECT_EQ(e.due(t0), Due::Refresh);
}

// ---- refresh_once over a scripted transport --------------------------------

wire::Bytes soa_rdata(uint32_t serial) {
  wire::Bytes b = {0, 0};  // root mname, root rname
  for (uint32_t v : {serial, 3600u, 600u, 86400u, 60u})
    for (int sh = 24; sh >= 0; sh -= 8) b.push_back(uint8_t(v >> sh));
  return b;
}

wire::RR soa(uint32_t serial) {
  return wire::RR{*wire::Name::from_text("example.test."), 6, 1, 3600, soa_rdata(serial)};
}

Transfer full(uint32_t serial) {
  Transfer t;
  t.kind = Transfer::Kind::Full;
  t.serial = serial;
  t.records.push_back(soa(serial));
  return t;
}

Transfer incremental(uint32_t from, uint32_t to) {
  Transfer t;
  t.kind = Transfer::Kind::Incremental;
  t.serial = to;
  zone::ChangeSet cs;
  cs.serial_from = from;
  cs.serial_to = to;
  t.changes.push_back(cs);
  return t;
}

struct Script final : RefreshTransport {
  std::optional<uint32_t> ours;
  std::vector<std::string> names = {"p1", "p2"};
  std::deque<Result<uint32_t>> soas;
  std::deque<Result<Transfer>> transfers;
  std::deque<Applied> applies;
  std::vector<std::string> log;  // what was asked, in order

  size_t primaries() const override { return names.size(); }
  std::string primary_text(size_t i) const override { return names[i]; }
  std::optional<wire::RR> our_soa() override {
    if (!ours) return std::nullopt;
    return soa(*ours);
  }
  Result<uint32_t> query_soa(size_t i) override {
    log.push_back("soa " + names[i]);
    auto r = soas.front();
    soas.pop_front();
    return r;
  }
  Result<Transfer> transfer(size_t i, const wire::RR* our) override {
    log.push_back((our ? "ixfr " : "axfr ") + names[i]);
    auto r = std::move(transfers.front());
    transfers.pop_front();
    return r;
  }
  Applied apply(Transfer&& t, std::string, std::string* why) override {
    log.push_back(t.kind == Transfer::Kind::Full ? "apply full" : "apply diff");
    Applied a = applies.front();
    applies.pop_front();
    if (a == Applied::Ok) ours = t.serial;
    else *why = "does not fit";
    return a;
  }
  bool cancelled() const override { return false; }
};

using Log = std::vector<std::string>;

TEST(RefreshOnce, SoaCheckSkipsTransferWhenCurrent) {
  Script s;
  s.ours = 10;
  s.soas = {Result<uint32_t>(10u)};
  EXPECT_EQ(refresh_once(s, "example.test.", false), Attempt::UpToDate);
  EXPECT_EQ(s.log, (Log{"soa p1"}));
}

TEST(RefreshOnce, NotifyGoesStraightToIxfr) {
  Script s;
  s.ours = 10;
  s.transfers.push_back(incremental(10, 11));
  s.applies = {Applied::Ok};
  EXPECT_EQ(refresh_once(s, "example.test.", true), Attempt::Transferred);
  EXPECT_EQ(s.log, (Log{"ixfr p1", "apply diff"}));
  EXPECT_EQ(*s.ours, 11u);
}

// RFC 1995: differences that do not fit mean our copy diverged: AXFR.
TEST(RefreshOnce, DivergedIxfrFallsBackToAxfr) {
  Script s;
  s.ours = 10;
  s.soas = {Result<uint32_t>(12u)};
  s.transfers.push_back(incremental(10, 12));
  s.transfers.push_back(full(12));
  s.applies = {Applied::Diverged, Applied::Ok};
  EXPECT_EQ(refresh_once(s, "example.test.", false), Attempt::Transferred);
  EXPECT_EQ(s.log, (Log{"soa p1", "ixfr p1", "apply diff", "axfr p1", "apply full"}));
}

TEST(RefreshOnce, RefusedIxfrThenAxfrAndNextPrimaryOnFailure) {
  Script s;
  s.ours = 10;
  s.soas = {Result<uint32_t>(make_error("timeout")), Result<uint32_t>(11u)};
  s.transfers.push_back(make_error("rcode NOTIMP"));
  s.transfers.push_back(full(11));
  s.applies = {Applied::Ok};
  EXPECT_EQ(refresh_once(s, "example.test.", false), Attempt::Transferred);
  EXPECT_EQ(s.log, (Log{"soa p1", "soa p2", "ixfr p2", "axfr p2", "apply full"}));
}

TEST(RefreshOnce, NeverStepsBackAndNoCopyTakesAxfr) {
  Script s;
  s.ours = 10;
  s.transfers.push_back(full(9));  // an older primary answering in AXFR form
  EXPECT_EQ(refresh_once(s, "example.test.", true), Attempt::UpToDate);
  EXPECT_EQ(*s.ours, 10u);

  Script n;  // no copy yet: AXFR, no SOA query
  n.transfers.push_back(full(5));
  n.applies = {Applied::Ok};
  EXPECT_EQ(refresh_once(n, "example.test.", false), Attempt::Transferred);
  EXPECT_EQ(n.log, (Log{"axfr p1", "apply full"}));

  Script f;  // every primary fails
  f.transfers.push_back(make_error("refused"));
  f.transfers.push_back(make_error("refused"));
  EXPECT_EQ(refresh_once(f, "example.test.", false), Attempt::Failed);
}

}  // namespace
}  // namespace ddns::xfr
