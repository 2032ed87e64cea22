// The DynDNS2 service: /nic/update (and /v3/update), /checkip, /myip, the
// REST API under /api/ and the web page, on top of accounts and the zone
// writers. Every DNS change goes through update::ZoneWriter::submit_edit(),
// so it is journaled, durable, serial-bumped and NOTIFYed like RFC 2136.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/accounts.h"
#include "http/server.h"
#include "update/writer.h"
#include "wire/name.h"

namespace ddns::dyndns {

// What the handlers need from the rest of ddnsd.
struct Context {
  accounts::Accounts* accounts = nullptr;  // must outlive the service
  // The writer of zone `origin`, or null when that zone takes no changes
  // here (not served, not dynamic, or a secondary).
  std::function<update::ZoneWriter*(const wire::Name& origin)> writer;
};

struct Options {
  uint32_t ttl = 60;                     // TTL of A/AAAA/TXT records set by DynDNS2
  uint32_t nochg_abuse_count = 5;        // nochg answers for one host within...
  uint32_t nochg_abuse_window_s = 300;   // ...this window make it abusive
  uint32_t abuse_block_s = 3600;         // an abusive host/account is blocked this long
  uint32_t login_fail_limit = 10;        // failed logins per source address within...
  uint32_t login_fail_window_s = 300;    // ...this window block that address
  size_t max_hosts = 20;                 // per request; more = "numhost"
  std::string web_root;                  // "" = built-in page assets
  // Clock (unix seconds) for abuse windows and history; null = system clock.
  std::function<int64_t()> clock;
  // GET /metrics: the Prometheus text; null = no such route.
  std::function<std::string()> metrics_text;
  // Networks ("127.0.0.0/8", "::1") whose clients read /metrics without
  // credentials; any other reader must be an admin (session cookie, API
  // token or HTTP Basic user:password).
  std::vector<std::string> metrics_allow;
};

class Service {
 public:
  Service(Context ctx, Options opts);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Registers every route: install_nic + install_api + install_web.
  void install(http::Router& router);
  void install_nic(http::Router& router);  // nic.cc: DynDNS2, checkip, myip
  void install_api(http::Router& router);  // api.cc: REST JSON under /api/
  void install_web(http::Router& router);  // web.cc: the page and its assets
  // api.cc: GET /metrics (when options().metrics_text is set). Also used
  // alone on a listener of its own (metrics.listen).
  void install_metrics(http::Router& router);

  // One host's new records, shared by DynDNS2 and REST: replaces the
  // host's RRsets of each listed type (A, AAAA or TXT; empty values =
  // delete) in ONE edit through its zone's writer, then records history,
  // then calls `done` (on the writer or history thread, or at once on the
  // caller's for nohost/dnserr found before submitting). Outcome: Good,
  // NoChg, NoHost (no such DDNS host), DnsErr (zone not writable or store
  // failed).
  struct Change {
    std::string host;            // normalized FQDN
    struct Set {
      uint16_t type = 0;                // wire::RRType value
      std::vector<std::string> values;  // presentation form ("192.0.2.1", TXT text)
    };
    std::vector<Set> sets;
    std::string source;          // client address, for history
    std::string via;             // "dyndns2", "api", "web"
  };
  enum class Outcome : uint8_t { Good, NoChg, NoHost, DnsErr };
  // The DynDNS2 return code: "good", "nochg", "nohost", "dnserr".
  static std::string_view text(Outcome o);
  void apply(Change change, std::function<void(Outcome)> done);

  Context& context() { return ctx_; }
  const Options& options() const { return opts_; }

 private:
  Context ctx_;
  Options opts_;
  struct State;  // abuse counters, rate limits (nic.cc)
  std::unique_ptr<State> state_;
};

}  // namespace ddns::dyndns
