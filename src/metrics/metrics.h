// Process-wide counters for /metrics: per-thread query shards summed only at
// scrape time, shared counters for the rare events (updates, transfers,
// HTTP), fixed-bucket histograms and scrape-time collectors for gauges.
//
// Why a process-wide registry rather than one passed down every layer: the
// events counted happen in net/, update/, xfr/, http/ and dyndns/, below the
// composition root that would own it; a counter is a side channel that must
// not change any of their interfaces (as in every Prometheus client).
// Tests that need exact values use their own Registry.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ddns::metrics {

class Exposition;

// A counter with ONE writing thread: a relaxed load and store, no locked
// instruction (lock add costs ~20 cycles and serializes the pipeline).
// Readers on other threads see a recent value; it never goes backwards.
struct OwnCell {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// A counter bumped from any thread (rare events: updates, HTTP requests).
struct SharedCell {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// Histogram bucket bounds (Prometheus `le`, cumulative); the last bucket is
// +Inf. Fixed so histograms sum across threads.
using Bounds = std::array<uint32_t, 16>;
// Latencies, in microseconds.
inline constexpr Bounds kLatencyBoundsUs = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000};
// Sizes (requests per batch), powers of two.
inline constexpr Bounds kSizeBounds = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
inline constexpr size_t kBuckets = kLatencyBoundsUs.size() + 1;

// Index of the bucket holding `v` (not cumulative).
inline size_t bucket_of(uint64_t v, const Bounds& b = kLatencyBoundsUs) {
  size_t i = 0;
  while (i < b.size() && v > b[i]) ++i;
  return i;
}

template <class Cell, const Bounds& B = kLatencyBoundsUs>
struct Histogram {
  static constexpr const Bounds& bounds = B;
  std::array<Cell, kBuckets> buckets{};
  Cell sum, count;
  // `n` observations of `v` each (a batch answered together).
  void observe(uint64_t v, uint64_t n = 1) {
    buckets[bucket_of(v, B)].add(n);
    sum.add(v * n);
    count.add(n);
  }
};

// Plain totals, for summing shards and rendering.
struct HistogramTotals {
  const Bounds* bounds = &kLatencyBoundsUs;
  std::array<uint64_t, kBuckets> buckets{};
  uint64_t sum = 0, count = 0;
  template <class Cell, const Bounds& B>
  void add(const Histogram<Cell, B>& h) {
    bounds = &B;
    for (size_t i = 0; i < kBuckets; ++i) buckets[i] += h.buckets[i].get();
    sum += h.sum.get();
    count += h.count.get();
  }
};

enum class Transport : uint8_t { Udp, Tcp };
inline constexpr size_t kTransports = 2;
inline constexpr size_t kTypeSlots = 257;  // qtype 0..255 by value; slot 256: any larger

// One query-path thread's counters. Only that thread writes them, and the
// shard is cache-line aligned, so no two threads ever write the same line.
struct alignas(64) QueryShard {
  std::array<OwnCell, kTransports> queries;   // every message received
  std::array<OwnCell, kTypeSlots> qtypes;     // standard queries (opcode 0) by QTYPE
  std::array<OwnCell, 16> rcodes;             // responses sent, by header RCODE
  std::array<OwnCell, kTransports> dropped;   // received but not answered
  Histogram<OwnCell> latency;                 // receive -> send, per message

