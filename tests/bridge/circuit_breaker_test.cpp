#include "bridge/circuit_breaker.hpp"

#include <boost/test/unit_test.hpp>

using bridge::circuit_breaker;
using namespace std::chrono_literals;

namespace {
circuit_breaker::settings quick() {
  return {3, 1000ms, 4000ms};
}
const auto t0 = circuit_breaker::clock::time_point{} + 1h;
}  // namespace

BOOST_AUTO_TEST_SUITE(circuit_breaker_suite)

BOOST_AUTO_TEST_CASE(opens_after_the_threshold_of_failures_in_a_row) {
  circuit_breaker b(quick());
  for (int i = 0; i < 2; ++i) {
    BOOST_TEST(b.allow(t0));
    b.on_failure(t0);
  }
  BOOST_TEST((b.current() == circuit_breaker::state::closed));
  BOOST_TEST(b.allow(t0));
  b.on_failure(t0);
  BOOST_TEST((b.current() == circuit_breaker::state::open));
  BOOST_TEST(!b.allow(t0 + 999ms));
  BOOST_TEST(b.times_opened() == 1);
}

BOOST_AUTO_TEST_CASE(a_success_resets_the_count) {
  circuit_breaker b(quick());
  b.on_failure(t0);
  b.on_failure(t0);
  b.on_success();
  b.on_failure(t0);
  b.on_failure(t0);
  BOOST_TEST((b.current() == circuit_breaker::state::closed));
}

BOOST_AUTO_TEST_CASE(one_probe_at_a_time_after_the_pause) {
  circuit_breaker b(quick());
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  BOOST_TEST(b.allow(t0 + 1000ms));  // the probe
  BOOST_TEST((b.current() == circuit_breaker::state::half_open));
  BOOST_TEST(!b.allow(t0 + 1001ms));  // nobody else while it is out
  b.on_success();
  BOOST_TEST((b.current() == circuit_breaker::state::closed));
  BOOST_TEST(b.allow(t0 + 1002ms));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_doubles_the_pause_up_to_the_cap) {
  circuit_breaker b(quick());
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  auto now = t0 + 1000ms;
  std::chrono::milliseconds expected = 2000ms;
  for (int round = 0; round < 4; ++round) {
    BOOST_REQUIRE(b.allow(now));
    b.on_failure(now);
    BOOST_TEST((b.retry_at() - now == expected));
    now = b.retry_at();
    expected = std::min(expected * 2, std::chrono::milliseconds(4000));
  }
  // And success brings the pause back to its first length.
  BOOST_REQUIRE(b.allow(now));
  b.on_success();
  for (int i = 0; i < 3; ++i)
    b.on_failure(now);
  BOOST_TEST((b.retry_at() - now == 1000ms));
}

BOOST_AUTO_TEST_CASE(late_failures_of_calls_started_before_it_opened_do_not_extend_it) {
  circuit_breaker b(quick());
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  const auto retry = b.retry_at();
  b.on_failure(t0 + 500ms);
  BOOST_TEST((b.retry_at() == retry));
}

BOOST_AUTO_TEST_SUITE_END()
