// SqliteAccounts: opening, the shared row helpers and host cache, users
// and DDNS zones.
#include "accounts/sqlite_accounts.h"

#include <openssl/rand.h>

#include "accounts/accounts_schema.h"
#include "accounts/sqlite_accounts_impl.h"

namespace ddns::accounts {

Error bad_user_name(std::string_view s) {
  return make_error("invalid user name '" + std::string(s.substr(0, 80)) +
                    "': use 1-64 characters of a-z 0-9 . _ @ -");
}

User user_from(const sqlite::Stmt& q, int at) {
  User u;
  u.id = q.i64(at);
  u.name = q.text(at + 1);
  u.admin = q.i64(at + 2) != 0;
  u.created = q.i64(at + 3);
  return u;
}

Host host_from(const sqlite::Stmt& q) {
  Host h;
  h.id = q.i64(0);
  h.name = q.text(1);
  h.zone = q.text(2);
  h.owner = q.i64(3);
  h.owner_name = q.text(4);
  h.created = q.i64(5);
  h.updated = q.i64(6);
  h.last_ipv4 = q.text(7);
  h.last_ipv6 = q.text(8);
  return h;
}

Result<std::string> deepest_zone(sqlite::Db& c, std::string_view name) {
  DDNS_SQL_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    std::string_view suffix = name.substr(dot + 1);
    q.bind(1, suffix);
    auto row = q.step();
    if (!row) return row.error();
    if (*row) return std::string(suffix);
    q.reset();
  }
  return std::string();
}

Result<int64_t> user_id(sqlite::Db& c, const std::string& name, std::string_view shown) {
  DDNS_SQL_STMT(q, c, "SELECT id FROM users WHERE name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (name.empty() || !*row) return make_error("no such user '" + std::string(shown) + "'");
  return q.i64(0);
}

Result<void> bump_generation(sqlite::Db& c) {
  int64_t gen = 0;
  {
    DDNS_SQL_STMT(q, c, "PRAGMA user_version");
    auto row = q.step();
    if (!row) return row.error();
    gen = q.i64(0);
  }
  // PRAGMA takes no parameters; the value is a number we formatted.
  std::string sql = "PRAGMA user_version = " + std::to_string((gen + 1) & 0x7fffffff);
  return c.exec(sql.c_str());
}

// ------------------------------------------------------------ Impl ----

Result<void> SqliteAccounts::Impl::sync_hosts() {
  int64_t dv = 0;
  {
    DDNS_SQL_STMT(q, watch, "PRAGMA data_version");
    auto row = q.step();
    if (!row) return row.error();
    dv = q.i64(0);
  }
  if (host_gen >= 0 && dv == host_dv) return {};
  int64_t gen = 0;
  {
    DDNS_SQL_STMT(q, watch, "PRAGMA user_version");
    auto row = q.step();
    if (!row) return row.error();
    gen = q.i64(0);
  }
  host_dv = dv;
  if (gen != host_gen) {
    hosts.clear();
    host_gen = gen;
  }
  return {};
}

Result<const SqliteAccounts::Impl::HostAuth*> SqliteAccounts::Impl::host_auth(
    const std::string& name, bool fill) {
  if (auto it = hosts.find(name); it != hosts.end()) {
    host_hits.fetch_add(1, std::memory_order_relaxed);
    return &it->second;
  }
  if (!fill) return static_cast<const HostAuth*>(nullptr);
  host_misses.fetch_add(1, std::memory_order_relaxed);
  DDNS_SQL_STMT(q, watch, "SELECT token_sha256, zone FROM hosts WHERE name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return static_cast<const HostAuth*>(nullptr);
  if (hosts.size() >= kMaxCache) hosts.clear();
  auto [it, _] = hosts.insert_or_assign(name, HostAuth{q.text(0), q.text(1)});
  return &it->second;
}

std::string SqliteAccounts::Impl::cache_key(const std::string& name, const std::string& pw) {
  unsigned char md[32];
  std::string_view secret(reinterpret_cast<const char*>(cache_secret.data()), cache_secret.size());
  if (!sha256({secret, name, std::string_view("\0", 1), pw}, md)) return {};
  std::string key = name;
  key += '\0';
  key.append(reinterpret_cast<const char*>(md), sizeof md);
  return key;
}

void SqliteAccounts::Impl::forget_user(const std::string& name) {
  std::string prefix = name;
  prefix += '\0';
  std::lock_guard l(cmu);
  for (auto it = cache.begin(); it != cache.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0)
      it = cache.erase(it);
    else
      ++it;
  }
}

SqliteAccounts::SqliteAccounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteAccounts::~SqliteAccounts() = default;

namespace {

// One writer (WAL, checkpoint tuning) or a reader (query_only) connection.
Result<void> open_conn(sqlite::Db& db, const std::string& path, bool reader) {
  sqlite::Options o;
  // ddnsctl writes while ddnsd runs: wait for the other writer.
  o.busy_timeout_ms = kBusyTimeoutMs;
  o.wal = !reader;
  o.query_only = reader;
  if (!reader) {
    // History rows land on a page of the history_host index per host:
    // under load every commit dirties about one page per row. A WAL of
    // 4000 pages (16 MiB) between checkpoints lets a checkpoint copy a
    // page once for many commits, and a 16 MiB page cache keeps those
    // pages in memory instead of re-reading them.
    o.pragmas = {"PRAGMA journal_size_limit=33554432", "PRAGMA wal_autocheckpoint=4000",
                 "PRAGMA cache_size=-16384"};
  }
  return db.open(path, o);
}

}  // namespace

Result<std::unique_ptr<SqliteAccounts>> SqliteAccounts::open(const std::string& path,
                                                             Limits limits) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->limits = limits;
  if (RAND_bytes(impl->cache_secret.data(), int(impl->cache_secret.size())) != 1)
    return make_error("accounts: no random bytes");
  DDNS_SQL_TRY(open_conn(impl->writer, path, /*reader=*/false));
  DDNS_SQL_TRY(sqlite::migrate(impl->writer, schema::kMigrations, "accounts "));
  for (auto& r : impl->readers) DDNS_SQL_TRY(open_conn(r.conn, path, /*reader=*/true));
  DDNS_SQL_TRY(open_conn(impl->watch, path, /*reader=*/true));
  return std::unique_ptr<SqliteAccounts>(new SqliteAccounts(std::move(impl)));
}

