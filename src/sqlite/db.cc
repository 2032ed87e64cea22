// SQLite connection, statements, transactions and schema migration.
#include "sqlite/db.h"

#include <sqlite3.h>

namespace ddns::sqlite {

Db::~Db() {
  for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
  if (db_) sqlite3_close_v2(db_);
}

Result<void> Db::open(const std::string& path, const Options& opt) {
  path_ = path;
  int flags = opt.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // the owner's mutex serializes use of the connection
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) return error("open");
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, opt.busy_timeout_ms);
  // The first statement reads the header: a file that is not a database
  // fails here.
  if (!opt.read_only && opt.wal) DDNS_SQL_TRY(exec("PRAGMA journal_mode=WAL"));
  DDNS_SQL_TRY(exec(opt.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"));
  if (opt.foreign_keys) DDNS_SQL_TRY(exec("PRAGMA foreign_keys=ON"));
  if (opt.query_only) DDNS_SQL_TRY(exec("PRAGMA query_only=ON"));
  if (!opt.read_only) {
    for (const auto& p : opt.pragmas) DDNS_SQL_TRY(exec(p.c_str()));
  }
  return {};
}

Error Db::error(std::string_view what) const {
  std::string m = path_ + ": ";
  m.append(what);
  m += ": ";
  m += db_ ? sqlite3_errmsg(db_) : "out of memory";
  return make_error(std::move(m));
}

bool Db::last_error_is_corruption() const {
  if (!db_) return false;
  int rc = sqlite3_errcode(db_);
  return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

Result<void> Db::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  std::string m = path_ + ": " + sql + ": " + (msg ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return make_error(std::move(m));
}

Result<Stmt> Db::prepare(const char* sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return Stmt(this, it->second);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
    return error(sql);
  stmts_.emplace(sql, st);
  return Stmt(this, st);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::last_rowid() const { return sqlite3_last_insert_rowid(db_); }

// ---- Stmt -------------------------------------------------------------------

Stmt::~Stmt() {
  if (!st_) return;
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

void Stmt::note(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Stmt& Stmt::bind(int i, int64_t v) {
  note(sqlite3_bind_int64(st_, i, v));
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view t) {
  note(sqlite3_bind_text(st_, i, t.data(), int(t.size()), SQLITE_TRANSIENT));
  return *this;
}

Stmt& Stmt::bind(int i, std::span<const uint8_t> b) {
  static const uint8_t kEmpty = 0;
  note(sqlite3_bind_blob(st_, i, b.empty() ? &kEmpty : b.data(), int(b.size()), SQLITE_STATIC));
  return *this;
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) return db_->error("bind");
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(sqlite3_sql(st_));
}

Result<void> Stmt::run() {
  auto r = step();
  if (!r) return r.error();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
  bind_rc_ = SQLITE_OK;
}

int64_t Stmt::i64(int c) const { return sqlite3_column_int64(st_, c); }

std::string Stmt::text(int c) const {
  const unsigned char* p = sqlite3_column_text(st_, c);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(st_, c)))
           : std::string();
}

std::span<const uint8_t> Stmt::blob(int c) const {
  const void* p = sqlite3_column_blob(st_, c);
  int n = sqlite3_column_bytes(st_, c);
  if (!p || n <= 0) return {};
  return {static_cast<const uint8_t*>(p), size_t(n)};
}

// ---- Txn --------------------------------------------------------------------

Txn::~Txn() {
  if (open_) (void)db_.exec("ROLLBACK");
}

Result<void> Txn::begin(bool write) {
  auto r = db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  if (r) open_ = true;
  return r;
}

Result<void> Txn::commit() {
  auto r = db_.exec("COMMIT");
  if (r) open_ = false;
  return r;
}

// ---- schema -----------------------------------------------------------------

Result<int> schema_version(Db& db) {
  DDNS_SQL_STMT(q, db, "SELECT version FROM schema_version");
  auto row = q.step();
  if (!row) return row.error();
  return *row ? int(q.i64(0)) : 0;
}

Result<int> migrate(Db& db, std::span<const char* const> migrations, std::string_view what) {
  const int known = int(migrations.size());
  const std::string label(what);
  if (auto v = schema_version(db); v && *v == known) return known;
  if (db.last_error_is_corruption()) return db.error("open");
  Txn t(db);
  DDNS_SQL_TRY(t.begin(true));
  DDNS_SQL_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  auto cur = schema_version(db);
  if (!cur) return cur.error();
  const int v = *cur;
  if (v > known)
    return make_error(db.path() + ": " + label + "schema version " + std::to_string(v) +
                      " is newer than this program's (" + std::to_string(known) + ")");
  if (v < 0) return make_error(db.path() + ": bad " + label + "schema version " + std::to_string(v));
  if (v == known) return known;  // another process migrated meanwhile; rollback drops the no-op
  for (int i = v; i < known; ++i) {
    auto r = db.exec(migrations[size_t(i)]);
    if (!r)
      return make_error(db.path() + ": " + label + "schema migration to version " +
                        std::to_string(i + 1) + ": " + r.error().message);
  }
  DDNS_SQL_TRY(db.exec("DELETE FROM schema_version"));
  {
    DDNS_SQL_STMT(ins, db, "INSERT INTO schema_version(version) VALUES(?)");
    ins.bind(1, int64_t(known));
    DDNS_SQL_TRY(ins.run());
  }
  DDNS_SQL_TRY(t.commit());
  return known;
}

}  // namespace ddns::sqlite
