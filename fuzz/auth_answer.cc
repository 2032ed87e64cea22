// libFuzzer target: random query bytes into auth::answer() against a small
// zone with wildcards, CNAME loops, DNAME, delegations and a big RRset.
// Properties: never crash, never write past `cap`, and every reply parses.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "auth/answer.h"
#include "wire/message.h"
#include "zone/master.h"

namespace {

constexpr const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
@ NS ns2.example.org.
@ MX 10 mail
@ A 192.0.2.1
ns1 A 192.0.2.53
ns1 AAAA 2001:db8::53
mail A 192.0.2.25
www A 192.0.2.80
www A 192.0.2.81
*.wild A 192.0.2.99
*.wild TXT "wild"
x.y.ent A 192.0.2.7
*.ent A 192.0.2.8
*.cwild CNAME www
alias CNAME www
loop1 CNAME loop2
loop2 CNAME loop1
c1 CNAME c2
c2 CNAME c3
c3 CNAME c4
c4 CNAME c5
c5 CNAME c6
c6 CNAME c1
sub NS ns.sub
sub DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub A 192.0.2.54
dn DNAME target
a.target A 192.0.2.66
dnlong DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.example.test.
srv SRV 0 5 5060 www
big TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
big TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
big TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3"
big TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4"
)";

const ddns::zone::ZoneSet& zones() {
  static std::shared_ptr<const ddns::zone::ZoneSet> set = [] {
    auto origin = ddns::wire::Name::from_text("example.test.");
    auto pr = ddns::zone::parse_master_text(kZone, "fuzz.zone", *origin);
    if (!pr.ok()) std::abort();
    auto z = ddns::zone::Zone::build(*origin, std::move(pr.records));
    if (!z.ok()) std::abort();
    return std::make_shared<const ddns::zone::ZoneSet>()->with(*z);
  }();
  return *set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First octet: transport, round robin, and the output capacity.
  const uint8_t ctl = data[0];
  const auto transport = (ctl & 1) ? ddns::auth::Transport::Tcp : ddns::auth::Transport::Udp;
  static const size_t caps[] = {0, 11, 12, 40, 100, 512, 1232, 4096, 65535};
  const size_t cap = caps[(ctl >> 1) % (sizeof(caps) / sizeof(caps[0]))];
  ddns::auth::Options opt;
  opt.round_robin = ctl & 0x80;
  opt.max_udp_size = (ctl & 0x40) ? 512 : 1232;
  // The query in its own exactly sized heap block so ASan sees over-reads.
  std::vector<uint8_t> query(data + 1, data + size);
  std::vector<uint8_t> out(cap + 64, 0xA5);
  const size_t n = ddns::auth::answer(zones(), opt, query, transport, out.data(), cap, ctl);
  if (n > cap) std::abort();
  for (size_t i = cap; i < out.size(); ++i)
    if (out[i] != 0xA5) std::abort();
  if (n > 0) {
    auto m = ddns::wire::parse(std::span<const uint8_t>(out.data(), n));
    if (!m.ok()) std::abort();  // every reply we produce must be well formed
    if (!m->header.qr()) std::abort();
  }
  return 0;
}
