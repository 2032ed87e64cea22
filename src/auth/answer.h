// The authoritative answer engine: query bytes in, response bytes out, no
// I/O. Collects the answer (RRsets per section) from the zone snapshot,
// then encodes it in one place (compression, truncation, EDNS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "zone/zone.h"

namespace ddns::auth {

struct Options {
  bool round_robin = true;          // rotate records within each RRset
  uint16_t max_udp_size = 1232;     // caps the client's EDNS size
  bool chaos = true;                // answer CH TXT version.bind / id.server
  std::string version = "ddns";    // version.bind / version.server text
  std::string identity;             // id.server / hostname.bind text ("" = hostname)
};

enum class Transport : uint8_t { Udp, Tcp };

// Writes the response to `query` into out[0..cap) and returns its size, or
// 0 when the query must be dropped (not parseable as a DNS header, or a
// response). `rotate` varies the round-robin start (e.g. a per-worker
// counter). Never throws; never reads past `query`.
size_t answer(const zone::ZoneSet& zones, const Options& opt, std::span<const uint8_t> query,
              Transport transport, uint8_t* out, size_t cap, uint32_t rotate);

}  // namespace ddns::auth
