// DNS message codec: full parse, the query fast path, the compressing
// builder with all-or-nothing RRsets, render() and dig-like text.
#include "wire/message.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace ddns::wire {

namespace {

constexpr uint16_t kTypeOpt = uint16_t(RRType::OPT);
constexpr uint16_t kTypeTsig = uint16_t(RRType::TSIG);
constexpr size_t kMaxPointerOffset = 0x3FFF;  // 14-bit pointer (RFC 1035 §4.1.4)

// Expands the possibly compressed name at pkt[pos] into out[0..255).
// Returns the wire length (> 0), or 0 with *why (static text) and *where
// (offset) set. *end is the offset just past the name at `pos`.
//
// RFC 1035 §4.1.4. A pointer must point before the start of the name being
// read, and each further hop before the previous target: offsets strictly
// decrease, so loops (including a pointer to itself) are impossible and
// the work is bounded by the packet size. Label types 0b01 and 0b10
// (RFC 6891 §5 retired the extended ones) are refused.
size_t expand_name(const uint8_t* pkt, size_t size, size_t pos, uint8_t* out, size_t* end,
                   const char** why, size_t* where) {
  size_t limit = pos;
  size_t n = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= size) {
      *why = "truncated name";
      *where = pos;
      return 0;
    }
    const uint8_t c = pkt[pos];
    if (c == 0) {
      out[n++] = 0;
      if (!jumped) *end = pos + 1;
      return n;
    }
    switch (c & 0xC0) {
      case 0x00:
        if (size - pos < size_t(c) + 1) {
          *why = "truncated label";
          *where = pos;
          return 0;
        }
        if (n + c + 2 > kMaxNameLength) {  // this label plus the root octet
          *why = "name longer than 255 octets";
          *where = pos;
          return 0;
        }
        std::memcpy(out + n, pkt + pos, size_t(c) + 1);
        n += size_t(c) + 1;
        pos += size_t(c) + 1;
        break;
      case 0xC0: {
        if (size - pos < 2) {
          *why = "truncated compression pointer";
          *where = pos;
          return 0;
        }
        const size_t target = size_t(c & 0x3F) << 8 | pkt[pos + 1];
        if (target >= limit) {
          *why = "compression pointer does not point backwards";
          *where = pos;
          return 0;
        }
        if (!jumped) {
          *end = pos + 2;
          jumped = true;
        }
        limit = target;
        pos = target;
        break;
      }
      default:
        *why = "unsupported label type";
        *where = pos;
        return 0;
    }
  }
}

// Skips a name without expanding it (fast path for records we do not
// decode); the same label checks apply to the octets at this position.
bool skip_name(const uint8_t* pkt, size_t size, size_t& pos) {
  size_t total = 0;
  for (;;) {
    if (pos >= size) return false;
    const uint8_t c = pkt[pos];
    if (c == 0) {
      ++pos;
      return true;
    }
    if ((c & 0xC0) == 0xC0) {
      if (size - pos < 2) return false;
      if ((size_t(c & 0x3F) << 8 | pkt[pos + 1]) >= pos) return false;
      pos += 2;
      return true;
    }
    if (c & 0xC0) return false;
    total += size_t(c) + 1;
    if (total + 1 > kMaxNameLength || size - pos < size_t(c) + 1) return false;
    pos += size_t(c) + 1;
  }
}

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Checks that OPT rdata is a sequence of whole options (RFC 6891 §6.1.2).
bool options_well_formed(const uint8_t* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (n - i < 4) return false;
    const size_t len = get16(p + i + 2);
    if (n - i - 4 < len) return false;
    i += 4 + len;
  }
  return true;
}

void fill_edns_header(uint16_t rclass, uint32_t ttl, uint16_t& udp, uint8_t& ext, uint8_t& ver,
                      bool& do_bit, uint16_t& z) {
  // RFC 6891 §6.1.3: CLASS = UDP payload size, TTL = EXTENDED-RCODE(8)
  // VERSION(8) DO(1) Z(15).
  udp = rclass;
  ext = uint8_t(ttl >> 24);
  ver = uint8_t(ttl >> 16);
  do_bit = (ttl & 0x8000) != 0;
  z = uint16_t(ttl & 0x7FFF);
}

