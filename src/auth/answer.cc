// The authoritative answer engine. Resolution (RFC 1034 §4.3.2, RFC 4592,
// RFC 6672, RFC 2308) collects RRsets per section into a small fixed array;
// one encoder then writes them with name compression and truncation. No
// heap allocation per query: everything lives on the stack.
#include "auth/answer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "wire/message.h"

namespace ddns::auth {
namespace {

using zone::kNoNode;
using zone::LowerName;
using zone::NodeId;
using zone::RRsetView;
using zone::Zone;

using wire::kClassANY;
using wire::kClassCH;
using wire::kClassIN;

constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNXDomain = 3, kNotImp = 4, kRefused = 5,
                  kYXDomain = 6, kNotAuth = 9;
constexpr uint16_t kBadVers = 16;

constexpr size_t kOptSize = 11;  // root owner, type, class, ttl, rdlength
constexpr size_t kMaxItems = 48;
constexpr size_t kMaxCompress = 96;

inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c; }
inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

using zone::detail::lower8;

inline uint64_t load_n(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n);  // n is 4 or 8: inlined as one load
  return v;
}
// Case-insensitive equality of two labels' octets (RFC 4343), a word at a
// time; the tail is one overlapping word so nothing past `l` is read.
inline bool label_eq(const uint8_t* a, const uint8_t* b, size_t l) {
  if (l >= 8) {
    size_t i = 0;
    for (; i + 8 < l; i += 8)
      if (lower8(load_n(a + i, 8)) != lower8(load_n(b + i, 8))) return false;
    return lower8(load_n(a + l - 8, 8)) == lower8(load_n(b + l - 8, 8));
  }
  if (l >= 4) {
    return lower8(load_n(a, 4)) == lower8(load_n(b, 4)) &&
           lower8(load_n(a + l - 4, 4)) == lower8(load_n(b + l - 4, 4));
  }
  for (size_t k = 0; k < l; ++k)
    if (lower(a[k]) != lower(b[k])) return false;
  return true;
}

enum class Sec : uint8_t { Answer = 0, Authority = 1, Additional = 2 };

// One RRset to write. `owner` null means "the question name" (written as a
// pointer to offset 12, which keeps the client's case: RFC 1035 §7.1).
// Trivial on purpose: the per-query array of them is never zeroed.
struct Item {
  Sec sec;
  uint16_t type;
  uint16_t rclass;
  uint16_t count;
  uint32_t ttl;
  const uint8_t* owner;     // uncompressed wire, any case
  const uint8_t* data;      // [u16 len][rdata] entries
  const NodeId* targets;    // additional-section targets, or null
};

// ------------------------------------------------------------ encoder

class Encoder {
 public:
  Encoder(uint8_t* buf, size_t limit) : buf_(buf), limit_(limit) {}

  size_t pos() const { return pos_; }

  // Writes a name with compression (RFC 1035 §4.1.4). Returns false when
  // it does not fit.
  bool name(const uint8_t* w) {
    uint8_t offs[128];
    size_t n = 0, p = 0;
    for (; w[p] != 0; p += size_t(w[p]) + 1) offs[n++] = uint8_t(p);
    const size_t total = p + 1;
    // Longest suffix already in the packet: entries are filtered by the
    // suffix length first, then checked label by label (case-insensitive).
    size_t match = n;  // first label index of the suffix already written
    uint16_t ptr = 0;
    for (size_t i = 0; i < n && match == n; ++i) {
      const uint8_t sl = uint8_t(total - offs[i]);
      for (size_t e = 0; e < nent_; ++e) {
        if (ent_[e].len == sl && same(ent_[e].off, w + offs[i])) {
          match = i;
          ptr = ent_[e].off;
          break;
        }
      }
    }
    // Octets written literally: labels before the match (or all labels).
    const size_t lit = match < n ? offs[match] : (n ? size_t(offs[n - 1]) + w[offs[n - 1]] + 1 : 0);
    const size_t need = lit + (match < n ? 2 : 1);
    if (limit_ - pos_ < need) return false;
    const size_t start = pos_;
    std::memcpy(buf_ + pos_, w, lit);
    pos_ += lit;
    if (match < n) {
      put16(buf_ + pos_, uint16_t(0xC000 | ptr));
      pos_ += 2;
    } else {
      buf_[pos_++] = 0;
    }
    for (size_t i = 0; i < match && nent_ < kMaxCompress; ++i) {
      const size_t off = start + offs[i];
      if (off >= 0x4000) break;
      ent_[nent_++] = {uint16_t(off), uint8_t(total - offs[i])};
    }
    return true;
  }

