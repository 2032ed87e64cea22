// Backend-independent parts of the store: journal replay (apply_changes),
// the journal's record codec, and load_zone() on top of load_base().
#include "store/store.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/bytes.h"
#include "zone/serial.h"
#include "wire/rdata.h"
#include "wire/rrtype.h"

namespace ddns::store {

namespace {

// Identity of a record for IXFR set semantics: lowercased owner, type,
// class and canonical rdata (RFC 4034 §6.2), not TTL.
std::string rrset_key(const wire::RR& rr) {
  std::string k;
  wire::Name lo = rr.owner.lowercased();
  k.reserve(lo.wire_size() + 4 + rr.rdata.size());
  k.append(reinterpret_cast<const char*>(lo.wire().data()), lo.wire_size());
  k.push_back(char(rr.type >> 8));
  k.push_back(char(rr.type));
  k.push_back(char(rr.rclass >> 8));
  k.push_back(char(rr.rclass));
  return k;
}

std::string record_key(const wire::RR& rr) {
  std::string k = rrset_key(rr);
  wire::Bytes rd = wire::rdata_canonical(rr.type, rr.rdata);
  k.append(reinterpret_cast<const char*>(rd.data()), rd.size());
  return k;
}

constexpr uint8_t kCodecVersion = 1;

void put_records(std::vector<uint8_t>& out, const std::vector<wire::RR>& rrs) {
  size_t need = 4;
  for (const auto& rr : rrs) need += 1 + rr.owner.wire_size() + 10 + rr.rdata.size();
  size_t at = out.size();
  out.resize(at + need);
  ByteWriter w(out.data() + at, need);
  w.u32(uint32_t(rrs.size()));
  for (const auto& rr : rrs) {
    w.u8(uint8_t(rr.owner.wire_size()));
    w.bytes(rr.owner.wire());
    w.u16(rr.type);
    w.u16(rr.rclass);
    w.u32(rr.ttl);
    w.u16(uint16_t(rr.rdata.size()));
    w.bytes(rr.rdata.data(), rr.rdata.size());
  }
}

Result<void> get_records(ByteReader& r, std::vector<wire::RR>& out, const char* what) {
  uint32_t n = r.u32();
  // Each record takes at least 12 octets: a count beyond that is corrupt,
  // and checking first keeps a bad count from reserving gigabytes.
  if (!r.ok() || n > r.remaining() / 12)
    return make_error(std::string("journal entry: ") + what + ": bad record count");
  out.clear();
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t len = r.u8();
    auto owner_wire = r.bytes(len);
    if (!r.ok()) return make_error(std::string("journal entry: ") + what + ": truncated");
    auto owner = wire::Name::from_wire(owner_wire);
    if (!owner) return make_error(std::string("journal entry: ") + what + ": " + owner.error().message);
    wire::RR rr;
    rr.owner = std::move(owner.value());
    rr.type = r.u16();
    rr.rclass = r.u16();
    rr.ttl = r.u32();
    uint16_t rdlen = r.u16();
    auto rd = r.bytes(rdlen);
    if (!r.ok()) return make_error(std::string("journal entry: ") + what + ": truncated");
    rr.rdata.assign(rd.begin(), rd.end());
    out.push_back(std::move(rr));
  }
  return {};
}

}  // namespace

std::vector<uint8_t> encode_changes(const zone::ChangeSet& cs) {
  std::vector<uint8_t> out;
  out.push_back(kCodecVersion);
  put_records(out, cs.removed);
  put_records(out, cs.added);
  return out;
}

Result<void> decode_changes(std::span<const uint8_t> data, zone::ChangeSet& cs) {
  ByteReader r(data);
  uint8_t v = r.u8();
  if (!r.ok() || v != kCodecVersion)
    return make_error("journal entry: unknown encoding version " + std::to_string(v));
  if (auto e = get_records(r, cs.removed, "removed"); !e) return e;
  if (auto e = get_records(r, cs.added, "added"); !e) return e;
  if (r.remaining() != 0) return make_error("journal entry: trailing bytes");
  return {};
}

Result<uint32_t> apply_changes(std::vector<wire::RR>& records, uint32_t serial,
                               std::span<const zone::ChangeSet> changes) {
  if (changes.empty()) return serial;
  // Only records in RRsets the changes touch are indexed (a cheap
  // case-insensitive owner hash + type filters the rest), then removals
  // are tombstoned and additions appended, so replaying a long journal
  // over a large zone is one pass over the zone.
  auto rrset_hash = [](const wire::RR& rr) {
    return uint64_t(rr.owner.hash()) * 0x9E3779B97F4A7C15ull + rr.type;
  };
  std::unordered_set<uint64_t> touched;
  for (const auto& cs : changes) {
    for (const auto& rr : cs.removed) touched.insert(rrset_hash(rr));
    for (const auto& rr : cs.added) touched.insert(rrset_hash(rr));
  }
  std::unordered_map<std::string, size_t> index;
  std::vector<bool> alive(records.size(), true);
  for (size_t i = 0; i < records.size(); ++i) {
    if (!touched.count(rrset_hash(records[i]))) continue;
    auto [it, fresh] = index.try_emplace(record_key(records[i]), i);
    if (!fresh) {  // a duplicate in the input: keep one (the last TTL wins)
      records[it->second].ttl = records[i].ttl;
      alive[i] = false;
    }
  }
  // RRsets that received records, with the TTL of the latest addition:
  // an added record sets its whole RRset's TTL (RFC 2181 §5.2), as
  // zone::apply() does, so replay builds the same snapshot.
  std::unordered_map<std::string, uint32_t> rrset_ttl;
  for (const auto& cs : changes) {
    if (cs.serial_from != serial)
      return make_error(cs.origin.to_text() + ": changeset from serial " +
                        std::to_string(cs.serial_from) + " does not follow serial " +
                        std::to_string(serial));
    for (const auto& rr : cs.removed) {
      auto it = index.find(record_key(rr));
      if (it == index.end())
        return make_error(cs.origin.to_text() + ": changeset " + std::to_string(cs.serial_from) +
                          " -> " + std::to_string(cs.serial_to) + " removes " +
                          rr.owner.to_text() + " " + wire::type_to_text(rr.type) +
                          " which is not present");
      alive[it->second] = false;
      index.erase(it);
    }
    for (const auto& rr : cs.added) {
      rrset_ttl[rrset_key(rr)] = rr.ttl;
      auto [it, fresh] = index.try_emplace(record_key(rr), records.size());
      if (!fresh)
        return make_error(cs.origin.to_text() + ": changeset " + std::to_string(cs.serial_from) +
                          " -> " + std::to_string(cs.serial_to) + " adds " + rr.owner.to_text() +
                          " " + wire::type_to_text(rr.type) + " which is already present");
      records.push_back(rr);
      alive.push_back(true);
    }
    serial = cs.serial_to;
  }
  size_t out = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!alive[i]) continue;
    if (!rrset_ttl.empty() && touched.count(rrset_hash(records[i]))) {
      auto t = rrset_ttl.find(rrset_key(records[i]));
      if (t != rrset_ttl.end()) records[i].ttl = t->second;
    }
    if (out != i) records[out] = std::move(records[i]);
    ++out;
  }
  records.resize(out);
  return serial;
}

Result<ZoneData> Store::load_zone(const wire::Name& origin) {
  std::vector<zone::ChangeSet> journal;
  auto base = load_base(origin, &journal);
  if (!base) return base;
  auto serial = apply_changes(base->records, base->serial, journal);
  if (!serial) return serial.error();
  base->serial = *serial;
  return base;
}

}  // namespace ddns::store
