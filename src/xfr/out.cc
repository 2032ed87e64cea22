// AXFR/IXFR answer messages, made on demand (see out.h).
#include "xfr/out.h"

#include "metrics/metrics.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

#include "base/bytes.h"
#include "zone/serial.h"

namespace ddns::xfr {
namespace {

using Section = wire::MessageBuilder::Section;

wire::Header response_header(uint16_t id, bool aa) {
  wire::Header h;
  h.id = id;
  h.set_qr(true);
  h.set_opcode(wire::Opcode::Query);
  h.set_aa(aa);
  return h;
}

}  // namespace

// Encodes transfer messages. MessageBuilder's compression table is a short
// list scanned per label, fine for answers but the whole cost of a million-
// record AXFR; here every name suffix written is found again through a hash
// table (verified against the buffer), so compression costs O(labels).
// Owners are compressed; rdata is copied verbatim (compressing names in
// rdata is optional, RFC 1035 §4.1.4). The question name is not a target
// (it carries the client's case). All-or-nothing per RRset, as
// MessageBuilder.
class Packer {
 public:
  Packer(uint8_t* buf, size_t cap) : buf_(buf), cap_(std::min<size_t>(cap, 65535)) {
    std::memset(tab_, 0, sizeof tab_);
    len_ = cap_ >= wire::kHeaderSize ? wire::kHeaderSize : 0;
  }

  void set_header(const wire::Header& h) { h_ = h; }

  bool add_question(const wire::Name& name, uint16_t qtype, uint16_t qclass) {
    auto w = name.wire();
    if (len_ + w.size() + 4 > cap_) return false;
    std::memcpy(buf_ + len_, w.data(), w.size());
    len_ += w.size();
    put16(qtype);
    put16(qclass);
    qd_ = 1;
    return true;
  }

  bool add_rrset(std::span<const uint8_t> owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                 std::span<const std::span<const uint8_t>> rdatas) {
    if (rdatas.empty()) return true;
    if (rdatas.size() > size_t(65535) - an_) return false;
    const size_t mark = len_;
    const size_t ins_mark = inserted_.size();
    size_t owner_at = 0;
    for (size_t i = 0; i < rdatas.size(); ++i) {
      const auto rd = rdatas[i];
      if (i == 0) {
        owner_at = len_;
        if (!put_name(owner)) return undo(mark, ins_mark);
        // A name that is just a pointer: later copies repeat the pointer.
        if ((buf_[owner_at] & 0xC0) == 0xC0) owner_at = (size_t(buf_[owner_at] & 0x3F) << 8) | buf_[owner_at + 1];
      } else {
        if (len_ + 2 > cap_) return undo(mark, ins_mark);
        if (owner_at <= 0x3FFF) {
          put16(uint16_t(0xC000 | owner_at));
        } else {
          if (!put_name(owner)) return undo(mark, ins_mark);
        }
      }
      if (len_ + 10 + rd.size() > cap_) return undo(mark, ins_mark);
      put16(type);
      put16(rclass);
      put16(uint16_t(ttl >> 16));
      put16(uint16_t(ttl));
      put16(uint16_t(rd.size()));
      std::memcpy(buf_ + len_, rd.data(), rd.size());
      len_ += rd.size();
    }
    an_ = uint16_t(an_ + rdatas.size());
    return true;
  }

  size_t size() const { return len_; }
  uint16_t answers() const { return an_; }

  size_t finish() {
    if (cap_ < wire::kHeaderSize) return 0;
    uint8_t* p = buf_;
    auto w16 = [&p](uint16_t v) {
      *p++ = uint8_t(v >> 8);
      *p++ = uint8_t(v);
    };
    w16(h_.id);
    w16(h_.flags);
    w16(qd_);
    w16(an_);
    w16(0);
    w16(0);
    return len_;
  }

 private:
  static constexpr size_t kSlots = 8192;  // power of two; filled at most half

  struct Slot {
    uint32_t tag;   // upper hash bits, 0 = empty
    uint16_t off;   // where the suffix starts in the message
    uint16_t used;
  };

