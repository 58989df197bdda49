#include "bridge/store/send_pacer.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using bridge::store::send_pacer;
using namespace std::chrono_literals;

namespace {
const auto t0 = send_pacer::clock::time_point{} + 1h;

// Send times for n messages asked for all at once at t0.
std::vector<send_pacer::clock::time_point> burst(send_pacer& pacer, std::uint32_t rate, int n) {
  std::vector<send_pacer::clock::time_point> times;
  for (int i = 0; i < n; ++i)
    times.push_back(t0 + pacer.reserve("106", rate, t0));
  return times;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(send_pacer_suite)

BOOST_AUTO_TEST_CASE(a_burst_goes_out_at_once_up_to_the_bucket_then_at_the_rate) {
  send_pacer pacer;
  const auto times = burst(pacer, 80, 100);
  const auto bucket = send_pacer::burst_for(80);
  BOOST_TEST(bucket == 20u);
  for (std::uint32_t i = 0; i < bucket; ++i)
    BOOST_TEST((times[i] == t0));
  // After the bucket, one every 1/80 s.
  BOOST_TEST((times[bucket] - t0 == 12500us));
  BOOST_TEST((times[99] - times[98] == 12500us));
}

BOOST_AUTO_TEST_CASE(no_one_second_window_holds_more_than_rate_plus_bucket) {
  send_pacer pacer;
  const std::uint32_t rate = 50;
  const auto times = burst(pacer, rate, 500);
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t in_window = 0;
    for (std::size_t j = i; j < times.size() && times[j] < times[i] + 1s; ++j)
      ++in_window;
    BOOST_TEST(in_window <= rate + send_pacer::burst_for(rate), "window starting at " << i);
  }
  // And the whole burst takes as long as the rate says.
  BOOST_TEST((times.back() - t0 >= std::chrono::milliseconds((500 - 12 - 1) * 1000 / 50)));
}

BOOST_AUTO_TEST_CASE(numbers_are_paced_separately) {
  send_pacer pacer;
  for (int i = 0; i < 10; ++i)
    pacer.reserve("a", 1, t0);
  BOOST_TEST((pacer.reserve("b", 1, t0) == send_pacer::clock::duration::zero()));
}

BOOST_AUTO_TEST_CASE(an_idle_number_earns_no_more_than_its_bucket) {
  send_pacer pacer;
  pacer.reserve("106", 4, t0);
  // An hour later, only the bucket (1 message at 4/s) is free at once.
  const auto later = t0 + 1h;
  BOOST_TEST((pacer.reserve("106", 4, later) == send_pacer::clock::duration::zero()));
  BOOST_TEST((pacer.reserve("106", 4, later) == 250ms));
}

BOOST_AUTO_TEST_SUITE_END()
