// SqliteStore: zones, journal and keys in one SQLite file (WAL mode).
#include "store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "zone/serial.h"
#include "store/sqlite_schema.h"

namespace ddns::store {

// A prepared statement in use: binds by 1-based index, steps, and resets
// itself (clearing bindings) when it goes out of scope so the cached
// statement is ready for the next caller.
class SqliteStore::Stmt {
 public:
  Stmt(SqliteStore* s, sqlite3_stmt* st) : s_(s), st_(st) {}
  ~Stmt() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) { note(sqlite3_bind_int64(st_, i, v)); return *this; }
  Stmt& bind(int i, std::span<const uint8_t> b) {
    // A zero-length blob must not be bound as NULL (NOT NULL columns).
    static const uint8_t kEmpty = 0;
    note(sqlite3_bind_blob(st_, i, b.empty() ? &kEmpty : b.data(), int(b.size()), SQLITE_STATIC));
    return *this;
  }
  Stmt& bind(int i, const std::string& t) {
    note(sqlite3_bind_text(st_, i, t.data(), int(t.size()), SQLITE_STATIC));
    return *this;
  }
  // true: a row is ready; false: done.
  Result<bool> step() {
    if (bind_rc_ != SQLITE_OK) return s_->error("bind");
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return s_->error(sqlite3_sql(st_));
  }
  Result<void> run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  uint32_t u32(int c) const { return uint32_t(sqlite3_column_int64(st_, c)); }
  std::span<const uint8_t> blob(int c) const {
    const void* p = sqlite3_column_blob(st_, c);
    int n = sqlite3_column_bytes(st_, c);
    if (!p || n <= 0) return {};
    return {static_cast<const uint8_t*>(p), size_t(n)};
  }
  std::string text(int c) const {
    const unsigned char* p = sqlite3_column_text(st_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(st_, c)))
             : std::string();
  }

 private:
  void note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  SqliteStore* s_;
  sqlite3_stmt* st_;
  int bind_rc_ = SQLITE_OK;
};

