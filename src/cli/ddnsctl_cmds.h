// ddnsctl's subcommand groups, one file each. Each add_* registers its
// subcommands on `app`; a subcommand's callback runs the command and sets
// *exit_code. `data_dir` is the global --data-dir option (the store is
// store::open_data_dir(*data_dir)), read when a callback runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ddns::cli {

// user add/del/passwd/list, host add/del/list, token rotate, zone (DDNS) open/close/list.
void add_account_commands(CLI::App& app, const std::string* data_dir, int* exit_code);
// export (zone from the store as a master file), journal (show the journal).
void add_store_commands(CLI::App& app, const std::string* data_dir, int* exit_code);
// kea-d2-config (a Kea DHCP-DDNS configuration for ddnsd's zones).
void add_kea_commands(CLI::App& app, int* exit_code);

}  // namespace ddns::cli
