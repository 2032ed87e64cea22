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
  // RFC 8482 §4.1: over UDP an ANY query gets one RRset (the lowest type
  // code, as Knot DNS picks). Over TCP we return every RRset of the node;
  // Knot 3.2 returns one there too (set false to match it exactly).
  bool any_all_over_tcp = true;
};

enum class Transport : uint8_t { Udp, Tcp };

// Writes the response to `query` into out[0..cap) and returns its size, or
// 0 when the query must be dropped (not parseable as a DNS header, or a
// response). `rotate` varies the round-robin start (e.g. a per-worker
// counter). Never throws; never reads past `query`.
//
// Outcomes (matching Knot DNS 3.2 unless noted):
//  - dropped: shorter than a header, QR set;
//  - FORMERR: qdcount != 1, malformed question/records, bad or second OPT
//    (no question echoed when it could not be read; no OPT in the reply);
//  - NOTIMP: opcodes other than QUERY (UPDATE goes elsewhere; NOTIFY too
//    with answer_or_divert()),
//    AXFR over UDP; NOTAUTH: AXFR over TCP and IXFR (answer() only);
//  - SERVFAIL for a zone marked expired (a secondary past SOA expire);
//  - BADVERS for EDNS version > 0 (RFC 6891 §6.1.3), OPT version 0;
//  - REFUSED: class not IN/CH/ANY, names outside every zone, CH queries
//    other than TXT version.bind/version.server/id.server/hostname.bind
//    (and all CH when Options::chaos is off);
//  - otherwise the RFC 1034 §4.3.2 answer with RFC 4592 wildcards, CNAME
//    chains (at most 5 CNAMEs, loops stopped, never into another zone),
//    RFC 6672 DNAME, referrals with glue, RFC 2308 negative answers.
// `cap` below 512 limits the reply further; a reply that cannot hold the
// header and question returns 0.
size_t answer(const zone::ZoneSet& zones, const Options& opt, std::span<const uint8_t> query,
              Transport transport, uint8_t* out, size_t cap, uint32_t rotate);

// What answer_or_divert() did with a message.
struct Answered {
  enum class Kind : uint8_t {
    Answer,    // the reply is in out[0..size) (size 0: drop)
    Diverted,  // nothing written: the caller routes it
  };
  Kind kind = Kind::Answer;
  size_t size = 0;

  // Implicit, so the engine's every `return n;` reads as an answer.
  Answered(size_t n) : size(n) {}  // NOLINT(google-explicit-constructor)
  static Answered diverted() {
    Answered a(0);
    a.kind = Kind::Diverted;
    return a;
  }
};

// answer() for a server that handles zone transfers, NOTIFY and TSIG
// itself: AXFR and IXFR queries for a served zone, NOTIFY messages and
// every TSIG-signed message are Diverted instead of answered. Everything
// else is answered exactly as answer() does, at the same cost.
Answered answer_or_divert(const zone::ZoneSet& zones, const Options& opt,
                          std::span<const uint8_t> query, Transport transport, uint8_t* out,
                          size_t cap, uint32_t rotate);

// Maximum number of CNAME/synthesized CNAME records followed in one answer
// (Knot DNS stops after 5).
inline constexpr int kMaxCnameChain = 5;

}  // namespace ddns::auth