// A transaction that rolls back unless commit() succeeded.
class SqliteStore::Txn {
 public:
  explicit Txn(SqliteStore* s) : s_(s) {}
  ~Txn() {
    if (open_) sqlite3_exec(s_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  // Writers take the write lock up front, so a check made inside the
  // transaction still holds at COMMIT even with other processes writing.
  Result<void> begin(bool write) {
    auto r = s_->exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
    if (r) open_ = true;
    return r;
  }
  Result<void> commit() {
    auto r = s_->exec("COMMIT");
    if (r) open_ = false;
    return r;
  }

 private:
  SqliteStore* s_;
  bool open_ = false;
};

namespace {

std::span<const uint8_t> key_of(const wire::Name& n, wire::Name& keep) {
  keep = n.lowercased();
  return keep.wire();
}

Result<wire::Name> name_from_blob(std::span<const uint8_t> b, const char* what) {
  auto n = wire::Name::from_wire(b);
  if (!n) return make_error(std::string(what) + ": bad stored name: " + n.error().message);
  return n;
}

// The snapshot must carry its apex SOA, at the serial it is stored under:
// otherwise load_zone() would hand the server a zone it cannot build.
Result<void> check_snapshot(const wire::Name& origin, uint32_t serial,
                            std::span<const wire::RR> records) {
  size_t soas = 0;
  for (const auto& rr : records) {
    if (rr.type != uint16_t(wire::RRType::SOA) || !(rr.owner == origin)) continue;
    ++soas;
    // RFC 1035 §3.3.13: MNAME, RNAME, then SERIAL and four more u32s.
    if (rr.rdata.size() < 22) return make_error(origin.to_text() + ": malformed SOA");
    const uint8_t* p = rr.rdata.data() + rr.rdata.size() - 20;
    uint32_t s = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    if (s != serial)
      return make_error(origin.to_text() + ": snapshot stored as serial " + std::to_string(serial) +
                        " but its SOA has serial " + std::to_string(s));
  }
  if (soas != 1)
    return make_error(origin.to_text() + ": snapshot needs exactly one SOA at the apex, has " +
                      std::to_string(soas));
  return {};
}

}  // namespace

std::string SqliteStore::default_path(const std::string& data_dir) {
  if (data_dir.empty()) return "ddns.db";
  return data_dir.back() == '/' ? data_dir + "ddns.db" : data_dir + "/ddns.db";
}

Error SqliteStore::error(std::string_view what) const {
  std::string m = path_ + ": ";
  m.append(what);
  m += ": ";
  m += db_ ? sqlite3_errmsg(db_) : "out of memory";
  return make_error(std::move(m));
}

Result<void> SqliteStore::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  std::string m = path_ + ": " + sql + ": " + (msg ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return make_error(std::move(m));
}

Result<sqlite3_stmt*> SqliteStore::prepare(const char* sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
    return error(sql);
  stmts_.emplace(sql, st);
  return st;
}

#define DDNS_STMT(var, sql)                  \
  auto var##_p = prepare(sql);               \
  if (!var##_p) return var##_p.error();      \
  Stmt var(this, *var##_p)

#define DDNS_TRY(expr)                       \
  do {                                       \
    if (auto r_ = (expr); !r_) return r_.error(); \
  } while (0)

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteOptions& opt) {
  std::unique_ptr<SqliteStore> s(new SqliteStore());
  s->path_ = path;
  int flags = opt.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // our own mutex serializes use of the connection
  int rc = sqlite3_open_v2(path.c_str(), &s->db_, flags, nullptr);
  if (rc != SQLITE_OK) return s->error("open");
  sqlite3_extended_result_codes(s->db_, 1);
  sqlite3_busy_timeout(s->db_, opt.busy_timeout_ms);
  // The first statements read the header: a file that is not a database
  // fails here with "file is not a database".
  if (!opt.read_only) DDNS_TRY(s->exec("PRAGMA journal_mode=WAL"));
  DDNS_TRY(s->exec(opt.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"));
  DDNS_TRY(s->exec("PRAGMA foreign_keys=ON"));
  // Bound the WAL file after checkpoints (it is reused, not regrown).
  if (!opt.read_only) DDNS_TRY(s->exec("PRAGMA journal_size_limit=67108864"));
  if (opt.read_only) {
    auto st = s->prepare("SELECT version FROM schema_version");
    if (!st) return st.error();
    Stmt q(s.get(), *st);
    auto row = q.step();
    if (!row) return row.error();
    s->schema_version_ = *row ? int(q.i64(0)) : 0;
    if (s->schema_version_ != int(sqlite_schema::kMigrations.size()))
      return make_error(path + ": schema version " + std::to_string(s->schema_version_) +
                        ", this program needs " +
                        std::to_string(sqlite_schema::kMigrations.size()) +
                        " (open it read-write once to migrate)");
  } else {
    DDNS_TRY(s->migrate());
  }
  return s;
}

Result<void> SqliteStore::migrate() {
  const int known = int(sqlite_schema::kMigrations.size());
  {
    // Up to date (the usual case): no write lock, so opening never waits
    // behind another process's writer.
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT version FROM schema_version", -1, &st, nullptr) == SQLITE_OK) {
      int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
      sqlite3_finalize(st);
      if (v == known) {
        schema_version_ = known;
        return {};
      }
    } else if (sqlite3_errcode(db_) == SQLITE_NOTADB || sqlite3_errcode(db_) == SQLITE_CORRUPT) {
      return error("open");
    }
  }
  Txn t(this);
  DDNS_TRY(t.begin(true));
  DDNS_TRY(exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  int v = 0;
  {
    DDNS_STMT(q, "SELECT version FROM schema_version");
    auto row = q.step();
    if (!row) return row.error();
    if (*row) v = int(q.i64(0));
  }
  if (v > known)
    return make_error(path_ + ": schema version " + std::to_string(v) +
                      " is newer than this program's (" + std::to_string(known) + ")");
  if (v < 0) return make_error(path_ + ": bad schema version " + std::to_string(v));
  for (int i = v; i < known; ++i) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sqlite_schema::kMigrations[size_t(i)], nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = path_ + ": schema migration to version " + std::to_string(i + 1) + ": " +
                      (msg ? msg : "failed");
      sqlite3_free(msg);
      return make_error(std::move(m));
    }
  }
  if (v != known) {
    DDNS_TRY(exec("DELETE FROM schema_version"));
    DDNS_STMT(ins, "INSERT INTO schema_version(version) VALUES(?)");
    ins.bind(1, int64_t(known));
    DDNS_TRY(ins.run());
  }
  DDNS_TRY(t.commit());
  schema_version_ = known;
  return {};
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
  if (db_) sqlite3_close_v2(db_);
}

Result<void> SqliteStore::check_integrity() {
  std::lock_guard lk(mu_);
  DDNS_STMT(q, "PRAGMA integrity_check");
  std::string report;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    std::string line = q.text(0);
    if (line == "ok") continue;
    if (!report.empty()) report += "; ";
    report += line;
  }
  if (!report.empty()) return make_error(path_ + ": integrity check: " + report);
  return {};
}

// ---- zones ------------------------------------------------------------------

Result<std::optional<SqliteStore::ZoneRow>> SqliteStore::find_zone(const wire::Name& origin) {
  wire::Name lo;
  DDNS_STMT(q, "SELECT id, base_serial, serial, last_seq FROM zones WHERE origin=?");
  q.bind(1, key_of(origin, lo));
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<ZoneRow>();
  return std::optional<ZoneRow>(ZoneRow{q.i64(0), q.u32(1), q.u32(2), q.i64(3)});
}

Result<std::vector<ZoneInfo>> SqliteStore::list_zones() {
  std::lock_guard lk(mu_);
  DDNS_STMT(q,
            "SELECT origin, base_serial, serial, "
            "(SELECT COUNT(*) FROM journal j WHERE j.zone_id = z.id) FROM zones z ORDER BY origin");
  std::vector<ZoneInfo> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    auto n = name_from_blob(q.blob(0), "zones.origin");
    if (!n) return n.error();
    out.push_back(ZoneInfo{std::move(*n), q.u32(2), q.u32(1), uint64_t(q.i64(3))});
  }
  return out;
}

Result<std::optional<ZoneInfo>> SqliteStore::zone_info(const wire::Name& origin) {
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(false));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return std::optional<ZoneInfo>();
  DDNS_STMT(q, "SELECT COUNT(*) FROM journal WHERE zone_id=?");
  q.bind(1, (*z)->id);
  auto row = q.step();
  if (!row) return row.error();
  return std::optional<ZoneInfo>(
      ZoneInfo{origin.lowercased(), (*z)->serial, (*z)->base_serial, uint64_t(q.i64(0))});
}

