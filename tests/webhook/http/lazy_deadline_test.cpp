// The lazy deadline under deadline_socket and handler_watch: a passed deadline is reported once,
// moving it later costs no timer operation, a wake before the deadline re-arms (within
// check_every), and a cleared or destroyed deadline never reports.
#include "webhook/http/lazy_deadline.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>

namespace asio = boost::asio;
using bridge::webhook::http::lazy_deadline;
using clock_type = lazy_deadline::clock;
using namespace std::chrono_literals;

namespace {
constexpr auto no_check = clock_type::duration::max();

// A deadline on a test-driven io_context that counts how often it passed.
struct counted_deadline {
  explicit counted_deadline(clock_type::duration check_every = no_check)
      : deadline(io.get_executor(), check_every, [this] { ++passed; }) {}
  asio::io_context io;
  int passed = 0;
  lazy_deadline deadline;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(lazy_deadline_suite)

BOOST_AUTO_TEST_CASE(a_passed_deadline_is_reported_once) {
  counted_deadline t;
  auto& [io, passed, deadline] = t;
  deadline.set(clock_type::now());
  io.run_one();
  BOOST_TEST(passed == 1);
  io.poll();
  BOOST_TEST(passed == 1);
  // A new deadline starts again.
  deadline.set(clock_type::now());
  io.restart();  // it ran out of work above
  io.run_one();
  BOOST_TEST(passed == 2);
}

BOOST_AUTO_TEST_CASE(moving_the_deadline_later_arms_no_timer_and_sooner_arms_one) {
  counted_deadline t;
  auto& [io, passed, deadline] = t;
  const auto start = clock_type::now();
  for (int i = 0; i < 1000; ++i) {
    deadline.set(start + 1h + i * 1ms);
    io.poll();
  }
  BOOST_TEST(deadline.arms() == 1u);
  deadline.set(start + 30min);
  BOOST_TEST(deadline.arms() == 2u);
  BOOST_TEST(passed == 0);
}

BOOST_AUTO_TEST_CASE(a_wake_before_the_deadline_rearms_for_it) {
  counted_deadline t;
  auto& [io, passed, deadline] = t;
  deadline.set(clock_type::now());       // armed for now ...
  deadline.set(clock_type::now() + 1h);  // ... and moved on before the wake
  io.run_one();
  BOOST_TEST(passed == 0);
  BOOST_TEST(deadline.arms() == 2u);  // re-armed for the hour
}

BOOST_AUTO_TEST_CASE(the_timer_looks_again_after_check_every) {
  counted_deadline t(1ns);
  auto& [io, passed, deadline] = t;
  deadline.set(clock_type::now() + 1h);  // the timer wakes after check_every, not in an hour
  io.run_one();
  BOOST_TEST(passed == 0);
  BOOST_TEST(deadline.arms() == 2u);  // and sleeps again for at most check_every
}

BOOST_AUTO_TEST_CASE(a_cleared_deadline_never_passes_and_the_next_set_arms_again) {
  counted_deadline t;
  auto& [io, passed, deadline] = t;
  deadline.set(clock_type::now());
  deadline.clear();
  io.run_one();  // the wake finds no deadline and leaves the timer unarmed
  BOOST_TEST(passed == 0);
  BOOST_TEST(deadline.arms() == 1u);
  deadline.set(clock_type::now() + 1h);
  BOOST_TEST(deadline.arms() == 2u);
}

BOOST_AUTO_TEST_CASE(a_deadline_destroyed_with_its_wake_queued_reports_nothing) {
  asio::io_context io;
  int passed = 0;
  {
    lazy_deadline deadline(io.get_executor(), no_check, [&] { ++passed; });
    deadline.set(clock_type::now());
  }
  io.run();
  BOOST_TEST(passed == 0);
}

BOOST_AUTO_TEST_SUITE_END()