  // Counts one message and its response (`resp` null or `resp_len` 0 when
  // none is sent). Reads the header and walks the question name only; never
  // allocates. An unreadable query counts by transport only.
  void count(Transport t, std::span<const uint8_t> query, const uint8_t* resp, size_t resp_len) {
    queries[size_t(t)].add();
    if (resp_len >= 4) rcodes[resp[3] & 0xF].add();
    else dropped[size_t(t)].add();
    // Standard query (QR=0, opcode 0) with a question: find its QTYPE.
    if (query.size() < 12 || (query[2] & 0xF8) != 0 || (query[4] | query[5]) == 0) return;
    size_t i = 12;
    while (i < query.size() && query[i] != 0) {
      if (query[i] & 0xC0) return;  // a pointer or bad label in a question: not counted
      i += size_t(query[i]) + 1;
    }
    if (i + 2 >= query.size()) return;
    uint16_t qtype = uint16_t(query[i + 1] << 8 | query[i + 2]);
    qtypes[qtype < 256 ? qtype : 256].add();
  }
};

// Where a change came from (ddns_updates_total{source=...}).
enum class Source : uint8_t { Rfc2136, Dhcp, DynDNS2, Rest, Transfer, Ddnsctl };
inline constexpr size_t kSources = 6;
std::string_view source_name(Source s);

// Counters bumped off the query path, from any thread.
struct Shared {
  // [source][0 = accepted, 1 = refused]
  std::array<std::array<SharedCell, 2>, kSources> updates;
  Histogram<SharedCell, kSizeBounds> writer_batch_size;  // requests per writer batch
  Histogram<SharedCell> writer_commit_latency;  // store commit, microseconds
  // Zone transfers: [0 = AXFR, 1 = IXFR]; in = as a secondary.
  std::array<SharedCell, 2> xfr_out, xfr_in, xfr_in_failed;
  SharedCell notify_sent, notify_received;
  // HTTP responses by status (100..599; others in slot 0).
  std::array<SharedCell, 500> http_status;
  SharedCell login_failures, abuse_blocks;

  void update(Source s, bool accepted) { updates[size_t(s)][accepted ? 0 : 1].add(); }
  void http(int status) { http_status[status >= 100 && status < 600 ? size_t(status - 100) : 0].add(); }
};

// Names for label values, given by a layer that knows DNS (the renderer
// sits below wire/ so that net/ can use it): "A", "NOERROR".
struct Naming {
  std::function<std::string(uint16_t)> qtype;
  std::function<std::string(uint8_t)> rcode;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A shard for one query-path thread, for as long as the thread lives.
  // When the returned pointer is released its counts fold into the
  // registry's retired totals, so counters never go backwards across
  // restarts of the workers.
  struct ShardRelease {
    Registry* reg;
    void operator()(QueryShard* s) const { reg->retire(s); }
  };
  using ShardPtr = std::unique_ptr<QueryShard, ShardRelease>;
  ShardPtr query_shard();

  Shared& shared() { return shared_; }

  // A scrape-time source of samples (gauges: zone serials, memory). The
  // collector is called under the registry's lock on the scraping thread.
  using Collector = std::function<void(Exposition&)>;
  uint64_t add_collector(Collector c);
  void remove_collector(uint64_t id);

  // The query-path totals: live shards plus retired ones.
  struct QueryTotals {
    std::array<uint64_t, kTransports> queries{}, dropped{};
    std::array<uint64_t, kTypeSlots> qtypes{};
    std::array<uint64_t, 16> rcodes{};
    HistogramTotals latency;
  };
  QueryTotals query_totals() const;

  // The whole text exposition (Prometheus text format 0.0.4).
  std::string render(const Naming& naming) const;

  // Which TSIG keys mark an RFC 2136 update as DHCP (metrics.dhcp-keys),
  // as lowercase names without the trailing dot.
  void set_dhcp_keys(std::vector<std::string> names);
  bool is_dhcp_key(std::string_view name) const;

 private:
  void retire(QueryShard* s);
  mutable std::mutex mu_;
  std::vector<QueryShard*> live_;
  QueryTotals retired_;
  Shared shared_;
  std::vector<std::pair<uint64_t, Collector>> collectors_;
  uint64_t next_id_ = 1;
  std::vector<std::string> dhcp_keys_;
  std::atomic<bool> has_dhcp_keys_{false};
};

// The registry of this process.
Registry& registry();

// Resident memory of this process in bytes (/proc/self/statm), 0 if unknown.
uint64_t resident_bytes();

}  // namespace ddns::metrics
