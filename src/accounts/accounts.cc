// Accounts on SQLite: users (Argon2id), DDNS zones, hosts with update
// tokens, history, web sessions and API tokens, in DATA_DIR/accounts.sqlite.
#include "accounts/accounts.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <semaphore>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "accounts/accounts_schema.h"

namespace ddns::accounts {

namespace {

// OWASP's Argon2id minimum (m=19 MiB, t=2, p=1); salt and tag as RFC 9106
// §3.1 recommends (16 and 32 bytes).
constexpr uint32_t kArgonT = 2;
constexpr uint32_t kArgonM = 19456;  // KiB
constexpr uint32_t kArgonP = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kTagLen = 32;
constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;  // bounds the hashing work an attacker can ask for
constexpr size_t kSecretBytes = 32;    // tokens and session ids: 256 bits
constexpr size_t kMaxSecretText = 128; // longer "tokens" are rejected unhashed
constexpr size_t kMaxLabel = 200;
constexpr size_t kMaxCache = 65536;    // remembered passwords, all users
constexpr size_t kReaders = 4;
constexpr int kBusyTimeoutMs = 10000;

int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string to_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return r;
}

// Lowercased name when valid ([a-z0-9._@-]{1,64}), else "".
std::string user_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return {};
  std::string r = to_lower(s);
  for (char c : r) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '@' || c == '-';
    if (!ok) return {};
  }
  return r;
}

Error bad_user_name(std::string_view s) {
  return make_error("invalid user name '" + std::string(s.substr(0, 80)) +
                    "': use 1-64 characters of a-z 0-9 . _ @ -");
}

// SHA-256 over the concatenated parts into out[32]. The digest is fetched
// once and each thread keeps its context: the implicit fetch of EVP_Digest
// cost more than the hash itself on the check_token path.
bool sha256(std::initializer_list<std::string_view> parts, unsigned char* out) {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free};
  if (!md || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return false;
  for (std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return false;
  }
  unsigned int n = 0;
  return EVP_DigestFinal_ex(ctx.get(), out, &n) == 1 && n == 32;
}

// Hex SHA-256 of a secret, as stored; "" only if OpenSSL fails.
std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  if (!sha256({s}, md)) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned i = 0; i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

// The stored form of a new secret; an error rather than an empty hash.
Result<std::string> stored_hash(std::string_view secret) {
  std::string h = sha256_hex(secret);
  if (h.size() != 64) return make_error("accounts: SHA-256 unavailable");
  return h;
}

