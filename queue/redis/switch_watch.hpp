#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "queue/redis/backoff.hpp"
#include "queue/redis/sentinel.hpp"
#include "queue/redis/session.hpp"
#include "queue/redis/url.hpp"

namespace bridge::queue::redis {

// Listens for Sentinel's +switch-master over a connection of its own (a subscriber can send
// nothing else), on one sentinel at a time: when that connection drops, or the sentinel stops
// answering PING, it subscribes on the next sentinel, with backoff. Tells its owner about every
// switch of the configured master. Internal to the client; one executor, not thread-safe.
class switch_watch {
 public:
  using on_switch = std::function<void(const switch_notice&)>;

  // tls is null for redis://; every sentinel connection is set up
  // within `timeout`, and a sentinel that leaves a PING unanswered for twice the keep-alive
  // interval (the larger of timeout and 1 s) is dropped.
  switch_watch(boost::asio::any_io_executor executor,
               std::shared_ptr<boost::asio::ssl::context> tls, url primary,
               sentinel_options sentinels, std::chrono::milliseconds timeout,
               std::chrono::milliseconds backoff_first, std::chrono::milliseconds backoff_cap,
               on_switch notify);

  // Subscribes and listens until close(). Never throws beyond allocation.
  static boost::asio::awaitable<void> run(std::shared_ptr<switch_watch> self);
  // Ends run() at once. Idempotent.
  void close() noexcept;
  // True while subscribed on a sentinel.
  bool subscribed() const noexcept { return subscribed_; }

 private:
  boost::asio::awaitable<std::string> listen(session& s);
  boost::asio::awaitable<std::string> keep_alive(session& s);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  url primary_;
  sentinel_options sentinels_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds ping_every_;
  reconnect_backoff backoff_;
  on_switch notify_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<session> session_;
  std::size_t next_ = 0;  // the sentinel to subscribe on next
  bool pong_owed_ = false;
  bool subscribed_ = false;
  bool closed_ = false;
};

}  // namespace bridge::queue::redis
