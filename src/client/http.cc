// libcurl GET for ddns-client (see http.h).
#include "client/http.h"

#include <curl/curl.h>

#include <mutex>

namespace ddns::client {

namespace {

constexpr size_t kMaxBody = 64 * 1024;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t len = size * n;
  if (body->size() < kMaxBody) body->append(data, std::min(len, kMaxBody - body->size()));
  return len;  // keep reading (and discarding) so the status is still seen
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpResponse http_get(const HttpRequest& req) {
  global_init();
  HttpResponse res;
  CURL* h = curl_easy_init();
  if (!h) {
    res.error = "curl_easy_init failed";
    return res;
  }
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(req.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(req.timeout_ms));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // an update must not wander off
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &res.body);
  if (!req.user_agent.empty()) curl_easy_setopt(h, CURLOPT_USERAGENT, req.user_agent.c_str());
  if (!req.user.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, long(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, req.user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, req.password.c_str());
  }
  if (req.resolve == HttpRequest::Resolve::V4)
    curl_easy_setopt(h, CURLOPT_IPRESOLVE, long(CURL_IPRESOLVE_V4));
  else if (req.resolve == HttpRequest::Resolve::V6)
    curl_easy_setopt(h, CURLOPT_IPRESOLVE, long(CURL_IPRESOLVE_V6));
  if (!req.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
  if (req.insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    res.transport_ok = true;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res.status);
  } else {
    res.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    res.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  curl_easy_cleanup(h);
  return res;
}

}  // namespace ddns::client
