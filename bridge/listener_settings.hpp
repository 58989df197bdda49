#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>

#include "config/settings.hpp"
#include "webhook/http/listener.hpp"
#include "webhook/meta/endpoint.hpp"

// What the two listeners and the webhook endpoint take from the configuration: one place, so the
// bridge and the bench's floor server (tests/tools/bench) answer under the same limits.
namespace bridge {

// Connections the admin listener takes at once (probes and scrapers).
inline constexpr std::size_t admin_max_connections = 256;

// The address to listen on; throws std::invalid_argument naming `key` when it is no IP address.
boost::asio::ip::tcp::endpoint endpoint_of(const config::listen_address& address, const char* key);

// The public listener's limits (server.*).
webhook::http::listener_limits public_limits(const config::server_settings& server);

// The admin listener's limits: short idle timeouts, no connection ever trusted.
webhook::http::listener_limits admin_limits();

// The webhook endpoint's settings (server.webhook_path, meta.*).
webhook::meta::endpoint_settings endpoint_settings_of(const config::settings& settings);

}  // namespace bridge
