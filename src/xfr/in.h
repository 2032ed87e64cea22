// Incoming zone transfers (the secondary's client side): SOA query over UDP
// with TCP fallback, IXFR (RFC 1995) and AXFR (RFC 5936) over TCP, TSIG on
// every message (RFC 8945 §5.3.1), and TransferReader, the I/O-free parser
// of a transfer's response stream (also the fuzz target).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/endpoint.h"
#include "tsig/tsig.h"
#include "wire/message.h"
#include "wire/name.h"
#include "zone/changeset.h"

namespace ddns::xfr {

// One configured primary: "ADDR:PORT" or "ADDR:PORT@KEYNAME" ("[V6]:PORT").
struct PrimaryAddr {
  net::Endpoint addr;
  std::optional<tsig::Key> key;
  std::string text;  // as configured, for logs
};
// The key must be in `ring` (errors name the spec).
Result<PrimaryAddr> parse_primary(std::string_view spec, const tsig::KeyRing& ring);

// True when `sa` is the same address (any port) as `ep`; IPv4-mapped IPv6
// addresses match their IPv4 form.
bool same_address(const net::Endpoint& ep, const sockaddr* sa, socklen_t len);

// Bounds for one exchange: a transfer that exceeds any of them failed.
struct Limits {
  std::chrono::milliseconds udp_timeout{1500};
  int udp_tries = 2;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds idle_timeout{15000};    // between two TCP reads
  std::chrono::milliseconds total_timeout{600000};  // a whole transfer
  size_t max_records = 50'000'000;
  size_t max_bytes = size_t(4) << 30;               // wire octets of a transfer
};

// What a transfer brought.
struct Transfer {
  enum class Kind : uint8_t {
    UpToDate,     // IXFR answered with the single current SOA (RFC 1995 §4)
    Full,         // AXFR, or IXFR answered in AXFR form: `records` is the zone
    Incremental,  // IXFR difference sequences: `changes`, serial chained
  };
  Kind kind = Kind::UpToDate;
  uint32_t serial = 0;                   // the primary's serial
  std::vector<wire::RR> records;         // Full: the whole zone, SOA first
  std::vector<zone::ChangeSet> changes;  // Incremental
  size_t messages = 0;
  size_t bytes = 0;
};

// Consumes the answer records of a transfer's response messages in order
// (TSIG, id and rcode are checked by the caller, see run_transfer) and
// recognises the three IXFR answer shapes (RFC 1995 §4) or an AXFR
// (RFC 5936 §2.2). Records of another class or outside the zone are errors
// (the transfer fails, nothing is applied).
class TransferReader {
 public:
  // `qtype` is AXFR (252) or IXFR (251); `our_serial` is the serial sent in
  // an IXFR request (ignored for AXFR).
  TransferReader(wire::Name origin, uint16_t qtype, uint32_t our_serial, size_t max_records);
  // Feeds one message's answer section. Returns true when the transfer is
  // complete (no more records may follow), false when more messages are
  // expected; an Error on malformed content.
  Result<bool> add(std::vector<wire::RR>&& answer);
  // After add() returned true.
  Transfer take();
  bool done() const { return state_ == State::Done; }

 private:
  enum class State : uint8_t { Start, AfterFirst, Axfr, IxfrDel, IxfrAdd, Done };
  Result<bool> step(wire::RR&& rr);

  wire::Name origin_;
  uint16_t qtype_;
  uint32_t our_serial_;
  size_t max_records_;
  size_t count_ = 0;
  State state_ = State::Start;
  uint32_t new_serial_ = 0;
  wire::RR first_soa_;
  Transfer out_;
};

// A request message: id, question (origin, qtype, IN), and for IXFR our
// SOA in the authority section (RFC 1995 §3). Signed when `key` is set;
// `mac_out` then receives the request MAC.
Result<std::vector<uint8_t>> make_request(const wire::Name& origin, uint16_t qtype, uint16_t id,
                                          const wire::RR* our_soa, const tsig::Key* key,
                                          std::vector<uint8_t>* mac_out);

// The SOA serial a primary has now: UDP query, TCP when truncated. Signed
// and verified with the primary's key when it has one.
Result<uint32_t> query_soa(const PrimaryAddr& p, const wire::Name& origin, const Limits& lim,
                           const std::atomic<bool>* cancel = nullptr);

// One transfer over TCP: IXFR when `our_soa` is given (its serial is ours),
// else AXFR. Every message is checked (id, QR, opcode, rcode, question,
// TSIG chain when the primary has a key). `cancel` (optional) abandons it.
// An IXFR refused by the primary (NOTIMP, REFUSED, FORMERR...) comes back
// as an Error whose message starts with "rcode "; the caller falls back to
// AXFR.
Result<Transfer> run_transfer(const PrimaryAddr& p, const wire::Name& origin,
                              const wire::RR* our_soa, const Limits& lim,
                              const std::atomic<bool>* cancel = nullptr);

// The SOA serial in uncompressed SOA rdata (nullopt when malformed).
std::optional<uint32_t> soa_serial(std::span<const uint8_t> rdata);
// refresh, retry, expire, minimum of SOA rdata (nullopt when malformed).
struct SoaTimers {
  uint32_t refresh = 0, retry = 0, expire = 0, minimum = 0;
};
std::optional<SoaTimers> soa_timers(std::span<const uint8_t> rdata);

}  // namespace ddns::xfr
