// Composition root of ddnsd: loads zones, publishes snapshots, wires the
// answer engine into the network front end, and handles signals.
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

#include "zone/check.h"

namespace ddns::server {
namespace {

// One per network thread: holds that thread's snapshot reference, so the
// query path reads zones with one atomic load and no lock.
class AuthHandler : public net::QueryHandler {
 public:
  AuthHandler(const net::Published<zone::ZoneSet>& pub, const auth::Options& opts, uint32_t seed)
      : reader_(pub), opts_(opts), rotate_(seed) {}

  size_t handle(std::span<const uint8_t> query, net::Transport t, uint8_t* out,
                size_t cap) override {
    try {
      return auth::answer(reader_.get(), opts_, query,
                          t == net::Transport::Udp ? auth::Transport::Udp : auth::Transport::Tcp,
                          out, cap, rotate_++);
    } catch (...) {
      return 0;  // answer() does not throw; if memory runs out, drop this one query
    }
  }

 private:
  net::Published<zone::ZoneSet>::Reader reader_;
  const auth::Options& opts_;
  uint32_t rotate_;
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
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
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
  zone::LoadedZone lz = zone::load_zone_file(slot.cfg.file, *origin);
  for (const auto& w : lz.warnings) spdlog::warn("zone {}: {}", origin->to_text(), w.to_string());
  if (!lz.ok()) {
    for (const auto& e : lz.errors) spdlog::error("zone {}: {}", origin->to_text(), e.to_string());
    return make_error("zone " + origin->to_text() + " refused: " + std::to_string(lz.errors.size()) +
                      (lz.errors.size() == 1 ? " error" : " errors") + " in " + slot.cfg.file +
                      (initial ? "" : " (old data kept)"));
  }
  size_t count = lz.records.size();
  auto z = zone::Zone::build(*origin, std::move(lz.records));
  if (!z)
    return make_error("zone " + origin->to_text() + " refused: " + z.error().message +
                      (initial ? "" : " (old data kept)"));
  spdlog::info("zone {} {}: serial {}, {} records, {:.1f} ms, {}", origin->to_text(),
               initial ? "loaded" : "reloaded", (*z)->serial(), count, ms_since(t0),
               slot.cfg.file);
  return *z;
}

Result<void> Server::start() {
  const auto& sc = cfg_.server;
  if (!sc.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(sc.data_dir, ec);
    if (ec) return make_error("server.data-dir: " + sc.data_dir + ": " + ec.message());
  }

  auto t0 = std::chrono::steady_clock::now();
  auto set = std::make_shared<const zone::ZoneSet>();
  size_t failed = 0;
  std::string first_error;
  for (auto& slot : slots_) {
    auto z = load(slot, true);
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

  std::random_device rd;
  auto* pub = published_.get();
  const auth::Options* opts = &auth_opts_;
  uint32_t seed = rd();
  frontend_ = std::make_unique<net::Frontend>(fo, [pub, opts, seed]() mutable {
    seed = seed * 2654435761u + 1;
    return std::make_unique<AuthHandler>(*pub, *opts, seed);
  });
  if (auto r = frontend_->open(); !r) return make_error("cannot listen on " + r.error().message);
  for (const auto& ep : frontend_->bound())
    spdlog::info("listening on {} (udp: {} workers, tcp: {} loops)", ep.to_string(), fo.udp_threads,
                 fo.tcp_threads);
  frontend_->start();
  spdlog::info("ddnsd started: {} zones, {} listeners", slots_.size(), frontend_->bound().size());
  return {};
}

ReloadReport Server::reload() {
  ReloadReport rep;
  if (!published_) return rep;
  auto t0 = std::chrono::steady_clock::now();
  auto set = published_->load();
  bool changed = false;
  for (auto& slot : slots_) {
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
    slot.zone = *z;
    set = set->with(*z);
    changed = true;
    rep.reloaded++;
  }
  if (changed) published_->publish(set);
  spdlog::info("reload: {} reloaded, {} failed, {} unchanged ({:.1f} ms)", rep.reloaded, rep.failed,
               rep.unchanged, ms_since(t0));
  return rep;
}

void Server::stop() {
  if (frontend_) frontend_->stop();
}

const std::vector<net::Endpoint>& Server::listening() const {
  static const std::vector<net::Endpoint> none;
  return frontend_ ? frontend_->bound() : none;
}

net::FrontendStats Server::stats() const { return frontend_ ? frontend_->stats() : net::FrontendStats{}; }

int run(const conf::Config& cfg) {
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
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading changed zone files");
      server.reload();
      continue;
    }
    spdlog::info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.stop();
  auto st = server.stats();
  spdlog::info("stopped: udp {} received, {} sent, {} dropped; tcp {} connections, {} queries",
               st.udp_received, st.udp_sent, st.udp_dropped, st.tcp_accepted, st.tcp_queries);
  return 0;
}

}  // namespace ddns::server
