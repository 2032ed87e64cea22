// ddnsd as a secondary: per zone, SOA refresh/retry/expire timers (RFC 1034
// §4.3.5, RFC 1035 §3.3.13), NOTIFY from the configured primaries (RFC 1996
// §3.7), IXFR (RFC 1995) with AXFR (RFC 5936) fallback, primaries tried in
// order, TSIG on every exchange when a key is given. A transfer is applied
// to the store first (one transaction: a killed transfer leaves the old
// copy) and published after, so a restart serves the last good copy at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "conf/config.h"
#include "net/frontend.h"
#include "store/store.h"
#include "tsig/tsig.h"
#include "zone/zone.h"

namespace ddns::server {

// RFC 1035 §3.3.13: EXPIRE counts from the last successful refresh, which
// must outlive a restart, or a secondary that restarts serves stale data
// forever. Kept per zone in DATA_DIR/secondary-refresh.state, one line
// "ZONE. UNIX_MS" each, replaced atomically (temp file + rename).
namespace refresh_state {
using Map = std::unordered_map<std::string, int64_t>;  // zone (lowercase, dotted) -> unix ms
// A missing file is an empty map; unreadable lines are skipped (logged).
Map read(const std::string& path);
Result<void> write(const std::string& path, const Map& m);
// Milliseconds a copy last refreshed at `last_ms` stays valid at `now_ms`
// (<= 0: already expired).
int64_t expire_left_ms(int64_t last_ms, int64_t now_ms, uint32_t expire_s);
}  // namespace refresh_state

class Secondaries {
 public:
  using PublishFn = std::function<void(std::shared_ptr<const zone::Zone>)>;
  // `store` must not be null (secondaries need a data dir). `publish` is
  // called (from the secondary's thread) with every newly transferred copy,
  // and with an expired copy's replacement.
  Secondaries(store::Store* store, std::shared_ptr<const tsig::KeyRing> ring, PublishFn publish);
  ~Secondaries();
  Secondaries(const Secondaries&) = delete;
  Secondaries& operator=(const Secondaries&) = delete;

  // Reads the zones with `primaries`; errors name the config location.
  Result<void> configure(const conf::Config& cfg);
  // Per secondary zone, what to serve at start: the store's last good copy,
  // or a placeholder (apex SOA only, marked expired: SERVFAIL) until the
  // first transfer. Call after configure(), before start().
  std::vector<std::shared_ptr<const zone::Zone>> initial();
  void start();  // the refresh thread (first refresh at once)
  void stop();   // idempotent; a transfer in flight is abandoned (store untouched)

  bool is_secondary(const wire::Name& origin) const;
  // A NOTIFY that auth::answer() diverted: checks it comes from one of the
  // zone's primaries (and its TSIG key when configured), writes the NOTIFY
  // response (RFC 1996 §4.7) and schedules a refresh. NOTAUTH / REFUSED
  // otherwise. Returns the response size (0 = drop).
  size_t handle_notify(std::span<const uint8_t> query, const net::Peer* peer, uint8_t* out,
                       size_t cap);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddns::server
