// TSIG (RFC 8945): algorithms, keys and key ring, the TSIG RR codec,
// request verification, response/request signing and multi-message
// (zone transfer) chaining. Clocks are parameters (`now`, seconds since the
// epoch) so every rule is testable.
//
// Server use (one signed request):
//   wire::ParseInfo info;
//   auto msg = wire::parse(packet, &info);
//   if (info.tsig_offset) {
//     Verified v = verify_request(packet, info, msg->additional.back(), ring, now);
//     if (v.status == Status::FormErr) -> plain FORMERR, no TSIG;
//     ... build the response (RCODE v.rcode() when !v.ok()), reserving
//     tsig_size(v) octets, then
//     n = sign_response(buf, n, cap, v, now);   // signs, or adds the
//                                                 // unsigned error TSIG
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/thread_annotations.h"
#include "tsig/hmac.h"
#include "wire/message.h"
#include "wire/name.h"

namespace ddns::tsig {

using Bytes = std::vector<uint8_t>;

inline constexpr uint16_t kDefaultFudge = 300;  // RFC 8945 §10: 300 s recommended
inline constexpr uint16_t kTypeTsig = 250;
inline constexpr uint16_t kClassAny = 255;
// RFC 8945 §5.3.1: at most 99 unsigned messages between signed ones.
inline constexpr size_t kMaxUnsignedRun = 99;

// TSIG error field values (RFC 8945 §3, IANA DNS RCODEs).
enum class TsigError : uint16_t {
  NoError = 0, BadSig = 16, BadKey = 17, BadTime = 18, BadMode = 19, BadName = 20,
  BadAlg = 21, BadTrunc = 22,
};

// "hmac-sha256" etc.; HMAC-MD5 is "hmac-md5".
std::string_view algorithm_text(Algorithm alg);
// The algorithm's domain name on the wire: "hmac-sha256." etc.,
// "hmac-md5.sig-alg.reg.int." (RFC 8945 §6).
const wire::Name& algorithm_name(Algorithm alg);
// Accepts the short text form or the domain name, any case, trailing dot
// optional ("hmac-md5", "HMAC-MD5.SIG-ALG.REG.INT.").
std::optional<Algorithm> algorithm_from_text(std::string_view text);
std::optional<Algorithm> algorithm_from_name(const wire::Name& name);

struct Key {
  wire::Name name;
  Algorithm alg = Algorithm::HmacSha256;
  std::vector<uint8_t> secret;
};

// Keys by name; lookup ignores case (wire::Name equality).
class KeyRing {
 public:
  // False (and nothing added) when a key of that name exists already.
  bool add(Key key);
  const Key* find(const wire::Name& name) const;
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::vector<Key> keys_;
  std::unordered_map<wire::Name, size_t, wire::NameHash> index_;
};

// The TSIG RR's owner and RDATA (RFC 8945 §4.2).
struct TsigRecord {
  wire::Name key_name;
  wire::Name algorithm;
  uint64_t time_signed = 0;  // 48 bits, seconds since the epoch
  uint16_t fudge = kDefaultFudge;
  Bytes mac;
  uint16_t original_id = 0;
  uint16_t error = 0;        // a TsigError value
  Bytes other;
};

// Decodes a TSIG RR as parse() left it in Message::additional. Fails (the
// caller answers FORMERR, RFC 8945 §5.2) when the type is not TSIG, the
// class not ANY, or the RDATA is malformed (the algorithm name must not be
// compressed, RFC 3597 §4; no octets may follow Other Data).
Result<TsigRecord> parse_tsig(const wire::RR& rr);
// The RR (owner, class ANY, TTL 0) and its RDATA; names uncompressed, the
// algorithm name lowercased.
wire::RR to_rr(const TsigRecord& t);

// ---- Verification -----------------------------------------------------------

enum class Status : uint8_t {
  Ok,
  FormErr,   // TSIG unreadable, or MAC size illegal (RFC 8945 §5.2.2.1)
  BadKey,    // unknown key, or algorithm differs from the key's (§5.2.1)
  BadSig,    // MAC does not verify (§5.2.2)
  BadTime,   // time signed outside now +- fudge (§5.2.3); MAC was valid
  BadTrunc,  // truncated MAC shorter than local policy (§5.2.4); MAC valid
  Unsigned,  // (responses only) the peer sent a TSIG error with no MAC
};
std::string_view status_text(Status s);

// RFC 8945 §5.2.3: remembers, per key name, the newest Time Signed that
// verified, so a message signed well before it (a replay inside the fudge
// window) gets BADTIME. Messages up to kReplaySlack seconds older than the
// newest still pass: several clients sharing a key sign concurrently and
// their requests wait in queues, so arrival order is not signing order. A
// retransmission (same message, same time) passes too; the update is
// idempotent at the RRset level for the usual replace-address updates.
// Thread-safe; one instance per writer.
inline constexpr uint64_t kReplaySlack = 5;

class ReplayCache {
 public:
  // True (and `time_signed` remembered when newer) unless it is more than
  // kReplaySlack seconds older than the newest seen for `key`.
  bool check_and_record(const wire::Name& key, uint64_t time_signed);
  void clear();

