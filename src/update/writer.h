// ZoneWriter: the single writer of one zone. Network threads submit raw
// UPDATE packets (never blocking on I/O); the writer's own thread drains
// them in batches: TSIG (RFC 8945), zone section and policy (RFC 2136 §3),
// Batch::process, then ONE durable store commit for the whole batch, then
// the new snapshot is published, and only then are the replies sent.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "store/store.h"
#include "tsig/tsig.h"
#include "update/policy.h"
#include "update/update.h"
#include "zone/zone.h"

namespace ddns::update {

// A programmatic change (DynDNS2, REST): whole RRsets replaced. It goes
// through the same batch, journal, group commit and publish as an RFC 2136
// UPDATE, in queue order with them.
struct RRsetChange {
  wire::Name owner;
  uint16_t type = 0;
  uint32_t ttl = 60;
  std::vector<wire::Bytes> rdatas;  // the new RRset (wire rdata); empty = delete the RRset
};

struct EditResult {
  // NoError; NotZone (owner outside the zone); Refused (would break the
  // zone: CNAME beside other data, apex SOA/NS); ServFail (store failed or
  // writer stopping).
  wire::Rcode rcode = wire::Rcode::NoError;
  bool changed = false;     // false: every RRset already held exactly this
  uint32_t serial = 0;      // the zone's serial once this is durable
  // Per change, the RRset's rdatas before this edit (empty = there was none).
  std::vector<std::vector<wire::Bytes>> previous;
  std::string reason;       // for a non-NoError rcode
};

struct EditRequest {
  std::vector<RRsetChange> changes;  // all or nothing
  // Called once, on the writer thread, after the change is durable and
  // published (or has failed). Must not block.
  std::function<void(const EditResult&)> done;
};

struct WriteRequest {
  std::vector<uint8_t> packet;
  std::optional<Address> source;  // client address (policy "from" rules)
  // Called on the writer thread with the response (never empty).
  std::function<void(std::span<const uint8_t>)> reply;
  size_t max_reply = 65535;  // the transport's limit (UDP: client's size)
  // Set instead of `packet` for a programmatic change (see submit_edit).
  std::shared_ptr<EditRequest> edit;
};

struct WriterOptions {
  std::shared_ptr<const tsig::KeyRing> ring;  // null = no keys
  std::shared_ptr<const Policy> policy;       // null = every UPDATE REFUSED
  zone::SerialPolicy serial_policy = zone::SerialPolicy::Increment;
  size_t max_batch = 512;    // requests per group commit
  size_t max_queue = 8192;   // submit() fails beyond this (caller answers SERVFAIL)
  // Clock for TSIG and the serial policies; null = the system clock.
  std::function<uint64_t()> clock;
};

// Receives each new snapshot after it is durable, before any reply.
using PublishFn = std::function<void(std::shared_ptr<const zone::Zone>)>;

class ZoneWriter {
 public:
  // `store` must outlive the writer and already hold the zone at
  // initial->serial(). Starts the thread.
  ZoneWriter(std::shared_ptr<const zone::Zone> initial, store::Store* store, WriterOptions opts,
             PublishFn publish);
  ~ZoneWriter();
  ZoneWriter(const ZoneWriter&) = delete;
  ZoneWriter& operator=(const ZoneWriter&) = delete;

  // Queues a request; false when stopped or the queue is full.
  bool submit(WriteRequest req);
  // Queues a programmatic change; false when stopped or the queue is full
  // (`done` is then not called).
  bool submit_edit(EditRequest req);
  // Finishes the queued requests, then joins the thread. Idempotent.
  void stop();

  const wire::Name& origin() const { return origin_; }
  std::shared_ptr<const zone::Zone> current() const;

  struct Stats {
    uint64_t requests = 0, committed = 0, batches = 0, store_failures = 0;
  };
  Stats stats() const;

 private:
  void run();
  void process_batch(std::vector<WriteRequest>& reqs);

  wire::Name origin_;
  store::Store* store_;
  WriterOptions opts_;
  PublishFn publish_;
  tsig::ReplayCache replay_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteRequest> queue_;
  bool stopping_ = false;
  std::shared_ptr<const zone::Zone> zone_;  // guarded by mu_ for readers
  Stats stats_;
  std::thread thread_;
};

// A minimal error answer for a packet that cannot be handled (header ID
// copied, the question/zone section echoed when readable); empty when the
// packet is shorter than a header. With `ring`, a signed request is
// verified and the answer signed (RFC 8945 §5.3; a TSIG error replaces
// `rcode`).
std::vector<uint8_t> error_reply(std::span<const uint8_t> packet, wire::Rcode rcode,
                                 const tsig::KeyRing* ring = nullptr, uint64_t now = 0);

}  // namespace ddns::update
