// libFuzzer target for the BIND key-file reader: any text either fails
// cleanly (with a "file:line: " message) or yields keys whose written form
// (to_bind_keyfile) reads back to the same name, algorithm and secret.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tsig/keyfile.h"

namespace {

void check(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "tsig_keyfile: %s\n", why);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = ddns::tsig::parse_keyfile(text, "f");
  if (!keys) {
    check(keys.error().message.rfind("f:", 0) == 0, "error without file:line");
    return 0;
  }
  std::string all;
  for (const auto& k : *keys) {
    check(!k.secret.empty(), "empty secret accepted");
    std::string one = ddns::tsig::to_bind_keyfile(k);
    auto back = ddns::tsig::parse_keyfile(one, "w");
    check(back.ok(), "written key does not parse");
    check(back->size() == 1, "written key count");
    const auto& b = (*back)[0];
    auto x = b.name.wire(), y = k.name.wire();
    check(std::string_view(reinterpret_cast<const char*>(x.data()), x.size()) ==
              std::string_view(reinterpret_cast<const char*>(y.data()), y.size()),
          "name changed in round trip");
    check(b.alg == k.alg, "algorithm changed in round trip");
    check(b.secret == k.secret, "secret changed in round trip");
    all += one;
  }
  auto again = ddns::tsig::parse_keyfile(all, "w");
  check(again.ok() && again->size() == keys->size(), "written file does not parse back");
  return 0;
}
