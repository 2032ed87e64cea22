// ddns-client decisions per host, and the real detector/updater (see agent.h).
#include "client/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "client/http.h"
#include "client/rfc2136.h"
#include "tsig/keyfile.h"

#ifndef DDNS_VERSION
#define DDNS_VERSION "0.1.0"
#endif

namespace ddns::client {

int RunReport::exit_code() const {
  if (cache_error) return kExitConfig;
  if (stopped) return kExitStopped;
  if (retrying) return kExitRetry;
  if (no_address) return kExitNoAddress;
  return kExitOk;
}

namespace {

std::string human(int64_t s) {
  if (s < 0) s = 0;
  if (s >= 86400 && s % 3600 == 0) return std::to_string(s / 86400) + "d" + (s % 86400 ? std::to_string(s % 86400 / 3600) + "h" : "");
  if (s >= 86400) return std::to_string(s / 86400) + "d" + std::to_string(s % 86400 / 3600) + "h";
  if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  return std::to_string(s) + "s";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

// What a Stop code means for the person reading the log.
std::string stop_hint(const std::string& code) {
  if (code == "badauth" || code == "BADKEY" || code == "BADSIG" || code == "NOTAUTH")
    return "check the user/password or TSIG key";
  if (code == "nohost" || code == "!yours" || code == "NOTZONE" || code == "REFUSED")
    return "check the hostname/zone and that this account or key may update it";
  if (code == "notfqdn") return "the hostname must be fully qualified";
  if (code == "abuse") return "the server blocked this host for too many updates";
  if (code == "badagent") return "the server refused this client's user agent";
  return "fix the configuration";
}

}  // namespace

Agent::Agent(ClientConfig cfg, Cache cache, Detector& detector, Updater& updater, Clock clock)
    : cfg_(std::move(cfg)), cache_(std::move(cache)), detector_(detector), updater_(updater),
      clock_(std::move(clock)) {
  for (const auto& h : cfg_.hosts)
    hashes_[h.key()] = h.config_hash(h.protocol == Protocol::Rfc2136 ? read_file(h.tsig_key_file) : "");
}

Result<IpAddr> Agent::detect(const AddressSource& src, Family f,
                             std::map<std::string, Result<IpAddr>>& seen) {
  std::string id = src.identity() + (f == Family::V4 ? "/4" : "/6");
  auto it = seen.find(id);
  if (it != seen.end()) return it->second;
  auto r = detector_.detect(src, f);
  seen.emplace(id, r);
  return r;
}

int64_t unix_floor(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

int64_t unix_ceil(std::chrono::system_clock::time_point t) {
  return std::chrono::ceil<std::chrono::seconds>(t.time_since_epoch()).count();
}

RunReport Agent::run_once() {
  RunReport rep;
  rep.next_due = unix_floor(clock_()) + cfg_.interval_s;
  std::map<std::string, Result<IpAddr>> seen;  // one detection per source per run
  for (const auto& h : cfg_.hosts) run_host(h, rep, seen);
  return rep;
}

void Agent::save(RunReport& rep) {
  if (cfg_.cache_file.empty()) return;
  auto s = cache_.save(cfg_.cache_file);
  if (!s) {
    spdlog::error("cannot write cache: {}", s.error().message);
    rep.cache_error = true;
  }
}

void Agent::run_host(const HostConfig& h, RunReport& rep, std::map<std::string, Result<IpAddr>>& seen) {
  const std::string& name = h.hostname;
  const int64_t now = unix_floor(clock_());
  const std::string& hash = hashes_[h.key()];
  CacheEntry* found = cache_.find(h.key());
  if (found && found->config_hash != hash) {
    if (found->state == CacheEntry::State::Stopped)
      spdlog::info("{}: configuration changed since the server said '{}': trying again", name,
                   found->reason);
    else
      spdlog::info("{}: configuration changed: sending a fresh update", name);
    *found = CacheEntry{};
  }
  CacheEntry& e = cache_.at(h.key());
  e.config_hash = hash;

  if (e.state == CacheEntry::State::Stopped) {
    spdlog::error("{}: stopped: the server answered '{}'; not sending until the configuration "
                  "changes ({})", name, e.reason, stop_hint(e.reason));
    ++rep.stopped;
    return;
  }
  if (e.state == CacheEntry::State::Retry && now < e.retry_at) {
    spdlog::warn("{}: backing off after '{}' (failure {}): next try in {}", name, e.reason,
                 e.failures, human(e.retry_at - now));
    ++rep.retrying;
    rep.next_due = std::min(rep.next_due, e.retry_at);
    return;
  }

  std::optional<IpAddr> v4, v6;
  bool detect_failed = false;
  for (Family f : {Family::V4, Family::V6}) {
    const AddressSource& src = f == Family::V4 ? h.ipv4 : h.ipv6;
    if (!src.enabled()) continue;
    auto a = detect(src, f, seen);
    if (!a) {
      spdlog::warn("{}: no {} address from {}: {}", name, family_text(f), src.describe(),
                   a.error().message);
      detect_failed = true;
      continue;
    }
    (f == Family::V4 ? v4 : v6) = *a;
  }
  if (detect_failed) ++rep.no_address;
  if (!v4 && !v6) {
    spdlog::warn("{}: no address detected: nothing sent", name);
    return;
  }

  std::string changes;
  auto note = [&](const std::optional<IpAddr>& a, const std::string& old) {
    if (!a) return;
    std::string t = a->text();
    if (t == old) return;
    if (!changes.empty()) changes += ", ";
    changes += old.empty() ? t + " (new)" : old + " -> " + t;
  };
  note(v4, e.v4);
  note(v6, e.v6);
  bool retrying = e.state == CacheEntry::State::Retry;
  bool force_due = cfg_.force_interval_s > 0 && e.updated > 0 && now - e.updated >= cfg_.force_interval_s;
  std::string addrs = (v4 ? v4->text() : "") + (v4 && v6 ? " " : "") + (v6 ? v6->text() : "");

  if (changes.empty() && !retrying && !force_due && e.updated > 0) {
    spdlog::info("{}: unchanged ({}), last update {} ago; no request sent{}", name, addrs,
                 human(now - e.updated),
                 cfg_.force_interval_s ? "; forced refresh in " +
                                             human(e.updated + cfg_.force_interval_s - now)
                                       : std::string());
    ++rep.unchanged;
    if (cfg_.force_interval_s)
      rep.next_due = std::min(rep.next_due, e.updated + int64_t(cfg_.force_interval_s));
    return;
  }
  std::string why = retrying           ? "retrying after '" + e.reason + "'"
                    : !changes.empty() ? "address changed"
                    : force_due        ? "forced refresh (last update " + human(now - e.updated) + " ago)"
                                       : "first update";
  if (!changes.empty()) why += (retrying ? "; address " : ": ") + changes;
  spdlog::info("{}: {}; sending {} update to {}", name, why, protocol_text(h.protocol), h.server);

  UpdateResult r = updater_.update(h, v4, v6);
  if (r.detail == r.code) r.detail.clear();
  const auto done_at = clock_();
  const int64_t done = unix_floor(done_at);
  switch (r.verdict) {
    case Verdict::Good:
      spdlog::info("{}: {}: server has {}{}", name, r.code, addrs,
                   r.detail.empty() ? "" : " (" + r.detail + ")");
      if (v4) e.v4 = v4->text();
      if (v6) e.v6 = v6->text();
      e.updated = done;
      e.state = CacheEntry::State::Ok;
      e.reason.clear();
      e.retry_at = 0;
      e.failures = 0;
      ++rep.updated;
      break;
    case Verdict::Stop:
      spdlog::error("{}: server answered '{}'{}: stopping updates for this host until the "
                    "configuration changes ({})", name, r.code,
                    r.detail.empty() ? "" : " (" + r.detail + ")", stop_hint(r.code));
      e.state = CacheEntry::State::Stopped;
      e.reason = r.code;
      e.retry_at = 0;
      ++rep.stopped;
      break;
    case Verdict::Retry: {
      e.failures = std::min<uint32_t>(e.failures + 1, 30);
      uint64_t delay = uint64_t(cfg_.retry_min_s) << std::min<uint32_t>(e.failures - 1, 20);
      delay = std::min<uint64_t>(delay, cfg_.retry_max_s);
      delay = std::max<uint64_t>(delay, uint64_t(r.min_retry_s));
      e.state = CacheEntry::State::Retry;
      e.reason = r.code;
      // Rounded up: from a truncated `done` the backoff could end up to a
      // second early.
      e.retry_at = unix_ceil(done_at + std::chrono::seconds(delay));
      spdlog::warn("{}: temporary failure '{}'{}: will retry in {} (failure {})", name, r.code,
                   r.detail.empty() ? "" : " (" + r.detail + ")", human(int64_t(delay)), e.failures);
      rep.next_due = std::min(rep.next_due, e.retry_at);
      ++rep.retrying;
      break;
    }
  }
  save(rep);
}

// ---- the real detector and updater -----------------------------------------

namespace {

class SystemDetector : public Detector {
 public:
  explicit SystemDetector(const ClientConfig& cfg) : cfg_(cfg) {}

  Result<IpAddr> detect(const AddressSource& src, Family f) override {
    switch (src.kind) {
      case AddressSource::Kind::None:
        return make_error("no source");
      case AddressSource::Kind::Fixed: {
        auto a = IpAddr::parse(src.value);
        if (!a || a->family != f) return make_error("'" + src.value + "' is not an " + std::string(family_text(f)) + " address");
        return *a;
      }
      case AddressSource::Kind::Interface: {
        InterfaceOptions o{src.value, src.allow_private, src.allow_temporary};
        auto list = interface_addresses(f, o);
        if (!list) return list.error();
        if (list->empty()) return make_error("no usable address (private, link-local and temporary addresses are skipped unless allowed)");
        return list->front();
      }
      case AddressSource::Kind::Url: {
        HttpRequest req;
        req.url = src.value;
        req.user_agent = user_agent(cfg_);
        req.timeout_ms = int(cfg_.timeout_s) * 1000;
        req.resolve = f == Family::V4 ? HttpRequest::Resolve::V4 : HttpRequest::Resolve::V6;
        req.ca_file = cfg_.ca_file;
        auto res = http_get(req);
        if (!res.transport_ok) return make_error(res.error);
        if (res.status != 200) return make_error("HTTP " + std::to_string(res.status));
        return pick(extract_address(res.body, f, src.pattern), src, f);
      }
      case AddressSource::Kind::Command: {
        auto out = run_command(src.value, int(cfg_.timeout_s) * 1000);
        if (!out) return out.error();
        return pick(extract_address(*out, f, src.pattern), src, f);
      }
    }
    return make_error("bad source");
  }

  static std::string user_agent(const ClientConfig& cfg) {
    return cfg.user_agent.empty() ? std::string("ddns-client/" DDNS_VERSION) : cfg.user_agent;
  }

 private:
  static Result<IpAddr> pick(const std::optional<IpAddr>& a, const AddressSource& src, Family f) {
    if (!a) return make_error(std::string("no ") + std::string(family_text(f)) + " address in the output" +
                              (src.pattern.empty() ? "" : " matching '" + src.pattern + "'"));
    Scope s = scope_of(*a);
    if (s == Scope::Unusable) return make_error(a->text() + " is not a publishable address");
    if (s == Scope::Private && !src.allow_private)
      return make_error(a->text() + " is a private address (set allow-private to publish it)");
    return *a;
  }

  const ClientConfig& cfg_;
};

class NetworkUpdater : public Updater {
 public:
  NetworkUpdater(const ClientConfig& cfg, std::map<std::string, tsig::Key> keys)
      : cfg_(cfg), keys_(std::move(keys)) {}

  UpdateResult update(const HostConfig& h, const std::optional<IpAddr>& v4,
                      const std::optional<IpAddr>& v6) override {
    if (h.protocol == Protocol::DynDns2) {
      HttpRequest req;
      req.url = dyndns2_url(h.server, h.hostname, v4, v6);
      req.user = h.user;
      req.password = h.password;
      req.user_agent = SystemDetector::user_agent(cfg_);
      req.timeout_ms = int(cfg_.timeout_s) * 1000;
      req.ca_file = cfg_.ca_file;
      auto res = http_get(req);
      if (!res.transport_ok) {
        UpdateResult r;
        r.verdict = Verdict::Retry;
        r.code = res.timed_out ? "timeout" : "network";
        r.detail = res.error;
        return r;
      }
      return dyndns2_result(res.status, res.body);
    }
    Rfc2136Request req;
    auto zone = wire::Name::from_text(h.zone + ".");
    auto name = wire::Name::from_text(h.hostname + ".");
    UpdateResult bad;
    bad.verdict = Verdict::Stop;
    bad.code = "config";
    if (!zone || !name) return bad;
    req.zone = *zone;
    req.name = *name;
    req.ttl = h.ttl;
    req.v4 = v4;
    req.v6 = v6;
    uint8_t id[2] = {0, 0};
    std::ifstream ur("/dev/urandom", std::ios::binary);
    ur.read(reinterpret_cast<char*>(id), 2);
    req.id = uint16_t(id[0] << 8 | id[1]);
    auto it = keys_.find(h.key());
    Rfc2136Target target{h.server, int(cfg_.timeout_s) * 1000};
    return rfc2136_update(target, req, it == keys_.end() ? nullptr : &it->second, tsig::now_seconds());
  }

 private:
  const ClientConfig& cfg_;
  std::map<std::string, tsig::Key> keys_;
};

}  // namespace

std::unique_ptr<Detector> make_system_detector(const ClientConfig& cfg) {
  return std::make_unique<SystemDetector>(cfg);
}

Result<std::unique_ptr<Updater>> make_network_updater(const ClientConfig& cfg) {
  std::map<std::string, tsig::Key> keys;
  for (const auto& h : cfg.hosts) {
    if (h.protocol != Protocol::Rfc2136) continue;
    auto list = tsig::load_keyfile(h.tsig_key_file);
    if (!list) return list.error();
    if (list->empty()) return make_error(h.tsig_key_file + ": no key in the file");
    const tsig::Key* pick = &list->front();
    if (!h.tsig_key_name.empty()) {
      auto want = wire::Name::from_text(h.tsig_key_name + (h.tsig_key_name.ends_with('.') ? "" : "."));
      pick = nullptr;
      for (const auto& k : *list)
        if (want && k.name == *want) pick = &k;
      if (!pick) return make_error(h.tsig_key_file + ": no key named '" + h.tsig_key_name + "'");
    } else if (list->size() > 1) {
      return make_error(h.tsig_key_file + ": several keys; choose one with key-name (--key-name)");
    }
    keys[h.key()] = *pick;
  }
  return std::unique_ptr<Updater>(std::make_unique<NetworkUpdater>(cfg, std::move(keys)));
}

}  // namespace ddns::client
