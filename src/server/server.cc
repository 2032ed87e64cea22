// Composition root of ddnsd: loads zones, publishes snapshots, wires the
// answer engine and the zone writers (UPDATE) into the network front end,
// restores zones from the store, and handles signals.
#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstring>
#include <optional>

#include "accounts/accounts.h"
#include "dispatch/dispatch.h"
#include "dyndns/removal.h"
#include "dyndns/service.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "server/primary.h"
#include "server/runtime_config.h"
#include "server/service.h"
#include "server/secondary.h"
#include "store/sqlite.h"
#include "tsig/keyfile.h"
#include "zone/check.h"
#include "zone/serial.h"
#include "zone/writer.h"

namespace ddns::server {
namespace {

using WriterMap = std::unordered_map<wire::Name, update::ZoneWriter*, wire::NameHash>;

// One per network thread: holds that thread's snapshot reference (the query
// path reads zones with one atomic load and no lock) and its dispatcher,
// and carries out what the dispatcher decided: the I/O only.
class AuthHandler : public net::QueryHandler {
 public:
  AuthHandler(const net::Published<zone::ZoneSet>& pub, const dispatch::Context& ctx, uint32_t seed,
              Secondaries* secondaries)
      : reader_(pub), dispatcher_(ctx, seed), secondaries_(secondaries) {}

  net::Handled handle_from(std::span<const uint8_t> query, net::Transport t, uint8_t* out,
                           size_t cap, const net::Peer& peer) override {
    return handle_peer(query, t, out, cap, &peer);
  }

  size_t handle(std::span<const uint8_t> query, net::Transport t, uint8_t* out,
                size_t cap) override {
    return handle_peer(query, t, out, cap, nullptr).size;
  }

 private:
  net::Handled handle_peer(std::span<const uint8_t> query, net::Transport t, uint8_t* out,
                           size_t cap, const net::Peer* peer) {
    try {
      dispatch::Received rx{query, t, nullptr, 0};
      if (peer && peer->addr) {
        rx.source = reinterpret_cast<const sockaddr*>(peer->addr);
        rx.source_len = peer->addr_len;
      }
      dispatch::Outcome o = dispatcher_.dispatch(reader_.get(), rx, out, cap);
      if (const auto* a = std::get_if<dispatch::Answer>(&o)) return net::Handled::send(a->size);
      return std::visit([&](auto& x) { return carry_out(x, out, cap, peer); }, o);
    } catch (...) {
      return {};  // nothing here throws on bad input; if memory runs out, drop this one packet
    }
  }

  net::Handled carry_out(dispatch::Answer& a, uint8_t*, size_t, const net::Peer*) {
    return net::Handled::send(a.size);
  }
  net::Handled carry_out(dispatch::Drop&, uint8_t*, size_t, const net::Peer*) { return {}; }

  net::Handled carry_out(dispatch::NotifyReceived& n, uint8_t*, size_t, const net::Peer*) {
    if (secondaries_) secondaries_->notify_received(n.zone);
    return net::Handled::send(n.size);
  }

  net::Handled carry_out(dispatch::TransferOut& x, uint8_t* out, size_t cap,
                         const net::Peer* peer) {
    if (peer && peer->responder) {
      peer->responder->stream(peer->conn, xfr::logged(std::move(x.stream)));
      return net::Handled::later();
    }
    // No connection to stream on: only a one-message transfer is answered.
    size_t n = x.stream.source->next(out, std::min<size_t>(cap, 65535));
    return net::Handled::send(n && x.stream.source->finished() ? n : 0);
  }