  void put16(uint16_t v) {
    buf_[len_++] = uint8_t(v >> 8);
    buf_[len_++] = uint8_t(v);
  }

  bool undo(size_t mark, size_t ins_mark) {
    len_ = mark;
    while (inserted_.size() > ins_mark) {
      tab_[inserted_.back()] = Slot{};
      inserted_.pop_back();
      --count_;
    }
    return false;
  }

  static uint64_t hash(const uint8_t* p, size_t n) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a over lowercased octets
    for (size_t i = 0; i < n; ++i) h = (h ^ wire::ascii_lower(p[i])) * 1099511628211ULL;
    return h;
  }

  // Does the (possibly compressed) name at `off` equal wire suffix `s`?
  bool equal_at(size_t off, const uint8_t* s, size_t n) const {
    size_t i = 0;
    for (int hops = 0; hops < 128; ++hops) {
      if (off >= len_) return false;
      uint8_t l = buf_[off];
      if ((l & 0xC0) == 0xC0) {
        if (off + 1 >= len_) return false;
        off = (size_t(l & 0x3F) << 8) | buf_[off + 1];
        continue;
      }
      if (i >= n || s[i] != l) return false;
      if (l == 0) return i + 1 == n;
      if (off + 1 + l > len_ || i + 1 + l > n) return false;
      for (size_t k = 1; k <= l; ++k)
        if (wire::ascii_lower(buf_[off + k]) != wire::ascii_lower(s[i + k])) return false;
      off += 1 + l;
      i += 1 + l;
    }
    return false;
  }

  // Writes `w` (uncompressed wire), pointing at the longest suffix already
  // in the message, and registers the new suffixes.
  bool put_name(std::span<const uint8_t> w) {
    const uint8_t* p = w.data();
    const size_t n = w.size();
    size_t starts[128];
    uint64_t hashes[128];
    size_t k = 0;
    for (size_t i = 0; i < n && p[i] != 0 && k < 128; i += size_t(p[i]) + 1) starts[k++] = i;
    size_t match = k;  // label index where the found suffix starts
    size_t target = 0;
    for (size_t j = 0; j < k; ++j) {
      hashes[j] = hash(p + starts[j], n - starts[j]);
      if (const Slot* s = find(hashes[j], p + starts[j], n - starts[j])) {
        match = j;
        target = s->off;
        break;
      }
    }
    const size_t prefix = match < k ? starts[match] : n - 1;  // octets written literally
    const size_t need = prefix + (match < k ? 2 : 1);
    if (len_ + need > cap_) return false;
    const size_t base = len_;
    std::memcpy(buf_ + len_, p, prefix);
    len_ += prefix;
    if (match < k) {
      put16(uint16_t(0xC000 | target));
    } else {
      buf_[len_++] = 0;
    }
    for (size_t j = 0; j < match; ++j)
      if (base + starts[j] <= 0x3FFF) insert(hashes[j], uint16_t(base + starts[j]));
    return true;
  }

  const Slot* find(uint64_t h, const uint8_t* s, size_t n) const {
    uint32_t tag = uint32_t(h >> 32) | 1;
    for (size_t i = size_t(h) & (kSlots - 1), probes = 0; probes < kSlots; ++probes, i = (i + 1) & (kSlots - 1)) {
      const Slot& sl = tab_[i];
      if (sl.tag == 0) return nullptr;
      if (sl.tag == tag && equal_at(sl.off, s, n)) return &sl;
    }
    return nullptr;
  }

  void insert(uint64_t h, uint16_t off) {
    if (count_ >= kSlots / 2) return;  // full enough: less compression, never wrong
    uint32_t tag = uint32_t(h >> 32) | 1;
    size_t i = size_t(h) & (kSlots - 1);
    while (tab_[i].tag != 0) i = (i + 1) & (kSlots - 1);
    tab_[i] = Slot{tag, off, 1};
    inserted_.push_back(uint32_t(i));
    ++count_;
  }

  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  wire::Header h_;
  uint16_t qd_ = 0, an_ = 0;
  Slot tab_[kSlots];
  size_t count_ = 0;
  std::vector<uint32_t> inserted_;
};