const char* const kSectionNames[4] = {"question", "answer", "authority", "additional"};

Error located(int section, size_t index, const char* field, const std::string& why) {
  std::string m = kSectionNames[section];
  m += '[';
  m += std::to_string(index);
  m += ']';
  if (field) {
    m += '.';
    m += field;
  }
  m += ": ";
  m += why;
  return Error{std::move(m)};
}

std::string at_offset(const char* why, size_t where) {
  return std::string(why) + " at offset " + std::to_string(where);
}

}  // namespace

uint16_t Message::rcode() const {
  uint16_t r = header.rcode();
  if (edns) r = uint16_t(r | uint16_t(edns->ext_rcode) << 4);
  return r;
}

Result<Name> read_name(ByteReader& r) {
  if (!r.ok()) return Error{"truncated name"};
  uint8_t buf[kMaxNameLength];
  size_t end = 0, where = 0;
  const char* why = nullptr;
  const size_t n = expand_name(r.data(), r.size(), r.pos(), buf, &end, &why, &where);
  if (n == 0) {
    r.fail();
    return Error{at_offset(why, where)};
  }
  r.seek(end);
  return Name::from_checked_wire(buf, n);
}

// ---- full parse -------------------------------------------------------------

Result<Message> parse(std::span<const uint8_t> packet) { return parse(packet, nullptr); }

Result<Message> parse(std::span<const uint8_t> packet, ParseInfo* info) {
  Message m;
  if (packet.size() < kHeaderSize) {
    return Error{"header: truncated (" + std::to_string(packet.size()) + " octets)"};
  }
  ByteReader r(packet);
  Header& h = m.header;
  h.id = r.u16();
  h.flags = r.u16();
  h.qdcount = r.u16();
  h.ancount = r.u16();
  h.nscount = r.u16();
  h.arcount = r.u16();

  // Hostile counts must not make us reserve much: a question takes at
  // least 5 octets, a record at least 11.
  m.question.reserve(std::min<size_t>(h.qdcount, r.remaining() / 5));
  for (size_t i = 0; i < h.qdcount; ++i) {
    auto name = read_name(r);
    if (!name) return located(0, i, "name", name.error().message);
    Question q{std::move(*name), r.u16(), r.u16()};
    if (!r.ok()) return located(0, i, nullptr, "truncated");
    m.question.push_back(std::move(q));
  }

  const uint16_t counts[3] = {h.ancount, h.nscount, h.arcount};
  std::vector<RR>* sections[3] = {&m.answer, &m.authority, &m.additional};
  size_t tsig_offset = 0;
  for (int s = 0; s < 3; ++s) {
    const int sec = s + 1;
    sections[s]->reserve(std::min<size_t>(counts[s], r.remaining() / 11));
    for (size_t i = 0; i < counts[s]; ++i) {
      const size_t rr_start = r.pos();
      if (tsig_offset) return located(sec, i, nullptr, "record after TSIG (TSIG must be last)");
      auto owner = read_name(r);
      if (!owner) return located(sec, i, "owner", owner.error().message);
      const uint16_t type = r.u16();
      const uint16_t rclass = r.u16();
      const uint32_t ttl = r.u32();
      const uint16_t rdlength = r.u16();
      if (!r.ok()) return located(sec, i, nullptr, "truncated record header");
      if (r.remaining() < rdlength) {
        return located(sec, i, "rdata",
                       "truncated (rdlength " + std::to_string(rdlength) + ", " +
                           std::to_string(r.remaining()) + " octets left)");
      }
      if (type == kTypeOpt) {
        // RFC 6891 §6.1.1: one OPT, in the additional section, owned by root.
        if (sec != 3) return located(sec, i, nullptr, "OPT outside the additional section");
        if (m.edns) return located(sec, i, nullptr, "second OPT record");
        if (!owner->is_root()) return located(sec, i, "owner", "OPT owner is not the root");
        Edns e;
        fill_edns_header(rclass, ttl, e.udp_size, e.ext_rcode, e.version, e.do_bit, e.z);
        auto rd = r.bytes(rdlength);
        for (size_t k = 0; k < rd.size();) {
          if (rd.size() - k < 4) return located(sec, i, "rdata", "truncated EDNS option");
          EdnsOption o;
          o.code = get16(rd.data() + k);
          const size_t len = get16(rd.data() + k + 2);
          k += 4;
          if (rd.size() - k < len) {
            return located(sec, i, "rdata",
                           "EDNS option " + std::to_string(o.code) + " overruns rdlength");
          }
          o.data.assign(rd.data() + k, rd.data() + k + len);
          k += len;
          e.options.push_back(std::move(o));
        }
        m.edns = std::move(e);
        continue;
      }
      if (type == kTypeTsig) {
        // RFC 8945 §5.1: the TSIG RR is the last record of the additional section.
        if (sec != 3) return located(sec, i, nullptr, "TSIG outside the additional section");
        if (i + 1 != counts[s]) return located(sec, i, nullptr, "TSIG is not the last record");
        tsig_offset = rr_start;
      }
      const size_t rd_start = r.pos();
      auto rd = rdata_from_message(type, r, rdlength);
      if (!rd) return located(sec, i, "rdata", rd.error().message);
      if (!r.ok() || r.pos() != rd_start + rdlength) {
        return located(sec, i, "rdata", "rdlength mismatch");
      }
      sections[s]->push_back(RR{std::move(*owner), type, rclass, ttl, std::move(*rd)});
    }
  }
  if (info) {
    info->end = r.pos();
    info->tsig_offset = tsig_offset;
  }
  return m;
}

