// SqliteAccounts: web sessions and API tokens.
#include "accounts/sqlite_accounts_impl.h"

namespace ddns::accounts {

// ------------------------------------------------------------ sessions ----

Result<std::string> SqliteAccounts::create_session(int64_t user_id, int64_t ttl_s) {
  if (ttl_s <= 0) return make_error("session lifetime must be positive");
  auto sid = new_secret();
  if (!sid) return sid.error();
  const int64_t now = impl_->now();
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  {
    DDNS_SQL_STMT(q, c, "DELETE FROM sessions WHERE expires <= ?");
    q.bind(1, now);
    DDNS_SQL_TRY(q.run());
  }
  DDNS_SQL_STMT(q, c,
           "INSERT INTO sessions(id_sha256, user_id, created, expires) "
           "SELECT ?, id, ?, ? FROM users WHERE id = ?");
  q.bind(1, sid->hash).bind(2, now).bind(3, now + ttl_s).bind(4, user_id);
  DDNS_SQL_TRY(q.run());
  if (c.changes() == 0) return make_error("no such user id " + std::to_string(user_id));
  return std::move(sid->text);
}

Result<std::optional<User>> SqliteAccounts::check_session(const std::string& session) {
  if (session.empty() || session.size() > kMaxSecretText) return std::optional<User>();
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn,
           "SELECT u.id, u.name, u.admin, u.created FROM sessions s JOIN users u "
           "ON u.id = s.user_id WHERE s.id_sha256 = ? AND s.expires > ?");
  q.bind(1, sha256_hex(session)).bind(2, impl_->now());
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<void> SqliteAccounts::delete_session(const std::string& session) {
  if (session.empty() || session.size() > kMaxSecretText) return {};
  std::lock_guard l(impl_->wmu);
  DDNS_SQL_STMT(q, impl_->writer, "DELETE FROM sessions WHERE id_sha256 = ?");
  q.bind(1, sha256_hex(session));
  return q.run();
}

Result<size_t> SqliteAccounts::end_sessions(int64_t user_id, const std::string& keep) {
  std::string keep_hash = keep.empty() ? std::string() : sha256_hex(keep);
  const int64_t now = impl_->now();
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  // Expired rows are left to create_session's sweep so the count is of
  // sessions that could still sign someone in.
  DDNS_SQL_STMT(q, c, "DELETE FROM sessions WHERE user_id = ? AND id_sha256 != ? AND expires > ?");
  q.bind(1, user_id).bind(2, keep_hash).bind(3, now);
  DDNS_SQL_TRY(q.run());
  return size_t(c.changes());
}

// ------------------------------------------------------------ API tokens ----

Result<std::string> SqliteAccounts::create_api_token(int64_t user_id, const std::string& label) {
  if (label.size() > kMaxLabel) return make_error("token label too long: at most 200 bytes");
  auto token = new_secret();
  if (!token) return token.error();
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  DDNS_SQL_STMT(q, c,
           "INSERT INTO api_tokens(token_sha256, user_id, label, created) "
           "SELECT ?, id, ?, ? FROM users WHERE id = ?");
  q.bind(1, token->hash).bind(2, label).bind(3, impl_->now()).bind(4, user_id);
  DDNS_SQL_TRY(q.run());
  if (c.changes() == 0) return make_error("no such user id " + std::to_string(user_id));
  return std::move(token->text);
}

Result<std::optional<User>> SqliteAccounts::check_api_token(const std::string& token) {
  if (token.empty() || token.size() > kMaxSecretText) return std::optional<User>();
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn,
           "SELECT u.id, u.name, u.admin, u.created FROM api_tokens t JOIN users u "
           "ON u.id = t.user_id WHERE t.token_sha256 = ?");
  q.bind(1, sha256_hex(token));
  auto row = q.step();
  if (!row) return row.error();
  if (!*row) return std::optional<User>();
  return std::optional<User>(user_from(q));
}

Result<std::vector<ApiToken>> SqliteAccounts::list_api_tokens(int64_t user_id) {
  auto lease = impl_->read();
  DDNS_SQL_STMT(q, *lease.conn,
           "SELECT id, label, created FROM api_tokens WHERE user_id = ? ORDER BY id");
  q.bind(1, user_id);
  std::vector<ApiToken> out;
  for (;;) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(ApiToken{q.i64(0), q.text(1), q.i64(2)});
  }
  return out;
}

Result<void> SqliteAccounts::delete_api_token(int64_t user_id, int64_t token_id) {
  std::lock_guard l(impl_->wmu);
  sqlite::Db& c = impl_->writer;
  DDNS_SQL_STMT(q, c, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?");
  q.bind(1, token_id).bind(2, user_id);
  DDNS_SQL_TRY(q.run());
  if (c.changes() == 0) return make_error("no such API token");
  return {};
}

}  // namespace ddns::accounts
