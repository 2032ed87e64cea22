// The REST JSON API under /api/ (docs/api.md): sessions and API tokens,
// the caller's hostnames with their current records, token rotation,
// history, manual address changes, and the admin views of users and zones.
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dyndns/removal.h"
#include "dyndns/service.h"
#include "dyndns/state.h"
#include "http/parse.h"
#include "metrics/metrics.h"
#include "wire/rrtype.h"

namespace ddns::dyndns {
namespace {

using http::Reply;
using http::Request;
using http::Response;
using json = nlohmann::json;

constexpr std::string_view kSessionCookie = "ddns_session";
constexpr int64_t kSessionTtl = 86400;
constexpr uint16_t kA = uint16_t(wire::RRType::A);
constexpr uint16_t kAAAA = uint16_t(wire::RRType::AAAA);
constexpr uint16_t kTXT = uint16_t(wire::RRType::TXT);
constexpr size_t kMaxJsonDepth = 16;
constexpr size_t kMaxTxt = 255;

// Never throws: strings from the store or a zone may hold bytes that are
// not UTF-8 (TXT data, history sources); they are replaced, not fatal.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response reply_json(int status, const json& j) {
  Response r = Response::json(status, dump(j));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response error(int status, std::string_view msg) {
  return reply_json(status, json{{"error", std::string(msg)}});
}

Response internal(const Error& e) { return error(500, "internal error: " + e.message); }

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (wire::ascii_lower(uint8_t(s[i])) != wire::ascii_lower(uint8_t(prefix[i]))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// nlohmann's parser is iterative, but a cheap bound on nesting keeps
// hostile bodies from building deep trees at all.
bool nesting_ok(std::string_view body) {
  size_t depth = 0;
  bool in_str = false, esc = false;
  for (char c : body) {
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// The request body as a JSON object ("" = {}), or nullopt when it is not one.
std::optional<json> body_object(const Request& req) {
  if (trim(req.body).empty()) return json::object();
  if (!nesting_ok(req.body)) return std::nullopt;
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::string> str_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool bool_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

bool truthy_param(const Request& req, std::string_view key) {
  auto v = req.param(key);
  return v && (*v == "1" || *v == "true" || *v == "yes");
}

std::optional<wire::Name> to_name(const std::string& fqdn) {
  auto n = wire::Name::from_text(fqdn + ".");
  if (!n.ok()) return std::nullopt;
  return std::move(*n);
}

// An address in canonical text, or "" when `s` is not an address of `family`.
std::string canonical_ip(std::string_view s, int family) {
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return "";
  char in[INET6_ADDRSTRLEN] = {};
  std::memcpy(in, s.data(), s.size());
  unsigned char buf[16];
  if (inet_pton(family, in, buf) != 1) return "";
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, buf, out, sizeof out)) return "";
  return out;
}

// TXT rdata (<character-string>s) as one string per record, strings joined.
std::string txt_text(const uint8_t* p, size_t n) {
  std::string out;
  size_t i = 0;
  while (i < n) {
    size_t len = p[i++];
    if (len > n - i) break;
    out.append(reinterpret_cast<const char*>(p + i), len);
    i += len;
  }
  return out;
}

std::string rdata_text(uint16_t type, const uint8_t* p, size_t n) {
  char out[INET6_ADDRSTRLEN];
  if (type == kA && n == 4 && inet_ntop(AF_INET, p, out, sizeof out)) return out;
  if (type == kAAAA && n == 16 && inet_ntop(AF_INET6, p, out, sizeof out)) return out;
  if (type == kTXT) return txt_text(p, n);
  return "";
}

struct Caller {
  accounts::User user;
  bool bearer = false;  // authenticated by an API token (not a cookie)
};

class Api : public std::enable_shared_from_this<Api> {
 public:
  Api(Service& svc, WorkPool& pool, AbuseTable& logins) : svc_(svc), pool_(pool), logins_(logins) {}

  void install(http::Router& r);
  // GET /metrics, readable without credentials from `allow` (networks the
  // config checked; one that does not parse here is dropped: it denies).
  void install_metrics(http::Router& r, const std::vector<std::string>& allow);

 private:
  // Runs `fn` on the service's work pool: Argon2 and SQLite never block
  // an HTTP I/O thread. The request is copied, as it may not outlive the
  // handler call.
  http::Handler offload(std::function<void(const Request&, Reply)> fn);

  using Fn = void (Api::*)(const Request&, const Caller&, Reply);

  accounts::Accounts* acc() { return svc_.context().accounts; }
  int64_t now() const { return svc_.options().clock(); }  // the Service sets a default

  // Authenticates (Bearer token first, then the session cookie) and, for
  // state-changing methods authenticated by cookie, applies the CSRF rule.
  // Answers 401/403 itself and returns nullopt when the call must stop.
  std::optional<Caller> authenticate(const Request& req, const Reply& reply);
  static bool changes_state(const Request& req) {
    return req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS";
  }
  static bool json_content(const Request& req) {
    auto ct = req.header("content-type");
    return ct && iequals_prefix(trim(*ct), "application/json");
  }
  // Wraps a member as a route handler: accounts present, caller known.
  http::Handler guarded(Fn fn, bool admin_only = false);

  // --- routes ---
  void login(const Request& req, Reply reply);
  void logout(const Request& req, Reply reply);
  void me(const Request& req, const Caller& c, Reply reply);
  void hosts(const Request& req, const Caller& c, Reply reply);
  void host_item(const Request& req, const Caller& c, Reply reply);
  void tokens(const Request& req, const Caller& c, Reply reply);
  void token_item(const Request& req, const Caller& c, Reply reply);
  void users(const Request& req, const Caller& c, Reply reply);
  void user_item(const Request& req, const Caller& c, Reply reply);
  void zones(const Request& req, const Caller& c, Reply reply);
  void zone_item(const Request& req, const Caller& c, Reply reply);
  void metrics(const Request& req, Reply reply);

  // --- hosts ---
  void list_hosts(const Request& req, const Caller& c, Reply reply);
  void create_host(const Request& req, const Caller& c, Reply reply);
  void delete_host(const accounts::Host& h, Reply reply);
  void set_host(const Request& req, const Caller& c, const accounts::Host& h, Reply reply);
  json host_json(const accounts::Host& h);
  // The zone's writer for a host, or null when ddnsd does not write it.
  update::ZoneWriter* writer_for(const std::string& zone);
  // Removes the host's records (dyndns::host_removal) in one edit;
  // `done(ok)` once it is durable, or at once when the zone is not ours.
  void clear_records(const accounts::Host& h, std::function<void(bool)> done);
  static std::string via(const Caller& c) { return c.bearer ? "api" : "web"; }


  Service& svc_;
  WorkPool& pool_;
  http::ProxyList allow_;  // metrics readers without credentials
  AbuseTable& logins_;  // shared with DynDNS2: failed logins of both count together
};

std::optional<Caller> Api::authenticate(const Request& req, const Reply& reply) {
  if (auto auth = req.header("authorization"); auth && iequals_prefix(*auth, "bearer ")) {
    std::string token(trim(auth->substr(7)));
    auto u = acc()->check_api_token(token);
    if (!u.ok()) {
      reply(internal(u.error()));
      return std::nullopt;
    }
    if (!*u) {
      Response r = error(401, "invalid API token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ddns\"");
      reply(std::move(r));
      return std::nullopt;
    }
    return Caller{std::move(**u), true};
  }
  auto session = req.cookie(kSessionCookie);
  if (!session || session->empty()) {
    reply(error(401, "not logged in"));
    return std::nullopt;
  }
  auto u = acc()->check_session(*session);
  if (!u.ok()) {
    reply(internal(u.error()));
    return std::nullopt;
  }
  if (!*u) {
    reply(error(401, "session expired"));
    return std::nullopt;
  }
  // CSRF: a cross-site form can send a cookie but not this content type
  // without a CORS preflight, which we never grant. SameSite=Strict is the
  // first line; this is the second.
  if (changes_state(req) && !json_content(req)) {
    reply(error(403, "state-changing requests need Content-Type: application/json"));
    return std::nullopt;
  }
  return Caller{std::move(**u), false};
}

http::Handler Api::offload(std::function<void(const Request&, Reply)> fn) {
  return [self = shared_from_this(), fn = std::move(fn)](const Request& req, Reply reply) {
    auto shared = std::make_shared<std::pair<Request, Reply>>(req, std::move(reply));
    if (!self->pool_.post([fn, shared] { fn(shared->first, std::move(shared->second)); })) {
      shared->second(error(503, "server busy; try again"));
    }
  };
}

http::Handler Api::guarded(Fn fn, bool admin_only) {
  return offload([self = shared_from_this(), fn, admin_only](const Request& req, Reply reply) {
    if (!self->acc()) return reply(error(503, "accounts are not available"));
    auto c = self->authenticate(req, reply);
    if (!c) return;
    if (admin_only && !c->user.admin) return reply(error(403, "admin only"));
    ((*self).*fn)(req, *c, std::move(reply));
  });
}

json user_json(const accounts::User& u) {
  return json{{"name", u.name}, {"admin", u.admin}, {"created", u.created}};
}

// ---------------------------------------------------------------- session --

void Api::login(const Request& req, Reply reply) {
  if (!acc()) return reply(error(503, "accounts are not available"));
  if (!json_content(req)) return reply(error(403, "login needs Content-Type: application/json"));
  const std::string& ip = req.client_ip;
  int64_t t = now();
  const Options& o = svc_.options();
  if (logins_.blocked(ip, t)) return reply(error(429, "too many failed logins; try again later"));
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  auto user = str_field(*body, "user");
  auto password = str_field(*body, "password");
  if (!user || !password || user->empty() || password->empty()) {
    return reply(error(400, "user and password are required"));
  }
  auto u = acc()->check_password(*user, *password);
  if (!u.ok()) return reply(internal(u.error()));
  if (!*u) {
    metrics::registry().shared().login_failures.add();
    logins_.hit(ip, t, o.login_fail_limit, o.login_fail_window_s, o.abuse_block_s);
    return reply(error(401, "wrong user name or password"));
  }
  auto sid = acc()->create_session((*u)->id, kSessionTtl);
  if (!sid.ok()) return reply(internal(sid.error()));
  Response r = reply_json(200, json{{"user", user_json(**u)}});
  // Secure when the client reached us over TLS, directly or through a
  // trusted proxy that says so (client_ip differs from the peer only then).
  bool secure = req.tls;
  if (!secure && req.client_ip != req.peer_ip) {
    auto proto = req.header("x-forwarded-proto");
    secure = proto && trim(*proto) == "https";
  }
  std::string cookie = std::string(kSessionCookie) + "=" + *sid +
                       "; Path=/; Max-Age=" + std::to_string(kSessionTtl) +
                       "; HttpOnly; SameSite=Strict";
  if (secure) cookie += "; Secure";
  r.headers.emplace_back("Set-Cookie", std::move(cookie));
  reply(std::move(r));
}

void Api::logout(const Request& req, Reply reply) {
  if (!acc()) return reply(error(503, "accounts are not available"));
  if (!json_content(req)) return reply(error(403, "logout needs Content-Type: application/json"));
  if (auto sid = req.cookie(kSessionCookie); sid && !sid->empty()) {
    auto r = acc()->delete_session(*sid);
    if (!r.ok()) return reply(internal(r.error()));
  }
  Response r = reply_json(200, json{{"ok", true}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                           "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  reply(std::move(r));
}

void Api::me(const Request&, const Caller& c, Reply reply) {
  reply(reply_json(200, json{{"user", user_json(c.user)}, {"auth", c.bearer ? "token" : "session"}}));
}

void Api::tokens(const Request& req, const Caller& c, Reply reply) {
  if (req.method == "GET") {
    auto ts = acc()->list_api_tokens(c.user.id);
    if (!ts.ok()) return reply(internal(ts.error()));
    json arr = json::array();
    for (const auto& t : *ts) arr.push_back(json{{"id", t.id}, {"label", t.label}, {"created", t.created}});
    return reply(reply_json(200, json{{"tokens", std::move(arr)}}));
  }
  if (req.method != "POST") return reply(error(405, "use GET or POST"));
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  std::string label = str_field(*body, "label").value_or("");
  if (label.size() > 100) return reply(error(400, "label too long"));
  auto t = acc()->create_api_token(c.user.id, label);
  if (!t.ok()) return reply(internal(t.error()));
  reply(reply_json(201, json{{"token", *t}, {"label", label}}));
}

void Api::token_item(const Request& req, const Caller& c, Reply reply) {
  if (req.method != "DELETE") return reply(error(405, "use DELETE"));
  std::string_view id = std::string_view(req.path).substr(std::string_view("/api/tokens/").size());
  bool ok = !id.empty() && id.size() <= 18;
  for (char ch : id) ok = ok && ch >= '0' && ch <= '9';
  if (!ok) return reply(error(404, "no such token"));
  // The accounts layer refuses a token that is not the caller's.
  auto r = acc()->delete_api_token(c.user.id, std::stoll(std::string(id)));
  if (!r.ok()) return reply(error(404, "no such token"));
  reply(reply_json(200, json{{"deleted", std::stoll(std::string(id))}}));
}

// ---------------------------------------------------------------- hosts ----

update::ZoneWriter* Api::writer_for(const std::string& zone) {
  if (!svc_.context().writer) return nullptr;
  auto origin = to_name(zone);
  if (!origin) return nullptr;
  return svc_.context().writer(*origin);
}

json Api::host_json(const accounts::Host& h) {
  json ipv4 = json::array(), ipv6 = json::array(), txt = json::array();
  bool served = false;
  if (auto* w = writer_for(h.zone)) {
    auto z = w->current();
    auto name = to_name(h.name);
    if (z && name) {
      served = true;
      wire::Name lower = name->lowercased();
      zone::NodeId id = z->find(lower.wire().data(), lower.wire_size());
      if (id != zone::kNoNode) {
        for (auto [type, out] : {std::pair{kA, &ipv4}, {kAAAA, &ipv6}, {kTXT, &txt}}) {
          zone::RRsetView v = z->rrset(id, type);
          const uint8_t* p = v.data;
          for (size_t i = 0; i < v.count; ++i) {
            size_t len = size_t(p[0]) << 8 | p[1];
            out->push_back(rdata_text(type, p + 2, len));
            p += 2 + len;
          }
        }
      }
    }
  }
  if (!served) {
    // Not served here: the last values recorded are the best we know.
    if (!h.last_ipv4.empty()) ipv4.push_back(h.last_ipv4);
    if (!h.last_ipv6.empty()) ipv6.push_back(h.last_ipv6);
  }
  return json{{"name", h.name},       {"zone", h.zone},       {"owner", h.owner_name},
              {"created", h.created}, {"updated", h.updated}, {"ipv4", std::move(ipv4)},
              {"ipv6", std::move(ipv6)}, {"txt", std::move(txt)}, {"served", served}};
}

void Api::hosts(const Request& req, const Caller& c, Reply reply) {
  if (req.method == "GET") return list_hosts(req, c, std::move(reply));
  if (req.method == "POST") return create_host(req, c, std::move(reply));
  reply(error(405, "use GET or POST"));
}

void Api::list_hosts(const Request& req, const Caller& c, Reply reply) {
  bool all = truthy_param(req, "all");
  if (all && !c.user.admin) return reply(error(403, "all=1 is for admins"));
  auto hs = acc()->list_hosts(all ? "" : c.user.name);
  if (!hs.ok()) return reply(internal(hs.error()));
  json arr = json::array();
  for (const auto& h : *hs) arr.push_back(host_json(h));
  reply(reply_json(200, json{{"hosts", std::move(arr)}}));
}

void Api::create_host(const Request& req, const Caller& c, Reply reply) {
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  auto raw = str_field(*body, "name");
  if (!raw || raw->empty()) return reply(error(400, "name is required"));
  std::string fqdn = *raw;
  if (auto zone = str_field(*body, "zone"); zone && !zone->empty()) fqdn += "." + *zone;
  std::string name = accounts::normalize_host(fqdn);
  if (name.empty()) return reply(error(400, "not a valid host name"));
  if (name.front() == '_' || name.front() == '*') {
    return reply(error(400, "host names may not start with '_' or '*'"));
  }
  std::string owner = c.user.name;
  if (auto o = str_field(*body, "owner"); o && !o->empty() && *o != owner) {
    if (!c.user.admin) return reply(error(403, "only admins create hosts for others"));
    auto ou = acc()->get_user(*o);
    if (!ou.ok()) return reply(internal(ou.error()));
    if (!*ou) return reply(error(404, "no such user"));
    owner = *o;
  }

  // The deepest DDNS zone the name lies strictly inside.
  auto zs = acc()->list_zones();
  if (!zs.ok()) return reply(internal(zs.error()));
  std::string zone;
  for (const auto& z : *zs) {
    if (name.size() > z.size() + 1 && name.ends_with(z) && name[name.size() - z.size() - 1] == '.' &&
        z.size() > zone.size()) {
      zone = z;
    }
  }
  if (zone.empty()) return reply(error(400, "the name is not inside a zone open for DDNS"));

  auto existing = acc()->get_host(name);
  if (!existing.ok()) return reply(internal(existing.error()));
  if (*existing) return reply(error(409, "that hostname is taken"));

  // A name that already holds records of the zone (www, ns1, a delegation)
  // must not become updatable by a user.
  if (auto* w = writer_for(zone)) {
    auto z = w->current();
    auto n = to_name(name);
    if (z && n) {
      wire::Name lower = n->lowercased();
      zone::NodeId id = z->find(lower.wire().data(), lower.wire_size());
      if (id != zone::kNoNode && z->node(id).rrset_count > 0) {
        return reply(error(409, "that name already has records in the zone"));
      }
      for (wire::Name p = n->parent(); p.label_count() > z->origin().label_count(); p = p.parent()) {
        wire::Name pl = p.lowercased();
        zone::NodeId pid = z->find(pl.wire().data(), pl.wire_size());
        if (pid != zone::kNoNode && (z->node(pid).flags & zone::Zone::kDelegation)) {
          return reply(error(409, "that name is below a delegation"));
        }
      }
    }
  }

  auto nh = acc()->add_host(name, owner);
  if (!nh.ok()) {
    // Lost a race with another creation, or a rule of the accounts layer.
    auto again = acc()->get_host(name);
    if (again.ok() && *again) return reply(error(409, "that hostname is taken"));
    return reply(error(400, nh.error().message));
  }
  json j = host_json(nh->host);
  reply(reply_json(201, json{{"host", std::move(j)}, {"token", nh->token}}));
}

void Api::clear_records(const accounts::Host& h, std::function<void(bool)> done) {
  update::ZoneWriter* w = writer_for(h.zone);
  if (!w) return done(true);  // nothing of ours to remove
  auto req = host_removal(h.name);
  if (!req) return done(false);
  auto cb = std::make_shared<std::function<void(bool)>>(std::move(done));
  req->done = [cb](const update::EditResult& r) { (*cb)(r.rcode == wire::Rcode::NoError); };
  if (!w->submit_edit(std::move(*req))) (*cb)(false);
}

void Api::delete_host(const accounts::Host& h, Reply reply) {
  accounts::Accounts* a = acc();
  std::string name = h.name;
  clear_records(h, [a, name, reply = std::move(reply)](bool ok) {
    if (!ok) return reply(error(503, "could not remove the DNS records; the host is kept"));
    auto r = a->delete_host(name);
    if (!r.ok()) return reply(internal(r.error()));
    reply(reply_json(200, json{{"deleted", name}}));
  });
}

void Api::set_host(const Request& req, const Caller& c, const accounts::Host& h, Reply reply) {
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  Service::Change ch;
  ch.host = h.name;
  ch.source = req.client_ip;
  ch.via = via(c);
  struct Field {
    const char* key;
    uint16_t type;
    int family;  // 0 = TXT
  };
  for (const Field& f : {Field{"ipv4", kA, AF_INET}, Field{"ipv6", kAAAA, AF_INET6},
                         Field{"txt", kTXT, 0}}) {
    auto it = body->find(f.key);
    if (it == body->end() || it->is_null()) continue;
    std::vector<std::string> in;
    if (it->is_string()) {
      if (!it->get_ref<const std::string&>().empty()) in.push_back(it->get<std::string>());
    } else if (it->is_array() && it->size() <= 16) {
      for (const auto& v : *it) {
        if (!v.is_string()) return reply(error(400, std::string(f.key) + ": strings expected"));
        in.push_back(v.get<std::string>());
      }
    } else {
      return reply(error(400, std::string(f.key) + ": a string or a list of strings expected"));
    }
    Service::Change::Set set{f.type, {}};
    for (const auto& v : in) {
      if (f.family == 0) {
        if (v.size() > kMaxTxt) return reply(error(400, "txt: at most 255 bytes"));
        set.values.push_back(v);
        continue;
      }
      // "auto": the address this request came from, as DynDNS2 does
      // without myip.
      std::string ip = canonical_ip(v == "auto" ? req.client_ip : v, f.family);
      if (ip.empty()) return reply(error(400, std::string(f.key) + ": not an address: " + v));
      set.values.push_back(std::move(ip));
    }
    std::sort(set.values.begin(), set.values.end());
    set.values.erase(std::unique(set.values.begin(), set.values.end()), set.values.end());
    ch.sets.push_back(std::move(set));
  }
  if (ch.sets.empty()) return reply(error(400, "give ipv4, ipv6 or txt"));
  if (!writer_for(h.zone)) return reply(error(503, "the host's zone is not writable here"));
  accounts::Accounts* a = acc();
  std::string name = h.name;
  svc_.apply(std::move(ch), [self = shared_from_this(), a, name,
                             reply = std::move(reply)](Service::Outcome outcome) {
    if (outcome == Service::Outcome::NoHost) return reply(error(404, "no such host"));
    if (outcome == Service::Outcome::DnsErr) return reply(error(503, "DNS update failed"));
    auto h2 = a->get_host(name);
    if (!h2.ok()) return reply(internal(h2.error()));
    if (!*h2) return reply(error(404, "no such host"));
    reply(reply_json(200, json{{"outcome", std::string(Service::text(outcome))}, {"host", self->host_json(**h2)}}));
  });
}

void Api::host_item(const Request& req, const Caller& c, Reply reply) {
  std::string_view rest = std::string_view(req.path).substr(std::string_view("/api/hosts/").size());
  std::string_view action;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    action = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string name = accounts::normalize_host(rest);
  if (name.empty()) return reply(error(404, "no such host"));
  auto h = acc()->get_host(name);
  if (!h.ok()) return reply(internal(h.error()));
  if (!*h) return reply(error(404, "no such host"));
  if ((*h)->owner != c.user.id && !c.user.admin) return reply(error(403, "not your host"));
  const accounts::Host& host = **h;

  if (action.empty()) {
    if (req.method == "GET") return reply(reply_json(200, json{{"host", host_json(host)}}));
    if (req.method == "DELETE") return delete_host(host, std::move(reply));
    if (req.method == "PUT") return set_host(req, c, host, std::move(reply));
    return reply(error(405, "use GET, PUT or DELETE"));
  }
  if (action == "token") {
    if (req.method != "POST") return reply(error(405, "use POST"));
    auto t = acc()->rotate_token(host.name);
    if (!t.ok()) return reply(internal(t.error()));
    return reply(reply_json(200, json{{"name", host.name}, {"token", *t}}));
  }
  if (action == "history") {
    if (req.method != "GET") return reply(error(405, "use GET"));
    size_t limit = 100;
    if (auto l = req.param("limit")) {
      size_t v = 0;
      bool ok = !l->empty() && l->size() <= 6;
      for (char ch : *l) ok = ok && ch >= '0' && ch <= '9';
      if (ok) v = std::stoul(std::string(*l));
      if (!ok || v == 0 || v > 1000) return reply(error(400, "limit: 1 to 1000"));
      limit = v;
    }
    auto hist = acc()->history(host.name, limit);
    if (!hist.ok()) return reply(internal(hist.error()));
    json arr = json::array();
    for (const auto& e : *hist) {
      arr.push_back(json{{"time", e.time},     {"type", e.type},     {"old", e.old_value},
                         {"new", e.new_value}, {"source", e.source}, {"via", e.via}});
    }
    return reply(reply_json(200, json{{"name", host.name}, {"history", std::move(arr)}}));
  }
  reply(error(404, "no such resource"));
}

// ---------------------------------------------------------------- admin ----

void Api::users(const Request& req, const Caller&, Reply reply) {
  if (req.method == "GET") {
    auto us = acc()->list_users();
    if (!us.ok()) return reply(internal(us.error()));
    auto hs = acc()->list_hosts();
    if (!hs.ok()) return reply(internal(hs.error()));
    json arr = json::array();
    for (const auto& u : *us) {
      json j = user_json(u);
      j["hosts"] = std::count_if(hs->begin(), hs->end(), [&](const auto& h) { return h.owner == u.id; });
      arr.push_back(std::move(j));
    }
    return reply(reply_json(200, json{{"users", std::move(arr)}}));
  }
  if (req.method != "POST") return reply(error(405, "use GET or POST"));
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  auto name = str_field(*body, "name");
  auto password = str_field(*body, "password");
  if (!name || name->empty() || !password) return reply(error(400, "name and password are required"));
  auto existing = acc()->get_user(*name);
  if (!existing.ok()) return reply(internal(existing.error()));
  if (*existing) return reply(error(409, "that user exists"));
  auto u = acc()->add_user(*name, *password, bool_field(*body, "admin"));
  if (!u.ok()) return reply(error(400, u.error().message));
  reply(reply_json(201, json{{"user", user_json(*u)}}));
}

void Api::user_item(const Request& req, const Caller& c, Reply reply) {
  std::string name(std::string_view(req.path).substr(std::string_view("/api/users/").size()));
  bool self = name == c.user.name;
  if (!c.user.admin && !self) return reply(error(403, "admin only"));
  auto u = acc()->get_user(name);
  if (!u.ok()) return reply(internal(u.error()));
  if (!*u) return reply(error(404, "no such user"));

  if (req.method == "PUT") {
    // A new password; users changing their own must give the current one.
    auto body = body_object(req);
    if (!body) return reply(error(400, "body must be a JSON object"));
    auto password = str_field(*body, "password");
    if (!password) return reply(error(400, "password is required"));
    if (self) {
      auto cur = str_field(*body, "current");
      if (!cur) return reply(error(400, "current password is required"));
      // A stolen session must not become a password oracle: a wrong
      // current password counts as a failed login of this address.
      const std::string& ip = req.client_ip;
      int64_t t = now();
      const Options& o = svc_.options();
      if (logins_.blocked(ip, t)) return reply(error(429, "too many failed logins; try again later"));
      auto ok = acc()->check_password(name, *cur);
      if (!ok.ok()) return reply(internal(ok.error()));
      if (!*ok) {
        metrics::registry().shared().login_failures.add();
        logins_.hit(ip, t, o.login_fail_limit, o.login_fail_window_s, o.abuse_block_s);
        return reply(error(403, "current password is wrong"));
      }
    }
    auto r = acc()->set_password(name, *password);
    if (!r.ok()) return reply(error(400, r.error().message));
    // Whoever knew the old password may hold a session: end them all but
    // the caller's own (an admin's reset ends all of the user's).
    std::string keep;
    if (self && !c.bearer) keep = req.cookie(kSessionCookie).value_or("");
    auto ended = acc()->end_sessions((*u)->id, keep);
    if (!ended.ok()) return reply(internal(ended.error()));
    return reply(reply_json(200, json{{"user", user_json(**u)}, {"sessions_ended", *ended}}));
  }
  if (req.method == "GET") return reply(reply_json(200, json{{"user", user_json(**u)}}));
  if (req.method != "DELETE") return reply(error(405, "use GET, PUT or DELETE"));
  if (!c.user.admin) return reply(error(403, "admin only"));
  if (self) return reply(error(409, "you cannot delete yourself"));

  // Remove the DNS records of every host of the user, then the user (and
  // with it the host rows). A failure keeps the user so it can be retried.
  auto hs = acc()->list_hosts(name);
  if (!hs.ok()) return reply(internal(hs.error()));
  struct Pending {
    std::atomic<size_t> left;
    std::atomic<bool> failed{false};
    Reply reply;
    std::string name;
    accounts::Accounts* acc;
  };
  auto finish = [](Pending& p) {
    if (p.failed) return p.reply(error(503, "could not remove the DNS records of every host; the user is kept"));
    auto r = p.acc->delete_user(p.name);
    if (!r.ok()) return p.reply(internal(r.error()));
    p.reply(reply_json(200, json{{"deleted", p.name}}));
  };
  auto pending = std::make_shared<Pending>();
  pending->left = hs->size();
  pending->reply = std::move(reply);
  pending->name = name;
  pending->acc = acc();
  if (hs->empty()) return finish(*pending);
  for (const auto& h : *hs) {
    clear_records(h, [pending, finish](bool ok) {
      if (!ok) pending->failed = true;
      if (pending->left.fetch_sub(1) == 1) finish(*pending);
    });
  }
}

void Api::zones(const Request& req, const Caller& c, Reply reply) {
  if (req.method == "GET") {
    auto zs = acc()->list_zones();
    if (!zs.ok()) return reply(internal(zs.error()));
    json arr = json::array();
    for (const auto& z : *zs) arr.push_back(json{{"name", z}, {"writable", writer_for(z) != nullptr}});
    return reply(reply_json(200, json{{"zones", std::move(arr)}}));
  }
  if (req.method != "POST") return reply(error(405, "use GET or POST"));
  if (!c.user.admin) return reply(error(403, "admin only"));
  auto body = body_object(req);
  if (!body) return reply(error(400, "body must be a JSON object"));
  auto raw = str_field(*body, "name");
  std::string zone = raw ? accounts::normalize_host(*raw) : "";
  if (zone.empty()) return reply(error(400, "name must be a zone name"));
  auto zs = acc()->list_zones();
  if (!zs.ok()) return reply(internal(zs.error()));
  if (std::find(zs->begin(), zs->end(), zone) != zs->end()) return reply(error(409, "zone already open"));
  auto r = acc()->add_zone(zone);
  if (!r.ok()) return reply(error(400, r.error().message));
  reply(reply_json(201, json{{"zone", json{{"name", zone}, {"writable", writer_for(zone) != nullptr}}}}));
}

void Api::zone_item(const Request& req, const Caller& c, Reply reply) {
  if (req.method != "DELETE") return reply(error(405, "use DELETE"));
  if (!c.user.admin) return reply(error(403, "admin only"));
  std::string zone =
      accounts::normalize_host(std::string_view(req.path).substr(std::string_view("/api/zones/").size()));
  auto zs = acc()->list_zones();
  if (!zs.ok()) return reply(internal(zs.error()));
  if (zone.empty() || std::find(zs->begin(), zs->end(), zone) == zs->end()) {
    return reply(error(404, "no such DDNS zone"));
  }
  auto hs = acc()->list_hosts();
  if (!hs.ok()) return reply(internal(hs.error()));
  for (const auto& h : *hs) {
    if (h.zone == zone) return reply(error(409, "the zone still has hostnames; delete them first"));
  }
  auto r = acc()->delete_zone(zone);
  if (!r.ok()) return reply(internal(r.error()));
  reply(reply_json(200, json{{"deleted", zone}}));
}

void Api::install(http::Router& r) {
  auto self = shared_from_this();
  // Every method is routed here (not to the /api/ catch-all) so that a
  // wrong one gets 405.
  auto only = [](const char* method, http::Handler h) {
    return [method, h = std::move(h)](const Request& q, Reply rep) {
      if (q.method != method) return rep(error(405, std::string("use ") + method));
      h(q, std::move(rep));
    };
  };
  r.add("*", "/api/login",
        only("POST", offload([self](const Request& q, Reply rep) { self->login(q, std::move(rep)); })));
  r.add("*", "/api/logout",
        only("POST", offload([self](const Request& q, Reply rep) { self->logout(q, std::move(rep)); })));
  r.add("*", "/api/me", only("GET", guarded(&Api::me)));
  r.add("*", "/api/hosts", guarded(&Api::hosts));
  r.add("*", "/api/hosts/", guarded(&Api::host_item));
  r.add("*", "/api/tokens", guarded(&Api::tokens));
  r.add("*", "/api/tokens/", guarded(&Api::token_item));
  r.add("*", "/api/users", guarded(&Api::users, /*admin_only=*/true));
  r.add("*", "/api/users/", guarded(&Api::user_item));
  r.add("*", "/api/zones", guarded(&Api::zones));
  r.add("*", "/api/zones/", guarded(&Api::zone_item, /*admin_only=*/true));
  r.add("*", "/api/", [](const Request&, Reply rep) { rep(error(404, "no such API route")); });
}

}  // namespace

// Prometheus scrapes with a bearer token or Basic credentials; a browser
// (the dashboard) with its session cookie. Readers in metrics_allow need
// none: a scraper on the host itself is the common case.
void Api::install_metrics(http::Router& r, const std::vector<std::string>& allow) {
  for (const auto& n : allow) allow_.add(n);
  r.add("*", "/metrics", offload([self = shared_from_this()](const Request& q, Reply rep) {
          self->metrics(q, std::move(rep));
        }));
}

void Api::metrics(const Request& req, Reply reply) {
  const Options& o = svc_.options();
  if (req.method != "GET") return reply(error(405, "use GET"));
  auto ok = [&] {
    Response r = Response::text(200, o.metrics_text());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.headers.emplace_back("Cache-Control", "no-store");
    reply(std::move(r));
  };
  if (allow_.contains(req.client_ip)) return ok();
  if (!acc()) return reply(error(403, "metrics are readable from the allowed networks only"));
  if (auto basic = req.basic_auth()) {
    const std::string& ip = req.client_ip;
    int64_t t = now();
    if (logins_.blocked(ip, t)) return reply(error(429, "too many failed logins; try again later"));
    auto u = acc()->check_password(basic->first, basic->second);
    if (!u.ok()) return reply(internal(u.error()));
    if (!*u) {
      metrics::registry().shared().login_failures.add();
      logins_.hit(ip, t, o.login_fail_limit, o.login_fail_window_s, o.abuse_block_s);
      Response r = error(401, "wrong user name or password");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ddns metrics\"");
      return reply(std::move(r));
    }
    if (!(*u)->admin) return reply(error(403, "admin only"));
    return ok();
  }
  if (!req.header("authorization") && !req.cookie(kSessionCookie)) {
    Response r = error(401, "credentials required");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ddns metrics\"");
    return reply(std::move(r));
  }
  auto c = authenticate(req, reply);
  if (!c) return;
  if (!c->user.admin) return reply(error(403, "admin only"));
  ok();
}

void Service::install_metrics(http::Router& router) {
  if (!opts_.metrics_text) return;
  std::make_shared<Api>(*this, state_->pool, state_->logins)
      ->install_metrics(router, opts_.metrics_allow);
}

void Service::install_api(http::Router& router) {
  // Each route handler holds the Api; the Service must outlive the router.
  std::make_shared<Api>(*this, state_->pool, state_->logins)->install(router);
}

}  // namespace ddns::dyndns
