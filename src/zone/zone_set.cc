// The set of served zones: longest-match lookup of the zone for a name by
// hashing its suffixes (one probe per label count).
#include "zone/arena.h"

namespace ddns::zone {

// ---------------------------------------------------------------- ZoneSet

void ZoneSet::index() {
  table_.assign(next_pow2(zones_.size() * 2 + 1), 0);
  max_labels_ = 0;
  const size_t mask = table_.size() - 1;
  for (size_t i = 0; i < zones_.size(); ++i) {
    auto w = zones_[i]->origin().wire();
    uint64_t h = name_hash(w.data(), w.size());
    size_t k = h & mask;
    while (table_[k] != 0) k = (k + 1) & mask;
    table_[k] = uint32_t(i + 1);
    max_labels_ = std::max<uint8_t>(max_labels_, uint8_t(zones_[i]->origin().label_count()));
  }
}

std::shared_ptr<const ZoneSet> ZoneSet::with(std::shared_ptr<const Zone> z) const {
  auto s = std::make_shared<ZoneSet>(*this);
  bool replaced = false;
  for (auto& old : s->zones_) {
    if (old->origin() == z->origin()) {
      old = z;
      replaced = true;
    }
  }
  if (!replaced) s->zones_.push_back(std::move(z));
  s->index();
  return s;
}

std::shared_ptr<const ZoneSet> ZoneSet::without(const wire::Name& origin) const {
  auto s = std::make_shared<ZoneSet>(*this);
  std::erase_if(s->zones_, [&](const auto& z) { return z->origin() == origin; });
  s->index();
  return s;
}

const Zone* ZoneSet::find(const LowerName& name, size_t from) const {
  if (zones_.empty()) return nullptr;
  if (zones_.size() <= 4) {
    // Few zones (the common case): compare each origin with the suffix of
    // the same label count; the longest match wins.
    const Zone* best = nullptr;
    size_t best_labels = 0;
    for (const auto& z : zones_) {
      const size_t zl = z->node(0).labels;
      if (zl > name.labels || name.labels - zl < from || (best && zl <= best_labels)) continue;
      auto ow = z->origin().wire();
      const size_t i = name.labels - zl;
      if (ow.size() == name.suffix_len(i) && same_bytes(ow.data(), name.suffix(i), ow.size())) {
        best = z.get();
        best_labels = zl;
      }
    }
    return best;
  }
  const size_t mask = table_.size() - 1;
  size_t i = from;
  if (name.labels > max_labels_ && size_t(name.labels - max_labels_) > i) i = name.labels - max_labels_;
  for (; i <= name.labels; ++i) {
    const uint8_t* s = name.suffix(i);
    const size_t sl = name.suffix_len(i);
    uint64_t h = name_hash(s, sl);
    for (size_t k = h & mask; table_[k] != 0; k = (k + 1) & mask) {
      const Zone* z = zones_[table_[k] - 1].get();
      auto ow = z->origin().wire();
      if (ow.size() == sl && same_bytes(ow.data(), s, sl)) return z;
    }
  }
  return nullptr;
}

const Zone* ZoneSet::find(const wire::Name& name) const {
  LowerName ln;
  ln.assign(name.wire().data(), name.wire_size());
  return find(ln, 0);
}

}  // namespace ddns::zone
