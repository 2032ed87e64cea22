// Unit tests for Name: text escapes, limits, comparison, canonical order.
#include "wire/name.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

namespace ddns::wire {
namespace {

Name N(std::string_view s) {
  auto r = Name::from_text(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Name();
}

std::string hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::string err(std::string_view text, const Name* origin = nullptr) {
  auto r = Name::from_text(text, origin);
  return r.ok() ? std::string("OK") : r.error().message;
}

TEST(Name, RootAndSimple) {
  Name root;
  EXPECT_TRUE(root.is_root());
  EXPECT_EQ(root.to_text(), ".");
  EXPECT_EQ(root.label_count(), 0u);
  EXPECT_EQ(N(".").wire_size(), 1u);
  Name n = N("www.Example.TEST.");
  EXPECT_EQ(hex(n.wire()), "03777777074578616d706c650454455354" "00");
  EXPECT_EQ(n.to_text(), "www.Example.TEST.");
  EXPECT_EQ(n.label_count(), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(n.label(1).data()), n.label(1).size()),
            "Example");
}

TEST(Name, RelativeAndOrigin) {
  Name origin = N("example.test.");
  auto r = Name::from_text("www", &origin);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->to_text(), "www.example.test.");
  auto at = Name::from_text("@", &origin);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, origin);
  EXPECT_NE(err("www"), "OK");
  EXPECT_NE(err("@"), "OK");
  EXPECT_EQ(Name::from_text("a.b", &origin)->to_text(), "a.b.example.test.");
}

TEST(Name, Escapes) {
  // \. inside a label, \\ and \DDD.
  Name n = N("a\\.b.c\\\\d.\\065\\032x.");
  EXPECT_EQ(n.label_count(), 3u);
  EXPECT_EQ(hex(n.label(0)), "612e62");
  EXPECT_EQ(hex(n.label(1)), "635c64");
  EXPECT_EQ(hex(n.label(2)), "412078");
  EXPECT_EQ(n.to_text(), "a\\.b.c\\\\d.A\\032x.");
  Name special = N("\\(\\)\\;\\\"\\$\\@\\000\\255.");
  EXPECT_EQ(special.to_text(), "\\(\\)\\;\\\"\\$\\@\\000\\255.");
  EXPECT_EQ(N(special.to_text()), special);
  EXPECT_NE(err("a\\256."), "OK");
  EXPECT_NE(err("a\\12"), "OK");
  EXPECT_NE(err("a\\"), "OK");
}

TEST(Name, Limits) {
  std::string l63(63, 'a'), l64(64, 'a');
  EXPECT_EQ(err(l63 + "."), "OK");
  EXPECT_EQ(err(l64 + "."), "label longer than 63 octets");
  // 4 labels of 63 = 256 octets + root: too long; 3*64 + 62 + 1 = 255 fits.
  std::string ok = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b') + ".";
  EXPECT_EQ(err(ok), "OK");
  EXPECT_EQ(N(ok).wire_size(), 255u);
  std::string too = l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b') + ".";
  EXPECT_EQ(err(too), "name longer than 255 octets");
  Name origin = N(l63 + "." + l63 + "." + l63 + ".");
  EXPECT_EQ(err(std::string(62, 'c'), &origin), "name longer than 255 octets");
  EXPECT_EQ(err("a..b."), "empty label in name");
  EXPECT_EQ(err(".a."), "empty label in name");
  EXPECT_EQ(err(".."), "empty label in name");
  EXPECT_EQ(err(""), "empty name");
  EXPECT_FALSE(N(ok).wildcard_child().ok());
  EXPECT_FALSE(N(ok).concat(N("x.")).ok());
}

TEST(Name, FromWire) {
  const uint8_t good[] = {1, 'a', 0};
  EXPECT_TRUE(Name::from_wire(good).ok());
  const uint8_t bad_len[] = {64, 'a', 0};
  EXPECT_FALSE(Name::from_wire(bad_len).ok());
  const uint8_t no_root[] = {1, 'a'};
  EXPECT_FALSE(Name::from_wire(no_root).ok());
  const uint8_t trailing[] = {1, 'a', 0, 0};
  EXPECT_FALSE(Name::from_wire(trailing).ok());
  EXPECT_FALSE(Name::from_wire({}).ok());
}

TEST(Name, CaseInsensitiveEqualityAndHash) {
  Name a = N("WWW.Example.Test.");
  Name b = N("www.example.test.");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a, N("www.example.tesu."));
  // A long name (heap storage) behaves the same.
  std::string lbl(60, 'Q');
  Name c = N(lbl + "." + lbl + ".example.");
  std::string lower(60, 'q');
  Name d = N(lower + "." + lower + ".EXAMPLE.");
  EXPECT_EQ(c, d);
  EXPECT_EQ(c.hash(), d.hash());
  std::unordered_set<Name> set{a, c};
  EXPECT_TRUE(set.count(b));
  EXPECT_TRUE(set.count(d));
  EXPECT_EQ(a.lowercased().to_text(), "www.example.test.");
  // Bytes above 0x7f do not fold.
  EXPECT_NE(N("\\200.x."), N("\\160.x."));
}