  // The question name, first in the packet: written as is (case kept),
  // with a compression entry per suffix from the already split `qn`, so
  // there is nothing to search and no label walk. Same result as name().
  bool question(const uint8_t* w, const LowerName& qn) {
    if (limit_ - pos_ < qn.len) return false;
    const size_t start = pos_;
    std::memcpy(buf_ + pos_, w, qn.len);
    pos_ += qn.len;
    for (size_t i = 0; i < qn.labels && nent_ < kMaxCompress; ++i) {
      const size_t off = start + qn.offsets[i];
      if (off >= 0x4000) break;
      ent_[nent_++] = {uint16_t(off), uint8_t(qn.len - qn.offsets[i])};
    }
    return true;
  }

  bool u16(uint16_t v) {
    if (limit_ - pos_ < 2) return false;
    put16(buf_ + pos_, v);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t v) {
    if (limit_ - pos_ < 4) return false;
    buf_[pos_] = uint8_t(v >> 24);
    buf_[pos_ + 1] = uint8_t(v >> 16);
    buf_[pos_ + 2] = uint8_t(v >> 8);
    buf_[pos_ + 3] = uint8_t(v);
    pos_ += 4;
    return true;
  }
  bool raw(const uint8_t* p, size_t n) {
    if (limit_ - pos_ < n) return false;
    std::memcpy(buf_ + pos_, p, n);
    pos_ += n;
    return true;
  }

  // Writes one RR with rdata; names in rdata of the RFC 1035 types are
  // compressed (RFC 3597 §4 forbids it for newer types).
  bool rr(const uint8_t* owner, uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t* rd,
          size_t rdlen) {
    if (owner == nullptr) {
      if (!u16(0xC000 | wire::kHeaderSize)) return false;
    } else if (!name(owner)) {
      return false;
    }
    if (limit_ - pos_ < 10) return false;
    put16(buf_ + pos_, type);
    put16(buf_ + pos_ + 2, rclass);
    buf_[pos_ + 4] = uint8_t(ttl >> 24);
    buf_[pos_ + 5] = uint8_t(ttl >> 16);
    buf_[pos_ + 6] = uint8_t(ttl >> 8);
    buf_[pos_ + 7] = uint8_t(ttl);
    const size_t rdlen_at = pos_ + 8;
    pos_ += 10;
    const size_t rd_start = pos_;
    // The type table says where the compressible names sit (an O(1)
    // array lookup; RFC 3597 §4 forbids compression for newer types).
    const wire::TypeInfo* ti = wire::type_info(type);
    if (ti != nullptr && ti->compress_names > 0) {
      if (!name_in_rdata(rd, rdlen, ti->compress_at, ti->compress_names - 1)) return false;
    } else if (!raw(rd, rdlen)) {
      return false;
    }
    put16(buf_ + rdlen_at, uint16_t(pos_ - rd_start));
    return true;
  }

  struct Mark {
    size_t pos, nent;
  };
  Mark mark() const { return {pos_, nent_}; }
  void rollback(Mark m) {
    pos_ = m.pos;
    nent_ = m.nent;
  }

