// libFuzzer target for the message codec: parse must never crash; what
// parses must render, re-parse to the same message, and render to the same
// bytes again; the query fast path must agree with the full parser.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "wire/message.h"

using namespace ddns::wire;

namespace {

[[noreturn]] void fail(const char* why) {
  __builtin_fprintf(stderr, "message_parse: %s\n", why);
  std::abort();
}

void check(bool ok, const char* why) {
  if (!ok) fail(why);
}

bool same_rrs(const std::vector<RR>& a, const std::vector<RR>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const RR& x = a[i];
    const RR& y = b[i];
    // Names compare without case: compression may point at a copy of the
    // name in another case (RFC 1035 §2.3.3 / RFC 4343). Rdata names the
    // same way, through the canonical form.
    if (x.owner != y.owner || x.type != y.type || x.rclass != y.rclass || x.ttl != y.ttl) {
      return false;
    }
    if (rdata_canonical(x.type, x.rdata) != rdata_canonical(y.type, y.rdata)) return false;
  }
  return true;
}

bool same(const Message& a, const Message& b) {
  if (a.header.id != b.header.id || a.header.flags != b.header.flags) return false;
  if (a.question.size() != b.question.size()) return false;
  for (size_t i = 0; i < a.question.size(); ++i) {
    const Question& x = a.question[i];
    const Question& y = b.question[i];
    if (x.name != y.name || x.qtype != y.qtype || x.qclass != y.qclass) return false;
  }
  if (!same_rrs(a.answer, b.answer) || !same_rrs(a.authority, b.authority) ||
      !same_rrs(a.additional, b.additional)) {
    return false;
  }
  if (a.edns.has_value() != b.edns.has_value()) return false;
  if (a.edns) {
    const Edns& x = *a.edns;
    const Edns& y = *b.edns;
    if (x.udp_size != y.udp_size || x.ext_rcode != y.ext_rcode || x.version != y.version ||
        x.do_bit != y.do_bit || x.z != y.z || x.options.size() != y.options.size()) {
      return false;
    }
    for (size_t i = 0; i < x.options.size(); ++i) {
      if (x.options[i].code != y.options[i].code || x.options[i].data != y.options[i].data) {
        return false;
      }
    }
  }
  return a.rcode() == b.rcode();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);

  QueryView q;
  const QueryStatus st = parse_query(in, q);
  auto m1 = parse(in);
  if (!m1.ok()) return 0;
  (void)to_text(*m1);

  // Whatever the full parser accepts as a query, the fast path accepts too
  // and reads the same question and EDNS.
  if (m1->header.qdcount == 1 && !m1->header.qr()) {
    check(st == QueryStatus::Ok, "parse_query rejects what parse accepts");
    check(q.name() == m1->question[0].name, "qname differs");
    check(q.qtype == m1->question[0].qtype && q.qclass == m1->question[0].qclass, "qtype differs");
    check(q.has_edns == m1->edns.has_value(), "EDNS presence differs");
    if (q.has_edns) check(q.edns.version == m1->edns->version, "EDNS version differs");
    const bool tsig = !m1->additional.empty() && m1->additional.back().type == 250;
    check((q.tsig_offset != 0) == tsig, "TSIG presence differs");
  }

  auto w1 = render(*m1);
  if (!w1.ok()) return 0;  // larger than 64 KiB once names are expanded
  auto m2 = parse(*w1);
  if (!m2.ok()) fail(m2.error().message.c_str());
  check(same(*m1, *m2), "parse(render(m)) != m");
  auto w2 = render(*m2);
  check(w2.ok(), "second render failed");
  check(*w1 == *w2, "render is not stable");
  return 0;
}
