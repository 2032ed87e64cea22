// Fuzzes the query-path counter (metrics::QueryShard::count): untrusted
// query bytes and any response must never read out of bounds, and every
// message is counted exactly once by transport. The text rendering of the
// counts (label escaping included) must stay well-formed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "metrics/exposition.h"
#include "metrics/metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ddns::metrics::Registry reg;
  static auto shard = reg.query_shard();
  const uint64_t before = shard->queries[0].get() + shard->queries[1].get();
  // First byte: transport and how much of the input is the response.
  if (size == 0) return 0;
  auto t = (data[0] & 1) ? ddns::metrics::Transport::Tcp : ddns::metrics::Transport::Udp;
  size_t split = size > 1 ? 1 + (data[0] >> 1) % size : 1;
  if (split > size) split = size;
  std::span<const uint8_t> query(data + 1, split - 1);
  shard->count(t, query, data + split, size - split);
  if (shard->queries[0].get() + shard->queries[1].get() != before + 1) std::abort();
  // Label values are arbitrary bytes: escaped output has no raw newline.
  std::string v(reinterpret_cast<const char*>(data), size);
  std::string e = ddns::metrics::Exposition::escape_label(v);
  if (e.find('\n') != std::string::npos) std::abort();
  return 0;
}
