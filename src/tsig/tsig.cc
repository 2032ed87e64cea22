// TSIG (RFC 8945): RR codec, digest construction, verification and signing.
#include "tsig/tsig.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>

#include "base/bytes.h"

namespace ddns::tsig {
namespace {

struct AlgInfo {
  Algorithm alg;
  std::string_view text;
  std::string_view name;  // presentation form of the wire name
};

constexpr std::array<AlgInfo, 6> kAlgs = {{
    {Algorithm::HmacMd5, "hmac-md5", "hmac-md5.sig-alg.reg.int."},
    {Algorithm::HmacSha1, "hmac-sha1", "hmac-sha1."},
    {Algorithm::HmacSha224, "hmac-sha224", "hmac-sha224."},
    {Algorithm::HmacSha256, "hmac-sha256", "hmac-sha256."},
    {Algorithm::HmacSha384, "hmac-sha384", "hmac-sha384."},
    {Algorithm::HmacSha512, "hmac-sha512", "hmac-sha512."},
}};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (wire::ascii_lower(uint8_t(a[i])) != wire::ascii_lower(uint8_t(b[i]))) return false;
  }
  return true;
}

void put_u16(Hmac& h, uint16_t v) {
  uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
  h.update(b, 2);
}
void put_u48(Hmac& h, uint64_t v) {
  uint8_t b[6];
  for (int i = 0; i < 6; ++i) b[i] = uint8_t(v >> (8 * (5 - i)));
  h.update(b, 6);
}
void put_u48(ByteWriter& w, uint64_t v) {
  w.u16(uint16_t(v >> 32));
  w.u32(uint32_t(v));
}
void put_name_canonical(Hmac& h, const wire::Name& n) {
  uint8_t buf[wire::kMaxNameLength];
  auto wv = n.wire();
  for (size_t i = 0; i < wv.size(); ++i) buf[i] = wire::ascii_lower(wv[i]);
  h.update(buf, wv.size());
}

// RFC 8945 §4.3.1: a response's digest starts with the request MAC,
// length-prefixed (also the prior MAC of §4.3.2/§5.3.1).
void put_prior_mac(Hmac& h, std::span<const uint8_t> mac) {
  put_u16(h, uint16_t(mac.size()));
  h.update(mac);
}

// The message as it was before the TSIG RR was added (RFC 8945 §4.3.3):
// bytes up to `end`, the ID replaced by the original ID, and ARCOUNT
// decremented when the TSIG is still counted in the header.
void put_message(Hmac& h, std::span<const uint8_t> packet, size_t end, uint16_t id,
                 bool decrement_arcount) {
  uint8_t hdr[wire::kHeaderSize];
  std::memcpy(hdr, packet.data(), wire::kHeaderSize);
  hdr[0] = uint8_t(id >> 8);
  hdr[1] = uint8_t(id);
  if (decrement_arcount) {
    uint16_t ar = uint16_t(hdr[10] << 8 | hdr[11]);
    ar = uint16_t(ar - 1);
    hdr[10] = uint8_t(ar >> 8);
    hdr[11] = uint8_t(ar);
  }
  h.update(hdr, sizeof hdr);
  h.update(packet.data() + wire::kHeaderSize, end - wire::kHeaderSize);
}

// RFC 8945 §4.3.3 TSIG variables.
struct Vars {
  const wire::Name* key_name;
  const wire::Name* alg_name;
  uint64_t time;
  uint16_t fudge;
  uint16_t error;
  std::span<const uint8_t> other;
};

void put_variables(Hmac& h, const Vars& v) {
  put_name_canonical(h, *v.key_name);
  put_u16(h, kClassAny);
  uint8_t ttl[4] = {0, 0, 0, 0};
  h.update(ttl, 4);
  put_name_canonical(h, *v.alg_name);
  put_u48(h, v.time);
  put_u16(h, v.fudge);
  put_u16(h, v.error);
  put_u16(h, uint16_t(v.other.size()));
  h.update(v.other);
}

// RFC 8945 §4.3.2: later messages of a stream cover only the timers.
void put_timers(Hmac& h, uint64_t time, uint16_t fudge) {
  put_u48(h, time);
  put_u16(h, fudge);
}