  // Never waits for the commit: over UDP the writer thread sends the reply
  // itself (sendto on the worker's socket is thread-safe); over TCP it
  // hands it to the connection's event loop (Responder). Only a caller
  // without a peer (handle()) waits here for the reply.
  net::Handled carry_out(dispatch::ToWriter& w, uint8_t* out, size_t cap, const net::Peer* peer) {
    update::WriteRequest& r = w.request;
    auto refused = [&] {
      return net::Handled::send(dispatch::writer_refused(r, tsig::now_seconds(), out, cap));
    };
    if (peer && peer->fd >= 0 && peer->addr) {
      r.reply = [fd = peer->fd, addr = *peer->addr,
                 len = peer->addr_len](std::span<const uint8_t> b) {
        ::sendto(fd, b.data(), b.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&addr),
                 len);
      };
      if (!w.writer->submit(std::move(r))) return refused();
      return net::Handled::later();
    }
    if (peer && peer->responder) {
      r.reply = [resp = peer->responder, conn = peer->conn](std::span<const uint8_t> b) {
        resp->respond(conn, std::vector<uint8_t>(b.begin(), b.end()));
      };
      if (!w.writer->submit(std::move(r))) return refused();
      return net::Handled::later();
    }
    struct Wait {
      std::mutex mu;
      std::condition_variable cv;
      std::vector<uint8_t> bytes;
      bool done = false;
    };
    auto wait = std::make_shared<Wait>();
    r.reply = [wait](std::span<const uint8_t> b) {
      std::lock_guard<std::mutex> lock(wait->mu);
      wait->bytes.assign(b.begin(), b.end());
      wait->done = true;
      wait->cv.notify_all();
    };
    if (!w.writer->submit(std::move(r))) return refused();
    std::unique_lock<std::mutex> lock(wait->mu);
    if (!wait->cv.wait_for(lock, std::chrono::seconds(30), [&] { return wait->done; })) return {};
    if (wait->bytes.size() > cap) return {};
    std::memcpy(out, wait->bytes.data(), wait->bytes.size());
    return net::Handled::send(wait->bytes.size());
  }

  net::Published<zone::ZoneSet>::Reader reader_;
  dispatch::Dispatcher dispatcher_;
  Secondaries* secondaries_;
};

Result<wire::Name> zone_origin(const std::string& text) {
  std::string t = text;
  if (t.empty() || t.back() != '.') t += '.';
  return wire::Name::from_text(t);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void setup_logging(const std::string& level) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_logger_mt("ddnsd");
    spdlog::set_default_logger(logger);
    set_log_pattern(stderr_is_journal());
    done = true;
  }
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);  // logs are rare; tests and operators read them live
}

Server::Server(conf::Config cfg) : cfg_(std::move(cfg)) {
  auth_opts_.round_robin = cfg_.server.round_robin;
  auth_opts_.max_udp_size = cfg_.server.max_udp_size;
  auth_opts_.chaos = cfg_.server.chaos;
  auth_opts_.version = cfg_.server.version;
  auth_opts_.identity = cfg_.server.identity;
  if (auth_opts_.identity.empty()) {
    char host[256] = {0};
    if (::gethostname(host, sizeof host - 1) == 0) auth_opts_.identity = host;
  }
  for (const auto& z : cfg_.zones) slots_.push_back(ZoneSlot{z, nullptr});
  rrl_ = std::make_unique<net::Rrl>(cfg_.rrl.table_size);
  rrl_->configure(rrl_settings(cfg_.rrl));
}

Server::~Server() { stop(); }

Result<std::shared_ptr<const zone::Zone>> Server::load(ZoneSlot& slot, bool initial) {
  const std::string& name = slot.cfg.name;
  auto origin = zone_origin(name);
  if (!origin) return make_error(slot.cfg.where + ": zone '" + name + "': " + origin.error().message);
  struct stat st {};
  if (::stat(slot.cfg.file.c_str(), &st) != 0)
    return make_error("zone " + origin->to_text() + ": " + slot.cfg.file + ": " +
                      std::strerror(errno));
  slot.mtime = st.st_mtim;
  slot.size = st.st_size;
  slot.inode = st.st_ino;

  auto t0 = std::chrono::steady_clock::now();
  // The compact streaming path: a large zone never exists as a vector of
  // records beside its tree (a 1M-host zone peaks at ~0.6x the memory).
  zone::ParseOptions popts;
  popts.strict = slot.cfg.strict;
  zone::LoadedTree lt = zone::load_zone_tree(slot.cfg.file, *origin, popts);
  for (const auto& w : lt.warnings) spdlog::warn("zone {}: {}", origin->to_text(), w.to_string());
  if (!lt.ok()) {
    for (const auto& e : lt.errors) spdlog::error("zone {}: {}", origin->to_text(), e.to_string());
    return make_error("zone " + origin->to_text() + " refused: " + std::to_string(lt.errors.size()) +
                      (lt.errors.size() == 1 ? " error" : " errors") + " in " + slot.cfg.file +
                      (initial ? "" : " (old data kept)"));
  }
  spdlog::info("zone {} {}: serial {}, {} records, {:.1f} ms, {}", origin->to_text(),
               initial ? "loaded" : "reloaded", lt.zone->serial(), lt.records, ms_since(t0),
               slot.cfg.file);
  return lt.zone;
}