TEST(Name, CopyMove) {
  std::string lbl(60, 'z');
  Name big = N(lbl + "." + lbl + "." + lbl + ".");
  Name small = N("a.b.");
  Name x = big;
  EXPECT_EQ(x, big);
  x = small;
  EXPECT_EQ(x, small);
  x = big;
  Name y = std::move(x);
  EXPECT_EQ(y, big);
  EXPECT_TRUE(x.is_root());
  y = N("c.");
  EXPECT_EQ(y.to_text(), "c.");
  std::vector<Name> v;
  for (int i = 0; i < 100; ++i) v.push_back(i % 2 ? big : small);
  EXPECT_EQ(v[99], big);
  Name z = big;
  z = N(lbl + "." + lbl + ".");  // shorter heap name reuses storage
  EXPECT_EQ(z.to_text(), lbl + "." + lbl + ".");
}

TEST(Name, Hierarchy) {
  Name n = N("a.b.example.test.");
  Name zone = N("Example.Test.");
  EXPECT_TRUE(n.is_subdomain_of(zone));
  EXPECT_TRUE(zone.is_subdomain_of(zone));
  EXPECT_TRUE(n.is_subdomain_of(Name()));
  EXPECT_FALSE(zone.is_subdomain_of(n));
  EXPECT_FALSE(N("xexample.test.").is_subdomain_of(zone));
  EXPECT_EQ(n.parent().to_text(), "b.example.test.");
  EXPECT_TRUE(Name().parent().is_root());
  EXPECT_EQ(n.suffix(2), zone);
  EXPECT_EQ(n.suffix(0), Name());
  EXPECT_EQ(n.suffix(9), n);
  Name rel = N("www.");
  EXPECT_EQ(rel.concat(zone)->to_text(), "www.Example.Test.");
  EXPECT_EQ(zone.wildcard_child()->to_text(), "*.Example.Test.");
  EXPECT_TRUE(zone.wildcard_child()->is_wildcard());
  EXPECT_FALSE(zone.is_wildcard());
  EXPECT_FALSE(N("\\*.x.").is_wildcard() == false);  // "\*" is still '*'
}

// RFC 4034 §6.1 example, in canonical order.
TEST(Name, CanonicalOrder) {
  std::vector<std::string> want = {
      "example.",         "a.example.",       "yljkjljk.a.example.", "Z.a.example.",
      "zABC.a.EXAMPLE.",  "z.example.",       "\\001.z.example.",    "*.z.example.",
      "\\200.z.example.",
  };
  std::vector<Name> names;
  for (auto it = want.rbegin(); it != want.rend(); ++it) names.push_back(N(*it));
  std::sort(names.begin(), names.end(),
            [](const Name& a, const Name& b) { return a.canonical_less(b); });
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(names[i].to_text(), N(want[i]).to_text());
  EXPECT_EQ(N("A.example.").canonical_compare(N("a.EXAMPLE.")), 0);
  EXPECT_LT(Name().canonical_compare(N("a.")), 0);
}

TEST(Name, ReadCompressed) {
  // 12-byte fake header, then "example.test." at 12, then "www" + ptr(12).
  std::vector<uint8_t> msg(12, 0);
  const uint8_t base[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0};
  msg.insert(msg.end(), base, base + sizeof base);
  size_t www_at = msg.size();
  const uint8_t www[] = {3, 'w', 'w', 'w', 0xC0, 12, 0xAA};
  msg.insert(msg.end(), www, www + sizeof www);
  ByteReader r(msg.data(), msg.size());
  r.seek(www_at);
  auto n = read_compressed_name(r);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->to_text(), "www.example.test.");
  EXPECT_EQ(r.pos(), www_at + 6);
  // Not allowed when compression is off.
  ByteReader r2(msg.data(), msg.size());
  r2.seek(www_at);
  EXPECT_FALSE(read_compressed_name(r2, false).ok());
  // Forward pointer and self loop.
  std::vector<uint8_t> loop(12, 0);
  loop.push_back(0xC0);
  loop.push_back(12);
  ByteReader r3(loop.data(), loop.size());
  r3.seek(12);
  EXPECT_FALSE(read_compressed_name(r3).ok());
  std::vector<uint8_t> fwd(12, 0);
  fwd.push_back(0xC0);
  fwd.push_back(14);
  fwd.push_back(0);
  ByteReader r4(fwd.data(), fwd.size());
  r4.seek(12);
  EXPECT_FALSE(read_compressed_name(r4).ok());
  // Truncated.
  const uint8_t trunc[] = {3, 'w', 'w'};
  ByteReader r5(trunc, sizeof trunc);
  EXPECT_FALSE(read_compressed_name(r5).ok());
  EXPECT_FALSE(r5.ok());
  // Over 255 octets through pointers: a chain of 63-octet labels.
  std::vector<uint8_t> big(12, 0);
  size_t prev = 0;
  for (int i = 0; i < 5; ++i) {
    size_t here = big.size();
    big.push_back(63);
    big.insert(big.end(), 63, 'a');
    if (i == 0) {
      big.push_back(0);
    } else {
      big.push_back(uint8_t(0xC0 | prev >> 8));
      big.push_back(uint8_t(prev));
    }
    prev = here;
  }
  ByteReader r6(big.data(), big.size());
  r6.seek(prev);
  auto longname = read_compressed_name(r6);
  ASSERT_FALSE(longname.ok());
  EXPECT_EQ(longname.error().message, "name longer than 255 octets");
}

TEST(Name, TextRoundTripAllOctets) {
  for (int c = 0; c < 256; ++c) {
    uint8_t w[] = {1, uint8_t(c), 0};
    Name n = *Name::from_wire(w);
    auto back = Name::from_text(n.to_text());
    ASSERT_TRUE(back.ok()) << c;
    EXPECT_EQ(hex(back->wire()), hex(n.wire())) << c;
  }
}

}  // namespace
}  // namespace ddns::wire