size_t rr_size(const Vars& v, size_t mac_len) {
  return v.key_name->wire_size() + 10 + v.alg_name->wire_size() + 6 + 2 + 2 + mac_len + 2 + 2 +
         2 + v.other.size();
}

uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Appends the TSIG RR and bumps ARCOUNT.
Result<size_t> write_rr(uint8_t* buf, size_t len, size_t cap, const Vars& v,
                        std::span<const uint8_t> mac) {
  size_t need = rr_size(v, mac.size());
  if (len > cap || cap - len < need) return make_error("tsig: no room for the TSIG record");
  uint16_t ar = get_u16(buf + 10);
  if (ar == 0xFFFF) return make_error("tsig: ARCOUNT overflow");
  ByteWriter w(buf + len, need);
  w.bytes(v.key_name->wire());
  w.u16(kTypeTsig);
  w.u16(kClassAny);
  w.u32(0);
  w.u16(uint16_t(need - v.key_name->wire_size() - 10));
  // Lowercase algorithm name, as BIND and Knot send it.
  auto an = v.alg_name->wire();
  for (uint8_t c : an) w.u8(wire::ascii_lower(c));
  put_u48(w, v.time);
  w.u16(v.fudge);
  w.u16(uint16_t(mac.size()));
  w.bytes(mac);
  w.u16(get_u16(buf));  // original ID = the message's ID
  w.u16(v.error);
  w.u16(uint16_t(v.other.size()));
  w.bytes(v.other);
  if (!w.ok() || w.size() != need) return make_error("tsig: internal size mismatch");
  ++ar;
  buf[10] = uint8_t(ar >> 8);
  buf[11] = uint8_t(ar);
  return len + need;
}

Result<size_t> finish(Hmac& h, uint8_t* buf, size_t len, size_t cap, const Vars& v,
                      Bytes* mac_out) {
  uint8_t mac[kMaxDigestSize];
  size_t n = h.final(mac);
  if (n == 0) return make_error("tsig: HMAC computation failed");
  auto r = write_rr(buf, len, cap, v, {mac, n});
  if (r && mac_out) mac_out->assign(mac, mac + n);
  return r;
}

Result<void> grow_and_sign(Bytes& msg, size_t extra,
                           const std::function<Result<size_t>(uint8_t*, size_t, size_t)>& f) {
  size_t len = msg.size();
  msg.resize(len + extra);
  auto r = f(msg.data(), len, msg.size());
  if (!r) {
    msg.resize(len);
    return r.error();
  }
  msg.resize(*r);
  return {};
}

Verified fail(Verified v, Status s, const char* why) {
  v.status = s;
  v.reason = why;
  return v;
}

// §5.2.2.1 size rules; true when the size is legal.
bool mac_size_legal(size_t size, Algorithm alg) {
  size_t d = digest_size(alg);
  if (size > d) return false;                       // rule 1
  if (size < std::max<size_t>(10, d / 2)) return false;  // rule 3
  return true;
}

bool time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge) {
  return now <= signed_at + fudge && signed_at <= now + fudge;
}

// Where a received message's TSIG sits; false when `info` cannot describe
// this packet.
bool layout_ok(std::span<const uint8_t> packet, const wire::ParseInfo& info) {
  return info.tsig_offset >= wire::kHeaderSize && info.tsig_offset < packet.size() &&
         get_u16(packet.data() + 10) >= 1;
}

// Shared tail of all verifications: MAC compare, time, truncation policy.
// `h` has the prefix (request/prior MAC) and must get message + variables.
Verified check_mac(Verified v, Hmac& h, std::span<const uint8_t> packet,
                   const wire::ParseInfo& info, bool timers_only, uint64_t now,
                   const VerifyOptions& opts) {
  const TsigRecord& t = v.tsig;
  put_message(h, packet, info.tsig_offset, t.original_id, true);
  if (timers_only) {
    put_timers(h, t.time_signed, t.fudge);
  } else {
    put_variables(h, Vars{&t.key_name, &t.algorithm, t.time_signed, t.fudge, t.error, t.other});
  }
  uint8_t mac[kMaxDigestSize];
  size_t n = h.final(mac);
  if (n == 0) return fail(std::move(v), Status::BadSig, "HMAC computation failed");
  // §5.2.2.1 rule 4: compare only the received (possibly truncated) octets.
  if (!mac_equal({mac, t.mac.size()}, t.mac)) {
    return fail(std::move(v), Status::BadSig, "MAC does not verify");
  }
  if (!time_ok(now, t.time_signed, t.fudge)) {
    return fail(std::move(v), Status::BadTime, "time signed outside the fudge window");
  }
  if (opts.min_mac_size && t.mac.size() < std::min(opts.min_mac_size, n)) {
    return fail(std::move(v), Status::BadTrunc, "truncated MAC shorter than local policy");
  }
  v.status = Status::Ok;
  v.reason = "";
  return v;
}

