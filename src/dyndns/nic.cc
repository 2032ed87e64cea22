// DynDNS2 endpoints as ddclient, inadyn and routers speak them:
// /nic/update (and /v3/update), /checkip (checkip.dyndns.org form), /myip.
// Return codes follow the dyn.com DynDNS2 "return codes" page.
//
// Decisions where providers differ (documented in docs/api.md too):
// - One answer line per host, in request order; request-wide failures
//   (badagent, badauth, numhost, abuse of a blocked address, 911) answer a
//   single line. Missing credentials: HTTP 401 + WWW-Authenticate.
// - myip: "v4", "v6" or "v4,v6"; myipv6 adds/overrides the v6 address;
//   only the families given are replaced (an A update keeps the AAAA).
//   Missing myip (and myipv6) = the client's address. An unparsable address
//   answers "dnserr" for each host and changes nothing.
// - offline=YES removes the host's A and AAAA RRsets (it stops resolving),
//   answering "good"/"nochg" without an address.
// - txt=VALUE (repeatable: several values make one TXT RRset, as ACME needs
//   for a wildcard plus its base name) replaces the TXT RRset of the named
//   host; hostname=_acme-challenge.H is allowed to whoever may update H.
//   clear=yes (or only empty txt values) deletes it.
// - Abuse: a host answered nochg more than nochg_abuse_count times within
//   nochg_abuse_window_s is answered "abuse" for abuse_block_s; a source
//   address with more than login_fail_limit failed logins within
//   login_fail_window_s is answered "abuse" (without checking credentials)
//   for abuse_block_s.
#include <arpa/inet.h>

#include <atomic>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>

#include "dyndns/service.h"
#include "dyndns/state.h"
#include "http/parse.h"
#include "metrics/metrics.h"
#include "wire/rrtype.h"

namespace ddns::dyndns {

namespace {

constexpr std::string_view kAcmePrefix = "_acme-challenge.";

bool is_true(std::string_view v) {
  return v == "1" || v == "YES" || v == "yes" || v == "Yes" || v == "true" || v == "on" || v == "ON";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "192.0.2.1" / "2001:db8::1" -> canonical text and family; nullopt when not an address.
std::optional<std::pair<std::string, int>> parse_ip(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char in[INET6_ADDRSTRLEN];
  std::memcpy(in, text.data(), text.size());
  in[text.size()] = 0;
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN] = {0};
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, in, buf) == 1) {
      inet_ntop(family, buf, out, sizeof out);
      return std::make_pair(std::string(out), family);
    }
  }
  return std::nullopt;
}

// The per-request facts gathered on the I/O thread.
struct UpdateRequest {
  std::vector<std::string> hosts;  // as sent
  std::optional<std::pair<std::string, std::string>> basic;
  std::string token;
  std::string myip, myipv6;
  bool have_myip = false, have_myipv6 = false;
  bool offline = false;
  bool txt_mode = false, clear = false;
  std::vector<std::string> txt;
  std::string client_ip;
};

class Nic : public std::enable_shared_from_this<Nic> {
 public:
  Nic(Service& svc, WorkPool& pool, AbuseTable& nochg, AbuseTable& logins)
      : svc_(svc), pool_(pool), nochg_(nochg), logins_(logins) {}

