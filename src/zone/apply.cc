// ChangeSet application: touched owners are materialised from the base,
// changed in order and checked, and Zone::replace_owners makes the next
// snapshot copy-on-write, sharing every untouched node, table chunk and
// blob segment with the base (cost follows the change, not the zone).
#include "zone/apply.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "wire/rdata.h"

namespace ddns::zone {
namespace {

using Rec = detail::OwnerRecords::Rec;
using Owner = detail::OwnerRecords;

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

bool same_rdata(uint16_t type, std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (std::equal(a.begin(), a.end(), b.begin())) return true;
  return wire::rdata_canonical(type, a) == wire::rdata_canonical(type, b);
}

Result<std::shared_ptr<const Zone>> apply(const Zone& base, const ChangeSet& cs) {
  return apply(base, std::span<const ChangeSet>(&cs, 1));
}

Result<std::shared_ptr<const Zone>> apply(const Zone& base, std::span<const ChangeSet> batch) {
  std::unordered_map<wire::Name, size_t, wire::NameHash> index;
  std::vector<Owner> owners;

  auto owner_of = [&](const wire::Name& name) -> Owner& {
    auto [it, fresh] = index.try_emplace(name, owners.size());
    if (fresh) {
      Owner o;
      o.name = name.lowercased();
      const auto w = o.name.wire();
      const NodeId id = base.find(w.data(), w.size());
      if (id != kNoNode) load_node(base, id, o.recs);
      owners.push_back(std::move(o));
    }
    return owners[it->second];
  };

  uint32_t serial = base.serial();
  for (size_t c = 0; c < batch.size(); ++c) {
    const ChangeSet& cs = batch[c];
    if (cs.empty()) continue;
    if (cs.origin != base.origin()) {
      return make_error("changeset " + std::to_string(c) + " is for zone " + cs.origin.to_text() +
                        ", not " + base.origin().to_text());
    }
    if (cs.serial_from != serial) {
      return make_error("changeset " + std::to_string(cs.serial_from) + " -> " +
                        std::to_string(cs.serial_to) + " does not follow serial " +
                        std::to_string(serial));
    }
    serial = cs.serial_to;
    for (const wire::RR& rr : cs.removed) {
      if (!rr.owner.is_subdomain_of(base.origin())) {
        return make_error("removed record outside the zone: " + describe(rr));
      }
      Owner& o = owner_of(rr.owner);
      auto it = o.recs.begin();
      for (; it != o.recs.end(); ++it) {
        if (it->type == rr.type && same_rdata(rr.type, it->rdata, rr.rdata)) break;
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
        if (r.type == rr.type && same_rdata(rr.type, r.rdata, rr.rdata)) {
          return make_error("added record already in the zone: " + describe(rr));
        }
      }
      o.recs.push_back(Rec{rr.type, rr.ttl, rr.rdata});
    }
  }
  return Zone::replace_owners(base, owners);
}

}  // namespace ddns::zone
