// Master file printer: groups records by owner, sorts the groups in
// canonical order, prints through one buffer flushed in large chunks.
#include "zone/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::zone {

namespace {

constexpr uint16_t kSoa = uint16_t(wire::RRType::SOA);

// RFC 1035 §5.1 escaping of one label, matching Name::to_text; '$' and '@'
// are escaped too so a relative owner never reads as a directive or origin.
void append_label(std::string& out, const uint8_t* p, size_t len) {
  for (size_t k = 0; k < len; ++k) {
    uint8_t c = p[k];
    if (c <= 0x20 || c >= 0x7f) {
      char esc[4] = {'\\', char('0' + c / 100), char('0' + c / 10 % 10), char('0' + c % 10)};
      out.append(esc, 4);
      continue;
    }
    switch (c) {
      case '.': case '\\': case '(': case ')': case ';': case '"': case '$': case '@':
        out.push_back('\\');
        break;
      default:
        break;
    }
    out.push_back(char(c));
  }
}

// The owner as "@", relative labels, or absolute text.
void append_owner(std::string& out, const wire::Name& owner, const wire::Name& origin,
                  bool relative) {
  if (relative && owner.is_subdomain_of(origin)) {
    size_t k = owner.label_count() - origin.label_count();
    if (k == 0) {
      out.push_back('@');
      return;
    }
    auto w = owner.wire();
    size_t pos = 0;
    for (size_t i = 0; i < k; ++i) {
      if (i) out.push_back('.');
      size_t len = w[pos];
      append_label(out, w.data() + pos + 1, len);
      pos += len + 1;
    }
    return;
  }
  out += owner.to_text();
}

class Printer {
 public:
  explicit Printer(std::ostream& os) : os_(os) { buf_.reserve(kChunk + 4096); }
  ~Printer() { flush(); }
  std::string& buf() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= kChunk) flush();
  }
  void flush() {
    os_.write(buf_.data(), std::streamsize(buf_.size()));
    buf_.clear();
  }

 private:
  static constexpr size_t kChunk = 1 << 16;
  std::ostream& os_;
  std::string buf_;
};

}  // namespace

void write_master(std::ostream& out, const wire::Name& origin,
                  std::span<const wire::RR> records, const WriteOptions& opts) {
  // Runs of consecutive records with one owner (input is usually grouped),
  // sorted by owner; equal owners from separate runs merge below.
  struct Run {
    size_t begin, end;
  };
  std::vector<Run> runs;
  for (size_t i = 0; i < records.size();) {
    size_t j = i + 1;
    while (j < records.size() && records[j].owner == records[i].owner) ++j;
    runs.push_back(Run{i, j});
    i = j;
  }
  std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
    return records[a.begin].owner.canonical_compare(records[b.begin].owner) < 0;
  });
  // The apex first even when some name sorts before it (out-of-zone data).
  std::stable_partition(runs.begin(), runs.end(),
                        [&](const Run& r) { return records[r.begin].owner == origin; });

  uint32_t default_ttl = records.empty() ? 3600 : records[0].ttl;
  for (const auto& rr : records) {
    if (rr.type == kSoa && rr.owner == origin) {
      default_ttl = rr.ttl;
      break;
    }
  }

  Printer p(out);
  std::string& b = p.buf();
  if (opts.header_comment) {
    b += "; zone ";
    b += origin.to_text();
    b += ", ";
    b += std::to_string(records.size());
    b += " records\n";
  }
  b += "$ORIGIN ";
  b += origin.to_text();
  b += "\n$TTL ";
  b += std::to_string(default_ttl);
  b += '\n';

  std::vector<size_t> idx;
  for (size_t r = 0; r < runs.size();) {
    size_t e = r + 1;
    while (e < runs.size() && records[runs[e].begin].owner == records[runs[r].begin].owner) ++e;
    idx.clear();
    for (size_t k = r; k < e; ++k)
      for (size_t i = runs[k].begin; i < runs[k].end; ++i) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t c) {
      uint16_t ta = records[a].type, tc = records[c].type;
      if ((ta == kSoa) != (tc == kSoa)) return ta == kSoa;
      return ta < tc;
    });
    for (size_t i : idx) {
      const wire::RR& rr = records[i];
      append_owner(b, rr.owner, origin, opts.relative_owners);
      b += '\t';
      b += std::to_string(rr.ttl);
      b += '\t';
      b += wire::class_to_text(rr.rclass);
      b += '\t';
      b += wire::type_to_text(rr.type);
      b += '\t';
      b += wire::rdata_to_text(rr.type, rr.rdata);
      b += '\n';
      p.maybe_flush();
    }
    r = e;
  }
}

std::string master_text(const wire::Name& origin, std::span<const wire::RR> records,
                        const WriteOptions& opts) {
  std::ostringstream os;
  write_master(os, origin, records, opts);
  return std::move(os).str();
}

Result<void> write_master_file(const std::string& path, const wire::Name& origin,
                               std::span<const wire::RR> records, const WriteOptions& opts) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": " + std::strerror(errno));
  std::string text = master_text(origin, records, opts);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string e = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(tmp + ": " + e);
    }
    off += size_t(n);
  }
  int rc = ::fsync(fd);
  int saved = errno;
  if (::close(fd) != 0 && rc == 0) {
    rc = -1;
    saved = errno;
  }
  if (rc != 0) {
    std::string e = std::strerror(saved);
    ::unlink(tmp.c_str());
    return make_error(tmp + ": " + e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(path + ": " + e);
  }
  return {};
}

}  // namespace ddns::zone
