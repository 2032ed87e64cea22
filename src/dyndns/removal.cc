// The DNS side of deleting a DynDNS host (see removal.h).
#include "dyndns/removal.h"

#include <string>

#include "wire/rrtype.h"

namespace ddns::dyndns {

Result<update::EditRequest> host_removal(std::string_view host) {
  auto owner = wire::Name::from_text(std::string(host) + ".");
  if (!owner) return make_error("host " + std::string(host) + ": " + owner.error().message);
  update::EditRequest req;
  for (wire::RRType t : {wire::RRType::A, wire::RRType::AAAA, wire::RRType::TXT}) {
    update::RRsetChange c;
    c.owner = *owner;
    c.type = uint16_t(t);
    req.changes.push_back(std::move(c));  // no rdatas: delete the RRset
  }
  // A host name one label short of the limit has no _acme-challenge name.
  if (auto acme = wire::Name::from_text("_acme-challenge." + std::string(host) + ".")) {
    update::RRsetChange c;
    c.owner = std::move(*acme);
    c.type = uint16_t(wire::RRType::TXT);
    req.changes.push_back(std::move(c));
  }
  return req;
}

}  // namespace ddns::dyndns
