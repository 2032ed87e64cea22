// Prometheus text exposition format 0.0.4 writer: one `# HELP` and `# TYPE`
// per family, then its samples; label values and help text escaped as the
// format requires.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/metrics.h"

namespace ddns::metrics {

using Label = std::pair<std::string_view, std::string_view>;

class Exposition {
 public:
  // Starts a family. `type`: "counter" (name must end in _total), "gauge"
  // or "histogram". A family is started once; its samples follow.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line `name{labels} value`; `suffix` is appended to the
  // family name ("_bucket", "_sum", "_count" for histograms).
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  // A whole histogram: cumulative _bucket lines (le bounds divided by
  // `divisor`, e.g. 1e6 for microseconds -> seconds; dividing keeps 1e-05
  // exact where multiplying by 1e-6 prints 9.999999999999999e-06), _sum
  // and _count.
  void histogram(std::string_view name, std::initializer_list<Label> labels,
                 const HistogramTotals& h, double divisor);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

  // Escapes a label value: backslash, double quote and line feed.
  static std::string escape_label(std::string_view v);
  // Escapes HELP text: backslash and line feed.
  static std::string escape_help(std::string_view v);

 private:
  void head(std::string_view name, std::initializer_list<Label> labels, std::string_view extra_k,
            std::string_view extra_v);
  std::string out_;
};

}  // namespace ddns::metrics
