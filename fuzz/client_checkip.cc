// libFuzzer target for what ddns-client reads from others: checkip pages
// and command output (with and without a "{ip}" pattern), DynDNS2 answers,
// and its own cache file (parse -> serialize -> parse is stable).
//
// Input: byte 0 picks the family and pattern use; up to the first NUL is
// the pattern, the rest the text. The fuzz build does not link ddns_client
// (libcurl), so these curl-free sources are compiled in here.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "client/address.cc"  // NOLINT: see above
#include "client/cache.cc"    // NOLINT
#include "client/dyndns2.cc"  // NOLINT

namespace {

void check(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "client_checkip: %s\n", why);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ddns::client;
  if (size < 1 || size > 65536) return 0;
  Family f = (data[0] & 1) ? Family::V6 : Family::V4;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view pattern, text = rest;
  if (data[0] & 2) {
    size_t nul = rest.find('\0');
    if (nul != std::string_view::npos) {
      pattern = rest.substr(0, nul);
      text = rest.substr(nul + 1);
    }
    if (!check_pattern(pattern).ok()) pattern = {};
  }
  auto a = extract_address(text, f, pattern);
  if (a) {
    check(a->family == f, "wrong family");
    auto again = IpAddr::parse(a->text());
    check(again && *again == *a, "address text does not read back");
    (void)scope_of(*a);
  }

  auto r = dyndns2_result(long(data[0]) * 3, text);
  for (char c : r.detail) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control char in detail");

  Cache c1 = Cache::parse(text);
  std::string s1 = c1.serialize();
  Cache c2 = Cache::parse(s1);
  check(c2.serialize() == s1, "cache round trip differs");
  return 0;
}
