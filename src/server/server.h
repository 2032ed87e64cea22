// ddnsd's composition root: config -> zones loaded and checked -> zone
// snapshot published to the network workers -> listeners; SIGHUP reloads
// changed zone files (dynamic zones live in the store instead), RFC 2136
// UPDATEs go to each dynamic zone's writer, SIGTERM/SIGINT stop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/answer.h"
#include "base/result.h"
#include "conf/config.h"
#include "net/frontend.h"
#include "net/snapshot.h"
#include "store/store.h"
#include "tsig/tsig.h"
#include "update/policy.h"
#include "update/writer.h"
#include "zone/zone.h"

namespace ddns::accounts {
class Accounts;
}
namespace ddns::dispatch {
struct Context;
}
namespace ddns::dyndns {
class Service;
}
namespace ddns::http {
class Server;
}

namespace ddns::server {

class Primary;
class Secondaries;

struct ReloadReport {
  size_t reloaded = 0;   // zones whose new file was loaded
  size_t failed = 0;     // zones whose new file had errors (old data kept)
  size_t unchanged = 0;
};

class Server {
 public:
  explicit Server(conf::Config cfg);
  ~Server();

  // Loads every configured zone (any zone with errors refuses the start,
  // with its errors logged), opens every listener and starts the threads.
  Result<void> start();
  // Re-reads zone files whose mtime, size or inode changed and publishes a
  // new snapshot; a file with errors keeps its old data. Queries in flight
  // keep the snapshot they hold: nothing is dropped.
  ReloadReport reload();
  // Applies a configuration re-read on SIGHUP (server/runtime_config.cc):
  // file-fed zones added, removed or read from another file, transfer
  // ACLs, RRL settings and the log level change at once; a change to what
  // the threads hold (listeners, keys, policies, data directory) is logged
  // as taking effect at the next restart. A configuration with any problem changes
  // nothing and returns the error (the problems are logged). Call reload()
  // after it for the zone files themselves.
  Result<void> reconfigure(const conf::Config& next);
  void stop();

  // Listening addresses with their actual ports.
  const std::vector<net::Endpoint>& listening() const;
  // HTTP listeners with their actual ports (empty without http.listen).
  std::vector<net::Endpoint> http_listening() const;
  // metrics.listen listeners with their actual ports.
  std::vector<net::Endpoint> metrics_listening() const;
  // The Prometheus text of GET /metrics (metrics.cc).
  std::string metrics_text() const;
  std::shared_ptr<const zone::ZoneSet> zones() const { return published_->load(); }
  net::FrontendStats stats() const;
  // Answers limited by RRL (zero until it is on).
  const net::RrlStats& rrl_stats() const { return rrl_->stats(); }

 private:
  struct ZoneSlot {
    conf::ZoneConfig cfg;
    std::shared_ptr<const zone::Zone> zone;
    // The zone's one writer (every change of its state goes through it).
    update::ZoneWriter* writer = nullptr;
    bool dynamic = false;  // takes UPDATEs (RFC 2136, DynDNS2): the store is its truth
    bool import = false;   // start: the file is newer than the store, import it
    // File identity when last read (loaded or refused), to skip unchanged files.
    struct timespec mtime {};
    off_t size = -1;
    ino_t inode = 0;
    // Write-back (maintenance thread only): serial last written to `file`.
    uint32_t written_serial = 0;
    std::chrono::steady_clock::time_point changed_at{};
  };
  Result<std::shared_ptr<const zone::Zone>> load(ZoneSlot& slot, bool initial);
  // The store's copy when it is as new as the file's, else the file's
  // (`import` set: setup_writers() imports it through the zone's writer).
  Result<std::shared_ptr<const zone::Zone>> restore(const std::shared_ptr<const zone::Zone>& file,
                                                    bool* import);
  // One writer per zone, then the imports at start through them.
  Result<void> setup_writers();
  // The zone's writer (RFC 2136 policy when it has one); starts from slot.zone.
  Result<void> attach_writer(ZoneSlot& slot);
  // slot.import: the file's copy into the store through the zone's writer.
  Result<void> import_file(ZoneSlot& slot);
  Result<void> setup_http();
  void add_metrics_collector();          // metrics.cc
  Result<void> setup_metrics_listener();  // metrics.cc
  void publish_zone(std::shared_ptr<const zone::Zone> z);
  void maintenance_loop();
  void trim_journals();
  void write_back(bool final);
  void removals_loop();
  void drain_removals();

  conf::Config cfg_;
  auth::Options auth_opts_;
  std::vector<ZoneSlot> slots_;
  std::unique_ptr<net::Published<zone::ZoneSet>> published_;
  std::unique_ptr<net::Frontend> frontend_;
  std::unique_ptr<store::Store> store_;  // null without a data dir
  std::shared_ptr<tsig::KeyRing> ring_;
  std::vector<std::unique_ptr<update::ZoneWriter>> writers_;
  // Read-only once the front end starts: the writers of zones that take
  // UPDATEs (where UPDATE and DynDNS2 are routed). Every zone's writer
  // (grows when a reload adds a zone; the secondaries read it at start).
  std::unordered_map<wire::Name, update::ZoneWriter*, wire::NameHash> writer_by_origin_;
  std::unordered_map<wire::Name, update::ZoneWriter*, wire::NameHash> zone_writers_;
  std::mutex reload_mu_;   // one reload at a time
  std::mutex publish_mu_;  // serialises read-modify-publish of the zone set
  // Held while slots_ grows or shrinks (reconfigure) and while the
  // maintenance thread walks it; taken before publish_mu_.
  std::mutex slots_mu_;
  std::unique_ptr<net::Rrl> rrl_;  // UDP response rate limiting (off unless configured)
  // What every network thread's dispatcher routes to; read-only once the
  // front end starts.
  std::unique_ptr<dispatch::Context> dispatch_ctx_;
  tsig::ReplayCache replay_;  // RFC 8945 §5.2.3, for every signed message
  std::unique_ptr<Primary> primary_;          // transfer ACLs, NOTIFY out
  std::unique_ptr<Secondaries> secondaries_;  // null without secondary zones
  std::unique_ptr<accounts::Accounts> accounts_;  // null without DDNS/HTTP
  std::unique_ptr<dyndns::Service> dyndns_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<http::Server> metrics_http_;  // metrics.listen
  uint64_t metrics_collector_ = 0;
  // Journal trimming (server.journal-max-*), every minute.
  std::thread maintenance_;
  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  bool stopping_ = false;
  // DNS records of hosts deleted by ddnsctl (accounts dns_removals).
  std::thread removals_;
};

// Sets up spdlog on stderr at `level` (see conf::valid_log_level).
void setup_logging(const std::string& level);

// Runs ddnsd until SIGTERM/SIGINT: blocks the signals (before any thread
// starts, so only this thread receives them), starts, and on SIGHUP
// re-reads the configuration with `reread` (when given; a failure keeps
// the running one) and reloads changed zone files. Returns the process
// exit status (0 clean stop, 1 failed start).
int run(const conf::Config& cfg, const std::function<Result<conf::Config>()>& reread = {});

}  // namespace ddns::server
