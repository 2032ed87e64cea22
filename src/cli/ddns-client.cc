// ddns-client: keeps DNS names pointing at this machine's changing
// addresses, by DynDNS2 or RFC 2136 + TSIG; run once (cron) or as a daemon.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

#include "client/agent.h"
#include "client/config.h"

#ifndef DDNS_VERSION
#define DDNS_VERSION "0.1.0"
#endif

namespace {

using namespace ddns::client;

struct Flags {
  std::string config, cache, interval, force_interval, timeout, retry_min, retry_max;
  std::string user_agent, ca_file, log_level = "info";
  std::vector<std::string> hostnames;
  std::string server, user, password, protocol, tsig_key, key_name, zone, ttl;
  std::string ipv4, ipv6, ipv4_pattern, ipv6_pattern;
  bool allow_private = false, allow_temporary = false, once = false, version = false;
  bool check = false;
};

bool host_flags_given(const Flags& f) {
  return !f.hostnames.empty() || !f.server.empty() || !f.user.empty() || !f.password.empty() ||
         !f.protocol.empty() || !f.tsig_key.empty() || !f.zone.empty() || !f.ipv4.empty() ||
         !f.ipv6.empty();
}

// Builds the configuration from the file and/or the flags. Throws nothing:
// errors are returned as text for the caller to print.
ddns::Result<ClientConfig> build_config(const Flags& f) {
  ClientConfig cfg;
  if (!f.config.empty()) {
    if (host_flags_given(f))
      return ddns::make_error("host flags (--hostname, --server, ...) and --config exclude each "
                              "other; put the host in the file");
    auto c = load_config(f.config);
    if (!c) return c.error();
    cfg = std::move(*c);
  } else {
    if (f.hostnames.empty()) return ddns::make_error("give --config FILE, or --hostname and --server");
    for (const auto& name : f.hostnames) {
      HostConfig h;
      h.hostname = name;
      if (f.protocol.empty() || f.protocol == "dyndns2") h.protocol = Protocol::DynDns2;
      else if (f.protocol == "rfc2136") h.protocol = Protocol::Rfc2136;
      else return ddns::make_error("--protocol: expected dyndns2 or rfc2136");
      h.server = f.server;
      h.user = f.user;
      h.password = f.password;
      h.tsig_key_file = f.tsig_key;
      h.tsig_key_name = f.key_name;
      h.zone = f.zone;
      if (!f.ttl.empty()) {
        auto t = parse_duration(f.ttl);
        if (!t) return ddns::make_error("--ttl: " + t.error().message);
        h.ttl = *t;
      }
      for (int fam = 0; fam < 2; ++fam) {
        const std::string& spec = fam == 0 ? f.ipv4 : f.ipv6;
        auto s = parse_source(spec);
        if (!s) return ddns::make_error((fam == 0 ? "--ipv4: " : "--ipv6: ") + s.error().message);
        s->pattern = fam == 0 ? f.ipv4_pattern : f.ipv6_pattern;
        s->allow_private = f.allow_private;
        s->allow_temporary = f.allow_temporary;
        (fam == 0 ? h.ipv4 : h.ipv6) = *s;
      }
      auto ok = finish_host(h);
      if (!ok) return ddns::make_error(ok.error().message);
      cfg.hosts.push_back(std::move(h));
    }
  }
  // Global flags override the file.
  auto dur = [](const std::string& text, const char* flag, uint32_t& out) -> ddns::Result<void> {
    if (text.empty()) return {};
    auto d = parse_duration(text);
    if (!d) return ddns::make_error(std::string(flag) + ": " + d.error().message);
    out = *d;
    return {};
  };
  for (auto r : {dur(f.interval, "--interval", cfg.interval_s),
                 dur(f.force_interval, "--force-interval", cfg.force_interval_s),
                 dur(f.timeout, "--timeout", cfg.timeout_s),
                 dur(f.retry_min, "--retry-min", cfg.retry_min_s),
                 dur(f.retry_max, "--retry-max", cfg.retry_max_s)})
    if (!r) return r.error();
  if (cfg.interval_s == 0 || cfg.timeout_s == 0 || cfg.retry_min_s == 0)
    return ddns::make_error("--interval, --timeout and --retry-min must be more than 0");
  if (cfg.retry_max_s < cfg.retry_min_s) cfg.retry_max_s = cfg.retry_min_s;
  if (!f.cache.empty()) cfg.cache_file = f.cache;
  if (!f.user_agent.empty()) cfg.user_agent = f.user_agent;
  if (!f.ca_file.empty()) cfg.ca_file = f.ca_file;
  return cfg;
}

std::chrono::system_clock::time_point wall_now() { return std::chrono::system_clock::now(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ddns-client " DDNS_VERSION
               " - keeps DNS names pointing at this machine's addresses (DynDNS2 or RFC 2136)"};
  app.footer(
      "Examples:\n"
      "  ddns-client --server http://127.0.0.1:8080 --user host1.example.test --password TOKEN \\\n"
      "              --hostname host1.example.test --once\n"
      "  ddns-client --protocol rfc2136 --server 192.0.2.53 --tsig-key host1.key \\\n"
      "              --hostname host1.example.test --ipv4 if:eth0 --ipv6 if:eth0 --once\n"
      "  ddns-client --config /etc/ddns-client.yaml            (daemon)\n"
      "Address sources (--ipv4/--ipv6): none | if:NAME (if:* any) | url:URL | cmd:COMMAND | addr:IP\n"
      "  default: dyndns2 -> IPv4 from SERVER/checkip; rfc2136 -> IPv4 from any interface.\n"
      "  Private (RFC 1918, ULA, CGNAT), link-local and temporary IPv6 addresses are skipped\n"
      "  unless --allow-private / --allow-temporary.\n"
      "Exit codes: 0 up to date (updated or unchanged); 1 bad flags/config/key/cache;\n"
      "  2 a server refused (badauth, nohost, notfqdn, abuse, badagent, REFUSED, NOTAUTH):\n"
      "    no more updates for that host until its configuration changes;\n"
      "  3 temporary failure (911, dnserr, HTTP 5xx, timeout, network): retried with backoff\n"
      "    (911 never sooner than 5 minutes); 4 an address could not be detected.\n"
      "Signals (daemon): SIGHUP reloads the config; SIGTERM/SIGINT stop.");
  Flags f;
  // A later flag wins (scripts append overrides to a base command line).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("-c,--config", f.config, "YAML configuration file (see etc/ddns-client.yaml)");
  app.add_option("--hostname", f.hostnames, "hostname to keep updated (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--server", f.server,
                 "dyndns2: http(s)://HOST[:PORT][/PATH] (default path /nic/update); "
                 "rfc2136: HOST[:PORT] of the DNS server");
  app.add_option("--protocol", f.protocol, "dyndns2 (default) or rfc2136");
  app.add_option("--user", f.user, "dyndns2 user (default: the hostname, for a host token)");
  app.add_option("--password", f.password, "dyndns2 password or host token");
  app.add_option("--tsig-key", f.tsig_key, "rfc2136: BIND key file (tsig-keygen / ddnsctl keygen)");
  app.add_option("--key-name", f.key_name, "rfc2136: which key of the file (when it has several)");
  app.add_option("--zone", f.zone, "rfc2136: zone to update (default: hostname minus first label)");
  app.add_option("--ttl", f.ttl, "rfc2136: TTL of the records (default 60)");
  app.add_option("--ipv4", f.ipv4, "IPv4 address source (see below); none = do not update A");
  app.add_option("--ipv6", f.ipv6, "IPv6 address source (see below); default none");
  app.add_option("--ipv4-pattern", f.ipv4_pattern,
                 "text around the address in a url:/cmd: output, e.g. 'Address: {ip}'");
  app.add_option("--ipv6-pattern", f.ipv6_pattern, "the same for IPv6");
  app.add_flag("--allow-private", f.allow_private, "accept private (RFC 1918/ULA/CGNAT) addresses");
  app.add_flag("--allow-temporary", f.allow_temporary, "accept temporary IPv6 addresses (RFC 8981)");
  app.add_option("--cache", f.cache, "state file (addresses last sent, stop/backoff state)");
  app.add_option("--interval", f.interval, "daemon: time between checks (default 5m)");
  app.add_option("--force-interval", f.force_interval,
                 "resend unchanged addresses after this long (default 25d; 0 = never)");
  app.add_option("--timeout", f.timeout, "per request, checkip and command (default 10s)");
  app.add_option("--retry-min", f.retry_min, "first backoff after a temporary failure (default 1m)");
  app.add_option("--retry-max", f.retry_max, "longest backoff (default 1h)");
  app.add_option("--user-agent", f.user_agent, "HTTP User-Agent (default ddns-client/VERSION)");
  app.add_option("--ca-file", f.ca_file, "extra CA bundle for https:// servers");
  app.add_flag("--once", f.once, "check and update once, then exit (for cron)");
  app.add_flag("--check-config", f.check, "load the config and key files, report, and exit");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error, off");
  app.add_flag("-V,--version", f.version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitConfig;
  }
  if (f.version) {
    std::cout << "ddns-client " << DDNS_VERSION << "\n";
    return 0;
  }

  auto logger = spdlog::stderr_logger_mt("ddns-client");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%SZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  auto level = spdlog::level::from_str(f.log_level);
  if (level == spdlog::level::off && f.log_level != "off") {
    std::cerr << "ddns-client: --log-level: unknown level '" << f.log_level << "'\n";
    return kExitConfig;
  }
  spdlog::set_level(level);

  // The daemon takes its signals synchronously (sigtimedwait) between runs.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  if (!f.once) sigprocmask(SIG_BLOCK, &sigs, nullptr);

  // Everything a run needs, built from the flags/config; rebuilt on SIGHUP.
  struct Setup {
    ClientConfig cfg;
    Cache cache;
    std::unique_ptr<Updater> updater;
    std::unique_ptr<Detector> detector;
  };
  auto make_setup = [&f]() -> ddns::Result<std::unique_ptr<Setup>> {
    auto s = std::make_unique<Setup>();
    auto cfg = build_config(f);
    if (!cfg) return cfg.error();
    s->cfg = std::move(*cfg);
    if (!s->cfg.cache_file.empty()) {
      auto c = Cache::load(s->cfg.cache_file);
      if (!c) return ddns::make_error("cache: " + c.error().message);
      s->cache = std::move(*c);
    }
    auto updater = make_network_updater(s->cfg);  // keeps a reference to s->cfg
    if (!updater) return updater.error();
    s->updater = std::move(*updater);
    s->detector = make_system_detector(s->cfg);
    return s;
  };

  auto setup = make_setup();
  if (!setup) {
    std::cerr << "ddns-client: " << setup.error().message << "\n";
    return kExitConfig;
  }
  if (f.check) {
    std::cout << "ddns-client: configuration OK: " << (*setup)->cfg.hosts.size() << " host(s)\n";
    return kExitOk;
  }
  std::unique_ptr<Setup> cur = std::move(*setup);
  if (cur->cfg.cache_file.empty())
    spdlog::warn("no cache file (--cache or cache:): addresses are not remembered between runs, "
                 "so every --once run sends an update");
  if (f.once) {
    Agent agent(cur->cfg, std::move(cur->cache), *cur->detector, *cur->updater, wall_now);
    RunReport rep = agent.run_once();
    spdlog::info("done: {} updated, {} unchanged, {} stopped, {} retrying, {} without address; exit {}",
                 rep.updated, rep.unchanged, rep.stopped, rep.retrying, rep.no_address,
                 rep.exit_code());
    return rep.exit_code();
  }

  for (;;) {  // one pass per (re)load of the configuration
    spdlog::info("ddns-client {} running: {} host(s), check every {}s, forced refresh every {}s",
                 DDNS_VERSION, cur->cfg.hosts.size(), cur->cfg.interval_s, cur->cfg.force_interval_s);
    Agent agent(cur->cfg, std::move(cur->cache), *cur->detector, *cur->updater, wall_now);
    bool reload = false;
    while (!reload) {
      RunReport rep = agent.run_once();
      if (rep.cache_error) return kExitConfig;
      int64_t wait = std::max<int64_t>(1, rep.next_due - unix_floor(wall_now()));
      wait = std::min<int64_t>(wait, cur->cfg.interval_s);
      spdlog::debug("next check in {}s", wait);
      timespec ts{time_t(wait), 0};
      int sig = sigtimedwait(&sigs, nullptr, &ts);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("signal {}: stopping", sig);
        return kExitOk;
      }
      if (sig == SIGHUP) {
        auto next = make_setup();
        if (!next) {
          spdlog::error("SIGHUP: keeping the running configuration: {}", next.error().message);
          continue;
        }
        spdlog::info("SIGHUP: configuration reloaded");
        cur = std::move(*next);
        reload = true;
      }
    }
  }
}
