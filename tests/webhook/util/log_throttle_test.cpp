// The throttle behind repeated warnings (unsigned POSTs, unrouted messages, accept failures):
// one line per interval, and the next line that gets through says how many were held back.
#include "webhook/util/log_throttle.hpp"

#include <boost/test/unit_test.hpp>

namespace {
using bridge::webhook::util::log_throttle;
using namespace std::chrono_literals;

// What admit() answered: the held-back count, or -1 when the line was held back.
long long admitted(log_throttle& throttle, log_throttle::clock::time_point at) {
  const auto held_back = throttle.admit(at);
  return held_back ? static_cast<long long>(*held_back) : -1;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(log_throttle_suite)

// A flood within the interval makes one line; the first one after it reports the 50 held back.
BOOST_AUTO_TEST_CASE(a_flood_is_one_line_per_interval_and_the_next_line_counts_it) {
  log_throttle throttle(10s);
  const auto start = log_throttle::clock::now();
  BOOST_TEST(admitted(throttle, start) == 0);
  for (int i = 1; i < 50; ++i)
    BOOST_TEST(admitted(throttle, start + i * 20ms) == -1, i);
  BOOST_TEST(admitted(throttle, start + 9999ms) == -1);
  BOOST_TEST(admitted(throttle, start + 10s + 1ms) == 50);
  // The count starts again from the line that reported it.
  BOOST_TEST(admitted(throttle, start + 11s) == -1);
  BOOST_TEST(admitted(throttle, start + 21s) == 1);
  BOOST_TEST(admitted(throttle, start + 40s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