// ---- query fast path ---------------------------------------------------------

bool QueryEdns::find_option(uint16_t code, std::span<const uint8_t>* data) const {
  const uint8_t* p = options.data();
  const size_t n = options.size();
  for (size_t i = 0; i + 4 <= n;) {
    const size_t len = get16(p + i + 2);
    if (get16(p + i) == code) {
      if (data) *data = options.subspan(i + 4, len);
      return true;
    }
    i += 4 + len;
  }
  if (data) *data = {};
  return false;
}

Name QueryView::name() const { return Name::from_checked_wire(qname, qname_size); }

QueryStatus parse_query(std::span<const uint8_t> packet, QueryView& out) {
  out.header = Header{};
  out.has_question = false;
  out.qname_size = 0;
  out.qtype = out.qclass = 0;
  out.question_end = 0;
  out.has_edns = false;
  out.edns = QueryEdns{};
  out.tsig_offset = 0;
  out.error = nullptr;

  const uint8_t* p = packet.data();
  const size_t size = packet.size();
  if (size < kHeaderSize) {
    out.error = "header: truncated";
    return QueryStatus::Drop;
  }
  Header& h = out.header;
  h.id = get16(p);
  h.flags = get16(p + 2);
  h.qdcount = get16(p + 4);
  h.ancount = get16(p + 6);
  h.nscount = get16(p + 8);
  h.arcount = get16(p + 10);
  if (h.qr()) {
    out.error = "header: QR set (a response)";
    return QueryStatus::Drop;
  }
  if (h.qdcount != 1) {
    out.error = "question: qdcount is not 1";
    return QueryStatus::FormErr;
  }
  size_t end = 0, where = 0;
  const char* why = nullptr;
  const size_t n = expand_name(p, size, kHeaderSize, out.qname, &end, &why, &where);
  if (n == 0) {
    out.error = "question[0].name: malformed";
    return QueryStatus::FormErr;
  }
  if (size - end < 4) {
    out.error = "question[0]: truncated";
    return QueryStatus::FormErr;
  }
  out.qname_size = uint8_t(n);
  out.qtype = get16(p + end);
  out.qclass = get16(p + end + 2);
  out.question_end = end + 4;
  out.has_question = true;

  size_t pos = out.question_end;
  const size_t total = size_t(h.ancount) + h.nscount + h.arcount;
  const size_t first_additional = size_t(h.ancount) + h.nscount;
  for (size_t i = 0; i < total; ++i) {
    const size_t rr_start = pos;
    if (out.tsig_offset) {
      out.error = "additional: record after TSIG";
      return QueryStatus::FormErr;
    }
    if (!skip_name(p, size, pos) || size - pos < 10) {
      out.error = "record: truncated or malformed owner";
      return QueryStatus::FormErr;
    }
    const uint16_t type = get16(p + pos);
    const uint16_t rclass = get16(p + pos + 2);
    const uint32_t ttl = get32(p + pos + 4);
    const size_t rdlength = get16(p + pos + 8);
    pos += 10;
    if (size - pos < rdlength) {
      out.error = "record: rdata truncated";
      return QueryStatus::FormErr;
    }
    const bool additional = i >= first_additional;
    if (type == kTypeOpt) {
      if (!additional) {
        out.error = "OPT outside the additional section";
        return QueryStatus::FormErr;
      }
      if (out.has_edns) {
        out.error = "additional: second OPT record";
        return QueryStatus::FormErr;
      }
      if (p[rr_start] != 0) {
        // Only a pointer to a root label is still the root (rare; as parse()).
        uint8_t tmp[kMaxNameLength];
        size_t e2 = 0, w2 = 0;
        const char* y2 = nullptr;
        if (expand_name(p, size, rr_start, tmp, &e2, &y2, &w2) != 1) {
          out.error = "additional: OPT owner is not the root";
          return QueryStatus::FormErr;
        }
      }
      if (!options_well_formed(p + pos, rdlength)) {
        out.error = "additional: malformed EDNS options";
        return QueryStatus::FormErr;
      }
      QueryEdns& e = out.edns;
      fill_edns_header(rclass, ttl, e.udp_size, e.ext_rcode, e.version, e.do_bit, e.z);
      e.options = packet.subspan(pos, rdlength);
      out.has_edns = true;
    } else if (type == kTypeTsig) {
      if (!additional || i + 1 != total) {
        out.error = "TSIG is not the last record";
        return QueryStatus::FormErr;
      }
      out.tsig_offset = rr_start;
    }
    pos += rdlength;
  }
  return QueryStatus::Ok;
}

