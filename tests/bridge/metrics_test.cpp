// GET /metrics after real traffic: the figures match what happened, and promtool accepts the
// exposition format.
#include "bridge/metrics.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <regex>

#include "tests/support/child_process.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

// The value of one sample line ("name{labels} value"), or -1 when the line is absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string scrape(running_bridge& bridge) {
  client_request req;
  req.target = "/metrics";
  const auto res = send_request(bridge.admin(), req);
  BOOST_REQUIRE_EQUAL(res.status, 200u);
  BOOST_TEST(res.header("content-type").starts_with("text/plain; version=0.0.4"));
  return res.body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(metrics_after_traffic_count_what_happened_and_pass_promtool) {
  temp_dir dir;
  running_bridge bridge([&](bridge::config::settings& s) { s.spool.dir = dir.path() + "/spool"; });
  const std::string p = "robofy_wa_bridge_";

  BOOST_REQUIRE_EQUAL(post_signed(bridge.webhook(), "/webhook",
                                  delivery_body({{test_number, "919100000001", "wamid.m1", "a"},
                                                 {test_number, "919100000002", "wamid.m2", "b"}}),
                                  test_app_secret)
                          .status,
                      200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, 10s));
  // A duplicate, a forgery, a malformed body, a reaction and statuses.
  post_signed(bridge.webhook(), "/webhook",
              delivery_body({{test_number, "919100000001", "wamid.m1", "a"}}), test_app_secret);
  post_signed(bridge.webhook(), "/webhook", "{}", "wrong-secret");
  post_signed(bridge.webhook(), "/webhook", "{not json", test_app_secret);
  post_signed(bridge.webhook(), "/webhook", fixture("payloads/reaction.json"), test_app_secret);
  post_signed(bridge.webhook(), "/webhook", fixture("payloads/statuses.json"), test_app_secret);

  const std::string text = scrape(bridge);
  BOOST_TEST(sample(text, p + "webhook_requests_total{result=\"accepted\"}") == 4);
  BOOST_TEST(sample(text, p + "webhook_requests_total{result=\"bad_signature\"}") == 1);
  BOOST_TEST(sample(text, p + "webhook_requests_total{result=\"bad_request\"}") == 1);
  BOOST_TEST(sample(text, p + "messages_received_total{type=\"text\"}") == 3);
  BOOST_TEST(sample(text, p + "messages_received_total{type=\"reaction\"}") == 1);
  BOOST_TEST(sample(text, p + "messages_duplicate_total") == 1);
  BOOST_TEST(sample(text, p + "messages_accepted_total") == 2);
  BOOST_TEST(sample(text, p + "statuses_total{status=\"failed\"}") == 1);
  BOOST_TEST(sample(text, p + "robofy_requests_total{outcome=\"answered\"}") == 2);
  BOOST_TEST(sample(text, p + "graph_requests_total{outcome=\"sent\",code=\"none\"}") == 2);
  BOOST_TEST(sample(text, p + "robofy_request_duration_seconds_count") == 2);
  BOOST_TEST(sample(text, p + "message_duration_seconds_bucket{le=\"+Inf\"}") == 2);
  BOOST_TEST(sample(text, p + "queue_capacity") == 1000);
  BOOST_TEST(sample(text, p + "spool_appends_total") == 1);
  BOOST_TEST(sample(text, p + "ready") == 1);
  BOOST_TEST(sample(text, p + "circuit_open{upstream=\"robofy\"}") == 0);
  BOOST_TEST(text.find(p + "build_info{version=\"") != std::string::npos);

  // promtool, Prometheus' own checker, accepts the exposition (make test installs it).
  const std::string promtool = "/usr/bin/promtool";
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists(promtool),
                        "promtool is missing: install Debian's prometheus package "
                        "(make test does, through deploy/install-deps.sh)");
  const std::string file = dir.write("metrics.txt", text);
  auto [code, output] = run_to_end("/bin/sh", {"-c", promtool + " check metrics < " + file});
  BOOST_TEST(code == 0, output);
}

BOOST_AUTO_TEST_CASE(redis_metrics_name_the_primary_count_failovers_and_pass_promtool) {
  const bridge::webhook::meta::endpoint_counters endpoint{};
  const bridge::webhook::http::listener_counters listener{};
  const bridge::admission_counters admission{};
  const bridge::worker_counters work{};
  bridge::metrics_view view{endpoint, listener, admission,    work,         0,
                            0,        0,        std::nullopt, false,        false,
                            true,     "test",   std::nullopt, std::nullopt, {}};
  bridge::queue::redis::client_stats redis;
  redis.connected = true;
  redis.primary = "10.0.0.8:6379";
  redis.failovers = 2;
  redis.switch_notices = 3;
  redis.without_primary = false;
  redis.without_primary_total = std::chrono::milliseconds(4250);
  view.redis = redis;
  bridge::store::redis_store_stats shared;
  shared.wait_acknowledged = 7;
  shared.wait_short = 1;
  view.shared = shared;
  view.replica = "bridge-0";
  const std::string p = "robofy_wa_bridge_";
  std::string text = bridge::render_metrics(view);
  BOOST_TEST(sample(text, p + "redis_primary_info{address=\"10.0.0.8:6379\"}") == 1);
  BOOST_TEST(sample(text, p + "redis_failovers_total") == 2);
  BOOST_TEST(sample(text, p + "redis_switch_notices_total") == 3);
  BOOST_TEST(sample(text, p + "redis_without_primary_seconds_total") == 4.25);
  BOOST_TEST(sample(text, p + "redis_without_primary") == 0);
  BOOST_TEST(sample(text, p + "redis_wait_total{result=\"acknowledged\"}") == 7);
  BOOST_TEST(sample(text, p + "redis_wait_total{result=\"short\"}") == 1);

  // No primary now: the info metric has no sample, the gauge says so.
  redis.connected = false;
  redis.primary.clear();
  redis.without_primary = true;
  view.redis = redis;
  text = bridge::render_metrics(view);
  BOOST_TEST(text.find(p + "redis_primary_info{") == std::string::npos);
  BOOST_TEST(sample(text, p + "redis_without_primary") == 1);

  const std::string promtool = "/usr/bin/promtool";
  BOOST_REQUIRE(std::filesystem::exists(promtool));
  temp_dir dir;
  const std::string file = dir.write("metrics.txt", text);
  auto [code, output] = run_to_end("/bin/sh", {"-c", promtool + " check metrics < " + file});
  BOOST_TEST(code == 0, output);
}

BOOST_AUTO_TEST_SUITE_END()
