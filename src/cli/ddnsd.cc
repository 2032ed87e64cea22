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

}  // namespace

int main(int argc, char** argv) {
  use_huge_pages(argv);
  CLI::App app{"ddnsd " DDNS_VERSION " - authoritative DNS server"};
  app.footer(
      "Examples:\n"
      "  ddnsd --config etc/ddnsd.yaml\n"
      "  ddnsd --listen 127.0.0.1:5353 --listen [::1]:5353 --zone example.test=example.test.zone\n"
      "  ddnsd --check-zone example.test example.test.zone\n"
      "Signals: SIGHUP reloads changed zone files; SIGTERM/SIGINT stop.");
  std::string config_path, log_level, origin;
  std::vector<std::string> listen, zones, check, key_files, allow_update;
  std::vector<std::string> allow_transfer, notify, notify_ns, secondary, http, ddns_zones;
  std::string data_dir, tls_cert, tls_key, coalesce;
  unsigned threads = 0;
  bool version = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->check(CLI::ExistingFile);
  app.add_option("-l,--listen", listen,
                 "address to serve on, repeatable: 127.0.0.1:5353 or [::1]:5353 (port 0 = any)");
  app.add_option("-z,--zone", zones, "zone to serve, repeatable: ORIGIN=FILE");
  app.add_option("--data-dir", data_dir, "directory of the store (ddns.db); needed for updates");
  app.add_option("--key", key_files, "BIND key file with TSIG keys, repeatable");
  app.add_option("--allow-update", allow_update,
                 "let a key update a zone, repeatable: ZONE=KEYNAME (grant KEYNAME subdomain ZONE ANY)");
  app.add_option("--allow-transfer", allow_transfer,
                 "let an address or a TSIG key transfer a zone, repeatable: ZONE=ADDR[/LEN] or ZONE=KEYNAME");
  app.add_option("--notify", notify,
                 "NOTIFY a secondary after every change, repeatable: ZONE=ADDR:PORT[@KEYNAME]");
  app.add_option(
      "--notify-ns", notify_ns,
      "also NOTIFY the zone's NS hosts (addresses from our zones), repeatable: ZONE[=PORT]");
  app.add_option("--secondary", secondary,
                 "serve ZONE as a secondary of a primary, repeatable (several = tried in order): "
                 "ZONE=ADDR:PORT[@KEYNAME]");
  app.add_option("--http", http,
                 "serve DynDNS2 /nic/update, the REST API and the web page, repeatable: ADDR:PORT");
  app.add_option("--ddns-zone", ddns_zones,
                 "open a served zone for DynDNS2 hostnames, repeatable: ZONE");
  app.add_option("--tls-cert", tls_cert, "PEM certificate for HTTPS on the --http listeners");
  app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
  app.add_option("-t,--threads", threads, "UDP worker threads (default: one per core)")
      ->check(CLI::Range(1, 64));
  app.add_option("--udp-coalesce", coalesce,
                 "pause of a loaded UDP worker before its next batch: 0 (off), 100us (default), 1ms");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off");
  app.add_option("--check-zone", check,
                 "check a zone file and exit: ORIGIN FILE (or FILE with --origin)")
      ->expected(1, 2);
  app.add_option("--origin", origin, "zone origin for a one-argument --check-zone");
  app.add_flag("-V,--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "ddnsd " << DDNS_VERSION << "\n";
    return 0;
  }
  if (!check.empty()) {
    std::string o = check.size() == 2 ? check[0] : (origin.empty() ? origin_from_file(check[0]) : origin);
    const std::string& file = check.back();
    return ddns::zone::run_check_zone(o, file, std::cout, std::cerr);
  }

  ddns::conf::Config cfg;
  if (!config_path.empty()) {
    auto c = ddns::conf::load_file(config_path);
    if (!c) {
      std::cerr << "ddnsd: " << c.error().message << "\n";
      return 1;
    }
    cfg = std::move(*c);
  }
  // Flags override the file.
  if (!listen.empty()) {
    for (const auto& l : listen) {
      if (auto r = ddns::conf::check_listen(l); !r) {
        std::cerr << "ddnsd: --listen: " << r.error().message << "\n";
        return 1;
      }
    }
    cfg.server.listen = listen;
  }
  for (const auto& z : zones) {
    size_t eq = z.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == z.size()) {
      std::cerr << "ddnsd: --zone '" << z << "': expected ORIGIN=FILE\n";
      return 1;
    }
    ddns::conf::ZoneConfig zc;
    zc.name = z.substr(0, eq);
    zc.file = z.substr(eq + 1);
    zc.where = "--zone";
    cfg.zones.push_back(std::move(zc));
  }
  for (const auto& k : key_files) cfg.keys.push_back(k);
  for (const auto& a : allow_update) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size()) {
      std::cerr << "ddnsd: --allow-update '" << a << "': expected ZONE=KEYNAME\n";
      return 1;
    }
    std::string zname = a.substr(0, eq), key = a.substr(eq + 1);
    auto norm = [](std::string s) {
      for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
      if (s.size() > 1 && s.back() == '.') s.pop_back();
      return s;
    };
    bool found = false;
    for (auto& zc : cfg.zones) {
      if (norm(zc.name) != norm(zname)) continue;
      zc.update_policy.push_back("grant " + key + " subdomain " + norm(zname) + ". ANY");
      found = true;
    }
    if (!found) {
      std::cerr << "ddnsd: --allow-update '" << a << "': no zone " << zname << " configured\n";
      return 1;
    }
  }
  auto fail = [](const std::string& flag, const std::string& v, const std::string& why) {
    std::cerr << "ddnsd: " << flag << " '" << v << "': " << why << "\n";
    return 1;
  };
  auto split = [](const std::string& v, std::string& zone, std::string& rest) {
    size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) return false;
    zone = v.substr(0, eq);
    rest = v.substr(eq + 1);
    return true;
  };
  auto norm = [](std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (s.size() > 1 && s.back() == '.') s.pop_back();
    return s;
  };
  auto find_zone = [&](const std::string& name) -> ddns::conf::ZoneConfig* {
    for (auto& zc : cfg.zones)
      if (norm(zc.name) == norm(name)) return &zc;
    return nullptr;
  };
  for (const auto& v : secondary) {
    std::string zname, remote;
    if (!split(v, zname, remote)) return fail("--secondary", v, "expected ZONE=ADDR:PORT[@KEYNAME]");
    if (auto r = ddns::conf::check_remote(remote); !r) return fail("--secondary", v, r.error().message);
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
  for (const auto& v : allow_transfer) {
    std::string zname, who;
    if (!split(v, zname, who)) return fail("--allow-transfer", v, "expected ZONE=ADDR or ZONE=KEYNAME");
    auto* zc = find_zone(zname);
    if (!zc) return fail("--allow-transfer", v, "no zone " + zname + " configured");
    // An address (or prefix) as such; anything else names a TSIG key.
    zc->allow_transfer.push_back(ddns::conf::check_prefix(who) ? who : "key " + who);
  }
  for (const auto& v : notify) {
    std::string zname, remote;
    if (!split(v, zname, remote)) return fail("--notify", v, "expected ZONE=ADDR:PORT");
    if (auto r = ddns::conf::check_remote(remote); !r) return fail("--notify", v, r.error().message);
    auto* zc = find_zone(zname);
    if (!zc) return fail("--notify", v, "no zone " + zname + " configured");
    zc->notify.push_back(remote);
  }
  for (const auto& v : notify_ns) {
    std::string zname = v, port;
    if (auto eq = v.find('='); eq != std::string::npos) {
      zname = v.substr(0, eq);
      port = v.substr(eq + 1);
    }
    auto* zc = find_zone(zname);
    if (!zc) return fail("--notify-ns", v, "no zone " + zname + " configured");
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
        return fail("--notify-ns", v, "expected ZONE or ZONE=PORT (1-65535)");
      zc->notify_ns_port = uint16_t(n);
    }
  }
  for (const auto& z : ddns_zones) {
    auto* zc = find_zone(z);
    if (!zc) return fail("--ddns-zone", z, "no zone " + z + " configured (add --zone " + z + "=FILE)");
    zc->ddns = true;
  }
  if (!http.empty()) {
    for (const auto& h : http)
      if (auto r = ddns::conf::check_listen(h); !r) return fail("--http", h, r.error().message);
    cfg.http.listen = http;
  }
  if (!tls_cert.empty()) cfg.http.tls_cert = tls_cert;
  if (!tls_key.empty()) cfg.http.tls_key = tls_key;
  if (cfg.http.tls_cert.empty() != cfg.http.tls_key.empty()) {
    std::cerr << "ddnsd: --tls-cert and --tls-key must be given together\n";
    return 1;
  }
  if (config_path.empty() && cfg.zones.empty()) {
    std::cerr << "ddnsd: nothing to serve: give --config FILE or --zone ORIGIN=FILE (see --help)\n";
    return 1;
  }
  if (threads) cfg.server.threads = threads;
  if (!coalesce.empty()) {
    auto r = ddns::conf::parse_coalesce(coalesce);
    if (!r) {
      std::cerr << "ddnsd: --udp-coalesce: " << r.error().message << "\n";
      return 1;
    }
    cfg.server.udp_coalesce_us = *r;
  }
  if (!log_level.empty()) {
    if (!ddns::conf::valid_log_level(log_level)) {
      std::cerr << "ddnsd: --log-level: must be one of trace, debug, info, warn, error, critical, off\n";
      return 1;
    }
    cfg.server.log_level = log_level;
  }
  if (config_path.empty()) cfg.server.data_dir.clear();  // quick use: nothing written
  if (!data_dir.empty()) cfg.server.data_dir = data_dir;
  if (auto r = ddns::conf::validate(cfg); !r) {
    std::cerr << "ddnsd: " << r.error().message << "\n";
    return 1;
  }
  return ddns::server::run(cfg);
}
