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
Result<Message> parse(std::span<const uint8_t> packet);

// Reads one (possibly compressed) name at the reader's position, following
// pointers only backwards. Leaves the reader just past the name.
Result<Name> read_name(ByteReader& r);

// Renders a message into a caller-owned buffer. Sections must be filled in
// order: question, answer, authority, additional. add_rrset() is all or
// nothing: when an RRset does not fit, nothing of it is written, it returns
// false and the caller decides (set TC, or stop adding glue).
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

  // Writes OPT (if set), section counts; returns the finished size.
  size_t finish();

  size_t size() const;

 private:
  struct Impl;
  // Implementation detail kept in message.cc; sized to avoid allocation.
  ByteWriter w_;
  Header header_;
  uint16_t counts_[4] = {0, 0, 0, 0};
  std::optional<Edns> edns_;
  size_t opt_reserve_ = 0;
  // Compression table: offsets of names already written.
  static constexpr size_t kMaxCompress = 128;
  uint16_t comp_offsets_[kMaxCompress];
  size_t comp_count_ = 0;
};

// Renders a whole Message (convenience for tools and tests; OPT from
// msg.edns). Returns the wire bytes or an error when it exceeds `limit`.
Result<Bytes> render(const Message& msg, size_t limit = 65535);

// Human-readable, dig-like text of a message (for logs and tests).
std::string to_text(const Message& msg);

}  // namespace ddns::wire