 private:
  static size_t name_len(const uint8_t* p, size_t max) {
    size_t n = 0;
    while (n < max) {
      if (p[n] == 0) return n + 1;
      if (p[n] > 63) return 0;
      n += size_t(p[n]) + 1;
    }
    return 0;
  }
  // Writes `prefix` raw octets, then a name (compressed), then for SOA a
  // second name and the rest raw. Malformed stored rdata goes out raw.
  bool name_in_rdata(const uint8_t* rd, size_t rdlen, size_t prefix, int extra_names) {
    size_t l1 = prefix < rdlen ? name_len(rd + prefix, rdlen - prefix) : 0;
    if (l1 == 0) return raw(rd, rdlen);
    size_t at = prefix + l1;
    size_t l2 = 0;
    if (extra_names) {
      l2 = name_len(rd + at, rdlen - at);
      if (l2 == 0) return raw(rd, rdlen);
    }
    if (!raw(rd, prefix) || !name(rd + prefix)) return false;
    if (extra_names && !name(rd + at)) return false;
    at += l2;
    return raw(rd + at, rdlen - at);
  }
  // Does the name written at packet offset `off` equal `w` (ignoring case)?
  bool same(uint16_t off, const uint8_t* w) const {
    size_t p = off;
    for (int guard = 0; guard < 128; ++guard) {
      uint8_t l = buf_[p];
      if ((l & 0xC0) == 0xC0) {
        p = get16(buf_ + p) & 0x3FFF;
        continue;
      }
      if (l != *w) return false;
      if (l == 0) return true;
      if (!label_eq(buf_ + p + 1, w + 1, l)) return false;
      p += size_t(l) + 1;
      w += size_t(l) + 1;
    }
    return false;
  }

  struct Entry {
    uint16_t off;  // where a suffix starts in the packet
    uint8_t len;   // its uncompressed length
  };
  uint8_t* buf_;
  size_t limit_;
  size_t pos_ = 0;
  Entry ent_[kMaxCompress];
  size_t nent_ = 0;
};

// ------------------------------------------------------------ resolution

struct Ctx {
  const Zone* z;
  uint16_t qtype;
  bool udp;
  const Options* opt;
  Item items[kMaxItems];
  size_t nitems = 0;
  uint8_t rcode = kNoError;
  bool aa = true;
  bool referral = false;
  // False once kMaxCnameChain CNAMEs are in the answer: Knot then still
  // answers a final non-CNAME RRset, but adds no further CNAME.
  bool cname_allowed = true;
  // Synthesized names (DNAME -> CNAME targets) as [u16 len][name] entries.
  uint8_t scratch[kMaxCnameChain * (wire::kMaxNameLength + 2)];
  size_t scratch_used = 0;

  void add(Sec s, const uint8_t* owner, const RRsetView& v, NodeId node = kNoNode) {
    if (nitems == kMaxItems || v.count == 0) return;
    (void)node;
    items[nitems++] = Item{s, v.type, kClassIN, v.count, v.ttl, owner, v.data, v.targets};
  }
};

// A lookup result inside one zone.
struct Found {
  NodeId node = kNoNode;   // exact match or closest encloser
  size_t depth = 0;        // labels between qname and the node (0 = exact)
};

Found closest(const Zone* z, const LowerName& n) {
  const size_t zl = z->node(z->apex()).labels;
  const size_t max = n.labels - zl;
  for (size_t i = 0; i <= max; ++i) {
    NodeId id = z->find(n.suffix(i), n.suffix_len(i));
    if (id != kNoNode) return {id, i};
  }
  return {z->apex(), max};  // unreachable: the apex always exists
}

void add_soa(Ctx& c) {
  RRsetView soa = c.z->soa();
  // RFC 2308 §3: the negative TTL is min(SOA TTL, SOA MINIMUM).
  soa.ttl = std::min(soa.ttl, c.z->soa_minimum());
  c.add(Sec::Authority, c.z->node_name(c.z->apex()).data(), soa, c.z->apex());
}

