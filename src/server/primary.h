// ddnsd as a primary: per-zone transfer ACLs (AXFR RFC 5936 and IXFR
// RFC 1995 are answered by xfr/out through the dispatcher), and NOTIFY
// (RFC 1996) to each zone's secondaries after every change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"
#include "conf/config.h"
#include "net/frontend.h"
#include "net/snapshot.h"
#include "store/store.h"
#include "tsig/tsig.h"
#include "xfr/out.h"
#include "zone/zone.h"

namespace ddns::server {

class Primary {
 public:
  // `store` may be null (no journal: IXFR is answered with a full
  // transfer). `zones` is what queries see; transfers read the same.
  Primary(const net::Published<zone::ZoneSet>* zones, store::Store* store,
          std::shared_ptr<const tsig::KeyRing> ring);
  ~Primary();
  Primary(const Primary&) = delete;
  Primary& operator=(const Primary&) = delete;

  // Reads allow_transfer / notify of every zone; errors name the zone's
  // config location and the bad entry.
  Result<void> configure(const conf::Config& cfg);
  // Replaces every zone's allow-transfer with `cfg`'s (SIGHUP; keys are the
  // ring's from the start). On error nothing changes.
  Result<void> set_acls(const conf::Config& cfg);
  void start();  // the NOTIFY sender thread
  void stop();   // idempotent

  // Per zone origin, who may transfer it (allow-transfer), replaced whole
  // by set_acls(); read by the dispatcher (xfr::answer_transfer).
  const net::Published<xfr::AclMap>& transfer_acls() const;

  // A new snapshot of `z` was published: NOTIFY its secondaries (retried
  // until each answers). Cheap; never blocks.
  void published(const zone::Zone& z);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddns::server
