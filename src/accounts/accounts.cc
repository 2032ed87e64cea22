// The Accounts factory (the SQLite backend) and the name rules every
// backend shares.
#include "accounts/accounts.h"

#include "accounts/sqlite_accounts.h"

namespace ddns::accounts {

namespace {

std::string to_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return r;
}

}  // namespace

Result<std::unique_ptr<Accounts>> Accounts::open(const std::string& path, Limits limits) {
  auto a = SqliteAccounts::open(path, limits);
  if (!a) return a.error();
  return std::unique_ptr<Accounts>(std::move(*a));
}

std::string Accounts::default_path(const std::string& data_dir) {
  if (data_dir.empty()) return "accounts.sqlite";
  return data_dir.back() == '/' ? data_dir + "accounts.sqlite" : data_dir + "/accounts.sqlite";
}

std::string normalize_user(std::string_view s) {
  if (s.empty() || s.size() > 64) return {};
  std::string r = to_lower(s);
  for (char c : r) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '@' || c == '-';
    if (!ok) return {};
  }
  return r;
}

std::string normalize_host(std::string_view fqdn) {
  if (!fqdn.empty() && fqdn.back() == '.') fqdn.remove_suffix(1);
  // 255 octets on the wire (RFC 1035 §2.3.4) = 253 characters of text.
  if (fqdn.empty() || fqdn.size() > 253) return {};
  std::string out = to_lower(fqdn);
  size_t label_start = 0;
  for (size_t i = 0; i <= out.size(); ++i) {
    if (i == out.size() || out[i] == '.') {
      size_t len = i - label_start;
      if (len == 0 || len > 63) return {};
      // RFC 1123 §2.1: letters, digits, hyphen; not starting or ending with
      // a hyphen ('_' is accepted for _acme-challenge and similar labels).
      if (out[label_start] == '-' || out[i - 1] == '-') return {};
      label_start = i + 1;
      continue;
    }
    char ch = out[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) return {};
  }
  return out;
}

}  // namespace ddns::accounts
