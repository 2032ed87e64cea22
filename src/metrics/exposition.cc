// Prometheus text exposition writer (see exposition.h).
#include "metrics/exposition.h"

#include <fmt/format.h>

#include <cmath>

namespace ddns::metrics {

namespace {

// Backslash and line feed always; the double quote inside label values.
std::string escape(std::string_view v, bool quote) {
  std::string r;
  r.reserve(v.size());
  for (char c : v) {
    if (c == '\\') r += "\\\\";
    else if (c == '\n') r += "\\n";
    else if (c == '"' && quote) r += "\\\"";
    else r += c;
  }
  return r;
}

}  // namespace

std::string Exposition::escape_label(std::string_view v) { return escape(v, true); }

std::string Exposition::escape_help(std::string_view v) { return escape(v, false); }

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help),
                 name, type);
}

void Exposition::head(std::string_view name, std::initializer_list<Label> labels,
                      std::string_view extra_k, std::string_view extra_v) {
  out_ += name;
  if (labels.size() == 0 && extra_k.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", k, escape_label(v));
  }
  if (!extra_k.empty())
    fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", first ? "" : ",", extra_k, extra_v);
  out_ += "} ";
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
  head(name, labels, {}, {});
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void Exposition::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  head(name, labels, {}, {});
  if (std::isnan(value)) out_ += "NaN\n";
  else if (std::isinf(value)) out_ += value > 0 ? "+Inf\n" : "-Inf\n";
  else fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void Exposition::histogram(std::string_view name, std::initializer_list<Label> labels,
                           const HistogramTotals& h, double divisor) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cum = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cum += h.buckets[i];
    std::string le = i < h.bounds->size() ? fmt::format("{}", (*h.bounds)[i] / divisor)
                                                 : std::string("+Inf");
    head(bucket, labels, "le", le);
    fmt::format_to(std::back_inserter(out_), "{}\n", cum);
  }
  // The sum in the same unit as the bounds.
  sample(std::string(name) + "_sum", labels, double(h.sum) / divisor);
  // _count is the +Inf bucket, read once: shards are summed while they
  // count, and the two must agree.
  sample(std::string(name) + "_count", labels, cum);
}

}  // namespace ddns::metrics