Result<void> Server::start() {
  const auto& sc = cfg_.server;
  if (!sc.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(sc.data_dir, ec);
    if (ec) return make_error("server.data-dir: " + sc.data_dir + ": " + ec.message());
    auto st = store::SqliteStore::open(store::SqliteStore::default_path(sc.data_dir));
    if (!st) return make_error("store: " + st.error().message);
    store_ = std::move(*st);
    spdlog::info("store: {}", store::SqliteStore::default_path(sc.data_dir));
  }
  ring_ = std::make_shared<tsig::KeyRing>();
  for (const auto& file : cfg_.keys) {
    auto keys = tsig::load_keyfile(file);
    if (!keys) return make_error("keys: " + keys.error().message);
    for (auto& k : *keys) {
      std::string name = k.name.to_text();
      if (!ring_->add(std::move(k))) return make_error("keys: " + file + ": key " + name + " defined twice");
    }
  }

  auto t0 = std::chrono::steady_clock::now();
  auto set = std::make_shared<const zone::ZoneSet>();
  size_t failed = 0;
  std::string first_error;
  bool any_secondary = false, any_ddns = false;
  for (const auto& slot : slots_) {
    any_secondary |= !slot.cfg.primaries.empty();
    any_ddns |= slot.cfg.ddns;
  }
  if ((any_secondary || any_ddns || !cfg_.http.listen.empty()) && !store_)
    return make_error(std::string(any_secondary ? "secondary zones" : "DynDNS (http / ddns zones)") +
                      " need a data directory (server.data-dir / --data-dir)");
  std::vector<std::shared_ptr<const zone::Zone>> secondary_initial;
  if (any_secondary) {
    // Read by the refresh threads only after start(), once the map is final.
    secondaries_ = std::make_unique<Secondaries>(
        store_.get(), ring_, [this](const wire::Name& origin) -> update::ZoneWriter* {
          auto it = zone_writers_.find(origin);
          return it == zone_writers_.end() ? nullptr : it->second;
        });
    if (auto r = secondaries_->configure(cfg_); !r) return r;
    secondary_initial = secondaries_->initial();
  }
  for (auto& slot : slots_) {
    if (!slot.cfg.primaries.empty()) {
      // A secondary's copy comes from its primaries (and the store), not a file.
      auto origin = zone_origin(slot.cfg.name);
      for (const auto& z : secondary_initial)
        if (origin && z->origin() == *origin) slot.zone = z;
      if (!slot.zone) {
        spdlog::error("zone {}: no initial copy from the secondary engine", slot.cfg.name);
        if (failed++ == 0) first_error = "zone " + slot.cfg.name + ": no secondary state";
        continue;
      }
      set = set->with(slot.zone);
      continue;
    }
    auto z = load(slot, true);
    if (z) slot.written_serial = (*z)->serial();  // what the file holds
    if (z && store_) z = restore(*z, &slot.import);
    if (!z) {
      spdlog::error("{}", z.error().message);
      if (failed++ == 0) first_error = z.error().message;
      continue;
    }
    slot.zone = *z;
    set = set->with(*z);
  }
  if (failed)
    return make_error("not starting: " + std::to_string(failed) + " of " +
                      std::to_string(slots_.size()) + " zones failed to load (" + first_error + ")");
  if (!slots_.empty())
    spdlog::info("{} zones loaded in {:.1f} ms", slots_.size(), ms_since(t0));
  else
    spdlog::warn("no zones configured: every query will be refused");
  published_ = std::make_unique<net::Published<zone::ZoneSet>>(set);
  // Before the primary exists: an import at start sends no NOTIFY.
  if (auto r = setup_writers(); !r) return r;
  primary_ = std::make_unique<Primary>(published_.get(), store_.get(), ring_);
  if (auto r = primary_->configure(cfg_); !r) return r;

  net::FrontendOptions fo;
  for (const auto& spec : sc.listen) {
    auto ep = net::Endpoint::parse(spec);
    if (!ep) return make_error("server.listen: " + ep.error().message);
    fo.listen.push_back(*ep);
  }
  unsigned threads = sc.threads ? sc.threads : std::max(1u, std::thread::hardware_concurrency());
  fo.udp_threads = threads;
  fo.tcp_threads = sc.tcp_threads ? sc.tcp_threads : std::min(2u, threads);
  fo.udp_response_cap = std::max<size_t>(512, sc.max_udp_size);
  fo.udp_recv_size = std::max<size_t>(8192, sc.max_udp_size);
  fo.tcp_idle_timeout_ms = sc.tcp_idle_timeout_ms;
  fo.tcp_max_clients = sc.tcp_max_clients;
  fo.udp_coalesce_us = sc.udp_coalesce_us;
  fo.rrl = rrl_.get();
  spdlog::info("rrl: {}", rrl_summary(cfg_.rrl));

  dispatch_ctx_ = std::make_unique<dispatch::Context>();
  dispatch::Context& dc = *dispatch_ctx_;
  dc.auth = auth_opts_;
  dc.ring = ring_.get();
  dc.replay = &replay_;
  const WriterMap* wmap = &writer_by_origin_;
  dc.writer = [wmap](const wire::Name& origin) -> update::ZoneWriter* {
    auto it = wmap->find(origin);
    return it == wmap->end() ? nullptr : it->second;
  };
  dc.transfer_acls = &primary_->transfer_acls();
  dc.journal = store_.get();
  Secondaries* secondaries = secondaries_.get();
  if (secondaries)
    dc.notify_primaries = [secondaries](const wire::Name& origin) {
      return secondaries->primaries(origin);
    };
  std::random_device rd;
  auto* pub = published_.get();
  const dispatch::Context* ctx = dispatch_ctx_.get();
  uint32_t seed = rd();
  frontend_ = std::make_unique<net::Frontend>(
      fo, [pub, ctx, seed, secondaries]() mutable {
        seed = seed * 2654435761u + 1;
        return std::make_unique<AuthHandler>(*pub, *ctx, seed, secondaries);
      });
  if (auto r = frontend_->open(); !r) return make_error("cannot listen on " + r.error().message);
  for (const auto& ep : frontend_->bound())
    spdlog::info("listening on {} (udp: {} workers, tcp: {} loops)", ep.to_string(), fo.udp_threads,
                 fo.tcp_threads);
  frontend_->start();
  add_metrics_collector();
  primary_->start();
  if (secondaries_) secondaries_->start();
  if (auto r = setup_http(); !r) return r;
  if (store_) maintenance_ = std::thread([this] { maintenance_loop(); });
  if (accounts_) {
    // Hosts deleted while ddnsd was down are gone from DNS before it
    // reports itself started.
    drain_removals();
    removals_ = std::thread([this] { removals_loop(); });
  }
  spdlog::info("ddnsd started: {} zones, {} listeners", slots_.size(), frontend_->bound().size());
  return {};
}