wire::RR soa_record(const zone::Zone& z) {
  wire::RR rr;
  rr.owner = z.origin();
  rr.type = kTypeSoa;
  rr.rclass = 1;
  zone::RRsetView v = z.soa();
  rr.ttl = v.ttl;
  if (v.count > 0) {
    size_t len = size_t(v.data[0]) << 8 | v.data[1];
    rr.rdata.assign(v.data + 2, v.data + 2 + len);
  }
  return rr;
}

XfrSource::XfrSource(OutRequest req, size_t max_message)
    : req_(std::move(req)), max_message_(std::min<size_t>(max_message, 65535)) {}

XfrSource::~XfrSource() = default;

std::unique_ptr<XfrSource> XfrSource::axfr(OutRequest req, std::shared_ptr<const zone::Zone> z,
                                           size_t max_message) {
  metrics::registry().shared().xfr_out[0].add();
  std::unique_ptr<XfrSource> s(new XfrSource(std::move(req), max_message));
  s->soa_ = soa_record(*z);
  s->zone_ = std::move(z);
  return s;
}

std::unique_ptr<XfrSource> XfrSource::ixfr(OutRequest req, wire::RR newest_soa,
                                           std::vector<zone::ChangeSet> changes,
                                           size_t max_message) {
  metrics::registry().shared().xfr_out[1].add();
  std::unique_ptr<XfrSource> s(new XfrSource(std::move(req), max_message));
  s->soa_ = std::move(newest_soa);
  s->changes_ = std::move(changes);
  s->advance_ixfr();  // skip empty lists
  return s;
}

bool XfrSource::add_one_rr(Packer& b, const wire::RR& rr) {
  std::span<const uint8_t> rd(rr.rdata.data(), rr.rdata.size());
  return b.add_rrset(rr.owner.wire(), rr.type, rr.rclass, rr.ttl,
                     std::span<const std::span<const uint8_t>>(&rd, 1));
}

// Moves the IXFR cursor to the next record, across lists and changes.
void XfrSource::advance_ixfr() {
  while (change_ < changes_.size()) {
    const auto& list = in_added_ ? changes_[change_].added : changes_[change_].removed;
    if (rec_ < list.size()) return;
    rec_ = 0;
    if (!in_added_) {
      in_added_ = true;
    } else {
      in_added_ = false;
      ++change_;
    }
  }
}

bool XfrSource::body_done() const {
  return zone_ ? node_ >= zone_->node_count() : change_ >= changes_.size();
}

// Moves the AXFR cursor to an existing RRset, skipping the apex SOA.
void XfrSource::skip_axfr() {
  const zone::Zone& z = *zone_;
  for (;;) {
    while (node_ < z.node_count() && rrset_ >= z.node(node_).rrset_count) {
      ++node_;
      rrset_ = 0;
    }
    if (node_ >= z.node_count()) return;
    if (node_ == z.apex() && z.rrset_at(node_, rrset_).type == kTypeSoa) {
      ++rrset_;
      continue;
    }
    return;
  }
}

