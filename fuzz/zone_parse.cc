// libFuzzer target: master file text -> reader -> checks -> writer -> reader.
// Never crashes; anything the reader accepts and the checker passes must
// print and read back without errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/name.h"
#include "zone/check.h"
#include "zone/master.h"
#include "zone/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ddns::wire::Name origin = *ddns::wire::Name::from_text("example.test.");
  ddns::zone::ParseOptions opts;
  opts.allow_include = false;  // the fuzzer must not read files
  opts.max_generate = 256;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ddns::zone::ParseResult r = ddns::zone::parse_master_text(text, "fuzz", origin, opts);
  if (!r.ok()) return 0;
  ddns::zone::CheckResult c = ddns::zone::check_zone(origin, r);
  if (!c.ok()) return 0;
  std::string printed = ddns::zone::master_text(origin, r.records);
  ddns::zone::ParseResult again = ddns::zone::parse_master_text(printed, "printed", origin, opts);
  if (!again.ok() || again.records.size() != r.records.size()) std::abort();
  return 0;
}