Result<void> Server::setup_http() {
  dyndns::Options o;
  if (cfg_.metrics.enable) {
    o.metrics_text = [this] { return metrics_text(); };
    o.metrics_allow = cfg_.metrics.allow;
  }
  if (cfg_.http.listen.empty()) {
    // metrics.listen alone: a service without accounts (allowed networks only).
    if (cfg_.metrics.enable && !cfg_.metrics.listen.empty())
      dyndns_ = std::make_unique<dyndns::Service>(dyndns::Context{}, o);
    return setup_metrics_listener();
  }
  const auto& hc = cfg_.http;
  accounts::Limits lim;
  lim.password_cache_s = hc.password_cache_s;
  auto acc = accounts::Accounts::open(accounts::Accounts::default_path(cfg_.server.data_dir), lim);
  if (!acc) return make_error("accounts: " + acc.error().message);
  accounts_ = std::move(*acc);
  for (const auto& slot : slots_) {
    if (!slot.cfg.ddns) continue;
    auto on = zone_origin(slot.cfg.name);
    if (!on) continue;
    std::string o = on->to_text();
    if (o.size() > 1 && o.back() == '.') o.pop_back();
    if (auto r = accounts_->add_zone(o); !r) return make_error("accounts: zone " + o + ": " + r.error().message);
  }
  dyndns::Context ctx;
  ctx.accounts = accounts_.get();
  const WriterMap* wmap = &writer_by_origin_;
  ctx.writer = [wmap](const wire::Name& origin) -> update::ZoneWriter* {
    auto it = wmap->find(origin);
    return it == wmap->end() ? nullptr : it->second;
  };
  o.nochg_abuse_count = hc.nochg_abuse_count;
  o.nochg_abuse_window_s = hc.nochg_abuse_window_s;
  o.abuse_block_s = hc.abuse_block_s;
  o.login_fail_limit = hc.login_fail_limit;
  o.login_fail_window_s = hc.login_fail_window_s;
  o.web_root = hc.web_root;
  dyndns_ = std::make_unique<dyndns::Service>(std::move(ctx), o);
  auto router = std::make_shared<http::Router>();
  dyndns_->install(*router);
  http::ServerOptions ho;
  for (const auto& spec : hc.listen) {
    auto ep = net::Endpoint::parse(spec);
    if (!ep) return make_error("http.listen: " + ep.error().message);
    ho.listen.push_back(*ep);
  }
  ho.threads = hc.threads ? hc.threads : std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
  ho.tls_cert = hc.tls_cert;
  ho.tls_key = hc.tls_key;
  ho.trusted_proxies = hc.trusted_proxies;
  http_ = std::make_unique<http::Server>(ho, router);
  if (auto r = http_->open(); !r) return make_error("http: cannot listen: " + r.error().message);
  for (const auto& ep : http_->bound())
    spdlog::info("http: listening on {} ({})", ep.to_string(), hc.tls_cert.empty() ? "http" : "https");
  http_->start();
  return setup_metrics_listener();
}

