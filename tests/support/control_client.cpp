#include "tests/support/control_client.hpp"

#include <thread>

namespace bridge::test {

client_response admin_request(const boost::asio::ip::tcp::endpoint& admin,
                              const std::string& method, const std::string& target,
                              const std::string& token, const std::string& body) {
  client_request req;
  req.method = method;
  req.target = target;
  req.body = body;
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  return send_request(admin, req);
}

std::string fetch_metrics(const boost::asio::ip::tcp::endpoint& admin, const std::string& token) {
  const client_response res = admin_request(admin, "GET", "/metrics", token);
  return res.status == 200u ? res.body : std::string{};
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::ostream& operator<<(std::ostream& out, store_mode mode) {
  return out << (mode == store_mode::local ? "local" : "redis");
}

bridge_in_mode start_in_mode(store_mode mode, std::function<void(config::settings&)> adjust,
                             app_options options) {
  bridge_in_mode started;
  if (mode == store_mode::redis) started.redis = std::make_unique<redis_server>();
  const std::string url = started.redis ? started.redis->url() : std::string{};
  started.bridge = std::make_unique<running_bridge>(
      [&](config::settings& s) {
        s.admin.token = test_admin_token;
        if (!url.empty()) {
          config::redis_settings redis;
          redis.url = url;
          redis.key_prefix = "operator-test";
          s.redis = std::move(redis);
        }
        if (adjust) adjust(s);
      },
      std::move(options));
  return started;
}

}  // namespace bridge::test