  void update(const http::Request& req, http::Reply reply) {
    const Options& o = svc_.options();
    int64_t now = o.clock();
    auto ua = req.header("user-agent");
    if (!ua || trim(*ua).empty()) return reply(text("badagent"));

    auto u = std::make_shared<UpdateRequest>();
    std::vector<std::pair<std::string, std::string>> form;
    const auto* params = &req.params;
    if (req.method == "POST") {
      auto ct = req.header("content-type");
      if (ct && ct->substr(0, 33) == "application/x-www-form-urlencoded") {
        form = req.params;
        http::parse_query(req.body, form);
        params = &form;
      }
    }
    for (const auto& [k, v] : *params) {
      if (k == "hostname") {
        std::string_view rest = v;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view h = trim(rest.substr(0, comma));
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          if (!h.empty()) u->hosts.emplace_back(h);
          if (u->hosts.size() > o.max_hosts) break;
        }
      } else if (k == "myip" && !u->have_myip) {
        u->myip = v;
        u->have_myip = !trim(v).empty();
      } else if (k == "myipv6" && !u->have_myipv6) {
        u->myipv6 = v;
        u->have_myipv6 = !trim(v).empty();
      } else if (k == "offline") {
        u->offline = is_true(v);
      } else if (k == "txt") {
        u->txt_mode = true;
        if (!v.empty()) u->txt.push_back(v);
      } else if (k == "clear") {
        u->clear = is_true(v);
        u->txt_mode = u->txt_mode || u->clear;
      } else if (k == "token" && u->token.empty()) {
        u->token = v;
      }
    }
    if (u->hosts.size() > o.max_hosts) return reply(text("numhost"));
    if (u->hosts.empty()) return reply(text("notfqdn"));
    u->basic = req.basic_auth();
    if (!u->basic && u->token.empty()) {
      http::Response r = text("badauth");
      r.status = 401;
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ddns\", charset=\"UTF-8\"");
      return reply(std::move(r));
    }
    u->client_ip = req.client_ip;
    if (logins_.blocked(u->client_ip, now)) return reply(text("abuse"));

    // A host token already in the accounts cache is checked here (a hash
    // and a map lookup); anything else may cost Argon2 or a database
    // read: off the I/O thread.
    if (u->basic && u->basic->first.find('.') != std::string::npos) {
      std::string as_host = accounts::normalize_host(u->basic->first);
      accounts::Accounts* acc = svc_.context().accounts;
      if (acc && !as_host.empty() && as_host.find('.') != std::string::npos) {
        if (auto ok = acc->check_token_cached(as_host, u->basic->second); ok && *ok) {
          std::set<std::string> token_hosts{std::move(as_host)};
          return apply_authorized(*u, std::nullopt, token_hosts, std::move(reply), now);
        }
      }
    }
    auto shared_reply = std::make_shared<http::Reply>(std::move(reply));
    bool queued = pool_.post([self = shared_from_this(), u, shared_reply, now] {
      self->authorize_and_apply(*u, std::move(*shared_reply), now);
    });
    if (!queued) (*shared_reply)(text("911"));
  }

 private:
  static http::Response text(std::string body) {
    body.push_back('\n');
    return http::Response::text(200, std::move(body));
  }

  void authorize_and_apply(const UpdateRequest& u, http::Reply reply, int64_t now) {
    const Options& o = svc_.options();
    accounts::Accounts* acc = svc_.context().accounts;
    if (!acc) return reply(text("911"));

    std::optional<accounts::User> user;
    std::set<std::string> token_hosts;  // hosts a host token authorizes
    bool failed = false;                // a store error, not a wrong password
    if (u.basic) {
      const auto& [name, pass] = *u.basic;
      std::string as_host = accounts::normalize_host(name);
      if (!as_host.empty() && as_host.find('.') != std::string::npos) {
        auto ok = acc->check_token(as_host, pass);
        if (!ok) failed = true;
        else if (*ok) token_hosts.insert(as_host);
      }
      if (token_hosts.empty()) {
        auto r = acc->check_password(name, pass);
        if (!r) failed = true;
        else if (*r) user = **r;
      }
    }
    if (!u.token.empty() && !user && token_hosts.empty()) {
      for (const auto& h : u.hosts) {
        std::string n = base_host(accounts::normalize_host(h));
        if (n.empty()) continue;
        auto ok = acc->check_token(n, u.token);
        if (!ok) failed = true;
        else if (*ok) token_hosts.insert(n);
      }
    }
    if (!user && token_hosts.empty()) {
      if (failed) return reply(text("911"));
      metrics::registry().shared().login_failures.add();
      bool blocked_now = logins_.hit(u.client_ip, now, o.login_fail_limit, o.login_fail_window_s,
                                     o.abuse_block_s);
      if (blocked_now) spdlog::warn("dyndns: {} blocked after repeated failed logins", u.client_ip);
      return reply(text("badauth"));
    }
    apply_authorized(u, user, token_hosts, std::move(reply), now);
  }

  // `user` (password login) or `token_hosts` (host tokens) authorize.
  void apply_authorized(const UpdateRequest& u, const std::optional<accounts::User>& user,
                        const std::set<std::string>& token_hosts, http::Reply reply,
                        int64_t now) {
    accounts::Accounts* acc = svc_.context().accounts;

    // The addresses to set, unless this is a TXT or offline update.
    std::string v4, v6;
    bool bad_ip = false;
    if (!u.txt_mode && !u.offline) {
      if (u.have_myip) {
        std::string_view rest = u.myip;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          auto ip = parse_ip(rest.substr(0, comma));
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          if (!ip) { bad_ip = true; break; }
          std::string& slot = ip->second == AF_INET ? v4 : v6;
          if (!slot.empty()) { bad_ip = true; break; }
          slot = ip->first;
        }
      }
      if (u.have_myipv6) {
        auto ip = parse_ip(u.myipv6);
        if (!ip || ip->second != AF_INET6) bad_ip = true;
        else v6 = ip->first;
      }
      if (!u.have_myip && !u.have_myipv6) {
        auto ip = parse_ip(u.client_ip);
        if (!ip) bad_ip = true;
        else (ip->second == AF_INET ? v4 : v6) = ip->first;
      }
    }

    // One line per host, in order; the reply goes out when the last is known.
    struct Pending {
      std::vector<std::string> lines;
      std::atomic<size_t> left{0};
      http::Reply reply;
    };
    auto p = std::make_shared<Pending>();
    p->lines.resize(u.hosts.size());
    p->left = u.hosts.size();
    p->reply = std::move(reply);
    auto finish = [p](size_t i, std::string line) {
      p->lines[i] = std::move(line);
      if (p->left.fetch_sub(1) == 1) {
        std::string body;
        for (const auto& l : p->lines) body += l + "\n";
        p->reply(http::Response::text(200, std::move(body)));
      }
    };

    std::string shown = v4.empty() ? v6 : v6.empty() ? v4 : v4 + "," + v6;
    for (size_t i = 0; i < u.hosts.size(); ++i) {
      std::string host = accounts::normalize_host(u.hosts[i]);
      if (host.empty() || host.find('.') == std::string::npos) {
        finish(i, "notfqdn");
        continue;
      }
      std::string base = base_host(host);
      bool allowed = token_hosts.count(base) > 0;
      if (!allowed && user) {
        auto h = acc->get_host(base);
        if (!h) {
          finish(i, "911");
          continue;
        }
        allowed = *h && ((*h)->owner == user->id || user->admin);
      }
      if (!allowed) {
        finish(i, "nohost");
        continue;
      }
      if (base != host && !u.txt_mode) {
        finish(i, "nohost");  // _acme-challenge names take TXT only
        continue;
      }
      if (bad_ip) {
        finish(i, "dnserr");
        continue;
      }
      if (nochg_.blocked(base, now)) {
        finish(i, "abuse");
        continue;
      }
      Service::Change ch;
      ch.host = host;
      ch.source = u.client_ip;
      ch.via = "dyndns2";
      std::string suffix;
      if (u.txt_mode) {
        Service::Change::Set s{uint16_t(wire::RRType::TXT), {}};
        if (!u.clear) s.values = u.txt;
        ch.sets.push_back(std::move(s));
      } else if (u.offline) {
        ch.sets.push_back({uint16_t(wire::RRType::A), {}});
        ch.sets.push_back({uint16_t(wire::RRType::AAAA), {}});
      } else {
        if (!v4.empty()) ch.sets.push_back({uint16_t(wire::RRType::A), {v4}});
        if (!v6.empty()) ch.sets.push_back({uint16_t(wire::RRType::AAAA), {v6}});
        suffix = " " + shown;
      }
      svc_.apply(std::move(ch), [self = shared_from_this(), finish, i, base, suffix,
                                 now](Service::Outcome out) {
        if (out == Service::Outcome::NoChg) {
          const Options& opt = self->svc_.options();
          if (self->nochg_.hit(base, now, opt.nochg_abuse_count, opt.nochg_abuse_window_s,
                               opt.abuse_block_s))
            spdlog::warn("dyndns: {} blocked after repeated unchanged updates", base);
        }
        std::string code(Service::text(out));
        bool applied = out == Service::Outcome::Good || out == Service::Outcome::NoChg;
        finish(i, applied ? code + suffix : code);
      });
    }
  }

  // "_acme-challenge.H" -> "H"; any other name unchanged.
  static std::string base_host(const std::string& host) {
    if (host.size() > kAcmePrefix.size() && host.compare(0, kAcmePrefix.size(), kAcmePrefix) == 0)
      return host.substr(kAcmePrefix.size());
    return host;
  }

  Service& svc_;
  WorkPool& pool_;
  AbuseTable& nochg_;
  AbuseTable& logins_;
};

}  // namespace

void Service::install_nic(http::Router& router) {
  auto nic = std::make_shared<Nic>(*this, state_->pool, state_->nochg, state_->logins);
  auto update = [nic](const http::Request& req, http::Reply reply) {
    nic->update(req, std::move(reply));
  };
  for (const char* path : {"/nic/update", "/v3/update"}) {
    router.add("GET", path, update);
    router.add("POST", path, update);
  }
  // checkip.dyndns.org's exact form: clients scrape it with a regex.
  router.add("GET", "/checkip", [](const http::Request& req, http::Reply reply) {
    http::Response r = http::Response::text(
        200, "<html><head><title>Current IP Check</title></head><body>Current IP Address: " +
                 req.client_ip + "</body></html>\n");
    r.content_type = "text/html";
    r.headers.emplace_back("Cache-Control", "no-cache");
    reply(std::move(r));
  });
  router.add("GET", "/myip", [](const http::Request& req, http::Reply reply) {
    http::Response r = http::Response::text(200, req.client_ip + "\n");
    r.headers.emplace_back("Cache-Control", "no-cache");
    reply(std::move(r));
  });
}

}  // namespace ddns::dyndns