std::vector<net::Endpoint> Server::http_listening() const {
  return http_ ? http_->bound() : std::vector<net::Endpoint>{};
}

void Server::trim_journals() {
  const auto& sc = cfg_.server;
  if (!store_ || (sc.journal_max_entries == 0 && sc.journal_max_age_s == 0)) return;
  for (const auto& slot : slots_) {
    if (!slot.dynamic && slot.cfg.primaries.empty()) continue;
    auto on = zone_origin(slot.cfg.name);
    if (!on) continue;
    const wire::Name& origin = *on;
    auto info = store_->zone_info(origin);
    if (!info || !*info) continue;
    // Folding rewrites the zone's base rows, so only once the journal is
    // 10% over its limit (or entries are past their age).
    if (sc.journal_max_age_s == 0 &&
        (*info)->journal_length <= uint64_t(sc.journal_max_entries) * 11 / 10)
      continue;
    store::TrimPolicy tp;
    tp.keep_count = sc.journal_max_entries ? sc.journal_max_entries : SIZE_MAX;
    tp.max_age = std::chrono::seconds(sc.journal_max_age_s);
    tp.now = std::chrono::system_clock::now();
    auto t0 = std::chrono::steady_clock::now();
    auto n = store_->trim_journal(origin, tp);
    if (!n)
      spdlog::error("zone {}: journal trim failed: {}", origin.to_text(), n.error().message);
    else if (*n)
      spdlog::info("zone {}: {} journal entries folded into the base snapshot ({:.1f} ms)",
                   origin.to_text(), *n, ms_since(t0));
  }
}

// Optional write-back (zones[].write-back): the served copy of a dynamic
// zone rewritten to its master file, atomically, `write_back_s` after the
// first change not yet written (so a steady stream of updates still reaches
// the file), and once more at shutdown.
void Server::write_back(bool final) {
  const auto now = std::chrono::steady_clock::now();
  for (auto& slot : slots_) {
    if (!slot.dynamic || slot.cfg.write_back_s == 0) continue;
    auto z = slot.writer->current();
    if (!z || z->serial() == slot.written_serial) continue;
    if (slot.changed_at == std::chrono::steady_clock::time_point{}) slot.changed_at = now;
    if (!final && now - slot.changed_at < std::chrono::seconds(slot.cfg.write_back_s)) continue;
    auto t0 = std::chrono::steady_clock::now();
    auto recs = z->records();
    if (auto r = zone::write_master_file(slot.cfg.file, z->origin(), recs); !r) {
      spdlog::error("zone {}: write-back to {} failed: {}", z->origin().to_text(), slot.cfg.file,
                    r.error().message);
      continue;
    }
    slot.written_serial = z->serial();
    slot.changed_at = {};
    spdlog::info("zone {}: serial {} written back to {} ({:.1f} ms)", z->origin().to_text(),
                 z->serial(), slot.cfg.file, ms_since(t0));
  }
}

