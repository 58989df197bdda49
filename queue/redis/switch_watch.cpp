#include "queue/redis/switch_watch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <string>
#include <vector>

#include "queue/redis/discovery.hpp"
#include "queue/redis/request.hpp"

namespace bridge::queue::redis {

namespace asio = boost::asio;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

switch_watch::switch_watch(asio::any_io_executor executor, std::shared_ptr<asio::ssl::context> tls,
                           url primary, sentinel_options sentinels,
                           std::chrono::milliseconds timeout,
                           std::chrono::milliseconds backoff_first,
                           std::chrono::milliseconds backoff_cap, on_switch notify)
    : executor_(std::move(executor)),
      tls_(std::move(tls)),
      primary_(std::move(primary)),
      sentinels_(std::move(sentinels)),
      timeout_(timeout),
      ping_every_(std::max(timeout, std::chrono::milliseconds(1000))),
      backoff_(backoff_first, backoff_cap, std::random_device{}()),
      notify_(std::move(notify)),
      timer_(executor_) {}

awaitable<void> switch_watch::run(std::shared_ptr<switch_watch> self) {
  switch_watch& w = *self;
  const std::size_t count = w.sentinels_.addresses.size();
  while (!w.closed_ && count > 0) {
    const server_address where = w.sentinels_.addresses[w.next_ % count];
    w.next_ = (w.next_ + 1) % count;
    w.session_ = std::make_unique<session>(w.executor_, w.tls_.get());
    const auto deadline = clock_type::now() + w.timeout_;
    std::optional<setup_error> failed =
        co_await w.session_->open(sentinel_url(w.primary_, where), w.sentinels_.password, deadline);
    std::vector<reply> confirmed;
    if (!failed) {
      request subscribe;
      subscribe.push({"SUBSCRIBE", "+switch-master"});
      failed = co_await w.session_->round_trip(subscribe, deadline, confirmed, "SUBSCRIBE");
      if (!failed && confirmed.front().is_error()) {
        failed = setup_error{{}, std::string(confirmed.front().error_message())};
      }
    }
    if (w.closed_) break;
    std::string why;
    if (failed) {
      why = "subscribing failed: " + failed->detail;
    } else {
      w.subscribed_ = true;
      w.pong_owed_ = false;
      w.backoff_.reset();
      spdlog::info("redis: listening for +switch-master of {} on sentinel {}",
                   w.sentinels_.master_name, where.to_string());
      using namespace asio::experimental::awaitable_operators;
      auto ended = co_await (w.listen(*w.session_) || w.keep_alive(*w.session_));
      why = ended.index() == 0 ? std::get<0>(ended) : std::get<1>(ended);
      w.subscribed_ = false;
    }
    w.session_->stream.close();
    w.session_.reset();
    if (w.closed_) break;
    const auto delay = w.backoff_.next();
    spdlog::warn(
        "redis: +switch-master subscription on sentinel {} ended ({}); trying sentinel {} "
        "in {} ms",
        where.to_string(), why, w.sentinels_.addresses[w.next_ % count].to_string(), delay.count());
    w.timer_.expires_after(delay);
    co_await w.timer_.async_wait(use_tuple);
  }
}

awaitable<std::string> switch_watch::listen(session& s) {
  for (;;) {
    reply pushed;
    if (auto failed = co_await s.next_reply(clock_type::time_point::max(), pushed, "a push")) {
      co_return failed->detail;
    }
    if (is_pong(pushed)) {
      pong_owed_ = false;
      continue;
    }
    auto notice = parse_switch_notice(pushed);
    if (!notice || notice->master_name != sentinels_.master_name) continue;
    spdlog::warn("redis: +switch-master: the primary of {} moved from {} to {}",
                 notice->master_name, notice->from.to_string(), notice->to.to_string());
    notify_(*notice);
  }
}

awaitable<std::string> switch_watch::keep_alive(session& s) {
  static const std::string ping = "*1\r\n$4\r\nPING\r\n";
  for (;;) {
    timer_.expires_after(ping_every_);
    auto [ec] = co_await timer_.async_wait(use_tuple);
    if (ec || closed_) co_return "closed";
    if (pong_owed_) {
      s.stream.close();  // ends listen() too
      co_return "no answer to PING within " + std::to_string(2 * ping_every_.count()) + " ms";
    }
    pong_owed_ = true;
    const std::vector<asio::const_buffer> wire{asio::buffer(ping)};
    auto [write_ec, n] = co_await s.stream.write(wire);
    if (write_ec) co_return "PING failed: " + write_ec.message();
  }
}

void switch_watch::close() noexcept {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  if (session_) session_->stream.close();
}

}  // namespace bridge::queue::redis
