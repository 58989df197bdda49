// Conversations as a WhatsApp customer sees them (issue 4), end to end through the fakes: read
// receipts and typing, joined questions, pacing, several numbers, per-customer rate limits,
// stale messages, failed statuses, username customers.
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <thread>

#include "bridge/store/send_pacer.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto wait_limit = 20s;

client_response post(running_bridge& bridge, const std::string& body) {
  return post_signed(bridge.webhook(), "/webhook", body, test_app_secret);
}

client_response post_messages(running_bridge& bridge, const std::vector<text_message>& messages) {
  return post(bridge, delivery_body(messages));
}

// The read receipts among Graph's requests: {message_id, typing shown}.
std::vector<std::pair<std::string, bool>> read_receipts(
    const std::vector<recorded_request>& graph) {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& req : graph) {
    const json::value body = json::parse(req.body);
    const json::object& o = body.as_object();
    if (!o.contains("status")) continue;
    BOOST_TEST(o.at("status").as_string() == "read");
    out.emplace_back(std::string(o.at("message_id").as_string()), o.contains("typing_indicator"));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conversation)

BOOST_AUTO_TEST_CASE(message_is_marked_read_with_typing_refreshed_while_robofy_thinks) {
  running_bridge bridge([](bridge::config::settings& s) { s.replies.typing_indicator = true; });
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;  // Robofy thinks until the test releases it
    return reply;
  });
  BOOST_REQUIRE_EQUAL(
      post_messages(bridge, {{test_number, "919300000001", "wamid.typ", "hello"}}).status, 200u);
  // Typing is shown at once and shown again (every typing_refresh, 100 ms here) while it thinks.
  BOOST_REQUIRE(bridge.graph().wait_until(
      [](const auto& g) { return read_receipts(g).size() >= 3; }, wait_limit));
  BOOST_TEST(text_sends(bridge.graph().requests()).empty());
  for (const auto& [id, typing] : read_receipts(bridge.graph().requests())) {
    BOOST_TEST(id == "wamid.typ");
    BOOST_TEST(typing);
  }
  bridge.robofy().release_held();
  BOOST_REQUIRE(
      bridge.graph().wait_until([](const auto& g) { return !text_sends(g).empty(); }, wait_limit));
  BOOST_TEST(parse_graph_request(text_sends(bridge.graph().requests()).front().body).text ==
             "Echo: hello");
}

BOOST_AUTO_TEST_CASE(a_failing_read_receipt_does_not_stop_the_answer) {
  running_bridge bridge([](bridge::config::settings& s) { s.replies.typing_indicator = true; });
  bridge.graph().set_responder([inner = graph_accepting()](const recorded_request& req) {
    if (req.body.find("typing_indicator") != std::string::npos) {
      return canned_reply{400, R"({"error":{"message":"Invalid parameter","code":100}})"};
    }
    return inner(req);
  });
  BOOST_REQUIRE_EQUAL(
      post_messages(bridge, {{test_number, "919300000002", "wamid.rf", "hi"}}).status, 200u);
  BOOST_REQUIRE(
      bridge.graph().wait_until([](const auto& g) { return !text_sends(g).empty(); }, wait_limit));
  BOOST_TEST(parse_graph_request(text_sends(bridge.graph().requests()).front().body).text ==
             "Echo: hi");
}

BOOST_AUTO_TEST_CASE(coalesce_window_joins_lines_typed_in_quick_succession) {
  running_bridge bridge([](bridge::config::settings& s) { s.queue.coalesce_window = 400ms; });
  const std::string customer = "919300000003";
  for (const char* line : {"hi", "I ordered yesterday", "where is it?"}) {
    BOOST_REQUIRE_EQUAL(
        post_messages(bridge, {{test_number, customer, std::string("wamid.cw.") + line, line}})
            .status,
        200u);
  }
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_TEST(parse_robofy_request(calls.front().body).query ==
             "hi\nI ordered yesterday\nwhere is it?");
}

