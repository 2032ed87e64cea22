// Zone semantic checks: records grouped by owner through one open-addressed
// table of indices (no per-name allocation), then per-name rules, then the
// delegation/DNAME/glue rules that look at ancestors.
#include "zone/check.h"

#include <algorithm>
#include <optional>
#include <span>
#include <utility>

#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::zone {

namespace {

using wire::RRType;

constexpr uint16_t T(RRType t) { return uint16_t(t); }

enum : uint16_t {
  kHasSoa = 1 << 0,
  kHasNs = 1 << 1,
  kHasCname = 1 << 2,
  kHasDname = 1 << 3,
  kHasAddr = 1 << 4,
  kNonAddr = 1 << 5,    // a type other than A/AAAA (not glue when below a cut)
  kNonCut = 1 << 6,     // a type other than NS/DS/RRSIG/NSEC/A/AAAA (occluded at a cut)
  kOutOfZone = 1 << 7,
  kApex = 1 << 8,
};

// Record access for the checker, over either storage form. compact()
// drops the records marked dead, keeping `where` parallel.
class RRVecRecs {
 public:
  explicit RRVecRecs(std::vector<wire::RR>& v) : v_(v) {}
  size_t size() const { return v_.size(); }
  const wire::Name& owner(size_t i) const { return v_[i].owner; }
  bool same_owner(size_t i, size_t j) const { return v_[i].owner == v_[j].owner; }
  uint16_t type(size_t i) const { return v_[i].type; }
  uint16_t rclass(size_t i) const { return v_[i].rclass; }
  uint32_t ttl(size_t i) const { return v_[i].ttl; }
  void set_ttl(size_t i, uint32_t t) { v_[i].ttl = t; }
  std::span<const uint8_t> rdata(size_t i) const { return v_[i].rdata; }
  void compact(const std::vector<bool>& dead, std::vector<SourceLine>* where) {
    size_t out = 0;
    for (size_t i = 0; i < v_.size(); ++i) {
      if (dead[i]) continue;
      if (out != i) {
        v_[out] = std::move(v_[i]);
        if (where && i < where->size()) (*where)[out] = (*where)[i];
      }
      ++out;
    }
    v_.resize(out);
    if (where && where->size() > out) where->resize(out);
  }

 private:
  std::vector<wire::RR>& v_;
};

class StoreRecs {
 public:
  explicit StoreRecs(RecordStore& s) : s_(s) {}
  size_t size() const { return s_.recs.size(); }
  const wire::Name& owner(size_t i) const { return s_.owner(i); }
  bool same_owner(size_t i, size_t j) const {
    return s_.recs[i].owner == s_.recs[j].owner || s_.owner(i) == s_.owner(j);
  }
  uint16_t type(size_t i) const { return s_.recs[i].type; }
  uint16_t rclass(size_t i) const { return s_.recs[i].rclass; }
  uint32_t ttl(size_t i) const { return s_.recs[i].ttl; }
  void set_ttl(size_t i, uint32_t t) { s_.recs[i].ttl = t; }
  std::span<const uint8_t> rdata(size_t i) const { return s_.rdata_of(i); }
  // Dead rdata stays in the arena as a hole: duplicates are rare.
  void compact(const std::vector<bool>& dead, std::vector<SourceLine>* where) {
    size_t out = 0;
    for (size_t i = 0; i < s_.recs.size(); ++i) {
      if (dead[i]) continue;
      if (out != i) {
        s_.recs[out] = s_.recs[i];
        if (where && i < where->size()) (*where)[out] = (*where)[i];
      }
      ++out;
    }
    s_.recs.resize(out);
    if (where && where->size() > out) where->resize(out);
  }

 private:
  RecordStore& s_;
};

struct Node {
  uint32_t first;   // first record with this owner (also the key)
  uint32_t last;    // tail of the record list (linked through next[])
  uint16_t flags = 0;
};

// Open-addressed set of nodes keyed by owner name (case-insensitive). A
// slot keeps the upper hash bits beside the node index, so probing past
// other names rarely touches the records themselves.
template <class Recs>
class NodeTable {
 public:
  NodeTable(const Recs& recs, std::vector<Node>& nodes, size_t expect)
      : recs_(recs), nodes_(nodes) {
    size_t cap = 16;
    while (cap < expect * 2) cap <<= 1;
    slots_.assign(cap, 0);
  }

