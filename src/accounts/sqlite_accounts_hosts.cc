// SqliteAccounts: hosts and their update tokens, DNS removals of deleted
// hosts, update history.
#include "accounts/sqlite_accounts_impl.h"

namespace ddns::accounts {

// ------------------------------------------------------------ hosts ----

Result<Accounts::NewHost> SqliteAccounts::add_host(const std::string& fqdn, const std::string& owner_in) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::string owner = normalize_user(owner_in);
  if (owner.empty()) return make_error("no such user '" + owner_in.substr(0, 80) + "'");
  auto token = new_secret();
  if (!token) return token.error();

  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  NewHost nh;
  Host& h = nh.host;
  if (auto id = user_id(c, owner, owner); id) h.owner = *id;
  else return id.error();
  {
    DDNS_SQL_STMT(q, c, "SELECT 1 FROM ddns_zones WHERE name = ?");
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
    DDNS_SQL_STMT(q, c,
             "INSERT INTO hosts(name, zone, owner, token_sha256, created) VALUES(?, ?, ?, ?, ?) "
             "ON CONFLICT(name) DO NOTHING");
    q.bind(1, name).bind(2, h.zone).bind(3, h.owner).bind(4, token->hash).bind(5, h.created);
    DDNS_SQL_TRY(q.run());
    if (c.changes() == 0) return make_error("host " + name + " already exists");
    h.id = c.last_rowid();
  }
  DDNS_SQL_TRY(t.commit());
  nh.token = std::move(token->text);
  return nh;
}

Result<void> SqliteAccounts::delete_host(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  {
    DDNS_SQL_STMT(q, c,
             "INSERT INTO dns_removals(host, zone, queued) SELECT name, zone, ? FROM hosts "
             "WHERE name = ?");
    q.bind(1, impl_->now()).bind(2, name);
    DDNS_SQL_TRY(q.run());
    if (c.changes() == 0) return make_error("no such host " + name);
  }
  {
    DDNS_SQL_STMT(q, c, "DELETE FROM hosts WHERE name = ?");
    q.bind(1, name);
    DDNS_SQL_TRY(q.run());
  }
  {
    DDNS_SQL_STMT(q, c, "DELETE FROM history WHERE host = ?");
    q.bind(1, name);
    DDNS_SQL_TRY(q.run());
  }
  DDNS_SQL_TRY(bump_generation(c));
  return t.commit();
}

Result<std::optional<Host>> SqliteAccounts::get_host(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return std::optional<Host>();
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn, HOST_SELECT "WHERE h.name = ?");
  q.bind(1, name);
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<Host>();
  return std::optional<Host>(host_from(q));
}

Result<std::vector<Host>> SqliteAccounts::list_hosts(const std::string& owner_in) {
  auto lease = impl_->read();
  sqlite::Db& c = *lease.conn;
  std::vector<Host> out;
  auto collect = [&](sqlite::Stmt& q) -> Result<void> {
    for (;;) {
      auto row = q.step();
      if (!row) return row.error();
      if (!*row) return {};
      out.push_back(host_from(q));
    }
  };
  if (owner_in.empty()) {
    DDNS_SQL_STMT(q, c, HOST_SELECT "ORDER BY h.name");
    DDNS_SQL_TRY(collect(q));
    return out;
  }
  std::string owner = normalize_user(owner_in);
  auto id = user_id(c, owner, owner_in.substr(0, 80));
  if (!id) return id.error();
  DDNS_SQL_STMT(q, c, HOST_SELECT "WHERE h.owner = ? ORDER BY h.name");
  q.bind(1, *id);
  DDNS_SQL_TRY(collect(q));
  return out;
}

Result<std::string> SqliteAccounts::rotate_token(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  auto token = new_secret();
  if (!token) return token.error();
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  {
    DDNS_SQL_STMT(q, c, "UPDATE hosts SET token_sha256 = ? WHERE name = ?");
    q.bind(1, token->hash).bind(2, name);
    DDNS_SQL_TRY(q.run());
    if (c.changes() == 0) return make_error("no such host " + name);
  }
  DDNS_SQL_TRY(bump_generation(c));
  DDNS_SQL_TRY(t.commit());
  return std::move(token->text);
}