// Parse + key + size checks common to requests and responses. Returns the
// Verified with status Ok when the MAC check may proceed.
Verified prepare(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                 const wire::RR& tsig_rr, const Key* key) {
  Verified v;
  auto t = parse_tsig(tsig_rr);
  if (!t) return fail(std::move(v), Status::FormErr, "unreadable TSIG record");
  v.tsig = std::move(*t);
  if (!layout_ok(packet, info)) return fail(std::move(v), Status::FormErr, "TSIG not located");
  if (!key) return fail(std::move(v), Status::BadKey, "unknown key");
  auto alg = algorithm_from_name(v.tsig.algorithm);
  if (!alg || *alg != key->alg) {
    return fail(std::move(v), Status::BadKey, "algorithm does not match the key");
  }
  v.key = *key;
  if (!mac_size_legal(v.tsig.mac.size(), key->alg)) {
    return fail(std::move(v), Status::FormErr, "illegal MAC size");
  }
  v.status = Status::Ok;
  return v;
}

}  // namespace

// ---- Algorithms and keys ----------------------------------------------------

std::string_view algorithm_text(Algorithm alg) {
  for (const auto& a : kAlgs) {
    if (a.alg == alg) return a.text;
  }
  return "hmac-sha256";
}

const wire::Name& algorithm_name(Algorithm alg) {
  static const auto* names = [] {
    auto* v = new std::vector<wire::Name>;
    for (const auto& a : kAlgs) v->push_back(*wire::Name::from_text(a.name));
    return v;
  }();
  for (size_t i = 0; i < kAlgs.size(); ++i) {
    if (kAlgs[i].alg == alg) return (*names)[i];
  }
  return (*names)[3];
}

std::optional<Algorithm> algorithm_from_text(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  for (const auto& a : kAlgs) {
    std::string_view full = a.name.substr(0, a.name.size() - 1);
    if (iequal(text, a.text) || iequal(text, full)) return a.alg;
  }
  return std::nullopt;
}

std::optional<Algorithm> algorithm_from_name(const wire::Name& name) {
  for (const auto& a : kAlgs) {
    if (name == algorithm_name(a.alg)) return a.alg;
  }
  return std::nullopt;
}

bool KeyRing::add(Key key) {
  if (index_.count(key.name)) return false;
  index_.emplace(key.name, keys_.size());
  keys_.push_back(std::move(key));
  return true;
}

const Key* KeyRing::find(const wire::Name& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &keys_[it->second];
}

// ---- RR codec ---------------------------------------------------------------

Result<TsigRecord> parse_tsig(const wire::RR& rr) {
  if (rr.type != kTypeTsig) return make_error("tsig: not a TSIG record");
  if (rr.rclass != kClassAny) return make_error("tsig: class is not ANY");
  ByteReader r(rr.rdata);
  auto alg = wire::read_compressed_name(r, false);
  if (!alg) return make_error("tsig: algorithm " + alg.error().message);
  TsigRecord t;
  t.key_name = rr.owner;
  t.algorithm = std::move(*alg);
  uint64_t hi = r.u16();
  t.time_signed = hi << 32 | r.u32();
  t.fudge = r.u16();
  uint16_t mac_size = r.u16();
  auto mac = r.bytes(mac_size);
  t.mac.assign(mac.begin(), mac.end());
  t.original_id = r.u16();
  t.error = r.u16();
  uint16_t other_len = r.u16();
  auto other = r.bytes(other_len);
  t.other.assign(other.begin(), other.end());
  if (!r.ok()) return make_error("tsig: truncated RDATA");
  if (r.remaining() != 0) return make_error("tsig: trailing octets in RDATA");
  return t;
}

