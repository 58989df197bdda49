// The tests' manual clock (tests/support/manual_clock): time moves only by advance(), sleepers
// wake at their own deadlines in order, and a real cancellation still ends a sleep with
// operation_aborted.
#include "tests/support/manual_clock.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <vector>

#include "tests/support/io_steps.hpp"

namespace asio = boost::asio;
using bridge::test::manual_clock;
using bridge::test::rethrow_errors;
using bridge::test::settle;
using namespace std::chrono_literals;

namespace {

// Sleeps `delay`, then notes the clock's time in `woke` (under `tag`).
asio::awaitable<void> sleeper(manual_clock& clock, manual_clock::duration delay, int tag,
                              std::vector<std::pair<int, manual_clock::time_point>>& woke) {
  co_await clock.sleep_for(delay);
  woke.emplace_back(tag, clock.now());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(manual_clock_suite)

// Time stands still until advance(); calendar time moves with steady time.
BOOST_AUTO_TEST_CASE(time_moves_only_when_advanced) {
  asio::io_context io;
  manual_clock clock(io);
  const auto start = clock.now();
  const auto wall = clock.wall_now();
  BOOST_TEST((start == manual_clock::default_start));
  BOOST_TEST((wall == manual_clock::default_wall_start));
  settle(io);
  BOOST_TEST((clock.now() == start));
  clock.advance(1500ms);
  BOOST_TEST((clock.now() - start == 1500ms));
  BOOST_TEST((clock.wall_now() - wall == 1500ms));
  BOOST_TEST(!clock.advance_to_next());  // nobody sleeps: time stays
  BOOST_TEST((clock.now() - start == 1500ms));
}

// A sleeper wakes when its deadline is reached, not a nanosecond before, and sees the deadline.
BOOST_AUTO_TEST_CASE(a_sleeper_wakes_exactly_at_its_deadline) {
  asio::io_context io;
  manual_clock clock(io);
  const auto start = clock.now();
  std::vector<std::pair<int, manual_clock::time_point>> woke;
  asio::co_spawn(io, sleeper(clock, 1s, 1, woke), rethrow_errors);
  settle(io);
  BOOST_TEST(clock.sleepers() == 1u);
  BOOST_TEST((clock.next_deadline() == start + 1s));
  clock.advance(1s - 1ns);
  BOOST_TEST(woke.empty());
  clock.advance(1ns);
  BOOST_TEST_REQUIRE(woke.size() == 1u);
  BOOST_TEST((woke[0].second == start + 1s));
  BOOST_TEST(clock.sleepers() == 0u);
}

// One long advance wakes every sleeper on the way at its own deadline, earliest first (equal
// deadlines in the order they went to sleep), and a sleep begun on waking counts from then.
BOOST_AUTO_TEST_CASE(a_long_advance_steps_through_every_deadline_in_order) {
  asio::io_context io;
  manual_clock clock(io);
  const auto start = clock.now();
  std::vector<std::pair<int, manual_clock::time_point>> woke;
  asio::co_spawn(io, sleeper(clock, 3s, 3, woke), rethrow_errors);
  asio::co_spawn(io, sleeper(clock, 1s, 1, woke), rethrow_errors);
  asio::co_spawn(io, sleeper(clock, 2s, 2, woke), rethrow_errors);
  asio::co_spawn(io, sleeper(clock, 1s, 4, woke), rethrow_errors);
  // Sleeps 1 s twice: wakes at 2 s, after the first 2 s sleeper.
  asio::co_spawn(
      io,
      [](manual_clock& clock,
         std::vector<std::pair<int, manual_clock::time_point>>& woke) -> asio::awaitable<void> {
        co_await clock.sleep_for(1s);
        co_await clock.sleep_for(1s);
        woke.emplace_back(5, clock.now());
      }(clock, woke),
      rethrow_errors);
  clock.advance(10s);
  const std::vector<std::pair<int, manual_clock::time_point>> expected = {
      {1, start + 1s}, {4, start + 1s}, {2, start + 2s}, {5, start + 2s}, {3, start + 3s}};
  BOOST_TEST_REQUIRE(woke.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(woke[i].first == expected[i].first, "wake " << i);
    BOOST_TEST((woke[i].second == expected[i].second), "wake " << i);
  }
  BOOST_TEST((clock.now() == start + 10s));
}

// advance_to_next() jumps to the earliest deadline only.
BOOST_AUTO_TEST_CASE(advance_to_next_wakes_only_the_earliest) {
  asio::io_context io;
  manual_clock clock(io);
  const auto start = clock.now();
  std::vector<std::pair<int, manual_clock::time_point>> woke;
  asio::co_spawn(io, sleeper(clock, 5s, 5, woke), rethrow_errors);
  asio::co_spawn(io, sleeper(clock, 2s, 2, woke), rethrow_errors);
  BOOST_TEST(clock.advance_to_next());
  BOOST_TEST((clock.now() == start + 2s));
  BOOST_TEST_REQUIRE(woke.size() == 1u);
  BOOST_TEST(woke[0].first == 2);
  BOOST_TEST(clock.advance_to_next());
  BOOST_TEST(woke.size() == 2u);
  BOOST_TEST((clock.now() == start + 5s));
}

// A deadline that is not in the future completes at once, without waiting for advance().
BOOST_AUTO_TEST_CASE(a_past_deadline_completes_at_once) {
  asio::io_context io;
  manual_clock clock(io);
  std::vector<std::pair<int, manual_clock::time_point>> woke;
  asio::co_spawn(
      io,
      [](manual_clock& clock,
         std::vector<std::pair<int, manual_clock::time_point>>& woke) -> asio::awaitable<void> {
        co_await clock.sleep_until(clock.now());
        co_await clock.sleep_until(clock.now() - 1s);
        co_await clock.sleep_for(0s);
        woke.emplace_back(0, clock.now());
      }(clock, woke),
      rethrow_errors);
  settle(io);
  BOOST_TEST(woke.size() == 1u);
  BOOST_TEST(clock.sleepers() == 0u);
}

// Cancelling the sleeping coroutine (its cancellation slot) ends the sleep with
// operation_aborted, as a real timer would, and it no longer counts as a sleeper.
BOOST_AUTO_TEST_CASE(a_real_cancellation_throws_operation_aborted) {
  asio::io_context io;
  manual_clock clock(io);
  asio::cancellation_signal signal;
  std::optional<boost::system::error_code> ended;
  asio::co_spawn(io, clock.sleep_for(1h),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
                   ended = boost::system::error_code{};
                   try {
                     if (e) std::rethrow_exception(e);
                   } catch (const boost::system::system_error& error) {
                     ended = error.code();
                   }
                 }));
  settle(io);
  BOOST_TEST(clock.sleepers() == 1u);
  signal.emit(asio::cancellation_type::terminal);
  settle(io);
  BOOST_TEST_REQUIRE(ended.has_value());
  BOOST_TEST((*ended == asio::error::operation_aborted));
  BOOST_TEST(clock.sleepers() == 0u);
}

// A wake by advance() is a normal return even though it cancels the sleeper's timer.
BOOST_AUTO_TEST_CASE(a_wake_by_advance_is_not_an_error) {
  asio::io_context io;
  manual_clock clock(io);
  std::optional<bool> failed;
  asio::co_spawn(io, clock.sleep_for(1s), [&](std::exception_ptr e) { failed = e != nullptr; });
  clock.advance(1s);
  BOOST_TEST_REQUIRE(failed.has_value());
  BOOST_TEST(!*failed);
}

BOOST_AUTO_TEST_SUITE_END()