void SqliteAccounts::set_clock(std::function<int64_t()> now) {
  impl_->now = now ? std::move(now) : std::function<int64_t()>(system_now);
}

Accounts::Stats SqliteAccounts::stats() const {
  Stats s;
  s.argon2_verifies = impl_->argon2_verifies.load(std::memory_order_relaxed);
  s.password_cache_hits = impl_->cache_hits.load(std::memory_order_relaxed);
  s.host_cache_hits = impl_->host_hits.load(std::memory_order_relaxed);
  s.host_cache_misses = impl_->host_misses.load(std::memory_order_relaxed);
  return s;
}

// ------------------------------------------------------------ users ----

Result<User> SqliteAccounts::add_user(const std::string& name_in, const std::string& password,
                                bool admin) {
  std::string name = normalize_user(name_in);
  if (name.empty()) return bad_user_name(name_in);
  DDNS_SQL_TRY(check_new_password(password));
  {
    // Cheap duplicate check before the expensive hash.
    auto existing = get_user(name);
    if (!existing) return existing.error();
    if (*existing) return make_error("user '" + name + "' already exists");
  }
  auto hash = impl_->argon_hash(password);  // no lock held: ~20 ms
  if (!hash) return hash.error();
  User u;
  u.name = name;
  u.admin = admin;
  u.created = impl_->now();
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  DDNS_SQL_STMT(q, c,
           "INSERT INTO users(name, pwhash, admin, created) VALUES(?, ?, ?, ?) "
           "ON CONFLICT(name) DO NOTHING");
  q.bind(1, name).bind(2, *hash).bind(3, int64_t(admin)).bind(4, u.created);
  DDNS_SQL_TRY(q.run());
  if (c.changes() == 0) return make_error("user '" + name + "' already exists");
  u.id = c.last_rowid();
  return u;
}

