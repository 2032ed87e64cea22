// Running under a service manager: logs that journald reads well and the
// sd_notify(3) protocol, both without libsystemd (a few lines each).
#pragma once

namespace ddns::server {

// True when stderr is connected to the journal: $JOURNAL_STREAM names the
// device and inode of our stderr (systemd.exec(5)), so output redirected
// elsewhere by a wrapper is not mistaken for it.
bool stderr_is_journal();

// The log line format: for the journal, "<N>message" with the syslog
// priority in front (sd-daemon(3)) and no timestamp (journald adds its
// own); otherwise "2026-12-08T00:00:00.000Z info message".
void set_log_pattern(bool journal);

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1") to the service
// manager's $NOTIFY_SOCKET (sd_notify(3)); nothing when it is unset.
void notify_service(const char* state);

}  // namespace ddns::server