void Server::maintenance_loop() {
  std::unique_lock<std::mutex> lock(maint_mu_);
  for (unsigned tick = 0; !stopping_; ++tick) {
    lock.unlock();
    {
      std::lock_guard<std::mutex> slots_lock(slots_mu_);
      if (tick % 60 == 0) trim_journals();
      write_back(false);
    }
    lock.lock();
    maint_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
  }
}

// ddnsctl deletes hosts in its own process, where it cannot edit zones:
// every 250 ms the queue it leaves in the accounts database is turned into
// zone edits here, through the writers (journaled, serial bumped, NOTIFY).
void Server::removals_loop() {
  std::unique_lock<std::mutex> lock(maint_mu_);
  while (!stopping_) {
    maint_cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    drain_removals();
    lock.lock();
  }
}

void Server::drain_removals() {
  auto pending = accounts_->pending_removals();
  if (!pending) {
    spdlog::warn("dyndns: pending DNS removals: {}", pending.error().message);
    return;
  }
  if (pending->empty()) return;
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
    std::vector<int64_t> done;  // removal ids whose edit succeeded
  };
  auto wait = std::make_shared<Wait>();
  for (const auto& rm : *pending) {
    auto finish_now = [&] {
      if (auto r = accounts_->finish_removal(rm.id); !r)
        spdlog::warn("dyndns: DNS removal of {}: {}", rm.host, r.error().message);
    };
    // A host added again under the same name and updated since its
    // deletion owns the records now.
    auto again = accounts_->get_host(rm.host);
    if (again && *again && (*again)->updated >= rm.queued) {
      finish_now();
      continue;
    }
    auto origin = wire::Name::from_text(rm.zone + ".");
    auto it = origin ? writer_by_origin_.find(*origin) : writer_by_origin_.end();
    auto removal = dyndns::host_removal(rm.host);
    if (!removal || it == writer_by_origin_.end()) {
      // The zone is no longer written here (or the row is garbage): there
      // is nothing of ours to remove.
      spdlog::info("dyndns: deleted host {}: zone {} not writable here, no records removed",
                   rm.host, rm.zone);
      finish_now();
      continue;
    }
    update::EditRequest req = std::move(*removal);
    int64_t id = rm.id;
    std::string host = rm.host;
    req.done = [wait, id, host](const update::EditResult& r) {
      std::lock_guard l(wait->mu);
      if (r.rcode == wire::Rcode::NoError) {
        wait->done.push_back(id);
        if (r.changed)
          spdlog::info("dyndns: deleted host {}: records removed, serial {}", host, r.serial);
      } else {
        spdlog::warn("dyndns: deleted host {}: removing its records failed: {}", host, r.reason);
      }
      wait->left--;
      wait->cv.notify_all();
    };
    {
      std::lock_guard l(wait->mu);
      wait->left++;
    }
    if (!it->second->submit_edit(std::move(req))) {
      std::lock_guard l(wait->mu);
      wait->left--;  // queue full or stopping: the row stays for the next round
    }
  }
  std::vector<int64_t> done;
  {
    std::unique_lock l(wait->mu);
    // Bounded: a writer stuck on its store leaves the rest for later rounds.
    wait->cv.wait_for(l, std::chrono::seconds(5), [&] { return wait->left == 0; });
    done = wait->done;
  }
  // The finish is written here, not in the writer's callback, which must not block.
  for (int64_t id : done)
    if (auto r = accounts_->finish_removal(id); !r)
      spdlog::warn("dyndns: DNS removal {}: {}", id, r.error().message);
}