void add_referral(Ctx& c, NodeId cut) {
  RRsetView ns = c.z->rrset(cut, wire::kTypeNS);
  c.add(Sec::Authority, c.z->node_name(cut).data(), ns, cut);
  c.referral = true;
}

// Answers from node `id` for the current name. `owner` null = qname.
// Returns the CNAME target to follow, or null.
const uint8_t* answer_node(Ctx& c, NodeId id, const uint8_t* owner) {
  const Zone::Node& nd = c.z->node(id);
  if (c.qtype == wire::kTypeANY) {
    if (nd.rrset_count == 0) {
      add_soa(c);
      return nullptr;
    }
    // RFC 8482 §4.1: one RRset over UDP.
    size_t n = (c.udp || !c.opt->any_all_over_tcp) ? 1 : nd.rrset_count;
    for (size_t i = 0; i < n; ++i) c.add(Sec::Answer, owner, c.z->rrset_at(id, i), id);
    return nullptr;
  }
  if ((nd.flags & Zone::kHasCname) && c.qtype != wire::kTypeCNAME) {
    if (!c.cname_allowed) return nullptr;
    RRsetView cn = c.z->rrset(id, wire::kTypeCNAME);
    c.add(Sec::Answer, owner, cn, id);
    return cn.data + 2;
  }
  RRsetView v = c.z->rrset(id, c.qtype);
  if (v.count == 0) {
    add_soa(c);  // NODATA (RFC 2308 §2.2)
    return nullptr;
  }
  c.add(Sec::Answer, owner, v, id);
  return nullptr;
}

// RFC 6672 §2.2: qname = prefix + DNAME owner -> prefix + DNAME target.
// Returns the synthesized target in scratch, or null (YXDOMAIN set).
const uint8_t* synthesize(Ctx& c, const LowerName& cur, const uint8_t* cur_wire, size_t depth,
                          const RRsetView& dname, const uint8_t* owner) {
  const uint8_t* target = dname.data + 2;
  const size_t tlen = get16(dname.data);
  const size_t plen = cur.offsets[depth];
  if (plen + tlen > wire::kMaxNameLength || c.scratch_used + 2 + plen + tlen > sizeof(c.scratch)) {
    c.rcode = kYXDomain;
    return nullptr;
  }
  uint8_t* s = c.scratch + c.scratch_used;
  put16(s, uint16_t(plen + tlen));
  std::memcpy(s + 2, cur_wire, plen);  // the client's case for the prefix
  std::memcpy(s + 2 + plen, target, tlen);
  c.scratch_used += 2 + plen + tlen;
  RRsetView cn;
  cn.type = wire::kTypeCNAME;
  cn.count = 1;
  cn.ttl = dname.ttl;  // RFC 6672 §5.3.1: CNAME TTL = DNAME TTL
  cn.data = s;
  c.add(Sec::Answer, owner, cn);
  return s + 2;
}

