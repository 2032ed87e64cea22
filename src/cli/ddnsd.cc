// ddnsd: the authoritative DNS daemon's command line; everything else is in
// server/ (run) and zone/ (check-zone).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "conf/config.h"
#include "server/runtime_config.h"
#include "server/server.h"
#include "zone/check.h"

#ifndef DDNS_VERSION
#define DDNS_VERSION "0.1.0"
#endif

namespace {

// "example.test.zone" -> "example.test" (named-checkzone needs it spelled out;
// we guess from the usual file naming when --origin is absent).
std::string origin_from_file(const std::string& path) {
  std::string base = std::filesystem::path(path).filename().string();
  for (const char* ext : {".zone", ".db", ".txt"}) {
    std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0)
      return base.substr(0, base.size() - e.size());
  }
  return base;
}

// Loading a large zone is mostly page faults on fresh memory, and a fault is
// dear (dearer still in a virtual machine). Backed by transparent huge pages,
// malloc's memory takes one fault per 2 MiB instead of per 4 KiB: a
// 1,000,000-host zone loads a third faster at the same peak memory
// (docs/BENCHMARKS.md). glibc reads the setting (GLIBC_TUNABLES
// glibc.malloc.hugetlb=1: madvise its heaps for THP) only as a process
// starts, so ddnsd sets it and executes itself again, once, keeping its PID
// and name. Skipped where the kernel has THP off, when the user set the
// tunable either way, and with DDNSD_HUGEPAGES=0. The second start knows
// itself by DDNSD_HUGEPAGES_EXEC, not by the tunable: glibc 2.36 rewrites
// GLIBC_TUNABLES in place as it reads it (keeping only the first entry).
void use_huge_pages(char** argv) {
  if (std::getenv("DDNSD_HUGEPAGES_EXEC")) return;
  const char* opt = std::getenv("DDNSD_HUGEPAGES");
  if (opt && std::strcmp(opt, "0") == 0) return;
  const char* t = std::getenv("GLIBC_TUNABLES");
  if (t && std::strstr(t, "glibc.malloc.hugetlb")) return;  // the user's own choice
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(thp, mode) || mode.find("[never]") != std::string::npos) return;
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = 0;
  std::string v = t && *t ? std::string(t) + ":glibc.malloc.hugetlb=1" : "glibc.malloc.hugetlb=1";
  if (::setenv("GLIBC_TUNABLES", v.c_str(), 1) != 0 || ::setenv("DDNSD_HUGEPAGES_EXEC", "1", 1) != 0)
    return;
  ::execv(exe, argv);
  // Still here: run on ordinary pages (a glibc older than 2.35 ignores the
  // tunable as well).
}

// Every flag as given; turned into a Config by build_config(), at start and
// again on each SIGHUP (the file re-read, the flags laid over it again).
struct Flags {
  std::string config_path, log_level, data_dir, tls_cert, tls_key, coalesce;
  std::vector<std::string> listen, zones, key_files, allow_update;
  std::vector<std::string> allow_transfer, notify, notify_ns, secondary, http, ddns_zones;
  unsigned threads = 0;
  int64_t rrl = -1, rrl_slip = -1;  // -1 = not given
};

std::string norm(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

ddns::Error flag_error(const std::string& flag, const std::string& v, const std::string& why) {
  return ddns::make_error(flag + " '" + v + "': " + why);
}

bool split(const std::string& v, std::string& zone, std::string& rest) {
  size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) return false;
  zone = v.substr(0, eq);
  rest = v.substr(eq + 1);
  return true;
}

