// The one SQLite layer under store/ and accounts/: a connection with its
// prepared-statement cache and pragmas (Db), a statement in use (Stmt), a
// transaction that rolls back unless committed (Txn), and schema migration.
// Errors name the database file. No backend interface exposes these types.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ddns::sqlite {

struct Options {
  // SQLITE_OPEN_READONLY: the file must exist; no WAL switch, no `pragmas`.
  bool read_only = false;
  // Opened read-write (so WAL shared memory works) but refusing writes.
  bool query_only = false;
  bool wal = true;  // journal_mode=WAL (not for read_only)
  // FULL syncs the WAL at every commit (durable against power loss); OFF
  // only for throw-away data (tests, benchmarks).
  bool durable = true;
  bool foreign_keys = true;
  // How long a statement waits for another connection's lock (SQLite's
  // busy handler retries until then) before failing with "database is locked".
  int busy_timeout_ms = 5000;
  // Further "PRAGMA ..." statements, run in order after the above (not for
  // read_only), e.g. "PRAGMA journal_size_limit=67108864".
  std::vector<std::string> pragmas;
};

class Stmt;

// One connection. Not thread-safe: its owner serializes every use (and the
// use of its statements) with a mutex.
class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens `path` (creating it unless read_only) and applies `options`. A
  // file that is not a database fails here ("file is not a database").
  Result<void> open(const std::string& path, const Options& options = {});

  // Runs one or more statements without parameters.
  Result<void> exec(const char* sql);
  // The statement for `sql`, prepared once per connection and cached by the
  // pointer: `sql` must be a string literal (or otherwise outlive the Db).
  Result<Stmt> prepare(const char* sql);

  // "PATH: WHAT: <SQLite's message for the last error>"
  Error error(std::string_view what) const;
  // True when the last error says the file is not a database or is corrupt.
  bool last_error_is_corruption() const;
  int64_t changes() const;     // rows changed by the last INSERT/UPDATE/DELETE
  int64_t last_rowid() const;  // of the last INSERT
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

// A cached statement in use: binds by 1-based index, steps, reads columns of
// the current row, and resets itself (clearing bindings) when destroyed, so
// the statement is ready for its next user and ends its implicit read
// transaction. The first failed bind is reported by step().
class Stmt {
 public:
  Stmt(Db* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_), bind_rc_(o.bind_rc_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  // Copied: a temporary may be bound.
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, const char* text) { return bind(i, std::string_view(text)); }
  // Not copied: the bytes must stay valid until the statement is reset. An
  // empty blob binds as an empty blob, not NULL (NOT NULL columns).
  Stmt& bind(int i, std::span<const uint8_t> blob);

  // true: a row is ready; false: done.
  Result<bool> step();
  // Steps once, for statements that return no rows.
  Result<void> run();
  // Ready to bind and step again (the next row of a batch).
  void reset();

  int64_t i64(int col) const;
  uint32_t u32(int col) const { return uint32_t(i64(col)); }
  std::string text(int col) const;
  // Valid until the next step or reset.
  std::span<const uint8_t> blob(int col) const;

 private:
  void note(int rc);
  Db* db_;
  sqlite3_stmt* st_;
  int bind_rc_ = 0;
};

// A transaction that rolls back when destroyed unless commit() succeeded.
class Txn {
 public:
  explicit Txn(Db& db) : db_(db) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // A writer takes the write lock up front (BEGIN IMMEDIATE, waiting up to
  // the busy timeout), so a check made inside the transaction still holds at
  // COMMIT with other connections or processes writing. A reader (BEGIN)
  // sees one consistent snapshot until commit (WAL: it never blocks writers).
  Result<void> begin(bool write);
  Result<void> commit();

 private:
  Db& db_;
  bool open_ = false;
};

// Schema versioning: the version lives in a one-row table `schema_version`;
// migration i brings the database from version i to i+1. `what` names the
// schema in messages ("", "accounts ").
//
// The schema version of an opened database; an error when the table is
// missing or unreadable.
Result<int> schema_version(Db& db);
// Brings the schema up to migrations.size() in one write transaction and
// returns that version. Refuses a database newer than this program. An up
// to date database takes no write lock, so opening never waits behind
// another process's writer.
Result<int> migrate(Db& db, std::span<const char* const> migrations, std::string_view what = "");

}  // namespace ddns::sqlite

// Declares `Stmt& var` for `sql` on `db`, returning the error from the
// enclosing function (which returns a Result) when preparing fails.
#define DDNS_SQL_STMT(var, db, sql)                   \
  auto var##_prepared = (db).prepare(sql);            \
  if (!var##_prepared) return var##_prepared.error(); \
  ::ddns::sqlite::Stmt& var = *var##_prepared

// Returns the error of a Result-returning expression from the enclosing
// function.
#define DDNS_SQL_TRY(expr)                          \
  do {                                              \
    if (auto r_ = (expr); !r_) return r_.error();   \
  } while (0)
