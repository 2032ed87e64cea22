// ddnsctl user / host / token / ddns-zone commands (accounts database).
// They open the accounts database of DATA_DIR through the Accounts
// interface (whose backend waits for ddnsd's writes), so they work while
// ddnsd runs on the same data directory; ddnsd sees the change on its next
// lookup. Exit codes: 0 ok, 1 error, 2 usage.
#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "accounts/accounts.h"
#include "cli/ddnsctl_cmds.h"

namespace ddns::cli {

namespace {

using accounts::Accounts;

constexpr int kOk = 0;
constexpr int kError = 1;
constexpr int kUsage = 2;

// Values bound to the options; shared by the callbacks, which outlive
// add_account_commands().
struct State {
  const std::string* data_dir = nullptr;
  int* exit_code = nullptr;
  std::string name, password, owner;
  bool password_stdin = false;
  bool admin = false;
};

std::string when(int64_t t) {
  if (t <= 0) return "-";
  std::time_t tt = std::time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Columns padded to the widest cell; the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(w[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

// Opens the accounts database. Commands that change something create the
// data directory when missing; listings do not (a mistyped --data-dir
// should not look like an empty database).
std::unique_ptr<Accounts> open_accounts(const State& s, bool create) {
  const std::string& dir = *s.data_dir;
  std::string path = Accounts::default_path(dir);
  std::error_code ec;
  if (create) {
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        std::cerr << "ddnsctl: cannot create data directory " << dir << ": " << ec.message()
                  << '\n';
        return nullptr;
      }
    }
  } else if (!std::filesystem::exists(path, ec)) {
    std::cerr << "ddnsctl: no accounts database at " << path << " (check --data-dir)\n";
    return nullptr;
  }
  auto a = Accounts::open(path);
  if (!a) {
    std::cerr << "ddnsctl: " << a.error().message << '\n';
    return nullptr;
  }
  return std::move(a).value();
}

// Reads the password from --password, --password-stdin (one line) or, on a
// terminal, a prompt without echo. Sets the exit code on failure.
bool get_password(State& s, std::string& out) {
  if (s.password_stdin) {
    if (!std::getline(std::cin, out)) {
      std::cerr << "ddnsctl: no password on standard input\n";
      *s.exit_code = kUsage;
      return false;
    }
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
  }
  if (!s.password.empty()) {
    out = s.password;
    return true;
  }
  if (!isatty(STDIN_FILENO)) {
    std::cerr << "ddnsctl: give --password PW or --password-stdin\n";
    *s.exit_code = kUsage;
    return false;
  }
  auto prompt = [](const char* text, std::string& line) {
    std::cerr << text << std::flush;
    termios old{};
    bool have_tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (have_tty) {
      termios quiet = old;
      quiet.c_lflag &= ~tcflag_t(ECHO);
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = bool(std::getline(std::cin, line));
    if (have_tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << '\n';
    return ok;
  };
  std::string again;
  if (!prompt("Password: ", out) || !prompt("Again: ", again)) {
    *s.exit_code = kUsage;
    return false;
  }
  if (out != again) {
    std::cerr << "ddnsctl: the passwords differ\n";
    *s.exit_code = kError;
    return false;
  }
  return true;
}

void add_password_options(CLI::App* cmd, State& s) {
  auto* pw = cmd->add_option("--password", s.password, "The password (visible in ps; see --password-stdin)");
  auto* in = cmd->add_flag("--password-stdin", s.password_stdin,
                           "Read the password from the first line of standard input");
  pw->excludes(in);
  in->excludes(pw);
}

// Runs `fn` with the database open; its return value is the exit code.
template <class Fn>
void with_accounts(State& s, bool create, Fn fn) {
  auto a = open_accounts(s, create);
  if (!a) {
    *s.exit_code = kError;
    return;
  }
  *s.exit_code = fn(*a);
}

int fail(const Error& e) {
  std::cerr << "ddnsctl: " << e.message << '\n';
  return kError;
}

void add_user_commands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  auto* user = app.add_subcommand("user", "DynDNS users (web page, REST API, /nic/update logins)");
  user->require_subcommand(1);

  auto* add = user->add_subcommand("add", "Add a user");
  add->add_option("name", s.name, "User name: 1-64 of a-z 0-9 . _ @ -")->required();
  add_password_options(add, s);
  add->add_flag("--admin", s.admin, "May manage users, zones and every host");
  add->callback([st] {
    State& s = *st;
    std::string pw;
    if (!get_password(s, pw)) return;
    with_accounts(s, true, [&](Accounts& a) {
      auto u = a.add_user(s.name, pw, s.admin);
      if (!u) return fail(u.error());
      std::cout << "user " << u->name << " added" << (u->admin ? " (admin)" : "") << '\n';
      return kOk;
    });
  });

  auto* del = user->add_subcommand("del", "Delete a user and the user's hosts");
  del->alias("delete");
  del->add_option("name", s.name, "User name")->required();
  del->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto hosts = a.list_hosts(s.name);
      if (!hosts) return fail(hosts.error());
      auto r = a.delete_user(s.name);
      if (!r) return fail(r.error());
      std::cout << "user " << s.name << " deleted with " << hosts->size() << " host(s)";
      if (!hosts->empty()) {
        std::cout << " (";
        for (size_t i = 0; i < hosts->size(); ++i) std::cout << (i ? ", " : "") << (*hosts)[i].name;
        std::cout << "); ddnsd removes their A/AAAA/TXT records (at once if it is running, "
                     "else when it starts)";
      }
      std::cout << "\n";
      return kOk;
    });
  });