// Constant-time equality of two hex digests (never true for a failed hash).
bool equal_ct(const std::string& a, const std::string& b) {
  return a.size() == 64 && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 4648 §5 (URL- and filename-safe alphabet), no padding: safe in a
// URL query, a Basic-auth password and a ddclient/inadyn config line.
std::string base64url(const uint8_t* p, size_t n) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = uint32_t(p[i]) << 16;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
  } else if (n - i == 2) {
    uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> random_secret() {
  std::array<uint8_t, kSecretBytes> b{};
  if (RAND_bytes(b.data(), int(b.size())) != 1) return make_error("accounts: no random bytes");
  std::string s = base64url(b.data(), b.size());
  OPENSSL_cleanse(b.data(), b.size());
  return s;
}

Result<std::string> hash_password(std::string_view pw) {
  std::array<uint8_t, kSaltLen> salt{};
  if (RAND_bytes(salt.data(), int(salt.size())) != 1) return make_error("accounts: no random bytes");
  size_t len = argon2_encodedlen(kArgonT, kArgonM, kArgonP, kSaltLen, kTagLen, Argon2_id);
  std::string enc(len, '\0');
  int rc = argon2id_hash_encoded(kArgonT, kArgonM, kArgonP, pw.data(), pw.size(), salt.data(),
                                 salt.size(), kTagLen, enc.data(), len);
  if (rc != ARGON2_OK) return make_error(std::string("argon2: ") + argon2_error_message(rc));
  enc.resize(std::strlen(enc.c_str()));
  return enc;
}

Result<void> check_new_password(const std::string& pw) {
  if (pw.size() < kMinPassword) return make_error("password too short: at least 8 characters");
  if (pw.size() > kMaxPassword) return make_error("password too long: at most 1024 bytes");
  return {};
}

// ------------------------------------------------------------ SQLite ----

// One connection with its cache of prepared statements. Not thread-safe:
// the owner holds a mutex around every use.
class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
    if (db_) sqlite3_close_v2(db_);
  }

  Result<void> open(const std::string& path, bool reader) {
    path_ = path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) return error("open");
    sqlite3_extended_result_codes(db_, 1);
    // ddnsctl writes while ddnsd runs: wait for the other writer.
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    if (!reader) {
      if (auto r = exec("PRAGMA journal_mode=WAL"); !r) return r;
      // History rows land on a page of the history_host index per host:
      // under load every commit dirties about one page per row. A WAL of
      // 4000 pages (16 MiB) between checkpoints lets a checkpoint copy a
      // page once for many commits, and a 16 MiB page cache keeps those
      // pages in memory instead of re-reading them.
      if (auto r = exec("PRAGMA journal_size_limit=33554432"); !r) return r;
      if (auto r = exec("PRAGMA wal_autocheckpoint=4000"); !r) return r;
      if (auto r = exec("PRAGMA cache_size=-16384"); !r) return r;
    }
    if (auto r = exec("PRAGMA synchronous=FULL"); !r) return r;
    if (auto r = exec("PRAGMA foreign_keys=ON"); !r) return r;
    if (reader) {
      if (auto r = exec("PRAGMA query_only=ON"); !r) return r;
    }
    return {};
  }

  Error error(std::string_view what) const {
    std::string m = path_ + ": ";
    m.append(what);
    m += ": ";
    m += db_ ? sqlite3_errmsg(db_) : "out of memory";
    return make_error(std::move(m));
  }

  Result<void> exec(const char* sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
    if (rc == SQLITE_OK) return {};
    std::string m = path_ + ": " + sql + ": " + (msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return make_error(std::move(m));
  }

  Result<sqlite3_stmt*> prepare(const char* sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      return error(sql);
    stmts_.emplace(sql, st);
    return st;
  }

  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_rowid() const { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

// A prepared statement in use; resets itself (and its bindings) when it
// goes out of scope, which also ends its implicit read transaction.
class Stmt {
 public:
  Stmt(Conn& c, sqlite3_stmt* st) : c_(c), st_(st) {}
  ~Stmt() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) {
    note(sqlite3_bind_int64(st_, i, v));
    return *this;
  }
  Stmt& bind(int i, std::string_view t) {
    note(sqlite3_bind_text(st_, i, t.data(), int(t.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Result<bool> step() {
    if (bind_rc_ != SQLITE_OK) return c_.error("bind");
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return c_.error(sqlite3_sql(st_));
  }
  Result<void> run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  // Ready to bind and step again (same statement, next row of a batch).
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
    bind_rc_ = SQLITE_OK;
  }
  int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  std::string text(int c) const {
    const unsigned char* p = sqlite3_column_text(st_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(st_, c)))
             : std::string();
  }

 private:
  void note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  Conn& c_;
  sqlite3_stmt* st_;
  int bind_rc_ = SQLITE_OK;
};

// A write transaction that rolls back unless commit() succeeded. IMMEDIATE
// takes the write lock up front, so checks made inside still hold at
// COMMIT with another process (ddnsctl, a second ddnsd) writing.
class Txn {
 public:
  explicit Txn(Conn& c) : c_(c) {}
  ~Txn() {
    if (open_) (void)c_.exec("ROLLBACK");
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Result<void> begin() {
    auto r = c_.exec("BEGIN IMMEDIATE");
    if (r) open_ = true;
    return r;
  }
  Result<void> commit() {
    auto r = c_.exec("COMMIT");
    if (r) open_ = false;
    return r;
  }

 private:
  Conn& c_;
  bool open_ = false;
};

#define ACC_STMT(var, conn, sql)          \
  auto var##_p = (conn).prepare(sql);     \
  if (!var##_p) return var##_p.error();   \
  Stmt var((conn), *var##_p)

#define ACC_TRY(expr)                                 \
  do {                                                \
    if (auto r_ = (expr); !r_) return r_.error();     \
  } while (0)

Result<void> migrate(Conn& c, const std::string& path) {
  const int known = int(schema::kMigrations.size());
  {
    // Up to date (the usual case): no write lock, so opening never waits
    // behind the other process's writer.
    auto q = c.prepare("SELECT version FROM schema_version");
    if (q) {
      Stmt s(c, *q);
      auto row = s.step();
      if (row && *row && s.i64(0) == known) return {};
    }
  }
  Txn t(c);
  ACC_TRY(t.begin());
  ACC_TRY(c.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  int v = 0;
  {
    ACC_STMT(q, c, "SELECT version FROM schema_version");
    auto row = q.step();
    if (!row) return row.error();
    if (*row) v = int(q.i64(0));
  }
  if (v > known)
    return make_error(path + ": accounts schema version " + std::to_string(v) +
                      " is newer than this program's (" + std::to_string(known) + ")");
  if (v == known) return {};  // the rollback only drops the no-op
  if (v < 0) return make_error(path + ": bad accounts schema version " + std::to_string(v));
  for (int i = v; i < known; ++i) {
    auto r = c.exec(schema::kMigrations[size_t(i)]);
    if (!r)
      return make_error(path + ": accounts schema migration to version " + std::to_string(i + 1) +
                        ": " + r.error().message);
  }
  ACC_TRY(c.exec("DELETE FROM schema_version"));
  {
    ACC_STMT(ins, c, "INSERT INTO schema_version(version) VALUES(?)");
    ins.bind(1, int64_t(known));
    ACC_TRY(ins.run());
  }
  return t.commit();
}

User user_from(const Stmt& q, int at = 0) {
  User u;
  u.id = q.i64(at);
  u.name = q.text(at + 1);
  u.admin = q.i64(at + 2) != 0;
  u.created = q.i64(at + 3);
  return u;
}

#define HOST_SELECT                                                                          \
  "SELECT h.id, h.name, h.zone, h.owner, u.name, h.created, h.updated, h.last_ipv4, "        \
  "h.last_ipv6 FROM hosts h JOIN users u ON u.id = h.owner "

Host host_from(const Stmt& q) {
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

// The deepest DDNS zone that is a proper suffix of `name` ("" = none).
Result<std::string> deepest_zone(Conn& c, std::string_view name) {
  ACC_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
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

// Inside a write transaction: moves the database generation on, so every
// process's host cache (Impl::hosts) drops what it holds. Every change of a
// host's token or zone, or removal of a host, must call it in its
// transaction.
Result<void> bump_generation(Conn& c) {
  int64_t gen = 0;
  {
    ACC_STMT(q, c, "PRAGMA user_version");
    auto row = q.step();
    if (!row) return row.error();
    gen = q.i64(0);
  }
  // PRAGMA takes no parameters; the value is a number we formatted.
  std::string sql = "PRAGMA user_version = " + std::to_string((gen + 1) & 0x7fffffff);
  return c.exec(sql.c_str());
}

}  // namespace

// ------------------------------------------------------------ Impl ----

struct Accounts::Impl {
  std::string path;
  Limits limits;
  std::function<int64_t()> now = system_now;

  // Writes go through one connection; reads through a few others, which in
  // WAL mode never wait for the writer's fsync (check_token stays fast
  // while record() commits).
  std::mutex wmu;
  Conn writer;
  struct Reader {
    std::mutex mu;
    Conn conn;
  };
  std::array<Reader, kReaders> readers;

  // Verified passwords. Key: name '\0' SHA-256(secret name '\0' pw); the
  // per-process random secret keeps a memory dump from being a cheap
  // password oracle. Value: the stored hash that matched, so a password
  // changed by another process (ddnsctl) stops matching at once.
  struct Cached {
    std::string pwhash;
    int64_t expires = 0;
  };
  std::mutex cmu;
  std::unordered_map<std::string, Cached> cache;
  std::array<uint8_t, 32> cache_secret{};

  // Argon2id takes 19 MiB and ~20 ms per call: bound how many run at once.
  std::counting_semaphore<256> argon_slots{
      std::ptrdiff_t(std::clamp(std::thread::hardware_concurrency(), 2u, 256u))};
  std::once_flag dummy_once;
  std::string dummy_hash;  // verified against for unknown users (same timing)

  // Host tokens and zones, so an update's credentials cost no table read.
  // Valid while the database generation (PRAGMA user_version, bumped by
  // every transaction that changes a host's token or zone or removes a
  // host: see bump_generation) is unchanged. The generation is read again
  // only when PRAGMA data_version says another connection (this process's
  // writer, ddnsctl) committed, so a rotation or deletion by any process
  // takes effect for the next check. Entries are never older than the
  // generation they are filed under; missing hosts are not cached.
  struct HostAuth {
    std::string token_sha256;
    std::string zone;
  };
  std::mutex hmu;  // guards watch, hosts, host_gen, host_dv
  Conn watch;
  int64_t host_gen = -1;  // -1: not read yet
  int64_t host_dv = 0;
  std::unordered_map<std::string, HostAuth> hosts;
  std::atomic<uint64_t> host_hits{0}, host_misses{0};

  uint64_t recorded = 0;  // history rows appended, paces pruning (under wmu)
  std::atomic<uint64_t> argon2_verifies{0};
  std::atomic<uint64_t> cache_hits{0};

  struct ReadLease {
    std::unique_lock<std::mutex> lock;
    Conn* conn;
  };
  ReadLease read() {
    for (auto& r : readers) {
      std::unique_lock l(r.mu, std::try_to_lock);
      if (l.owns_lock()) return {std::move(l), &r.conn};
    }
    size_t i = std::hash<std::thread::id>{}(std::this_thread::get_id()) % kReaders;
    return {std::unique_lock(readers[i].mu), &readers[i].conn};
  }

  // Under hmu: drops the host cache when the generation moved.
  Result<void> sync_hosts() {
    int64_t dv = 0;
    {
      ACC_STMT(q, watch, "PRAGMA data_version");
      auto row = q.step();
      if (!row) return row.error();
      dv = q.i64(0);
    }
    if (host_gen >= 0 && dv == host_dv) return {};
    int64_t gen = 0;
    {
      ACC_STMT(q, watch, "PRAGMA user_version");
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

  // Under hmu, after sync_hosts(): the cached entry of `name` (a normalized
  // host name), read from the database on a miss when `fill`; null when
  // there is no such host, or not cached and !fill.
  Result<const HostAuth*> host_auth(const std::string& name, bool fill) {
    if (auto it = hosts.find(name); it != hosts.end()) {
      host_hits.fetch_add(1, std::memory_order_relaxed);
      return &it->second;
    }
    if (!fill) return static_cast<const HostAuth*>(nullptr);
    host_misses.fetch_add(1, std::memory_order_relaxed);
    ACC_STMT(q, watch, "SELECT token_sha256, zone FROM hosts WHERE name = ?");
    q.bind(1, name);
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return static_cast<const HostAuth*>(nullptr);
    if (hosts.size() >= kMaxCache) hosts.clear();
    auto [it, _] = hosts.insert_or_assign(name, HostAuth{q.text(0), q.text(1)});
    return &it->second;
  }

  // "" when hashing fails (then nothing is cached).
  std::string cache_key(const std::string& name, const std::string& pw) {
    unsigned char md[32];
    std::string_view secret(reinterpret_cast<const char*>(cache_secret.data()), cache_secret.size());
    if (!sha256({secret, name, std::string_view("\0", 1), pw}, md)) return {};
    std::string key = name;
    key += '\0';
    key.append(reinterpret_cast<const char*>(md), sizeof md);
    return key;
  }

  void forget_user(const std::string& name) {
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

  Result<std::string> argon_hash(std::string_view pw) {
    argon_slots.acquire();
    auto r = hash_password(pw);
    argon_slots.release();
    return r;
  }
  // ARGON2_OK, ARGON2_VERIFY_MISMATCH or another error code.
  int argon_verify(const std::string& encoded, const std::string& pw) {
    argon2_verifies.fetch_add(1, std::memory_order_relaxed);
    argon_slots.acquire();
    int rc = argon2id_verify(encoded.c_str(), pw.data(), pw.size());
    argon_slots.release();
    return rc;
  }
};

Accounts::Accounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Accounts::~Accounts() = default;

std::string Accounts::default_path(const std::string& data_dir) {
  if (data_dir.empty()) return "accounts.sqlite";
  return data_dir.back() == '/' ? data_dir + "accounts.sqlite" : data_dir + "/accounts.sqlite";
}

Result<std::unique_ptr<Accounts>> Accounts::open(const std::string& path, Limits limits) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->limits = limits;
  if (RAND_bytes(impl->cache_secret.data(), int(impl->cache_secret.size())) != 1)
    return make_error("accounts: no random bytes");
  ACC_TRY(impl->writer.open(path, /*reader=*/false));
  ACC_TRY(migrate(impl->writer, path));
  for (auto& r : impl->readers) ACC_TRY(r.conn.open(path, /*reader=*/true));
  ACC_TRY(impl->watch.open(path, /*reader=*/true));
  return std::unique_ptr<Accounts>(new Accounts(std::move(impl)));
}

void Accounts::set_clock(std::function<int64_t()> now) {
  impl_->now = now ? std::move(now) : std::function<int64_t()>(system_now);
}

Accounts::Stats Accounts::stats() const {
  Stats s;
  s.argon2_verifies = impl_->argon2_verifies.load(std::memory_order_relaxed);
  s.password_cache_hits = impl_->cache_hits.load(std::memory_order_relaxed);
  s.host_cache_hits = impl_->host_hits.load(std::memory_order_relaxed);
  s.host_cache_misses = impl_->host_misses.load(std::memory_order_relaxed);
  return s;
}

// ------------------------------------------------------------ users ----

Result<User> Accounts::add_user(const std::string& name_in, const std::string& password,
                                bool admin) {
  std::string name = user_name(name_in);
  if (name.empty()) return bad_user_name(name_in);
  ACC_TRY(check_new_password(password));
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
  Conn& c = impl_->writer;
  ACC_STMT(q, c,
           "INSERT INTO users(name, pwhash, admin, created) VALUES(?, ?, ?, ?) "
           "ON CONFLICT(name) DO NOTHING");
  q.bind(1, name).bind(2, *hash).bind(3, int64_t(admin)).bind(4, u.created);
  ACC_TRY(q.run());
  if (c.changes() == 0) return make_error("user '" + name + "' already exists");
  u.id = c.last_rowid();
  return u;
}

Result<void> Accounts::delete_user(const std::string& name_in) {
  std::string name = user_name(name_in);
  if (name.empty()) return make_error("no such user '" + name_in.substr(0, 80) + "'");
  {
    std::lock_guard l(impl_->wmu);
    Conn& c = impl_->writer;
    Txn t(c);
    ACC_TRY(t.begin());
    int64_t id = 0;
    {
      ACC_STMT(q, c, "SELECT id FROM users WHERE name = ?");
      q.bind(1, name);
      auto row = q.step();
      if (!row) return row.error();
      if (!*row) return make_error("no such user '" + name + "'");
      id = q.i64(0);
    }
    {
      ACC_STMT(q, c,
               "INSERT INTO dns_removals(host, zone, queued) "
               "SELECT name, zone, ? FROM hosts WHERE owner = ? ORDER BY name");
      q.bind(1, impl_->now()).bind(2, id);
      ACC_TRY(q.run());
    }
    {
      ACC_STMT(q, c, "DELETE FROM history WHERE host IN (SELECT name FROM hosts WHERE owner = ?)");
      q.bind(1, id);
      ACC_TRY(q.run());
    }
    {
      // Hosts, sessions and API tokens go by ON DELETE CASCADE.
      ACC_STMT(q, c, "DELETE FROM users WHERE id = ?");
      q.bind(1, id);
      ACC_TRY(q.run());
    }
    ACC_TRY(bump_generation(c));
    ACC_TRY(t.commit());
  }
  impl_->forget_user(name);
  return {};
}

Result<void> Accounts::set_password(const std::string& name_in, const std::string& password) {
  std::string name = user_name(name_in);
  if (name.empty()) return make_error("no such user '" + name_in.substr(0, 80) + "'");
  ACC_TRY(check_new_password(password));
  auto hash = impl_->argon_hash(password);
  if (!hash) return hash.error();
  {
    std::lock_guard l(impl_->wmu);
    Conn& c = impl_->writer;
    ACC_STMT(q, c, "UPDATE users SET pwhash = ? WHERE name = ?");
    q.bind(1, *hash).bind(2, name);
    ACC_TRY(q.run());
    if (c.changes() == 0) return make_error("no such user '" + name + "'");
  }
  impl_->forget_user(name);
  return {};
}

Result<std::optional<User>> Accounts::get_user(const std::string& name_in) {
  std::string name = user_name(name_in);
  if (name.empty()) return std::optional<User>();
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn, "SELECT id, name, admin, created FROM users WHERE name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<std::vector<User>> Accounts::list_users() {
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn, "SELECT id, name, admin, created FROM users ORDER BY name");
  std::vector<User> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(user_from(q));
  }
  return out;
}

Result<std::optional<User>> Accounts::check_password(const std::string& name_in,
                                                     const std::string& password) {
  Impl& im = *impl_;
  std::string name = user_name(name_in);
  if (name.empty() || password.size() > kMaxPassword) return std::optional<User>();
  std::optional<User> user;
  std::string pwhash;
  {
    auto lease = im.read();
    ACC_STMT(q, *lease.conn, "SELECT id, name, admin, created, pwhash FROM users WHERE name = ?");
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
  int rc = im.argon_verify(pwhash, password);  // no lock held
  if (rc == ARGON2_VERIFY_MISMATCH) return std::optional<User>();
  if (rc != ARGON2_OK)
    return make_error("password hash of user '" + name + "' is unusable: " +
                      argon2_error_message(rc));
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

Result<void> Accounts::add_zone(const std::string& zone_in) {
  std::string zone = normalize_host(zone_in);
  if (zone.empty()) return make_error("invalid zone name '" + zone_in.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  Txn t(c);
  ACC_TRY(t.begin());
  {
    ACC_STMT(q, c, "INSERT INTO ddns_zones(name, created) VALUES(?, ?) ON CONFLICT DO NOTHING");
    q.bind(1, zone).bind(2, impl_->now());
    ACC_TRY(q.run());
    if (c.changes() == 0) return {};  // already open: nothing to do
  }
  {
    // Hosts strictly below the new zone whose zone is an ancestor of it
    // (a shorter suffix) now belong to the deeper zone.
    ACC_STMT(q, c,
             "UPDATE hosts SET zone = ?1 WHERE length(name) > length(?1) + 1 "
             "AND substr(name, -length(?1) - 1) = '.' || ?1 AND length(zone) < length(?1)");
    q.bind(1, zone);
    ACC_TRY(q.run());
    if (c.changes() > 0) ACC_TRY(bump_generation(c));
  }
  return t.commit();
}

Result<void> Accounts::delete_zone(const std::string& zone_in) {
  std::string zone = normalize_host(zone_in);
  if (zone.empty()) return make_error("invalid zone name '" + zone_in.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  Txn t(c);
  ACC_TRY(t.begin());
  {
    ACC_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
    q.bind(1, zone);
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return make_error("zone " + zone + " is not open for DDNS");
  }
  int64_t hosts = 0;
  {
    ACC_STMT(q, c, "SELECT count(*) FROM hosts WHERE zone = ?");
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
    ACC_STMT(q, c, "UPDATE hosts SET zone = ? WHERE zone = ?");
    q.bind(1, *parent).bind(2, zone);
    ACC_TRY(q.run());
    ACC_TRY(bump_generation(c));
  }
  {
    ACC_STMT(q, c, "DELETE FROM ddns_zones WHERE name = ?");
    q.bind(1, zone);
    ACC_TRY(q.run());
  }
  return t.commit();
}

Result<std::vector<std::string>> Accounts::list_zones() {
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn, "SELECT name FROM ddns_zones ORDER BY name");
  std::vector<std::string> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(q.text(0));
  }
  return out;
}

// ------------------------------------------------------------ hosts ----

Result<Accounts::NewHost> Accounts::add_host(const std::string& fqdn, const std::string& owner_in) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::string owner = user_name(owner_in);
  if (owner.empty()) return make_error("no such user '" + owner_in.substr(0, 80) + "'");
  auto token = random_secret();
  if (!token) return token.error();
  auto token_hash = stored_hash(*token);
  if (!token_hash) return token_hash.error();

  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  Txn t(c);
  ACC_TRY(t.begin());
  NewHost nh;
  Host& h = nh.host;
  {
    ACC_STMT(q, c, "SELECT id FROM users WHERE name = ?");
    q.bind(1, owner);
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return make_error("no such user '" + owner + "'");
    h.owner = q.i64(0);
  }
  {
    ACC_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
    q.bind(1, name);
    auto row = q.step();
    if (!row) return row.error();
    if (*row)
      return make_error(name + " is the apex of a DDNS zone; a host must lie below it");
  }
  auto zone = deepest_zone(c, name);
  if (!zone) return zone.error();
  if (zone->empty()) return make_error(name + " is not inside a zone open for DDNS");
  h.name = name;
  h.zone = *zone;
  h.owner_name = owner;
  h.created = impl_->now();
  {
    ACC_STMT(q, c,
             "INSERT INTO hosts(name, zone, owner, token_sha256, created) VALUES(?, ?, ?, ?, ?) "
             "ON CONFLICT(name) DO NOTHING");
    q.bind(1, name).bind(2, h.zone).bind(3, h.owner).bind(4, *token_hash).bind(5, h.created);
    ACC_TRY(q.run());
    if (c.changes() == 0) return make_error("host " + name + " already exists");
    h.id = c.last_rowid();
  }
  ACC_TRY(t.commit());
  nh.token = std::move(*token);
  return nh;
}

Result<void> Accounts::delete_host(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  Txn t(c);
  ACC_TRY(t.begin());
  {
    ACC_STMT(q, c,
             "INSERT INTO dns_removals(host, zone, queued) SELECT name, zone, ? FROM hosts "
             "WHERE name = ?");
    q.bind(1, impl_->now()).bind(2, name);
    ACC_TRY(q.run());
    if (c.changes() == 0) return make_error("no such host " + name);
  }
  {
    ACC_STMT(q, c, "DELETE FROM hosts WHERE name = ?");
    q.bind(1, name);
    ACC_TRY(q.run());
  }
  {
    ACC_STMT(q, c, "DELETE FROM history WHERE host = ?");
    q.bind(1, name);
    ACC_TRY(q.run());
  }
  ACC_TRY(bump_generation(c));
  return t.commit();
}

Result<std::optional<Host>> Accounts::get_host(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return std::optional<Host>();
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn, HOST_SELECT "WHERE h.name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<Host>();
  return std::optional<Host>(host_from(q));
}

Result<std::vector<Host>> Accounts::list_hosts(const std::string& owner_in) {
  auto lease = impl_->read();
  Conn& c = *lease.conn;
  std::vector<Host> out;
  auto collect = [&](Stmt& q) -> Result<void> {
    for (;;) {
      auto row = q.step();
      if (!row) return row.error();
      if (!*row) return {};
      out.push_back(host_from(q));
    }
  };
  if (owner_in.empty()) {
    ACC_STMT(q, c, HOST_SELECT "ORDER BY h.name");
    ACC_TRY(collect(q));
    return out;
  }
  std::string owner = user_name(owner_in);
  int64_t id = 0;
  {
    ACC_STMT(q, c, "SELECT id FROM users WHERE name = ?");
    q.bind(1, owner);
    auto row = q.step();
    if (!row) return row.error();
    if (owner.empty() || !*row) return make_error("no such user '" + owner_in.substr(0, 80) + "'");
    id = q.i64(0);
  }
  ACC_STMT(q, c, HOST_SELECT "WHERE h.owner = ? ORDER BY h.name");
  q.bind(1, id);
  ACC_TRY(collect(q));
  return out;
}

Result<std::string> Accounts::rotate_token(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  auto token = random_secret();
  if (!token) return token.error();
  auto token_hash = stored_hash(*token);
  if (!token_hash) return token_hash.error();
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  Txn t(c);
  ACC_TRY(t.begin());
  {
    ACC_STMT(q, c, "UPDATE hosts SET token_sha256 = ? WHERE name = ?");
    q.bind(1, *token_hash).bind(2, name);
    ACC_TRY(q.run());
    if (c.changes() == 0) return make_error("no such host " + name);
  }
  ACC_TRY(bump_generation(c));
  ACC_TRY(t.commit());
  return std::move(*token);
}

Result<bool> Accounts::check_token(const std::string& fqdn, const std::string& token) {
  if (token.empty() || token.size() > kMaxSecretText) return false;
  std::string name = normalize_host(fqdn);
  if (name.empty()) return false;
  const std::string given = sha256_hex(token);
  Impl& im = *impl_;
  std::lock_guard l(im.hmu);
  ACC_TRY(im.sync_hosts());
  auto h = im.host_auth(name, /*fill=*/true);
  if (!h) return h.error();
  return *h && equal_ct(given, (*h)->token_sha256);
}

std::optional<bool> Accounts::check_token_cached(const std::string& fqdn,
                                                 const std::string& token) {
  if (token.empty() || token.size() > kMaxSecretText) return false;
  std::string name = normalize_host(fqdn);
  if (name.empty()) return false;
  const std::string given = sha256_hex(token);
  Impl& im = *impl_;
  std::lock_guard l(im.hmu);
  if (!im.sync_hosts()) return std::nullopt;
  auto h = im.host_auth(name, /*fill=*/false);
  if (!h || !*h) return std::nullopt;
  return equal_ct(given, (*h)->token_sha256);
}

Result<std::optional<std::string>> Accounts::host_zone(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return std::optional<std::string>();
  Impl& im = *impl_;
  std::lock_guard l(im.hmu);
  ACC_TRY(im.sync_hosts());
  auto h = im.host_auth(name, /*fill=*/true);
  if (!h) return h.error();
  if (!*h) return std::optional<std::string>();
  return std::optional<std::string>((*h)->zone);
}

Result<void> Accounts::set_addresses(const std::string& fqdn, const std::string& ipv4,
                                     const std::string& ipv6, int64_t when) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  ACC_STMT(q, c, "UPDATE hosts SET last_ipv4 = ?, last_ipv6 = ?, updated = ? WHERE name = ?");
  q.bind(1, ipv4).bind(2, ipv6).bind(3, when).bind(4, name);
  ACC_TRY(q.run());
  if (c.changes() == 0) return make_error("no such host " + name);
  return {};
}

// ------------------------------------------------------- DNS removals ----

Result<std::vector<Removal>> Accounts::pending_removals() {
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn, "SELECT id, host, zone, queued FROM dns_removals ORDER BY id");
  std::vector<Removal> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(Removal{q.i64(0), q.text(1), q.text(2), q.i64(3)});
  }
  return out;
}

Result<void> Accounts::finish_removal(int64_t id) {
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  ACC_STMT(q, c, "DELETE FROM dns_removals WHERE id = ?");
  q.bind(1, id);
  return q.run();
}

// ------------------------------------------------------------ history ----

Result<void> Accounts::record(std::span<const HistoryEntry> entries) {
  if (entries.empty()) return {};
  Impl& im = *impl_;
  std::lock_guard l(im.wmu);
  Conn& c = im.writer;
  Txn t(c);
  ACC_TRY(t.begin());
  ACC_STMT(ins, c,
           "INSERT INTO history(host, time, type, old_value, new_value, source, via) "
           "VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (const auto& e : entries) {
    ins.bind(1, e.host).bind(2, e.time).bind(3, e.type).bind(4, e.old_value);
    ins.bind(5, e.new_value).bind(6, e.source).bind(7, e.via);
    ACC_TRY(ins.run());
    ins.reset();

    const char* set = nullptr;
    if (e.type == "A") {
      set = "UPDATE hosts SET last_ipv4 = ?, updated = max(updated, ?) WHERE name = ?";
    } else if (e.type == "AAAA") {
      set = "UPDATE hosts SET last_ipv6 = ?, updated = max(updated, ?) WHERE name = ?";
    }
    if (set) {
      ACC_STMT(up, c, set);
      up.bind(1, e.new_value).bind(2, e.time).bind(3, e.host);
      ACC_TRY(up.run());
    }

    // Keep about history_per_host rows per host: prune the host of every
    // 16th row, which amortizes the ordered index walk to ~nothing per row.
    if (im.limits.history_per_host > 0 && (++im.recorded % 16) == 0) {
      ACC_STMT(pr, c,
               "DELETE FROM history WHERE host = ?1 AND id <= (SELECT id FROM history "
               "WHERE host = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
      pr.bind(1, e.host).bind(2, int64_t(im.limits.history_per_host));
      ACC_TRY(pr.run());
    }
  }
  return t.commit();
}

Result<std::vector<HistoryEntry>> Accounts::history(const std::string& fqdn, size_t limit) {
  std::vector<HistoryEntry> out;
  std::string name = normalize_host(fqdn);
  if (name.empty() || limit == 0) return out;
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn,
           "SELECT time, host, type, old_value, new_value, source, via FROM history "
           "WHERE host = ? ORDER BY id DESC LIMIT ?");
  q.bind(1, name).bind(2, int64_t(std::min<size_t>(limit, 1000000)));
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    HistoryEntry e;
    e.time = q.i64(0);
    e.host = q.text(1);
    e.type = q.text(2);
    e.old_value = q.text(3);
    e.new_value = q.text(4);
    e.source = q.text(5);
    e.via = q.text(6);
    out.push_back(std::move(e));
  }
  return out;
}

// ------------------------------------------------------------ sessions ----

Result<std::string> Accounts::create_session(int64_t user_id, int64_t ttl_s) {
  if (ttl_s <= 0) return make_error("session lifetime must be positive");
  auto sid = random_secret();
  if (!sid) return sid.error();
  auto sid_hash = stored_hash(*sid);
  if (!sid_hash) return sid_hash.error();
  const int64_t now = impl_->now();
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  {
    ACC_STMT(q, c, "DELETE FROM sessions WHERE expires <= ?");
    q.bind(1, now);
    ACC_TRY(q.run());
  }
  ACC_STMT(q, c,
           "INSERT INTO sessions(id_sha256, user_id, created, expires) "
           "SELECT ?, id, ?, ? FROM users WHERE id = ?");
  q.bind(1, *sid_hash).bind(2, now).bind(3, now + ttl_s).bind(4, user_id);
  ACC_TRY(q.run());
  if (c.changes() == 0) return make_error("no such user id " + std::to_string(user_id));
  return std::move(*sid);
}

Result<std::optional<User>> Accounts::check_session(const std::string& session) {
  if (session.empty() || session.size() > kMaxSecretText) return std::optional<User>();
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn,
           "SELECT u.id, u.name, u.admin, u.created FROM sessions s JOIN users u "
           "ON u.id = s.user_id WHERE s.id_sha256 = ? AND s.expires > ?");
  q.bind(1, sha256_hex(session)).bind(2, impl_->now());
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<void> Accounts::delete_session(const std::string& session) {
  if (session.empty() || session.size() > kMaxSecretText) return {};
  std::lock_guard l(impl_->wmu);
  ACC_STMT(q, impl_->writer, "DELETE FROM sessions WHERE id_sha256 = ?");
  q.bind(1, sha256_hex(session));
  return q.run();
}

Result<size_t> Accounts::end_sessions(int64_t user_id, const std::string& keep) {
  std::string keep_hash = keep.empty() ? std::string() : sha256_hex(keep);
  const int64_t now = impl_->now();
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  // Expired rows are left to create_session's sweep so the count is of
  // sessions that could still sign someone in.
  ACC_STMT(q, c, "DELETE FROM sessions WHERE user_id = ? AND id_sha256 != ? AND expires > ?");
  q.bind(1, user_id).bind(2, keep_hash).bind(3, now);
  ACC_TRY(q.run());
  return size_t(c.changes());
}

// ------------------------------------------------------------ API tokens ----

Result<std::string> Accounts::create_api_token(int64_t user_id, const std::string& label) {
  if (label.size() > kMaxLabel) return make_error("token label too long: at most 200 bytes");
  auto token = random_secret();
  if (!token) return token.error();
  auto token_hash = stored_hash(*token);
  if (!token_hash) return token_hash.error();
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  ACC_STMT(q, c,
           "INSERT INTO api_tokens(token_sha256, user_id, label, created) "
           "SELECT ?, id, ?, ? FROM users WHERE id = ?");
  q.bind(1, *token_hash).bind(2, label).bind(3, impl_->now()).bind(4, user_id);
  ACC_TRY(q.run());
  if (c.changes() == 0) return make_error("no such user id " + std::to_string(user_id));
  return std::move(*token);
}

Result<std::optional<User>> Accounts::check_api_token(const std::string& token) {
  if (token.empty() || token.size() > kMaxSecretText) return std::optional<User>();
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn,
           "SELECT u.id, u.name, u.admin, u.created FROM api_tokens t JOIN users u "
           "ON u.id = t.user_id WHERE t.token_sha256 = ?");
  q.bind(1, sha256_hex(token));
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<std::vector<ApiToken>> Accounts::list_api_tokens(int64_t user_id) {
  auto lease = impl_->read();
  ACC_STMT(q, *lease.conn,
           "SELECT id, label, created FROM api_tokens WHERE user_id = ? ORDER BY id");
  q.bind(1, user_id);
  std::vector<ApiToken> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(ApiToken{q.i64(0), q.text(1), q.i64(2)});
  }
  return out;
}

Result<void> Accounts::delete_api_token(int64_t user_id, int64_t token_id) {
  std::lock_guard l(impl_->wmu);
  Conn& c = impl_->writer;
  ACC_STMT(q, c, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?");
  q.bind(1, token_id).bind(2, user_id);
  ACC_TRY(q.run());
  if (c.changes() == 0) return make_error("no such API token");
  return {};
}

// ------------------------------------------------------------ names ----

std::string normalize_host(std::string_view fqdn) {
  if (!fqdn.empty() && fqdn.back() == '.') fqdn.remove_suffix(1);
  // 255 octets on the wire (RFC 1035 §2.3.4) = 253 characters of text.
  if (fqdn.empty() || fqdn.size() > 253) return {};
  std::string out = to_lower(fqdn);
  size_t label_start = 0;
  for (size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '.') {
      size_t len = i - label_start;
      if (len == 0 || len > 63) return {};
      // RFC 1123 §2.1: letters, digits, hyphen; not starting or ending with
      // a hyphen ('_' is accepted for _acme-challenge and similar labels).
      if (out[label_start] == '-' || out[i - 1] == '-') return {};
      label_start = i + 1;
      continue;
    }
    char ch = out[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) return {};
  }
  return out;
}

}  // namespace ddns::accounts
