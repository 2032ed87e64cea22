// libFuzzer target for Name: any text either fails cleanly or yields a name
// whose printed form parses back to the identical wire bytes, again and
// again; wire form, hash, compare and hierarchy helpers stay consistent.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "wire/name.h"

using ddns::wire::Name;

namespace {

void check(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "name_from_text: %s\n", why);
    std::abort();
  }
}

bool same_bytes(const Name& a, const Name& b) {
  auto x = a.wire(), y = b.wire();
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first octet picks an origin, so relative names and "@" are covered.
  if (size == 0) return 0;
  static const Name kOrigin = *Name::from_text("Example.TEST.");
  const Name* origin = (data[0] & 1) ? &kOrigin : nullptr;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  auto n = Name::from_text(text, origin);
  if (!n) return 0;
  check(n->wire_size() >= 1 && n->wire_size() <= 255, "wire size out of range");

  std::string printed = n->to_text();
  auto again = Name::from_text(printed);
  check(again.ok(), "printed name does not parse");
  check(same_bytes(*n, *again), "text round trip changed the wire bytes");
  check(again->to_text() == printed, "printing is not stable");

  auto from_wire = Name::from_wire(n->wire());
  check(from_wire.ok() && same_bytes(*from_wire, *n), "from_wire rejects our own wire");

  Name lower = n->lowercased();
  check(lower == *n && lower.hash() == n->hash(), "case folding breaks == or hash");
  check(n->canonical_compare(lower) == 0, "canonical compare is case-sensitive");
  check(n->is_subdomain_of(n->parent()), "not below its parent");
  check(n->suffix(n->label_count()) == *n, "full suffix differs");
  if (!n->is_root()) {
    check(n->parent().label_count() + 1 == n->label_count(), "parent label count");
    check(n->canonical_compare(n->parent()) > 0, "parent does not sort first");
  }
  auto wc = n->wildcard_child();
  if (wc) check(wc->is_wildcard() && wc->is_subdomain_of(*n), "wildcard child");
  return 0;
}