Result<void> SqliteStore::clear_zone_data(int64_t zone_id) {
  {
    DDNS_STMT(d, "DELETE FROM records WHERE zone_id=?");
    d.bind(1, zone_id);
    DDNS_TRY(d.run());
  }
  DDNS_STMT(d, "DELETE FROM journal WHERE zone_id=?");
  d.bind(1, zone_id);
  return d.run();
}

Result<void> SqliteStore::write_records(int64_t zone_id, std::span<const wire::RR> records) {
  DDNS_STMT(ins, "INSERT INTO records(zone_id, owner, type, rclass, ttl, rdata) VALUES(?,?,?,?,?,?)");
  for (const auto& rr : records) {
    ins.bind(1, zone_id).bind(2, rr.owner.wire()).bind(3, int64_t(rr.type));
    ins.bind(4, int64_t(rr.rclass)).bind(5, int64_t(rr.ttl)).bind(6, rr.rdata);
    DDNS_TRY(ins.run());
    sqlite3_reset(*ins_p);
  }
  return {};
}

Result<std::vector<wire::RR>> SqliteStore::read_records(int64_t zone_id) {
  DDNS_STMT(q, "SELECT owner, type, rclass, ttl, rdata FROM records WHERE zone_id=?");
  q.bind(1, zone_id);
  std::vector<wire::RR> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    auto n = name_from_blob(q.blob(0), "records.owner");
    if (!n) return n.error();
    auto rd = q.blob(4);
    out.push_back(wire::RR{std::move(*n), uint16_t(q.i64(1)), uint16_t(q.i64(2)), q.u32(3),
                           wire::Bytes(rd.begin(), rd.end())});
  }
  return out;
}

Result<void> SqliteStore::read_journal(int64_t zone_id, const wire::Name& origin,
                                       int64_t from_seq, int64_t to_seq,
                                       std::vector<zone::ChangeSet>* out) {
  DDNS_STMT(q,
            "SELECT seq, serial_from, serial_to, data FROM journal "
            "WHERE zone_id=? AND seq>? AND seq<=? ORDER BY seq");
  q.bind(1, zone_id).bind(2, from_seq).bind(3, to_seq);
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    zone::ChangeSet cs;
    cs.origin = origin;
    cs.serial_from = q.u32(1);
    cs.serial_to = q.u32(2);
    if (auto r = decode_changes(q.blob(3), cs); !r)
      return make_error(path_ + ": " + origin.to_text() + " journal seq " +
                        std::to_string(q.i64(0)) + ": " + r.error().message);
    out->push_back(std::move(cs));
  }
  return {};
}

