// ZoneWriter: per-zone writer thread with group commit (see writer.h).
#include "update/writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>

#include "metrics/metrics.h"
#include "wire/message.h"
#include "zone/apply.h"

namespace ddns::update {

// What the reply to one request needs once the batch is decided.
struct ZoneWriter::Pending {
  WriteRequest req;
  wire::Header hdr;
  std::optional<wire::Question> zone;
  bool has_edns = false;
  std::optional<tsig::Verified> verified;  // set when the request carried a TSIG
  wire::Rcode rcode = wire::Rcode::NoError;
  bool processed = false;  // went through Batch::process (depends on the commit)
  std::string why;         // for the log
  EditResult edit;         // for a programmatic change (req.edit set)
};

namespace {

using Pending = ZoneWriter::Pending;

const char* rcode_name(wire::Rcode r) {
  switch (r) {
    case wire::Rcode::NoError: return "NOERROR";
    case wire::Rcode::FormErr: return "FORMERR";
    case wire::Rcode::ServFail: return "SERVFAIL";
    case wire::Rcode::NXDomain: return "NXDOMAIN";
    case wire::Rcode::NotImp: return "NOTIMP";
    case wire::Rcode::Refused: return "REFUSED";
    case wire::Rcode::YXDomain: return "YXDOMAIN";
    case wire::Rcode::YXRRSet: return "YXRRSET";
    case wire::Rcode::NXRRSet: return "NXRRSET";
    case wire::Rcode::NotAuth: return "NOTAUTH";
    case wire::Rcode::NotZone: return "NOTZONE";
    default: return "RCODE?";
  }
}

std::string who(const Pending& p) {
  std::string s = p.verified && p.verified->key ? "key " + p.verified->key->name.to_text()
                                                : std::string("unsigned");
  if (p.req.source && p.req.source->family) {
    char buf[64] = {0};
    const auto& a = *p.req.source;
    if (a.family == 4)
      std::snprintf(buf, sizeof buf, " from %u.%u.%u.%u", a.bytes[0], a.bytes[1], a.bytes[2],
                    a.bytes[3]);
    else
      std::snprintf(buf, sizeof buf, " from IPv6");
    s += buf;
  }
  return s;
}

std::vector<uint8_t> build_reply(const Pending& p, uint64_t now) {
  size_t cap = std::clamp<size_t>(p.req.max_reply, wire::kMinUdpSize, 65535);
  const tsig::Verified* v =
      p.verified && p.verified->status != tsig::Status::FormErr ? &*p.verified : nullptr;
  size_t reserve = v ? tsig::tsig_size(*v) : 0;
  std::vector<uint8_t> buf(cap);
  size_t n = 0;
  {
    wire::MessageBuilder b(buf.data(), cap > reserve + wire::kHeaderSize ? cap - reserve : cap);
    wire::Header h;
    h.id = p.hdr.id;
    h.set_qr(true);
    h.set_opcode(wire::Opcode::Update);
    b.set_header(h);
    if (p.has_edns) b.set_edns(wire::Edns{});
    // RFC 2136 §3.8: the response echoes the zone section.
    if (p.zone) b.add_question(*p.zone);
    b.set_rcode(uint16_t(p.rcode));
    n = b.finish();
  }
  if (v) {
    // RFC 8945 §5.3: signed with the request's key (or the unsigned error TSIG).
    auto r = tsig::sign_response(buf.data(), n, buf.size(), *v, now);
    if (r) n = *r;
  }
  buf.resize(n);
  return buf;
}

uint64_t system_now() { return uint64_t(::time(nullptr)); }

// A programmatic change is processed as the UPDATE it stands for (RFC 2136
// §2.5.2 delete an RRset, §2.5.1 add to an RRset, per change), so every rule
// an UPDATE obeys (CNAME exclusivity, apex SOA/NS, record limits) holds.
void process_edit(const wire::Name& origin_, Batch& batch, Pending& p) {
  constexpr uint16_t kSOA = 6, kANY = 255;
  EditResult& er = p.edit;
  wire::Message m;
  m.header.set_opcode(wire::Opcode::Update);
  m.question.push_back(wire::Question{origin_, kSOA, 1});
  for (const RRsetChange& c : p.req.edit->changes) {
    std::vector<wire::Bytes> prev;
    for (const auto& set : batch.node(c.owner))
      if (set.type == c.type) prev = set.rdatas;
    er.previous.push_back(std::move(prev));
    m.authority.push_back(wire::RR{c.owner, c.type, kANY, 0, {}});
    for (const auto& rd : c.rdatas) m.authority.push_back(wire::RR{c.owner, c.type, 1, c.ttl, rd});
  }
  Outcome out = batch.process(m, [](const wire::Name&, uint16_t) { return true; });
  er.rcode = out.rcode;
  er.reason = out.reason;
  er.changed = out.rcode == wire::Rcode::NoError && !out.changes.empty();
  p.processed = out.rcode == wire::Rcode::NoError;
}


double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* outcome_text(StateOutcome o) {
  switch (o) {
    case StateOutcome::Applied: return "applied";
    case StateOutcome::Diverged: return "diverged";
    case StateOutcome::Invalid: return "invalid";
    case StateOutcome::StoreFailed: return "store failed";
    case StateOutcome::Stopped: return "writer stopped";
  }
  return "?";
}

ZoneWriter::ZoneWriter(std::shared_ptr<const zone::Zone> initial, store::Store* store,
                       WriterOptions opts, PublishFn publish)
    : origin_(initial->origin()),
      store_(store),
      opts_(std::move(opts)),
      publish_(std::move(publish)),
      zone_(std::move(initial)) {
  if (!opts_.clock) opts_.clock = system_now;
}

ZoneWriter::~ZoneWriter() { stop(); }

bool ZoneWriter::submit_edit(EditRequest req) {
  WriteRequest w;
  w.edit = std::make_shared<EditRequest>(std::move(req));
  return submit(std::move(w));
}

bool ZoneWriter::submit_state(StateChange change) {
  WriteRequest w;
  w.state = std::make_shared<StateChange>(std::move(change));
  return submit(std::move(w));
}

StateResult ZoneWriter::change_state(StateChange change) {
  auto result = std::make_shared<std::promise<StateResult>>();
  auto fut = result->get_future();
  auto outer = std::move(change.done);
  change.done = [result, outer](const StateResult& r) {
    if (outer) outer(r);
    result->set_value(r);
  };
  if (!submit_state(std::move(change))) {
    StateResult r;
    r.outcome = StateOutcome::Stopped;
    r.reason = "writer stopping or queue full";
    return r;
  }
  return fut.get();
}

bool ZoneWriter::submit(WriteRequest&& req) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= opts_.max_queue) return false;
    queue_.push_back(std::move(req));
    // Started by the first request: a static zone's writer, which only a
    // reload ever uses, costs no thread.
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_one();
  return true;
}

