// The message dispatcher (see dispatch.h).
#include "dispatch/dispatch.h"
#include "metrics/metrics.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace ddns::dispatch {
namespace {

wire::Opcode opcode_of(std::span<const uint8_t> m) { return wire::Opcode((m[2] >> 3) & 0xF); }

std::optional<update::Address> address_of(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(sa);
    return update::Address::v4(reinterpret_cast<const uint8_t*>(&a->sin_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
    return update::Address::v6(reinterpret_cast<const uint8_t*>(&a->sin6_addr));
  }
  return std::nullopt;
}

std::string source_text(const Received& rx) {
  if (!rx.source) return "?";
  return net::Endpoint::from_sockaddr(rx.source, rx.source_len).to_string();
}

// An answer with no records: ID and opcode kept (RD too for a query,
// RFC 1035 §4.1.1), the question echoed when there is exactly one, OPT when
// the request had one (RFC 6891 §7), signed with the request's key when
// `v` is set (RFC 8945 §5.3; for BADSIG/BADKEY the unsigned error TSIG,
// for BADTIME the signed one with the server's time, §5.2.3).
size_t error_answer(const wire::Message& m, wire::Rcode rcode, const tsig::Verified* v,
                    uint64_t now, uint8_t* out, size_t cap) {
  const size_t reserve = v ? tsig::tsig_size(*v) : 0;
  if (cap < reserve + wire::kHeaderSize) return 0;
  wire::MessageBuilder b(out, cap - reserve);
  wire::Header h;
  h.id = m.header.id;
  h.set_qr(true);
  h.set_opcode(m.header.opcode());
  if (m.header.opcode() == wire::Opcode::Query) h.set_rd(m.header.rd());
  b.set_header(h);
  if (m.edns) b.set_edns(wire::Edns{});
  if (m.question.size() == 1) b.add_question(m.question[0]);
  b.set_rcode(uint16_t(rcode));
  size_t n = b.finish();
  if (n && v)
    if (auto s = tsig::sign_response(out, n, cap, *v, now)) n = *s;
  return n;
}

// FORMERR for a message that does not parse: only its header is known.
size_t formerr_from_header(std::span<const uint8_t> bytes, uint8_t* out, size_t cap) {
  if (cap < wire::kHeaderSize) return 0;
  wire::MessageBuilder b(out, cap);
  wire::Header h;
  h.id = uint16_t(bytes[0] << 8 | bytes[1]);
  h.set_qr(true);
  h.set_opcode(opcode_of(bytes));
  b.set_header(h);
  b.set_rcode(uint16_t(wire::Rcode::FormErr));
  return b.finish();
}

Outcome answered(size_t n) {
  if (n == 0) return Drop{};
  return Answer{n};
}

bool is_transfer(const wire::Message& m) {
  return m.question.size() == 1 &&
         (m.question[0].qtype == xfr::kTypeAxfr || m.question[0].qtype == xfr::kTypeIxfr);
}

}  // namespace

Dispatcher::Dispatcher(const Context& ctx, uint32_t seed) : ctx_(ctx), rotate_(seed) {}

Outcome Dispatcher::dispatch(const zone::ZoneSet& zones, const Received& rx, uint8_t* out,
                             size_t cap) {
  const auto& q = rx.bytes;
  // Cheap rejections first: a runt or a response is never answered
  // (RFC 1035 §4.1.1; answering responses invites loops).
  if (q.size() < wire::kHeaderSize || (q[2] & 0x80)) return Drop{};
  // RFC 2136: UPDATE goes to the zone's writer, never the answer engine.
  if (opcode_of(q) != wire::Opcode::Update) {
    // The hot path: the answer engine reads the header and question in
    // place; it diverts only NOTIFY, AXFR/IXFR and TSIG-signed messages.
    auth::Answered a = auth::answer_or_divert(
        zones, ctx_.auth, q,
        rx.transport == net::Transport::Udp ? auth::Transport::Udp : auth::Transport::Tcp, out,
        cap, rotate_++);
    if (a.kind == auth::Answered::Kind::Answer) return answered(a.size);
  }
  return slow(zones, rx, out, cap);
}

// Everything but an unsigned plain query: parsed once, TSIG verified once.
Outcome Dispatcher::slow(const zone::ZoneSet& zones, const Received& rx, uint8_t* out,
                         size_t cap) {
  wire::ParseInfo info;
  auto parsed = wire::parse(rx.bytes, &info);
  if (!parsed) return answered(formerr_from_header(rx.bytes, out, cap));  // RFC 1035 §4.1.1
  wire::Message& msg = *parsed;
  const wire::Opcode op = msg.header.opcode();
  const uint64_t now = info.tsig_offset ? ctx_.clock() : 0;

  // RFC 8945 §5.2: the TSIG is checked before anything else, for every
  // opcode, with the same replay check (§5.2.3).
  std::optional<tsig::Verified> v;
  if (info.tsig_offset) {
    static const tsig::KeyRing kNoKeys;
    tsig::VerifyOptions vo;
    vo.replay = ctx_.replay;
    v = tsig::verify_request(rx.bytes, info, msg.additional.back(), ctx_.ring ? *ctx_.ring : kNoKeys,
                             now, vo);
    if (v->status == tsig::Status::FormErr)
      return answered(error_answer(msg, wire::Rcode::FormErr, nullptr, now, out, cap));
    if (!v->ok()) {
      spdlog::warn("opcode {} for {} from {}: TSIG {} ({})", int(op),
                   msg.question.empty() ? std::string("-") : msg.question[0].name.to_text(),
                   source_text(rx), tsig::status_text(v->status), v->reason);
      return answered(error_answer(msg, v->rcode(), &*v, now, out, cap));
    }
  }
  const tsig::Verified* signer = v ? &*v : nullptr;

  if (op == wire::Opcode::Update) return update(zones, rx, std::move(msg), std::move(v), out, cap);
  if (op == wire::Opcode::Notify) {
    metrics::registry().shared().notify_received.add();
    // RFC 1996: a secondary's business.
    if (!ctx_.notify_primaries)
      return answered(error_answer(msg, wire::Rcode::Refused, signer, now, out, cap));
    xfr::NotifyRequest nr{&msg, signer, rx.source, rx.source_len};
    xfr::NotifyVerdict verdict = xfr::check_notify(nr, ctx_.notify_primaries);
    size_t n = xfr::notify_response(nr, verdict, out, cap, now);
    if (verdict == xfr::NotifyVerdict::Accepted) return NotifyReceived{msg.question[0].name, n};
    return answered(n);
  }
  if (op == wire::Opcode::Query && is_transfer(msg)) {
    if (!ctx_.transfer_acls)
      return answered(error_answer(msg, wire::Rcode::Refused, signer, now, out, cap));
    xfr::TransferRequest tr;
    tr.msg = &msg;
    tr.signer = signer;
    tr.udp = rx.transport == net::Transport::Udp;
    tr.source = rx.source;
    tr.source_len = rx.source_len;
    const auto acls = ctx_.transfer_acls->load();
    xfr::TransferContext tc{&zones, acls.get(), ctx_.journal};
    auto t = xfr::answer_transfer(tr, tc, out, cap);
    if (auto* s = std::get_if<xfr::TransferStream>(&t)) return TransferOut{std::move(*s)};
    return answered(std::get<xfr::TransferReply>(t).size);
  }
  if (signer) return signed_query(zones, rx, info.tsig_offset, *signer, out, cap);
  // The answer engine diverts nothing else unsigned.
  return answered(error_answer(msg, wire::Rcode::Refused, nullptr, now, out, cap));
}

Outcome Dispatcher::update(const zone::ZoneSet& zones, const Received& rx, wire::Message msg,
                           std::optional<tsig::Verified> v, uint8_t* out, size_t cap) {
  const tsig::Verified* signer = v ? &*v : nullptr;
  const uint64_t now = v ? ctx_.clock() : 0;
  // RFC 2136 §3.1.1: exactly one zone.
  if (msg.question.size() != 1)
    return answered(error_answer(msg, wire::Rcode::FormErr, signer, now, out, cap));
  const wire::Name& zname = msg.question[0].name;
  update::ZoneWriter* w = ctx_.writer ? ctx_.writer(zname) : nullptr;
  if (!w) {
    const zone::Zone* z = zones.find(zname);
    // RFC 2136 §3.1.2: not authoritative -> NOTAUTH; ours but not
    // dynamic -> REFUSED.
    bool ours = z && z->origin() == zname;
    return answered(error_answer(msg, ours ? wire::Rcode::Refused : wire::Rcode::NotAuth, signer,
                                 now, out, cap));
  }
  ToWriter tw;
  tw.writer = w;
  tw.request.packet.assign(rx.bytes.begin(), rx.bytes.end());
  tw.request.message = std::move(msg);
  tw.request.verified = std::move(v);
  tw.request.max_reply = cap;
  tw.request.source = address_of(rx.source);
  return tw;
}

// RFC 8945 §5.3: a signed query is answered as if unsigned, and the answer
// signed with the same key.
Outcome Dispatcher::signed_query(const zone::ZoneSet& zones, const Received& rx,
                                 size_t tsig_offset, const tsig::Verified& v, uint8_t* out,
                                 size_t cap) {
  const uint64_t now = ctx_.clock();
  // The query without its TSIG RR (ARCOUNT one less), for answer().
  std::vector<uint8_t> bare(rx.bytes.begin(), rx.bytes.begin() + ptrdiff_t(tsig_offset));
  uint16_t ar = uint16_t(uint16_t(bare[10] << 8 | bare[11]) - 1);
  bare[10] = uint8_t(ar >> 8);
  bare[11] = uint8_t(ar);
  const size_t reserve = tsig::tsig_size(v);
  if (cap <= reserve + wire::kHeaderSize) return Drop{};
  auth::Answered a = auth::answer_or_divert(
      zones, ctx_.auth, bare,
      rx.transport == net::Transport::Udp ? auth::Transport::Udp : auth::Transport::Tcp, out,
      cap - reserve, rotate_++);
  size_t n = a.size;
  if (a.kind == auth::Answered::Kind::Diverted) {
    // Without its TSIG only a NOTIFY or a transfer is diverted, and those
    // were routed before: answer REFUSED rather than loop.
    auto m = wire::parse(bare);
    n = m ? error_answer(*m, wire::Rcode::Refused, nullptr, now, out, cap - reserve) : 0;
  }
  if (n == 0) return Drop{};
  auto signed_len = tsig::sign_response(out, n, cap, v, now);
  return Answer{signed_len ? *signed_len : n};
}

size_t writer_refused(const update::WriteRequest& request, uint64_t now, uint8_t* out,
                      size_t cap) {
  if (!request.message) return 0;
  const tsig::Verified* v = request.verified ? &*request.verified : nullptr;
  return error_answer(*request.message, wire::Rcode::ServFail, v, now, out, cap);
}

}  // namespace ddns::dispatch