XfrSource::Add XfrSource::add_body(Packer& b, bool empty) {
  if (!zone_) {  // IXFR: one record at a time
    const auto& list = in_added_ ? changes_[change_].added : changes_[change_].removed;
    if (!add_one_rr(b, list[rec_])) return Add::Full;
    ++records_;
    ++rec_;
    advance_ixfr();
    return Add::Done;
  }
  // AXFR: the current RRset whole, or (when it alone exceeds a message)
  // as many of its records as fit: RFC 5936 §2.2 lets an RRset span
  // messages.
  const zone::Zone& z = *zone_;
  zone::RRsetView v = z.rrset_at(node_, rrset_);
  rdatas_.clear();
  const uint8_t* p = v.data;
  for (size_t i = 0; i < v.count; ++i) {
    size_t len = size_t(p[0]) << 8 | p[1];
    if (i >= sub_) rdatas_.emplace_back(p + 2, len);
    p += 2 + len;
  }
  auto owner = z.node_name(node_);
  using Spans = std::span<const std::span<const uint8_t>>;
  if (!b.add_rrset(owner, v.type, 1, v.ttl, Spans(rdatas_.data(), rdatas_.size()))) {
    if (!empty) return Add::Full;
    // Alone in a message and still too big: send as many records as fit,
    // one by one (each add writes nothing when it does not fit).
    size_t lo = 0;
    while (lo < rdatas_.size() &&
           b.add_rrset(owner, v.type, 1, v.ttl, Spans(rdatas_.data() + lo, 1)))
      ++lo;
    if (lo == 0) return Add::Full;  // not even one record fits
    sub_ += lo;
    records_ += lo;
    if (sub_ < v.count) return Add::Partial;
  } else {
    records_ += rdatas_.size();
  }
  sub_ = 0;
  ++rrset_;
  skip_axfr();
  return Add::Done;
}

size_t XfrSource::next(uint8_t* out, size_t cap) {
  if (phase_ == Phase::Done) return 0;
  const size_t limit = std::min(cap, max_message_);
  if (limit < req_.tsig_reserve + 512) {
    spdlog::error("transfer of {}: message limit {} too small", req_.qname.to_text(), limit);
    phase_ = Phase::Done;
    return 0;
  }
  auto b_owner = std::make_unique<Packer>(out, limit - req_.tsig_reserve);
  Packer& b = *b_owner;
  b.set_header(response_header(req_.id, true));
  if (messages_ == 0) b.add_question(req_.qname, req_.qtype, req_.qclass);
  bool any = false;
  for (bool full = false; !full && phase_ != Phase::Done;) {
    switch (phase_) {
      case Phase::FirstSoa:
        if (!add_one_rr(b, soa_)) {
          full = true;
          break;
        }
        ++records_;
        any = true;
        if (!zone_ && changes_.empty()) {
          phase_ = Phase::Done;  // RFC 1995 §2: up to date, one SOA
        } else {
          phase_ = Phase::Body;
          if (zone_) skip_axfr();
        }
        break;
      case Phase::Body: {
        if (body_done()) {
          phase_ = Phase::LastSoa;
          break;
        }
        Add a = add_body(b, !any);
        if (a == Add::Full && !any) {
          spdlog::error("transfer of {}: a record larger than a message; transfer aborted",
                        req_.qname.to_text());
          phase_ = Phase::Done;
          return 0;
        }
        if (a != Add::Full) any = true;
        if (a != Add::Done) full = true;
        break;
      }
      case Phase::LastSoa:
        if (!add_one_rr(b, soa_)) {
          full = true;
          break;
        }
        ++records_;
        any = true;
        phase_ = Phase::Done;
        break;
      case Phase::Done:
        break;
    }
  }
  if (!any) {
    spdlog::error("transfer of {}: the SOA does not fit a message", req_.qname.to_text());
    phase_ = Phase::Done;
    return 0;
  }
  size_t n = b.finish();
  if (req_.signer) {
    auto r = req_.signer->sign(out, n, limit, req_.now());
    if (!r) {
      spdlog::error("transfer of {}: TSIG: {}", req_.qname.to_text(), r.error().message);
      phase_ = Phase::Done;
      return 0;
    }
    n = *r;
  }
  ++messages_;
  return n;
}

size_t single_soa_answer(uint8_t* out, size_t cap, uint16_t id, const wire::Name& qname,
                         uint16_t qtype, uint16_t qclass, const wire::RR& soa,
                         const tsig::Verified* request) {
  const size_t reserve = request ? tsig::tsig_size(*request) : 0;
  if (cap < reserve + wire::kHeaderSize) return 0;
  wire::MessageBuilder b(out, cap - reserve);
  b.set_header(response_header(id, true));
  b.add_question(qname, qtype, qclass);
  std::span<const uint8_t> rd(soa.rdata.data(), soa.rdata.size());
  if (!b.add_rrset(Section::Answer, soa.owner, soa.type, soa.rclass, soa.ttl,
                   std::span<const std::span<const uint8_t>>(&rd, 1)))
    return 0;
  size_t n = b.finish();
  if (request) {
    auto r = tsig::sign_response(out, n, cap, *request, tsig::now_seconds());
    if (!r) return 0;
    n = *r;
  }
  return n;
}

