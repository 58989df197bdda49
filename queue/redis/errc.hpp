#pragma once

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace bridge::queue::redis {

// Why a command got no reply from the server. Errors the server answers with are not errc but
// replies (reply::is_error). After connection_lost and timeout the command may or may not have run.
enum class errc {
  not_connected = 1,   // the client is between connections (backing off); nothing was sent
  connection_refused,  // could not reach the server: refused, unreachable, or name not resolved
  connection_lost,     // the connection dropped before the reply came; the command may have run
  timeout,             // no reply within client_options::timeout; the command may have run
  protocol_error,      // the server sent bytes that are not RESP2, or a reply nobody asked for
  tls_failed,          // TLS handshake failed, or the server's certificate did not verify
  auth_failed,         // AUTH was refused (wrong user or password, or none configured)
  setup_failed,        // another connection set-up command (SELECT) was refused
  closed,              // the client was closed
  no_primary,          // Redis Sentinel named no primary that could be reached and says it is one
};

// The "bridge.queue.redis" category of errc. Never throws.
const boost::system::error_category& redis_category() noexcept;

// Wraps `e` in an error_code of redis_category(). Never throws.
boost::system::error_code make_error_code(errc e) noexcept;

}  // namespace bridge::queue::redis

template <>
struct boost::system::is_error_code_enum<bridge::queue::redis::errc> : std::true_type {};
