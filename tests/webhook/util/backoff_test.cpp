#include "webhook/util/backoff.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <limits>

using bridge::webhook::util::backoff_delay;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(ceiling_doubles_per_retry) {
  // unit_random just below 1 gives the top of the range: base * 2^(n-1) - 1 ms (floor).
  const double top = std::nextafter(1.0, 0.0);
  BOOST_TEST(backoff_delay(1, milliseconds(100), milliseconds(10000), top).count() == 99);
  BOOST_TEST(backoff_delay(2, milliseconds(100), milliseconds(10000), top).count() == 199);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(10000), top).count() == 399);
  BOOST_TEST(backoff_delay(4, milliseconds(100), milliseconds(10000), top).count() == 799);
}

BOOST_AUTO_TEST_CASE(jitter_scales_linearly) {
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(10000), 0.0).count() == 0);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(10000), 0.5).count() == 200);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(10000), 0.25).count() == 100);
}

BOOST_AUTO_TEST_CASE(never_above_cap) {
  const milliseconds cap(5000);
  for (int n = 1; n <= 200; ++n) {
    for (double r : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
      const milliseconds d = backoff_delay(n, milliseconds(250), cap, r);
      BOOST_TEST_CONTEXT("n=" << n << " r=" << r) {
        BOOST_TEST(d.count() >= 0);
        BOOST_TEST(d.count() <= cap.count());
      }
    }
  }
  BOOST_TEST(backoff_delay(10, milliseconds(250), cap, 0.5).count() == 2500);
}

BOOST_AUTO_TEST_CASE(grows_with_retry_number_until_cap) {
  milliseconds previous(-1);
  for (int n = 1; n <= 8; ++n) {
    const milliseconds d = backoff_delay(n, milliseconds(100), milliseconds(60000), 0.75);
    BOOST_TEST(d > previous);
    previous = d;
  }
  // Past the cap it stays flat.
  BOOST_TEST(backoff_delay(20, milliseconds(100), milliseconds(60000), 0.5).count() == 30000);
  BOOST_TEST(backoff_delay(21, milliseconds(100), milliseconds(60000), 0.5).count() == 30000);
}

BOOST_AUTO_TEST_CASE(overflow_safe_for_large_retry_numbers) {
  const milliseconds huge_cap(std::numeric_limits<milliseconds::rep>::max());
  for (int n : {62, 63, 64, 65, 100, 1000, std::numeric_limits<int>::max()}) {
    BOOST_TEST_CONTEXT("n=" << n) {
      const milliseconds d = backoff_delay(n, milliseconds(100), milliseconds(30000), 0.5);
      BOOST_TEST(d.count() == 15000);
      const milliseconds big = backoff_delay(n, milliseconds(1000), huge_cap, 0.999999);
      BOOST_TEST(big.count() >= 0);
      BOOST_TEST(big.count() <= huge_cap.count());
    }
  }
  BOOST_TEST(backoff_delay(100, milliseconds(100), milliseconds(30000), 0.75).count() == 22500);
}

BOOST_AUTO_TEST_CASE(out_of_range_inputs_are_clamped) {
  BOOST_TEST(backoff_delay(0, milliseconds(100), milliseconds(1000), 0.5).count() == 50);
  BOOST_TEST(backoff_delay(-5, milliseconds(100), milliseconds(1000), 0.5).count() == 50);
  BOOST_TEST(backoff_delay(3, milliseconds(-100), milliseconds(1000), 0.5).count() == 0);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(-1), 0.5).count() == 0);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(1000), -0.5).count() == 0);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(1000), 7.0).count() == 400);
  BOOST_TEST(backoff_delay(3, milliseconds(100), milliseconds(1000), std::nan("")).count() == 0);
  BOOST_TEST(backoff_delay(3, milliseconds(0), milliseconds(1000), 0.5).count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
