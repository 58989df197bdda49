#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <optional>

#include "tests/support/parking.hpp"
#include "webhook/io/clock.hpp"

namespace bridge::test {

// A clock whose time moves only when the test says so. advance() steps through the deadlines of
// the coroutines sleeping on it in order: at each it sets the time to that deadline, wakes whoever
// sleeps until then and runs what is ready on the io_context, so a coroutine woken at t sees
// now() == t, and a sleep it starts then counts from t. Not thread-safe: the test's thread only,
// never from inside io.run() (advance() polls the context itself).
class manual_clock final : public webhook::io::clock {
 public:
  // An arbitrary start far from the clocks' epochs, so a default-constructed time_point is in the
  // past.
  static constexpr time_point default_start = time_point{} + std::chrono::hours(1000);
  // 2025-11-24T08:00:00Z, the date of the fixtures' samples.
  static constexpr std::chrono::system_clock::time_point default_wall_start =
      std::chrono::system_clock::time_point{} + std::chrono::seconds(1763971200);

  // Steady time starts at `start`, calendar time at `wall_start`; advance() runs `io`.
  explicit manual_clock(boost::asio::io_context& io, time_point start = default_start,
                        std::chrono::system_clock::time_point wall_start = default_wall_start);

  time_point now() const override { return now_; }
  // The calendar start plus the steady time advanced since.
  std::chrono::system_clock::time_point wall_now() const override;
  // Completes when advance() reaches `deadline`, at once (without suspending) when it is not in
  // the future. Cancelling the awaiting coroutine throws operation_aborted.
  boost::asio::awaitable<void> sleep_until(time_point deadline) override;

  // Moves time forward by `step`, waking every sleeper whose deadline it passes at its deadline
  // (see the class comment), and runs what is ready at the end.
  void advance(duration step);
  // Moves time to the earliest deadline anyone sleeps until and wakes those sleepers; false (and
  // time unchanged) when nobody sleeps.
  bool advance_to_next();
  // Coroutines sleeping on this clock now.
  std::size_t sleepers() const;
  // The earliest deadline a coroutine sleeps until; nullopt when nobody sleeps.
  std::optional<time_point> next_deadline() const;

 private:
  // Wakes the sleepers due at now_, earliest deadline first, and runs what they make ready.
  void wake_due();

  boost::asio::io_context& io_;
  time_point start_;
  time_point now_;
  std::chrono::system_clock::time_point wall_start_;
  parking<time_point> sleepers_;
};

}  // namespace bridge::test
