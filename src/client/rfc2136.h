// RFC 2136 dynamic update for ddns-client: replaces the A and/or AAAA
// RRset of one name (delete RRset + add, RFC 2136 §2.5.2/§2.5.1) in one
// TSIG-signed message (RFC 8945), sent over UDP with a TCP retry on TC,
// and checks the signed answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "client/address.h"
#include "client/dyndns2.h"
#include "tsig/tsig.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ddns::client {

struct Rfc2136Request {
  wire::Name zone;
  wire::Name name;
  uint32_t ttl = 60;
  std::optional<IpAddr> v4, v6;  // each given family's RRset is replaced
  uint16_t id = 0;
};

// The unsigned UPDATE message (zone section = zone SOA IN, no
// prerequisites, update section = deletes then adds).
Result<wire::Bytes> build_update(const Rfc2136Request& req);

// Maps the server's RCODE (and the TSIG check) to the client's next step.
// NOERROR = Good; NOTAUTH/REFUSED/NOTZONE/FORMERR/NOTIMP/YXDOMAIN... = Stop
// (the config or the server's policy is wrong); SERVFAIL = Retry.
UpdateResult rfc2136_result(uint16_t rcode, uint16_t tsig_error);

struct Rfc2136Target {
  std::string server;   // "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53", "ns.example.test"
  int timeout_ms = 5000;
};

// Signs `req` with `key` (null = unsigned), sends it, reads and verifies
// the answer: an answer that is not signed by the key (or fails the MAC)
// is never taken as success.
UpdateResult rfc2136_update(const Rfc2136Target& target, const Rfc2136Request& req,
                            const tsig::Key* key, uint64_t now);

}  // namespace ddns::client
