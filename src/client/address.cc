// Address values, scopes, checkip/command output parsing, interface
// addresses and running an address command (see address.h).
#include "client/address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ddns::client {

std::string_view family_text(Family f) { return f == Family::V4 ? "IPv4" : "IPv6"; }

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = Family::V4;
  } else {
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = Family::V6;
  }
  return a;
}

std::string IpAddr::text() const {
  char buf[INET6_ADDRSTRLEN];
  const char* r = inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return r ? std::string(r) : std::string();
}

bool IpAddr::operator==(const IpAddr& o) const {
  if (family != o.family) return false;
  size_t n = family == Family::V4 ? 4 : 16;
  return std::equal(bytes.begin(), bytes.begin() + long(n), o.bytes.begin());
}

// RFC 6890 special-purpose registries: what must never be published, and
// what is private unless the user says it is what they want.
Scope scope_of(const IpAddr& a) {
  const auto& b = a.bytes;
  if (a.family == Family::V4) {
    if (b[0] == 0 || b[0] == 127) return Scope::Unusable;               // this net, loopback
    if (b[0] == 169 && b[1] == 254) return Scope::Unusable;             // link-local, RFC 3927
    if (b[0] >= 224) return Scope::Unusable;                            // multicast, reserved
    if (b[0] == 10) return Scope::Private;                              // RFC 1918
    if (b[0] == 172 && (b[1] & 0xF0) == 16) return Scope::Private;
    if (b[0] == 192 && b[1] == 168) return Scope::Private;
    if (b[0] == 100 && (b[1] & 0xC0) == 64) return Scope::Private;      // RFC 6598 CGNAT
    return Scope::Global;
  }
  static const uint8_t zero[16] = {};
  if (std::memcmp(b.data(), zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
    return Scope::Unusable;                                             // ::, ::1
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return Scope::Unusable;    // fe80::/10
  if (b[0] == 0xFF) return Scope::Unusable;                             // multicast
  if (std::memcmp(b.data(), zero, 10) == 0 && b[10] == 0xFF && b[11] == 0xFF)
    return Scope::Unusable;                                             // v4-mapped
  if ((b[0] & 0xFE) == 0xFC) return Scope::Private;                     // ULA, RFC 4193
  return Scope::Global;
}

namespace {

bool addr_char(char c, Family f) {
  if (c >= '0' && c <= '9') return true;
  if (c == '.') return true;
  if (f == Family::V4) return false;
  return c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The address in the run of address characters starting at `pos`, or none.
std::optional<IpAddr> address_at(std::string_view text, size_t pos, Family f, size_t* end) {
  size_t e = pos;
  while (e < text.size() && e - pos < 64 && addr_char(text[e], f)) ++e;
  *end = e;
  std::string_view run = text.substr(pos, e - pos);
  while (!run.empty() && run.back() == '.') run.remove_suffix(1);  // "is 192.0.2.1."
  if (run.size() > 1 && run[0] == ':' && run[1] != ':') run.remove_prefix(1);  // "IP:2001:db8::1"
  auto a = IpAddr::parse(run);
  if (a && a->family == f) return a;
  return std::nullopt;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

size_t find_nocase(std::string_view hay, std::string_view needle, size_t from) {
  if (needle.empty()) return from <= hay.size() ? from : std::string_view::npos;
  if (needle.size() > hay.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && lower(hay[i + k]) == lower(needle[k])) ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

bool at_nocase(std::string_view hay, size_t pos, std::string_view needle) {
  if (pos > hay.size() || hay.size() - pos < needle.size()) return false;
  for (size_t k = 0; k < needle.size(); ++k)
    if (lower(hay[pos + k]) != lower(needle[k])) return false;
  return true;
}

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

}  // namespace

Result<void> check_pattern(std::string_view pattern) {
  if (pattern.empty()) return {};
  size_t at = pattern.find("{ip}");
  if (at == std::string_view::npos) return make_error("pattern must contain {ip}");
  if (pattern.find("{ip}", at + 4) != std::string_view::npos)
    return make_error("pattern must contain {ip} only once");
  return {};
}

std::optional<IpAddr> extract_address(std::string_view text, Family family, std::string_view pattern) {
  if (pattern.empty()) {
    size_t i = 0;
    while (i < text.size()) {
      if (!addr_char(text[i], family)) {
        ++i;
        continue;
      }
      size_t end = i;
      // Only a run that starts a token: "abc1.2.3.4" is not an address.
      bool starts = i == 0 || !addr_char(text[i - 1], family);
      auto a = address_at(text, i, family, &end);
      if (starts && a) return a;
      i = std::max(end, i + 1);
      while (i < text.size() && addr_char(text[i], family)) ++i;  // rest of an overlong run
    }
    return std::nullopt;
  }
  size_t at = pattern.find("{ip}");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view before = pattern.substr(0, at);
  std::string_view after = pattern.substr(at + 4);
  // Blanks around {ip} match any run of blanks (skip_ws below).
  while (!after.empty() && (after[0] == ' ' || after[0] == '\t' || after[0] == '\n' || after[0] == '\r'))
    after.remove_prefix(1);
  size_t from = 0;
  while (from <= text.size()) {
    size_t m = find_nocase(text, before, from);
    if (m == std::string_view::npos) return std::nullopt;
    size_t p = skip_ws(text, m + before.size());
    size_t end = p;
    auto a = address_at(text, p, family, &end);
    if (a) {
      size_t q = after.empty() ? end : skip_ws(text, end);
      // The address run may have eaten a trailing '.' that the pattern names.
      size_t tail = end;
      while (tail > p && text[tail - 1] == '.') --tail;
      if (after.empty() || at_nocase(text, q, after) || at_nocase(text, skip_ws(text, tail), after))
        return a;
    }
    if (before.empty()) return std::nullopt;  // anchored at the start only
    from = m + 1;
  }
  return std::nullopt;
}

namespace {

struct Candidate {
  IpAddr addr;
  int rank;  // lower is better
};

void add_candidate(std::vector<Candidate>& out, const IpAddr& a, bool temporary,
                   const InterfaceOptions& opts) {
  Scope s = scope_of(a);
  if (s == Scope::Unusable) return;
  if (s == Scope::Private && !opts.allow_private) return;
  if (temporary && !opts.allow_temporary) return;
  for (const auto& c : out)
    if (c.addr == a) return;
  out.push_back({a, (s == Scope::Private ? 2 : 0) + (temporary ? 1 : 0)});
}

bool name_matches(const InterfaceOptions& opts, std::string_view ifname) {
  return opts.name.empty() || opts.name == "*" || opts.name == ifname;
}

// /proc/net/if_inet6: "<32 hex addr> <ifindex> <plen> <scope> <flags> <name>".
bool read_if_inet6(const InterfaceOptions& opts, std::vector<Candidate>& out, bool* seen_name) {
  std::ifstream in("/proc/net/if_inet6");
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string hex, idx, plen, scope, flags, name;
    if (!(ls >> hex >> idx >> plen >> scope >> flags >> name) || hex.size() != 32) continue;
    if (!name_matches(opts, name)) continue;
    *seen_name = true;
    IpAddr a;
    a.family = Family::V6;
    bool bad = false;
    for (size_t i = 0; i < 16; ++i) {
      unsigned v = 0;
      if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) bad = true;
      a.bytes[i] = uint8_t(v);
    }
    if (bad) continue;
    unsigned long f = std::strtoul(flags.c_str(), nullptr, 16);
    constexpr unsigned long kTemporary = 0x01, kDadFailed = 0x08, kDeprecated = 0x20,
                            kTentative = 0x40;
    if (f & (kDadFailed | kTentative)) continue;  // not usable yet / at all
    add_candidate(out, a, (f & (kTemporary | kDeprecated)) != 0, opts);
  }
  return true;
}

}  // namespace

Result<std::vector<IpAddr>> interface_addresses(Family family, const InterfaceOptions& opts) {
  std::vector<Candidate> found;
  bool seen_name = false;
  bool done = family == Family::V6 && read_if_inet6(opts, found, &seen_name);
  if (!done) {
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return make_error(std::string("getifaddrs: ") + std::strerror(errno));
    for (auto* i = list; i; i = i->ifa_next) {
      if (!i->ifa_name || !name_matches(opts, i->ifa_name)) continue;
      seen_name = true;
      if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
      IpAddr a;
      if (family == Family::V4 && i->ifa_addr->sa_family == AF_INET) {
        a.family = Family::V4;
        std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      } else if (family == Family::V6 && i->ifa_addr->sa_family == AF_INET6) {
        a.family = Family::V6;
        std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      add_candidate(found, a, false, opts);
    }
    freeifaddrs(list);
  }
  if (!seen_name && !opts.name.empty() && opts.name != "*") {
    // IPv6 may be off on an interface that exists: ask the kernel by name.
    if (if_nametoindex(opts.name.c_str()) == 0) return make_error("no interface '" + opts.name + "'");
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Candidate& a, const Candidate& b) { return a.rank < b.rank; });
  std::vector<IpAddr> out;
  for (auto& c : found) out.push_back(c.addr);
  return out;
}

Result<std::string> run_command(const std::string& command, int timeout_ms, size_t max_bytes) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return make_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);  // own group, so a timeout kills the whole pipeline
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  close(fds[1]);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, int(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < max_bytes) out.append(buf, std::min(size_t(n), max_bytes - out.size()));
  }
  close(fds[0]);
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return make_error("command timed out after " + std::to_string(timeout_ms) + " ms");
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return make_error("command exited with status " + std::to_string(WEXITSTATUS(status)));
  if (WIFSIGNALED(status)) return make_error("command killed by signal " + std::to_string(WTERMSIG(status)));
  return out;
}

}  // namespace ddns::client
