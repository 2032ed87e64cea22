// DynDNS2 protocol for ddns-client: the update URL and the meaning of the
// server's answer (the dyn.com "Perform Update" return codes that ddnsd,
// ddclient and inadyn share).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/address.h"

namespace ddns::client {

// What the client does next, whatever the protocol.
enum class Verdict : uint8_t {
  Good,    // the server has our addresses (good, nochg, NOERROR)
  Stop,    // do not send again until the config changes (badauth, abuse...)
  Retry,   // temporary: try again after a backoff (911, dnserr, 5xx, network)
};

struct UpdateResult {
  Verdict verdict = Verdict::Retry;
  std::string code;          // "good", "nochg", "badauth", "911", "http 500", "timeout"...
  std::string detail;        // the server's line / error text, for logs
  int min_retry_s = 0;       // a floor for the backoff (911: 300, RFC-less courtesy)
};

// server: "http(s)://host[:port][/path]". With no path (or "/") the standard
// "/nic/update" is used; a path is taken as the update script. myip lists
// the addresses given ("v4", "v6" or "v4,v6"); none = the server takes the
// connection's source address.
std::string dyndns2_url(std::string_view server, std::string_view hostname,
                        const std::optional<IpAddr>& v4, const std::optional<IpAddr>& v6);

// The answer for one host: HTTP status + body. 2xx bodies are read by
// their first word (one line per host; we send one host per request);
// 401/403 = badauth; 5xx = retry; other statuses and unknown words = retry
// with the text logged (never a silent success).
UpdateResult dyndns2_result(long http_status, std::string_view body);

}  // namespace ddns::client