Result<void> SqliteAccounts::delete_user(const std::string& name_in) {
  std::string name = normalize_user(name_in);
  if (name.empty()) return make_error("no such user '" + name_in.substr(0, 80) + "'");
  {
    std::lock_guard l(impl_->wmu);
    sqlite::Db& c = impl_->writer;
    sqlite::Txn t(c);
    DDNS_SQL_TRY(t.begin(true));
    auto id = user_id(c, name, name);
    if (!id) return id.error();
    {
      DDNS_SQL_STMT(q, c,
               "INSERT INTO dns_removals(host, zone, queued) "
               "SELECT name, zone, ? FROM hosts WHERE owner = ? ORDER BY name");
      q.bind(1, impl_->now()).bind(2, *id);
      DDNS_SQL_TRY(q.run());
    }
    {
      DDNS_SQL_STMT(q, c, "DELETE FROM history WHERE host IN (SELECT name FROM hosts WHERE owner = ?)");
      q.bind(1, *id);
      DDNS_SQL_TRY(q.run());
    }
    {
      // Hosts, sessions and API tokens go by ON DELETE CASCADE.
      DDNS_SQL_STMT(q, c, "DELETE FROM users WHERE id = ?");
      q.bind(1, *id);
      DDNS_SQL_TRY(q.run());
    }
    DDNS_SQL_TRY(bump_generation(c));
    DDNS_SQL_TRY(t.commit());
  }
  impl_->forget_user(name);
  return {};
}

Result<void> SqliteAccounts::set_password(const std::string& name_in, const std::string& password) {
  std::string name = normalize_user(name_in);
  if (name.empty()) return make_error("no such user '" + name_in.substr(0, 80) + "'");
  DDNS_SQL_TRY(check_new_password(password));
  auto hash = impl_->argon_hash(password);
  if (!hash) return hash.error();
  {
    std::lock_guard l(impl_->wmu);
    sqlite::Db& c = impl_->writer;
    DDNS_SQL_STMT(q, c, "UPDATE users SET pwhash = ? WHERE name = ?");
    q.bind(1, *hash).bind(2, name);
    DDNS_SQL_TRY(q.run());
    if (c.changes() == 0) return make_error("no such user '" + name + "'");
  }
  impl_->forget_user(name);
  return {};
}

Result<std::optional<User>> SqliteAccounts::get_user(const std::string& name_in) {
  std::string name = normalize_user(name_in);
  if (name.empty()) return std::optional<User>();
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn, "SELECT id, name, admin, created FROM users WHERE name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<std::vector<User>> SqliteAccounts::list_users() {
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn, "SELECT id, name, admin, created FROM users ORDER BY name");
  std::vector<User> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(user_from(q));
  }
  return out;
}

