#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "bridge/app.hpp"
#include "config/settings.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/test_client.hpp"

// The admin listener as an operator uses it (the control API behind admin.token, /metrics), and
// the bridge under test in either store mode.
namespace bridge::test {

// The admin.token the operator-control tests configure.
inline constexpr const char* test_admin_token = "test-admin-token-7d1c";

// `method target` on the admin listener with "Authorization: Bearer <token>" (none when token is
// empty) and `body` as JSON when not empty.
client_response admin_request(const boost::asio::ip::tcp::endpoint& admin,
                              const std::string& method, const std::string& target,
                              const std::string& token = test_admin_token,
                              const std::string& body = {});

// GET /metrics's body (with the token when not empty); empty when it did not answer 200.
std::string fetch_metrics(const boost::asio::ip::tcp::endpoint& admin,
                          const std::string& token = {});

// Looks at pred() every 10 ms until it holds or timeout passes; whether it held. For state that
// has no event to wait on (counters inside the app).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Where the bridge under test keeps its messages, pauses and dead letters.
enum class store_mode { local, redis };
std::ostream& operator<<(std::ostream& out, store_mode mode);

// A running_bridge with admin.token set, on the local store (memory) or on a private
// redis-server (a redis: block, a key prefix of its own). Members are destroyed bridge first.
struct bridge_in_mode {
  std::unique_ptr<redis_server> redis;  // only in redis mode
  std::unique_ptr<running_bridge> bridge;

  running_bridge* operator->() const { return bridge.get(); }
};

// Starts the bridge in `mode`; `adjust` runs after the mode's settings are in.
bridge_in_mode start_in_mode(store_mode mode, std::function<void(config::settings&)> adjust = {},
                             app_options options = {});

}  // namespace bridge::test
