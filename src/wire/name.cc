// Domain names: presentation parsing/printing, comparison and hashing on
// uncompressed wire bytes held in a small inline buffer.
#include "wire/name.h"

#include <algorithm>

namespace ddns::wire {
namespace {

// Lowercases the ASCII letters of 8 octets at once. Length octets are
// <= 63, never 'A'..'Z', so a whole wire name can go through this.
inline uint64_t lower8(uint64_t x) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  uint64_t heptets = x & (0x7F * ones);
  uint64_t ge_a = heptets + (0x80 - 'A') * ones;
  uint64_t gt_z = heptets + (0x7F - 'Z') * ones;
  uint64_t upper = ~x & (ge_a ^ gt_z) & (0x80 * ones);
  return x | (upper >> 2);
}

inline uint64_t load8(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

bool iequal_bytes(const uint8_t* a, const uint8_t* b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x = load8(a + i), y = load8(b + i);
    if (x != y && lower8(x) != lower8(y)) return false;
  }
  for (; i < n; ++i)
    if (a[i] != b[i] && ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Offsets of each label's length octet; returns the label count.
size_t label_offsets(const uint8_t* w, uint8_t* out) {
  size_t n = 0, pos = 0;
  while (w[pos] != 0) {
    out[n++] = uint8_t(pos);
    pos += w[pos] + 1;
  }
  return n;
}

// RFC 1035 §5.1 / RFC 4343: these print with a backslash so that the text
// reads back as the same label.
inline bool needs_backslash(uint8_t c) {
  switch (c) {
    case '.': case '\\': case '(': case ')': case ';': case '"': case '$': case '@':
      return true;
    default:
      return false;
  }
}

}  // namespace

Name::Name() : size_(1) { buf_[0] = 0; }

Name::Name(const Name& o) : size_(1) {
  buf_[0] = 0;
  assign(o.data(), o.size_);
}

Name::Name(Name&& o) noexcept : size_(o.size_) {
  std::memcpy(buf_, o.buf_, kInline);
  o.size_ = 1;
  o.buf_[0] = 0;
}

Name& Name::operator=(const Name& o) {
  if (this != &o) assign(o.data(), o.size_);
  return *this;
}

Name& Name::operator=(Name&& o) noexcept {
  if (this != &o) {
    release();
    size_ = o.size_;
    std::memcpy(buf_, o.buf_, kInline);
    o.size_ = 1;
    o.buf_[0] = 0;
  }
  return *this;
}

Name::~Name() { release(); }

void Name::release() {
  if (on_heap()) delete[] heap();
  size_ = 1;
  buf_[0] = 0;
}

void Name::assign(const uint8_t* wire, size_t size) {
  if (on_heap() && size > kInline && size <= size_) {
    // Reuse the heap block: it is at least as large.
    std::memmove(heap(), wire, size);
    // Keep the block; size_ shrinks but stays > kInline, and delete[]
    // does not need the size.
    size_ = uint8_t(size);
    return;
  }
  uint8_t* fresh = nullptr;
  if (size > kInline) {
    fresh = new uint8_t[size];
    std::memcpy(fresh, wire, size);
  }
  release();
  size_ = uint8_t(size);
  if (fresh) {
    std::memcpy(buf_, &fresh, sizeof fresh);
  } else {
    std::memmove(buf_, wire, size);
  }
}

Name Name::from_checked_wire(const uint8_t* wire, size_t size) {
  Name n;
  n.assign(wire, size);
  return n;
}

Result<Name> Name::from_text(std::string_view text, const Name* origin) {
  if (text.empty()) return make_error("empty name");
  if (text == "@") {
    if (!origin) return make_error("'@' used but no origin is known");
    return *origin;
  }
  if (text == ".") return Name();

  // Room for a name of 255 octets plus one label being built past it.
  uint8_t buf[kMaxNameLength + kMaxLabelLength + 2];
  size_t len_at = 0;   // where the current label's length octet goes
  size_t pos = 1;      // next octet to write
  size_t label_len = 0;
  bool absolute = false;
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = uint8_t(text[i]);
    if (c == '.') {
      if (label_len == 0) return make_error("empty label in name");
      buf[len_at] = uint8_t(label_len);
      // The label plus the root label must still fit in 255 octets.
      if (pos + 1 > kMaxNameLength) return make_error("name longer than 255 octets");
      if (i + 1 == n) {
        absolute = true;
        break;
      }
      len_at = pos++;
      label_len = 0;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= n) return make_error("backslash at end of name");
      uint8_t d = uint8_t(text[i + 1]);
      if (d >= '0' && d <= '9') {
        if (i + 3 >= n || !(text[i + 2] >= '0' && text[i + 2] <= '9') ||
            !(text[i + 3] >= '0' && text[i + 3] <= '9'))
          return make_error("bad escape in name: \\DDD needs three digits");
        unsigned v = unsigned(d - '0') * 100 + unsigned(text[i + 2] - '0') * 10 +
                     unsigned(text[i + 3] - '0');
        if (v > 255) return make_error("bad escape in name: \\DDD above 255");
        c = uint8_t(v);
        i += 3;
      } else {
        c = d;
        i += 1;
      }
    }
    if (label_len == kMaxLabelLength) return make_error("label longer than 63 octets");
    buf[pos++] = c;
    ++label_len;
  }

