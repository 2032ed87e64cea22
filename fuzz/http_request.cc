// libFuzzer target for the HTTP text parsers of http/parse.h (Beast parses
// the HTTP framing itself): query strings, percent-decoding, Basic
// credentials, cookies, X-Forwarded-For / Forwarded and proxy networks.
// Any input must be handled without a crash, and results must be stable.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/parse.h"

using namespace ddns::http;

namespace {

void check(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "http_request: %s\n", why);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Split the input into up to four fields at '\n' so one input exercises
  // related fields (a header pair and a query) together.
  std::string_view f[4];
  std::string_view rest = in;
  for (int i = 0; i < 4; ++i) {
    size_t nl = rest.find('\n');
    f[i] = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }

  std::vector<std::pair<std::string, std::string>> q;
  parse_query(in, q);
  for (const auto& [k, v] : q) check(k.size() + v.size() <= in.size(), "query grew");
  std::string d1 = percent_decode(in, true), d2 = percent_decode(in, false);
  check(d1.size() == d2.size() && d1.size() <= in.size(), "percent_decode sizes");

  if (auto a = parse_basic_auth(f[0])) check(a->first.find(':') == std::string::npos, "user has ':'");
  (void)find_cookie(f[1], "session");

  if (auto ip = canonical_ip(f[0])) {
    auto again = canonical_ip(*ip);
    check(again && *again == *ip, "canonical_ip not idempotent");
  }

  ProxyList p;
  p.add("127.0.0.0/8");
  p.add("2001:db8::/32");
  bool added = p.add(f[2]);
  (void)added;
  (void)p.contains(f[3]);
  if (auto c = forwarded_client(f[1], f[2], p)) {
    auto again = canonical_ip(*c);
    check(again && *again == *c, "forwarded client not canonical");
  }
  (void)forwarded_client(in, "", p);
  (void)forwarded_client("", in, p);
  return 0;
}