Result<std::shared_ptr<const zone::Zone>> Server::restore(
    const std::shared_ptr<const zone::Zone>& file, bool* import) {
  const wire::Name& origin = file->origin();
  *import = false;
  auto info = store_->zone_info(origin);
  if (!info) return make_error("zone " + origin.to_text() + ": store: " + info.error().message);
  // RFC 1982: the store's copy wins when it is at least as new as the file.
  if (*info && !zone::serial_lt((*info)->serial, file->serial())) {
    auto data = store_->load_zone(origin);
    if (!data) return make_error("zone " + origin.to_text() + ": store: " + data.error().message);
    size_t count = data->records.size();
    auto z = zone::Zone::build(origin, std::move(data->records));
    if (!z) return make_error("zone " + origin.to_text() + ": store copy: " + z.error().message);
    spdlog::info("zone {} restored from store, serial {}, {} records", origin.to_text(),
                 (*z)->serial(), count);
    return *z;
  }
  *import = true;
  return file;
}

Result<void> Server::attach_writer(ZoneSlot& slot) {
  const wire::Name& origin = slot.zone->origin();
  slot.dynamic = !slot.cfg.update_policy.empty() || slot.cfg.ddns;
  if (slot.dynamic && !store_)
    return make_error(slot.cfg.where + ": zone " + origin.to_text() +
                      ": update-policy needs a data directory (server.data-dir / --data-dir)");
  update::WriterOptions wo;
  wo.ring = ring_;
  if (!slot.cfg.update_policy.empty()) {
    std::string text;
    for (const auto& rule : slot.cfg.update_policy) text += rule + "\n";
    auto pol = update::Policy::parse(text, origin);
    if (!pol)
      return make_error(slot.cfg.where + ": zone " + origin.to_text() +
                        ": update-policy: " + pol.error().message);
    wo.policy = std::make_shared<update::Policy>(std::move(*pol));
  }
  wo.serial_policy =
      zone::serial_policy_from_text(slot.cfg.serial_policy).value_or(zone::SerialPolicy::Increment);
  writers_.push_back(std::make_unique<update::ZoneWriter>(
      slot.zone, store_.get(), std::move(wo),
      [this](std::shared_ptr<const zone::Zone> z) { publish_zone(std::move(z)); }));
  slot.writer = writers_.back().get();
  zone_writers_[origin] = slot.writer;
  return {};
}

Result<void> Server::import_file(ZoneSlot& slot) {
  if (!slot.import) return {};
  const wire::Name& origin = slot.zone->origin();
  update::StateChange c;
  c.snapshot = slot.zone;
  auto r = slot.writer->change_state(std::move(c));
  if (r.outcome != update::StateOutcome::Applied)
    return make_error("zone " + origin.to_text() + ": import into the store: " +
                      update::outcome_text(r.outcome) + ": " + r.reason);
  slot.import = false;
  spdlog::info("zone {} imported from file into the store, serial {}", origin.to_text(), r.serial);
  return {};
}

Result<void> Server::setup_writers() {
  for (auto& slot : slots_) {
    if (auto r = attach_writer(slot); !r) return r;
    if (auto r = import_file(slot); !r) return r;
    if (!slot.dynamic) continue;
    const wire::Name& origin = slot.zone->origin();
    writer_by_origin_[origin] = slot.writer;
    spdlog::info("zone {}: dynamic updates on ({} RFC 2136 rules{}, serial policy {})",
                 origin.to_text(), slot.cfg.update_policy.size(),
                 slot.cfg.ddns ? ", open for DynDNS hostnames" : "", slot.cfg.serial_policy);
  }
  return {};
}

void Server::publish_zone(std::shared_ptr<const zone::Zone> z) {
  std::lock_guard<std::mutex> lock(publish_mu_);
  spdlog::debug("zone {}: publishing serial {}", z->origin().to_text(), z->serial());
  for (auto& slot : slots_)
    if (slot.zone && slot.zone->origin() == z->origin()) slot.zone = z;
  published_->publish(published_->load()->with(z));
  if (primary_) primary_->published(*z);
}