  if (absolute) {
    buf[pos++] = 0;
    return from_checked_wire(buf, pos);
  }
  // Relative: close the last label, then append the origin.
  buf[len_at] = uint8_t(label_len);
  if (!origin) return make_error("relative name '" + std::string(text) + "' and no origin");
  size_t total = pos + origin->wire_size();
  if (total > kMaxNameLength) return make_error("name longer than 255 octets");
  std::memcpy(buf + pos, origin->data(), origin->wire_size());
  return from_checked_wire(buf, total);
}

Result<Name> Name::from_wire(std::span<const uint8_t> wire) {
  size_t pos = 0;
  const size_t n = wire.size();
  if (n == 0) return make_error("name: empty wire form");
  if (n > kMaxNameLength) return make_error("name longer than 255 octets");
  while (true) {
    if (pos >= n) return make_error("name: missing root label");
    uint8_t len = wire[pos];
    if (len == 0) break;
    if (len > kMaxLabelLength) return make_error("name: label longer than 63 octets");
    pos += size_t(len) + 1;
  }
  if (pos + 1 != n) return make_error("name: bytes after the root label");
  return from_checked_wire(wire.data(), n);
}

std::string Name::to_text() const {
  const uint8_t* w = data();
  if (w[0] == 0) return ".";
  std::string out;
  out.reserve(size_ + 8);
  size_t pos = 0;
  while (w[pos] != 0) {
    size_t len = w[pos++];
    for (size_t k = 0; k < len; ++k) {
      uint8_t c = w[pos + k];
      if (c <= 0x20 || c >= 0x7f) {
        char esc[5] = {'\\', char('0' + c / 100), char('0' + c / 10 % 10), char('0' + c % 10), 0};
        out.append(esc, 4);
      } else {
        if (needs_backslash(c)) out.push_back('\\');
        out.push_back(char(c));
      }
    }
    pos += len;
    out.push_back('.');
  }
  return out;
}

size_t Name::label_count() const {
  const uint8_t* w = data();
  size_t n = 0, pos = 0;
  while (w[pos] != 0) {
    ++n;
    pos += w[pos] + 1;
  }
  return n;
}

std::span<const uint8_t> Name::label(size_t i) const {
  const uint8_t* w = data();
  size_t pos = 0;
  while (i > 0 && w[pos] != 0) {
    pos += w[pos] + 1;
    --i;
  }
  return {w + pos + 1, w[pos]};
}

bool Name::is_wildcard() const {
  const uint8_t* w = data();
  return w[0] == 1 && w[1] == '*';
}

bool Name::is_subdomain_of(const Name& parent) const {
  size_t mine = label_count(), theirs = parent.label_count();
  if (theirs > mine) return false;
  const uint8_t* w = data();
  size_t pos = 0;
  for (size_t k = mine - theirs; k > 0; --k) pos += w[pos] + 1;
  if (size_ - pos != parent.size_) return false;
  return iequal_bytes(w + pos, parent.data(), parent.size_);
}

Name Name::parent() const {
  const uint8_t* w = data();
  if (w[0] == 0) return Name();
  size_t skip = size_t(w[0]) + 1;
  return from_checked_wire(w + skip, size_ - skip);
}

Name Name::suffix(size_t labels) const {
  size_t count = label_count();
  if (labels >= count) return *this;
  const uint8_t* w = data();
  size_t pos = 0;
  for (size_t k = count - labels; k > 0; --k) pos += w[pos] + 1;
  return from_checked_wire(w + pos, size_ - pos);
}

Result<Name> Name::concat(const Name& suffix) const {
  size_t head = size_ - 1;  // drop our root label
  size_t total = head + suffix.size_;
  if (total > kMaxNameLength) return make_error("name longer than 255 octets");
  uint8_t buf[2 * kMaxNameLength];
  std::memcpy(buf, data(), head);
  std::memcpy(buf + head, suffix.data(), suffix.size_);
  return from_checked_wire(buf, total);
}

