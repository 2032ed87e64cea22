// DNS message: header, question, RR sections, EDNS (RFC 1035 §4, RFC 6891).
// parse() is bounds-checked and never throws; every malformed input yields
// an Error. MessageBuilder renders with name compression and truncation
// that never emits a partial RRset.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "wire/name.h"
#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::wire {

enum class Opcode : uint8_t { Query = 0, IQuery = 1, Status = 2, Notify = 4, Update = 5 };

enum class Rcode : uint16_t {
  NoError = 0, FormErr = 1, ServFail = 2, NXDomain = 3, NotImp = 4, Refused = 5,
  YXDomain = 6, YXRRSet = 7, NXRRSet = 8, NotAuth = 9, NotZone = 10,
  BadVers = 16,  // also BADSIG in TSIG context (RFC 8945)
  BadKey = 17, BadTime = 18, BadMode = 19, BadName = 20, BadAlg = 21,
  BadTrunc = 22, BadCookie = 23,
};

inline constexpr size_t kHeaderSize = 12;
inline constexpr uint16_t kMinUdpSize = 512;

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;  // QR|Opcode|AA|TC|RD|RA|Z|AD|CD|RCODE (low 4 bits)
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return flags & 0x8000; }
  Opcode opcode() const { return Opcode((flags >> 11) & 0xF); }
  bool aa() const { return flags & 0x0400; }
  bool tc() const { return flags & 0x0200; }
  bool rd() const { return flags & 0x0100; }
  bool ra() const { return flags & 0x0080; }
  bool ad() const { return flags & 0x0020; }
  bool cd() const { return flags & 0x0010; }
  uint8_t rcode() const { return flags & 0xF; }

  void set_qr(bool v) { set(0x8000, v); }
  void set_opcode(Opcode o) { flags = uint16_t((flags & ~0x7800) | (uint16_t(o) << 11)); }
  void set_aa(bool v) { set(0x0400, v); }
  void set_tc(bool v) { set(0x0200, v); }
  void set_rd(bool v) { set(0x0100, v); }
  void set_ra(bool v) { set(0x0080, v); }
  void set_ad(bool v) { set(0x0020, v); }
  void set_cd(bool v) { set(0x0010, v); }
  void set_rcode(uint8_t r) { flags = uint16_t((flags & ~0xF) | (r & 0xF)); }

 private:
  void set(uint16_t bit, bool v) { flags = v ? (flags | bit) : (flags & ~bit); }
};

struct Question {
  Name name;
  uint16_t qtype = 0;
  uint16_t qclass = 1;
};

// One resource record with uncompressed rdata.
struct RR {
  Name owner;
  uint16_t type = 0;
  uint16_t rclass = 1;
  uint32_t ttl = 0;
  Bytes rdata;
};

struct EdnsOption {
  uint16_t code = 0;
  Bytes data;
};

// RFC 6891 OPT pseudo-RR, lifted out of the additional section.
struct Edns {
  uint16_t udp_size = 1232;
  uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit RCODE
  uint8_t version = 0;
  bool do_bit = false;
  uint16_t z = 0;         // other flag bits, kept as received
  std::vector<EdnsOption> options;
};

struct Message {
  Header header;
  std::vector<Question> question;
  std::vector<RR> answer;
  std::vector<RR> authority;
  std::vector<RR> additional;  // without OPT; TSIG stays here, last
  std::optional<Edns> edns;

  // Full 12-bit RCODE (header + EDNS extended bits).
  uint16_t rcode() const;
};

// Parses a whole message. Fails on: short header, truncated sections,
// compression pointers that point forward or loop, labels over 63 octets,
// names over 255, rdata that does not fill RDLENGTH, more than one OPT, an
// OPT not owned by the root or outside the additional section, a TSIG that
// is not the last record.
//
// Bytes after the last record counted by the header are ignored (RFC 1035
// is silent; BIND logs and ignores them too): ParseInfo::end says where the
// records ended. Compression pointers must point strictly backwards: before
// the start of the name being read, and each further hop before the
// previous target, so no loop is possible.
Result<Message> parse(std::span<const uint8_t> packet);

// Where parse() found things, for callers that work on the raw bytes
// (TSIG verification strips the TSIG RR: RFC 8945 §4.3.3).
struct ParseInfo {
  size_t end = 0;          // offset just past the last record
  size_t tsig_offset = 0;  // offset of the TSIG RR's owner name; 0 = none
};
Result<Message> parse(std::span<const uint8_t> packet, ParseInfo* info);

