// libFuzzer target for ddns-client's config reader (yaml-cpp + config
// checks): any text either fails with a message naming the file or gives a
// config whose hosts passed finish_host() again unchanged.
//
// The fuzz build links the layers under ddns_server, not ddns_client (which
// needs libcurl), so the reader's sources are compiled in here; they use
// only base, wire and yaml-cpp (linked through conf).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "client/address.cc"  // NOLINT: see above
#include "client/config.cc"   // NOLINT

namespace {

void check(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "client_config: %s\n", why);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Keep the fuzzer away from reading real files through password-file.
  if (text.find("password-file") != std::string_view::npos) return 0;
  auto cfg = ddns::client::parse_config(text, "f");
  if (!cfg) {
    check(cfg.error().message.rfind("f", 0) == 0, "config error without file name");
    return 0;
  }
  for (auto h : cfg->hosts) {
    auto before = h.config_hash();
    check(ddns::client::finish_host(h).ok(), "finished host fails finish_host again");
    check(before == h.config_hash(), "finish_host is not idempotent");
  }
  return 0;
}
