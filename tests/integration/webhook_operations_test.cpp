// What operators see of Meta's side: an app secret rotated with the old one still accepted (and
// counted apart), webhook changes counted by field, and the ad a customer came from in the
// Robofy query.
#include <boost/test/unit_test.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/control_client.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

constexpr auto wait_limit = 10s;
const std::string previous_secret = "previous-app-secret";

std::string signatures(const std::string& which) {
  return "robofy_wa_bridge_webhook_signatures_total{secret=\"" + which + "\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_operations)

BOOST_AUTO_TEST_CASE(the_current_and_previous_app_secrets_are_accepted_a_third_is_refused) {
  running_bridge bridge(
      [](bridge::config::settings& s) { s.meta.previous_app_secret = previous_secret; });
  auto post = [&](const std::string& id, const std::string& secret) {
    return post_signed(bridge.webhook(), "/webhook",
                       delivery_body({{test_number, "919811400001", id, "signed " + id}}), secret)
        .status;
  };
  BOOST_TEST(post("wamid.sig.current", test_app_secret) == 200u);
  BOOST_TEST(post("wamid.sig.previous", previous_secret) == 200u);
  BOOST_TEST(post("wamid.sig.third", "a-third-secret") == 401u);
  BOOST_TEST(post("wamid.sig.previous2", previous_secret) == 200u);

  BOOST_REQUIRE(bridge.graph().wait_until(
      [](const auto& graph) { return text_sends(graph).size() >= 1u; }, wait_limit));
  std::string metrics = fetch_metrics(bridge.admin());
  BOOST_TEST(metric_sample(metrics, signatures("current")) == 1);
  BOOST_TEST(metric_sample(metrics, signatures("previous")) == 2);
  BOOST_TEST(
      metric_sample(metrics, "robofy_wa_bridge_webhook_requests_total{result=\"bad_signature\"}") ==
      1);
  // Only the validly signed messages reach Robofy.
  BOOST_REQUIRE(eventually(
      [&] {
        return bridge.on_loop([](bridge::app& a) { return a.pipeline_view().queued(); }) == 0u;
      },
      wait_limit));
  std::set<std::string> asked;
  for (const auto& req : bridge.robofy().requests()) {
    std::istringstream lines(parse_robofy_request(req.body).query);
    for (std::string line; std::getline(lines, line);)
      asked.insert(line);
  }
  BOOST_TEST(asked ==
             (std::set<std::string>{"signed wamid.sig.current", "signed wamid.sig.previous",
                                    "signed wamid.sig.previous2"}));

  // The rotation is over: the previous secret leaves the configuration and is refused from then.
  bridge.on_loop([&](bridge::app& a) {
    bridge::config::settings s =
        loopback_settings(bridge.robofy().base_url(), bridge.graph().base_url());
    a.reload(std::move(s));
  });
  BOOST_TEST(post("wamid.sig.late", previous_secret) == 401u);
  BOOST_TEST(post("wamid.sig.now", test_app_secret) == 200u);
  metrics = fetch_metrics(bridge.admin());
  BOOST_TEST(metric_sample(metrics, signatures("current")) == 2);
  BOOST_TEST(metric_sample(metrics, signatures("previous")) == 2);
}

BOOST_AUTO_TEST_CASE(webhook_changes_are_counted_by_field_unknown_fields_as_other) {
  running_bridge bridge;
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[)"
      R"({"field":"account_update","value":{"phone_number":"15550001111","event":"VERIFIED_ACCOUNT"}},)"
      R"({"field":"business_capability_update_v99","value":{"max_daily_conversation_per_phone":1000}}]}]})";
  BOOST_TEST(post_signed(bridge.webhook(), "/webhook", body, test_app_secret).status == 200u);
  BOOST_TEST(post_signed(bridge.webhook(), "/webhook",
                         delivery_body({{test_number, "919811400002", "wamid.f.1", "hi"}}),
                         test_app_secret)
                 .status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const std::string metrics = fetch_metrics(bridge.admin());
  const std::string family = "robofy_wa_bridge_webhook_changes_total";
  BOOST_TEST(metric_sample(metrics, family + "{field=\"account_update\"}") == 1);
  BOOST_TEST(metric_sample(metrics, family + "{field=\"other\"}") == 1);
  BOOST_TEST(metric_sample(metrics, family + "{field=\"messages\"}") == 1);
  // The unknown name itself never becomes a label.
  BOOST_TEST(metrics.find("business_capability_update_v99") == std::string::npos);
  // Neither change is a question: only the message was asked.
  BOOST_TEST(bridge.robofy().request_count() == 1u);
}

BOOST_AUTO_TEST_CASE(the_ad_a_customer_came_from_is_a_line_of_the_robofy_query) {
  running_bridge bridge;
  BOOST_REQUIRE_EQUAL(post_signed(bridge.webhook(), "/webhook",
                                  fixture("payloads/text-ad-referral.json"), test_app_secret)
                          .status,
                      200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  // The same customer without an ad: the query is the text alone.
  BOOST_REQUIRE_EQUAL(
      post_signed(bridge.webhook(), "/webhook", fixture("payloads/text.json"), test_app_secret)
          .status,
      200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  const auto calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(calls.size(), 2u);
  BOOST_TEST(parse_robofy_request(calls[0].body).query ==
             "Is the floor lamp still on sale?\n"
             "[The customer came from an ad: \"Spring sale: 30% off lamps\" "
             "https://fb.me/3cr4Wqqkv]");
  BOOST_TEST(parse_robofy_request(calls[1].body).query == "Hi, what are your opening hours?");
  BOOST_TEST(parse_robofy_request(calls[0].body).session_id == "919876543210");
}

BOOST_AUTO_TEST_SUITE_END()