Result<void> SqliteStore::put_zone_snapshot(const wire::Name& origin, uint32_t serial,
                                            std::span<const wire::RR> records) {
  if (auto r = check_snapshot(origin, serial, records); !r) return r;
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(true));
  auto z = find_zone(origin);
  if (!z) return z.error();
  int64_t id;
  if (!*z) {
    wire::Name lo;
    DDNS_STMT(ins, "INSERT INTO zones(origin, base_serial, serial, last_seq) VALUES(?,?,?,0)");
    ins.bind(1, key_of(origin, lo)).bind(2, int64_t(serial)).bind(3, int64_t(serial));
    DDNS_TRY(ins.run());
    id = sqlite3_last_insert_rowid(db_);
  } else {
    id = (*z)->id;
    DDNS_TRY(clear_zone_data(id));
    // last_seq is kept: sequence numbers are never reused, so a follower
    // that remembers a seq can tell that history was replaced.
    DDNS_STMT(u, "UPDATE zones SET base_serial=?, serial=? WHERE id=?");
    u.bind(1, int64_t(serial)).bind(2, int64_t(serial)).bind(3, id);
    DDNS_TRY(u.run());
  }
  DDNS_TRY(write_records(id, records));
  return t.commit();
}

Result<void> SqliteStore::delete_zone(const wire::Name& origin) {
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(true));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return make_error(origin.to_text() + ": no such zone in " + path_);
  const int64_t id = (*z)->id;
  DDNS_TRY(clear_zone_data(id));
  DDNS_STMT(d, "DELETE FROM zones WHERE id=?");
  d.bind(1, id);
  DDNS_TRY(d.run());
  return t.commit();
}

Result<ZoneData> SqliteStore::load_base(const wire::Name& origin,
                                        std::vector<zone::ChangeSet>* journal) {
  std::lock_guard lk(mu_);
  Txn t(this);  // one read transaction: base and journal from the same moment
  DDNS_TRY(t.begin(false));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return make_error(origin.to_text() + ": no such zone in " + path_);
  ZoneData d;
  d.serial = (*z)->base_serial;
  auto recs = read_records((*z)->id);
  if (!recs) return recs.error();
  d.records = std::move(*recs);
  if (journal) {
    journal->clear();
    DDNS_TRY(read_journal((*z)->id, origin, 0, (*z)->last_seq, journal));
  }
  DDNS_TRY(t.commit());
  return d;
}

Result<void> SqliteStore::append_changes(std::span<const zone::ChangeSet> changes) {
  if (changes.empty()) return {};
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(true));
  // Zones touched by this batch, with their serial as the batch moves it.
  std::unordered_map<wire::Name, ZoneRow, wire::NameHash> touched;
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<uint8_t> data;
  for (const auto& cs : changes) {
    auto it = touched.find(cs.origin);
    if (it == touched.end()) {
      auto z = find_zone(cs.origin);
      if (!z) return z.error();
      if (!*z) return make_error(cs.origin.to_text() + ": no such zone in " + path_);
      it = touched.emplace(cs.origin, **z).first;
    }
    ZoneRow& row = it->second;
    if (cs.serial_from != row.serial)
      return make_error(cs.origin.to_text() + ": changeset from serial " +
                        std::to_string(cs.serial_from) + " does not follow the stored serial " +
                        std::to_string(row.serial));
    if (!zone::serial_gt(cs.serial_to, cs.serial_from))
      return make_error(cs.origin.to_text() + ": changeset serial " +
                        std::to_string(cs.serial_to) + " is not newer than " +
                        std::to_string(cs.serial_from) + " (RFC 1982)");
    data = encode_changes(cs);
    ++row.last_seq;
    DDNS_STMT(ins,
              "INSERT INTO journal(zone_id, seq, serial_from, serial_to, created, data) "
              "VALUES(?,?,?,?,?,?)");
    ins.bind(1, row.id).bind(2, row.last_seq).bind(3, int64_t(cs.serial_from));
    ins.bind(4, int64_t(cs.serial_to)).bind(5, now).bind(6, data);
    DDNS_TRY(ins.run());
    row.serial = cs.serial_to;
  }
  for (const auto& [origin, row] : touched) {
    DDNS_STMT(u, "UPDATE zones SET serial=?, last_seq=? WHERE id=?");
    u.bind(1, int64_t(row.serial)).bind(2, row.last_seq).bind(3, row.id);
    DDNS_TRY(u.run());
  }
  // COMMIT syncs the WAL (synchronous=FULL): durable when this returns.
  return t.commit();
}