void ZoneWriter::stop() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    t = std::move(thread_);  // no submit() starts another one now
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

std::shared_ptr<const zone::Zone> ZoneWriter::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return zone_;
}

ZoneWriter::Stats ZoneWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void ZoneWriter::run() {
  std::vector<WriteRequest> batch;
  size_t last_batch = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // The clients answered by the last batch are sending their next
      // requests right now; without a short wait for them, N busy clients
      // settle into two half-size batches that alternate, each paying a
      // full sync. Waiting up to a fraction of a sync lets them merge.
      if (last_batch > 1 && queue_.size() < last_batch && !stopping_)
        cv_.wait_for(lock, std::chrono::microseconds(1500),
                     [&] { return stopping_ || queue_.size() >= last_batch; });
      if (queue_.empty()) return;  // stopping and drained
      // A state change is processed alone: a batch of UPDATEs is resolved
      // against one base, which a replacement or IXFR moves.
      size_t n = std::min(queue_.size(), std::max<size_t>(1, opts_.max_batch));
      for (size_t i = 0; i < n; i++) {
        if (queue_.front().state && !batch.empty()) break;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (batch.back().state) break;
      }
    }
    last_batch = batch.size();
    process_batch(batch);
    batch.clear();
  }
}

void ZoneWriter::install(std::shared_ptr<const zone::Zone> next) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    zone_ = next;
  }
  if (publish_) publish_(std::move(next));
}

