// libFuzzer target: random messages into dispatch::Dispatcher with a key
// ring, transfer ACLs, NOTIFY primaries and a dynamic zone configured, so
// every route (plain query, signed query, UPDATE, NOTIFY, AXFR/IXFR) is
// reachable. Properties: never crash, never write past `cap`, and every
// answer written parses as a response.
#include <netinet/in.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dispatch/dispatch.h"
#include "zone/master.h"

namespace {

using namespace ddns;

constexpr const char* kZone = R"(
$ORIGIN example.test.
$TTL 3600
@ SOA ns1 hostmaster 7 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.80
*.wild TXT "wild"
alias CNAME www
)";

struct World {
  std::shared_ptr<const zone::ZoneSet> zones;
  tsig::KeyRing ring;
  tsig::ReplayCache replay;
  net::Published<xfr::AclMap> acls{std::make_shared<const xfr::AclMap>()};
  std::vector<xfr::PrimaryAddr> primaries;
  dispatch::Context ctx;
  alignas(8) unsigned char writer_token[8] = {};
};

uint64_t fixed_clock() { return 1'800'000'000; }

World& world() {
  static World* w = [] {
    auto* w = new World;
    auto origin = *wire::Name::from_text("example.test.");
    auto pr = zone::parse_master_text(kZone, "fuzz.zone", origin);
    if (!pr.ok()) std::abort();
    auto z = zone::Zone::build(origin, std::move(pr.records));
    if (!z.ok()) std::abort();
    w->zones = std::make_shared<const zone::ZoneSet>()->with(*z);
    std::vector<uint8_t> secret(32, 0x5A);
    w->ring.add(tsig::Key{*wire::Name::from_text("k.example.test."), tsig::Algorithm::HmacSha256,
                          secret});
    std::vector<std::string> acl = {"127.0.0.1", "key k.example.test."};
    xfr::AclMap map;
    map[origin] = *xfr::Acl::parse(acl);
    w->acls.publish(std::make_shared<const xfr::AclMap>(std::move(map)));
    auto p = xfr::parse_primary("127.0.0.1:53", w->ring);
    if (!p.ok()) std::abort();
    w->primaries.push_back(*p);
    w->ctx.ring = &w->ring;
    w->ctx.replay = &w->replay;
    w->ctx.clock = &fixed_clock;
    w->ctx.transfer_acls = &w->acls;
    // The writer is only handed on, never called: a token address will do.
    auto* token = reinterpret_cast<update::ZoneWriter*>(w->writer_token);
    w->ctx.writer = [token, origin](const wire::Name& n) { return n == origin ? token : nullptr; };
    w->ctx.notify_primaries = [w, origin](const wire::Name& n) {
      return n == origin ? &w->primaries : nullptr;
    };
    return w;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = world();
  // First octet: transport, source address, output capacity.
  const uint8_t ctl = data[0];
  static const size_t caps[] = {0, 11, 12, 40, 100, 512, 1232, 4096, 65535};
  const size_t cap = caps[(ctl >> 2) % (sizeof(caps) / sizeof(caps[0]))];
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl((ctl & 2) ? 0x7F000001 : 0xC0000201);
  std::vector<uint8_t> msg(data + 1, data + size);  // exactly sized: ASan sees over-reads
  std::vector<uint8_t> out(cap + 64, 0xA5);
  dispatch::Received rx{msg, (ctl & 1) ? net::Transport::Tcp : net::Transport::Udp,
                        reinterpret_cast<const sockaddr*>(&src), sizeof src};
  dispatch::Dispatcher d(w.ctx, ctl);
  dispatch::Outcome o = d.dispatch(*w.zones, rx, out.data(), cap);
  size_t n = 0;
  if (auto* a = std::get_if<dispatch::Answer>(&o)) n = a->size;
  if (auto* r = std::get_if<dispatch::NotifyReceived>(&o)) n = r->size;
  if (auto* t = std::get_if<dispatch::TransferOut>(&o)) {
    std::vector<uint8_t> buf(65535);
    for (int i = 0; i < 1000 && t->stream.source->next(buf.data(), buf.size()); ++i) {
    }
  }
  if (n > cap) std::abort();
  for (size_t i = cap; i < out.size(); ++i)
    if (out[i] != 0xA5) std::abort();
  if (n > 0) {
    auto m = wire::parse(std::span<const uint8_t>(out.data(), n));
    if (!m.ok() || !m->header.qr()) std::abort();
  }
  return 0;
}
