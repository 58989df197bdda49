#include "bridge/listener_settings.hpp"

#include <boost/asio/ip/address.hpp>
#include <stdexcept>
#include <string>

namespace bridge {

namespace asio = boost::asio;

asio::ip::tcp::endpoint endpoint_of(const config::listen_address& address, const char* key) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host == "localhost" ? "127.0.0.1" : address.host, ec);
  if (ec) throw std::invalid_argument(std::string(key) + ": not an IP address: " + address.host);
  return asio::ip::tcp::endpoint(ip, address.port);
}

webhook::http::listener_limits public_limits(const config::server_settings& server) {
  webhook::http::listener_limits limits;
  limits.max_body_bytes = server.max_body_bytes;
  limits.read_timeout = server.read_timeout;
  limits.handler_timeout = server.read_timeout;
  limits.idle_timeout = server.idle_timeout;
  limits.max_inflight_body_bytes = server.max_inflight_body_bytes;
  limits.untrusted_idle_timeout = server.unauthenticated_idle_timeout;
  return limits;
}

// Health probes and scrapers open a connection, ask and go: admin connections get a short idle
// timeout, none is ever trusted, so at the cap the longest-idle one is closed and /healthz still
// answers (a failed liveness probe would get a healthy pod killed).
webhook::http::listener_limits admin_limits() {
  webhook::http::listener_limits limits;
  limits.max_body_bytes = 16 * 1024;  // the admin endpoints take no bodies
  limits.max_connections = admin_max_connections;
  limits.idle_timeout = std::chrono::seconds(5);
  limits.untrusted_idle_timeout = std::chrono::seconds(5);
  limits.trust_after_success = false;
  return limits;
}

webhook::meta::endpoint_settings endpoint_settings_of(const config::settings& settings) {
  return webhook::meta::endpoint_settings{settings.server.webhook_path, settings.meta.app_secret,
                                          settings.meta.verify_token, std::chrono::seconds(10),
                                          settings.meta.previous_app_secret};
}

}  // namespace bridge