size_t error_answer(uint8_t* out, size_t cap, const wire::Header& qh, const wire::Question* q,
                    wire::Rcode rcode, const tsig::Verified* request) {
  const size_t reserve = request ? tsig::tsig_size(*request) : 0;
  if (cap < reserve + wire::kHeaderSize) return 0;
  wire::MessageBuilder b(out, cap - reserve);
  wire::Header h;
  h.id = qh.id;
  h.set_qr(true);
  h.set_opcode(qh.opcode());
  h.set_rd(qh.rd());
  b.set_header(h);
  if (q) b.add_question(*q);
  b.set_rcode(uint16_t(rcode));
  size_t n = b.finish();
  if (request) {
    auto r = tsig::sign_response(out, n, cap, *request, tsig::now_seconds());
    if (!r) return n;
    n = *r;
  }
  return n;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string source_text(const TransferRequest& r) {
  if (!r.source) return "?";
  return net::Endpoint::from_sockaddr(r.source, r.source_len).to_string();
}

const char* type_text(uint16_t t) { return t == kTypeAxfr ? "AXFR" : "IXFR"; }

std::shared_ptr<const zone::Zone> zone_named(const zone::ZoneSet& set, const wire::Name& origin) {
  for (const auto& z : set.zones())
    if (z->origin() == origin) return z;
  return nullptr;
}

// RFC 1995 §3: the client's serial is the SOA in the authority section.
std::optional<uint32_t> client_serial(const wire::Message& msg) {
  const wire::RR* csoa = nullptr;
  for (const auto& rr : msg.authority)
    if (rr.type == kTypeSoa) csoa = &rr;
  if (!csoa) return std::nullopt;
  ByteReader r(csoa->rdata);
  for (int i = 0; i < 2; ++i)  // MNAME, RNAME (uncompressed in a query's SOA)
    for (uint8_t l; r.ok() && (l = r.u8()) != 0;) r.skip(l);
  uint32_t from = r.u32();
  if (!r.ok()) return std::nullopt;
  return from;
}

class LoggedSource : public net::MessageSource {
 public:
  explicit LoggedSource(TransferStream s) : s_(std::move(s)), t0_(Clock::now()) {}
  ~LoggedSource() override {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
    if (s_.source->finished())
      spdlog::info("{}: done, {} records in {} messages, {:.1f} ms", s_.what, s_.source->records(),
                   s_.source->messages(), ms);
    else
      spdlog::warn("{}: aborted after {} records in {} messages, {:.1f} ms", s_.what,
                   s_.source->records(), s_.source->messages(), ms);
  }
  size_t next(uint8_t* out, size_t cap) override { return s_.source->next(out, cap); }

 private:
  TransferStream s_;
  Clock::time_point t0_;
};

}  // namespace

std::unique_ptr<net::MessageSource> logged(TransferStream s) {
  spdlog::info("{}: started", s.what);
  return std::make_unique<LoggedSource>(std::move(s));
}

