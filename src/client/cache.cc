// ddns-client state file (see cache.h). Format, one host per line:
//   <key> TAB field=value TAB field=value ...
// Keys and values never hold tabs or newlines (they are replaced).
#include "client/cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ddns::client {

std::string_view state_text(CacheEntry::State s) {
  switch (s) {
    case CacheEntry::State::Ok: return "ok";
    case CacheEntry::State::Stopped: return "stopped";
    case CacheEntry::State::Retry: return "retry";
  }
  return "ok";
}

namespace {

std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\t' || c == '\n' || c == '\r' || c == '\0') c = ' ';
  return out;
}

template <class T>
bool to_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Cache Cache::parse(std::string_view text) {
  Cache c;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == 0 || tab == std::string_view::npos) continue;
    // Read back exactly what serialize() could have written: cleaned text,
    // and no key that would read as a comment.
    std::string key = clean(line.substr(0, tab));
    if (key[0] == '#') continue;
    CacheEntry e;
    bool bad = false;
    std::string_view rest = line.substr(tab + 1);
    while (!rest.empty() && !bad) {
      size_t t = rest.find('\t');
      std::string_view f = rest.substr(0, t);
      rest = t == std::string_view::npos ? std::string_view() : rest.substr(t + 1);
      size_t eq = f.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view k = f.substr(0, eq), v = f.substr(eq + 1);
      if (k == "hash") e.config_hash = clean(v);
      else if (k == "v4") e.v4 = clean(v);
      else if (k == "v6") e.v6 = clean(v);
      else if (k == "updated") bad = !to_int(v, e.updated);
      else if (k == "retry_at") bad = !to_int(v, e.retry_at);
      else if (k == "failures") bad = !to_int(v, e.failures);
      else if (k == "reason") e.reason = clean(v);
      else if (k == "state") {
        if (v == "ok") e.state = CacheEntry::State::Ok;
        else if (v == "stopped") e.state = CacheEntry::State::Stopped;
        else if (v == "retry") e.state = CacheEntry::State::Retry;
        else bad = true;
      }
    }
    if (!bad) c.entries_[key] = std::move(e);
  }
  return c;
}

std::string Cache::serialize() const {
  std::string out = "# ddns-client state: addresses last accepted per host. Safe to delete.\n";
  for (const auto& [k, e] : entries_) {
    out += clean(k);
    out += "\thash=" + clean(e.config_hash);
    out += "\tv4=" + clean(e.v4);
    out += "\tv6=" + clean(e.v6);
    out += "\tupdated=" + std::to_string(e.updated);
    out += "\tstate=" + std::string(state_text(e.state));
    out += "\treason=" + clean(e.reason);
    out += "\tretry_at=" + std::to_string(e.retry_at);
    out += "\tfailures=" + std::to_string(e.failures);
    out += '\n';
  }
  return out;
}

Result<Cache> Cache::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Cache{};
    return make_error(path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str());
}

Result<void> Cache::save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(tmp + ": " + std::strerror(errno));
  std::string data = serialize();
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(tmp + ": " + std::strerror(e));
    }
    done += size_t(n);
  }
  int sync_rc = ::fsync(fd);
  int sync_errno = errno;
  if (::close(fd) != 0 && sync_rc == 0) {
    sync_rc = -1;
    sync_errno = errno;
  }
  if (sync_rc != 0) {
    ::unlink(tmp.c_str());
    return make_error(tmp + ": " + std::strerror(sync_errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(path + ": " + std::strerror(e));
  }
  return {};
}

CacheEntry* Cache::find(const std::string& key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace ddns::client