wire::RR to_rr(const TsigRecord& t) {
  wire::RR rr;
  rr.owner = t.key_name;
  rr.type = kTypeTsig;
  rr.rclass = kClassAny;
  rr.ttl = 0;
  Bytes& d = rr.rdata;
  for (uint8_t c : t.algorithm.wire()) d.push_back(wire::ascii_lower(c));
  for (int i = 5; i >= 0; --i) d.push_back(uint8_t(t.time_signed >> (8 * i)));
  auto u16 = [&d](uint16_t v) {
    d.push_back(uint8_t(v >> 8));
    d.push_back(uint8_t(v));
  };
  u16(t.fudge);
  u16(uint16_t(t.mac.size()));
  d.insert(d.end(), t.mac.begin(), t.mac.end());
  u16(t.original_id);
  u16(t.error);
  u16(uint16_t(t.other.size()));
  d.insert(d.end(), t.other.begin(), t.other.end());
  return rr;
}

// ---- Verification -----------------------------------------------------------

std::string_view status_text(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::FormErr: return "FORMERR";
    case Status::BadKey: return "BADKEY";
    case Status::BadSig: return "BADSIG";
    case Status::BadTime: return "BADTIME";
    case Status::BadTrunc: return "BADTRUNC";
    case Status::Unsigned: return "unsigned error";
  }
  return "?";
}

wire::Rcode Verified::rcode() const {
  switch (status) {
    case Status::Ok: return wire::Rcode::NoError;
    case Status::FormErr: return wire::Rcode::FormErr;
    default: return wire::Rcode::NotAuth;
  }
}

TsigError Verified::error() const {
  switch (status) {
    case Status::BadKey: return TsigError::BadKey;
    case Status::BadSig: return TsigError::BadSig;
    case Status::BadTime: return TsigError::BadTime;
    case Status::BadTrunc: return TsigError::BadTrunc;
    default: return TsigError::NoError;
  }
}

Verified verify_request(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                        const wire::RR& tsig_rr, const KeyRing& ring, uint64_t now,
                        const VerifyOptions& opts) {
  // The key is looked up by the owner name before anything else (§5.2.1).
  const Key* key = tsig_rr.type == kTypeTsig ? ring.find(tsig_rr.owner) : nullptr;
  Verified v = prepare(packet, info, tsig_rr, key);
  if (!v.ok()) return v;
  Hmac h(v.key->alg, v.key->secret);
  v = check_mac(std::move(v), h, packet, info, false, now, opts);
  if (v.ok() && opts.replay && !opts.replay->check_and_record(v.key->name, v.tsig.time_signed)) {
    return fail(std::move(v), Status::BadTime, "time signed well before a message seen already (replay?)");
  }
  return v;
}

Verified verify_response(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                         const wire::RR& tsig_rr, const Key& key,
                         std::span<const uint8_t> request_mac, uint64_t now,
                         const VerifyOptions& opts) {
  const Key* k = tsig_rr.owner == key.name ? &key : nullptr;
  Verified v = prepare(packet, info, tsig_rr, k);
  // §5.3.2: BADKEY/BADSIG answers come back without a MAC.
  if (!v.tsig.algorithm.is_root() && v.tsig.mac.empty() && v.tsig.error != 0 &&
      layout_ok(packet, info)) {
    return fail(std::move(v), Status::Unsigned, "peer sent an unsigned TSIG error");
  }
  if (!v.ok()) return v;
  Hmac h(key.alg, key.secret);
  put_prior_mac(h, request_mac);
  return check_mac(std::move(v), h, packet, info, false, now, opts);
}

bool ReplayCache::check_and_record(const wire::Name& key, uint64_t time_signed) {
  MutexLock lock(mu_);
  auto [it, fresh] = newest_.try_emplace(key, time_signed);
  if (fresh) return true;
  if (time_signed + kReplaySlack < it->second) return false;
  it->second = std::max(it->second, time_signed);
  return true;
}

void ReplayCache::clear() {
  MutexLock lock(mu_);
  newest_.clear();
}

