#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "bridge/app.hpp"
#include "config/settings.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/fake_upstream.hpp"

namespace bridge::test {

inline constexpr const char* test_app_secret = "test-app-secret";
inline constexpr const char* test_verify_token = "test-verify-token";
inline constexpr const char* test_graph_token = "test-graph-token";
inline constexpr const char* test_robofy_key = "test-robofy-key";
inline constexpr const char* test_number = "106540352242922";

// Settings for a bridge on loopback ephemeral ports talking to the given fakes: one route for
// test_number (pid "pid-1", chatbot "bot-1"), 8 workers, capacity 1000, logging off, no read
// receipts (so every Graph request is a reply).
config::settings loopback_settings(const std::string& robofy_url, const std::string& graph_url);

// The real bridge app with fake Robofy and Graph servers, all on one io_context that runs on a
// background thread, as the service runs in production. Tests talk to it over real sockets.
class running_bridge {
 public:
  // `adjust` may change the settings before the app is built.
  explicit running_bridge(std::function<void(config::settings&)> adjust = {},
                          app_options options = {});
  ~running_bridge();

  boost::asio::ip::tcp::endpoint webhook() const { return webhook_; }
  boost::asio::ip::tcp::endpoint admin() const { return admin_; }
  fake_upstream& robofy() { return *robofy_; }
  fake_upstream& graph() { return *graph_; }

  // Waits (at most `limit`) until `pred`, run on the bridge's loop, holds; whether it did.
  template <class F>
  bool wait_on_loop(F pred, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!on_loop(pred)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  // Runs f on the io_context's thread and returns its result (app state is not thread-safe).
  template <class F>
  auto on_loop(F f) -> decltype(f(std::declval<app&>())) {
    using result = decltype(f(std::declval<app&>()));
    std::promise<result> promise;
    boost::asio::post(io_, [&] {
      if constexpr (std::is_void_v<result>) {
        f(*app_);
        promise.set_value();
      } else {
        promise.set_value(f(*app_));
      }
    });
    return promise.get_future().get();
  }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<fake_upstream> robofy_;
  std::unique_ptr<fake_upstream> graph_;
  std::unique_ptr<app> app_;
  boost::asio::ip::tcp::endpoint webhook_;
  boost::asio::ip::tcp::endpoint admin_;
  std::thread thread_;
};

}  // namespace bridge::test