Result<bool> SqliteAccounts::check_token(const std::string& fqdn, const std::string& token) {
  if (token.empty() || token.size() > kMaxSecretText) return false;
  std::string name = normalize_host(fqdn);
  if (name.empty()) return false;
  const std::string given = sha256_hex(token);
  Impl& im = *impl_;
  std::lock_guard l(im.hmu);
  DDNS_SQL_TRY(im.sync_hosts());
  auto h = im.host_auth(name, /*fill=*/true);
  if (!h) return h.error();
  return *h && equal_ct(given, (*h)->token_sha256);
}

std::optional<bool> SqliteAccounts::check_token_cached(const std::string& fqdn,
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

Result<std::optional<std::string>> SqliteAccounts::host_zone(const std::string& fqdn) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return std::optional<std::string>();
  Impl& im = *impl_;
  std::lock_guard l(im.hmu);
  DDNS_SQL_TRY(im.sync_hosts());
  auto h = im.host_auth(name, /*fill=*/true);
  if (!h) return h.error();
  if (!*h) return std::optional<std::string>();
  return std::optional<std::string>((*h)->zone);
}

Result<void> SqliteAccounts::set_addresses(const std::string& fqdn, const std::string& ipv4,
                                     const std::string& ipv6, int64_t when) {
  std::string name = normalize_host(fqdn);
  if (name.empty()) return make_error("invalid host name '" + fqdn.substr(0, 80) + "'");
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  DDNS_SQL_STMT(q, c, "UPDATE hosts SET last_ipv4 = ?, last_ipv6 = ?, updated = ? WHERE name = ?");
  q.bind(1, ipv4).bind(2, ipv6).bind(3, when).bind(4, name);
  DDNS_SQL_TRY(q.run());
  if (c.changes() == 0) return make_error("no such host " + name);
  return {};
}

// ------------------------------------------------------- DNS removals ----

Result<std::vector<Removal>> SqliteAccounts::pending_removals() {
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn, "SELECT id, host, zone, queued FROM dns_removals ORDER BY id");
  std::vector<Removal> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(Removal{q.i64(0), q.text(1), q.text(2), q.i64(3)});
  }
  return out;
}

Result<void> SqliteAccounts::finish_removal(int64_t id) {
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  DDNS_SQL_STMT(q, c, "DELETE FROM dns_removals WHERE id = ?");
  q.bind(1, id);
  return q.run();
}

// ------------------------------------------------------------ history ----

Result<void> SqliteAccounts::record(std::span<const HistoryEntry> entries) {
  if (entries.empty()) return {};
  Impl& im = *impl_;
  std::lock_guard l(im.wmu);
  sqlite::Db& c = im.writer;
  sqlite::Txn t(c);
  DDNS_SQL_TRY(t.begin(true));
  DDNS_SQL_STMT(ins, c,
           "INSERT INTO history(host, time, type, old_value, new_value, source, via) "
           "VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (const auto& e : entries) {
    ins.bind(1, e.host).bind(2, e.time).bind(3, e.type).bind(4, e.old_value);
    ins.bind(5, e.new_value).bind(6, e.source).bind(7, e.via);
    DDNS_SQL_TRY(ins.run());
    ins.reset();

    const char* set = nullptr;
    if (e.type == "A") {
      set = "UPDATE hosts SET last_ipv4 = ?, updated = max(updated, ?) WHERE name = ?";
    } else if (e.type == "AAAA") {
      set = "UPDATE hosts SET last_ipv6 = ?, updated = max(updated, ?) WHERE name = ?";
    }
    if (set) {
      DDNS_SQL_STMT(up, c, set);
      up.bind(1, e.new_value).bind(2, e.time).bind(3, e.host);
      DDNS_SQL_TRY(up.run());
    }

    // Keep about history_per_host rows per host: prune the host of every
    // 16th row, which amortizes the ordered index walk to ~nothing per row.
    if (im.limits.history_per_host > 0 && (++im.recorded % 16) == 0) {
      DDNS_SQL_STMT(pr, c,
               "DELETE FROM history WHERE host = ?1 AND id <= (SELECT id FROM history "
               "WHERE host = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)");
      pr.bind(1, e.host).bind(2, int64_t(im.limits.history_per_host));
      DDNS_SQL_TRY(pr.run());
    }
  }
  return t.commit();
}

Result<std::vector<HistoryEntry>> SqliteAccounts::history(const std::string& fqdn, size_t limit) {
  std::vector<HistoryEntry> out;
  std::string name = normalize_host(fqdn);
  if (name.empty() || limit == 0) return out;
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn,
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

}  // namespace ddns::accounts