// ---- Signing ----------------------------------------------------------------

size_t tsig_size(const Key& key, size_t other_len) {
  return key.name.wire_size() + 10 + algorithm_name(key.alg).wire_size() + 16 +
         digest_size(key.alg) + other_len;
}

size_t tsig_size(const Verified& request) {
  switch (request.status) {
    case Status::FormErr:
    case Status::Unsigned: return 0;
    case Status::BadKey:
    case Status::BadSig:
      return request.tsig.key_name.wire_size() + 10 + request.tsig.algorithm.wire_size() + 16;
    case Status::BadTime: return request.key ? tsig_size(*request.key, 6) : 0;
    default: return request.key ? tsig_size(*request.key) : 0;
  }
}

Result<size_t> sign_request(uint8_t* buf, size_t len, size_t cap, const Key& key, uint64_t now,
                            Bytes* mac_out, uint16_t fudge) {
  if (len < wire::kHeaderSize) return make_error("tsig: message shorter than a header");
  Vars v{&key.name, &algorithm_name(key.alg), now, fudge, 0, {}};
  Hmac h(key.alg, key.secret);
  put_message(h, {buf, len}, len, get_u16(buf), false);
  put_variables(h, v);
  return finish(h, buf, len, cap, v, mac_out);
}

Result<size_t> sign_response(uint8_t* buf, size_t len, size_t cap, const Verified& request,
                             uint64_t now, Bytes* mac_out, uint16_t fudge) {
  if (len < wire::kHeaderSize) return make_error("tsig: message shorter than a header");
  if (request.status == Status::FormErr || request.status == Status::Unsigned) return len;
  if (request.status != Status::Ok) {
    buf[3] = uint8_t((buf[3] & 0xF0) | uint8_t(wire::Rcode::NotAuth));
  }
  const TsigError err = request.error();
  if (request.status == Status::BadKey || request.status == Status::BadSig || !request.key) {
    // §5.3.2: unsigned, the request's names echoed, empty MAC.
    Vars v{&request.tsig.key_name, &request.tsig.algorithm, now, fudge, uint16_t(err), {}};
    if (mac_out) mac_out->clear();
    return write_rr(buf, len, cap, v, {});
  }
  const Key& key = *request.key;
  uint8_t server_time[6];
  Vars v{&request.tsig.key_name, &algorithm_name(key.alg), now, fudge, uint16_t(err), {}};
  if (request.status == Status::BadTime) {
    // §5.2.3: the client's own time comes back so the answer passes its
    // window; Other Data carries ours.
    for (int i = 0; i < 6; ++i) server_time[i] = uint8_t(now >> (8 * (5 - i)));
    v.time = request.tsig.time_signed;
    v.other = {server_time, 6};
  }
  Hmac h(key.alg, key.secret);
  put_prior_mac(h, request.tsig.mac);
  put_message(h, {buf, len}, len, get_u16(buf), false);
  put_variables(h, v);
  return finish(h, buf, len, cap, v, mac_out);
}

Result<void> sign_request(Bytes& msg, const Key& key, uint64_t now, Bytes* mac_out,
                          uint16_t fudge) {
  return grow_and_sign(msg, tsig_size(key), [&](uint8_t* b, size_t len, size_t cap) {
    return sign_request(b, len, cap, key, now, mac_out, fudge);
  });
}

Result<void> sign_response(Bytes& msg, const Verified& request, uint64_t now, Bytes* mac_out,
                           uint16_t fudge) {
  return grow_and_sign(msg, tsig_size(request), [&](uint8_t* b, size_t len, size_t cap) {
    return sign_response(b, len, cap, request, now, mac_out, fudge);
  });
}

// ---- Streams (RFC 8945 §5.3.1) ----------------------------------------------

namespace {
// The digest for the next message of a stream: the one still open across
// unsigned messages, or a new one that starts with the prior MAC (§5.3.1).
Hmac& stream_hmac(std::optional<Hmac>& pending, std::optional<Hmac>& fresh, const Key& key,
                  std::span<const uint8_t> prior_mac) {
  if (pending) return *pending;
  fresh.emplace(key.alg, key.secret);
  put_prior_mac(*fresh, prior_mac);
  return *fresh;
}
}  // namespace

