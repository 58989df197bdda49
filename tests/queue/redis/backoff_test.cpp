// Reconnect delays: doubling with jitter in the upper half of each step, capped, reset.
#include "queue/redis/backoff.hpp"

#include <boost/test/unit_test.hpp>
#include <set>

using namespace bridge::queue::redis;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(backoff_suite)

BOOST_AUTO_TEST_CASE(delays_double_within_jitter_up_to_the_cap) {
  reconnect_backoff backoff(milliseconds(100), milliseconds(5000), 7);
  const long steps[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (long step : steps) {
    const auto delay = backoff.next().count();
    BOOST_TEST(delay >= step / 2);
    BOOST_TEST(delay <= step);
  }
  backoff.reset();
  BOOST_TEST(backoff.next().count() <= 100);
}

BOOST_AUTO_TEST_CASE(replicas_with_different_seeds_spread_out) {
  std::set<long> firsts;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    reconnect_backoff backoff(milliseconds(1000), milliseconds(5000), seed);
    firsts.insert(backoff.next().count());
  }
  BOOST_TEST(firsts.size() > 10u);
}

BOOST_AUTO_TEST_CASE(degenerate_settings_are_clamped) {
  reconnect_backoff zero(milliseconds(0), milliseconds(0), 1);
  BOOST_TEST(zero.next().count() <= 1);
  reconnect_backoff inverted(milliseconds(300), milliseconds(10), 1);
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(inverted.next().count() <= 300);
}

BOOST_AUTO_TEST_SUITE_END()
