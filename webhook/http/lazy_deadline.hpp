#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace bridge::webhook::http {

namespace detail {
struct lazy_deadline_state;  // shared with the timer's wait, which may outlive the deadline
}  // namespace detail

// A deadline that moves far more often than it passes (a connection's next read or write, a
// request handler's answer), kept by one timer that is not touched when the deadline moves later.
// Setting a deadline is a store; the timer is armed only when the new deadline is sooner than its
// next wake. A wake before the deadline (it moved on) re-arms the timer for the deadline, or for
// `check_every` from now when that is sooner; a wake after it calls `on_passed`, once per
// deadline set. Arming a timer around every operation instead costs a wait scheduled, cancelled
// and completed as aborted each time (BENCHMARKS.md). One executor, like any Asio object.
class lazy_deadline {
 public:
  using clock = std::chrono::steady_clock;

  // `on_passed` runs on `executor`; `check_every` bounds how long the timer sleeps past a wake
  // before it looks again (clock::duration::max(): until the deadline).
  lazy_deadline(boost::asio::any_io_executor executor, clock::duration check_every,
                std::function<void()> on_passed);
  // Stops the timer; a wake already queued does nothing (on_passed is not called any more).
  ~lazy_deadline();
  lazy_deadline(const lazy_deadline&) = delete;
  lazy_deadline& operator=(const lazy_deadline&) = delete;

  // From now on the deadline is `deadline` (sooner or later than the last one).
  void set(clock::time_point deadline);
  // No deadline: nothing passes until the next set(). The timer, if armed, wakes and stops.
  void clear();

  // How often the timer was armed since the deadline was made (tests and BENCHMARKS.md).
  std::uint64_t arms() const;

 private:
  std::shared_ptr<detail::lazy_deadline_state> state_;
};

}  // namespace bridge::webhook::http