StreamSigner::StreamSigner(Key key, std::span<const uint8_t> request_mac, uint16_t fudge)
    : key_(std::move(key)), prior_mac_(request_mac.begin(), request_mac.end()), fudge_(fudge) {}

Result<size_t> StreamSigner::sign(uint8_t* buf, size_t len, size_t cap, uint64_t now) {
  if (len < wire::kHeaderSize) return make_error("tsig: message shorter than a header");
  Vars v{&key_.name, &algorithm_name(key_.alg), now, fudge_, 0, {}};
  std::optional<Hmac> fresh;
  Hmac* h = &stream_hmac(pending_, fresh, key_, prior_mac_);
  put_message(*h, {buf, len}, len, get_u16(buf), false);
  if (signed_ == 0) {
    put_variables(*h, v);
  } else {
    put_timers(*h, now, fudge_);
  }
  Bytes mac;
  auto r = finish(*h, buf, len, cap, v, &mac);
  if (!r) {
    // The digest state is spent; only a retry from scratch could recover,
    // which would need the unsigned messages again.
    pending_.reset();
    return r;
  }
  pending_.reset();
  prior_mac_ = std::move(mac);
  unsigned_run_ = 0;
  ++signed_;
  return r;
}

Result<void> StreamSigner::sign(Bytes& msg, uint64_t now) {
  return grow_and_sign(msg, tsig_size(key_), [&](uint8_t* b, size_t len, size_t cap) {
    return sign(b, len, cap, now);
  });
}

Result<void> StreamSigner::add_unsigned(std::span<const uint8_t> msg) {
  if (signed_ == 0) return make_error("tsig: the first message of a stream must be signed");
  if (unsigned_run_ >= kMaxUnsignedRun) {
    return make_error("tsig: more than 99 unsigned messages in a row");
  }
  if (!pending_) {
    pending_.emplace(key_.alg, key_.secret);
    put_prior_mac(*pending_, prior_mac_);
  }
  pending_->update(msg);
  ++unsigned_run_;
  return {};
}

StreamVerifier::StreamVerifier(Key key, std::span<const uint8_t> request_mac,
                               const VerifyOptions& opts)
    : key_(std::move(key)), prior_mac_(request_mac.begin(), request_mac.end()), opts_(opts) {}

Verified StreamVerifier::verify(std::span<const uint8_t> packet, const wire::ParseInfo& info,
                                const wire::RR* tsig_rr, uint64_t now) {
  Verified v;
  if (failed_) return fail(std::move(v), Status::BadSig, "stream failed earlier");
  if (!tsig_rr || info.tsig_offset == 0) {
    last_signed_ok_ = false;
    if (verified_ == 0) {
      failed_ = true;
      return fail(std::move(v), Status::BadSig, "first message of the stream is unsigned");
    }
    if (unsigned_run_ >= kMaxUnsignedRun) {
      failed_ = true;
      return fail(std::move(v), Status::BadSig, "more than 99 unsigned messages in a row");
    }
    if (!pending_) {
      pending_.emplace(key_.alg, key_.secret);
      put_prior_mac(*pending_, prior_mac_);
    }
    pending_->update(packet);
    ++unsigned_run_;
    v.status = Status::Ok;
    v.key = key_;
    return v;
  }
  if (verified_ == 0) {
    v = verify_response(packet, info, *tsig_rr, key_, prior_mac_, now, opts_);
  } else {
    const Key* k = tsig_rr->owner == key_.name ? &key_ : nullptr;
    v = prepare(packet, info, *tsig_rr, k);
    if (v.ok()) {
      std::optional<Hmac> fresh;
      Hmac* h = &stream_hmac(pending_, fresh, key_, prior_mac_);
      v = check_mac(std::move(v), *h, packet, info, true, now, opts_);
    }
  }
  pending_.reset();
  unsigned_run_ = 0;
  if (!v.ok()) {
    failed_ = true;
    last_signed_ok_ = false;
    return v;
  }
  prior_mac_ = v.tsig.mac;
  ++verified_;
  last_signed_ok_ = true;
  return v;
}

uint64_t now_seconds() {
  using namespace std::chrono;
  return uint64_t(duration_cast<seconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace ddns::tsig
