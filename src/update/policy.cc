// Update-policy parsing and first-match evaluation.
#include "update/policy.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "wire/rrtype.h"

namespace ddns::update {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::vector<std::string_view> split_tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (std::isspace(static_cast<unsigned char>(line[i])) || line[i] == ',')) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j])) && line[j] != ',') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool type_matches(const PolicyRule& r, uint16_t type) {
  using wire::RRType;
  const bool dnssec = type == uint16_t(RRType::NSEC) || type == uint16_t(RRType::NSEC3);
  if (r.any_type) return !dnssec;
  if (r.types.empty()) {
    return !dnssec && type != uint16_t(RRType::RRSIG) && type != uint16_t(RRType::NS) &&
           type != uint16_t(RRType::SOA);
  }
  for (uint16_t t : r.types) {
    if (t == type) return true;
  }
  return false;
}

// RFC 4592 §3.3: "*.x" stands for names strictly below x.
bool wildcard_matches(const wire::Name& pattern, const wire::Name& name) {
  if (!pattern.is_wildcard()) return name == pattern;
  const wire::Name parent = pattern.parent();
  return name.label_count() > parent.label_count() && name.is_subdomain_of(parent);
}

}  // namespace

Address Address::v4(const uint8_t b[4]) {
  Address a;
  a.family = 4;
  std::memcpy(a.bytes.data(), b, 4);
  return a;
}

Address Address::v6(const uint8_t b[16]) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) return v4(b + 12);
  Address a;
  a.family = 6;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

std::optional<Address> Address::from_text(std::string_view text) {
  if (text.empty() || text.size() > 63) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  uint8_t b[16];
  if (inet_pton(AF_INET, buf, b) == 1) return v4(b);
  if (inet_pton(AF_INET6, buf, b) == 1) return v6(b);
  return std::nullopt;
}

std::optional<Prefix> Prefix::from_text(std::string_view text) {
  const size_t slash = text.find('/');
  auto a = Address::from_text(text.substr(0, slash));
  if (!a) return std::nullopt;
  Prefix p;
  p.addr = *a;
  const unsigned max = a->family == 4 ? 32 : 128;
  p.length = uint8_t(max);
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3) return std::nullopt;
    unsigned v = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + unsigned(c - '0');
    }
    // "::ffff:192.0.2.0/120" was mapped to IPv4: shift its length too.
    if (a->family == 4 && text.substr(0, slash).find(':') != std::string_view::npos) {
      if (v < 96) return std::nullopt;
      v -= 96;
    }
    if (v > max) return std::nullopt;
    p.length = uint8_t(v);
  }
  return p;
}

bool Prefix::contains(const Address& a) const {
  if (a.family != addr.family || a.family == 0) return false;
  const size_t full = length / 8;
  if (std::memcmp(a.bytes.data(), addr.bytes.data(), full) != 0) return false;
  const unsigned rest = length % 8;
  if (rest == 0) return true;
  const uint8_t mask = uint8_t(0xFF << (8 - rest));
  return (a.bytes[full] & mask) == (addr.bytes[full] & mask);
}