Result<Name> Name::wildcard_child() const {
  size_t total = size_t(size_) + 2;
  if (total > kMaxNameLength) return make_error("name longer than 255 octets");
  uint8_t buf[kMaxNameLength + 2];
  buf[0] = 1;
  buf[1] = '*';
  std::memcpy(buf + 2, data(), size_);
  return from_checked_wire(buf, total);
}

Name Name::lowercased() const {
  uint8_t buf[kMaxNameLength];
  const uint8_t* w = data();
  for (size_t i = 0; i < size_; ++i) buf[i] = ascii_lower(w[i]);
  return from_checked_wire(buf, size_);
}

bool Name::operator==(const Name& o) const {
  if (size_ != o.size_) return false;
  const uint8_t* a = data();
  const uint8_t* b = o.data();
  if (std::memcmp(a, b, size_) == 0) return true;
  // Same length octets are required: a label boundary never matches a
  // letter because length octets are <= 63 and fold to themselves.
  return iequal_bytes(a, b, size_);
}

size_t Name::hash() const {
  // Lowercased 8-octet words mixed in the style of a 64-bit multiply-xorshift.
  const uint8_t* w = data();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ size_;
  size_t i = 0;
  for (; i + 8 <= size_; i += 8) {
    h ^= lower8(load8(w + i));
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i < size_; ++i, ++k) tail |= uint64_t(ascii_lower(w[i])) << (8 * k);
  h ^= tail;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 29;
  return size_t(h);
}

// RFC 4034 §6.1: compare label by label from the root end; each label as a
// lowercased octet string where a shorter prefix sorts first; a name with
// fewer labels sorts first when all its labels match.
int Name::canonical_compare(const Name& o) const {
  uint8_t offs_a[128], offs_b[128];
  const uint8_t* a = data();
  const uint8_t* b = o.data();
  size_t na = label_offsets(a, offs_a);
  size_t nb = label_offsets(b, offs_b);
  size_t ia = na, ib = nb;
  while (ia > 0 && ib > 0) {
    --ia;
    --ib;
    const uint8_t* la = a + offs_a[ia];
    const uint8_t* lb = b + offs_b[ib];
    size_t lena = la[0], lenb = lb[0];
    size_t m = std::min(lena, lenb);
    for (size_t k = 1; k <= m; ++k) {
      uint8_t x = ascii_lower(la[k]), y = ascii_lower(lb[k]);
      if (x != y) return x < y ? -1 : 1;
    }
    if (lena != lenb) return lena < lenb ? -1 : 1;
  }
  if (ia == ib) return 0;
  return ia == 0 ? -1 : 1;
}

Result<Name> read_compressed_name(ByteReader& msg, bool allow_compression) {
  // RFC 1035 §4.1.4. Each pointer must go strictly below the start of the
  // label sequence that contains it, so the walk always terminates.
  uint8_t buf[kMaxNameLength + kMaxLabelLength + 2];
  size_t out = 0;
  const uint8_t* data = msg.data();
  const size_t size = msg.size();
  if (!msg.ok()) return make_error("name: truncated");
  size_t pos = msg.pos();
  size_t end_pos = 0;        // where the reader continues after the name
  bool jumped = false;
  size_t limit = pos;        // pointers must target offsets below this
  while (true) {
    if (pos >= size) {
      msg.fail();
      return make_error("name: truncated");
    }
    uint8_t len = data[pos];
    if ((len & 0xC0) == 0xC0) {
      if (!allow_compression) {
        msg.fail();
        return make_error("name: compression pointer not allowed here");
      }
      if (pos + 1 >= size) {
        msg.fail();
        return make_error("name: truncated");
      }
      size_t target = size_t(len & 0x3F) << 8 | data[pos + 1];
      if (!jumped) {
        end_pos = pos + 2;
        jumped = true;
      }
      if (target >= limit) {
        msg.fail();
        return make_error("name: compression pointer does not point backwards");
      }
      limit = target;
      pos = target;
      continue;
    }
    if (len & 0xC0) {
      msg.fail();
      return make_error("name: unknown label type");
    }
    if (len == 0) {
      buf[out++] = 0;
      if (!jumped) end_pos = pos + 1;
      break;
    }
    if (pos + 1 + len > size) {
      msg.fail();
      return make_error("name: truncated");
    }
    if (out + 1 + len + 1 > kMaxNameLength) {
      msg.fail();
      return make_error("name longer than 255 octets");
    }
    std::memcpy(buf + out, data + pos, size_t(len) + 1);
    out += size_t(len) + 1;
    pos += size_t(len) + 1;
  }
  msg.seek(end_pos);
  return Name::from_checked_wire(buf, out);
}

}  // namespace ddns::wire