// Valid, then durable, then published: a failed step leaves the old copy
// serving and the store as it was.
StateResult ZoneWriter::apply_state(StateChange& c) {
  StateResult r;
  auto fail = [&](StateOutcome o, std::string why) {
    r.outcome = o;
    r.reason = std::move(why);
    return r;
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const zone::Zone> next;
  if (c.kind == StateChange::Kind::Replace) {
    next = c.snapshot;
    if (!next) {
      auto built = zone::Zone::build(origin_, std::move(c.records));
      if (!built) return fail(StateOutcome::Invalid, built.error().message);
      next = *built;
    }
    if (next->origin() != origin_)
      return fail(StateOutcome::Invalid, "zone " + next->origin().to_text() + " is not " + origin_.to_text());
    if (store_) {
      // One transaction: a crash leaves the old copy or the new one, never half.
      auto recs = next->records();
      if (auto put = store_->put_zone_snapshot(origin_, next->serial(), recs); !put)
        return fail(StateOutcome::StoreFailed, put.error().message);
    }
  } else {
    if (c.changes.empty()) return fail(StateOutcome::Invalid, "no differences");
    auto built = zone::apply(*current(), std::span<const zone::ChangeSet>(c.changes));
    if (!built) return fail(StateOutcome::Diverged, built.error().message);
    if (store_) {
      if (auto w = store_->append_changes(c.changes); !w)
        return fail(StateOutcome::StoreFailed, w.error().message);
    }
    next = *built;
  }
  spdlog::debug("zone {}: {} -> serial {} durable in {:.1f} ms", origin_.to_text(),
                c.kind == StateChange::Kind::Replace ? "replacement" : "differences", next->serial(),
                ms_since(t0));
  if (!c.log.empty()) spdlog::info("zone {}: {}", origin_.to_text(), c.log);
  install(next);
  r.serial = next->serial();
  r.zone = std::move(next);
  return r;
}

void ZoneWriter::process_state(StateChange& c) {
  StateResult r = apply_state(c);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.requests++;
    stats_.batches++;
    if (r.outcome == StateOutcome::StoreFailed) stats_.store_failures++;
    else if (r.outcome == StateOutcome::Applied) stats_.committed++;
  }
  if (r.outcome != StateOutcome::Applied) {
    r.serial = current()->serial();
    spdlog::warn("zone {}: zone change not applied ({}): {}", origin_.to_text(),
                 outcome_text(r.outcome), r.reason);
  }
  if (c.done) c.done(r);
}

// One UPDATE packet into the batch: parse, TSIG (RFC 8945), zone section
// (RFC 2136 §3.1), policy, then Batch::process. False when there is
// nothing to answer to.
bool ZoneWriter::process_update(Pending& p, Batch& batch, uint64_t now) {
  static const tsig::KeyRing kNoKeys;
  const tsig::KeyRing& ring = opts_.ring ? *opts_.ring : kNoKeys;
  const auto& pkt = p.req.packet;
  if (pkt.size() < wire::kHeaderSize) return false;
  p.hdr.id = uint16_t(pkt[0] << 8 | pkt[1]);
  wire::ParseInfo info;
  const bool checked = p.req.message.has_value();  // parsed and verified by the dispatcher
  if (!checked) {
    auto parsed = wire::parse(pkt, &info);
    if (!parsed) {
      p.rcode = wire::Rcode::FormErr;
      return true;
    }
    p.req.message = std::move(*parsed);
  }
  const wire::Message* msg = &*p.req.message;
  p.hdr = msg->header;
  p.has_edns = msg->edns.has_value();
  if (msg->question.size() == 1) p.zone = msg->question[0];
  if (msg->header.opcode() != wire::Opcode::Update) {
    p.rcode = wire::Rcode::NotImp;
    return true;
  }
  std::optional<wire::Name> key_name;
  if (checked && p.req.verified) {
    p.verified = std::move(p.req.verified);
  } else if (!checked && info.tsig_offset) {
    tsig::VerifyOptions vo;
    vo.replay = &replay_;
    p.verified = tsig::verify_request(pkt, info, msg->additional.back(), ring, now, vo);
  }
  if (p.verified) {
    if (!p.verified->ok()) {
      p.rcode = p.verified->rcode();
      p.why = std::string("TSIG ") + std::string(tsig::status_text(p.verified->status)) + ": " +
              p.verified->reason;
      return true;
    }
    key_name = p.verified->key->name;
  }
  ZoneCheck zc = check_zone_section(*msg, [this](const wire::Name& n, uint16_t cls) {
    return cls == 1 && n == origin_;
  });
  if (zc.rcode != wire::Rcode::NoError) {
    p.rcode = zc.rcode;
    return true;
  }
  if (!opts_.policy || opts_.policy->empty()) {
    p.rcode = wire::Rcode::Refused;
    p.why = "no update-policy";
    return true;
  }
  Outcome out = batch.process(*msg, opts_.policy->bind(key_name, p.req.source));
  p.rcode = out.rcode;
  p.why = out.reason;
  p.processed = true;
  return true;
}