// ---- Query fast path (the server's hot path) -------------------------------
//
// parse_query() reads only the header, the single question and the OPT (and
// notes a TSIG) without allocating or building a Message. Answer and
// authority records (rare in queries; NOTIFY/UPDATE carry some) are skipped
// with bounds checks, not decoded. Trailing bytes are ignored as in parse().
//
// Use:
//   QueryView q;
//   switch (parse_query(packet, q)) {
//     case QueryStatus::Drop: return 0;          // no reply at all
//     case QueryStatus::FormErr: reply FORMERR (q.header id/opcode/rd are
//       valid; q.has_question says whether the question can be echoed;
//       RFC 6891 §7: no OPT in a FORMERR caused by a bad OPT);
//     case QueryStatus::Ok: if (q.has_edns && q.edns.version != 0) reply
//       BADVERS (RFC 6891 §6.1.3); if (q.tsig_offset) take the full parse()
//       and TSIG path; else answer q.qname / q.qtype / q.qclass.
//   }
enum class QueryStatus : uint8_t {
  Ok,
  Drop,     // shorter than a header, or a response (QR=1): never answer
  FormErr,  // qdcount != 1, truncated question, bad name, bad/duplicate OPT,
            // OPT outside additional, TSIG not last, truncated records
};

// EDNS of a query, without copying its options.
struct QueryEdns {
  uint16_t udp_size = 0;   // as sent; callers clamp to >= 512 (RFC 6891 §6.2.5)
  uint8_t ext_rcode = 0;
  uint8_t version = 0;     // != 0 -> BADVERS
  bool do_bit = false;
  uint16_t z = 0;
  // The raw option TLVs (code, length, data)*, already checked to be well
  // formed; points into the packet, valid while the packet is.
  std::span<const uint8_t> options;
  // Finds the first option `code`; empty span (and false) when absent.
  bool find_option(uint16_t code, std::span<const uint8_t>* data) const;
};

struct QueryView {
  Header header;               // valid unless status is Drop for a short packet
  bool has_question = false;   // qname/qtype/qclass below are valid
  uint8_t qname_size = 0;      // octets used in qname
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t qname[kMaxNameLength];  // uncompressed wire, case as received
  size_t question_end = 0;     // offset just past the question
  bool has_edns = false;
  QueryEdns edns;
  size_t tsig_offset = 0;      // offset of a TSIG RR (always last); 0 = none
  const char* error = nullptr; // static text saying what was wrong, else null

  std::span<const uint8_t> qname_wire() const { return {qname, qname_size}; }
  Name name() const;           // qname as a Name (case kept)
};

// Fills `out` (all fields reset first) and classifies the packet. Never
// reads outside `packet`, never allocates.
QueryStatus parse_query(std::span<const uint8_t> packet, QueryView& out);
// Convenience form for tools and tests: Drop and FormErr become an Error
// carrying QueryView::error.
Result<QueryView> parse_query(std::span<const uint8_t> packet);

// Reads one (possibly compressed) name at the reader's position, following
// pointers only backwards. Leaves the reader just past the name.
// On error the reader is failed too. Errors say why and at which offset.
Result<Name> read_name(ByteReader& r);

// Renders a message into a caller-owned buffer. Sections must be filled in
// order: question, answer, authority, additional (an out-of-order add
// returns false). add_rrset() is all or nothing: when an RRset does not
// fit, nothing of it is written, it returns false and the caller decides
// (set_tc(), or stop adding glue). Call set_edns() before adding records:
// the OPT's room is reserved then, so truncation never squeezes it out.
//
// Names are compressed (RFC 1035 §4.1.4) against a fixed table of label
// positions, compared without case; owners, and the rdata names the type
// table marks CompressedName (NS, CNAME, SOA, PTR, MX: RFC 3597 §4), are
// compressed; other rdata is copied verbatim. The question is written as
// given, so answers that point at it show the client's case. No allocation
// unless set_edns() copies options. REQUIRES: capacity >= 12 (else nothing
// is written and finish() returns 0).
//
// Server use:
//   MessageBuilder b(out, udp ? clamp(q.edns.udp_size) : 65535);
//   b.set_header(h); if (q.has_edns) b.set_edns(e);
//   b.add_question(q.qname_wire(), q.qtype, q.qclass);
//   if (!b.add_rrset(Answer, ...)) b.set_tc();
//   ... b.add_rrset(Additional, glue...)   // false: just omit glue
//   size_t n = b.finish();
class MessageBuilder {
 public:
  // `capacity` is the size limit of the whole message (e.g. the client's
  // EDNS UDP size, or 65535 over TCP); OPT space is reserved by set_edns().
  MessageBuilder(uint8_t* buf, size_t capacity);

