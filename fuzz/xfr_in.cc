// libFuzzer target: the secondary's transfer-response parser (xfr::TransferReader
// over wire::parse), fed a stream of length-framed messages as from a primary.
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/message.h"
#include "xfr/in.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  // Byte 0 picks AXFR or IXFR, bytes 1-4 our serial; then RFC 1035 §4.2.2
  // framed messages.
  uint16_t qtype = (data[0] & 1) ? 251 : 252;
  uint32_t ours = uint32_t(data[1]) << 24 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 8 | data[4];
  static const ddns::wire::Name origin = *ddns::wire::Name::from_text("example.test.");
  ddns::xfr::TransferReader reader(origin, qtype, ours, 10000);
  size_t pos = 5;
  while (pos + 2 <= size) {
    size_t len = size_t(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    if (len > size - pos) len = size - pos;
    std::span<const uint8_t> msg(data + pos, len);
    pos += len;
    ddns::wire::ParseInfo info;
    auto m = ddns::wire::parse(msg, &info);
    if (!m) return 0;
    for (const auto& rr : m->answer)
      if (rr.type == 6) (void)ddns::xfr::soa_timers(rr.rdata);
    auto done = reader.add(std::move(m->answer));
    if (!done) return 0;
    if (*done) {
      auto t = reader.take();
      (void)t;
      return 0;
    }
  }
  return 0;
}