Result<std::optional<User>> SqliteAccounts::check_password(const std::string& name_in,
                                                     const std::string& password) {
  Impl& im = *impl_;
  std::string name = normalize_user(name_in);
  if (name.empty() || password.size() > kMaxPassword) return std::optional<User>();
  std::optional<User> user;
  std::string pwhash;
  {
    auto lease = im.read();
    DDNS_SQL_STMT(q, *lease.conn, "SELECT id, name, admin, created, pwhash FROM users WHERE name = ?");
    q.bind(1, name);
    auto row = q.step();
    if (!row) return row.error();
    if (*row) {
      user = user_from(q);
      pwhash = q.text(4);
    }
  }
  if (!user) {
    // Spend the same work as for a real user, so timing does not tell
    // which names exist.
    std::call_once(im.dummy_once, [&] {
      auto s = random_secret();
      auto h = im.argon_hash(s ? *s : std::string("unused-dummy-password"));
      if (h) im.dummy_hash = *h;
    });
    if (!im.dummy_hash.empty()) (void)im.argon_verify(im.dummy_hash, password);
    return std::optional<User>();
  }

  const int64_t now = im.now();
  std::string key;
  if (im.limits.password_cache_s > 0) key = im.cache_key(name, password);
  const bool caching = !key.empty();
  if (caching) {
    std::lock_guard l(im.cmu);
    auto it = im.cache.find(key);
    if (it != im.cache.end()) {
      if (it->second.expires > now && it->second.pwhash == pwhash) {
        im.cache_hits.fetch_add(1, std::memory_order_relaxed);
        return user;
      }
      im.cache.erase(it);
    }
  }
  auto match = im.argon_verify(pwhash, password);  // no lock held
  if (!match)
    return make_error("password hash of user '" + name + "' is unusable: " +
                      match.error().message);
  if (!*match) return std::optional<User>();
  if (caching) {
    std::lock_guard l(im.cmu);
    if (im.cache.size() >= kMaxCache) {
      std::erase_if(im.cache, [now](const auto& kv) { return kv.second.expires <= now; });
      if (im.cache.size() >= kMaxCache) im.cache.clear();
    }
    im.cache[key] = Impl::Cached{pwhash, now + int64_t(im.limits.password_cache_s)};
  }
  return user;
}

// ------------------------------------------------------------ zones ----

Result<void> SqliteAccounts::add_zone(const std::string& zone_in) {
  std::string zone = normalize_host(zone_in);
  if (zone.empty()) return make_error("invalid zone name '" + zone_in.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  {
    DDNS_SQL_STMT(q, c, "INSERT INTO ddns_zones(name, created) VALUES(?, ?) ON CONFLICT DO NOTHING");
    q.bind(1, zone).bind(2, impl_->now());
    DDNS_SQL_TRY(q.run());
    if (c.changes() == 0) return {};  // already open: nothing to do
  }
  {
    // Hosts strictly below the new zone whose zone is an ancestor of it
    // (a shorter suffix) now belong to the deeper zone.
    DDNS_SQL_STMT(q, c,
             "UPDATE hosts SET zone = ?1 WHERE length(name) > length(?1) + 1 "
             "AND substr(name, -length(?1) - 1) = '.' || ?1 AND length(zone) < length(?1)");
    q.bind(1, zone);
    DDNS_SQL_TRY(q.run());
    if (c.changes() > 0) DDNS_SQL_TRY(bump_generation(c));
  }
  return t.commit();
}

Result<void> SqliteAccounts::delete_zone(const std::string& zone_in) {
  std::string zone = normalize_host(zone_in);
  if (zone.empty()) return make_error("invalid zone name '" + zone_in.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  {
    DDNS_SQL_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
    q.bind(1, zone);
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return make_error("zone " + zone + " is not open for DDNS");
  }
  int64_t hosts = 0;
  {
    DDNS_SQL_STMT(q, c, "SELECT count(*) FROM hosts WHERE zone = ?");
    q.bind(1, zone);
    auto row = q.step();
    if (!row) return row.error();
    hosts = q.i64(0);
  }
  if (hosts > 0) {
    auto parent = deepest_zone(c, zone);
    if (!parent) return parent.error();
    if (parent->empty())
      return make_error("zone " + zone + " still has " + std::to_string(hosts) +
                        " host(s); delete them first");
    DDNS_SQL_STMT(q, c, "UPDATE hosts SET zone = ? WHERE zone = ?");
    q.bind(1, *parent).bind(2, zone);
    DDNS_SQL_TRY(q.run());
    DDNS_SQL_TRY(bump_generation(c));
  }
  {
    DDNS_SQL_STMT(q, c, "DELETE FROM ddns_zones WHERE name = ?");
    q.bind(1, zone);
    DDNS_SQL_TRY(q.run());
  }
  return t.commit();
}

Result<std::vector<std::string>> SqliteAccounts::list_zones() {
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn, "SELECT name FROM ddns_zones ORDER BY name");
  std::vector<std::string> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(q.text(0));
  }
  return out;
}

}  // namespace ddns::accounts
