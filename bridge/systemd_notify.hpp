#pragma once

#include <chrono>
#include <optional>
#include <string_view>

// systemd's readiness protocol without libsystemd: datagrams to $NOTIFY_SOCKET (sd_notify(3)).
namespace bridge {

// Sends `state` (e.g. "READY=1\nSTATUS=listening") to the service manager. Does nothing, and
// returns false, when NOTIFY_SOCKET is not set (not started by systemd) or the send fails.
bool notify_service_manager(std::string_view state);

// How often to send WATCHDOG=1: half of $WATCHDOG_USEC when the watchdog is enabled for this
// process ($WATCHDOG_PID unset or ours), otherwise nullopt.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace bridge