// The batch's changes: next snapshot, then durable, then published.
// False when nothing was committed (the processed requests then fail).
bool ZoneWriter::commit(const Batch& batch) {
  if (batch.changes().empty()) return true;
  auto t0 = std::chrono::steady_clock::now();
  // The next snapshot first (the one rule of zone/apply.h), so that what
  // becomes durable is always what can be served.
  auto snap = batch.snapshot();
  if (!snap) {
    spdlog::error("zone {}: {} updates do not apply, answered SERVFAIL: {}", origin_.to_text(),
                  batch.changes().size(), snap.error().message);
    return false;
  }
  const auto tc = std::chrono::steady_clock::now();
  auto w = store_ ? store_->append_changes(batch.changes()) : Result<void>{};
  metrics::registry().shared().writer_commit_latency.observe(uint64_t(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - tc)
          .count()));
  if (!w) {
    spdlog::error("zone {}: store write failed, {} updates answered SERVFAIL: {}",
                  origin_.to_text(), batch.changes().size(), w.error().message);
    return false;
  }
  spdlog::info("zone {}: {} updates committed, serial {} -> {} ({:.1f} ms)", origin_.to_text(),
               batch.changes().size(), batch.base()->serial(), batch.serial(), ms_since(t0));
  install(*snap);
  return true;
}

void ZoneWriter::answer(Pending& p, bool failed, uint32_t serial, uint64_t now) {
  if (p.req.edit) {
    EditResult& er = p.edit;
    if (failed && p.processed) {
      er.rcode = wire::Rcode::ServFail;
      er.reason = "store write failed";
      er.changed = false;
    }
    er.serial = serial;
    if (er.rcode != wire::Rcode::NoError)
      spdlog::info("zone {}: edit: {}: {}", origin_.to_text(), rcode_name(er.rcode), er.reason);
    if (p.req.edit->done) p.req.edit->done(er);
    return;
  }
  if (failed && p.processed) p.rcode = wire::Rcode::ServFail;
  metrics::registry().shared().update(
      p.verified && p.verified->key && metrics::registry().is_dhcp_key(p.verified->key->name.to_text())
          ? metrics::Source::Dhcp : metrics::Source::Rfc2136,
      p.rcode == wire::Rcode::NoError);
  if (p.rcode == wire::Rcode::NoError)
    spdlog::debug("zone {}: update id {} ({}): NOERROR", origin_.to_text(), p.hdr.id, who(p));
  else
    spdlog::info("zone {}: update id {} ({}): {}{}{}", origin_.to_text(), p.hdr.id, who(p),
                 rcode_name(p.rcode), p.why.empty() ? "" : ": ", p.why);
  auto bytes = build_reply(p, now);
  if (p.req.reply && !bytes.empty()) p.req.reply(bytes);
}

void ZoneWriter::process_batch(std::vector<WriteRequest>& reqs) {
  if (reqs.size() == 1 && reqs[0].state) {
    process_state(*reqs[0].state);
    return;
  }
  const uint64_t now = opts_.clock();
  Options bo;
  bo.serial_policy = opts_.serial_policy;
  bo.now = int64_t(now);
  Batch batch(current(), bo);
  std::vector<Pending> pend;
  pend.reserve(reqs.size());
  for (auto& r : reqs) {
    Pending& p = pend.emplace_back();
    p.req = std::move(r);
    if (p.req.edit) process_edit(origin_, batch, p);
    else if (!process_update(p, batch, now)) pend.pop_back();
  }
  const bool failed = !commit(batch);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.requests += pend.size();
    stats_.batches++;
    metrics::registry().shared().writer_batch_size.observe(pend.size());
    if (failed) stats_.store_failures++;
    else stats_.committed += batch.changes().size();
  }
  const uint32_t serial = failed ? batch.base()->serial() : batch.serial();
  for (auto& p : pend) answer(p, failed, serial, now);
}

}  // namespace ddns::update
