// The handler watch: a handler past its deadline is reported once, one that ends in time never is
// (even when the timer wakes while a later handler runs), the timer is not armed per request, and
// the connection's wait for a late answer ends once the answer is out.
#include "webhook/http/handler_watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using bridge::webhook::http::handler_watch;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(handler_watch_suite)

BOOST_AUTO_TEST_CASE(a_handler_past_its_deadline_is_reported_once) {
  asio::io_context io;
  int late = 0;
  handler_watch watch(io.get_executor(), [&] { ++late; });
  watch.begin(0ms);  // due at once: the timer's first wake finds it late
  io.run_one();
  BOOST_TEST(late == 1);
  io.poll();
  BOOST_TEST(late == 1);
  BOOST_TEST(watch.end());
}

BOOST_AUTO_TEST_CASE(handlers_that_end_in_time_are_never_late_and_share_one_timer) {
  asio::io_context io;
  int late = 0;
  handler_watch watch(io.get_executor(), [&] { ++late; });
  for (int i = 0; i < 1000; ++i) {
    watch.begin(1h);
    io.poll();
    BOOST_TEST(!watch.end());
  }
  BOOST_TEST(late == 0);
  // Deadlines only move later, so the timer armed for the first one serves them all.
  BOOST_TEST(watch.timer_arms() == 1u);
  // A shorter limit than any before arms it again.
  watch.begin(30min);
  BOOST_TEST(watch.timer_arms() == 2u);
  BOOST_TEST(!watch.end());
}

BOOST_AUTO_TEST_CASE(a_wake_for_an_ended_handler_rearms_for_the_one_running_now) {
  asio::io_context io;
  int late = 0;
  handler_watch watch(io.get_executor(), [&] { ++late; });
  watch.begin(0ms);          // the timer is armed for now ...
  BOOST_TEST(!watch.end());  // ... but this handler ended in time
  watch.begin(1h);           // and this one has an hour
  io.run_one();              // the wake for the first deadline
  BOOST_TEST(late == 0);
  BOOST_TEST(watch.timer_arms() == 2u);  // re-armed for the running handler's deadline
  BOOST_TEST(!watch.end());
}

BOOST_AUTO_TEST_CASE(a_wake_with_no_handler_running_leaves_the_timer_for_the_next_begin) {
  asio::io_context io;
  int late = 0;
  handler_watch watch(io.get_executor(), [&] { ++late; });
  watch.begin(0ms);
  BOOST_TEST(!watch.end());
  io.run_one();  // wakes, nothing runs: not re-armed
  BOOST_TEST(watch.timer_arms() == 1u);
  watch.begin(0ms);  // so the next begin arms it
  BOOST_TEST(watch.timer_arms() == 2u);
  io.restart();  // run_one stopped the context when it ran out of work
  io.run_one();
  BOOST_TEST(late == 1);
  BOOST_TEST(watch.end());
}

BOOST_AUTO_TEST_CASE(the_wait_for_a_late_answer_ends_once_it_is_written) {
  asio::io_context io;
  handler_watch* watched = nullptr;
  bool late_started = false;
  handler_watch watch(io.get_executor(), [&] { late_started = true; });
  watched = &watch;
  bool waited = false;
  watch.begin(0ms);
  io.run_one();
  BOOST_TEST(late_started);
  BOOST_TEST(watch.end());
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await watched->late_answer_written();
        waited = true;
      },
      asio::detached);
  io.restart();  // run_one stopped the context when it ran out of work
  io.poll();
  BOOST_TEST(!waited);  // the answer is not out yet
  watch.late_answer_done();
  io.poll();
  BOOST_TEST(waited);
}

BOOST_AUTO_TEST_CASE(with_nothing_late_the_wait_ends_at_once) {
  asio::io_context io;
  handler_watch watch(io.get_executor(), [] {});
  watch.begin(1h);
  BOOST_TEST(!watch.end());
  bool waited = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await watch.late_answer_written();
        waited = true;
      },
      asio::detached);
  io.poll();
  BOOST_TEST(waited);
}

BOOST_AUTO_TEST_SUITE_END()