Result<Policy> Policy::parse(std::string_view text, const wire::Name& zone) {
  std::vector<PolicyRule> rules;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    // ';' separates rules on one line.
    size_t rp = 0;
    while (rp <= line.size()) {
      size_t semi = line.find(';', rp);
      if (semi == std::string_view::npos) semi = line.size();
      const auto tok = split_tokens(line.substr(rp, semi - rp));
      rp = semi + 1;
      if (tok.empty()) continue;
      const std::string where = "update-policy line " + std::to_string(line_no) + ": ";
      auto err = [&](const std::string& what, std::string_view t) {
        return make_error(where + what + " '" + std::string(t) + "'");
      };
      PolicyRule r;
      size_t i = 0;
      if (iequals(tok[i], "grant")) r.grant = true;
      else if (iequals(tok[i], "deny")) r.grant = false;
      else return err("expected grant or deny, got", tok[i]);
      if (++i >= tok.size()) return make_error(where + "missing identity");
      if (tok[i] == "*") {
        r.identity = PolicyRule::Identity::AnyKey;
      } else if (iequals(tok[i], "any")) {
        r.identity = PolicyRule::Identity::Anyone;
      } else {
        const wire::Name root;
        auto k = wire::Name::from_text(tok[i], &root);
        if (!k.ok()) return err("bad key name", tok[i]);
        r.identity = PolicyRule::Identity::Key;
        r.key = *k;
      }
      if (++i >= tok.size()) return make_error(where + "missing match kind");
      const std::string_view m = tok[i++];
      bool needs_name = true;
      if (iequals(m, "name")) r.match = PolicyRule::Match::Name;
      else if (iequals(m, "subdomain")) r.match = PolicyRule::Match::Subdomain;
      else if (iequals(m, "wildcard")) r.match = PolicyRule::Match::Wildcard;
      else if (iequals(m, "self")) { r.match = PolicyRule::Match::Self; needs_name = false; }
      else if (iequals(m, "selfsub")) { r.match = PolicyRule::Match::SelfSub; needs_name = false; }
      else if (iequals(m, "zonesub")) { r.match = PolicyRule::Match::ZoneSub; needs_name = false; }
      else return err("unknown match kind", m);
      if ((r.match == PolicyRule::Match::Self || r.match == PolicyRule::Match::SelfSub) &&
          r.identity == PolicyRule::Identity::Anyone) {
        return make_error(where + "self/selfsub need a key identity");
      }
      if (needs_name) {
        if (i >= tok.size()) return make_error(where + "missing name");
        // Names are absolute, dot or not, as in named.conf; "@" is the zone.
        const wire::Name root;
        auto n = tok[i] == "@" ? Result<wire::Name>(zone) : wire::Name::from_text(tok[i], &root);
        if (!n.ok()) return err("bad name", tok[i]);
        if (r.match == PolicyRule::Match::Wildcard && !n->is_wildcard()) {
          return err("wildcard needs a name starting with '*.', got", tok[i]);
        }
        r.name = *n;
        ++i;
      } else if ((r.match == PolicyRule::Match::Self || r.match == PolicyRule::Match::SelfSub) &&
                 i < tok.size() && !wire::type_from_text(tok[i]) && !iequals(tok[i], "from")) {
        ++i;  // BIND's "grant * self * A": the name field is ignored
      }
      for (; i < tok.size(); ++i) {
        if (iequals(tok[i], "from")) break;
        if (iequals(tok[i], "ANY")) { r.any_type = true; continue; }
        auto t = wire::type_from_text(tok[i]);
        if (!t) return err("unknown type", tok[i]);
        r.types.push_back(*t);
      }
      if (i < tok.size()) {  // "from"
        if (++i >= tok.size()) return make_error(where + "'from' needs at least one prefix");
        for (; i < tok.size(); ++i) {
          auto p = Prefix::from_text(tok[i]);
          if (!p) return err("bad address prefix", tok[i]);
          r.sources.push_back(*p);
        }
      }
      rules.push_back(std::move(r));
    }
    if (eol == text.size()) break;
  }
  return Policy(zone, std::move(rules));
}

bool Policy::allowed(const wire::Name* key, const Address* source, const wire::Name& owner,
                     uint16_t type) const {
  for (const PolicyRule& r : rules_) {
    switch (r.identity) {
      case PolicyRule::Identity::Anyone: break;
      case PolicyRule::Identity::AnyKey:
        if (!key) continue;
        break;
      case PolicyRule::Identity::Key:
        if (!key || !wildcard_matches(r.key, *key)) continue;
        break;
    }
    if (!r.sources.empty()) {
      bool in = false;
      for (const Prefix& p : r.sources) {
        if (source && p.contains(*source)) { in = true; break; }
      }
      if (!in) continue;
    }
    bool name_ok = false;
    switch (r.match) {
      case PolicyRule::Match::Name: name_ok = owner == r.name; break;
      case PolicyRule::Match::Subdomain: name_ok = owner.is_subdomain_of(r.name); break;
      case PolicyRule::Match::Wildcard: name_ok = wildcard_matches(r.name, owner); break;
      case PolicyRule::Match::Self: name_ok = key && owner == *key; break;
      case PolicyRule::Match::SelfSub: name_ok = key && owner.is_subdomain_of(*key); break;
      case PolicyRule::Match::ZoneSub: name_ok = owner.is_subdomain_of(zone_); break;
    }
    if (!name_ok || !type_matches(r, type)) continue;
    return r.grant;
  }
  return false;
}

AllowedFn Policy::bind(std::optional<wire::Name> key, std::optional<Address> source) const {
  return [this, key = std::move(key), source](const wire::Name& owner, uint16_t type) {
    return allowed(key ? &*key : nullptr, source ? &*source : nullptr, owner, type);
  };
}

}  // namespace ddns::update
