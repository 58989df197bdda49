#pragma once

// What the Redis client's tests share: running a coroutine to its end with a time limit, polling
// until the server answers, capturing the log.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/support/log_capture.hpp"

namespace bridge::queue::redis::test {

using namespace std::chrono_literals;

// Runs io until done() or `limit` passes; false on the limit.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_one_until(deadline);
  }
  return true;
}

// Runs `work` on io to its end and returns its value; throws when it takes longer than `limit`
// (so a hung test fails instead of hanging) and rethrows what it threw.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work,
      std::chrono::milliseconds limit = 15s) {
  // Shared with the completion handler, which may outlive this call when the limit passes.
  struct outcome {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
  };
  auto out = std::make_shared<outcome>();
  boost::asio::co_spawn(io, std::move(work), [out](std::exception_ptr e, T value) {
    out->done = true;
    out->error = e;
    if (!e) out->value.emplace(std::move(value));
  });
  if (!run_until(
          io, [&] { return out->done; }, limit)) {
    throw std::runtime_error("a test coroutine did not finish in time");
  }
  if (out->error) std::rethrow_exception(out->error);
  return std::move(*out->value);
}

// The options of a client for a URL the test knows to be good.
inline client_options options_for(const std::string& url_text) {
  client_options options;
  options.server = parse_url(url_text).value();
  return options;
}

// The reply of a round trip that must have been answered.
inline reply answered(const boost::system::result<reply>& r) {
  BOOST_REQUIRE_MESSAGE(r.has_value(), "redis round trip failed: " << r.error().message());
  return *r;
}

// Milliseconds, for test messages (Boost.Test cannot print durations).
inline long long millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// PING until the server answers PONG, every 20 ms, at most `limit`; true when it did.
inline boost::asio::awaitable<bool> wait_until_answers(client& c, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    auto pong = co_await c.command("PING");
    if (pong && pong->text() == std::optional<std::string_view>("PONG")) co_return true;
    pause.expires_after(20ms);
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  co_return false;
}

// Sends spdlog's default logger to memory while it lives.
using log_capture = ::bridge::test::log_capture;

}  // namespace bridge::queue::redis::test
