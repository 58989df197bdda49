// Handover to a person (DESIGN.md §9), end to end on the local store and on Redis: the business's
// own message (an smb_message_echoes change) pauses the AI for that conversation, an operator
// pauses and resumes it by API, a pause ends on its own, an answer that comes back after the
// pause began is never sent, and (real executable, spool) a pause survives kill -9.
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <string>
#include <thread>

#include "tests/support/bridge_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/control_client.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace data = boost::unit_test::data;

namespace {

constexpr auto wait_limit = 20s;
const std::vector<store_mode> both_modes{store_mode::local, store_mode::redis};

std::string conversation_path(const std::string& customer) {
  return std::string("/v1/conversations/") + test_number + "/" + customer;
}

client_response say(running_bridge& bridge, const std::string& customer, const std::string& id,
                    const std::string& text) {
  return post_signed(bridge.webhook(), "/webhook",
                     delivery_body({{test_number, customer, id, text}}), test_app_secret);
}

std::size_t paused_messages(running_bridge& bridge) {
  return bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().paused; });
}

// True when no request the fake received mentions `text` (a wamid, a query).
bool never_mentioned(const fake_upstream& upstream, const std::string& text) {
  for (const auto& req : upstream.requests()) {
    if (req.body.find(text) != std::string::npos) return false;
  }
  return true;
}

// The Robofy queries asked for `customer`, in order.
std::vector<std::string> queries_for(const fake_upstream& robofy, const std::string& customer) {
  std::vector<std::string> out;
  for (const auto& req : robofy.requests()) {
    const auto asked = parse_robofy_request(req.body);
    if (asked.session_id == customer) out.push_back(asked.query);
  }
  return out;
}

json::array paused_list(const boost::asio::ip::tcp::endpoint& admin) {
  const client_response res = admin_request(admin, "GET", "/v1/conversations/paused");
  BOOST_TEST_REQUIRE(res.status == 200u, res.body);
  return json::parse(res.body).at("paused").as_array();
}

std::int64_t ms_at(const json::value& pause, const char* key) {
  return pause.at(key).as_int64();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handover)

BOOST_DATA_TEST_CASE(an_echo_pauses_the_conversation_until_an_operator_resumes_it,
                     data::make(both_modes), mode) {
  // Read receipts on: a paused message must not even be marked read.
  auto b =
      start_in_mode(mode, [](bridge::config::settings& s) { s.replies.typing_indicator = true; });
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811100001";

  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.h.1", "before the handover").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 1, wait_limit));

  // The business answers the customer from the WhatsApp Business app on the same number.
  BOOST_REQUIRE_EQUAL(post_signed(bridge.webhook(), "/webhook",
                                  echo_body(test_number, customer, "wamid.echo.1"), test_app_secret)
                          .status,
                      200u);
  const json::array paused = paused_list(bridge.admin());
  BOOST_TEST_REQUIRE(paused.size() == 1u);
  BOOST_TEST(paused[0].at("conversation").as_string() == std::string(test_number) + "/" + customer);
  BOOST_TEST(paused[0].at("why").as_string() == "echo");
  BOOST_TEST(ms_at(paused[0], "until_ms") - ms_at(paused[0], "since_ms") == 12 * 3600 * 1000);

  // The customer writes on: accepted (200, so Meta does not retry), never answered by the AI.
  BOOST_TEST(say(bridge, customer, "wamid.h.2", "are you a person?").status == 200u);
  BOOST_TEST(say(bridge, customer, "wamid.h.3", "hello?").status == 200u);
  BOOST_TEST(say(bridge, customer, "wamid.h.3", "hello?").status == 200u);  // Meta's retry
  BOOST_TEST(paused_messages(bridge) == 2u);
  // Another customer is answered meanwhile; by then anything queued for the paused one would
  // have been taken up too.
  BOOST_REQUIRE_EQUAL(say(bridge, "919811100099", "wamid.h.other", "still there?").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), "919811100099", 1, wait_limit));
  BOOST_TEST(queries_for(bridge.robofy(), customer) ==
             std::vector<std::string>{"before the handover"});
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             std::vector<std::string>{"Echo: before the handover"});
  for (const char* id : {"wamid.h.2", "wamid.h.3"}) {
    BOOST_TEST(never_mentioned(bridge.graph(), id), id << " was marked read or answered");
  }
  const std::string metrics = fetch_metrics(bridge.admin());
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_messages_paused_total") == 2);
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_echoes_total") == 1);

  // The operator hands the conversation back to the AI.
  const client_response resumed =
      admin_request(bridge.admin(), "POST", conversation_path(customer) + "/resume");
  BOOST_TEST(resumed.status == 200u);
  BOOST_TEST(resumed.body == R"({"resumed":true})");
  BOOST_TEST(paused_list(bridge.admin()).empty());
  BOOST_TEST(
      admin_request(bridge.admin(), "POST", conversation_path(customer) + "/resume").status ==
      404u);

  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.h.4", "anyone?").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 2, wait_limit));
  // Only the new question: what came during the pause was the person's to answer.
  BOOST_TEST(queries_for(bridge.robofy(), customer) ==
             (std::vector<std::string>{"before the handover", "anyone?"}));
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             (std::vector<std::string>{"Echo: before the handover", "Echo: anyone?"}));
}

