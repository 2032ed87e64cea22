// ddnsctl export / journal: read a zone and its change journal from ddnsd's
// store (read-only, so both work beside a running ddnsd: SQLite WAL readers
// see the last committed state and never block the writer).
#include <sqlite3.h>

#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/ddnsctl_cmds.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "wire/name.h"
#include "wire/rdata.h"
#include "wire/rrtype.h"
#include "zone/changeset.h"
#include "zone/serial.h"
#include "zone/writer.h"

namespace ddns::cli {
namespace {

Result<wire::Name> parse_origin(const std::string& text) {
  std::string t = text;
  if (t.empty() || t.back() != '.') t += '.';
  auto n = wire::Name::from_text(t);
  if (!n) return make_error("bad zone name '" + text + "': " + n.error().message);
  return n;
}

Result<std::unique_ptr<store::SqliteStore>> open_store(const std::string& data_dir) {
  store::SqliteOptions opt;
  opt.read_only = true;
  return store::SqliteStore::open(store::SqliteStore::default_path(data_dir), opt);
}

// export: the base snapshot with the journal applied, as a master file.
int export_zone(const std::string& data_dir, const std::string& zone_text,
                const std::string& out_path) {
  auto origin = parse_origin(zone_text);
  if (!origin) {
    std::cerr << origin.error().message << '\n';
    return 1;
  }
  auto st = open_store(data_dir);
  if (!st) {
    std::cerr << "export: " << st.error().message << '\n';
    return 1;
  }
  auto data = (*st)->load_zone(*origin);
  if (!data) {
    std::cerr << "export: " << data.error().message << '\n';
    return 1;
  }
  if (!out_path.empty() && out_path != "-") {
    auto w = zone::write_master_file(out_path, *origin, data->records);
    if (!w) {
      std::cerr << "export: " << w.error().message << '\n';
      return 1;
    }
    std::cerr << "exported " << origin->to_text() << " serial " << data->serial << " ("
              << data->records.size() << " records) to " << out_path << '\n';
    return 0;
  }
  std::ios::sync_with_stdio(false);
  zone::write_master(std::cout, *origin, data->records);
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}

// A read-only connection of our own for the journal listing: the Store
// interface hands out ChangeSets without their commit time, which the
// journal table keeps (column `created`) and an operator wants to see.
// Everything is read in one transaction, so a ddnsd committing (or
// trimming) meanwhile cannot make the listing skip or repeat entries.
class JournalReader {
 public:
  ~JournalReader() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
    if (db_) {
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close_v2(db_);
    }
  }

  Result<void> open(const std::string& path) {
    path_ = path;
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      return error("open");
    sqlite3_busy_timeout(db_, 5000);
    if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return error("begin");
    return {};
  }

  Result<sqlite3_stmt*> prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return error("prepare");
    stmts_.push_back(s);
    return s;
  }

