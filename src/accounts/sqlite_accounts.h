// SqliteAccounts: the Accounts backend on SQLite, in its own file beside
// the zone store (DATA_DIR/accounts.sqlite, WAL), so `ddnsctl` changes it
// while ddnsd runs. One writer connection, a few readers (which in WAL mode
// never wait for the writer's fsync) and a cache of host credentials kept
// valid across processes by a database generation.
#pragma once

#include <memory>
#include <string>

#include "accounts/accounts.h"

namespace ddns::accounts {

class SqliteAccounts final : public Accounts {
 public:
  // Opens (creating it and its tables if needed) the database at `path`.
  static Result<std::unique_ptr<SqliteAccounts>> open(const std::string& path, Limits limits = {});
  ~SqliteAccounts() override;
  SqliteAccounts(const SqliteAccounts&) = delete;
  SqliteAccounts& operator=(const SqliteAccounts&) = delete;

  Result<User> add_user(const std::string& name, const std::string& password, bool admin) override;
  Result<void> delete_user(const std::string& name) override;
  Result<void> set_password(const std::string& name, const std::string& password) override;
  Result<std::optional<User>> get_user(const std::string& name) override;
  Result<std::vector<User>> list_users() override;
  Result<std::optional<User>> check_password(const std::string& name,
                                             const std::string& password) override;
  Result<void> add_zone(const std::string& zone) override;
  Result<void> delete_zone(const std::string& zone) override;
  Result<std::vector<std::string>> list_zones() override;
  Result<NewHost> add_host(const std::string& fqdn, const std::string& owner) override;
  Result<void> delete_host(const std::string& fqdn) override;
  Result<std::optional<Host>> get_host(const std::string& fqdn) override;
  Result<std::vector<Host>> list_hosts(const std::string& owner) override;
  Result<std::string> rotate_token(const std::string& fqdn) override;
  Result<bool> check_token(const std::string& fqdn, const std::string& token) override;
  std::optional<bool> check_token_cached(const std::string& fqdn,
                                         const std::string& token) override;
  Result<std::optional<std::string>> host_zone(const std::string& fqdn) override;
  Result<void> set_addresses(const std::string& fqdn, const std::string& ipv4,
                             const std::string& ipv6, int64_t when) override;
  Result<std::vector<Removal>> pending_removals() override;
  Result<void> finish_removal(int64_t id) override;
  Result<void> record(std::span<const HistoryEntry> entries) override;
  Result<std::vector<HistoryEntry>> history(const std::string& fqdn, size_t limit) override;
  Result<std::string> create_session(int64_t user_id, int64_t ttl_s) override;
  Result<std::optional<User>> check_session(const std::string& session) override;
  Result<void> delete_session(const std::string& session) override;
  Result<size_t> end_sessions(int64_t user_id, const std::string& keep) override;
  Result<std::string> create_api_token(int64_t user_id, const std::string& label) override;
  Result<std::optional<User>> check_api_token(const std::string& token) override;
  Result<std::vector<ApiToken>> list_api_tokens(int64_t user_id) override;
  Result<void> delete_api_token(int64_t user_id, int64_t token_id) override;
  void set_clock(std::function<int64_t()> now) override;
  Stats stats() const override;

 private:
  struct Impl;  // sqlite_accounts_impl.h
  explicit SqliteAccounts(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ddns::accounts