BOOST_DATA_TEST_CASE(a_pause_by_api_for_one_second_ends_on_its_own, data::make(both_modes), mode) {
  auto b = start_in_mode(mode);
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811100002";
  const std::string pause = conversation_path(customer) + "/pause";

  for (const char* bad :
       {R"({"for":"soon"})", R"({"for":5})", "not json", R"({"for":"0s"})", R"(["1s"])"}) {
    const client_response res = admin_request(bridge.admin(), "POST", pause, test_admin_token, bad);
    BOOST_TEST(res.status == 400u, bad);
  }
  BOOST_TEST(paused_list(bridge.admin()).empty());
  BOOST_TEST(admin_request(bridge.admin(), "GET", pause).status == 405u);

  const client_response paused =
      admin_request(bridge.admin(), "POST", pause, test_admin_token, R"({"for":"1s"})");
  BOOST_TEST_REQUIRE(paused.status == 200u, paused.body);
  const json::value p = json::parse(paused.body);
  BOOST_TEST(p.at("why").as_string() == "operator");
  BOOST_TEST(p.at("conversation").as_string() == std::string(test_number) + "/" + customer);
  BOOST_TEST(ms_at(p, "until_ms") - ms_at(p, "since_ms") == 1000);

  BOOST_TEST(say(bridge, customer, "wamid.p.1", "during the pause").status == 200u);
  BOOST_TEST(paused_messages(bridge) == 1u);

  // Let the pause run out (the one wait that is a real duration: nothing else ends it).
  const std::chrono::system_clock::time_point until{
      std::chrono::milliseconds(ms_at(p, "until_ms"))};
  std::this_thread::sleep_until(until + 50ms);
  BOOST_TEST(paused_list(bridge.admin()).empty());
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.p.2", "after the pause").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 1, wait_limit));
  BOOST_TEST(queries_for(bridge.robofy(), customer) == std::vector<std::string>{"after the pause"});
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             std::vector<std::string>{"Echo: after the pause"});
  BOOST_TEST(paused_messages(bridge) == 1u);
}

BOOST_DATA_TEST_CASE(an_answer_ready_after_the_pause_began_is_not_sent, data::make(both_modes),
                     mode) {
  auto b = start_in_mode(mode);
  running_bridge& bridge = *b.bridge;
  const std::string customer = "919811100003";
  // Robofy thinks until the test lets it answer.
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;
    return reply;
  });
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.a.1", "first question").status, 200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  // A second line waits in the conversation's mailbox behind the first.
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.a.2", "second question").status, 200u);

  // A person takes over while Robofy thinks; then Robofy's answer arrives.
  BOOST_REQUIRE_EQUAL(
      admin_request(bridge.admin(), "POST", conversation_path(customer) + "/pause").status, 200u);
  bridge.robofy().release_held();

  // The waiting line is dropped when its turn comes (counted as paused); by then the first
  // answer was either sent or held back.
  BOOST_REQUIRE(eventually([&] { return paused_messages(bridge) == 1u; }, wait_limit));
  BOOST_REQUIRE(eventually(
      [&] {
        return bridge.on_loop([](bridge::app& a) {
          return a.pipeline_view().conversations_in_flight();
        }) == 0u;
      },
      wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer).empty());
  BOOST_TEST(bridge.robofy().request_count() == 1u);  // the second line was never asked
  BOOST_TEST(never_mentioned(bridge.robofy(), "second question"));
  // Held back for a person is not a failure: no dead letter.
  const client_response letters = admin_request(bridge.admin(), "GET", "/v1/dead-letters");
  BOOST_TEST(json::parse(letters.body).at("dead_letters").as_array().empty(), letters.body);

  BOOST_REQUIRE_EQUAL(
      admin_request(bridge.admin(), "POST", conversation_path(customer) + "/resume").status, 200u);
  BOOST_REQUIRE_EQUAL(say(bridge, customer, "wamid.a.3", "third question").status, 200u);
  BOOST_REQUIRE(wait_for_texts(bridge.graph(), customer, 1, wait_limit));
  BOOST_TEST(texts_to(bridge.graph(), customer) ==
             std::vector<std::string>{"Echo: third question"});
}

