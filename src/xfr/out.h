// Outgoing zone transfers: the messages of an AXFR (RFC 5936) or IXFR
// (RFC 1995) answer, made one at a time from an immutable snapshot or a
// journal extract, packed up to 64 KB with name compression and signed as
// a TSIG stream (RFC 8945 §5.3.1) when the request was signed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "net/frontend.h"
#include "store/store.h"
#include "xfr/acl.h"
#include "tsig/tsig.h"
#include "wire/message.h"
#include "zone/changeset.h"
#include "zone/zone.h"

namespace ddns::xfr {

class Packer;  // out.cc: the transfer message encoder

inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeIxfr = 251;
inline constexpr uint16_t kTypeAxfr = 252;

// What every message of an answer echoes, and how it is signed.
struct OutRequest {
  uint16_t id = 0;
  wire::Name qname;          // as received (case kept); the first message's question
  uint16_t qtype = kTypeAxfr;
  uint16_t qclass = 1;
  // Set when the request carried a valid TSIG: every message is signed
  // (the first with the request MAC chained in).
  std::optional<tsig::StreamSigner> signer;
  size_t tsig_reserve = 0;   // tsig::tsig_size(verified request) when signing
  // Clock for TSIG (seconds since the epoch); tests pin it.
  uint64_t (*now)() = &tsig::now_seconds;
};

// The apex SOA of a snapshot as a record.
wire::RR soa_record(const zone::Zone& z);

// Produces the answer messages. next() fills one message (at most
// `max_message` octets, TSIG included) and returns its size; 0 once the
// answer is complete (or after an internal error, which is logged).
class XfrSource : public net::MessageSource {
 public:
  // AXFR (RFC 5936 §2.2): SOA, every other RRset of the snapshot, SOA. The
  // snapshot is held (not copied) until the source is destroyed. Also the
  // AXFR-format answer to an IXFR whose serial is not in the journal
  // (RFC 1995 §4): pass req.qtype = IXFR.
  static std::unique_ptr<XfrSource> axfr(OutRequest req, std::shared_ptr<const zone::Zone> z,
                                         size_t max_message = 65535);
  // IXFR difference sequences (RFC 1995 §4): the newest SOA, then per
  // change its old SOA, removed records, new SOA, added records, then the
  // newest SOA again. `changes` chain (ChangeSet::removed starts with the
  // old SOA, added with the new one). With no changes: one message with
  // just `newest_soa` (the client is current, RFC 1995 §2).
  static std::unique_ptr<XfrSource> ixfr(OutRequest req, wire::RR newest_soa,
                                         std::vector<zone::ChangeSet> changes,
                                         size_t max_message = 65535);

  ~XfrSource() override;
  size_t next(uint8_t* out, size_t cap) override;

  // True once every record was written (the last next() completed it).
  bool finished() const { return phase_ == Phase::Done; }
  size_t messages() const { return messages_; }
  uint64_t records() const { return records_; }

 private:
  enum class Phase : uint8_t { FirstSoa, Body, LastSoa, Done };
  XfrSource(OutRequest req, size_t max_message);
  enum class Add : uint8_t { Done, Full, Partial };
  // Adds the current item (or what fits of it, into an empty message).
  Add add_body(Packer& b, bool empty);
  bool body_done() const;
  void skip_axfr();
  bool add_one_rr(Packer& b, const wire::RR& rr);
  void advance_ixfr();

  OutRequest req_;
  size_t max_message_;
  Phase phase_ = Phase::FirstSoa;
  size_t messages_ = 0;
  uint64_t records_ = 0;
  wire::RR soa_;  // first and last record
  // AXFR state.
  std::shared_ptr<const zone::Zone> zone_;
  zone::NodeId node_ = 0;
  size_t rrset_ = 0;
  size_t sub_ = 0;  // records of the current RRset already sent (an RRset split over messages)
  std::vector<std::span<const uint8_t>> rdatas_;
  // IXFR state.
  std::vector<zone::ChangeSet> changes_;
  size_t change_ = 0;
  bool in_added_ = false;
  size_t rec_ = 0;
};

// One message answering `qname`/`qtype` with a single SOA in the answer
// section (IXFR: up to date, newer serial, or too large for UDP). Returns
// the size; `signer_request` (optional) signs it as a response. 0 when it
// does not fit.
size_t single_soa_answer(uint8_t* out, size_t cap, uint16_t id, const wire::Name& qname,
                         uint16_t qtype, uint16_t qclass, const wire::RR& soa,
                         const tsig::Verified* signer_request);

// An empty answer with `rcode` (and the question when given); signed when
// `request` is set and has a key (RFC 8945 §5.3: also the unsigned TSIG
// error answers for BADKEY/BADSIG). 0 when it does not fit.
size_t error_answer(uint8_t* out, size_t cap, const wire::Header& request_header,
                    const wire::Question* q, wire::Rcode rcode, const tsig::Verified* request);

// ---- The primary's decision -------------------------------------------------

// An AXFR or IXFR request, parsed once and its TSIG verified by the caller
// (the dispatcher).
struct TransferRequest {
  const wire::Message* msg = nullptr;  // exactly one question, qtype AXFR or IXFR
  const tsig::Verified* signer = nullptr;  // its valid TSIG; null when unsigned
  bool udp = false;
  const sockaddr* source = nullptr;  // null when unknown (then no address ACL matches)
  socklen_t source_len = 0;
};

using AclMap = std::unordered_map<wire::Name, Acl, wire::NameHash>;

// What a primary serves transfers from.
struct TransferContext {
  const zone::ZoneSet* zones = nullptr;
  const AclMap* acls = nullptr;      // per zone origin; a zone without one refuses
  store::Store* store = nullptr;     // IXFR journal; null = a full transfer instead
};

// One message written to out[0..size) (0: nothing fits).
struct TransferReply {
  size_t size = 0;
};
// A TCP answer of many messages, streamed by the caller (see logged()).
struct TransferStream {
  std::unique_ptr<XfrSource> source;
  std::string what;  // "AXFR of example.org. serial 7 to 192.0.2.1:5353", for logs
};
using TransferOutcome = std::variant<TransferReply, TransferStream>;

// The primary's side of RFC 5936 and RFC 1995: zone lookup, AXFR over UDP
// refused (NOTIMP, as Knot), the zone's allow-transfer ACL (address and
// key), an expired copy (SERVFAIL), IXFR from the journal (RFC 1995 §4),
// the SOA alone for a client that is current (§2) or, over UDP, for an
// answer that does not fit. Every reply is signed when `req.signer` is set.
TransferOutcome answer_transfer(const TransferRequest& req, const TransferContext& ctx,
                                uint8_t* out, size_t cap);

// The stream as a net::MessageSource that logs, when dropped, whether the
// transfer completed (records, messages, time) or was aborted.
std::unique_ptr<net::MessageSource> logged(TransferStream s);

}  // namespace ddns::xfr
