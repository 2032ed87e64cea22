// dyndns::host_removal: exactly the RRsets DynDNS manages, deleted.
#include "dyndns/removal.h"

#include <gtest/gtest.h>

#include "wire/rrtype.h"

namespace ddns::dyndns {
namespace {

TEST(HostRemoval, HostRRsetsAndAcmeTxt) {
  auto r = host_removal("home.example.test");
  ASSERT_TRUE(r.ok());
  const auto host = *wire::Name::from_text("home.example.test.");
  const auto acme = *wire::Name::from_text("_acme-challenge.home.example.test.");
  std::vector<std::pair<wire::Name, uint16_t>> got;
  for (const auto& c : r->changes) {
    EXPECT_TRUE(c.rdatas.empty());  // a deletion
    got.emplace_back(c.owner, c.type);
  }
  std::vector<std::pair<wire::Name, uint16_t>> want = {
      {host, uint16_t(wire::RRType::A)},
      {host, uint16_t(wire::RRType::AAAA)},
      {host, uint16_t(wire::RRType::TXT)},
      {acme, uint16_t(wire::RRType::TXT)},
  };
  EXPECT_EQ(got, want);
  EXPECT_FALSE(r->done);
}

TEST(HostRemoval, BadNameIsAnError) {
  EXPECT_FALSE(host_removal(std::string(300, 'a')).ok());
  EXPECT_FALSE(host_removal("a..b").ok());
}

}  // namespace
}  // namespace ddns::dyndns
