// DynDNS2 update URL and answer codes (see dyndns2.h).
#include "client/dyndns2.h"

#include "client/http.h"

namespace ddns::client {

// Declared in http.h; defined here so the DynDNS2 codec (and its fuzz
// target) needs no libcurl.
std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string dyndns2_url(std::string_view server, std::string_view hostname,
                        const std::optional<IpAddr>& v4, const std::optional<IpAddr>& v6) {
  std::string url(server);
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) {
    url += "/nic/update";
  } else if (path == url.size() - 1) {
    url += "nic/update";
  }
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "hostname=" + url_encode(hostname);
  std::string myip;
  if (v4) myip = v4->text();
  if (v6) myip += (myip.empty() ? "" : ",") + v6->text();
  if (!myip.empty()) url += "&myip=" + url_encode(myip);
  return url;
}

UpdateResult dyndns2_result(long status, std::string_view body) {
  UpdateResult r;
  std::string_view line = body.substr(0, body.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (line.size() > 200) line = line.substr(0, 200);
  r.detail = std::string(line);
  for (char& c : r.detail)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // keep log lines clean
  std::string_view word = line.substr(0, line.find(' '));

  if (status == 401 || status == 403) {
    r.verdict = Verdict::Stop;
    r.code = "badauth";
    r.detail = "HTTP " + std::to_string(status) + (r.detail.empty() ? "" : ": " + r.detail);
    return r;
  }
  if (status >= 500 || status < 200 || status >= 300) {
    r.verdict = Verdict::Retry;
    r.code = "http " + std::to_string(status);
    if (status >= 500 && word == "911") r.min_retry_s = 300;
    return r;
  }
  if (word == "good" || word == "nochg") {
    r.verdict = Verdict::Good;
    r.code = std::string(word);
    return r;
  }
  // Permanent refusals: the config (credentials, hostname, client) is wrong
  // or the server told us to stop; repeating them is what gets clients
  // blocked.
  for (std::string_view w : {"badauth", "!yours", "notfqdn", "nohost", "numhost", "abuse",
                             "badagent", "!donator", "badsys"}) {
    if (word == w) {
      r.verdict = Verdict::Stop;
      r.code = std::string(word);
      return r;
    }
  }
  if (word == "911") {
    r.verdict = Verdict::Retry;
    r.code = "911";
    r.min_retry_s = 300;  // the server is in trouble: never sooner than 5 minutes
    return r;
  }
  if (word == "dnserr") {
    r.verdict = Verdict::Retry;
    r.code = "dnserr";
    return r;
  }
  r.verdict = Verdict::Retry;
  r.code = "badreply";
  return r;
}

}  // namespace ddns::client