void resolve(Ctx& c, const uint8_t* qname_wire, const LowerName& qn) {
  // The current name: the qname, then each CNAME target (copied into
  // `next_name` only when a chain is followed).
  const LowerName* curp = &qn;
  LowerName next_name;
  const uint8_t* cur_wire = qname_wire;  // case as seen (for synthesis)
  const uint8_t* owner = nullptr;        // null = the question name
  uint8_t seen[kMaxCnameChain][wire::kMaxNameLength];
  uint8_t seen_len[kMaxCnameChain];
  size_t chain = 0;
  auto origin = c.z->node_name(c.z->apex());

  for (;;) {
    const LowerName& cur = *curp;
    const Found f = closest(c.z, cur);
    const Zone::Node& nd = c.z->node(f.node);
    const uint8_t* next = nullptr;
    if (nd.cut != kNoNode && !(f.depth == 0 && f.node == nd.cut && c.qtype == wire::kTypeDS)) {
      // RFC 1034 §4.3.2 step 3b: below (or at) a zone cut -> referral.
      add_referral(c, nd.cut);
      return;
    }
    if (f.depth == 0) {
      // Exact match (a DS query at a cut is answered from the parent side).
      if (f.node == nd.cut) {
        RRsetView ds = c.z->rrset(f.node, wire::kTypeDS);
        if (ds.count) c.add(Sec::Answer, owner, ds, f.node); else add_soa(c);
        return;
      }
      next = answer_node(c, f.node, owner);
    } else if (nd.flags & Zone::kHasDname) {
      if (!c.cname_allowed) return;
      RRsetView dn = c.z->rrset(f.node, wire::kTypeDNAME);
      c.add(Sec::Answer, c.z->node_name(f.node).data(), dn, f.node);
      next = synthesize(c, cur, cur_wire, f.depth, dn, owner);
      if (next == nullptr || c.qtype == wire::kTypeCNAME) return;
    } else if (nd.flags & Zone::kWildcardChild) {
      // RFC 4592 §3.3.3: the source of synthesis is "*." + closest encloser.
      uint8_t w[wire::kMaxNameLength];
      const size_t el = cur.suffix_len(f.depth);
      NodeId src = kNoNode;
      if (el + 2 <= wire::kMaxNameLength) {
        w[0] = 1;
        w[1] = '*';
        std::memcpy(w + 2, cur.suffix(f.depth), el);
        src = c.z->find(w, el + 2);
      }
      if (src == kNoNode) {
        c.rcode = kNXDomain;
        add_soa(c);
        return;
      }
      // Synthesized records take the current name as owner (§3.4.2).
      next = answer_node(c, src, owner);
    } else {
      c.rcode = kNXDomain;  // RFC 1034 §4.3.2 step 3c
      add_soa(c);
      return;
    }
    if (next == nullptr) return;
    // Follow the CNAME inside this zone only (Knot does not cross zones).
    if (++chain >= size_t(kMaxCnameChain)) c.cname_allowed = false;
    std::memcpy(seen[chain - 1], cur.wire, cur.len);
    seen_len[chain - 1] = cur.len;
    size_t tl = 0;
    while (next[tl] != 0) tl += size_t(next[tl]) + 1;
    ++tl;
    next_name.assign(next, tl);
    curp = &next_name;
    const LowerName& nc = next_name;
    if (nc.len < origin.size() ||
        std::memcmp(nc.wire + nc.len - origin.size(), origin.data(), origin.size()) != 0 ||
        (nc.len > origin.size() &&
         std::find(nc.offsets, nc.offsets + nc.labels + 1, uint8_t(nc.len - origin.size())) ==
             nc.offsets + nc.labels + 1)) {
      return;  // target outside the zone: the resolver continues from here
    }
    for (size_t i = 0; i < chain; ++i) {
      if (seen_len[i] == nc.len && std::memcmp(seen[i], nc.wire, nc.len) == 0) return;  // loop
    }
    cur_wire = next;
    owner = next;
  }
}

// Additional-section processing (RFC 1034 §3.6.2 / §4.3.2 step 6): A then
// AAAA of NS, MX and SRV targets in this zone. NS targets below a cut are
// glue and always go; other types only use authoritative data.
void add_additionals(Ctx& c) {
  NodeId done[kMaxItems];
  size_t ndone = 0;
  const size_t n = c.nitems;
  for (size_t i = 0; i < n; ++i) {
    const Item& it = c.items[i];
    if (it.targets == nullptr) continue;
    for (size_t k = 0; k < it.count; ++k) {
      NodeId t = it.targets[k];
      if (t == kNoNode) continue;
      if (it.type != wire::kTypeNS && c.z->node(t).cut != kNoNode) continue;
      if (std::find(done, done + ndone, t) != done + ndone) continue;
      if (ndone < kMaxItems) done[ndone++] = t;
      const uint8_t* name = c.z->node_name(t).data();
      c.add(Sec::Additional, name, c.z->rrset(t, wire::kTypeA), t);
      c.add(Sec::Additional, name, c.z->rrset(t, wire::kTypeAAAA), t);
    }
  }
}