 private:
  Mutex mu_;
  std::unordered_map<wire::Name, uint64_t, wire::NameHash> newest_ GUARDED_BY(mu_);
};

struct VerifyOptions {
  // Local truncation policy (RFC 8945 §5.2.4): a MAC shorter than this gets
  // BADTRUNC. 0 accepts every truncation §5.2.2.1 allows (BIND's default
  // for keys without a digest-bits setting); set it to the digest size to
  // refuse truncation altogether.
  size_t min_mac_size = 0;
  // Optional replay check (verify_request only), after the MAC and time
  // checks passed.
  ReplayCache* replay = nullptr;
};

struct Verified {
  Status status = Status::FormErr;
  const char* reason = "";  // static text for logs
  TsigRecord tsig;          // the received TSIG (empty when unreadable)
  std::optional<Key> key;   // the key used (set unless FormErr/BadKey)

  bool ok() const { return status == Status::Ok; }
  // RCODE of the answer: NOERROR, FORMERR, or NOTAUTH for TSIG errors
  // (RFC 8945 §5.2).
  wire::Rcode rcode() const;
  // The TSIG error field of the answer (RFC 8945 §3).
  TsigError error() const;
  // The request's MAC (as received, truncated or not); the response's
  // digest starts with it (RFC 8945 §4.3.1, §5.2.2.1 rule 4).
  std::span<const uint8_t> mac() const { return tsig.mac; }
};

// Verifies a signed request (RFC 8945 §5.2): `packet` is the raw message,
// `info` what parse() reported (tsig_offset != 0), `tsig_rr` the parsed TSIG
// (Message::additional.back()). Checks in RFC order: key, MAC (with the
// §5.2.2.1 size rules), time, truncation policy.
Verified verify_request(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                        const wire::RR& tsig_rr, const KeyRing& ring, uint64_t now,
                        const VerifyOptions& opts = {});

// Client side: verifies the response to a request we signed with `key`
// whose MAC was `request_mac` (RFC 8945 §5.3, §5.4). A signed response
// with a TSIG error (BADTIME) verifies as Ok: check tsig.error. An
// unsigned error answer (§5.3.2) gives Status::Unsigned.
Verified verify_response(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                         const wire::RR& tsig_rr, const Key& key,
                         std::span<const uint8_t> request_mac, uint64_t now,
                         const VerifyOptions& opts = {});

// ---- Signing ----------------------------------------------------------------
//
// Signers take a finished message in buf[0, len) (no TSIG yet; OPT already
// written), append the TSIG RR within `cap` and add one to ARCOUNT. They
// return the new length, or an Error when it does not fit (nothing is
// changed then) or the message is shorter than a header.

// Octets a TSIG RR for `key` adds (full MAC; `other_len` extra octets of
// Other Data: 6 for BADTIME). Reserve them when building the message.
size_t tsig_size(const Key& key, size_t other_len = 0);
// For the answer to `request` (BADTIME answers carry 6 octets more; the
// unsigned BADKEY/BADSIG answers use the request's key and algorithm names).
size_t tsig_size(const Verified& request);

// Signs a request (RFC 8945 §4.3.3). `mac_out` receives the MAC, needed to
// verify the response.
Result<size_t> sign_request(uint8_t* buf, size_t len, size_t cap, const Key& key, uint64_t now,
                            Bytes* mac_out, uint16_t fudge = kDefaultFudge);

// Answers a verified request (RFC 8945 §5.3):
//   Ok, BadTrunc  signed with the request MAC chained in (§4.3.1);
//   BadTime       signed, Time Signed copied from the request, Other Data =
//                 the server's 48-bit time `now` (§5.2.3);
//   BadKey/BadSig unsigned: empty MAC, error set (§5.3.2);
//   FormErr       nothing is appended (returns len).
// For a TSIG error the header RCODE is set to NOTAUTH first. `mac_out`
// (optional) receives the response MAC (first link of a §5.3.1 chain).
Result<size_t> sign_response(uint8_t* buf, size_t len, size_t cap, const Verified& request,
                             uint64_t now, Bytes* mac_out = nullptr,
                             uint16_t fudge = kDefaultFudge);

// Bytes conveniences (the vector grows as needed).
Result<void> sign_request(Bytes& msg, const Key& key, uint64_t now, Bytes* mac_out,
                          uint16_t fudge = kDefaultFudge);
Result<void> sign_response(Bytes& msg, const Verified& request, uint64_t now,
                           Bytes* mac_out = nullptr, uint16_t fudge = kDefaultFudge);

// ---- Multi-message responses (AXFR/IXFR over TCP), RFC 8945 §5.3.1 ----------
//
// The first message is signed like any response (request MAC + message +
// all TSIG variables). Each later signed message covers: the previous MAC
// (length-prefixed), every message sent since that carried no TSIG, this
// message, and the timers only (Time Signed, Fudge). At most 99 messages in
// a row may go unsigned; the last message must be signed.

class StreamSigner {
 public:
  // `request_mac`: the verified request's MAC (Verified::mac()).
  StreamSigner(Key key, std::span<const uint8_t> request_mac, uint16_t fudge = kDefaultFudge);
  // Signs the next message (see the signer contract above).
  Result<size_t> sign(uint8_t* buf, size_t len, size_t cap, uint64_t now);
  Result<void> sign(Bytes& msg, uint64_t now);
  // Records a message sent without TSIG; the next sign() covers it. Fails
  // before the first signed message or after 99 in a row (the caller must
  // sign this one instead).
  Result<void> add_unsigned(std::span<const uint8_t> msg);
  // MAC of the last signed message.
  std::span<const uint8_t> last_mac() const { return prior_mac_; }

 private:
  Key key_;
  Bytes prior_mac_;
  uint16_t fudge_;
  size_t signed_ = 0;
  size_t unsigned_run_ = 0;
  std::optional<Hmac> pending_;  // running digest of unsigned messages
};

class StreamVerifier {
 public:
  StreamVerifier(Key key, std::span<const uint8_t> request_mac, const VerifyOptions& opts = {});
  // Each message in order. Unsigned messages (`tsig_rr` null, or
  // info.tsig_offset 0) return Ok while allowed (not first, fewer than 100
  // in a row) and are folded into the next signed message's digest; else
  // BadSig.
  Verified verify(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                  const wire::RR* tsig_rr, uint64_t now);
  // True when the last message seen was signed and verified (the stream
  // may end here, RFC 8945 §5.3.1).
  bool complete() const { return last_signed_ok_; }

 private:
  Key key_;
  Bytes prior_mac_;
  VerifyOptions opts_;
  size_t verified_ = 0;
  size_t unsigned_run_ = 0;
  bool last_signed_ok_ = false;
  bool failed_ = false;
  std::optional<Hmac> pending_;
};

// The current time in seconds since the epoch (for callers; the functions
// above never read the clock).
uint64_t now_seconds();

}  // namespace ddns::tsig