  Error error(const char* what) const {
    return make_error(path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<sqlite3_stmt*> stmts_;
};

std::string utc_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "?";
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return buf;
}

void print_rr(std::ostream& out, char sign, const wire::RR& rr) {
  out << sign << ' ' << rr.owner.to_text() << ' ' << rr.ttl << ' '
      << wire::class_to_text(rr.rclass) << ' ' << wire::type_to_text(rr.type) << ' '
      << wire::rdata_to_text(rr.type, rr.rdata) << '\n';
}

struct JournalArgs {
  std::string zone;
  std::optional<uint32_t> from;
  bool brief = false;
};

// journal: one header line per entry, "serial A -> B  TIME  (-N +M)", then
// its removed ("- ") and added ("+ ") records, RFC 1995 §4 order (old SOA
// first among the removed, new SOA first among the added).
int show_journal(const std::string& data_dir, const JournalArgs& a) {
  auto origin = parse_origin(a.zone);
  if (!origin) {
    std::cerr << origin.error().message << '\n';
    return 1;
  }
  // Opening through the store checks the file and its schema version first,
  // with the store's own error messages.
  {
    auto st = open_store(data_dir);
    if (!st) {
      std::cerr << "journal: " << st.error().message << '\n';
      return 1;
    }
  }
  JournalReader r;
  auto fail = [](const Error& e) {
    std::cerr << "journal: " << e.message << '\n';
    return 1;
  };
  if (auto o = r.open(store::SqliteStore::default_path(data_dir)); !o) return fail(o.error());

  auto zq = r.prepare("SELECT id, base_serial, serial FROM zones WHERE origin=?");
  if (!zq) return fail(zq.error());
  const wire::Name key = origin->lowercased();
  sqlite3_bind_blob(*zq, 1, key.wire().data(), int(key.wire().size()), SQLITE_STATIC);
  int rc = sqlite3_step(*zq);
  if (rc == SQLITE_DONE) {
    std::cerr << "journal: " << origin->to_text() << ": no such zone in "
              << store::SqliteStore::default_path(data_dir) << '\n';
    return 1;
  }
  if (rc != SQLITE_ROW) return fail(r.error("zones"));
  const int64_t zone_id = sqlite3_column_int64(*zq, 0);
  const auto base_serial = uint32_t(sqlite3_column_int64(*zq, 1));
  const auto serial = uint32_t(sqlite3_column_int64(*zq, 2));

  // Like an IXFR question (RFC 1995): --from S lists the entries that lead
  // from S to the current serial.
  int64_t after_seq = 0;
  if (a.from) {
    if (*a.from == serial) {
      std::cout << "; " << origin->to_text() << " serial " << serial
                << ": no changes after serial " << *a.from << '\n';
      return 0;
    }
    if (zone::serial_gt(*a.from, serial)) {
      std::cerr << "journal: serial " << *a.from << " is newer than the zone's serial " << serial
                << '\n';
      return 1;
    }
    auto fq = r.prepare(
        "SELECT seq FROM journal WHERE zone_id=? AND serial_from=? ORDER BY seq DESC LIMIT 1");
    if (!fq) return fail(fq.error());
    sqlite3_bind_int64(*fq, 1, zone_id);
    sqlite3_bind_int64(*fq, 2, int64_t(*a.from));
    rc = sqlite3_step(*fq);
    if (rc == SQLITE_DONE) {
      std::cerr << "journal: serial " << *a.from << " is not in the kept journal of "
                << origin->to_text() << " (base serial " << base_serial << ", serial " << serial
                << ")\n";
      return 1;
    }
    if (rc != SQLITE_ROW) return fail(r.error("journal"));
    after_seq = sqlite3_column_int64(*fq, 0) - 1;
  }

  auto jq = r.prepare(
      "SELECT seq, serial_from, serial_to, created, data FROM journal "
      "WHERE zone_id=? AND seq>? ORDER BY seq");
  if (!jq) return fail(jq.error());
  sqlite3_bind_int64(*jq, 1, zone_id);
  sqlite3_bind_int64(*jq, 2, after_seq);

  std::ios::sync_with_stdio(false);
  std::ostream& out = std::cout;
  out << "; " << origin->to_text() << " base serial " << base_serial << ", serial " << serial
      << '\n';
  size_t entries = 0;
  while ((rc = sqlite3_step(*jq)) == SQLITE_ROW) {
    zone::ChangeSet cs;
    cs.origin = *origin;
    cs.serial_from = uint32_t(sqlite3_column_int64(*jq, 1));
    cs.serial_to = uint32_t(sqlite3_column_int64(*jq, 2));
    const int64_t created = sqlite3_column_int64(*jq, 3);
    const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(*jq, 4));
    const int len = sqlite3_column_bytes(*jq, 4);
    auto d = store::decode_changes(std::span<const uint8_t>(blob, blob ? size_t(len) : 0), cs);
    if (!d) {
      out.flush();
      std::cerr << "journal: entry " << sqlite3_column_int64(*jq, 0) << " (serial "
                << cs.serial_from << " -> " << cs.serial_to << "): " << d.error().message << '\n';
      return 1;
    }
    out << "serial " << cs.serial_from << " -> " << cs.serial_to << "  "
        << (created > 0 ? utc_time(created) : std::string("-")) << "  (-" << cs.removed.size()
        << " +" << cs.added.size() << ")\n";
    if (!a.brief) {
      for (const auto& rr : cs.removed) print_rr(out, '-', rr);
      for (const auto& rr : cs.added) print_rr(out, '+', rr);
    }
    ++entries;
  }
  if (rc != SQLITE_DONE) {
    out.flush();
    return fail(r.error("journal"));
  }
  out << "; " << entries << (entries == 1 ? " entry\n" : " entries\n");
  out.flush();
  return out.good() ? 0 : 1;
}

}  // namespace

void add_store_commands(CLI::App& app, const std::string* data_dir, int* exit_code) {
  // Owned by the callbacks; CLI11 keeps the App alive until main returns.
  auto ex_zone = std::make_shared<std::string>();
  auto ex_out = std::make_shared<std::string>();
  auto* ex = app.add_subcommand(
      "export", "Print a zone from the store as a master file (works while ddnsd runs)");
  ex->add_option("zone", *ex_zone, "Zone origin, e.g. example.test")->required();
  ex->add_option("-o,--output", *ex_out, "Write to FILE atomically instead of stdout");
  ex->callback([=] { *exit_code = export_zone(*data_dir, *ex_zone, *ex_out); });

  auto ja = std::make_shared<JournalArgs>();
  auto from = std::make_shared<uint32_t>(0);
  auto* jr = app.add_subcommand(
      "journal", "List a zone's journal: each change's serials, time and records");
  jr->add_option("zone", ja->zone, "Zone origin, e.g. example.test")->required();
  auto* from_opt =
      jr->add_option("--from", *from, "Only the changes after this serial (as IXFR asks)");
  jr->add_flag("--brief", ja->brief, "Only one line per change, without its records");
  jr->callback([=] {
    if (from_opt->count() > 0) ja->from = *from;
    *exit_code = show_journal(*data_dir, *ja);
  });
}

}  // namespace ddns::cli
