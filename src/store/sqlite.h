// SqliteStore: the embedded default Store, one SQLite file (ddns.db) in WAL
// mode in the data directory.
//
// Durability: journal_mode=WAL with synchronous=FULL, so every commit syncs
// the WAL before it returns and an acknowledged change survives power loss,
// not only a process crash (NORMAL would lose the last commits on power
// loss). Group commit (append_changes with many changesets) pays that one
// sync for the whole batch. Checkpoints are SQLite's automatic ones (every
// ~1000 WAL pages, run by the committing call); a crash mid-checkpoint is
// harmless because the WAL is only reset after the database file is
// synced. A torn write in the WAL fails its frame checksum and that
// (never acknowledged) transaction is dropped at the next open.
//
// Threads and processes: one SqliteStore owns one connection, guarded by a
// mutex, so its methods may be called from any thread but run one at a
// time. Readers that must not wait behind the writer open their own
// SqliteStore on the same file: WAL lets them read a consistent snapshot
// while the writer commits. Several processes may open the file; writes
// take the database lock up front (BEGIN IMMEDIATE) and wait up to
// busy_timeout, and every check runs inside that transaction.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "sqlite/db.h"
#include "store/store.h"

namespace ddns::store {

struct SqliteOptions {
  int busy_timeout_ms = 5000;
  // false only for throw-away data (tests, benchmarks): synchronous=OFF.
  bool durable = true;
  bool read_only = false;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the database file and brings its schema up to date.
  // Fails with a message naming the file for: a file that is not a SQLite
  // database or is corrupt, a schema newer than this program, I/O errors.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const SqliteOptions& options = {});
  // <dir>/ddns.db
  static std::string default_path(const std::string& data_dir);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::vector<ZoneInfo>> list_zones() override;
  Result<std::optional<ZoneInfo>> zone_info(const wire::Name& origin) override;
  Result<void> put_zone_snapshot(const wire::Name& origin, uint32_t serial,
                                 std::span<const wire::RR> records) override;
  Result<void> delete_zone(const wire::Name& origin) override;
  Result<ZoneData> load_base(const wire::Name& origin,
                             std::vector<zone::ChangeSet>* journal) override;
  Result<void> append_changes(std::span<const zone::ChangeSet> changes) override;
  Result<Journal> journal(const wire::Name& origin, uint32_t from_serial) override;
  Result<size_t> trim_journal(const wire::Name& origin, const TrimPolicy& policy) override;

  Result<void> put_key(const TsigKey& key) override;
  Result<std::optional<TsigKey>> get_key(const wire::Name& name) override;
  Result<bool> delete_key(const wire::Name& name) override;
  Result<std::vector<TsigKey>> list_keys() override;
  Result<JournalListing> list_journal(const wire::Name& origin,
                                      std::optional<uint32_t> from_serial) override;

  // Runs SQLite's integrity check (slow on big files; for ddnsctl and tests).
  Result<void> check_integrity();
  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

 private:
  class Txn;   // sqlite::Txn on this store's connection
  SqliteStore() = default;

  struct ZoneRow {
    int64_t id = 0;
    uint32_t base_serial = 0, serial = 0;
    int64_t last_seq = 0;
  };
  Result<std::optional<ZoneRow>> find_zone(const wire::Name& origin);
  Result<void> read_journal(int64_t zone_id, const wire::Name& origin, int64_t from_seq,
                            int64_t to_seq, std::vector<zone::ChangeSet>* out);
  // Deletes a zone's base records and journal (caller holds a write txn).
  Result<void> clear_zone_data(int64_t zone_id);
  Result<void> write_records(int64_t zone_id, std::span<const wire::RR> records);
  Result<std::vector<wire::RR>> read_records(int64_t zone_id);

  std::mutex mu_;
  sqlite::Db db_;
  std::string path_;
  int schema_version_ = 0;
};

}  // namespace ddns::store
