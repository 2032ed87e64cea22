// The SQLite store's schema as a list of migrations: migration i brings the
// database from schema version i to i+1. Append new steps; never edit a
// released one (databases in the field have run it).
#pragma once

#include <array>

namespace ddns::store::sqlite_schema {

inline constexpr std::array kMigrations = {
// ---- version 1: zones, base records, journal, TSIG keys ----
R"sql(
CREATE TABLE zones (
  id           INTEGER PRIMARY KEY,
  origin       BLOB NOT NULL UNIQUE,   -- lowercased wire name
  base_serial  INTEGER NOT NULL,       -- serial of the rows in `records`
  serial       INTEGER NOT NULL,       -- current: base + journal
  last_seq     INTEGER NOT NULL DEFAULT 0  -- seq of the newest journal row
);

-- The base snapshot, one row per record; owner as wire (case kept).
CREATE TABLE records (
  zone_id  INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  owner    BLOB NOT NULL,
  type     INTEGER NOT NULL,
  rclass   INTEGER NOT NULL,
  ttl      INTEGER NOT NULL,
  rdata    BLOB NOT NULL
);
CREATE INDEX records_zone ON records(zone_id);

-- One row per ChangeSet, in order (seq grows by one per zone); `data` is
-- the removed/added records in store/store.h's compact encoding.
CREATE TABLE journal (
  zone_id      INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  serial_from  INTEGER NOT NULL,
  serial_to    INTEGER NOT NULL,
  created      INTEGER NOT NULL,       -- unix seconds
  data         BLOB NOT NULL,
  PRIMARY KEY (zone_id, seq)
) WITHOUT ROWID;
CREATE INDEX journal_from ON journal(zone_id, serial_from);

CREATE TABLE tsig_keys (
  name       BLOB PRIMARY KEY,         -- lowercased wire name
  algorithm  TEXT NOT NULL,
  secret     BLOB NOT NULL
);
)sql",
// version 2 (next issue): users, hosts, tokens, update history.
};

}  // namespace ddns::store::sqlite_schema