Result<Journal> SqliteStore::journal(const wire::Name& origin, uint32_t from_serial) {
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(false));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return make_error(origin.to_text() + ": no such zone in " + path_);
  Journal j;
  j.current_serial = (*z)->serial;
  if (from_serial == (*z)->serial) return j;
  if (zone::serial_gt(from_serial, (*z)->serial)) {
    j.status = JournalStatus::Newer;
    return j;
  }
  // The newest entry starting at from_serial: a serial seen twice (after a
  // full wrap) resolves to the path that leads to the current serial.
  DDNS_STMT(q,
            "SELECT seq FROM journal WHERE zone_id=? AND serial_from=? ORDER BY seq DESC LIMIT 1");
  q.bind(1, (*z)->id).bind(2, int64_t(from_serial));
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) {
    j.status = JournalStatus::TooOld;
    return j;
  }
  DDNS_TRY(read_journal((*z)->id, origin, q.i64(0) - 1, (*z)->last_seq, &j.changes));
  DDNS_TRY(t.commit());
  return j;
}

Result<size_t> SqliteStore::trim_journal(const wire::Name& origin, const TrimPolicy& policy) {
  std::lock_guard lk(mu_);
  Txn t(this);
  DDNS_TRY(t.begin(true));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return make_error(origin.to_text() + ": no such zone in " + path_);
  const ZoneRow zr = **z;
  int64_t cut = zr.last_seq - int64_t(std::min<size_t>(policy.keep_count, size_t(INT64_MAX)));
  if (policy.max_age.count() > 0) {
    const int64_t cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                               (policy.now - policy.max_age).time_since_epoch())
                               .count();
    DDNS_STMT(q, "SELECT MAX(seq) FROM journal WHERE zone_id=? AND created<?");
    q.bind(1, zr.id).bind(2, cutoff);
    auto row = q.step();
    if (!row) return row.error();
    if (*row) cut = std::max(cut, q.i64(0));  // NULL reads as 0
  }
  if (cut <= 0) return size_t(0);
  std::vector<zone::ChangeSet> fold;
  DDNS_TRY(read_journal(zr.id, origin, 0, cut, &fold));
  if (fold.empty()) return size_t(0);
  auto recs = read_records(zr.id);
  if (!recs) return recs.error();
  auto serial = apply_changes(*recs, zr.base_serial, fold);
  if (!serial) return make_error(path_ + ": trim: " + serial.error().message);
  {
    DDNS_STMT(d, "DELETE FROM records WHERE zone_id=?");
    d.bind(1, zr.id);
    DDNS_TRY(d.run());
  }
  DDNS_TRY(write_records(zr.id, *recs));
  {
    DDNS_STMT(d, "DELETE FROM journal WHERE zone_id=? AND seq<=?");
    d.bind(1, zr.id).bind(2, cut);
    DDNS_TRY(d.run());
  }
  DDNS_STMT(u, "UPDATE zones SET base_serial=? WHERE id=?");
  u.bind(1, int64_t(*serial)).bind(2, zr.id);
  DDNS_TRY(u.run());
  DDNS_TRY(t.commit());
  return fold.size();
}

// ---- TSIG keys ----------------------------------------------------------------

Result<void> SqliteStore::put_key(const TsigKey& key) {
  std::lock_guard lk(mu_);
  wire::Name lo;
  DDNS_STMT(q, "INSERT OR REPLACE INTO tsig_keys(name, algorithm, secret) VALUES(?,?,?)");
  q.bind(1, key_of(key.name, lo)).bind(2, key.algorithm).bind(3, key.secret);
  return q.run();
}

Result<std::optional<TsigKey>> SqliteStore::get_key(const wire::Name& name) {
  std::lock_guard lk(mu_);
  wire::Name lo;
  DDNS_STMT(q, "SELECT algorithm, secret FROM tsig_keys WHERE name=?");
  q.bind(1, key_of(name, lo));
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<TsigKey>();
  auto s = q.blob(1);
  return std::optional<TsigKey>(TsigKey{lo, q.text(0), std::vector<uint8_t>(s.begin(), s.end())});
}

Result<bool> SqliteStore::delete_key(const wire::Name& name) {
  std::lock_guard lk(mu_);
  wire::Name lo;
  DDNS_STMT(q, "DELETE FROM tsig_keys WHERE name=?");
  q.bind(1, key_of(name, lo));
  DDNS_TRY(q.run());
  return sqlite3_changes(db_) > 0;
}

Result<std::vector<TsigKey>> SqliteStore::list_keys() {
  std::lock_guard lk(mu_);
  DDNS_STMT(q, "SELECT name, algorithm, secret FROM tsig_keys ORDER BY name");
  std::vector<TsigKey> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    auto n = name_from_blob(q.blob(0), "tsig_keys.name");
    if (!n) return n.error();
    auto s = q.blob(2);
    out.push_back(TsigKey{std::move(*n), q.text(1), std::vector<uint8_t>(s.begin(), s.end())});
  }
  return out;
}

}  // namespace ddns::store
