#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace bridge::webhook::http {

namespace detail {
struct handler_watch_state;  // shared by a watch and its timer's wait, which may outlive it
}  // namespace detail

// Watches one connection's request handlers for overrunning their deadline, without a timer
// operation per request. The handler runs in the connection's own coroutine; when one is still
// running at its deadline, `on_late` is called (once, on the executor), and the connection writes
// its 503 from elsewhere while the handler runs on to its end (it is never cancelled half-way).
//
// Per request, begin() and end() are stores: the handlers' deadline is a lazy_deadline, whose one
// timer per connection wakes at a deadline and, when the handler it was armed for has ended and
// another runs, re-arms itself for that one's deadline (as deadline_socket's does for reads and
// writes). Under steady keep-alive traffic the
// timer is touched about once per handler_timeout, not twice per request as a timer armed around
// every handler would be (a wait scheduled, cancelled and completed as aborted; BENCHMARKS.md).
// One executor, like any Asio object.
class handler_watch {
 public:
  using clock = std::chrono::steady_clock;

  handler_watch(boost::asio::any_io_executor executor, std::function<void()> on_late);
  // Stops the timer; a wake already queued finds nothing to do.
  ~handler_watch();
  handler_watch(const handler_watch&) = delete;
  handler_watch& operator=(const handler_watch&) = delete;

  // A handler starts now and should answer within `limit`.
  void begin(clock::duration limit);
  // The handler has answered: true when it was late (on_late ran, and a late answer was or is
  // being written; the connection is over once late_answer_written() completes).
  bool end();

  // For the late answer's writer: its answer is out (or could not be), so the connection may go.
  void late_answer_done();
  // Completes once late_answer_done() was called (at once when it was, or when nothing is late).
  boost::asio::awaitable<void> late_answer_written();

  // How often the timer was armed since the watch was made (tests and BENCHMARKS.md).
  std::uint64_t timer_arms() const;

 private:
  std::shared_ptr<detail::handler_watch_state> state_;
};

}  // namespace bridge::webhook::http
