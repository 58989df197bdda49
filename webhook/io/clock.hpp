#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

namespace bridge::webhook::io {

// Time as the pipeline and the workers see it: an interface, so their waits (retry backoff,
// pacing, the coalesce window, typing refreshes, leases) can be driven by a test's manual clock
// with io.poll() instead of real sleeps.
class clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~clock() = default;
  // Monotonic time, for deadlines and durations.
  virtual time_point now() const = 0;
  // Calendar time, for what is dated by the outside world (Meta's message timestamps).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
  // Completes at `deadline` (at once when it has passed). Cancelling the awaiting coroutine
  // (its cancellation slot) ends the wait early by throwing operation_aborted.
  virtual boost::asio::awaitable<void> sleep_until(time_point deadline) = 0;

  // sleep_until(now() + delay).
  boost::asio::awaitable<void> sleep_for(duration delay) { return sleep_until(now() + delay); }
};

// The real clock: std::chrono's steady and system clocks, Asio's steady_timer.
std::shared_ptr<clock> make_system_clock();

}  // namespace bridge::webhook::io
