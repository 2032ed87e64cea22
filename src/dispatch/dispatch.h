// The one dispatcher of received DNS messages: rejects cheap cases first,
// answers plain queries through the answer engine (no parse, no allocation),
// and parses and TSIG-verifies every other message once (RFC 8945 §5.2,
// replay check included) before handing it to its protocol module: the
// zone writer (UPDATE), xfr/out (AXFR/IXFR), xfr/notify (NOTIFY). No I/O:
// the caller sends, streams or submits what the Outcome says.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <variant>

#include "auth/answer.h"
#include "net/frontend.h"
#include "net/snapshot.h"
#include "tsig/tsig.h"
#include "update/writer.h"
#include "xfr/notify.h"
#include "xfr/out.h"
#include "zone/zone.h"

namespace ddns::dispatch {

// One message as the network received it.
struct Received {
  std::span<const uint8_t> bytes;  // untrusted
  net::Transport transport = net::Transport::Udp;
  const sockaddr* source = nullptr;  // null when unknown
  socklen_t source_len = 0;
};

// ---- Outcomes: exactly one per message ---------------------------------------

// The answer is in out[0..size).
struct Answer {
  size_t size = 0;
};
// Send nothing (a response, a runt, an answer that cannot be built).
struct Drop {};
// An UPDATE (RFC 2136) for a dynamic zone, parsed and its TSIG verified
// (request.message, request.verified set). The caller sets request.reply
// and submits it to `writer`; when the writer refuses it, writer_refused()
// makes the SERVFAIL answer.
struct ToWriter {
  update::ZoneWriter* writer = nullptr;
  update::WriteRequest request;
};
// A TCP zone transfer (RFC 5936, RFC 1995): the caller streams it
// (xfr::logged(std::move(stream)) is a net::MessageSource).
struct TransferOut {
  xfr::TransferStream stream;
};
// An accepted NOTIFY (RFC 1996 §3.7): the answer is in out[0..size); the
// caller tells the secondary to refresh `zone` soon.
struct NotifyReceived {
  wire::Name zone;
  size_t size = 0;
};
using Outcome = std::variant<Answer, Drop, ToWriter, TransferOut, NotifyReceived>;

// What the dispatcher routes to; shared (read-only) by every thread.
struct Context {
  auth::Options auth;
  const tsig::KeyRing* ring = nullptr;  // null = no keys (every TSIG is BADKEY)
  // RFC 8945 §5.2.3: one cache for every message and thread, so a replayed
  // UPDATE, transfer or query inside the fudge window gets BADTIME alike.
  tsig::ReplayCache* replay = nullptr;
  // The writer of a dynamic zone `origin`, or null (then UPDATE gets
  // REFUSED for a zone we serve, NOTAUTH otherwise; RFC 2136 §3.1.2).
  std::function<update::ZoneWriter*(const wire::Name& origin)> writer;
  // Set on a primary (every ddnsd): transfer ACLs and the IXFR journal.
  // The current map is read once per transfer (SIGHUP replaces it).
  const net::Published<xfr::AclMap>* transfer_acls = nullptr;  // null: transfers REFUSED
  store::Store* journal = nullptr;             // null: IXFR answered with a full transfer
  // Set on a secondary: a zone's configured primaries (NOTIFY sources).
  xfr::PrimariesOf notify_primaries;  // null: NOTIFY REFUSED
  // Seconds since the epoch, for TSIG; read only for signed messages.
  uint64_t (*clock)() = &tsig::now_seconds;
};

// One per network thread (keeps that thread's round-robin counter). `ctx`
// must outlive it.
class Dispatcher {
 public:
  Dispatcher(const Context& ctx, uint32_t seed);

  // Routes `rx`, answering against `zones`; writes any answer into
  // out[0..cap). Never throws on bad input (std::bad_alloc aside).
  Outcome dispatch(const zone::ZoneSet& zones, const Received& rx, uint8_t* out, size_t cap);

 private:
  Outcome slow(const zone::ZoneSet& zones, const Received& rx, uint8_t* out, size_t cap);
  Outcome update(const zone::ZoneSet& zones, const Received& rx, wire::Message msg,
                 std::optional<tsig::Verified> v, uint8_t* out, size_t cap);
  Outcome signed_query(const zone::ZoneSet& zones, const Received& rx, size_t tsig_offset,
                       const tsig::Verified& v, uint8_t* out, size_t cap);

  const Context& ctx_;
  uint32_t rotate_;
};

// The answer when `writer` refused a ToWriter request (queue full or
// stopping): SERVFAIL, signed like any answer to it.
size_t writer_refused(const update::WriteRequest& request, uint64_t now, uint8_t* out,
                      size_t cap);

}  // namespace ddns::dispatch