TransferOutcome answer_transfer(const TransferRequest& req, const TransferContext& ctx,
                                uint8_t* out, size_t cap) {
  const wire::Message& msg = *req.msg;
  const wire::Header& qh = msg.header;
  const tsig::Verified* signer = req.signer;
  if (msg.question.size() != 1)
    return TransferReply{error_answer(out, cap, qh, nullptr, wire::Rcode::FormErr, signer)};
  const wire::Question& q = msg.question[0];
  auto refuse = [&](wire::Rcode rc) { return TransferReply{error_answer(out, cap, qh, &q, rc, signer)}; };
  if (q.qtype != kTypeAxfr && q.qtype != kTypeIxfr) return refuse(wire::Rcode::FormErr);

  auto z = ctx.zones ? zone_named(*ctx.zones, q.name) : nullptr;
  if (!z) return refuse(wire::Rcode::NotAuth);
  if (q.qtype == kTypeAxfr && req.udp) return refuse(wire::Rcode::NotImp);  // as Knot

  const std::string who = source_text(req);
  const wire::Name* key = signer && signer->key ? &signer->key->name : nullptr;
  const Acl* acl = nullptr;
  if (ctx.acls)
    if (auto it = ctx.acls->find(z->origin()); it != ctx.acls->end()) acl = &it->second;
  if (!acl || !acl->allows(req.source, key)) {
    spdlog::warn("{} of {} from {}{}: refused by allow-transfer", type_text(q.qtype),
                 z->origin().to_text(), who, key ? " key " + key->to_text() : std::string());
    return refuse(wire::Rcode::Refused);
  }
  if (z->expired()) return refuse(wire::Rcode::ServFail);

  const wire::RR soa = soa_record(*z);
  auto soa_alone = [&] {
    return TransferReply{single_soa_answer(out, cap, qh.id, q.name, q.qtype, q.qclass, soa, signer)};
  };
  OutRequest oreq;
  oreq.id = qh.id;
  oreq.qname = q.name;
  oreq.qtype = q.qtype;
  oreq.qclass = q.qclass;
  if (signer) {
    oreq.signer.emplace(*signer->key, signer->mac());
    oreq.tsig_reserve = tsig::tsig_size(*signer);
  }
  size_t limit = 65535;
  if (req.udp) {
    size_t want = msg.edns ? std::max<size_t>(msg.edns->udp_size, wire::kMinUdpSize)
                           : wire::kMinUdpSize;
    limit = std::min(want, cap);
  }
  TransferStream s;
  if (q.qtype == kTypeIxfr) {
    auto from = client_serial(msg);
    if (!from) return refuse(wire::Rcode::FormErr);
    // RFC 1995 §2: a client at or past our serial gets our SOA alone.
    if (!zone::serial_lt(*from, z->serial())) return soa_alone();
    std::optional<store::Journal> j;
    if (ctx.store) {
      auto jr = ctx.store->journal(z->origin(), *from);
      if (!jr)
        spdlog::warn("IXFR of {} from {}: journal: {}; sending the whole zone",
                     z->origin().to_text(), who, jr.error().message);
      else
        j = std::move(*jr);
    }
    if (j && j->status == store::JournalStatus::Newer) return soa_alone();
    if (j && j->status == store::JournalStatus::Ok && j->changes.empty()) return soa_alone();
    if (j && j->status == store::JournalStatus::Ok) {
      // The journal may run ahead of the published snapshot (a commit not
      // yet published): its newest SOA frames the answer.
      wire::RR newest = soa;
      const auto& last = j->changes.back().added;
      if (!last.empty() && last.front().type == kTypeSoa) newest = last.front();
      s.what = "IXFR of " + z->origin().to_text() + " " + std::to_string(*from) + "->" +
               std::to_string(j->current_serial) + " to " + who;
      s.source = XfrSource::ixfr(std::move(oreq), std::move(newest), std::move(j->changes), limit);
    } else {
      // RFC 1995 §2: too large for UDP: the SOA tells the client to use TCP.
      if (req.udp) return soa_alone();
      s.what = "IXFR of " + z->origin().to_text() + " " + std::to_string(*from) + "->" +
               std::to_string(z->serial()) + " (full, RFC 1995 §4) to " + who;
      s.source = XfrSource::axfr(std::move(oreq), z, limit);
    }
  } else {
    s.what = "AXFR of " + z->origin().to_text() + " serial " + std::to_string(z->serial()) +
             " to " + who;
    s.source = XfrSource::axfr(std::move(oreq), z, limit);
  }
  if (key) s.what += " (key " + key->to_text() + ")";
  if (req.udp) {
    size_t n = s.source->next(out, limit);
    if (n && s.source->finished()) return TransferReply{n};
    return soa_alone();
  }
  return s;
}

}  // namespace ddns::xfr
