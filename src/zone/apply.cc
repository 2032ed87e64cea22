// ChangeSet application: touched owners are materialised, changed in order,
// and the snapshot is rebuilt from the untouched nodes plus those owners.
//
// Measured (RelWithDebInfo -O2, shared 2-core box under load, apply_test
// ApplyBench.*, one added record): 100k records 90-145 ms, 1M records
// 1.45-2.0 s - the same as Zone::build of that many records alone, which
// dominates; 10000 changesets in one batch on a 100k zone: ~75 ms. Linear
// in zone size: a later step can share unchanged arenas between snapshots.
#include "zone/apply.h"

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace ddns::zone {
namespace {

struct Rec {
  uint16_t type;
  uint32_t ttl;
  wire::Bytes rdata;
};

struct Owner {
  wire::Name name;           // lowercased
  NodeId base = kNoNode;     // node in the base snapshot, if any
  std::vector<Rec> recs;
};

inline uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// Appends the records of a base node to `out` as Recs.
void load_node(const Zone& z, NodeId id, std::vector<Rec>& out) {
  const Zone::Node& n = z.node(id);
  for (size_t i = 0; i < n.rrset_count; ++i) {
    RRsetView v = z.rrset_at(id, i);
    const uint8_t* p = v.data;
    for (size_t k = 0; k < v.count; ++k) {
      const size_t rl = get16(p);
      out.push_back(Rec{v.type, v.ttl, wire::Bytes(p + 2, p + 2 + rl)});
      p += 2 + rl;
    }
  }
}

std::string describe(const wire::RR& rr) {
  return rr.owner.to_text() + " " + wire::type_to_text(rr.type) + " " +
         wire::rdata_to_text(rr.type, rr.rdata);
}

}  // namespace

Result<std::shared_ptr<const Zone>> apply(const Zone& base, const ChangeSet& cs) {
  return apply(base, std::span<const ChangeSet>(&cs, 1));
}

Result<std::shared_ptr<const Zone>> apply(const Zone& base, std::span<const ChangeSet> batch) {
  std::unordered_map<wire::Name, size_t, wire::NameHash> index;
  std::vector<Owner> owners;
  size_t added_total = 0;

  auto owner_of = [&](const wire::Name& name) -> Owner& {
    auto [it, fresh] = index.try_emplace(name, owners.size());
    if (fresh) {
      Owner o;
      o.name = name.lowercased();
      const auto w = o.name.wire();
      o.base = base.find(w.data(), w.size());
      if (o.base != kNoNode) load_node(base, o.base, o.recs);
      owners.push_back(std::move(o));
    }
    return owners[it->second];
  };

  for (size_t c = 0; c < batch.size(); ++c) {
    const ChangeSet& cs = batch[c];
    if (cs.empty()) continue;
    if (cs.origin != base.origin()) {
      return make_error("changeset " + std::to_string(c) + " is for zone " + cs.origin.to_text() +
                        ", not " + base.origin().to_text());
    }
    for (const wire::RR& rr : cs.removed) {
      if (!rr.owner.is_subdomain_of(base.origin())) {
        return make_error("removed record outside the zone: " + describe(rr));
      }
      Owner& o = owner_of(rr.owner);
      auto it = o.recs.begin();
      for (; it != o.recs.end(); ++it) {
        if (it->type == rr.type && it->rdata == rr.rdata) break;
      }
      if (it == o.recs.end()) return make_error("removed record not in the zone: " + describe(rr));
      o.recs.erase(it);
    }
    for (const wire::RR& rr : cs.added) {
      if (!rr.owner.is_subdomain_of(base.origin())) {
        return make_error("added record outside the zone: " + describe(rr));
      }
      Owner& o = owner_of(rr.owner);
      for (const Rec& r : o.recs) {
        if (r.type == rr.type && r.rdata == rr.rdata) {
          return make_error("added record already in the zone: " + describe(rr));
        }
      }
      o.recs.push_back(Rec{rr.type, rr.ttl, rr.rdata});
      ++added_total;
    }
  }

  // Copy out every untouched node as it is, then the touched owners.
  std::vector<bool> touched(base.node_count(), false);
  for (const Owner& o : owners) {
    if (o.base != kNoNode) touched[o.base] = true;
  }
  std::vector<wire::RR> records;
  records.reserve(base.record_count() + added_total);
  for (NodeId id = 0; id < base.node_count(); ++id) {
    const Zone::Node& n = base.node(id);
    if (n.rrset_count == 0 || touched[id]) continue;
    const auto nw = base.node_name(id);
    const wire::Name name = wire::Name::from_checked_wire(nw.data(), nw.size());
    for (size_t i = 0; i < n.rrset_count; ++i) {
      RRsetView v = base.rrset_at(id, i);
      const uint8_t* p = v.data;
      for (size_t k = 0; k < v.count; ++k) {
        const size_t rl = get16(p);
        wire::RR& rr = records.emplace_back();
        rr.owner = name;
        rr.type = v.type;
        rr.ttl = v.ttl;
        rr.rdata.assign(p + 2, p + 2 + rl);
        p += 2 + rl;
      }
    }
  }
  for (Owner& o : owners) {
    for (Rec& r : o.recs) {
      wire::RR& rr = records.emplace_back();
      rr.owner = o.name;
      rr.type = r.type;
      rr.ttl = r.ttl;
      rr.rdata = std::move(r.rdata);
    }
  }
  return Zone::build(base.origin(), std::move(records));
}

}  // namespace ddns::zone
