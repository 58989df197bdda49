// Task groups on an io_context driven by poll() and a manual clock: tasks run, cancel() ends them
// where they wait, and what ends a task with an error is logged, never thrown at the loop.
#include "webhook/io/task_group.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "tests/support/io_steps.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/manual_clock.hpp"

namespace asio = boost::asio;
using bridge::test::manual_clock;
using bridge::test::settle;
using bridge::webhook::io::task_group;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(task_group_suite)

// A spawned task runs on the group's executor and leaves the group when it ends.
BOOST_AUTO_TEST_CASE(spawned_tasks_run_and_leave_the_group_when_they_end) {
  asio::io_context io;
  task_group group(io.get_executor(), "worker");
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    group.spawn([](int& ran) -> asio::awaitable<void> {
      ++ran;
      co_return;
    }(ran));
  }
  BOOST_TEST(group.running() == 3u);
  BOOST_TEST(ran == 0);  // nothing runs inline: spawn only schedules
  settle(io);
  BOOST_TEST(ran == 3);
  BOOST_TEST(group.running() == 0u);
}

// cancel() ends a task where it waits (a sleep on the clock here): the code after the wait never
// runs, and a cancellation is routine, not logged as an error.
BOOST_AUTO_TEST_CASE(cancel_ends_a_sleeping_task_where_it_waits) {
  bridge::test::log_capture log(spdlog::level::trace);
  asio::io_context io;
  manual_clock clock(io);
  task_group group(io.get_executor(), "worker");
  bool woke = false;
  group.spawn([](manual_clock& clock, bool& woke) -> asio::awaitable<void> {
    co_await clock.sleep_for(1h);
    woke = true;
  }(clock, woke));
  settle(io);
  BOOST_TEST(clock.sleepers() == 1u);
  group.cancel();
  settle(io);
  BOOST_TEST(group.running() == 0u);
  BOOST_TEST(clock.sleepers() == 0u);
  clock.advance(2h);
  BOOST_TEST(!woke);
  BOOST_TEST(log.text().empty());
}

// cancel() also reaches a task waiting on a plain Asio timer, and tasks spawned after it run.
BOOST_AUTO_TEST_CASE(cancel_reaches_asio_waits_and_later_tasks_still_run) {
  asio::io_context io;
  task_group group(io.get_executor(), "worker");
  bool after_wait = false;
  group.spawn([](bool& after_wait) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
    co_await timer.async_wait(asio::use_awaitable);
    after_wait = true;
  }(after_wait));
  settle(io);
  group.cancel();
  settle(io);
  BOOST_TEST(group.running() == 0u);
  BOOST_TEST(!after_wait);
  bool later = false;
  group.spawn([](bool& later) -> asio::awaitable<void> {
    later = true;
    co_return;
  }(later));
  settle(io);
  BOOST_TEST(later);
}

// A task that throws ends with one error line naming the group; the exception never reaches the
// event loop, and the other tasks go on.
BOOST_AUTO_TEST_CASE(an_exception_is_logged_not_propagated) {
  bridge::test::log_capture log(spdlog::level::trace);
  asio::io_context io;
  task_group group(io.get_executor(), "worker");
  bool other = false;
  group.spawn([]() -> asio::awaitable<void> {
    throw std::runtime_error("boom");
    co_return;
  }());
  group.spawn([](bool& other) -> asio::awaitable<void> {
    other = true;
    co_return;
  }(other));
  BOOST_CHECK_NO_THROW(settle(io));
  BOOST_TEST(other);
  BOOST_TEST(group.running() == 0u);
  BOOST_TEST(log.text().find("worker stopped by an error: boom") != std::string::npos, log.text());
}

// cancel() from outside the event loop (a test, a destructor after run() returned) while a task
// is ending at the same time: the task that ended is left alone, the others still stop.
BOOST_AUTO_TEST_CASE(cancel_from_outside_the_loop_while_a_task_ends) {
  asio::io_context io;
  manual_clock clock(io);
  task_group group(io.get_executor(), "worker");
  asio::steady_timer wake(io, asio::steady_timer::time_point::max());
  bool ended_normally = false;
  group.spawn([](asio::steady_timer& wake, bool& ended_normally) -> asio::awaitable<void> {
    auto [ec] = co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    ended_normally = ec == asio::error::operation_aborted;  // woken by the test, not cancelled
  }(wake, ended_normally));
  bool woke = false;
  group.spawn([](manual_clock& clock, bool& woke) -> asio::awaitable<void> {
    co_await clock.sleep_for(1h);
    woke = true;
  }(clock, woke));
  settle(io);
  wake.cancel();   // the first task's wait completes: it ends at the next poll
  group.cancel();  // from the test's thread, outside io.run()
  settle(io);
  BOOST_TEST(ended_normally);
  BOOST_TEST(group.running() == 0u);
  clock.advance(2h);
  BOOST_TEST(!woke);
}

// Destroying the group cancels what still runs.
BOOST_AUTO_TEST_CASE(destroying_the_group_cancels_its_tasks) {
  asio::io_context io;
  manual_clock clock(io);
  bool woke = false;
  {
    task_group group(io.get_executor(), "connection");
    group.spawn([](manual_clock& clock, bool& woke) -> asio::awaitable<void> {
      co_await clock.sleep_for(1s);
      woke = true;
    }(clock, woke));
    settle(io);
    BOOST_TEST(clock.sleepers() == 1u);
  }
  settle(io);
  BOOST_TEST(clock.sleepers() == 0u);
  clock.advance(1s);
  BOOST_TEST(!woke);
}

BOOST_AUTO_TEST_SUITE_END()
