// SqliteStore: zones, journal and keys in one SQLite file (WAL mode).
#include "store/sqlite.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "zone/serial.h"
#include "store/sqlite_schema.h"

namespace ddns::store {

// Function bodies say Txn t(this): the shared transaction on this store's
// connection.
class SqliteStore::Txn : public sqlite::Txn {
 public:
  explicit Txn(SqliteStore* s) : sqlite::Txn(s->db_) {}
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

#define DDNS_STMT(var, sql) DDNS_SQL_STMT(var, db_, sql)
#define DDNS_TRY(expr) DDNS_SQL_TRY(expr)

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const SqliteOptions& opt) {
  std::unique_ptr<SqliteStore> s(new SqliteStore());
  s->path_ = path;
  sqlite::Options o;
  o.read_only = opt.read_only;
  o.durable = opt.durable;
  o.busy_timeout_ms = opt.busy_timeout_ms;
  // Bound the WAL file after checkpoints (it is reused, not regrown).
  o.pragmas = {"PRAGMA journal_size_limit=67108864"};
  DDNS_TRY(s->db_.open(path, o));
  const size_t known = sqlite_schema::kMigrations.size();
  if (opt.read_only) {
    auto v = sqlite::schema_version(s->db_);
    if (!v) return v.error();
    s->schema_version_ = *v;
    if (s->schema_version_ != int(known))
      return make_error(path + ": schema version " + std::to_string(s->schema_version_) +
                        ", this program needs " + std::to_string(known) +
                        " (open it read-write once to migrate)");
  } else {
    auto v = sqlite::migrate(s->db_, sqlite_schema::kMigrations);
    if (!v) return v.error();
    s->schema_version_ = *v;
  }
  return s;
}

SqliteStore::~SqliteStore() = default;

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
    ins.reset();
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
    id = db_.last_rowid();
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
  return db_.changes() > 0;
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

// ---- journal listing ---------------------------------------------------------

Result<JournalListing> SqliteStore::list_journal(const wire::Name& origin,
                                                 std::optional<uint32_t> from_serial) {
  std::lock_guard lk(mu_);
  Txn t(this);  // one read transaction: no entry skipped or repeated
  DDNS_TRY(t.begin(false));
  auto z = find_zone(origin);
  if (!z) return z.error();
  if (!*z) return make_error(origin.to_text() + ": no such zone in " + path_);
  JournalListing out;
  out.base_serial = (*z)->base_serial;
  out.current_serial = (*z)->serial;
  int64_t after_seq = 0;
  if (from_serial) {
    if (*from_serial == (*z)->serial) return out;
    if (zone::serial_gt(*from_serial, (*z)->serial)) {
      out.status = JournalStatus::Newer;
      return out;
    }
    // As journal(): the newest entry starting at from_serial.
    DDNS_STMT(q,
              "SELECT seq FROM journal WHERE zone_id=? AND serial_from=? ORDER BY seq DESC LIMIT 1");
    q.bind(1, (*z)->id).bind(2, int64_t(*from_serial));
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) {
      out.status = JournalStatus::TooOld;
      return out;
    }
    after_seq = q.i64(0) - 1;
  }
  DDNS_STMT(q,
            "SELECT seq, serial_from, serial_to, created, data FROM journal "
            "WHERE zone_id=? AND seq>? ORDER BY seq");
  q.bind(1, (*z)->id).bind(2, after_seq);
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    JournalEntry e;
    e.seq = uint64_t(q.i64(0));
    e.created = q.i64(3);
    e.changes.origin = origin;
    e.changes.serial_from = q.u32(1);
    e.changes.serial_to = q.u32(2);
    if (auto r = decode_changes(q.blob(4), e.changes); !r)
      return make_error(path_ + ": " + origin.to_text() + " journal entry " +
                        std::to_string(e.seq) + " (serial " +
                        std::to_string(e.changes.serial_from) + " -> " +
                        std::to_string(e.changes.serial_to) + "): " + r.error().message);
    out.entries.push_back(std::move(e));
  }
  DDNS_TRY(t.commit());
  return out;
}

}  // namespace ddns::store
