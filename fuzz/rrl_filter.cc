// libFuzzer target: net::Rrl::filter() on arbitrary "answers" (the
// classifier walks questions, answer RRs and compressed authority owners):
// it must never read past the buffer, and a slipped answer is never longer
// than the original.
#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "net/rrl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ddns::net::Rrl* rrl = [] {
    spdlog::set_level(spdlog::level::off);  // "limiting" lines would flood the run's output
    auto* r = new ddns::net::Rrl(1024, 1);
    ddns::net::RrlSettings s;
    s.responses_per_second = 1;
    s.slip = 1;
    r->configure(s);
    return r;
  }();
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0xC0000201);
  std::vector<uint8_t> buf(data, data + size);  // exact size: ASan sees any overread
  static uint32_t now = 0;
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> copy = buf;
    size_t n = rrl->filter(ss, copy.data(), copy.size(), now / 4);
    if (n > size) __builtin_trap();
  }
  ++now;
  return 0;
}
