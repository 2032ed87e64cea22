// The accounts database's schema as a list of migrations: migration i brings
// the database from schema version i to i+1 (version kept in the
// schema_version table). Append new steps; never edit a released one
// (databases in the field have run it).
#pragma once

#include <array>

namespace ddns::accounts::schema {

inline constexpr std::array kMigrations = {
// ---- version 1: users, DDNS zones, hosts, history, sessions, API tokens ----
R"sql(
CREATE TABLE users (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL UNIQUE,
  pwhash   TEXT NOT NULL,              -- Argon2id, PHC encoded string
  admin    INTEGER NOT NULL DEFAULT 0,
  created  INTEGER NOT NULL            -- unix seconds
);

-- Zones the operator opened for DynDNS hostnames (lowercase, no final dot).
CREATE TABLE ddns_zones (
  name     TEXT PRIMARY KEY,
  created  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE hosts (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,  -- FQDN, lowercase, no final dot
  zone          TEXT NOT NULL REFERENCES ddns_zones(name),
  owner         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_sha256  TEXT NOT NULL,         -- hex SHA-256 of the update token
  created       INTEGER NOT NULL,
  updated       INTEGER NOT NULL DEFAULT 0,
  last_ipv4     TEXT NOT NULL DEFAULT '',
  last_ipv6     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hosts_owner ON hosts(owner);
CREATE INDEX hosts_zone ON hosts(zone);

-- Keyed by host name (not id) so that appending never needs a lookup;
-- rows go with their host in delete_host/delete_user.
CREATE TABLE history (
  id         INTEGER PRIMARY KEY,
  host       TEXT NOT NULL,
  time       INTEGER NOT NULL,
  type       TEXT NOT NULL,
  old_value  TEXT NOT NULL,
  new_value  TEXT NOT NULL,
  source     TEXT NOT NULL,
  via        TEXT NOT NULL
);
CREATE INDEX history_host ON history(host, id);

CREATE TABLE sessions (
  id_sha256  TEXT PRIMARY KEY,         -- hex SHA-256 of the cookie value
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created    INTEGER NOT NULL,
  expires    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires);

CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY,
  token_sha256  TEXT NOT NULL UNIQUE,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label         TEXT NOT NULL,
  created       INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
)sql",
// ---- version 2: DNS records left to remove for hosts deleted by ddnsctl ----
R"sql(
-- delete_host/delete_user run in any process (ddnsctl beside ddnsd) but
-- only ddnsd writes the zones: each deleted host leaves a row here, in the
-- same transaction, which ddnsd turns into the removal of the host's
-- DynDNS RRsets and then deletes.
CREATE TABLE dns_removals (
  id      INTEGER PRIMARY KEY,
  host    TEXT NOT NULL,                -- FQDN, lowercase, no final dot
  zone    TEXT NOT NULL,                -- the DDNS zone it was in
  queued  INTEGER NOT NULL              -- unix seconds
);
)sql",
};

}  // namespace ddns::accounts::schema
