// RFC 2136 §3: UPDATE processing against a snapshot plus pending changes.
// Order: zone section (§3.1), prerequisites (§3.2), prescan (§3.4.1),
// permissions (§3.3, checked after the prescan as BIND does, so a
// malformed message is FORMERR whoever sent it), then the update (§3.4.2)
// into a private copy of the touched owners, diffed into a ChangeSet.
#include "update/update.h"

#include <algorithm>
#include <utility>

#include "wire/rdata.h"
#include "wire/rrtype.h"
#include "zone/apply.h"

namespace ddns::update {
namespace {

using wire::Rcode;
using wire::RRClass;
using wire::RRType;

constexpr uint16_t kIN = uint16_t(RRClass::IN);
constexpr uint16_t kANY = uint16_t(RRClass::ANY);
constexpr uint16_t kNONE = uint16_t(RRClass::NONE);
constexpr uint16_t kTypeANY = uint16_t(RRType::ANY);
constexpr uint16_t kSOA = uint16_t(RRType::SOA);
constexpr uint16_t kNS = uint16_t(RRType::NS);
constexpr uint16_t kCNAME = uint16_t(RRType::CNAME);
constexpr uint16_t kDNAME = uint16_t(RRType::DNAME);

using Node = Batch::Node;
using RRset = Batch::RRset;

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

uint32_t soa_serial(const wire::Bytes& rd) {
  if (rd.size() < 22) return 0;
  const uint8_t* f = rd.data() + rd.size() - 20;
  return uint32_t(f[0]) << 24 | uint32_t(f[1]) << 16 | uint32_t(f[2]) << 8 | f[3];
}

void set_soa_serial(wire::Bytes& rd, uint32_t serial) {
  if (rd.size() < 22) return;
  uint8_t* f = rd.data() + rd.size() - 20;
  f[0] = uint8_t(serial >> 24);
  f[1] = uint8_t(serial >> 16);
  f[2] = uint8_t(serial >> 8);
  f[3] = uint8_t(serial);
}

// RFC 2136 §1.1.1: RRs are equal when their rdata is; names inside rdata
// compare without case (BIND compares rdata in canonical form), the same
// comparison the one application rule uses (zone/apply.h).
using zone::same_rdata;

// Types that may live beside a CNAME (RFC 4035 §2.5, RFC 2181 §10.1).
bool cname_compatible(uint16_t type) {
  switch (RRType(type)) {
    case RRType::CNAME:
    case RRType::RRSIG:
    case RRType::NSEC:
      return true;
    default:
      return type == 25;  // KEY (RFC 4034 §2 keeps it legal beside CNAME)
  }
}

RRset* find_set(Node& n, uint16_t type) {
  for (auto& s : n) {
    if (s.type == type) return &s;
  }
  return nullptr;
}
const RRset* find_set(const Node& n, uint16_t type) {
  for (const auto& s : n) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

RRset& make_set(Node& n, uint16_t type, uint32_t ttl) {
  auto it = std::lower_bound(n.begin(), n.end(), type,
                             [](const RRset& s, uint16_t t) { return s.type < t; });
  it = n.insert(it, RRset{type, ttl, {}});
  return *it;
}

void erase_set(Node& n, uint16_t type) {
  n.erase(std::remove_if(n.begin(), n.end(), [&](const RRset& s) { return s.type == type; }),
          n.end());
}

Outcome fail(Rcode rc, std::string why) {
  Outcome o;
  o.rcode = rc;
  o.reason = std::move(why);
  return o;
}

std::string rr_text(const wire::RR& rr) {
  return rr.owner.to_text() + " " + wire::class_to_text(rr.rclass) + " " +
         wire::type_to_text(rr.type);
}

wire::RR make_rr(const wire::Name& owner, uint16_t type, uint32_t ttl, const wire::Bytes& rd) {
  wire::RR rr;
  rr.owner = owner;
  rr.type = type;
  rr.rclass = kIN;
  rr.ttl = ttl;
  rr.rdata = rd;
  return rr;
}

bool contains_exact(const std::vector<wire::Bytes>& v, const wire::Bytes& b) {
  return std::find(v.begin(), v.end(), b) != v.end();
}

}  // namespace

ZoneCheck check_zone_section(const wire::Message& msg, const ServedFn& served) {
  ZoneCheck zc;
  // RFC 2136 §3.1.1
  if (msg.question.size() != 1 || msg.question[0].qtype != kSOA) {
    zc.rcode = Rcode::FormErr;
    return zc;
  }
  zc.zone = msg.question[0].name;
  zc.zclass = msg.question[0].qclass;
  // RFC 2136 §3.1.2
  if (!served || !served(zc.zone, zc.zclass)) zc.rcode = Rcode::NotAuth;
  return zc;
}

Batch::Batch(std::shared_ptr<const zone::Zone> base, Options options)
    : base_(std::move(base)), options_(options), serial_(base_->serial()) {}

Node Batch::node(const wire::Name& owner) const {
  Node scratch;
  const Node* n = lookup(NodeMap(), owner, scratch);
  return n == &scratch ? std::move(scratch) : *n;
}

const Node* Batch::lookup(const NodeMap& work, const wire::Name& owner, Node& scratch) const {
  if (auto it = work.find(owner); it != work.end()) return &it->second;
  if (auto it = pending_.find(owner); it != pending_.end()) return &it->second;
  scratch.clear();
  const wire::Name low = owner.lowercased();
  const auto w = low.wire();
  const zone::NodeId id = base_->find(w.data(), w.size());
  if (id == zone::kNoNode) return &scratch;
  const auto& nd = base_->node(id);
  scratch.reserve(nd.rrset_count);
  for (size_t i = 0; i < nd.rrset_count; ++i) {
    const zone::RRsetView v = base_->rrset_at(id, i);
    RRset& s = scratch.emplace_back();
    s.type = v.type;
    s.ttl = v.ttl;
    s.rdatas.reserve(v.count);
    const uint8_t* p = v.data;
    for (size_t k = 0; k < v.count; ++k) {
      const size_t rl = get16(p);
      s.rdatas.emplace_back(p + 2, p + 2 + rl);
      p += 2 + rl;
    }
  }
  return &scratch;
}

Outcome Batch::process(const wire::Message& msg, const AllowedFn& allowed) {
  const wire::Name& origin = base_->origin();
  // §3.1.1 zone section.
  if (msg.question.size() != 1 || msg.question[0].qtype != kSOA) {
    return fail(Rcode::FormErr, "zone section must hold exactly one SOA question");
  }
  if (msg.question[0].name != origin || msg.question[0].qclass != kIN) {
    return fail(Rcode::NotAuth, "not authoritative for " + msg.question[0].name.to_text());
  }
  if (Outcome o = prerequisites(msg); o.rcode != Rcode::NoError) return o;
  if (Outcome o = prescan(msg); o.rcode != Rcode::NoError) return o;
  if (Outcome o = permissions(msg, allowed); o.rcode != Rcode::NoError) return o;
  NodeMap work;
  bool soa_changed = false;
  if (Outcome o = update(msg, work, soa_changed); o.rcode != Rcode::NoError) return o;
  return commit(work, soa_changed);
}

// §3.2: prerequisites, in the order of the §3.2.5 pseudocode.
Outcome Batch::prerequisites(const wire::Message& msg) const {
  const wire::Name& origin = base_->origin();
  const NodeMap none;
  Node scratch;
  std::vector<ValueRRset> temp;  // §3.2.5 "temp"
  for (const wire::RR& rr : msg.answer) {
    if (rr.ttl != 0) return fail(Rcode::FormErr, "prerequisite TTL not 0: " + rr_text(rr));
    if (!rr.owner.is_subdomain_of(origin)) {
      return fail(Rcode::NotZone, "prerequisite outside the zone: " + rr_text(rr));
    }
    if (rr.rclass == kANY || rr.rclass == kNONE) {
      if (!rr.rdata.empty()) return fail(Rcode::FormErr, "prerequisite rdata not empty: " + rr_text(rr));
      if (rr.type != kTypeANY && wire::is_meta_type(rr.type)) {
        return fail(Rcode::FormErr, "prerequisite of a meta type: " + rr_text(rr));
      }
      const Node* n = lookup(none, rr.owner, scratch);
      const bool exists = rr.type == kTypeANY ? !n->empty() : find_set(*n, rr.type) != nullptr;
      if (rr.rclass == kANY && !exists) {
        // §2.4.1 RRset exists (value independent) / §2.4.4 name is in use.
        return rr.type == kTypeANY ? fail(Rcode::NXDomain, "name not in use: " + rr_text(rr))
                                   : fail(Rcode::NXRRSet, "RRset does not exist: " + rr_text(rr));
      }
      if (rr.rclass == kNONE && exists) {
        // §2.4.3 RRset does not exist / §2.4.5 name is not in use.
        return rr.type == kTypeANY ? fail(Rcode::YXDomain, "name in use: " + rr_text(rr))
                                   : fail(Rcode::YXRRSet, "RRset exists: " + rr_text(rr));
      }
      continue;
    }
    if (rr.rclass != kIN || wire::is_meta_type(rr.type)) {
      return fail(Rcode::FormErr, "bad prerequisite class or type: " + rr_text(rr));
    }
    // §2.4.2 RRset exists (value dependent): collect, compare below.
    auto it = std::find_if(temp.begin(), temp.end(), [&](const ValueRRset& t) {
      return t.type == rr.type && t.owner == rr.owner;
    });
    if (it == temp.end()) {
      temp.push_back(ValueRRset{rr.owner, rr.type, {}});
      it = temp.end() - 1;
    }
    const bool dup = std::any_of(it->rdatas.begin(), it->rdatas.end(),
                                 [&](const wire::Bytes& b) { return same_rdata(rr.type, b, rr.rdata); });
    if (!dup) it->rdatas.push_back(rr.rdata);
  }
  return value_prerequisites(temp);
}

// §2.4.2 / §3.2.5: each collected RRset must equal the zone's exactly.
Outcome Batch::value_prerequisites(const std::vector<ValueRRset>& temp) const {
  const NodeMap none;
  Node scratch;
  for (const ValueRRset& t : temp) {
    const Node* n = lookup(none, t.owner, scratch);
    const RRset* s = find_set(*n, t.type);
    bool equal = s && s->rdatas.size() == t.rdatas.size();
    for (size_t i = 0; equal && i < t.rdatas.size(); ++i) {
      equal = std::any_of(s->rdatas.begin(), s->rdatas.end(),
                          [&](const wire::Bytes& b) { return same_rdata(t.type, b, t.rdatas[i]); });
    }
    if (!equal) {
      return fail(Rcode::NXRRSet, "RRset differs: " + t.owner.to_text() + " " + wire::type_to_text(t.type));
    }
  }
  return {};
}

// §3.4.1: prescan, before anything is changed.
Outcome Batch::prescan(const wire::Message& msg) const {
  const wire::Name& origin = base_->origin();
  for (const wire::RR& rr : msg.authority) {
    if (!rr.owner.is_subdomain_of(origin)) return fail(Rcode::NotZone, "update outside the zone: " + rr_text(rr));
    if (rr.rclass == kIN) {
      if (wire::is_meta_type(rr.type)) return fail(Rcode::FormErr, "meta type in an add: " + rr_text(rr));
      if (!wire::rdata_validate(rr.type, rr.rdata).ok()) {
        return fail(Rcode::FormErr, "malformed rdata: " + rr_text(rr));
      }
    } else if (rr.rclass == kANY) {
      if (rr.ttl != 0 || !rr.rdata.empty() || (rr.type != kTypeANY && wire::is_meta_type(rr.type))) {
        return fail(Rcode::FormErr, "bad RRset delete: " + rr_text(rr));
      }
    } else if (rr.rclass == kNONE) {
      if (rr.ttl != 0 || wire::is_meta_type(rr.type) ||
          !wire::rdata_validate(rr.type, rr.rdata).ok()) {
        return fail(Rcode::FormErr, "bad RR delete: " + rr_text(rr));
      }
    } else {
      return fail(Rcode::FormErr, "bad update class: " + rr_text(rr));
    }
  }
  return {};
}

// §3.3: permissions, per update RR.
Outcome Batch::permissions(const wire::Message& msg, const AllowedFn& allowed) const {
  const wire::Name& origin = base_->origin();
  const NodeMap none;
  Node scratch;
  for (const wire::RR& rr : msg.authority) {
    if (!allowed) return fail(Rcode::Refused, "no update policy");
    if (rr.rclass == kANY && rr.type == kTypeANY) {
      const bool apex = rr.owner == origin;
      for (const RRset& s : *lookup(none, rr.owner, scratch)) {
        if (apex && (s.type == kSOA || s.type == kNS)) continue;  // kept anyway
        if (!allowed(rr.owner, s.type)) {
          return fail(Rcode::Refused, "update of " + rr.owner.to_text() + " " +
                                          wire::type_to_text(s.type) + " not allowed");
        }
      }
      continue;
    }
    if (!allowed(rr.owner, rr.type)) return fail(Rcode::Refused, "update not allowed: " + rr_text(rr));
  }
  return {};
}

// §3.4.2: the update, into private copies (`work`) of the touched owners.
Outcome Batch::update(const wire::Message& msg, NodeMap& work, bool& soa_changed) const {
  const wire::Name& origin = base_->origin();
  for (const wire::RR& rr : msg.authority) {
    const bool apex = rr.owner == origin;
    Node& n = touch(work, rr.owner);
    if (rr.rclass == kIN) {
      if (Outcome o = add(n, rr, apex, soa_changed); o.rcode != Rcode::NoError) return o;
    } else if (rr.rclass == kANY) {
      if (rr.type == kTypeANY) {
        // §3.4.2.3: delete all RRsets at the name; the apex keeps SOA and NS.
        n.erase(std::remove_if(n.begin(), n.end(),
                               [&](const RRset& s) { return !(apex && (s.type == kSOA || s.type == kNS)); }),
                n.end());
      } else if (!(apex && (rr.type == kSOA || rr.type == kNS))) {
        erase_set(n, rr.type);  // §3.4.2.3: apex SOA/NS RRset deletes are ignored
      }
    } else {  // kNONE: delete one RR
      if (rr.type == kSOA) continue;  // §3.4.2.4
      RRset* s = find_set(n, rr.type);
      if (!s) continue;  // §3.4.2: deleting an absent RR is a no-op
      auto it = std::find_if(s->rdatas.begin(), s->rdatas.end(),
                             [&](const wire::Bytes& b) { return same_rdata(rr.type, b, rr.rdata); });
      if (it == s->rdatas.end()) continue;
      if (apex && rr.type == kNS && s->rdatas.size() == 1) continue;  // §3.4.2.4: keep the last NS
      s->rdatas.erase(it);
      if (s->rdatas.empty()) erase_set(n, rr.type);
    }
  }
  return {};
}

// §3.4.2.2: add one RR to the owner's working copy `n`.
Outcome Batch::add(Node& n, const wire::RR& rr, bool apex, bool& soa_changed) const {
  if (rr.type == kSOA) {
    // Only at the apex, only with a newer serial; replaces.
    RRset* s = apex ? find_set(n, kSOA) : nullptr;
    if (!s || s->rdatas.empty() || !zone::serial_gt(soa_serial(rr.rdata), soa_serial(s->rdatas[0]))) {
      return {};
    }
    s->rdatas.assign(1, rr.rdata);
    s->ttl = rr.ttl;
    soa_changed = true;
    return {};
  }
  // CNAME and other data exclude each other; the update RR that would
  // break that is ignored (BIND and Knot do the same).
  const bool has_cname = find_set(n, kCNAME) != nullptr;
  const bool has_other = std::any_of(n.begin(), n.end(),
                                     [](const RRset& s) { return !cname_compatible(s.type); });
  if (rr.type == kCNAME ? has_other : (has_cname && !cname_compatible(rr.type))) return {};
  RRset* s = find_set(n, rr.type);
  if (s && (rr.type == kCNAME || rr.type == kDNAME)) {
    // Singletons (RFC 1034 §3.6.2, RFC 6672 §2.4): the new one replaces.
    if (!same_rdata(rr.type, s->rdatas[0], rr.rdata)) s->rdatas.assign(1, rr.rdata);
    s->ttl = rr.ttl;
    return {};
  }
  if (!s) s = &make_set(n, rr.type, rr.ttl);
  const bool dup = std::any_of(s->rdatas.begin(), s->rdatas.end(),
                               [&](const wire::Bytes& b) { return same_rdata(rr.type, b, rr.rdata); });
  if (!dup) {
    const size_t limit = options_.max_records_per_type ? options_.max_records_per_type : 0xFFFF;
    if (s->rdatas.size() >= limit) {
      return fail(Rcode::Refused, "too many records in RRset: " + rr_text(rr));
    }
    s->rdatas.push_back(rr.rdata);
  }
  // A duplicate replaces the zone RR (§3.4.2.2), i.e. its TTL; an RRset
  // has one TTL (RFC 2181 §5.2), so the whole RRset takes the TTL of
  // the last RR added. BIND does the same (its update.c adjusts the
  // TTL of every RR of the set); Knot 3.2 does it for a new RR but
  // ignores a duplicate whose TTL differs (checked with nsupdate).
  // The stored rdata of a duplicate is kept (its name case, if any).
  s->ttl = rr.ttl;
  return {};
}

Batch::Node& Batch::touch(NodeMap& work, const wire::Name& owner) const {
  auto it = work.find(owner);
  if (it != work.end()) return it->second;
  Node scratch;
  Node copy = *lookup(NodeMap(), owner, scratch);
  return work.emplace(owner.lowercased(), std::move(copy)).first->second;
}

// The exact difference between the state before this message and `work`
// (SOA left out: commit() puts it first in each list).
zone::ChangeSet Batch::diff(const NodeMap& work) const {
  const NodeMap none;
  Node scratch;
  std::vector<const wire::Name*> owners;
  owners.reserve(work.size());
  for (const auto& [name, n] : work) owners.push_back(&name);
  std::sort(owners.begin(), owners.end(),
            [](const wire::Name* a, const wire::Name* b) { return a->canonical_less(*b); });
  zone::ChangeSet cs;
  for (const wire::Name* owner : owners) {
    const Node& after = work.at(*owner);
    const Node& before = *lookup(none, *owner, scratch);
    std::vector<uint16_t> types;
    for (const auto& s : before) types.push_back(s.type);
    for (const auto& s : after) types.push_back(s.type);
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    for (uint16_t t : types) {
      if (t == kSOA) continue;
      const RRset* b = find_set(before, t);
      const RRset* a = find_set(after, t);
      const bool same_ttl = a && b && a->ttl == b->ttl;
      if (b) {
        for (const auto& rd : b->rdatas) {
          if (!same_ttl || !contains_exact(a->rdatas, rd)) cs.removed.push_back(make_rr(*owner, t, b->ttl, rd));
        }
      }
      if (a) {
        for (const auto& rd : a->rdatas) {
          if (!same_ttl || !contains_exact(b->rdatas, rd)) cs.added.push_back(make_rr(*owner, t, a->ttl, rd));
        }
      }
    }
  }
  return cs;
}

// §3.6: the serial moves forward (unless the update set a newer SOA
// itself: BIND then keeps the client's serial), and the change joins the
// batch's pending state.
Outcome Batch::commit(NodeMap& work, bool soa_changed) {
  const wire::Name& origin = base_->origin();
  Outcome out;
  zone::ChangeSet& cs = out.changes;
  cs = diff(work);
  if (cs.empty() && !soa_changed) return out;  // §3.6: nothing changed, no serial bump
  Node apex_scratch;
  const Node& apex_before = *lookup(NodeMap(), origin, apex_scratch);
  const RRset* old_soa = find_set(apex_before, kSOA);
  Node& apex_after = touch(work, origin);
  RRset* new_soa = find_set(apex_after, kSOA);
  if (!old_soa || !new_soa || old_soa->rdatas.empty() || new_soa->rdatas.empty()) {
    return fail(Rcode::ServFail, "zone has no SOA");
  }
  if (!soa_changed) {
    set_soa_serial(new_soa->rdatas[0], zone::next_serial(serial_, options_.serial_policy, options_.now));
  }
  const wire::Name apex_name = origin.lowercased();
  cs.removed.insert(cs.removed.begin(), make_rr(apex_name, kSOA, old_soa->ttl, old_soa->rdatas[0]));
  cs.added.insert(cs.added.begin(), make_rr(apex_name, kSOA, new_soa->ttl, new_soa->rdatas[0]));
  cs.origin = origin;
  cs.serial_from = serial_;
  cs.serial_to = soa_serial(new_soa->rdatas[0]);
  for (auto& [name, n] : work) pending_[name] = std::move(n);
  serial_ = cs.serial_to;
  changes_.push_back(cs);
  return out;
}

Result<std::shared_ptr<const zone::Zone>> Batch::snapshot() const {
  if (changes_.empty()) return base_;
  return zone::apply(*base_, std::span<const zone::ChangeSet>(changes_));
}

Outcome process(std::shared_ptr<const zone::Zone> zone, const wire::Message& msg,
                const AllowedFn& allowed, const Options& options) {
  Batch b(std::move(zone), options);
  return b.process(msg, allowed);
}

}  // namespace ddns::update