void write_header(uint8_t* out, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
                  uint16_t ar) {
  put16(out, id);
  put16(out + 2, flags);
  put16(out + 4, qd);
  put16(out + 6, an);
  put16(out + 8, ns);
  put16(out + 10, ar);
}

// Response flags: QR, opcode and RD copied (RFC 1035 §4.1.1); Knot clears
// AD/CD/Z and RA.
uint16_t reply_flags(const wire::Header& h, bool aa, bool tc, uint16_t rcode) {
  uint16_t f = 0x8000 | (h.flags & 0x7800) | (h.flags & 0x0100) | (rcode & 0xF);
  if (aa) f |= 0x0400;
  if (tc) f |= 0x0200;
  return f;
}

size_t write_opt(uint8_t* p, uint16_t udp, uint16_t rcode, bool do_bit) {
  p[0] = 0;
  put16(p + 1, wire::kTypeOPT);
  put16(p + 3, udp);
  p[5] = uint8_t(rcode >> 4);  // RFC 6891 §6.1.3: upper 8 bits of the RCODE
  p[6] = 0;                    // version 0
  p[7] = do_bit ? 0x80 : 0;    // RFC 3225 §3: DO copied
  p[8] = 0;
  put16(p + 9, 0);
  return kOptSize;
}

// A reply with no records: header, question (if any), OPT (if any).
size_t simple_reply(const wire::QueryView& q, uint8_t* out, size_t cap, uint16_t rcode,
                    bool with_question, bool with_opt, uint16_t udp) {
  size_t need = wire::kHeaderSize + (with_question ? q.qname_size + 4u : 0) + (with_opt ? kOptSize : 0);
  if (cap < need) return 0;
  size_t pos = wire::kHeaderSize;
  if (with_question) {
    std::memcpy(out + pos, q.qname, q.qname_size);
    pos += q.qname_size;
    put16(out + pos, q.qtype);
    put16(out + pos + 2, q.qclass);
    pos += 4;
  }
  if (with_opt) pos += write_opt(out + pos, udp, rcode, q.edns.do_bit);
  write_header(out, q.header.id, reply_flags(q.header, false, false, rcode), with_question ? 1 : 0,
               0, 0, with_opt ? 1 : 0);
  return pos;
}

const std::string& host_identity() {
  static const std::string name = [] {
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) != 0) return std::string("ddns");
    return std::string(buf);
  }();
  return name;
}

bool name_is(const LowerName& n, const char* dotted) {
  // Compares a lowercased wire name with "label.label" text.
  size_t p = 0;
  const char* s = dotted;
  while (*s) {
    const char* dot = std::strchr(s, '.');
    size_t l = dot ? size_t(dot - s) : std::strlen(s);
    if (p >= n.len || n.wire[p] != l || std::memcmp(n.wire + p + 1, s, l) != 0) return false;
    p += l + 1;
    s += l + (dot ? 1 : 0);
  }
  return p + 1 == n.len && n.wire[p] == 0;
}

}  // namespace