BOOST_AUTO_TEST_CASE(a_burst_of_replies_on_one_number_never_exceeds_its_pace) {
  constexpr std::uint32_t rate = 200;
  running_bridge bridge([](bridge::config::settings& s) {
    s.routes.front().messages_per_second = rate;
    s.queue.workers = 64;
  });
  constexpr int replies = 500;
  std::vector<text_message> burst;
  for (int i = 0; i < replies; ++i) {
    burst.push_back({test_number, "9192" + std::to_string(10000000 + i),
                     "wamid.burst." + std::to_string(i), "q" + std::to_string(i)});
  }
  BOOST_REQUIRE_EQUAL(post_messages(bridge, burst).status, 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(replies, 30s));
  const auto sent = bridge.graph().requests();
  // Sliding one-second windows over the arrival times: never more than the rate plus the
  // bucket (and the bucket again for scheduling jitter on a shared machine).
  const std::size_t bound = rate + 2 * bridge::store::send_pacer::burst_for(rate);
  std::size_t worst = 0;
  for (std::size_t i = 0, j = 0; i < sent.size(); ++i) {
    while (j < sent.size() && sent[j].received_at < sent[i].received_at + 1s)
      ++j;
    worst = std::max(worst, j - i);
  }
  BOOST_TEST_MESSAGE("most replies in any second: " << worst << " (rate " << rate << ")");
  BOOST_TEST(worst <= bound);
  BOOST_TEST((sent.back().received_at - sent.front().received_at >= 2s));
}

BOOST_AUTO_TEST_CASE(two_business_numbers_in_one_post_each_answer_from_their_own_number) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.routes.clear();
    s.routes.push_back({"106540352242922", "pid-a", "bot-a", std::string("token-a"), 80});
    s.routes.push_back({"106540352242933", "pid-b", "bot-b", std::string("token-b"), 80});
  });
  BOOST_REQUIRE_EQUAL(post(bridge, fixture("payloads/batch-2-entries-2-changes.json")).status,
                      200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(12, wait_limit));
  std::map<std::string, std::string> pid_by_session;
  for (const auto& call : bridge.robofy().requests()) {
    const auto f = parse_robofy_request(call.body);
    pid_by_session[f.session_id] = f.pid;
  }
  BOOST_TEST(pid_by_session.size() == 12u);
  BOOST_TEST(pid_by_session["919800000000"] == "pid-a");
  BOOST_TEST(pid_by_session["919800001000"] == "pid-b");
  for (const auto& req : bridge.graph().requests()) {
    const auto to = parse_graph_request(req.body).to;
    // Customers 91980000xxxx and 91980001xxxx wrote to the first number; ...1000.. to the second.
    const bool second_number = to[8] == '1';
    BOOST_TEST(req.target == std::string("/v21.0/") +
                                 (second_number ? "106540352242933" : "106540352242922") +
                                 "/messages",
               to);
    BOOST_TEST(req.header("authorization") ==
                   std::string("Bearer ") + (second_number ? "token-b" : "token-a"),
               to);
  }
}

BOOST_AUTO_TEST_CASE(pair_rate_limit_waits_for_that_customer_only) {
  running_bridge bridge;
  const std::string limited = "919300000010";
  const std::string other = "919300000011";
  auto refusals = std::make_shared<std::atomic<int>>(2);
  bridge.graph().set_responder([refusals, limited,
                                inner = graph_accepting()](const recorded_request& req) {
    if (parse_graph_request(req.body).to == limited && --*refusals >= 0) {
      return canned_reply{
          400,
          R"({"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","code":131056,"fbtrace_id":"Zx"}})"};
    }
    return inner(req);
  });
  BOOST_REQUIRE_EQUAL(post_messages(bridge, {{test_number, limited, "wamid.pl1", "first"},
                                             {test_number, other, "wamid.pl2", "second"}})
                          .status,
                      200u);
  // Two refusals for the limited customer, then both replies accepted.
  BOOST_REQUIRE(bridge.graph().wait_for_requests(4, wait_limit));
  const auto sent = bridge.graph().requests();
  // The other customer was answered first, while the limited one waited 20 ms then 80 ms.
  std::vector<std::string> order;
  for (const auto& req : sent)
    order.push_back(parse_graph_request(req.body).to);
  BOOST_TEST(order.size() == 4u);
  const auto other_position = std::find(order.begin(), order.end(), other) - order.begin();
  BOOST_TEST(other_position <= 1);
  BOOST_TEST(order.back() == limited);
  BOOST_TEST(bridge.on_loop(
                 [](bridge::app& a) { return a.pipeline_view().answering().pair_limited; }) == 2u);
  BOOST_TEST(bridge.on_loop(
                 [](bridge::app& a) { return a.pipeline_view().answering().send_failures; }) == 0u);
}

