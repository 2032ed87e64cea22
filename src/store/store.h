// Store: the durable home of zones (base snapshot + change journal), TSIG
// keys and, later, DynDNS2 accounts. An interface, so that the embedded
// SQLite backend and a shared PostgreSQL backend (several ddnsd processes on
// one database) are interchangeable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "wire/message.h"
#include "wire/name.h"
#include "zone/changeset.h"

namespace ddns::store {

// One zone as the store knows it.
struct ZoneInfo {
  wire::Name origin;          // lowercased
  uint32_t serial = 0;        // current: base + every journal entry
  uint32_t base_serial = 0;   // of the base snapshot
  uint64_t journal_length = 0;  // changesets not yet folded into the base
};

// A full set of records at one serial.
struct ZoneData {
  uint32_t serial = 0;
  std::vector<wire::RR> records;
};

// What journal() found for an IXFR-style question "changes since serial S".
enum class JournalStatus : uint8_t {
  Ok,       // `changes` lead from S to the current serial (empty when S is current)
  Newer,    // S is newer than the current serial (RFC 1995 §2: reply current SOA)
  TooOld,   // S is not in the kept history (trimmed or unknown): full transfer
};

struct Journal {
  JournalStatus status = JournalStatus::Ok;
  uint32_t current_serial = 0;
  std::vector<zone::ChangeSet> changes;  // in order, serial chained
};

// Which journal entries to fold into the base snapshot: everything except
// the newest `keep_count`, and also any entry created before
// `now - max_age` (max_age 0 = no age limit). `now` is a parameter so tests
// can use a fake clock. Folding rewrites the zone's base rows: O(zone size).
struct TrimPolicy {
  size_t keep_count = 1000;
  std::chrono::seconds max_age{0};
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

struct TsigKey {
  wire::Name name;          // lowercased on the way in and out
  std::string algorithm;    // e.g. "hmac-sha256" (RFC 8945 §6 names)
  std::vector<uint8_t> secret;
};

// One kept journal entry as an operator lists it (ddnsctl journal).
struct JournalEntry {
  uint64_t seq = 0;      // position in the zone's journal; never reused
  int64_t created = 0;   // unix seconds of its commit (0: unknown)
  zone::ChangeSet changes;
};

// What list_journal() found: for status Ok the entries that lead from the
// serial asked for (or from the base snapshot) to the current serial.
struct JournalListing {
  JournalStatus status = JournalStatus::Ok;
  uint32_t base_serial = 0;
  uint32_t current_serial = 0;
  std::vector<JournalEntry> entries;  // oldest first
};

// Every operation is atomic on its own (one database transaction that rolls
// back on any error) and validated against the database, never against a
// cached copy: another process may have written in between, so
// append_changes() checks each ChangeSet's serial_from against the serial
// the database holds now.
//
// DynDNS2 accounts (users, hosts, tokens, history) have their own interface,
// accounts::Accounts. Neither interface names a backend's types, so a
// PostgreSQL backend can sit behind both.
class Store {
 public:
  virtual ~Store() = default;

  // ---- zones ----
  virtual Result<std::vector<ZoneInfo>> list_zones() = 0;
  // nullopt when the zone is not in the store.
  virtual Result<std::optional<ZoneInfo>> zone_info(const wire::Name& origin) = 0;

  // Imports or replaces the base snapshot of a zone (creating the zone).
  // The zone's journal is cleared: the records given are the whole truth at
  // `serial`, and history before an import cannot be trusted to lead to it
  // (IXFR clients then get TooOld and fall back to AXFR). Fails unless the
  // records hold exactly one SOA at the apex, with serial `serial`.
  virtual Result<void> put_zone_snapshot(const wire::Name& origin, uint32_t serial,
                                         std::span<const wire::RR> records) = 0;
  virtual Result<void> delete_zone(const wire::Name& origin) = 0;

  // The base snapshot and the journal after it, read in one consistent
  // transaction (what a server restores at start, or a follower catches up
  // from). load_zone() is the same with the journal applied.
  virtual Result<ZoneData> load_base(const wire::Name& origin, std::vector<zone::ChangeSet>* journal) = 0;
  Result<ZoneData> load_zone(const wire::Name& origin);

  // Group commit: all changesets (several zones allowed, in order; several
  // for one zone must chain) are written in one transaction, made durable
  // with one sync, and only then does this return. All or nothing: an
  // unknown zone, a serial_from that is not the zone's current serial, or a
  // serial_to not newer (RFC 1982) than serial_from fails the whole batch.
  virtual Result<void> append_changes(std::span<const zone::ChangeSet> changes) = 0;

  // The changesets after `from_serial` (for IXFR, and for followers).
  virtual Result<Journal> journal(const wire::Name& origin, uint32_t from_serial) = 0;

  // Folds old journal entries into the base snapshot (compaction); returns
  // how many were folded. The current serial does not change.
  virtual Result<size_t> trim_journal(const wire::Name& origin, const TrimPolicy& policy) = 0;

  // ---- TSIG keys ----
  virtual Result<void> put_key(const TsigKey& key) = 0;  // insert or replace
  virtual Result<std::optional<TsigKey>> get_key(const wire::Name& name) = 0;
  virtual Result<bool> delete_key(const wire::Name& name) = 0;  // false: absent
  virtual Result<std::vector<TsigKey>> list_keys() = 0;

  // ---- journal listing (operators) ----
  // The kept journal entries with their commit times, read in one
  // transaction, so a writer committing or trimming meanwhile cannot make
  // the listing skip or repeat entries. Without `from_serial`: every kept
  // entry after the base snapshot. With it: as journal() (RFC 1995 §2
  // semantics), the entries that lead from that serial to the current one.
  // An error when the zone is unknown or an entry does not decode.
  virtual Result<JournalListing> list_journal(const wire::Name& origin,
                                              std::optional<uint32_t> from_serial) = 0;
};

// The store of a data directory as ddnsd keeps it (the SQLite backend:
// DATA_DIR/ddns.db), for tools. `read_only`: the file must exist with an up
// to date schema, and is read beside a running ddnsd without blocking it.
Result<std::unique_ptr<Store>> open_data_dir(const std::string& data_dir, bool read_only);

// Applies changesets in order to a record set at `serial` (journal replay)
// by the one rule zone::apply() states (zone/apply.h): serial_from chains,
// every removed record is present and every added one is not (owner
// without case, rdata in canonical form, TTL ignored), an added record sets
// the TTL of its whole RRset (RFC 2181 §5.2). So replay builds exactly the
// snapshot the writer published. Returns the final serial; on error
// `records` is unspecified. Record order is not kept.
Result<uint32_t> apply_changes(std::vector<wire::RR>& records, uint32_t serial,
                               std::span<const zone::ChangeSet> changes);

// Compact binary form of a ChangeSet's records (the journal's row payload):
// per list a u32 count, then per record owner (u8 length + wire), type,
// class, TTL, u16 rdata length + rdata. decode checks every length.
std::vector<uint8_t> encode_changes(const zone::ChangeSet& cs);
Result<void> decode_changes(std::span<const uint8_t> data, zone::ChangeSet& cs);

}  // namespace ddns::store
