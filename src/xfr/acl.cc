// Zone transfer ACL parsing and matching.
#include "xfr/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ddns::xfr {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses "ADDR" or "ADDR/LEN"; false when it is not an address.
bool parse_prefix(std::string_view text, AclEntry& e, std::string* err) {
  std::string addr(text);
  int len = -1;
  if (auto slash = addr.find('/'); slash != std::string::npos) {
    std::string l = addr.substr(slash + 1);
    addr.resize(slash);
    if (l.empty() || l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos) {
      *err = "bad prefix length '" + l + "'";
      return false;
    }
    len = std::stoi(l);
  }
  in_addr a4{};
  in6_addr a6{};
  if (::inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    e.family = 4;
    std::memcpy(e.addr.data(), &a4, 4);
    if (len > 32) {
      *err = "prefix length over 32";
      return false;
    }
    e.prefix_len = uint8_t(len < 0 ? 32 : len);
    return true;
  }
  if (::inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    e.family = 6;
    std::memcpy(e.addr.data(), &a6, 16);
    if (len > 128) {
      *err = "prefix length over 128";
      return false;
    }
    e.prefix_len = uint8_t(len < 0 ? 128 : len);
    return true;
  }
  if (len >= 0) *err = "bad address '" + addr + "'";
  return false;
}

bool prefix_match(const uint8_t* net, const uint8_t* addr, unsigned bits) {
  unsigned full = bits / 8, rest = bits % 8;
  if (std::memcmp(net, addr, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xFF << (8 - rest));
  return (net[full] & mask) == (addr[full] & mask);
}

Result<wire::Name> key_name(std::string_view text) {
  std::string t(text);
  if (t.empty()) return make_error("missing key name");
  if (t.back() != '.') t += '.';
  auto n = wire::Name::from_text(t);
  if (!n) return make_error("bad key name '" + std::string(text) + "': " + n.error().message);
  return n->lowercased();
}

}  // namespace

Result<AclEntry> AclEntry::parse(std::string_view text) {
  std::string_view s = trim(text);
  AclEntry e;
  std::string err;
  if (s.empty()) return make_error("empty allow-transfer entry");
  if (s == "any") return e;
  if (s == "key") return make_error("'key' needs a key name");
  // "key NAME"
  if (s.size() > 4 && s.substr(0, 4) == "key " ) {
    auto k = key_name(trim(s.substr(4)));
    if (!k) return k.error();
    e.key = *k;
    return e;
  }
  std::string_view first = s, rest;
  if (auto sp = s.find_first_of(" \t"); sp != std::string_view::npos) {
    first = s.substr(0, sp);
    rest = trim(s.substr(sp));
  }
  if (first != "any" && !parse_prefix(first, e, &err)) {
    if (!err.empty()) return make_error("'" + std::string(s) + "': " + err);
    if (!rest.empty()) return make_error("'" + std::string(s) + "': not an address");
    // A bare word: a key name (the ZONE=KEYNAME flag form).
    auto k = key_name(first);
    if (!k) return make_error("'" + std::string(s) + "': not an address or key name");
    e.key = *k;
    return e;
  }
  if (!rest.empty()) {
    if (rest.size() <= 4 || rest.substr(0, 4) != "key ")
      return make_error("'" + std::string(s) + "': expected 'key NAME' after the address");
    auto k = key_name(trim(rest.substr(4)));
    if (!k) return k.error();
    e.key = *k;
  }
  return e;
}

std::string AclEntry::to_text() const {
  std::string out;
  if (family == 0) {
    out = key ? "" : "any";
  } else {
    char buf[INET6_ADDRSTRLEN] = {0};
    ::inet_ntop(family == 4 ? AF_INET : AF_INET6, addr.data(), buf, sizeof buf);
    out = std::string(buf) + "/" + std::to_string(prefix_len);
  }
  if (key) out += (out.empty() ? "key " : " key ") + key->to_text();
  return out;
}

Result<Acl> Acl::parse(std::span<const std::string> entries) {
  Acl acl;
  for (const auto& s : entries) {
    auto e = AclEntry::parse(s);
    if (!e) return e.error();
    acl.entries_.push_back(std::move(*e));
  }
  return acl;
}

bool Acl::allows(const sockaddr* source, const wire::Name* key) const {
  uint8_t fam = 0;
  uint8_t a[16] = {0};
  if (source && source->sa_family == AF_INET) {
    fam = 4;
    std::memcpy(a, &reinterpret_cast<const sockaddr_in*>(source)->sin_addr, 4);
  } else if (source && source->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(source);
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      fam = 4;
      std::memcpy(a, reinterpret_cast<const uint8_t*>(&s6->sin6_addr) + 12, 4);
    } else {
      fam = 6;
      std::memcpy(a, &s6->sin6_addr, 16);
    }
  }
  for (const auto& e : entries_) {
    if (e.family != 0 && (e.family != fam || !prefix_match(e.addr.data(), a, e.prefix_len)))
      continue;
    if (e.key && (!key || !(*key == *e.key))) continue;
    return true;
  }
  return false;
}

}  // namespace ddns::xfr