BOOST_AUTO_TEST_CASE(a_pause_survives_kill_9_and_a_restart_on_the_same_spool) {
  upstream_fakes fakes;
  temp_dir dir;
  const std::string config = dir.write(
      "bridge.yaml",
      "server:\n  listen: \"127.0.0.1:0\"\n"
      "admin:\n  listen: \"127.0.0.1:0\"\n  token: " +
          std::string(test_admin_token) +
          "\nmeta:\n  app_secret: kill-secret\n  verify_token: v\n  access_token: t\n"
          "  graph_base_url: " +
          fakes.graph().base_url() + "\nrobofy:\n  base_url: " + fakes.robofy().base_url() +
          "\n  api_key: k\n"
          "routes:\n  - phone_number_id: \"*\"\n    pid: p\n    chatbot_id: c\n"
          "replies:\n  typing_indicator: false\n"
          "spool:\n  dir: " +
          dir.path() + "/spool\nlogging:\n  level: info\n  format: text\n");
  const std::string by_echo = "919811100004";
  const std::string by_operator = "919811100005";
  auto post = [](const bridge_process& p, const std::string& body) {
    return post_signed(p.webhook, "/webhook", body, "kill-secret").status;
  };

  auto first = start_bridge_process(config);
  BOOST_REQUIRE_EQUAL(post(first, echo_body(test_number, by_echo, "wamid.k.echo")), 200u);
  BOOST_REQUIRE_EQUAL(admin_request(first.admin, "POST", conversation_path(by_operator) + "/pause",
                                    test_admin_token, R"({"for":"2h"})")
                          .status,
                      200u);
  // Killed the moment the answers are out: what got a 200 must hold after the restart.
  first.process->send_signal(SIGKILL);
  BOOST_REQUIRE(first.process->wait_for_exit(wait_limit).has_value() || !first.process->running());

  auto second = start_bridge_process(config);
  const json::array paused = paused_list(second.admin);
  BOOST_TEST_REQUIRE(paused.size() == 2u, json::serialize(paused));
  std::map<std::string, std::string> why;
  for (const auto& p : paused) {
    why[std::string(p.at("conversation").as_string())] = std::string(p.at("why").as_string());
  }
  BOOST_TEST(why[std::string(test_number) + "/" + by_echo] == "echo");
  BOOST_TEST(why[std::string(test_number) + "/" + by_operator] == "operator");

  BOOST_TEST(post(second, delivery_body({{test_number, by_echo, "wamid.k.1", "still paused?"}})) ==
             200u);
  BOOST_TEST(post(second, delivery_body({{test_number, by_operator, "wamid.k.2", "and me?"}})) ==
             200u);
  BOOST_REQUIRE_EQUAL(
      post(second, delivery_body({{test_number, "919811100006", "wamid.k.3", "not paused"}})),
      200u);
  BOOST_REQUIRE(wait_for_texts(fakes.graph(), "919811100006", 1, wait_limit));
  BOOST_TEST(metric_sample(fetch_metrics(second.admin), "robofy_wa_bridge_messages_paused_total") ==
             2);
  BOOST_TEST(queries_for(fakes.robofy(), by_echo).empty());
  BOOST_TEST(queries_for(fakes.robofy(), by_operator).empty());

  // Resumed after the restart, the conversation is the AI's again.
  BOOST_REQUIRE_EQUAL(
      admin_request(second.admin, "POST", conversation_path(by_echo) + "/resume").status, 200u);
  BOOST_REQUIRE_EQUAL(post(second, delivery_body({{test_number, by_echo, "wamid.k.4", "back?"}})),
                      200u);
  BOOST_REQUIRE(wait_for_texts(fakes.graph(), by_echo, 1, wait_limit));
  BOOST_TEST(texts_to(fakes.graph(), by_echo) == std::vector<std::string>{"Echo: back?"});
  second.process->send_signal(SIGTERM);
  BOOST_TEST(second.process->wait_for_exit(wait_limit).value_or(-1) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