BOOST_AUTO_TEST_CASE(stale_messages_are_counted_and_not_answered) {
  running_bridge bridge([](bridge::config::settings& s) { s.queue.max_message_age = 1h; });
  // The samples are dated November 2025: exactly as Meta would deliver them after an outage.
  BOOST_REQUIRE_EQUAL(post(bridge, fixture_verbatim("payloads/text.json")).status, 200u);
  BOOST_REQUIRE_EQUAL(
      post_messages(bridge, {{test_number, "919300000020", "wamid.fresh", "fresh"}}).status, 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(bridge.robofy().request_count() == 1u);
  BOOST_TEST(bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().stale; }) ==
             1u);
}

BOOST_AUTO_TEST_CASE(a_failed_status_is_tied_to_the_conversation_that_sent_it) {
  running_bridge bridge;
  BOOST_REQUIRE_EQUAL(
      post_messages(bridge, {{test_number, "919812345678", "wamid.st1", "hello"}}).status, 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  // The bridge remembers the reply's wamid once Graph's answer is in, a moment after Graph saw it.
  BOOST_REQUIRE(bridge.wait_on_loop(
      [](bridge::app& a) { return a.pipeline_view().answering().parts_sent == 1u; }, wait_limit));
  // The fake Graph named the reply wamid.out.1; Meta later reports it failed (131047).
  std::string statuses = fixture("payloads/statuses.json");
  const std::string from = "\"id\":\"wamid.out.2\"";
  statuses.replace(statuses.find(from), from.size(), "\"id\":\"wamid.out.1\"");
  BOOST_REQUIRE_EQUAL(post(bridge, statuses).status, 200u);
  const auto counts = bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions(); });
  BOOST_TEST(counts.failed_statuses_matched == 1u);
  BOOST_TEST(counts.by_status.at("delivered") == 1u);
  BOOST_TEST(counts.by_status.at("read") == 1u);
  BOOST_TEST(counts.by_status.at("sent") == 1u);
}

BOOST_AUTO_TEST_CASE(a_username_customer_is_a_full_conversation) {
  running_bridge bridge;
  BOOST_REQUIRE_EQUAL(post(bridge, fixture("payloads/username-user.json")).status, 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto asked = parse_robofy_request(bridge.robofy().requests().front().body);
  BOOST_TEST(asked.session_id == "IN.13491208655302741918");
  BOOST_TEST(asked.query == "Hello from a username account");
  const auto reply = parse_graph_request(bridge.graph().requests().front().body);
  BOOST_TEST(reply.recipient == "IN.13491208655302741918");
  BOOST_TEST(reply.to.empty());
  BOOST_TEST(reply.text == "Echo: Hello from a username account");
}

BOOST_AUTO_TEST_CASE(robofys_markdown_reaches_the_customer_as_whatsapp_markup) {
  running_bridge bridge;
  bridge.robofy().set_responder(robofy_answering([](const robofy_request_fields&) {
    return "## Opening hours\n\nWe are open **9 to 5**. See [our "
           "page](https://shop.example/a_b?x=*y*).";
  }));
  BOOST_REQUIRE_EQUAL(
      post_messages(bridge, {{test_number, "919300000030", "wamid.md", "hours?"}}).status, 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(
      parse_graph_request(bridge.graph().requests().front().body).text ==
      "*Opening hours*\n\nWe are open *9 to 5*. See our page (https://shop.example/a_b?x=*y*).");
}

BOOST_AUTO_TEST_SUITE_END()
