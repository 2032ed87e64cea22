// What deleting a DynDNS host removes from DNS: one definition for the REST
// API's delete and for the removals ddnsctl queues (drained by ddnsd).
#pragma once

#include <string_view>

#include "base/result.h"
#include "update/writer.h"

namespace ddns::dyndns {

// The edit (changes only; `done` is the caller's) that deletes what DynDNS
// manages for `host` (an FQDN without the trailing dot): its A, AAAA and
// TXT RRsets, and the TXT of _acme-challenge.`host` (the DNS-01 name
// Service::apply scopes to the host, RFC 8555 §8.4). Nothing else at the
// name is touched. An error for a host that is not a domain name.
Result<update::EditRequest> host_removal(std::string_view host);

}  // namespace ddns::dyndns
