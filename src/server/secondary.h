// ddnsd as a secondary: per zone, SOA refresh/retry/expire timers (RFC 1034
// §4.3.5, RFC 1035 §3.3.13), NOTIFY from the configured primaries (RFC 1996
// §3.7), IXFR (RFC 1995) with AXFR (RFC 5936) fallback, primaries tried in
// order, TSIG on every exchange when a key is given. The protocol is
// xfr/refresh.h; this wires it to sockets, threads and the zone's writer,
// which makes a transfer durable (one transaction: a killed transfer leaves
// the old copy) before it publishes it, so a restart serves the last good
// copy at once.
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
#include "update/writer.h"
#include "xfr/in.h"
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
  // The zone's writer (the one writer of its state), asked at start().
  using WriterFn = std::function<update::ZoneWriter*(const wire::Name& origin)>;
  // `store` must not be null (secondaries need a data dir); it is read at
  // initial() and its journal trimmed, zone state is written only through
  // the writers `writer_of` names.
  Secondaries(store::Store* store, std::shared_ptr<const tsig::KeyRing> ring, WriterFn writer_of);
  ~Secondaries();
  Secondaries(const Secondaries&) = delete;
  Secondaries& operator=(const Secondaries&) = delete;

  // Reads the zones with `primaries`; errors name the config location.
  Result<void> configure(const conf::Config& cfg);
  // Per secondary zone, what to serve at start: the store's last good copy,
  // or a placeholder (apex SOA only, marked expired: SERVFAIL) until the
  // first transfer. Call after configure(), before start(); each zone's
  // writer starts from this copy.
  std::vector<std::shared_ptr<const zone::Zone>> initial();
  void start();  // the refresh threads (first refresh at once)
  void stop();   // idempotent; a transfer in flight is abandoned (store untouched)

  bool is_secondary(const wire::Name& origin) const;
  // RFC 1996 §3.10: may a NOTIFY for `origin` from `sa`, signed with `key`
  // (null: unsigned or not verified), be trusted? False for a zone that is
  // not ours.
  bool notify_allowed(const wire::Name& origin, const sockaddr* sa, socklen_t len,
                      const wire::Name* key) const;
  // A trusted NOTIFY for `origin` arrived: refresh it now (RFC 1996 §3.7).
  // False for a zone that is not ours.
  bool notify_received(const wire::Name& origin);
  // The configured primaries of secondary zone `origin` (null when it is
  // not one); fixed after configure(). The dispatcher checks a NOTIFY's
  // source against them (xfr::check_notify).
  const std::vector<xfr::PrimaryAddr>* primaries(const wire::Name& origin) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddns::server