namespace {

// answer() and answer_or_divert(): `divert` says which.
Answered route(const zone::ZoneSet& zones, const Options& opt, std::span<const uint8_t> query,
               Transport transport, uint8_t* out, size_t cap, uint32_t rotate, bool divert) {
  wire::QueryView q;
  switch (wire::parse_query(query, q)) {
    case wire::QueryStatus::Drop:
      return 0;
    case wire::QueryStatus::FormErr:
      // RFC 6891 §7: no OPT in a reply to a malformed OPT.
      return simple_reply(q, out, cap, kFormErr, q.has_question, false, 0);
    case wire::QueryStatus::Ok:
      break;
  }
  const bool udp = transport == Transport::Udp;
  const uint16_t our_udp = std::max<uint16_t>(opt.max_udp_size, wire::kMinUdpSize);
  size_t limit;
  if (!udp) {
    limit = 65535;
  } else if (q.has_edns) {
    // RFC 6891 §6.2.5: sizes below 512 are treated as 512.
    limit = std::clamp<size_t>(q.edns.udp_size, wire::kMinUdpSize, our_udp);
  } else {
    limit = wire::kMinUdpSize;
  }
  limit = std::min(limit, cap);

  // A TSIG-signed message (a secondary's SOA refresh, a signed NOTIFY or
  // transfer) needs verifying and a signed answer (RFC 8945 §5.3): that is
  // the server's, which has the keys.
  if (divert && q.tsig_offset) return Answered::diverted();
  if (q.header.opcode() != wire::Opcode::Query) {
    // UPDATE (RFC 2136) never reaches here: the server hands it to the
    // zone's writer. NOTIFY (RFC 1996) goes to replication when the server
    // has it; other opcodes are not served by this engine: NOTIMP, as Knot.
    if (divert && q.header.opcode() == wire::Opcode::Notify) return Answered::diverted();
    return simple_reply(q, out, limit, kNotImp, true, q.has_edns, our_udp);
  }
  if (q.has_edns && q.edns.version != 0) {
    return simple_reply(q, out, limit, kBadVers, true, true, our_udp);  // RFC 6891 §6.1.3
  }

  LowerName qn;
  qn.assign(q.qname, q.qname_size);

  if (q.qclass == kClassCH) {
    // Server identity in the CHAOS class (the BIND/Knot convention).
    const std::string* text = nullptr;
    if (opt.chaos && q.qtype == wire::kTypeTXT) {
      if (name_is(qn, "version.bind") || name_is(qn, "version.server")) {
        text = &opt.version;
      } else if (name_is(qn, "id.server") || name_is(qn, "hostname.bind")) {
        text = opt.identity.empty() ? &host_identity() : &opt.identity;
      }
    }
    if (text == nullptr) return simple_reply(q, out, limit, kRefused, true, q.has_edns, our_udp);
    if (limit < wire::kHeaderSize + q.qname_size + 4u + (q.has_edns ? kOptSize : 0)) return 0;
    Encoder enc(out, limit - (q.has_edns ? kOptSize : 0));
    uint8_t hdr[wire::kHeaderSize] = {};
    if (!enc.raw(hdr, sizeof(hdr)) || !enc.name(q.qname) || !enc.u16(q.qtype) || !enc.u16(q.qclass)) return 0;
    // TXT rdata: the text cut into <character-string>s of at most 255.
    uint8_t rd[1024];
    size_t rl = 0;
    const size_t tl = std::min<size_t>(text->size(), 765);
    for (size_t i = 0; i < tl || i == 0; i += 255) {
      size_t l = std::min<size_t>(255, tl - i);
      rd[rl++] = uint8_t(l);
      std::memcpy(rd + rl, text->data() + i, l);
      rl += l;
      if (tl == 0) break;
    }
    bool fit = enc.rr(nullptr, wire::kTypeTXT, kClassCH, 0, rd, rl);
    size_t pos = enc.pos();
    if (q.has_edns) pos += write_opt(out + pos, our_udp, 0, q.edns.do_bit);
    write_header(out, q.header.id, reply_flags(q.header, false, !fit, 0), 1, fit ? 1 : 0, 0,
                 q.has_edns ? 1 : 0);
    return pos;
  }
  if (q.qclass != kClassIN && q.qclass != kClassANY) {
    return simple_reply(q, out, limit, kRefused, true, q.has_edns, our_udp);
  }

  // DS lives in the parent zone: search from the parent name first.
  const Zone* z = nullptr;
  if (q.qtype == wire::kTypeDS && qn.labels > 0) z = zones.find(qn, 1);
  if (z == nullptr) z = zones.find(qn, 0);
  if (z == nullptr) return simple_reply(q, out, limit, kRefused, true, q.has_edns, our_udp);

  if (q.qtype == wire::kTypeAXFR || q.qtype == wire::kTypeIXFR) {
    // Zone transfers (RFC 5936, RFC 1995) are the replication layer's.
    // Without one: AXFR over UDP is NOTIMP, otherwise NOTAUTH (what Knot
    // answers without an ACL).
    if (divert) return Answered::diverted();
    const uint8_t rc = (q.qtype == wire::kTypeAXFR && udp) ? kNotImp : kNotAuth;
    return simple_reply(q, out, limit, rc, true, q.has_edns, our_udp);
  }
  // A secondary's copy past its SOA expire time is no longer served
  // (RFC 1035 §3.3.13): SERVFAIL, as BIND and Knot answer.
  if (z->expired()) return simple_reply(q, out, limit, kServFail, true, q.has_edns, our_udp);

  Ctx c;
  c.z = z;
  c.qtype = q.qtype;
  c.udp = udp;
  c.opt = &opt;
  resolve(c, q.qname, qn);
  if (c.referral) {
    bool has_answer = false;
    for (size_t i = 0; i < c.nitems; ++i) has_answer |= c.items[i].sec == Sec::Answer;
    c.aa = has_answer;  // a pure referral is not authoritative
  }
  if (c.rcode != kYXDomain) add_additionals(c);

  // Encode. The OPT record's room is reserved up front.
  const size_t opt_room = q.has_edns ? kOptSize : 0;
  if (limit < wire::kHeaderSize + q.qname_size + 4u + opt_room) return 0;
  Encoder enc(out, limit - opt_room);
  uint8_t hdr[wire::kHeaderSize] = {};
  enc.raw(hdr, sizeof(hdr));
  enc.question(q.qname, qn);  // case kept; entries make later names point here
  enc.u16(q.qtype);
  enc.u16(q.qclass);
  uint16_t counts[3] = {0, 0, 0};
  bool tc = false;
  const bool rr = opt.round_robin;
  for (size_t i = 0; i < c.nitems && !tc; ++i) {
    const Item& it = c.items[i];
    const auto m = enc.mark();
    bool ok = true;
    const uint8_t* p = it.data;
    const size_t count = it.count;
    size_t start = rr && count > 1 ? rotate % count : 0;
    const uint8_t* first = p;
    for (size_t k = 0; k < start; ++k) first += 2 + get16(first);
    const uint8_t* cur = first;
    for (size_t k = 0; k < count && ok; ++k) {
      if (k + start == count) cur = p;  // wrap around
      const size_t rl = get16(cur);
      ok = enc.rr(it.owner, it.type, it.rclass, it.ttl, cur + 2, rl);
      cur += 2 + rl;
    }
    if (!ok) {
      enc.rollback(m);
      // Additional data is optional: skip it, never set TC for it. Knot
      // also just leaves out a negative answer's SOA that does not fit.
      if (it.sec == Sec::Answer || (it.sec == Sec::Authority && it.type != wire::kTypeSOA)) tc = true;
      continue;
    }
    counts[size_t(it.sec)] += uint16_t(count);
  }
  size_t pos = enc.pos();
  if (q.has_edns) pos += write_opt(out + pos, our_udp, c.rcode, q.edns.do_bit);
  write_header(out, q.header.id, reply_flags(q.header, c.aa, tc, c.rcode), 1, counts[0], counts[1],
               uint16_t(counts[2] + (q.has_edns ? 1 : 0)));
  return pos;
}

}  // namespace

size_t answer(const zone::ZoneSet& zones, const Options& opt, std::span<const uint8_t> query,
              Transport transport, uint8_t* out, size_t cap, uint32_t rotate) {
  return route(zones, opt, query, transport, out, cap, rotate, false).size;
}

Answered answer_or_divert(const zone::ZoneSet& zones, const Options& opt,
                          std::span<const uint8_t> query, Transport transport, uint8_t* out,
                          size_t cap, uint32_t rotate) {
  return route(zones, opt, query, transport, out, cap, rotate, true);
}

}  // namespace ddns::auth
