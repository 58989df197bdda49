#include "webhook/io/clock.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace bridge::webhook::io {

namespace {

class system_clock final : public clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
  boost::asio::awaitable<void> sleep_until(time_point deadline) override {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
};

}  // namespace

std::shared_ptr<clock> make_system_clock() {
  return std::make_shared<system_clock>();
}

}  // namespace bridge::webhook::io
