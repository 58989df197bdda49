#include "tests/support/running_bridge.hpp"

#include <spdlog/spdlog.h>

namespace bridge::test {

config::settings loopback_settings(const std::string& robofy_url, const std::string& graph_url) {
  config::settings s;
  s.source_file = "(test)";
  s.server.listen = {"127.0.0.1", 0};
  s.admin.listen = {"127.0.0.1", 0};
  s.meta.app_secret = test_app_secret;
  s.meta.verify_token = test_verify_token;
  s.meta.access_token = test_graph_token;
  s.meta.graph_base_url = graph_url;
  s.robofy.base_url = robofy_url;
  s.robofy.api_key = test_robofy_key;
  s.robofy.timeout = std::chrono::seconds(10);
  s.routes.push_back(config::route{test_number, "pid-1", "bot-1", std::nullopt, 80});
  s.queue.capacity = 1000;
  s.queue.workers = 8;
  s.logging.level = "off";
  // Read receipts are Graph calls of their own; the tests about them turn them back on.
  s.replies.typing_indicator = false;
  s.shutdown.grace = std::chrono::seconds(5);
  return s;
}

running_bridge::running_bridge(std::function<void(config::settings&)> adjust, app_options options) {
  // Tests wait milliseconds where production waits seconds; a test's own tune runs after this.
  options.tune = [test_tune = std::move(options.tune)](runtime_settings& s) {
    s.retry_base_delay = std::chrono::milliseconds(10);
    s.pair_limit_base = std::chrono::milliseconds(20);
    s.typing_refresh = std::chrono::milliseconds(100);
    if (test_tune) test_tune(s);
  };
  robofy_ = std::make_unique<fake_upstream>(io_.get_executor(), robofy_echo());
  graph_ = std::make_unique<fake_upstream>(io_.get_executor(), graph_accepting());
  config::settings settings = loopback_settings(robofy_->base_url(), graph_->base_url());
  if (adjust) adjust(settings);
  if (settings.logging.level == "off") spdlog::set_level(spdlog::level::off);
  app_ = std::make_unique<app>(io_, settings, options);
  robofy_->start();
  graph_->start();
  app_->start();
  webhook_ = app_->webhook_address();
  admin_ = app_->admin_address();
  thread_ = std::thread([this] { io_.run(); });
}

running_bridge::~running_bridge() {
  // Stopping the loop abandons whatever was in flight, as a crash would; tests that want a
  // graceful stop call app::shutdown() first.
  io_.stop();
  thread_.join();
}

}  // namespace bridge::test