  // Index of the node for `name`, or -1.
  int64_t find(const wire::Name& name) const {
    const uint64_t h = name.hash();
    const uint64_t tag = h >> 32;
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint64_t s = slots_[i];
      if (s == 0) return -1;
      if ((s >> 32) == tag && recs_.owner(nodes_[uint32_t(s) - 1].first) == name)
        return int64_t(uint32_t(s) - 1);
    }
  }

  // Node index for record `rec`'s owner, creating the node when new.
  uint32_t find_or_add(uint32_t rec) {
    if ((nodes_.size() + 1) * 2 > slots_.size()) grow();
    const wire::Name& name = recs_.owner(rec);
    const uint64_t h = name.hash();
    const uint64_t tag = h >> 32;
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint64_t s = slots_[i];
      if (s == 0) {
        nodes_.push_back(Node{rec, rec, 0});
        slots_[i] = tag << 32 | uint64_t(nodes_.size());
        return uint32_t(nodes_.size() - 1);
      }
      if ((s >> 32) == tag && recs_.owner(nodes_[uint32_t(s) - 1].first) == name)
        return uint32_t(s) - 1;
    }
  }

 private:
  void grow() {
    std::vector<uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (uint64_t s : old) {
      if (!s) continue;
      size_t i = recs_.owner(nodes_[uint32_t(s) - 1].first).hash() & mask;
      while (slots_[i]) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  const Recs& recs_;
  std::vector<Node>& nodes_;
  std::vector<uint64_t> slots_;
};

template <class Recs>
class Checker {
 public:
  using Table = NodeTable<Recs>;
  Checker(const wire::Name& origin, Recs& recs, std::vector<SourceLine>* where,
          const std::vector<std::string>* files, const CheckOptions& opts, CheckResult& res)
      : origin_(origin), recs_(recs), where_(where), files_(files), opts_(opts), res_(res) {}

  void run() {
    const size_t n = recs_.size();
    next_.assign(n, UINT32_MAX);
    dead_.assign(n, false);
    Table table(recs_, nodes_, n / 2 + 16);
    std::vector<uint32_t> node_of(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t nd;
      if (i > 0 && recs_.same_owner(i, i - 1)) {
        nd = node_of[i - 1];
      } else {
        nd = table.find_or_add(i);
      }
      node_of[i] = nd;
      Node& node = nodes_[nd];
      if (node.first != i) {
        next_[node.last] = i;
        node.last = i;
      }
    }
    node_of.clear();
    node_of.shrink_to_fit();

    int64_t apex = table.find(origin_);
    for (uint32_t k = 0; k < nodes_.size(); ++k) check_node(k, int64_t(k) == apex);

    if (apex < 0) {
      error_zone("no SOA record at the zone apex");
      error_zone("no NS records at the zone apex");
    } else {
      const Node& a = nodes_[size_t(apex)];
      if (!(a.flags & kHasSoa)) error_zone("no SOA record at the zone apex");
      if (!(a.flags & kHasNs)) error_zone("no NS records at the zone apex");
    }

    if (!cuts_.empty() || !dnames_.empty() || apex_dname_ >= 0) occlusion(table);
    ns_targets(table, apex);
    compact();
    flush_suppressed();
    if (opts_.strict) {
      // --strict / strict: every warning refuses the zone.
      for (Diagnostic& d : res_.warnings) res_.errors.push_back(std::move(d));
      res_.warnings.clear();
    }
  }

 private:
  Diagnostic at(uint32_t rec, std::string msg) const {
    Diagnostic d;
    if (where_ && rec < where_->size()) {
      const SourceLine& w = (*where_)[rec];
      if (files_ && w.file < files_->size()) d.file = (*files_)[w.file];
      d.line = w.line;
    } else if (files_ && !files_->empty()) {
      d.file = (*files_)[0];
    }
    d.message = std::move(msg);
    return d;
  }
  void error(uint32_t rec, std::string msg) {
    if (res_.errors.size() >= opts_.max_diagnostics) {
      ++suppressed_errors_;
      return;
    }
    res_.errors.push_back(at(rec, std::move(msg)));
  }
  void warning(uint32_t rec, std::string msg) {
    if (res_.warnings.size() >= opts_.max_diagnostics) {
      ++suppressed_warnings_;
      return;
    }
    res_.warnings.push_back(at(rec, std::move(msg)));
  }
  void error_zone(std::string msg) {
    Diagnostic d;
    if (files_ && !files_->empty()) d.file = (*files_)[0];
    d.message = std::move(msg);
    res_.errors.push_back(std::move(d));
  }
  void flush_suppressed() {
    if (suppressed_errors_)
      error_zone(std::to_string(suppressed_errors_) + " more errors not shown");
    if (suppressed_warnings_) {
      Diagnostic d;
      if (files_ && !files_->empty()) d.file = (*files_)[0];
      d.message = std::to_string(suppressed_warnings_) + " more warnings not shown";
      res_.warnings.push_back(std::move(d));
    }
  }

  std::string name_text(uint32_t rec) const { return recs_.owner(rec).to_text(); }

  void check_node(uint32_t k, bool is_apex) {
    Node& node = nodes_[k];
    scratch_.clear();
    for (uint32_t i = node.first; i != UINT32_MAX; i = next_[i]) scratch_.push_back(i);
    const wire::Name& owner = recs_.owner(node.first);
    if (is_apex) node.flags |= kApex;
    if (!owner.is_subdomain_of(origin_)) {
      // Like BIND and Knot: the data is dropped with a warning, the zone loads.
      node.flags |= kOutOfZone;
      for (uint32_t r : scratch_) {
        warning(r, "ignoring out-of-zone data: " + owner.to_text() + " is not in " +
                       origin_.to_text());
        dead_[r] = true;
        ++res_.out_of_zone_ignored;
      }
      return;
    }
    if (scratch_.size() > 1) {
      std::stable_sort(scratch_.begin(), scratch_.end(),
                       [&](uint32_t a, uint32_t b) { return recs_.type(a) < recs_.type(b); });
    }
    size_t cnames = 0, soas = 0;
    uint32_t cname_rec = 0, other_rec = UINT32_MAX;
    for (size_t g = 0; g < scratch_.size();) {
      size_t e = g + 1;
      const uint16_t type = recs_.type(scratch_[g]);
      while (e < scratch_.size() && recs_.type(scratch_[e]) == type) ++e;
      if (e - g > 1) dedup_rrset(g, e);
      size_t live = 0;
      for (size_t j = g; j < e; ++j) {
        uint32_t r = scratch_[j];
        if (dead_[r]) continue;
        ++live;
        if (recs_.rclass(r) != opts_.rclass)
          error(r, wire::type_to_text(type) + ": class " + wire::class_to_text(recs_.rclass(r)) +
                       " does not match zone class " + wire::class_to_text(opts_.rclass));
      }
      const uint32_t first = scratch_[g];
      switch (type) {
        case T(RRType::SOA):
          node.flags |= kHasSoa | kNonAddr | kNonCut;
          soas = live;
          if (!is_apex) error(first, "SOA record not at zone apex (" + owner.to_text() + ")");
          break;
        case T(RRType::NS):
          node.flags |= kHasNs | kNonAddr;
          other_rec = std::min(other_rec, first);
          break;
        case T(RRType::CNAME):
          node.flags |= kHasCname | kNonAddr | kNonCut;
          cnames = live;
          cname_rec = first;
          break;
        case T(RRType::DNAME):
          node.flags |= kHasDname | kNonAddr | kNonCut;
          other_rec = std::min(other_rec, first);
          break;
        case T(RRType::A):
        case T(RRType::AAAA):
          node.flags |= kHasAddr;
          other_rec = std::min(other_rec, first);
          break;
        case T(RRType::RRSIG):
        case T(RRType::NSEC):
          // RFC 4035 §2.5 / RFC 2181 §10.1: allowed beside a CNAME and at a cut.
          node.flags |= kNonAddr;
          break;
        case T(RRType::DS):
          node.flags |= kNonAddr;
          other_rec = std::min(other_rec, first);
          break;
        default:
          node.flags |= kNonAddr | kNonCut;
          other_rec = std::min(other_rec, first);
          break;
      }
      g = e;
    }
    if (soas > 1 && is_apex) error(node.first, "multiple SOA records at the zone apex");
    if (cnames > 1) error(cname_rec, "multiple CNAME records at " + owner.to_text());
    if (cnames && (other_rec != UINT32_MAX || (node.flags & kHasSoa)))
      error(cname_rec, "CNAME and other data at " + owner.to_text() + " (RFC 1034 §3.6.2)");
    if (!(node.flags & kOutOfZone) && !is_apex) {
      if (node.flags & kHasNs) cuts_.push_back(k);
      if (node.flags & kHasDname) dnames_.push_back(k);
    } else if (is_apex && (node.flags & kHasDname)) {
      apex_dname_ = int64_t(k);
    }
  }

  // Marks exact duplicates in scratch_[g, e) dead and makes the RRset's TTL
  // that of its first record (RFC 2181 §5.2).
  void dedup_rrset(size_t g, size_t e) {
    const uint16_t type = recs_.type(scratch_[g]);
    const uint32_t ttl = recs_.ttl(scratch_[g]);
    bool ttl_warned = false;
    for (size_t j = g + 1; j < e; ++j) {
      const uint32_t r = scratch_[j];
      if (recs_.ttl(r) != ttl) {
        if (!ttl_warned) {
          warning(scratch_[j], wire::type_to_text(type) + " " + recs_.owner(r).to_text() +
                                   ": TTL set to prior TTL (" + std::to_string(ttl) + ")");
          ttl_warned = true;
        }
        recs_.set_ttl(r, ttl);
        ++res_.ttl_adjusted;
      }
    }
    canon_.clear();
    for (size_t j = g; j < e; ++j) {
      canon_.push_back({wire::rdata_canonical(type, recs_.rdata(scratch_[j])), scratch_[j]});
    }
    std::sort(canon_.begin(), canon_.end());
    for (size_t j = 1; j < canon_.size(); ++j) {
      if (canon_[j].first == canon_[j - 1].first) {
        dead_[canon_[j].second] = true;  // the later one; file order keeps the first
        ++res_.duplicates_removed;
      }
    }
  }

  // Nearest node at or above `name` (strictly below the apex) whose flags
  // have `mask`; `self` says whether `name` itself counts.
  int64_t covering(const Table& table, const wire::Name& name, uint16_t mask,
                   bool self) const {
    size_t labels = name.label_count();
    const size_t apex_labels = origin_.label_count();
    if (labels <= apex_labels) return -1;
    wire::Name cur = name;
    bool first = true;
    // Walk from the top (just below the apex) down, so the highest cut wins.
    int64_t found = -1;
    std::vector<wire::Name>& chain = chain_;
    chain.clear();
    while (cur.label_count() > apex_labels) {
      if (!first || self) chain.push_back(cur);
      first = false;
      cur = cur.parent();
    }
    for (size_t i = chain.size(); i-- > 0;) {
      int64_t nd = table.find(chain[i]);
      if (nd >= 0 && (nodes_[size_t(nd)].flags & mask)) {
        found = nd;
        break;
      }
    }
    return found;
  }

  void occlusion(const Table& table) {
    size_t dname_warned = 0;
    for (uint32_t k = 0; k < nodes_.size(); ++k) {
      Node& node = nodes_[k];
      if (node.flags & (kOutOfZone | kApex)) continue;
      const wire::Name& owner = recs_.owner(node.first);
      int64_t cut = cuts_.empty() ? -1 : covering(table, owner, kHasNs, false);
      if (cut >= 0) {
        below_cut_.push_back(k);
        if (node.flags & kNonAddr)
          warning(node.first, owner.to_text() + ": occluded by delegation at " +
                                  recs_.owner(nodes_[size_t(cut)].first).to_text() +
                                  " (only glue A/AAAA is used)");
      } else if ((node.flags & kHasNs) && (node.flags & kNonCut)) {
        warning(node.first, owner.to_text() +
                                ": data beside NS at a delegation is occluded (only NS, DS, "
                                "glue and DNSSEC records are used)");
      }
      if ((!dnames_.empty() || apex_dname_ >= 0) && dname_warned < 20) {
        int64_t dn = dnames_.empty() ? -1 : covering(table, owner, kHasDname, false);
        if (dn < 0) dn = apex_dname_;
        if (dn >= 0) {
          warning(node.first, "DNAME at " + recs_.owner(nodes_[size_t(dn)].first).to_text() +
                                  " has child " + owner.to_text() + " (occluded, RFC 6672 §2.4)");
          ++dname_warned;
        }
      }
    }
    std::sort(below_cut_.begin(), below_cut_.end());
  }

  bool is_below_cut(uint32_t node) const {
    return std::binary_search(below_cut_.begin(), below_cut_.end(), node);
  }

  void ns_targets(const Table& table, int64_t apex) {
    std::vector<uint32_t> holders = cuts_;
    if (apex >= 0) holders.push_back(uint32_t(apex));
    for (uint32_t k : holders) {
      const Node& node = nodes_[k];
      if (!(node.flags & kHasNs)) continue;
      for (uint32_t r = node.first; r != UINT32_MAX; r = next_[r]) {
        if (recs_.type(r) != T(RRType::NS) || dead_[r]) continue;
        auto target = wire::Name::from_wire(recs_.rdata(r));
        if (!target || !target->is_subdomain_of(origin_)) continue;
        // Glue is needed when the target is at or below any cut.
        bool needs_glue = !cuts_.empty() && covering(table, *target, kHasNs, true) >= 0;
        int64_t tn = table.find(*target);
        bool has_addr = tn >= 0 && (nodes_[size_t(tn)].flags & kHasAddr);
        if (has_addr) continue;
        if (needs_glue) {
          warning(r, "missing glue: NS " + target->to_text() + " of " + recs_.owner(r).to_text() +
                         " has no A/AAAA record");
        } else if (int64_t(k) != apex) {
          // A delegation's NS: BIND warns and loads, Knot too.
          warning(r, "delegation " + recs_.owner(r).to_text() + " NS '" + target->to_text() +
                         "' has no address records (A or AAAA)");
        } else {
          error(r, "NS '" + target->to_text() + "' has no address records (A or AAAA)");
        }
      }
    }
  }

  void compact() {
    if (res_.duplicates_removed == 0 && res_.out_of_zone_ignored == 0) {
      set_serial();
      return;
    }
    recs_.compact(dead_, where_);
    set_serial();
  }

  void set_serial() {
    for (size_t i = 0; i < recs_.size(); ++i) {
      if (recs_.type(i) != T(RRType::SOA) || !(recs_.owner(i) == origin_)) continue;
      const auto rdata = recs_.rdata(i);
      size_t pos = 0;
      for (int name = 0; name < 2; ++name) {
        while (pos < rdata.size() && rdata[pos] != 0) pos += size_t(rdata[pos]) + 1;
        ++pos;
      }
      if (pos + 4 <= rdata.size()) {
        const uint8_t* s = rdata.data() + pos;
        res_.serial = uint32_t(s[0]) << 24 | uint32_t(s[1]) << 16 | uint32_t(s[2]) << 8 | s[3];
      }
      return;
    }
  }

  const wire::Name& origin_;
  Recs& recs_;
  std::vector<SourceLine>* where_;
  const std::vector<std::string>* files_;
  const CheckOptions& opts_;
  CheckResult& res_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> next_;
  std::vector<bool> dead_;
  std::vector<uint32_t> scratch_;
  std::vector<std::pair<wire::Bytes, uint32_t>> canon_;
  std::vector<uint32_t> cuts_, dnames_, below_cut_;
  mutable std::vector<wire::Name> chain_;
  int64_t apex_dname_ = -1;
  size_t suppressed_errors_ = 0, suppressed_warnings_ = 0;
};

// Strict loading: the parser's warnings refuse the zone too.
void move_warnings_to_errors(std::vector<Diagnostic>& warnings, std::vector<Diagnostic>& errors) {
  for (Diagnostic& d : warnings) errors.push_back(std::move(d));
  warnings.clear();
}

std::string display(const wire::Name& n) {
  std::string s = n.to_text();
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

CheckResult check_zone(const wire::Name& origin, std::vector<wire::RR>& records,
                       std::vector<SourceLine>* where, const std::vector<std::string>* files,
                       const CheckOptions& opts) {
  CheckResult res;
  RRVecRecs recs(records);
  Checker<RRVecRecs> c(origin, recs, where, files, opts, res);
  c.run();
  return res;
}

CheckResult check_zone(const wire::Name& origin, RecordStore& records,
                       std::vector<SourceLine>* where, const std::vector<std::string>* files,
                       const CheckOptions& opts) {
  CheckResult res;
  StoreRecs recs(records);
  Checker<StoreRecs> c(origin, recs, where, files, opts, res);
  c.run();
  return res;
}

CheckResult check_zone(const wire::Name& origin, ParseResult& parsed, const CheckOptions& opts) {
  return check_zone(origin, parsed.records, &parsed.where, &parsed.files, opts);
}

LoadedZone load_zone_file(const std::string& path, const wire::Name& origin,
                          const ParseOptions& opts) {
  LoadedZone z;
  ParseResult p = parse_master_file(path, origin, opts);
  z.warnings = std::move(p.warnings);
  z.errors = std::move(p.errors);
  if (!z.errors.empty() && p.records.empty()) return z;
  CheckOptions co;
  co.rclass = opts.rclass;
  co.strict = opts.strict;
  if (opts.strict) move_warnings_to_errors(z.warnings, z.errors);
  CheckResult c = check_zone(origin, p, co);
  for (auto& d : c.warnings) z.warnings.push_back(std::move(d));
  for (auto& d : c.errors) z.errors.push_back(std::move(d));
  z.serial = c.serial;
  if (z.errors.empty()) z.records = std::move(p.records);
  return z;
}

namespace {

// Parse + check into a store; errors and warnings go to `errors`/`warnings`.
bool read_checked(const std::string& path, const wire::Name& origin, const ParseOptions& opts,
                  RecordStore& store, std::vector<Diagnostic>& errors,
                  std::vector<Diagnostic>& warnings, uint32_t& serial) {
  ParseResult p = parse_master_file(path, origin, store, opts);
  warnings = std::move(p.warnings);
  errors = std::move(p.errors);
  if (!errors.empty() && store.recs.empty()) return false;
  CheckOptions co;
  co.rclass = opts.rclass;
  co.strict = opts.strict;
  if (opts.strict) move_warnings_to_errors(warnings, errors);
  CheckResult c = check_zone(origin, store, &p.where, &p.files, co);
  for (auto& d : c.warnings) warnings.push_back(std::move(d));
  for (auto& d : c.errors) errors.push_back(std::move(d));
  serial = c.serial;
  return errors.empty();
}

}  // namespace

LoadedTree load_zone_tree(const std::string& path, const wire::Name& origin,
                          const ParseOptions& opts) {
  LoadedTree t;
  RecordStore store;
  if (!read_checked(path, origin, opts, store, t.errors, t.warnings, t.serial)) return t;
  t.records = store.recs.size();
  auto z = Zone::build(origin, std::move(store));
  if (!z) {
    t.errors.push_back(Diagnostic{path, 0, z.error().message});
    return t;
  }
  t.zone = std::move(*z);
  return t;
}

int run_check_zone(const std::string& origin, const std::string& path, std::ostream& out,
                   std::ostream& err, bool strict) {
  wire::Name root;
  auto o = wire::Name::from_text(origin, &root);
  if (!o) {
    err << "bad zone origin '" << origin << "': " << o.error().message << '\n';
    return 1;
  }
  // The compact store: same checks as load_zone_file, a fraction of the
  // memory on big zones.
  RecordStore store;
  std::vector<Diagnostic> errors, warnings;
  uint32_t serial = 0;
  ParseOptions opts;
  opts.strict = strict;
  const bool ok = read_checked(path, *o, opts, store, errors, warnings, serial);
  for (const auto& d : warnings) err << d.to_string() << '\n';
  for (const auto& d : errors) err << d.to_string() << '\n';
  if (!ok) {
    err << "zone " << display(*o) << "/IN: not loaded due to errors.\n";
    return 1;
  }
  out << "OK: " << display(*o) << " loaded serial " << serial << " (" << store.recs.size()
      << " records)\n";
  return 0;
}

}  // namespace ddns::zone
