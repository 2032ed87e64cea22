// ZoneWriter: the single writer of one zone's state, whatever the source
// (RFC 2136, DynDNS2, REST, ddnsctl, incoming AXFR/IXFR, file reload, the
// import at start). Network threads submit UPDATE packets (never blocking
// on I/O), parsed and TSIG-verified already by the dispatcher; the writer's
// own thread drains them in batches: TSIG (RFC 8945) for raw packets only,
// zone section and policy (RFC 2136 §3), Batch::process, then ONE durable
// store commit for the whole batch, then the new snapshot is published, and
// only then are the replies sent. Transfers and reloads enter as
// StateChanges and take the same store-then-publish path.
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

// How a zone state change (StateChange) ended.
enum class StateOutcome : uint8_t {
  Applied,      // durable and published (`serial` is the zone's serial now)
  Diverged,     // differences that do not fit the current copy (RFC 1995:
                // the copy diverged from the primary's, transfer it whole)
  Invalid,      // a replacement that is not a valid zone
  StoreFailed,  // the store refused or failed the write; nothing changed
  Stopped,      // the writer is stopping or its queue is full; nothing changed
};
const char* outcome_text(StateOutcome o);

struct StateResult {
  StateOutcome outcome = StateOutcome::Applied;
  uint32_t serial = 0;
  std::shared_ptr<const zone::Zone> zone;  // Applied: the published snapshot
  std::string reason;                      // otherwise: why, for the log
};

// A change of the zone's state that is not an UPDATE, through the same
// queue, store write and publish as one: a whole new copy (AXFR in, a file
// reload, the import at start: the journal restarts, IXFR clients then get
// a full transfer) or difference sequences (IXFR in, applied by the one
// rule of zone/apply.h). Processed alone, in queue order with UPDATEs.
struct StateChange {
  enum class Kind : uint8_t { Replace, Differences };
  Kind kind = Kind::Replace;
  // Replace: the new copy, already built (a file load), or its records.
  std::shared_ptr<const zone::Zone> snapshot;
  std::vector<wire::RR> records;
  // Differences: chained from the current serial.
  std::vector<zone::ChangeSet> changes;
  // Logged (info) once durable, before it is published, so a reader that
  // sees the new serial finds the line ("AXFR from 192.0.2.1:53 -> ...").
  std::string log;
  // Called once, on the writer thread. Must not block.
  std::function<void(const StateResult&)> done;
};

struct WriteRequest {
  std::vector<uint8_t> packet;
  // Set by a caller that parsed `packet` and verified its TSIG already (the
  // dispatcher, with the RFC 8945 §5.2.3 replay check): the writer uses
  // them instead of parsing and verifying again. `verified` is set exactly
  // when the message carried a TSIG.
  std::optional<wire::Message> message;
  std::optional<tsig::Verified> verified;
  std::optional<Address> source;  // client address (policy "from" rules)
  // Called on the writer thread with the response (never empty).
  std::function<void(std::span<const uint8_t>)> reply;
  size_t max_reply = 65535;  // the transport's limit (UDP: client's size)
  // Set instead of `packet` for a programmatic change (see submit_edit).
  std::shared_ptr<EditRequest> edit;
  // Set instead of `packet` for a zone state change (see change_state).
  std::shared_ptr<StateChange> state;
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
  // `store` must outlive the writer and hold the zone at initial->serial(),
  // unless the first change is a Replace (a secondary's placeholder, a zone
  // imported at start). A null `store` (no data directory: static zones
  // only) publishes without durability. The thread starts with the first
  // request.
  ZoneWriter(std::shared_ptr<const zone::Zone> initial, store::Store* store, WriterOptions opts,
             PublishFn publish);
  ~ZoneWriter();
  struct Pending;  // one request of a batch, until it is answered (writer.cc)
  ZoneWriter(const ZoneWriter&) = delete;
  ZoneWriter& operator=(const ZoneWriter&) = delete;

  // Queues a request (moved from); false when stopped or the queue is full,
  // and then `req` is left as it was (the caller still answers it).
  bool submit(WriteRequest&& req);
  // Queues a programmatic change; false when stopped or the queue is full
  // (`done` is then not called).
  bool submit_edit(EditRequest req);
  // Queues a zone state change; false when stopped or the queue is full
  // (`done` is then not called).
  bool submit_state(StateChange change);
  // submit_state() and wait for the result (Stopped when not queued).
  // REQUIRES: not called on the writer thread (from a `done` or publish).
  StateResult change_state(StateChange change);
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
  void process_state(StateChange& change);
  StateResult apply_state(StateChange& change);
  bool process_update(Pending& p, Batch& batch, uint64_t now);
  bool commit(const Batch& batch);
  void answer(Pending& p, bool failed, uint32_t serial, uint64_t now);
  void install(std::shared_ptr<const zone::Zone> next);

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
  std::thread thread_;  // guarded by mu_ (started by submit, taken by stop)
};

}  // namespace ddns::update
