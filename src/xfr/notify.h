// NOTIFY (RFC 1996). Sender: after a zone changes, tells each configured
// secondary over UDP, retransmitting with backoff until a matching answer
// arrives; a newer serial replaces a NOTIFY still pending for that target.
// Receiver: a secondary's checks of an incoming NOTIFY and its response.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "net/endpoint.h"
#include "tsig/tsig.h"
#include "wire/message.h"
#include "wire/name.h"
#include "xfr/in.h"
#include "zone/zone.h"

namespace ddns::xfr {

struct NotifyTarget {
  net::Endpoint addr;
  std::optional<tsig::Key> key;  // sign the NOTIFY (and expect a signed answer)
  std::string text;              // as configured, for logs

  // "ADDR:PORT", "[V6]:PORT", "ADDR" (port 53), each with an optional
  // "@KEYNAME" suffix naming a key of `ring`.
  static Result<NotifyTarget> parse(std::string_view text, const tsig::KeyRing& ring);
};

struct NotifyOptions {
  // Wait before each retransmission (RFC 1996 §3.6); the number of entries
  // is the number of retries after the first send.
  std::vector<std::chrono::milliseconds> backoff = {
      std::chrono::milliseconds(1000), std::chrono::milliseconds(2000),
      std::chrono::milliseconds(4000), std::chrono::milliseconds(8000)};
};

struct NotifyStats {
  uint64_t sent = 0;      // datagrams, retransmissions included
  uint64_t acked = 0;     // NOERROR answers
  uint64_t rejected = 0;  // answers with another RCODE (or a bad TSIG)
  uint64_t given_up = 0;  // no answer after every retry
  uint64_t replaced = 0;  // pending NOTIFYs superseded by a newer serial
};

class NotifySender {
 public:
  explicit NotifySender(NotifyOptions opts = {});
  ~NotifySender();
  NotifySender(const NotifySender&) = delete;
  NotifySender& operator=(const NotifySender&) = delete;

  // Who to notify for `zone` (replaces earlier targets). Call before start().
  void set_targets(const wire::Name& zone, std::vector<NotifyTarget> targets);
  bool has_targets(const wire::Name& zone) const;

  Result<void> start();  // opens the sockets, starts the thread
  void stop();           // idempotent; pending NOTIFYs are dropped

  // Queues a NOTIFY of `zone` carrying `soa` (RFC 1996 §3.7: the SOA in the
  // answer section) to each target. Never blocks beyond a short lock.
  void notify(const wire::Name& zone, const wire::RR& soa);
  // The same to `targets` instead of the configured ones (the NS-derived
  // list changes with the zone's data).
  void notify(const wire::Name& zone, const wire::RR& soa, std::vector<NotifyTarget> targets);

  NotifyStats stats() const;

 private:
  void queue(const wire::Name& zone, const wire::RR& soa,
             std::optional<std::vector<NotifyTarget>> targets);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 1996 §3.3-3.6: the zone's NS hosts as NOTIFY targets on `port`, at
// the A/AAAA addresses `all` (the zones we serve, `z`'s own data included)
// holds for them. The SOA MNAME host is the primary itself and is left out,
// as are the `own` endpoints we listen on. NS names without an address we
// know are appended to `unknown` (there is no resolver here).
std::vector<NotifyTarget> ns_targets(const zone::Zone& z, const zone::ZoneSet& all, uint16_t port,
                                     std::span<const net::Endpoint> own,
                                     std::vector<std::string>* unknown);
// `configured` then the `extra` entries whose address none of them has (a
// configured entry, perhaps with a TSIG key, wins).
std::vector<NotifyTarget> merge_targets(const std::vector<NotifyTarget>& configured,
                                        std::vector<NotifyTarget> extra);

// The NOTIFY request (opcode NOTIFY, AA, question zone/SOA/IN, the SOA in
// the answer section), signed with `key` when given (its MAC to `mac_out`).
Result<std::vector<uint8_t>> make_notify(uint16_t id, const wire::Name& zone, const wire::RR& soa,
                                         const tsig::Key* key, std::vector<uint8_t>* mac_out);

// ---- Receiving (a secondary) -------------------------------------------------

// A NOTIFY request, parsed once and its TSIG verified by the caller (the
// dispatcher).
struct NotifyRequest {
  const wire::Message* msg = nullptr;
  const tsig::Verified* signer = nullptr;  // its valid TSIG; null when unsigned
  const sockaddr* source = nullptr;        // null when unknown (then refused)
  socklen_t source_len = 0;
};

// The configured primaries of a secondary zone, or null when `zone` is not
// a secondary zone here.
using PrimariesOf = std::function<const std::vector<PrimaryAddr>*(const wire::Name& zone)>;

enum class NotifyVerdict : uint8_t {
  Accepted,  // NOERROR: the zone should be refreshed soon (RFC 1996 §3.7)
  FormErr,   // not exactly one question, or not SOA/IN (§3.7)
  NotAuth,   // not a secondary zone here
  Refused,   // not from a configured primary, or without its key (§3.10)
};

// RFC 1996 §3.7, §3.10: what a secondary makes of `req`.
NotifyVerdict check_notify(const NotifyRequest& req, const PrimariesOf& primaries);

// The response (RFC 1996 §4.7: the question echoed, AA on NOERROR), signed
// with the request's key when it was signed. Returns its size (0: no room).
size_t notify_response(const NotifyRequest& req, NotifyVerdict verdict, uint8_t* out, size_t cap,
                       uint64_t now);

}  // namespace ddns::xfr