ReloadReport Server::reload() {
  ReloadReport rep;
  if (!published_) return rep;
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  // Not publish_mu_: each zone's writer publishes (and takes it) itself.
  std::lock_guard<std::mutex> slots_lock(slots_mu_);
  auto t0 = std::chrono::steady_clock::now();
  for (auto& slot : slots_) {
    if (slot.dynamic || !slot.cfg.primaries.empty() || !slot.writer) {
      // The store (or the primary) is this zone's truth now; a file reload
      // would drop updates.
      rep.unchanged++;
      continue;
    }
    struct stat st {};
    if (::stat(slot.cfg.file.c_str(), &st) != 0) {
      spdlog::error("zone {}: {}: {} (old data kept)", slot.cfg.name, slot.cfg.file,
                    std::strerror(errno));
      rep.failed++;
      continue;
    }
    if (st.st_mtim.tv_sec == slot.mtime.tv_sec && st.st_mtim.tv_nsec == slot.mtime.tv_nsec &&
        st.st_size == slot.size && st.st_ino == slot.inode) {
      rep.unchanged++;
      continue;
    }
    auto z = load(slot, false);
    if (!z) {
      spdlog::error("{}", z.error().message);
      rep.failed++;
      continue;
    }
    // Through the zone's writer: durable in the store, then published.
    update::StateChange c;
    c.snapshot = *z;
    auto r = slot.writer->change_state(std::move(c));
    if (r.outcome != update::StateOutcome::Applied) {
      spdlog::error("zone {}: reload not applied ({}): {} (old data kept)", slot.cfg.name,
                    update::outcome_text(r.outcome), r.reason);
      rep.failed++;
      continue;
    }
    rep.reloaded++;
  }
  spdlog::info("reload: {} reloaded, {} failed, {} unchanged ({:.1f} ms)", rep.reloaded, rep.failed,
               rep.unchanged, ms_since(t0));
  return rep;
}

void Server::stop() {
  {
    std::lock_guard<std::mutex> lock(maint_mu_);
    stopping_ = true;
  }
  maint_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  if (removals_.joinable()) removals_.join();
  // HTTP first (no new edits), then the secondaries (no new transfers).
  if (http_) http_->stop();
  if (metrics_http_) metrics_http_->stop();
  if (metrics_collector_) metrics::registry().remove_collector(metrics_collector_);
  metrics_collector_ = 0;
  if (secondaries_) secondaries_->stop();
  // Writers next: they finish the queued updates and send their UDP
  // replies on the front end's sockets, which must still be open.
  for (auto& w : writers_) w->stop();
  if (store_ && published_) write_back(true);
  if (primary_) primary_->stop();
  if (frontend_) frontend_->stop();
}

const std::vector<net::Endpoint>& Server::listening() const {
  static const std::vector<net::Endpoint> none;
  return frontend_ ? frontend_->bound() : none;
}

net::FrontendStats Server::stats() const { return frontend_ ? frontend_->stats() : net::FrontendStats{}; }

int run(const conf::Config& cfg, const std::function<Result<conf::Config>()>& reread) {
  setup_logging(cfg.server.log_level);
  // Blocked before any thread exists, so every thread inherits the mask and
  // only the sigwait below sees these signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Server server(cfg);
  if (auto r = server.start(); !r) {
    spdlog::critical("{}", r.error().message);
    return 1;
  }
  notify_service("READY=1");
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      notify_service("RELOADING=1");
      if (reread) {
        spdlog::info("SIGHUP: re-reading the configuration and changed zone files");
        if (auto next = reread(); !next)
          spdlog::error("reload: new configuration refused, the running one is kept: {}",
                        next.error().message);
        else if (auto r = server.reconfigure(*next); !r)
          spdlog::error("{}", r.error().message);
      } else {
        spdlog::info("SIGHUP: reloading changed zone files");
      }
      server.reload();
      notify_service("READY=1");
      continue;
    }
    spdlog::info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_service("STOPPING=1");
    break;
  }
  server.stop();
  auto st = server.stats();
  spdlog::info("stopped: udp {} received, {} sent, {} dropped, {} coalescing pauses; tcp {} "
               "connections, {} queries",
               st.udp_received, st.udp_sent, st.udp_dropped, st.udp_pauses, st.tcp_accepted,
               st.tcp_queries);
  const auto& rs = server.rrl_stats();
  if (rs.dropped || rs.slipped || rs.would_limit)
    spdlog::info("rrl: {} answers dropped, {} sent truncated, {} would have been limited (log-only)",
                 rs.dropped.load(), rs.slipped.load(), rs.would_limit.load());
  return 0;
}

}  // namespace ddns::server