  auto* passwd = user->add_subcommand("passwd", "Set a user's password");
  passwd->add_option("name", s.name, "User name")->required();
  add_password_options(passwd, s);
  passwd->callback([st] {
    State& s = *st;
    std::string pw;
    if (!get_password(s, pw)) return;
    with_accounts(s, true, [&](Accounts& a) {
      auto r = a.set_password(s.name, pw);
      if (!r) return fail(r.error());
      std::cout << "password of " << s.name << " changed\n";
      return kOk;
    });
  });

  auto* list = user->add_subcommand("list", "List users");
  list->callback([st] {
    with_accounts(*st, false, [&](Accounts& a) {
      auto us = a.list_users();
      if (!us) return fail(us.error());
      auto hs = a.list_hosts();
      if (!hs) return fail(hs.error());
      std::vector<std::vector<std::string>> rows = {{"USER", "ADMIN", "HOSTS", "CREATED"}};
      for (const auto& u : *us) {
        size_t n = 0;
        for (const auto& h : *hs) n += h.owner == u.id;
        rows.push_back({u.name, u.admin ? "yes" : "no", std::to_string(n), when(u.created)});
      }
      print_table(rows);
      return kOk;
    });
  });
}

void add_host_commands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  auto* host = app.add_subcommand("host", "DynDNS hostnames and their owners");
  host->require_subcommand(1);

  auto* add = host->add_subcommand(
      "add", "Add a hostname inside a DDNS zone; prints its update token (shown only once)");
  add->add_option("fqdn", s.name, "Hostname, e.g. home.example.test")->required();
  add->add_option("--owner", s.owner, "The user who owns it")->required();
  add->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto h = a.add_host(s.name, s.owner);
      if (!h) return fail(h.error());
      std::cout << h->token << '\n';
      std::cerr << "host " << h->host.name << " added in zone " << h->host.zone << " for "
                << h->host.owner_name << "; the line above is its update token\n";
      return kOk;
    });
  });

  auto* del = host->add_subcommand("del", "Delete a hostname (and its history)");
  del->alias("delete");
  del->add_option("fqdn", s.name, "Hostname")->required();
  del->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto r = a.delete_host(s.name);
      if (!r) return fail(r.error());
      std::cout << "host " << accounts::normalize_host(s.name)
                << " deleted; ddnsd removes its A/AAAA/TXT records (at once if it is running, "
                   "else when it starts)\n";
      return kOk;
    });
  });

  auto* list = host->add_subcommand("list", "List hostnames");
  list->add_option("--owner", s.owner, "Only this user's hostnames");
  list->callback([st] {
    State& s = *st;
    with_accounts(s, false, [&](Accounts& a) {
      auto hs = a.list_hosts(s.owner);
      if (!hs) return fail(hs.error());
      std::vector<std::vector<std::string>> rows = {
          {"HOST", "OWNER", "ZONE", "IPV4", "IPV6", "UPDATED"}};
      for (const auto& h : *hs) {
        rows.push_back({h.name, h.owner_name, h.zone, h.last_ipv4.empty() ? "-" : h.last_ipv4,
                        h.last_ipv6.empty() ? "-" : h.last_ipv6, when(h.updated)});
      }
      print_table(rows);
      return kOk;
    });
  });

  auto* token = app.add_subcommand("token", "Per-host update tokens");
  token->require_subcommand(1);
  auto* rotate = token->add_subcommand(
      "rotate", "Give a hostname a new update token (printed); the old one stops working");
  rotate->add_option("fqdn", s.name, "Hostname")->required();
  rotate->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto t = a.rotate_token(s.name);
      if (!t) return fail(t.error());
      std::cout << *t << '\n';
      return kOk;
    });
  });
}

void add_zone_commands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  auto* zone = app.add_subcommand("ddns-zone", "Zones opened for DynDNS hostnames");
  zone->require_subcommand(1);

  auto* add = zone->add_subcommand("add", "Open a zone for DynDNS hostnames (idempotent)");
  add->alias("open");
  add->add_option("zone", s.name, "Zone, e.g. example.test (ddnsd must serve it)")->required();
  add->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto r = a.add_zone(s.name);
      if (!r) return fail(r.error());
      std::cout << "zone " << accounts::normalize_host(s.name) << " open for DDNS\n";
      return kOk;
    });
  });

  auto* del = zone->add_subcommand("del", "Close a zone for DynDNS hostnames");
  del->alias("close");
  del->alias("delete");
  del->add_option("zone", s.name, "Zone")->required();
  del->callback([st] {
    State& s = *st;
    with_accounts(s, true, [&](Accounts& a) {
      auto r = a.delete_zone(s.name);
      if (!r) return fail(r.error());
      std::cout << "zone " << accounts::normalize_host(s.name) << " closed for DDNS\n";
      return kOk;
    });
  });

  auto* list = zone->add_subcommand("list", "List zones open for DynDNS hostnames");
  list->callback([st] {
    with_accounts(*st, false, [&](Accounts& a) {
      auto zs = a.list_zones();
      if (!zs) return fail(zs.error());
      for (const auto& z : *zs) std::cout << z << '\n';
      return kOk;
    });
  });
}

}  // namespace

void add_account_commands(CLI::App& app, const std::string* data_dir, int* exit_code) {
  auto st = std::make_shared<State>();
  st->data_dir = data_dir;
  st->exit_code = exit_code;
  add_user_commands(app, st);
  add_host_commands(app, st);
  add_zone_commands(app, st);
}

}  // namespace ddns::cli