// The file (when given) with the flags laid over it. Errors read
// "--flag 'value': why" or the config file's "FILE:LINE: key: why".
ddns::Result<ddns::conf::Config> build_config(const Flags& f) {
  using ddns::make_error;
  ddns::conf::Config cfg;
  if (!f.config_path.empty()) {
    auto c = ddns::conf::load_file(f.config_path);
    if (!c) return c.error();
    cfg = std::move(*c);
  }
  if (!f.listen.empty()) {
    for (const auto& l : f.listen)
      if (auto r = ddns::conf::check_listen(l); !r) return make_error("--listen: " + r.error().message);
    cfg.server.listen = f.listen;
  }
  for (const auto& z : f.zones) {
    size_t eq = z.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == z.size())
      return flag_error("--zone", z, "expected ORIGIN=FILE");
    ddns::conf::ZoneConfig zc;
    zc.name = z.substr(0, eq);
    zc.file = z.substr(eq + 1);
    zc.where = "--zone";
    cfg.zones.push_back(std::move(zc));
  }
  for (const auto& k : f.key_files) cfg.keys.push_back(k);
  auto find_zone = [&](const std::string& name) -> ddns::conf::ZoneConfig* {
    for (auto& zc : cfg.zones)
      if (norm(zc.name) == norm(name)) return &zc;
    return nullptr;
  };
  for (const auto& a : f.allow_update) {
    std::string zname, key;
    if (!split(a, zname, key)) return flag_error("--allow-update", a, "expected ZONE=KEYNAME");
    auto* zc = find_zone(zname);
    if (!zc) return flag_error("--allow-update", a, "no zone " + zname + " configured");
    zc->update_policy.push_back("grant " + key + " subdomain " + norm(zname) + ". ANY");
  }
  for (const auto& v : f.secondary) {
    std::string zname, remote;
    if (!split(v, zname, remote)) return flag_error("--secondary", v, "expected ZONE=ADDR:PORT[@KEYNAME]");
    if (auto r = ddns::conf::check_remote(remote); !r) return flag_error("--secondary", v, r.error().message);
    auto* zc = find_zone(zname);
    if (!zc) {
      ddns::conf::ZoneConfig n;
      n.name = zname;
      n.where = "--secondary";
      cfg.zones.push_back(std::move(n));
      zc = &cfg.zones.back();
    }
    zc->primaries.push_back(remote);
  }
  for (const auto& v : f.allow_transfer) {
    std::string zname, who;
    if (!split(v, zname, who)) return flag_error("--allow-transfer", v, "expected ZONE=ADDR or ZONE=KEYNAME");
    auto* zc = find_zone(zname);
    if (!zc) return flag_error("--allow-transfer", v, "no zone " + zname + " configured");
    // An address (or prefix) as such; anything else names a TSIG key.
    zc->allow_transfer.push_back(ddns::conf::check_prefix(who) ? who : "key " + who);
  }
  for (const auto& v : f.notify) {
    std::string zname, remote;
    if (!split(v, zname, remote)) return flag_error("--notify", v, "expected ZONE=ADDR:PORT");
    if (auto r = ddns::conf::check_remote(remote); !r) return flag_error("--notify", v, r.error().message);
    auto* zc = find_zone(zname);
    if (!zc) return flag_error("--notify", v, "no zone " + zname + " configured");
    zc->notify.push_back(remote);
  }
  for (const auto& v : f.notify_ns) {
    std::string zname = v, port;
    if (auto eq = v.find('='); eq != std::string::npos) {
      zname = v.substr(0, eq);
      port = v.substr(eq + 1);
    }
    auto* zc = find_zone(zname);
    if (!zc) return flag_error("--notify-ns", v, "no zone " + zname + " configured");
    zc->notify_ns = true;
    if (!port.empty()) {
      unsigned long n = 0;
      size_t used = 0;
      try {
        n = std::stoul(port, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != port.size() || n < 1 || n > 65535)
        return flag_error("--notify-ns", v, "expected ZONE or ZONE=PORT (1-65535)");
      zc->notify_ns_port = uint16_t(n);
    }
  }
  for (const auto& z : f.ddns_zones) {
    auto* zc = find_zone(z);
    if (!zc) return flag_error("--ddns-zone", z, "no zone " + z + " configured (add --zone " + z + "=FILE)");
    zc->ddns = true;
  }
  if (!f.http.empty()) {
    for (const auto& h : f.http)
      if (auto r = ddns::conf::check_listen(h); !r) return flag_error("--http", h, r.error().message);
    cfg.http.listen = f.http;
  }
  if (!f.tls_cert.empty()) cfg.http.tls_cert = f.tls_cert;
  if (!f.tls_key.empty()) cfg.http.tls_key = f.tls_key;
  if (cfg.http.tls_cert.empty() != cfg.http.tls_key.empty())
    return make_error("--tls-cert and --tls-key must be given together");
  if (f.config_path.empty() && cfg.zones.empty())
    return make_error("nothing to serve: give --config FILE or --zone ORIGIN=FILE (see --help)");
  if (f.threads) cfg.server.threads = f.threads;
  if (!f.coalesce.empty()) {
    auto r = ddns::conf::parse_coalesce(f.coalesce);
    if (!r) return make_error("--udp-coalesce: " + r.error().message);
    cfg.server.udp_coalesce_us = *r;
  }
  if (f.rrl >= 0) cfg.rrl.responses_per_second = uint32_t(f.rrl);
  if (f.rrl_slip >= 0) cfg.rrl.slip = uint32_t(f.rrl_slip);
  if (!f.log_level.empty()) {
    if (!ddns::conf::valid_log_level(f.log_level))
      return make_error("--log-level: must be one of trace, debug, info, warn, error, critical, off");
    cfg.server.log_level = f.log_level;
  }
  if (f.config_path.empty()) cfg.server.data_dir.clear();  // quick use: nothing written
  if (!f.data_dir.empty()) cfg.server.data_dir = f.data_dir;
  if (auto r = ddns::conf::validate(cfg); !r) return r.error();
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  use_huge_pages(argv);
  CLI::App app{"ddnsd " DDNS_VERSION " - authoritative DNS server"};
  app.footer(
      "Examples:\n"
      "  ddnsd --config etc/ddnsd.yaml\n"
      "  ddnsd --listen 127.0.0.1:5353 --listen [::1]:5353 --zone example.test=example.test.zone\n"
      "  ddnsd --check-zone example.test example.test.zone [--strict]\n"
      "  ddnsd --check-config --config etc/ddnsd.yaml\n"
      "Signals: SIGHUP re-reads the configuration and changed zone files; SIGTERM/SIGINT stop.");
  Flags f;
  std::string origin;
  std::vector<std::string> check;
  bool version = false, check_config = false;
  app.add_option("-c,--config", f.config_path, "YAML configuration file")->check(CLI::ExistingFile);
  app.add_option("-l,--listen", f.listen,
                 "address to serve on, repeatable: 127.0.0.1:5353 or [::1]:5353 (port 0 = any)");
  app.add_option("-z,--zone", f.zones, "zone to serve, repeatable: ORIGIN=FILE");
  app.add_option("--data-dir", f.data_dir, "directory of the store (ddns.db); needed for updates");
  app.add_option("--key", f.key_files, "BIND key file with TSIG keys, repeatable");
  app.add_option("--allow-update", f.allow_update,
                 "let a key update a zone, repeatable: ZONE=KEYNAME (grant KEYNAME subdomain ZONE ANY)");
  app.add_option("--allow-transfer", f.allow_transfer,
                 "let an address or a TSIG key transfer a zone, repeatable: ZONE=ADDR[/LEN] or ZONE=KEYNAME");
  app.add_option("--notify", f.notify,
                 "NOTIFY a secondary after every change, repeatable: ZONE=ADDR:PORT[@KEYNAME]");
  app.add_option(
      "--notify-ns", f.notify_ns,
      "also NOTIFY the zone's NS hosts (addresses from our zones), repeatable: ZONE[=PORT]");
  app.add_option("--secondary", f.secondary,
                 "serve ZONE as a secondary of a primary, repeatable (several = tried in order): "
                 "ZONE=ADDR:PORT[@KEYNAME]");
  app.add_option("--http", f.http,
                 "serve DynDNS2 /nic/update, the REST API and the web page, repeatable: ADDR:PORT");
  app.add_option("--ddns-zone", f.ddns_zones,
                 "open a served zone for DynDNS2 hostnames, repeatable: ZONE");
  app.add_option("--tls-cert", f.tls_cert, "PEM certificate for HTTPS on the --http listeners");
  app.add_option("--tls-key", f.tls_key, "PEM private key for --tls-cert");
  app.add_option("-t,--threads", f.threads, "UDP worker threads (default: one per core)")
      ->check(CLI::Range(1, 64));
  app.add_option("--udp-coalesce", f.coalesce,
                 "pause of a loaded UDP worker before its next batch: 0 (off), 100us (default), 1ms");
  app.add_option("--rrl", f.rrl,
                 "response rate limiting: UDP answers per second per client network and answer "
                 "(0 = off, the default; YAML rrl: for the rest)")
      ->check(CLI::Range(0, int(ddns::conf::RrlConfig::kMaxRate)));
  app.add_option("--rrl-slip", f.rrl_slip,
                 "with --rrl: every Nth limited answer is sent truncated (TC=1) instead of dropped "
                 "(default 2, 0 = drop all)")
      ->check(CLI::Range(0, int(ddns::conf::RrlConfig::kMaxSlip)));
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error, critical, off");
  app.add_option("--check-zone", check,
                 "check a zone file and exit: ORIGIN FILE (or FILE with --origin)")
      ->expected(1, 2);
  app.add_option("--origin", origin, "zone origin for a one-argument --check-zone");
  app.add_flag("--check-config", check_config,
               "check the configuration (with --config and/or flags) and every zone file, print "
               "the problems, exit 0 when good, 1 otherwise; starts nothing");
  bool strict = false;
  app.add_flag("--strict", strict,
               "with --check-zone: warnings (out-of-zone data, NS without address...) refuse the zone");
  app.add_flag("-V,--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "ddnsd " << DDNS_VERSION << "\n";
    return 0;
  }
  if (!check.empty()) {
    std::string o = check.size() == 2 ? check[0] : (origin.empty() ? origin_from_file(check[0]) : origin);
    const std::string& file = check.back();
    return ddns::zone::run_check_zone(o, file, std::cout, std::cerr, strict);
  }

  auto cfg = build_config(f);
  if (!cfg) {
    std::cerr << "ddnsd: " << cfg.error().message << "\n";
    return 1;
  }
  if (check_config) return ddns::server::run_check_config(*cfg, std::cout, std::cerr);
  return ddns::server::run(*cfg, [f] { return build_config(f); });
}