  void set_header(const Header& h);   // counts are ignored; computed
  Header& header();
  bool add_question(const Question& q);
  bool add_question(const Name& name, uint16_t qtype, uint16_t qclass);

  enum class Section : uint8_t { Answer, Authority, Additional };
  // Adds all records of an RRset at once, starting at `rotate` (mod count)
  // for round-robin. `rdatas` are uncompressed wire rdata.
  bool add_rrset(Section s, const Name& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                 std::span<const Bytes> rdatas, size_t rotate = 0);
  bool add_rr(Section s, const RR& rr);

  // Reserves room for an OPT record (written by finish()).
  void set_edns(const Edns& e);

  // Writes OPT (if set and not yet written), section counts; returns the
  // finished size (0 if capacity < 12). Idempotent.
  size_t finish();

  size_t size() const;

  // ---- additions ----
  bool add_question(std::span<const uint8_t> qname_wire, uint16_t qtype, uint16_t qclass);
  // Same as add_rrset() with rdatas given as spans (zone data need not be
  // held in Bytes).
  bool add_rrset(Section s, const Name& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                 std::span<const std::span<const uint8_t>> rdatas, size_t rotate = 0);
  // Sets the full 12-bit RCODE: low 4 bits in the header, the rest in OPT's
  // extended RCODE (RFC 6891 §6.1.3); the upper bits need set_edns().
  void set_rcode(uint16_t rcode);
  void set_tc(bool v = true) { header_.set_tc(v); }
  // True when some add_*() returned false (the caller may want TC).
  bool dropped() const { return dropped_; }
  // set_edns() drops the OPT when its reserve does not fit any more (call
  // it before adding records); has_edns() tells.
  bool has_edns() const { return edns_.has_value(); }
  // Writes the OPT record now instead of in finish(), for callers that
  // must append records after it (TSIG is last: RFC 8945 §5.1). Its space
  // was reserved, so it fits.
  void write_edns();

  MessageBuilder(const MessageBuilder&) = delete;
  MessageBuilder& operator=(const MessageBuilder&) = delete;

 private:
  struct CompEntry {
    uint16_t off;     // offset of a label's length octet in the buffer
    int16_t parent;   // entry of the rest of the name; -1 = root follows
  };
  // Writes a name (compressing and/or registering its labels).
  void put_name(const uint8_t* wire, size_t size, bool compress);
  void put_rdata(uint16_t type, std::span<const uint8_t> rdata, bool compressible);
  bool begin_section(Section s);
  template <class Rdatas>
  bool add_rrset_impl(Section s, const Name& owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                      const Rdatas& rdatas, size_t rotate);
  void set_limit();

  uint8_t* buf_;
  size_t cap_;
  ByteWriter w_;
  Header header_;
  uint16_t counts_[4] = {0, 0, 0, 0};
  std::optional<Edns> edns_;
  size_t opt_reserve_ = 0;
  int ext_rcode_ = -1;          // from set_rcode(); -1 = take edns_->ext_rcode
  uint8_t section_ = 0;         // 0 question, 1 answer, 2 authority, 3 additional
  bool dropped_ = false;
  bool opt_written_ = false;
  bool finished_ = false;
  // Compression table: label positions already written, as a tree of
  // suffixes; fixed size, no allocation; full table = less compression.
  static constexpr size_t kMaxCompress = 128;
  CompEntry comp_[kMaxCompress];
  uint16_t comp_count_ = 0;
};

// Renders a whole Message (convenience for tools and tests; OPT from
// msg.edns). Returns the wire bytes or an error when it exceeds `limit`.
Result<Bytes> render(const Message& msg, size_t limit = 65535);

// Human-readable, dig-like text of a message (for logs and tests).
std::string to_text(const Message& msg);

// "NOERROR", "NXDOMAIN", "BADKEY"...; "RCODE42" for unassigned values.
std::string rcode_to_text(uint16_t rcode);

}  // namespace ddns::wire
