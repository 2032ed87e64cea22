// Configuration beyond the start: `ddnsd --check-config` (every problem a
// start would meet, without starting), the RRL settings the front end
// applies, and the checks a configuration re-read on SIGHUP must pass.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "conf/config.h"
#include "net/rrl.h"

namespace ddns::server {

// conf's rrl: section as the front end's limiter takes it (exempt prefixes
// parsed; conf has checked their syntax).
net::RrlSettings rrl_settings(const conf::RrlConfig& c);
// "off" or "20 responses/s per /24 and /56, slip 2, window 15s[, log-only]".
std::string rrl_summary(const conf::RrlConfig& c);

// What would refuse a start, zone data aside: key files, update policies,
// transfer ACLs and NOTIFY targets (and the keys they name), listen
// addresses, parts that need a data directory. Each problem names the
// file:line or key it is about. Reads key files; loads no zone.
std::vector<std::string> config_problems(const conf::Config& cfg);

// `ddnsd --check-config`: config_problems(), then every zone file loaded
// and checked as the server would (warnings and errors as FILE:LINE on
// `err`); "OK: ..." on `out` when nothing is wrong. Returns the exit
// status: 0 good, 1 any error. Starts nothing, binds nothing.
int run_check_config(const conf::Config& cfg, std::ostream& out, std::ostream& err);

}  // namespace ddns::server
