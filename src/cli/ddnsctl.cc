// ddnsctl: the operator CLI (for now zone file checking and printing).
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "cli/ddnsctl_cmds.h"
#include "tsig/keyfile.h"
#include "wire/name.h"
#include "zone/check.h"
#include "zone/master.h"
#include "zone/writer.h"
#include "zone/zone.h"

namespace {

// print-zone: read, check, then print the canonical master file.
int print_zone(const std::string& origin, const std::string& path) {
  ddns::wire::Name root;
  auto o = ddns::wire::Name::from_text(origin, &root);
  if (!o) {
    std::cerr << "bad zone origin '" << origin << "': " << o.error().message << '\n';
    return 1;
  }
  ddns::zone::LoadedZone z = ddns::zone::load_zone_file(path, *o);
  for (const auto& d : z.warnings) std::cerr << d.to_string() << '\n';
  for (const auto& d : z.errors) std::cerr << d.to_string() << '\n';
  if (!z.ok()) return 1;
  std::ios::sync_with_stdio(false);
  ddns::zone::write_master(std::cout, *o, z.records);
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}

// check-zone --tree: what ddnsd does at start-up, read + check + build the
// immutable zone tree, so the zone-load benchmark measures the full load.
int load_zone(const std::string& origin, const std::string& path, bool strict) {
  ddns::wire::Name root;
  auto o = ddns::wire::Name::from_text(origin, &root);
  if (!o) {
    std::cerr << "bad zone origin '" << origin << "': " << o.error().message << '\n';
    return 1;
  }
  ddns::zone::ParseOptions opts;
  opts.strict = strict;
  ddns::zone::LoadedTree z = ddns::zone::load_zone_tree(path, *o, opts);
  for (const auto& d : z.warnings) std::cerr << d.to_string() << '\n';
  for (const auto& d : z.errors) std::cerr << d.to_string() << '\n';
  std::string shown = o->to_text();
  if (shown.size() > 1) shown.pop_back();
  if (!z.ok()) {
    std::cerr << "zone " << shown << "/IN: not loaded due to errors.\n";
    return 1;
  }
  std::cout << "OK: " << shown << " loaded serial " << z.zone->serial() << " (" << z.records
            << " records, zone tree " << z.zone->memory_usage() / (1024 * 1024) << " MiB)\n";
  return 0;
}

// keygen: a new TSIG key as a BIND key file (as tsig-keygen prints it).
int keygen(const std::string& name, const std::string& alg_text) {
  auto alg = ddns::tsig::algorithm_from_text(alg_text);
  if (!alg) {
    std::cerr << "unknown algorithm '" << alg_text << "' (hmac-sha256, hmac-sha512, ...)\n";
    return 1;
  }
  std::string t = name;
  if (t.empty() || t.back() != '.') t += '.';
  auto n = ddns::wire::Name::from_text(t);
  if (!n) {
    std::cerr << "bad key name '" << name << "': " << n.error().message << '\n';
    return 1;
  }
  auto key = ddns::tsig::generate_key(*n, *alg);
  if (!key) {
    std::cerr << "keygen: " << key.error().message << '\n';
    return 1;
  }
  std::cout << ddns::tsig::to_bind_keyfile(*key);
  return std::cout.good() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ddnsctl: operate a ddns server and its zones"};
  app.require_subcommand(1);
  std::string data_dir = "var";
  app.add_option("--data-dir", data_dir,
                 "ddnsd's data directory (the store), for store and account commands")
      ->capture_default_str();
  int exit_code = 0;
  ddns::cli::add_account_commands(app, &data_dir, &exit_code);
  ddns::cli::add_store_commands(app, &data_dir, &exit_code);
  ddns::cli::add_kea_commands(app, &exit_code);

  std::string origin, file;
  auto* check = app.add_subcommand(
      "check-zone", "Check a master file as the server would load it (like named-checkzone)");
  check->add_option("origin", origin, "Zone origin, e.g. example.test")->required();
  check->add_option("file", file, "Master file")->required();
  bool tree = false;
  check->add_flag("--tree", tree, "Also build the served zone tree (the full ddnsd load)");
  bool strict = false;
  check->add_flag("--strict", strict,
                  "Refuse the zone on any warning (out-of-zone data, NS without address, ...)");

  auto* print = app.add_subcommand(
      "print-zone", "Print a master file in canonical form (SOA first, canonical order)");
  print->add_option("origin", origin, "Zone origin, e.g. example.test")->required();
  print->add_option("file", file, "Master file")->required();

  std::string key_name, alg = "hmac-sha256";
  auto* kg = app.add_subcommand("keygen", "Print a new TSIG key as a BIND key file");
  kg->add_option("name", key_name, "Key name, e.g. host1.example.test")->required();
  kg->add_option("-a,--algorithm", alg, "hmac-sha256 (default), hmac-sha512, hmac-sha1, ...");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; any usage error exits 2 (as documented).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (kg->parsed()) return keygen(key_name, alg);

  if (check->parsed()) {
    if (tree) return load_zone(origin, file, strict);
    return ddns::zone::run_check_zone(origin, file, std::cout, std::cerr, strict);
  }
  if (print->parsed()) return print_zone(origin, file);
  return exit_code;
}
