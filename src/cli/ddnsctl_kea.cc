// ddnsctl kea-d2-config: a kea-dhcp-ddns (Kea D2) configuration that sends
// the DHCP server's A/AAAA, PTR and DHCID updates to ddnsd, signed with a TSIG key.
#include <nlohmann/json.hpp>

#include <cctype>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "cli/ddnsctl_cmds.h"
#include "net/endpoint.h"
#include "tsig/keyfile.h"
#include "tsig/tsig.h"
#include "wire/name.h"

namespace ddns::cli {
namespace {

using Json = nlohmann::ordered_json;

struct KeaOptions {
  std::vector<std::string> zones;
  std::vector<std::string> reverse_zones;
  std::string key_file;
  std::string key_name;
  std::vector<std::string> servers;
  std::string listen = "127.0.0.1:53001";
};

// Kea writes names with the final dot ("example.test."), keys without it,
// as BIND key files do.
std::string without_dot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

// Kea D2's spelling of the TSIG algorithms it supports (its TSIGKeyInfo).
std::string kea_algorithm(tsig::Algorithm alg) {
  std::string s(tsig::algorithm_text(alg));
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Result<Json> endpoint_json(const std::string& spec) {
  auto ep = net::Endpoint::parse(spec);
  if (!ep) return make_error("bad address '" + spec + "': " + ep.error().message);
  if (ep->port() == 0) return make_error("bad address '" + spec + "': port 0");
  // "127.0.0.1:53" / "[::1]:53" -> the bare address Kea wants.
  std::string host = ep->to_string();
  host.erase(host.rfind(':'));
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  return Json{{"ip-address", host}, {"port", ep->port()}};
}

Result<tsig::Key> pick_key(const KeaOptions& o) {
  auto keys = tsig::load_keyfile(o.key_file);
  if (!keys) return keys.error();
  if (keys->empty()) return make_error("no key in " + o.key_file);
  if (o.key_name.empty()) {
    if (keys->size() != 1) {
      return make_error(o.key_file + " holds " + std::to_string(keys->size()) +
                        " keys: choose one with --key-name");
    }
    return keys->front();
  }
  wire::Name root;
  auto want = wire::Name::from_text(o.key_name, &root);
  if (!want) return make_error("bad key name '" + o.key_name + "': " + want.error().message);
  for (const auto& k : *keys) {
    if (k.name == *want) return k;
  }
  return make_error("no key '" + o.key_name + "' in " + o.key_file);
}

// One ddns-domains list: each zone sent to every server with the key.
Result<Json> domains(const std::vector<std::string>& zones, bool reverse, const std::string& key,
                     const Json& servers) {
  static const wire::Name in_addr = *wire::Name::from_text("in-addr.arpa.");
  static const wire::Name ip6 = *wire::Name::from_text("ip6.arpa.");
  Json list = Json::array();
  wire::Name root;
  for (const auto& z : zones) {
    auto n = wire::Name::from_text(z, &root);
    if (!n) return make_error("bad zone name '" + z + "': " + n.error().message);
    // D2 picks the reverse domain by the lease address's in-addr.arpa or
    // ip6.arpa name (RFC 1035 §3.5, RFC 3596 §2.5); any other zone there
    // would never match.
    const bool is_reverse = n->is_subdomain_of(in_addr) || n->is_subdomain_of(ip6);
    if (reverse && !is_reverse) {
      return make_error("reverse zone '" + z + "' is not under in-addr.arpa or ip6.arpa");
    }
    if (!reverse && is_reverse) {
      return make_error("zone '" + z + "' is a reverse zone: give it with --reverse-zone");
    }
    list.push_back(Json{{"name", n->to_text()}, {"key-name", key}, {"dns-servers", servers}});
  }
  return Json{{"ddns-domains", list}};
}

int kea_d2_config(const KeaOptions& o) {
  auto fail = [](const std::string& why) {
    std::cerr << "kea-d2-config: " << why << '\n';
    return 1;
  };
  if (o.zones.empty() && o.reverse_zones.empty()) return fail("give --zone and/or --reverse-zone");
  auto key = pick_key(o);
  if (!key) return fail(key.error().message);
  const std::string key_name = without_dot(key->name.to_text());

  Json servers = Json::array();
  for (const auto& s : o.servers) {
    auto e = endpoint_json(s);
    if (!e) return fail(e.error().message);
    servers.push_back(*e);
  }
  auto listen = endpoint_json(o.listen);
  if (!listen) return fail(listen.error().message);
  auto fwd = domains(o.zones, false, key_name, servers);
  if (!fwd) return fail(fwd.error().message);
  auto rev = domains(o.reverse_zones, true, key_name, servers);
  if (!rev) return fail(rev.error().message);

  Json d2;
  // Where kea-dhcp4/6 send their name change requests ("dhcp-ddns":
  // "server-ip" / "server-port" in their own configuration).
  d2["ip-address"] = (*listen)["ip-address"];
  d2["port"] = (*listen)["port"];
  d2["tsig-keys"] = Json::array({Json{{"name", key_name},
                                      {"algorithm", kea_algorithm(key->alg)},
                                      {"secret", base64_encode(key->secret)}}});
  d2["forward-ddns"] = *fwd;
  d2["reverse-ddns"] = *rev;
  std::cout << Json{{"DhcpDdns", d2}}.dump(2) << '\n';
  return std::cout.good() ? 0 : 1;
}

}  // namespace

void add_kea_commands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<KeaOptions>();
  auto* c = app.add_subcommand(
      "kea-d2-config",
      "Print a kea-dhcp-ddns configuration that updates ddnsd's zones (holds the key's secret)");
  c->add_option("--zone", o->zones,
                "Forward zone for the leases' names (A/AAAA, DHCID), repeatable");
  c->add_option("--reverse-zone", o->reverse_zones,
                "Reverse zone for PTR records, e.g. 2.0.192.in-addr.arpa, repeatable");
  c->add_option("--key", o->key_file, "BIND key file (ddnsctl keygen) allowed to update the zones")
      ->required();
  c->add_option("--key-name", o->key_name, "Which key of the file, when it holds several");
  c->add_option("--server", o->servers, "ddnsd's DNS address ADDR:PORT, repeatable")->required();
  c->add_option("--listen", o->listen, "Where D2 takes the DHCP server's requests, ADDR:PORT")
      ->capture_default_str();
  c->callback([o, exit_code] { *exit_code = kea_d2_config(*o); });
}

}  // namespace ddns::cli
