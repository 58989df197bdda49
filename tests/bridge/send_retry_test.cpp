// The Graph retry policy as a value: what it decides after each reply, with the time and the
// random draw passed in.
#include "bridge/send_retry.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/stub_services.hpp"

using bridge::runtime_settings;
using bridge::send_retry;
using bridge::test::graph_accepted;
using bridge::test::graph_error;
using action = bridge::send_retry::decision::action;
using namespace std::chrono_literals;

namespace {

const auto t0 = send_retry::clock::time_point{} + 1h;

runtime_settings policy_settings() {
  runtime_settings s;
  s.graph_max_attempts = 3;
  s.graph_retry_deadline = 60s;
  s.retry_base_delay = 100ms;
  s.retry_max_delay = 1s;
  s.pair_limit_base = 1s;
  return s;
}

const auto throttled = graph_error(400, 130429);
const auto pair_limited = graph_error(400, 131056);
const auto outside_window = graph_error(400, 131047);

}  // namespace

BOOST_AUTO_TEST_SUITE(send_retry_suite)

// An accepted send is done.
BOOST_AUTO_TEST_CASE(an_accepted_send_is_done) {
  const runtime_settings s = policy_settings();
  send_retry policy(s, t0);
  BOOST_TEST((policy.after(graph_accepted("wamid.out"), t0, 0.5).what == action::done));
}

// Throttling is retried until graph_max_attempts calls were made in all, the first included.
BOOST_AUTO_TEST_CASE(retries_stop_after_max_attempts) {
  const runtime_settings s = policy_settings();
  send_retry policy(s, t0);
  BOOST_TEST(policy.attempts() == 3);
  BOOST_TEST(policy.attempt() == 1);
  BOOST_TEST((policy.after(throttled, t0, 0.5).what == action::retry));
  BOOST_TEST(policy.attempt() == 2);
  BOOST_TEST((policy.after(throttled, t0 + 1s, 0.5).what == action::retry));
  BOOST_TEST(policy.attempt() == 3);
  const auto last = policy.after(throttled, t0 + 2s, 0.5);
  BOOST_TEST((last.what == action::give_up));
  BOOST_TEST(last.reason == "its retries are spent");
}

// HTTP 5xx without a Meta error code is transient too.
BOOST_AUTO_TEST_CASE(a_server_error_is_retried) {
  const runtime_settings s = policy_settings();
  send_retry policy(s, t0);
  BOOST_TEST((policy.after(graph_error(503, 0), t0, 0.5).what == action::retry));
}

// Nothing is retried once the deadline is reached; in_time says whether a try may still start.
BOOST_AUTO_TEST_CASE(the_deadline_ends_the_retries) {
  runtime_settings s = policy_settings();
  s.graph_max_attempts = 100;
  send_retry policy(s, t0);
  BOOST_TEST((policy.after(throttled, t0 + 59s, 0.5).what == action::retry));
  BOOST_TEST((policy.after(throttled, t0 + 60s, 0.5).what == action::give_up));
  BOOST_TEST(policy.in_time(t0 + 60s));
  BOOST_TEST(!policy.in_time(t0 + 60s + 1ns));
}

// A permanent error gives up at once, on the first attempt.
BOOST_AUTO_TEST_CASE(a_permanent_error_gives_up_at_once) {
  const runtime_settings s = policy_settings();
  send_retry policy(s, t0);
  const auto d = policy.after(outside_window, t0, 0.5);
  BOOST_TEST((d.what == action::give_up));
  BOOST_TEST(d.reason == "a permanent error");
  BOOST_TEST(!d.pair_limited);
}

// The pair rate limit waits base × 4^n, exactly (no jitter), and never counts as an attempt: the
// throttling retries after it still get every attempt.
BOOST_AUTO_TEST_CASE(pair_limit_waits_grow_by_four_and_are_not_attempts) {
  const runtime_settings s = policy_settings();
  send_retry policy(s, t0);
  auto now = t0;
  for (const auto expected : {1s, 4s, 16s}) {
    const auto d = policy.after(pair_limited, now, 0.0);
    BOOST_TEST((d.what == action::retry));
    BOOST_TEST(d.pair_limited);
    BOOST_TEST((d.wait == expected));
    now += d.wait;
  }
  BOOST_TEST(policy.attempt() == 1);
  BOOST_TEST((policy.after(throttled, now, 0.5).what == action::retry));
  BOOST_TEST((policy.after(throttled, now, 0.5).what == action::retry));
  BOOST_TEST((policy.after(throttled, now, 0.5).what == action::give_up));
}

// A pair-limit wait that would end past the deadline gives up instead.
BOOST_AUTO_TEST_CASE(a_pair_limit_wait_past_the_deadline_gives_up) {
  runtime_settings s = policy_settings();
  s.graph_retry_deadline = 10s;
  send_retry policy(s, t0);
  BOOST_TEST((policy.after(pair_limited, t0, 0.5).what == action::retry));       // 1 s
  BOOST_TEST((policy.after(pair_limited, t0 + 1s, 0.5).what == action::retry));  // 4 s: t0 + 5 s
  const auto d = policy.after(pair_limited, t0 + 5s, 0.5);  // 16 s would end at t0 + 21 s
  BOOST_TEST((d.what == action::give_up));
  BOOST_TEST(d.reason == "pair rate limit (131056) past the deadline");
}

// The backoff is full jitter: the draw times a ceiling that doubles from the base per retry and
// stops at retry_max_delay.
BOOST_AUTO_TEST_CASE(backoff_jitter_stays_within_its_bounds) {
  runtime_settings s = policy_settings();
  s.graph_max_attempts = 100;
  const auto wait_at = [&](int retry, double draw) {
    send_retry policy(s, t0);
    send_retry::decision d;
    for (int i = 0; i < retry; ++i)
      d = policy.after(throttled, t0, draw);
    return d.wait;
  };
  BOOST_TEST((wait_at(1, 0.0) == 0ms));
  BOOST_TEST((wait_at(1, 0.5) == 50ms));
  BOOST_TEST((wait_at(1, 0.999999) < 100ms));
  BOOST_TEST((wait_at(2, 0.5) == 100ms));
  BOOST_TEST((wait_at(3, 0.999999) < 400ms));
  BOOST_TEST((wait_at(3, 0.999999) > 390ms));
  BOOST_TEST((wait_at(10, 0.999999) <= 1s));  // capped
  BOOST_TEST((wait_at(10, 0.999999) > 990ms));
  // Out-of-range draws are clamped, not trusted.
  BOOST_TEST((wait_at(1, -3.0) == 0ms));
  BOOST_TEST((wait_at(1, 7.0) <= 100ms));
}

BOOST_AUTO_TEST_SUITE_END()