Result<QueryView> parse_query(std::span<const uint8_t> packet) {
  QueryView v;
  if (parse_query(packet, v) != QueryStatus::Ok) return Error{v.error};
  return v;
}

// ---- builder -----------------------------------------------------------------

namespace {

// Case-insensitive label compare: `a` and `b` point at length octets.
inline bool label_equal(const uint8_t* a, const uint8_t* b) {
  if (a[0] != b[0]) return false;
  for (size_t i = 1; i <= a[0]; ++i) {
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Octets of the uncompressed name at wire[0..n), or 0 if malformed.
size_t name_length(const uint8_t* wire, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = wire[i];
    if (c == 0) return i + 1;
    if (c > kMaxLabelLength) return 0;
    i += size_t(c) + 1;
  }
  return 0;
}

size_t opt_size(const Edns& e) {
  size_t n = 11;  // root owner, type, class, ttl, rdlength
  for (const auto& o : e.options) n += 4 + o.data.size();
  return n;
}

bool type_has_compressible_name(uint16_t type) {
  const TypeInfo* ti = type_info(type);
  if (!ti) return false;
  return ti->compress_names > 0;
}

}  // namespace

MessageBuilder::MessageBuilder(uint8_t* buf, size_t capacity)
    : buf_(buf), cap_(std::min<size_t>(capacity, 65535)), w_(buf, cap_) {
  // Header placeholder, patched by finish().
  for (int i = 0; i < 6; ++i) w_.u16(0);
  if (cap_ < kHeaderSize) finished_ = true;  // nothing can be built
}

void MessageBuilder::set_header(const Header& h) { header_ = h; }
Header& MessageBuilder::header() { return header_; }
size_t MessageBuilder::size() const { return w_.size(); }

void MessageBuilder::set_limit() {
  ByteWriter nw(buf_, cap_ - opt_reserve_);
  nw.truncate(w_.size());
  w_ = nw;
}

void MessageBuilder::set_edns(const Edns& e) {
  if (opt_written_ || finished_) return;
  const size_t need = opt_size(e);
  if (need > cap_ || w_.size() > cap_ - need || need > 65535) {
    edns_.reset();
    opt_reserve_ = 0;
    set_limit();
    return;
  }
  edns_ = e;
  opt_reserve_ = need;
  set_limit();
}

void MessageBuilder::set_rcode(uint16_t rcode) {
  header_.set_rcode(uint8_t(rcode & 0xF));
  ext_rcode_ = (rcode >> 4) & 0xFF;
}

void MessageBuilder::write_edns() {
  if (!edns_ || opt_written_ || finished_) return;
  const Edns& e = *edns_;
  ByteWriter full(buf_, cap_);
  full.truncate(w_.size());
  const uint8_t ext = ext_rcode_ >= 0 ? uint8_t(ext_rcode_) : e.ext_rcode;
  full.u8(0);
  full.u16(kTypeOpt);
  full.u16(e.udp_size);
  full.u32(uint32_t(ext) << 24 | uint32_t(e.version) << 16 | (e.do_bit ? 0x8000u : 0u) |
           (e.z & 0x7FFFu));
  size_t rdlen = 0;
  for (const auto& o : e.options) rdlen += 4 + o.data.size();
  full.u16(uint16_t(rdlen));
  for (const auto& o : e.options) {
    full.u16(o.code);
    full.u16(uint16_t(o.data.size()));
    full.bytes(o.data.data(), o.data.size());
  }
  if (!full.ok()) return;  // cannot happen: the space was reserved
  opt_written_ = true;
  ++counts_[3];
  opt_reserve_ = 0;
  ByteWriter nw(buf_, cap_);
  nw.truncate(full.size());
  w_ = nw;
}

size_t MessageBuilder::finish() {
  if (cap_ < kHeaderSize) return 0;
  if (!finished_) {
    write_edns();
    finished_ = true;
    uint16_t flags = header_.flags;
    w_.patch_u16(0, header_.id);
    w_.patch_u16(2, flags);
    for (int i = 0; i < 4; ++i) w_.patch_u16(4 + 2 * i, counts_[i]);
  }
  return w_.size();
}

// RFC 1035 §4.1.4: the name is written as its leading labels followed by a
// pointer to the longest suffix already in the message (compared without
// case: RFC 4343 §4.1). The table holds label positions as a tree: an
// entry is one label whose parent entry is the rest of that name, so
// matching walks the name from the root label up.
void MessageBuilder::put_name(const uint8_t* wire, size_t size, bool compress) {
  uint8_t starts[128];  // label offsets within `wire`
  size_t k = 0;
  for (size_t i = 0; i < size && wire[i] != 0 && k < 128; i += size_t(wire[i]) + 1) {
    starts[k++] = uint8_t(i);
  }
  int match = -1;       // entry matching labels [matched, k)
  size_t matched = k;
  if (compress) {
    while (matched > 0) {
      const uint8_t* label = wire + starts[matched - 1];
      int found = -1;
      for (size_t e = 0; e < comp_count_; ++e) {
        if (comp_[e].parent == match && label_equal(buf_ + comp_[e].off, label)) {
          found = int(e);
          break;
        }
      }
      if (found < 0) break;
      match = found;
      --matched;
    }
  }
  const size_t base = w_.size();
  const size_t prefix = matched ? starts[matched - 1] + size_t(wire[starts[matched - 1]]) + 1 : 0;
  w_.bytes(wire, prefix);
  if (match >= 0) {
    w_.u16(uint16_t(0xC000 | comp_[match].off));
  } else {
    w_.u8(0);
  }
  if (!w_.ok()) return;
  // Register the labels just written, innermost first so parents exist.
  int parent = match;
  for (size_t i = matched; i-- > 0;) {
    const size_t off = base + starts[i];
    if (off > kMaxPointerOffset || comp_count_ >= kMaxCompress) break;
    comp_[comp_count_] = CompEntry{uint16_t(off), int16_t(parent)};
    parent = int(comp_count_++);
  }
}

// Writes rdata, compressing the names the type table marks compressible
// (RFC 3597 §4: only RFC 1035 types). Malformed rdata goes out verbatim.
void MessageBuilder::put_rdata(uint16_t type, std::span<const uint8_t> rd, bool compressible) {
  if (!compressible) {
    w_.bytes(rd);
    return;
  }
  const TypeInfo* ti = type_info(type);
  const size_t start = w_.size();
  const uint16_t comp_mark = comp_count_;
  const uint8_t* p = rd.data();
  const size_t n = rd.size();
  size_t i = 0;
  bool ok = true;
  for (const FieldDef& fd : ti->fields) {
    const Field f = fd.kind;
    size_t len = field_fixed_size(f);
    if (f == Field::Name || f == Field::CompressedName) {
      len = name_length(p + i, n - i);
      if (len == 0) {
        ok = false;
        break;
      }
      if (f == Field::CompressedName) {
        put_name(p + i, len, true);
        i += len;
        continue;
      }
    } else if (len == 0) {
      len = n - i;  // a variable-size field: the rest, verbatim
    }
    if (!ok || len > n - i) {
      ok = false;
      break;
    }
    w_.bytes(p + i, len);
    i += len;
  }
  if (!ok) {
    w_.truncate(start);
    comp_count_ = comp_mark;
    w_.bytes(rd);
    return;
  }
  if (i < n) w_.bytes(p + i, n - i);
}

bool MessageBuilder::begin_section(Section s) {
  const uint8_t want = uint8_t(s) + 1;
  if (finished_ || want < section_) return false;  // sections in order
  section_ = want;
  return true;
}

bool MessageBuilder::add_question(std::span<const uint8_t> qname, uint16_t qtype,
                                  uint16_t qclass) {
  if (finished_ || section_ != 0 || name_length(qname.data(), qname.size()) != qname.size()) {
    dropped_ = true;
    return false;
  }
  const size_t mark = w_.size();
  const uint16_t comp_mark = comp_count_;
  put_name(qname.data(), qname.size(), true);
  w_.u16(qtype);
  w_.u16(qclass);
  if (!w_.ok()) {
    w_.truncate(mark);
    comp_count_ = comp_mark;
    dropped_ = true;
    return false;
  }
  ++counts_[0];
  return true;
}

bool MessageBuilder::add_question(const Name& name, uint16_t qtype, uint16_t qclass) {
  return add_question(name.wire(), qtype, qclass);
}

bool MessageBuilder::add_question(const Question& q) {
  return add_question(q.name.wire(), q.qtype, q.qclass);
}

namespace {
inline std::span<const uint8_t> as_span(const Bytes& b) { return {b.data(), b.size()}; }
inline std::span<const uint8_t> as_span(std::span<const uint8_t> s) { return s; }
}  // namespace

template <class Rdatas>
bool MessageBuilder::add_rrset_impl(Section s, const Name& owner, uint16_t type, uint16_t rclass,
                                    uint32_t ttl, const Rdatas& rdatas, size_t rotate) {
  if (!begin_section(s)) {
    dropped_ = true;
    return false;
  }
  const size_t count = rdatas.size();
  if (count == 0) return true;
  if (count > size_t(65535) - counts_[1 + int(s)]) {
    dropped_ = true;
    return false;
  }
  const size_t mark = w_.size();
  const uint16_t comp_mark = comp_count_;
  const bool compressible = type_has_compressible_name(type);
  // RFC 8945 §4.2: the TSIG owner (key name) is not compressed.
  const bool compress_owner = type != kTypeTsig;
  const auto ow = owner.wire();
  size_t owner_at = 0;  // where the first copy of the owner went
  const size_t first = count ? rotate % count : 0;
  for (size_t j = 0; j < count; ++j) {
    const auto rd = as_span(rdatas[(first + j) % count]);
    if (j > 0 && compress_owner && owner_at <= kMaxPointerOffset && !owner.is_root()) {
      w_.u16(uint16_t(0xC000 | owner_at));
    } else {
      owner_at = w_.size();
      put_name(ow.data(), ow.size(), compress_owner);
      // A name that starts with a pointer is itself just that pointer.
      if (w_.ok() && (buf_[owner_at] & 0xC0) == 0xC0) {
        owner_at = size_t(buf_[owner_at] & 0x3F) << 8 | buf_[owner_at + 1];
      }
    }
    w_.u16(type);
    w_.u16(rclass);
    w_.u32(ttl);
    const size_t rdlen_at = w_.size();
    w_.u16(0);
    put_rdata(type, rd, compressible);
    if (!w_.ok()) break;
    const size_t rdlen = w_.size() - rdlen_at - 2;
    w_.patch_u16(rdlen_at, uint16_t(rdlen));
  }
  if (!w_.ok()) {
    w_.truncate(mark);
    comp_count_ = comp_mark;
    dropped_ = true;
    return false;
  }
  counts_[1 + int(s)] = uint16_t(counts_[1 + int(s)] + count);
  return true;
}

bool MessageBuilder::add_rrset(Section s, const Name& owner, uint16_t type, uint16_t rclass,
                               uint32_t ttl, std::span<const Bytes> rdatas, size_t rotate) {
  return add_rrset_impl(s, owner, type, rclass, ttl, rdatas, rotate);
}

bool MessageBuilder::add_rrset(Section s, const Name& owner, uint16_t type, uint16_t rclass,
                               uint32_t ttl, std::span<const std::span<const uint8_t>> rdatas,
                               size_t rotate) {
  return add_rrset_impl(s, owner, type, rclass, ttl, rdatas, rotate);
}

bool MessageBuilder::add_rr(Section s, const RR& rr) {
  const std::span<const uint8_t> one[1] = {as_span(rr.rdata)};
  return add_rrset(s, rr.owner, rr.type, rr.rclass, rr.ttl,
                   std::span<const std::span<const uint8_t>>(one, 1), 0);
}

// ---- render / text -----------------------------------------------------------

Result<Bytes> render(const Message& msg, size_t limit) {
  limit = std::min<size_t>(limit, 65535);
  Bytes buf(std::max<size_t>(limit, 1));
  MessageBuilder b(buf.data(), limit);
  auto too_big = [&](const char* what) {
    return Error{std::string("render: ") + what + " does not fit in " + std::to_string(limit) +
                 " octets"};
  };
  if (limit < kHeaderSize) return too_big("header");
  b.set_header(msg.header);
  if (msg.edns) {
    b.set_edns(*msg.edns);
    if (!b.has_edns()) return too_big("OPT");
  }
  for (const auto& q : msg.question) {
    if (!b.add_question(q)) return too_big("question");
  }
  for (const auto& rr : msg.answer) {
    if (!b.add_rr(MessageBuilder::Section::Answer, rr)) return too_big("answer");
  }
  for (const auto& rr : msg.authority) {
    if (!b.add_rr(MessageBuilder::Section::Authority, rr)) return too_big("authority");
  }
  const size_t nadd = msg.additional.size();
  const bool tsig_last = nadd && msg.additional.back().type == kTypeTsig;
  for (size_t i = 0; i < nadd; ++i) {
    if (tsig_last && i + 1 == nadd) b.write_edns();  // OPT before TSIG (RFC 8945 §5.1)
    if (!b.add_rr(MessageBuilder::Section::Additional, msg.additional[i])) {
      return too_big("additional");
    }
  }
  buf.resize(b.finish());
  return buf;
}

namespace {

const char* opcode_text(Opcode o, char* tmp) {
  switch (o) {
    case Opcode::Query: return "QUERY";
    case Opcode::IQuery: return "IQUERY";
    case Opcode::Status: return "STATUS";
    case Opcode::Notify: return "NOTIFY";
    case Opcode::Update: return "UPDATE";
  }
  std::snprintf(tmp, 16, "OPCODE%u", unsigned(o));
  return tmp;
}

const char* rcode_text(uint16_t r, char* tmp) {
  static const char* const kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
                                       "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
                                       "NOTZONE"};
  if (r < 11) return kNames[r];
  switch (r) {
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: break;
  }
  std::snprintf(tmp, 16, "RCODE%u", unsigned(r));
  return tmp;
}

void append_hex(std::string& out, std::span<const uint8_t> b) {
  static const char kHex[] = "0123456789ABCDEF";
  for (uint8_t c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
}

void append_rr(std::string& out, const RR& rr) {
  out += rr.owner.to_text();
  out += '\t';
  out += std::to_string(rr.ttl);
  out += '\t';
  out += class_to_text(rr.rclass);
  out += '\t';
  out += type_to_text(rr.type);
  out += '\t';
  out += rdata_to_text(rr.type, rr.rdata);
  out += '\n';
}

}  // namespace

std::string rcode_to_text(uint16_t rcode) {
  char tmp[16];
  return rcode_text(rcode, tmp);
}

std::string to_text(const Message& msg) {
  std::string out;
  char tmp[16];
  const Header& h = msg.header;
  out += ";; ->>HEADER<<- opcode: ";
  out += opcode_text(h.opcode(), tmp);
  out += ", status: ";
  out += rcode_text(msg.rcode(), tmp);
  out += ", id: ";
  out += std::to_string(h.id);
  out += "\n;; flags:";
  static const struct {
    uint16_t bit;
    const char* name;
  } kFlags[] = {{0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"},
                {0x0080, "ra"}, {0x0040, "z"},  {0x0020, "ad"}, {0x0010, "cd"}};
  for (const auto& f : kFlags) {
    if (h.flags & f.bit) {
      out += ' ';
      out += f.name;
    }
  }
  out += "; QUERY: " + std::to_string(msg.question.size());
  out += ", ANSWER: " + std::to_string(msg.answer.size());
  out += ", AUTHORITY: " + std::to_string(msg.authority.size());
  out += ", ADDITIONAL: " + std::to_string(msg.additional.size() + (msg.edns ? 1 : 0));
  out += '\n';
  if (msg.edns) {
    const Edns& e = *msg.edns;
    out += "\n;; OPT PSEUDOSECTION:\n; EDNS: version: " + std::to_string(e.version) + ", flags:";
    if (e.do_bit) out += " do";
    if (e.z) out += "; MBZ: " + std::to_string(e.z);
    out += "; udp: " + std::to_string(e.udp_size) + '\n';
    for (const auto& o : e.options) {
      switch (o.code) {
        case 3: out += "; NSID: "; break;
        case 8: out += "; CLIENT-SUBNET: "; break;
        case 10: out += "; COOKIE: "; break;
        case 12: out += "; PADDING: "; break;
        default: out += "; OPT=" + std::to_string(o.code) + ": "; break;
      }
      append_hex(out, o.data);
      out += '\n';
    }
  }
  if (!msg.question.empty()) {
    out += "\n;; QUESTION SECTION:\n";
    for (const auto& q : msg.question) {
      out += ';';
      out += q.name.to_text();
      out += "\t\t";
      out += class_to_text(q.qclass);
      out += '\t';
      out += type_to_text(q.qtype);
      out += '\n';
    }
  }
  const struct {
    const char* title;
    const std::vector<RR>* rrs;
  } sections[] = {{"ANSWER", &msg.answer},
                  {"AUTHORITY", &msg.authority},
                  {"ADDITIONAL", &msg.additional}};
  for (const auto& s : sections) {
    if (s.rrs->empty()) continue;
    out += "\n;; ";
    out += s.title;
    out += " SECTION:\n";
    for (const auto& rr : *s.rrs) append_rr(out, rr);
  }
  return out;
}

}  // namespace ddns::wire
