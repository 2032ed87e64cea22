// ddnsctl export / journal: read a zone and its change journal from ddnsd's
// store through the Store interface, read-only, so both work beside a
// running ddnsd (each read sees one committed state and never blocks the
// writer).
#include <cstdint>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/ddnsctl_cmds.h"
#include "store/store.h"
#include "wire/name.h"
#include "wire/rdata.h"
#include "wire/rrtype.h"
#include "zone/changeset.h"
#include "zone/writer.h"

namespace ddns::cli {
namespace {

Result<wire::Name> parse_origin(const std::string& text) {
  std::string t = text;
  if (t.empty() || t.back() != '.') t += '.';
  auto n = wire::Name::from_text(t);
  if (!n) return make_error("bad zone name '" + text + "': " + n.error().message);
  return n;
}

Result<std::unique_ptr<store::Store>> open_store(const std::string& data_dir) {
  return store::open_data_dir(data_dir, /*read_only=*/true);
}

// export: the base snapshot with the journal applied, as a master file.
int export_zone(const std::string& data_dir, const std::string& zone_text,
                const std::string& out_path) {
  auto origin = parse_origin(zone_text);
  if (!origin) {
    std::cerr << origin.error().message << '\n';
    return 1;
  }
  auto st = open_store(data_dir);
  if (!st) {
    std::cerr << "export: " << st.error().message << '\n';
    return 1;
  }
  auto data = (*st)->load_zone(*origin);
  if (!data) {
    std::cerr << "export: " << data.error().message << '\n';
    return 1;
  }
  if (!out_path.empty() && out_path != "-") {
    auto w = zone::write_master_file(out_path, *origin, data->records);
    if (!w) {
      std::cerr << "export: " << w.error().message << '\n';
      return 1;
    }
    std::cerr << "exported " << origin->to_text() << " serial " << data->serial << " ("
              << data->records.size() << " records) to " << out_path << '\n';
    return 0;
  }
  std::ios::sync_with_stdio(false);
  zone::write_master(std::cout, *origin, data->records);
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}

std::string utc_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "?";
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return "?";
  return buf;
}

void print_rr(std::ostream& out, char sign, const wire::RR& rr) {
  out << sign << ' ' << rr.owner.to_text() << ' ' << rr.ttl << ' '
      << wire::class_to_text(rr.rclass) << ' ' << wire::type_to_text(rr.type) << ' '
      << wire::rdata_to_text(rr.type, rr.rdata) << '\n';
}

struct JournalArgs {
  std::string zone;
  std::optional<uint32_t> from;
  bool brief = false;
};

// journal: one header line per entry, "serial A -> B  TIME  (-N +M)", then
// its removed ("- ") and added ("+ ") records, RFC 1995 §4 order (old SOA
// first among the removed, new SOA first among the added).
int show_journal(const std::string& data_dir, const JournalArgs& a) {
  auto origin = parse_origin(a.zone);
  if (!origin) {
    std::cerr << origin.error().message << '\n';
    return 1;
  }
  auto st = open_store(data_dir);
  auto fail = [](const Error& e) {
    std::cerr << "journal: " << e.message << '\n';
    return 1;
  };
  if (!st) return fail(st.error());
  // One read transaction in the store: a ddnsd committing (or trimming)
  // meanwhile cannot make the listing skip or repeat entries.
  auto listing = (*st)->list_journal(*origin, a.from);
  if (!listing) return fail(listing.error());
  const uint32_t serial = listing->current_serial;
  // Like an IXFR question (RFC 1995): --from S lists the entries that lead
  // from S to the current serial.
  if (a.from) {
    switch (listing->status) {
      case store::JournalStatus::Ok:
        break;
      case store::JournalStatus::Newer:
        std::cerr << "journal: serial " << *a.from << " is newer than the zone's serial "
                  << serial << '\n';
        return 1;
      case store::JournalStatus::TooOld:
        std::cerr << "journal: serial " << *a.from << " is not in the kept journal of "
                  << origin->to_text() << " (base serial " << listing->base_serial
                  << ", serial " << serial << ")\n";
        return 1;
    }
    if (*a.from == serial) {
      std::cout << "; " << origin->to_text() << " serial " << serial
                << ": no changes after serial " << *a.from << '\n';
      return 0;
    }
  }

  std::ios::sync_with_stdio(false);
  std::ostream& out = std::cout;
  out << "; " << origin->to_text() << " base serial " << listing->base_serial << ", serial "
      << serial << '\n';
  size_t entries = 0;
  for (const auto& e : listing->entries) {
    const zone::ChangeSet& cs = e.changes;
    out << "serial " << cs.serial_from << " -> " << cs.serial_to << "  "
        << (e.created > 0 ? utc_time(e.created) : std::string("-")) << "  (-" << cs.removed.size()
        << " +" << cs.added.size() << ")\n";
    if (!a.brief) {
      for (const auto& rr : cs.removed) print_rr(out, '-', rr);
      for (const auto& rr : cs.added) print_rr(out, '+', rr);
    }
    ++entries;
  }
  out << "; " << entries << (entries == 1 ? " entry\n" : " entries\n");
  out.flush();
  return out.good() ? 0 : 1;
}

}  // namespace

void add_store_commands(CLI::App& app, const std::string* data_dir, int* exit_code) {
  // Owned by the callbacks; CLI11 keeps the App alive until main returns.
  auto ex_zone = std::make_shared<std::string>();
  auto ex_out = std::make_shared<std::string>();
  auto* ex = app.add_subcommand(
      "export", "Print a zone from the store as a master file (works while ddnsd runs)");
  ex->add_option("zone", *ex_zone, "Zone origin, e.g. example.test")->required();
  ex->add_option("-o,--output", *ex_out, "Write to FILE atomically instead of stdout");
  ex->callback([=] { *exit_code = export_zone(*data_dir, *ex_zone, *ex_out); });

  auto ja = std::make_shared<JournalArgs>();
  auto from = std::make_shared<uint32_t>(0);
  auto* jr = app.add_subcommand(
      "journal", "List a zone's journal: each change's serials, time and records");
  jr->add_option("zone", ja->zone, "Zone origin, e.g. example.test")->required();
  auto* from_opt =
      jr->add_option("--from", *from, "Only the changes after this serial (as IXFR asks)");
  jr->add_flag("--brief", ja->brief, "Only one line per change, without its records");
  jr->callback([=] {
    if (from_opt->count() > 0) ja->from = *from;
    *exit_code = show_journal(*data_dir, *ja);
  });
}

}  // namespace ddns::cli
