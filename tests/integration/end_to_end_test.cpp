// The real bridge on an ephemeral loopback port with fake Robofy and Graph servers: a signed
// webhook goes in over HTTP, and what reaches the fakes is checked.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <map>

#include "tests/support/fake_services.hpp"
#include "tests/support/log_capture.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"
#include "webhook/format/text_split.hpp"
#include "webhook/meta/payload.hpp"
#include "webhook/meta/signature.hpp"
#include "webhook/util/utf8.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

constexpr auto wait_limit = 10s;

client_response post_messages(running_bridge& bridge, const std::vector<text_message>& messages) {
  return post_signed(bridge.webhook(), "/webhook", delivery_body(messages), test_app_secret);
}

text_message message_from(const std::string& wa_id, const std::string& id,
                          const std::string& body) {
  return text_message{test_number, wa_id, id, body};
}

// Every Graph text body sent to one customer, in the order Graph received them.
std::vector<std::string> replies_to(const std::vector<recorded_request>& graph,
                                    const std::string& wa_id) {
  std::vector<std::string> out;
  for (const auto& req : graph) {
    const auto fields = parse_graph_request(req.body);
    if (fields.to == wa_id) out.push_back(fields.text);
  }
  return out;
}

// Robofy queries in the order Robofy received them.
std::vector<std::string> queries(const fake_upstream& robofy) {
  std::vector<std::string> out;
  for (const auto& req : robofy.requests())
    out.push_back(parse_robofy_request(req.body).query);
  return out;
}

// One sample of the bridge's /metrics, by its name without the robofy_wa_bridge_ prefix.
double metric(running_bridge& bridge, const std::string& series) {
  return metric_sample(scrape_metrics(bridge.admin()), "robofy_wa_bridge_" + series);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(end_to_end)

BOOST_AUTO_TEST_CASE(signed_text_message_is_answered_once_with_robofys_answer) {
  running_bridge bridge;
  bridge.robofy().set_responder(robofy_answering(
      [](const robofy_request_fields& f) { return "We open at 9. (you asked: " + f.query + ")"; }));

  const auto res =
      post_signed(bridge.webhook(), "/webhook", fixture("payloads/text.json"), test_app_secret);
  BOOST_TEST(res.status == 200u);

  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto robofy_calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(robofy_calls.size(), 1u);
  const auto& call = robofy_calls.front();
  BOOST_TEST(call.method == "POST");
  BOOST_TEST(call.target == "/v1/ai-agent/whatsapp/chat");
  BOOST_TEST(call.header("authorization") == std::string("Bearer ") + test_robofy_key);
  BOOST_TEST(call.header("content-type") == "application/json");
  const auto asked = parse_robofy_request(call.body);
  BOOST_TEST(asked.query == "Hi, what are your opening hours?");
  BOOST_TEST(asked.pid == "pid-1");
  BOOST_TEST(asked.chatbot_id == "bot-1");
  BOOST_TEST(asked.session_id == "919876543210");
  BOOST_TEST(asked.platform == "whatsapp");
  BOOST_TEST(!asked.has_misspelt_platform);

  const auto sent = bridge.graph().requests();
  BOOST_REQUIRE_EQUAL(sent.size(), 1u);
  BOOST_TEST(sent.front().target == std::string("/v21.0/") + test_number + "/messages");
  BOOST_TEST(sent.front().header("authorization") == std::string("Bearer ") + test_graph_token);
  const auto reply = parse_graph_request(sent.front().body);
  BOOST_TEST(reply.messaging_product == "whatsapp");
  BOOST_TEST(reply.to == "919876543210");
  BOOST_TEST(reply.type == "text");
  BOOST_TEST(reply.text == "We open at 9. (you asked: Hi, what are your opening hours?)");

  // The same delivery again (Meta retries) is acknowledged and not answered twice.
  const auto again =
      post_signed(bridge.webhook(), "/webhook", fixture("payloads/text.json"), test_app_secret);
  BOOST_TEST(again.status == 200u);
  const auto duplicates =
      bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().duplicates; });
  BOOST_TEST(duplicates == 1u);
  BOOST_TEST(bridge.robofy().request_count() == 1u);
}

BOOST_AUTO_TEST_CASE(api_key_auth_header_is_sent_when_configured) {
  running_bridge bridge(
      [](bridge::config::settings& s) { s.robofy.auth = bridge::config::auth_header::api_key; });
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.k1", "hello")}).status ==
             200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  const auto call = bridge.robofy().requests().front();
  BOOST_TEST(call.header("api-key") == test_robofy_key);
  BOOST_TEST(call.header("authorization").empty());
}

BOOST_AUTO_TEST_CASE(bad_signature_is_refused_and_nothing_is_forwarded) {
  running_bridge bridge;
  const std::string body = delivery_body({message_from("919800000001", "wamid.forged", "forged")});

  const auto wrong_secret = post_signed(bridge.webhook(), "/webhook", body, "not-the-secret");
  BOOST_TEST(wrong_secret.status == 401u);
  BOOST_TEST(wrong_secret.body.find("\"bad_signature\"") != std::string::npos);

  client_request unsigned_post;
  unsigned_post.method = "POST";
  unsigned_post.target = "/webhook";
  unsigned_post.body = body;
  BOOST_TEST(send_request(bridge.webhook(), unsigned_post).status == 401u);

  // A genuine message afterwards proves the bridge was working all along: only it gets through.
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.real", "real")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_TEST(parse_robofy_request(calls.front().body).query == "real");
}

BOOST_AUTO_TEST_CASE(twenty_conversations_of_ten_messages_are_each_answered_in_order) {
  running_bridge bridge;
  constexpr int conversations = 20;
  constexpr int per_conversation = 10;
  auto wa_id = [](int c) { return "9198000" + std::to_string(10000 + c); };
  for (int m = 0; m < per_conversation; ++m) {
    std::vector<text_message> round;
    for (int c = 0; c < conversations; ++c) {
      round.push_back(message_from(wa_id(c),
                                   "wamid.c" + std::to_string(c) + ".m" + std::to_string(m),
                                   "c" + std::to_string(c) + " m" + std::to_string(m)));
    }
    BOOST_REQUIRE_EQUAL(post_messages(bridge, round).status, 200u);
  }

  // Waiting messages of one conversation may be joined into one query, so count lines asked.
  auto all_asked = [&](const std::vector<recorded_request>& calls) {
    std::size_t lines = 0;
    for (const auto& call : calls) {
      const auto query = parse_robofy_request(call.body).query;
      lines += 1 + static_cast<std::size_t>(std::count(query.begin(), query.end(), '\n'));
    }
    return lines == conversations * per_conversation;
  };
  BOOST_REQUIRE(bridge.robofy().wait_until(all_asked, wait_limit));
  const std::size_t robofy_calls = bridge.robofy().request_count();
  BOOST_REQUIRE(bridge.graph().wait_for_requests(robofy_calls, wait_limit));

  const auto graph = bridge.graph().requests();
  for (int c = 0; c < conversations; ++c) {
    // The answers (echoes of the queries) reached the customer in the order they wrote.
    std::string heard;
    for (const auto& reply : replies_to(graph, wa_id(c))) {
      BOOST_REQUIRE(reply.starts_with("Echo: "));
      heard += (heard.empty() ? "" : "\n") + reply.substr(6);
    }
    std::string expected;
    for (int m = 0; m < per_conversation; ++m) {
      expected += (m == 0 ? "" : "\n") + ("c" + std::to_string(c) + " m" + std::to_string(m));
    }
    BOOST_TEST(heard == expected, "conversation " << c);
  }
  BOOST_TEST(graph.size() == robofy_calls);
}

BOOST_AUTO_TEST_CASE(a_slow_conversation_does_not_delay_another) {
  running_bridge bridge;
  const std::string slow = "919811111111";
  const std::string fast = "919822222222";
  bridge.robofy().set_responder([inner = robofy_echo(), slow](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = parse_robofy_request(req.body).session_id == slow;
    return reply;
  });

  BOOST_TEST(post_messages(bridge, {message_from(slow, "wamid.slow", "take your time")}).status ==
             200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  BOOST_TEST(post_messages(bridge, {message_from(fast, "wamid.fast", "quick one")}).status == 200u);

  // The fast conversation is answered while Robofy still holds the slow one's answer.
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(replies_to(bridge.graph().requests(), fast) ==
             std::vector<std::string>{"Echo: quick one"});
  BOOST_TEST(replies_to(bridge.graph().requests(), slow).empty());

  bridge.robofy().release_held();
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  BOOST_TEST(replies_to(bridge.graph().requests(), slow) ==
             std::vector<std::string>{"Echo: take your time"});
}

BOOST_AUTO_TEST_CASE(messages_waiting_behind_an_answer_are_joined_into_one_query) {
  running_bridge bridge;
  const std::string customer = "919833333333";
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = parse_robofy_request(req.body).query == "first";
    return reply;
  });
  BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.j1", "first")}).status == 200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.j2", "second"),
                                    message_from(customer, "wamid.j3", "third")})
                 .status == 200u);
  bridge.robofy().release_held();

  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  const auto calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(calls.size(), 2u);
  BOOST_TEST(parse_robofy_request(calls[1].body).query == "second\nthird");
  BOOST_TEST(replies_to(bridge.graph().requests(), customer) ==
             (std::vector<std::string>{"Echo: first", "Echo: second\nthird"}));
}

BOOST_AUTO_TEST_CASE(full_queue_answers_503_with_retry_after_and_the_retry_is_answered_once) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.queue.capacity = 2;
    s.queue.workers = 1;
  });
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;
    return reply;
  });
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.q1", "one")}).status ==
             200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  BOOST_TEST(post_messages(bridge, {message_from("919800000002", "wamid.q2", "two")}).status ==
             200u);

  const auto third = message_from("919800000003", "wamid.q3", "three");
  const auto refused = post_messages(bridge, {third});
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(refused.header("retry-after") == "10");
  BOOST_TEST(refused.body.find("\"overloaded\"") != std::string::npos);

  bridge.robofy().release_held();
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  BOOST_TEST(post_messages(bridge, {third}).status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(3, wait_limit));
  BOOST_TEST(replies_to(bridge.graph().requests(), "919800000003") ==
             std::vector<std::string>{"Echo: three"});
}

BOOST_AUTO_TEST_CASE(partially_accepted_batch_is_completed_by_metas_retry_without_doubles) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.queue.capacity = 2;
    s.queue.workers = 1;
  });
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;
    return reply;
  });
  const std::vector<text_message> batch{message_from("919800000001", "wamid.p1", "a"),
                                        message_from("919800000002", "wamid.p2", "b"),
                                        message_from("919800000003", "wamid.p3", "c")};
  BOOST_TEST(post_messages(bridge, batch).status == 503u);
  bridge.robofy().release_held();
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  BOOST_TEST(post_messages(bridge, batch).status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(3, wait_limit));
  const auto graph = bridge.graph().requests();
  BOOST_TEST(graph.size() == 3u);
  for (const char* customer : {"919800000001", "919800000002", "919800000003"}) {
    BOOST_TEST(replies_to(graph, customer).size() == 1u, customer);
  }
}

BOOST_AUTO_TEST_CASE(message_for_an_unknown_number_is_acknowledged_and_not_forwarded) {
  running_bridge bridge;
  const auto res = post_messages(
      bridge, {text_message{"999999999999999", "919800000001", "wamid.u1", "anyone there?"},
               message_from("919800000002", "wamid.u2", "routed")});
  BOOST_TEST(res.status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto calls = bridge.robofy().requests();
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_TEST(parse_robofy_request(calls.front().body).query == "routed");
  BOOST_TEST(
      bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().unrouted; }) == 1u);
}

BOOST_AUTO_TEST_CASE(wildcard_route_and_route_token_override) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.routes.clear();
    s.routes.push_back({test_number, "pid-exact", "bot-exact", std::string("exact-token"), 80});
    s.routes.push_back({"*", "pid-any", "bot-any", std::nullopt, 80});
  });
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.w1", "exact"),
                                    text_message{"555", "919800000002", "wamid.w2", "other"}})
                 .status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  std::map<std::string, bridge::test::robofy_request_fields> asked;
  for (const auto& call : bridge.robofy().requests()) {
    const auto fields = parse_robofy_request(call.body);
    asked[fields.query] = fields;
  }
  BOOST_TEST(asked["exact"].pid == "pid-exact");
  BOOST_TEST(asked["other"].pid == "pid-any");
  BOOST_TEST(asked["other"].chatbot_id == "bot-any");
  std::map<std::string, std::string> token_by_target;
  for (const auto& req : bridge.graph().requests()) {
    token_by_target[req.target] = req.header("authorization");
  }
  BOOST_TEST(token_by_target[std::string("/v21.0/") + test_number + "/messages"] ==
             "Bearer exact-token");
  BOOST_TEST(token_by_target["/v21.0/555/messages"] == std::string("Bearer ") + test_graph_token);
}

BOOST_AUTO_TEST_CASE(reactions_unsupported_types_and_statuses_are_counted_not_answered) {
  running_bridge bridge;
  for (const char* name :
       {"payloads/reaction.json", "payloads/statuses.json", "payloads/unsupported.json"}) {
    BOOST_TEST(
        post_signed(bridge.webhook(), "/webhook", fixture(name), test_app_secret).status == 200u,
        name);
  }
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.t1", "text")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(bridge.robofy().request_count() == 1u);
  BOOST_TEST(bridge.graph().request_count() == 1u);
  const auto counts = bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions(); });
  BOOST_TEST(counts.skipped == 2u);  // the reaction, and the poll Meta calls "unsupported"
  BOOST_TEST(counts.statuses == 4u);
  BOOST_TEST(counts.by_status.at("failed") == 1u);
  BOOST_TEST(counts.by_type.at(bridge::webhook::meta::message_kind::reaction) == 1u);
  BOOST_TEST(counts.accepted == 1u);
}

BOOST_AUTO_TEST_CASE(robofy_failure_sends_the_fallback_text_once) {
  running_bridge bridge([](bridge::config::settings& s) { s.robofy.max_attempts = 3; });
  bridge.robofy().set_responder([](const recorded_request&) {
    return canned_reply{503, R"({"message":"down","error":{"code":"UNAVAILABLE","detail":"x"}})"};
  });
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.f1", "hello?")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(bridge.robofy().request_count() == 3u);
  const auto replies = replies_to(bridge.graph().requests(), "919800000001");
  BOOST_TEST(replies == std::vector<std::string>{bridge::config::reply_settings{}.fallback_text});
}

BOOST_AUTO_TEST_CASE(robofy_client_error_is_not_retried) {
  running_bridge bridge([](bridge::config::settings& s) { s.robofy.max_attempts = 4; });
  bridge.robofy().set_responder([](const recorded_request&) {
    return canned_reply{
        401, R"({"message":"Unauthorized","error":{"code":"UNAUTHORIZED","detail":"bad key"}})"};
  });
  BOOST_TEST(post_messages(bridge, {message_from("919800000001", "wamid.f2", "hello?")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(bridge.robofy().request_count() == 1u);
}

BOOST_AUTO_TEST_CASE(long_answer_is_split_and_sent_in_order) {
  running_bridge bridge;
  std::string long_answer;
  for (int i = 0; i < 300; ++i)
    long_answer += "Sentence number " + std::to_string(i) + " is here. ";
  bridge.robofy().set_responder(
      robofy_answering([long_answer](const robofy_request_fields&) { return long_answer; }));
  BOOST_TEST(
      post_messages(bridge, {message_from("919800000001", "wamid.l1", "tell me all")}).status ==
      200u);
  // Parts are cut at sentence ends, where the one space between sentences is dropped.
  auto joined_parts = [](const std::vector<recorded_request>& graph) {
    std::string joined;
    for (const auto& part : replies_to(graph, "919800000001"))
      joined += part + " ";
    return joined;
  };
  BOOST_TEST(bridge.graph().wait_until(
      [&](const auto& graph) { return joined_parts(graph) == long_answer; }, wait_limit));
  const auto parts = replies_to(bridge.graph().requests(), "919800000001");
  BOOST_TEST(parts.size() >= 2u);
  for (const auto& part : parts)
    BOOST_TEST(part.size() <= 4096u);
  BOOST_TEST(parts.front().starts_with("Sentence number 0 is here."));
}

// A text holding a lone surrogate escape (an emoji cut in half, high or low half) is not lost:
// it is answered, and Robofy is asked with U+FFFD where the half was.
BOOST_AUTO_TEST_CASE(texts_with_lone_surrogate_escapes_are_answered_with_the_replacement_char) {
  running_bridge bridge;
  std::string body = delivery_body({message_from("919800000011", "wamid.s1", "broken HIGH heart"),
                                    message_from("919800000012", "wamid.s2", "LOW tail")});
  // JSON allows any \uXXXX escape; simdjson refuses unpaired surrogates.
  body.replace(body.find("HIGH"), 4, "\\ud83d");
  body.replace(body.find("LOW"), 3, "\\udc00");
  BOOST_TEST(post_signed(bridge.webhook(), "/webhook", body, test_app_secret).status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  std::vector<std::string> asked = queries(bridge.robofy());
  std::sort(asked.begin(), asked.end());
  const std::string replacement = "\xEF\xBF\xBD";
  BOOST_TEST(asked ==
             (std::vector<std::string>{"broken " + replacement + " heart", replacement + " tail"}));
  BOOST_TEST(replies_to(bridge.graph().requests(), "919800000011") ==
             std::vector<std::string>{"Echo: broken " + replacement + " heart"});
  BOOST_TEST(bridge.on_loop(
                 [](bridge::app& a) { return a.pipeline_view().admissions().unreadable; }) == 0u);
}

// A 2,000-byte wamid (Meta's are about 60) is refused as unreadable: counted (and exported),
// never answered, and not remembered, so the dedupe memory cannot be filled with huge ids.
BOOST_AUTO_TEST_CASE(a_message_with_a_2000_byte_wamid_is_counted_unreadable_and_not_remembered) {
  running_bridge bridge;
  const auto huge = message_from("919800000013", "wamid." + std::string(1994, 'z'), "remember me");
  for (int i = 0; i < 2; ++i)
    BOOST_TEST(post_messages(bridge, {huge}).status == 200u);
  // A normal message after them is answered: everything before it was admitted already.
  BOOST_TEST(post_messages(bridge, {message_from("919800000013", "wamid.n1", "normal")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(queries(bridge.robofy()) == std::vector<std::string>{"normal"});
  const auto counts = bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions(); });
  BOOST_TEST(counts.unreadable == 2u);
  BOOST_TEST(counts.duplicates == 0u);  // not remembered: the second one was refused again
  BOOST_TEST(counts.accepted == 1u);
  BOOST_TEST(metric(bridge, "messages_unreadable_total") == 2);
}

// A text over 256 KiB did not come from a customer: it is refused, counted and logged with its
// wamid, never sent to Robofy, and Meta still gets 200 (a 4xx or 503 would only make Meta
// retry it). A text of exactly 256 KiB is answered.
BOOST_AUTO_TEST_CASE(a_text_over_256_kib_is_refused_counted_and_logged_not_answered) {
  bridge::test::log_capture log;
  running_bridge bridge([](bridge::config::settings& s) { s.logging.level = "warn"; });
  const std::size_t limit = bridge::webhook::meta::max_text_bytes;
  const auto over = message_from("919800000014", "wamid.big", std::string(limit + 1, 'o'));
  const auto at_limit = message_from("919800000014", "wamid.edge", std::string(limit, 'e'));
  BOOST_TEST(post_messages(bridge, {over, at_limit}).status == 200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  const auto asked = queries(bridge.robofy());
  BOOST_REQUIRE_EQUAL(asked.size(), 1u);
  BOOST_TEST(asked[0] == at_limit.body);
  const auto counts = bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions(); });
  BOOST_TEST(counts.oversized == 1u);
  BOOST_TEST(counts.accepted == 1u);
  BOOST_TEST(metric(bridge, "messages_oversized_total") == 1);
  const auto lines = log.lines_with("wamid.big");
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].find("refused") != std::string::npos, lines[0]);
  // Meta's retry of the same POST changes nothing: the oversized id is remembered as handled.
  BOOST_TEST(post_messages(bridge, {over}).status == 200u);
  BOOST_TEST(bridge.on_loop(
                 [](bridge::app& a) { return a.pipeline_view().admissions().duplicates; }) == 1u);
}

// A POST of 100 messages refused because the queue is full counts all 100 as refused, not 1.
BOOST_AUTO_TEST_CASE(a_refused_post_of_100_messages_counts_100_refused) {
  running_bridge bridge([](bridge::config::settings& s) { s.queue.capacity = 1; });
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = true;
    return reply;
  });
  BOOST_TEST(post_messages(bridge, {message_from("919800000015", "wamid.c0", "fills it")}).status ==
             200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  std::vector<text_message> hundred;
  for (int i = 0; i < 100; ++i) {
    hundred.push_back(message_from("91980000" + std::to_string(1000 + i),
                                   "wamid.h" + std::to_string(i), "line " + std::to_string(i)));
  }
  const auto refused = post_messages(bridge, hundred);
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(refused.body.find("\"overloaded\"") != std::string::npos);
  BOOST_TEST(bridge.on_loop(
                 [](bridge::app& a) { return a.pipeline_view().admissions().refused; }) == 100u);
  BOOST_TEST(metric(bridge, "messages_refused_total") == 100);
  bridge.robofy().release_held();
}

// A journal write that fails (a full disk) answers 503 with code "unstored" saying the
// messages could not be stored, so Meta retries; the retry after the disk recovers is answered
// once.
BOOST_AUTO_TEST_CASE(a_journal_write_failure_answers_503_unstored_and_the_retry_is_answered) {
  temp_dir dir;
  auto refusing = std::make_shared<std::atomic<int>>(0);
  bridge::app_options options;
  options.spool.inject_write_error = [refusing] { return refusing->load(); };
  running_bridge bridge([&](bridge::config::settings& s) { s.spool.dir = dir.path() + "/spool"; },
                        options);
  const std::vector<text_message> delivery{message_from("919800000016", "wamid.d1", "store me"),
                                           message_from("919800000017", "wamid.d2", "me too")};
  refusing->store(ENOSPC);
  const auto refused = post_messages(bridge, delivery);
  BOOST_TEST(refused.status == 503u);
  BOOST_TEST(refused.header("retry-after") == "10");
  BOOST_TEST(refused.body.find("\"code\":\"unstored\"") != std::string::npos, refused.body);
  BOOST_TEST(refused.body.find("could not be stored") != std::string::npos, refused.body);
  BOOST_TEST(metric(bridge, "webhook_requests_total{result=\"unstored\"}") == 1);
  BOOST_TEST(
      bridge.on_loop([](bridge::app& a) { return a.pipeline_view().admissions().refused; }) == 2u);

  refusing->store(0);
  BOOST_TEST(post_messages(bridge, delivery).status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(2, wait_limit));
  BOOST_TEST(replies_to(bridge.graph().requests(), "919800000016") ==
             std::vector<std::string>{"Echo: store me"});
  BOOST_TEST(bridge.robofy().request_count() == 2u);
}

// Lines that pile up while an answer is being written are joined into queries of at most
// 64 KiB: five 20 KiB lines become two queries (three lines, then two), in order, every line
// asked exactly once.
BOOST_AUTO_TEST_CASE(lines_piling_up_past_64_kib_are_asked_in_several_queries_in_order) {
  running_bridge bridge([](bridge::config::settings& s) { s.replies.max_parts = 1; });
  const std::string customer = "919800000018";
  bridge.robofy().set_responder([inner = robofy_echo()](const recorded_request& req) {
    canned_reply reply = inner(req);
    reply.hold = parse_robofy_request(req.body).query == "first";
    return reply;
  });
  BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.g0", "first")}).status == 200u);
  BOOST_REQUIRE(bridge.robofy().wait_for_requests(1, wait_limit));
  std::vector<std::string> lines;
  for (int i = 1; i <= 5; ++i) {
    std::string line = "line " + std::to_string(i) + " ";
    line += std::string(20 * 1024 - line.size(), static_cast<char>('a' + i));
    lines.push_back(line);
    BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.g" + std::to_string(i), line)})
                   .status == 200u);
  }
  bridge.robofy().release_held();
  BOOST_REQUIRE(bridge.graph().wait_for_requests(3, wait_limit));
  const auto asked = queries(bridge.robofy());
  BOOST_REQUIRE_EQUAL(asked.size(), 3u);
  BOOST_TEST(asked[0] == "first");
  BOOST_TEST(asked[1] == lines[0] + "\n" + lines[1] + "\n" + lines[2]);
  BOOST_TEST(asked[2] == lines[3] + "\n" + lines[4]);
  for (const auto& query : asked)
    BOOST_TEST(query.size() <= 64u * 1024u);
}

// An answer over the 1 MiB response limit would be as large if asked again: Robofy is called
// once, not max_attempts times, and the customer gets the fallback text.
BOOST_AUTO_TEST_CASE(a_robofy_answer_over_1_mib_is_not_retried_and_the_fallback_is_sent) {
  running_bridge bridge([](bridge::config::settings& s) { s.robofy.max_attempts = 4; });
  bridge.robofy().set_responder(robofy_answering(
      [](const robofy_request_fields&) { return std::string(1024 * 1024 + 1000, 'A'); }));
  BOOST_TEST(post_messages(bridge, {message_from("919800000019", "wamid.o1", "essay?")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(1, wait_limit));
  BOOST_TEST(replies_to(bridge.graph().requests(), "919800000019") ==
             std::vector<std::string>{bridge::config::reply_settings{}.fallback_text});
  BOOST_TEST(bridge.robofy().request_count() == 1u);
  BOOST_TEST(metric(bridge, "robofy_requests_total{outcome=\"permanent\"}") == 1);
}

// An answer that needs more than replies.max_parts WhatsApp messages is sent as exactly that
// many, the last ending with replies.cut_notice, each within 4096 UTF-16 units.
BOOST_AUTO_TEST_CASE(an_answer_over_max_parts_is_sent_as_max_parts_messages_with_the_notice) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.replies.max_parts = 4;
    s.replies.cut_notice = "[cut here]";
  });
  std::string essay;
  for (int p = 0; p < 12; ++p) {
    std::string paragraph = "Part " + std::to_string(p) + ".";
    while (paragraph.size() < 3500)
      paragraph += " more words";
    essay += (p > 0 ? "\n\n" : "") + paragraph;
  }
  bridge.robofy().set_responder(robofy_answering([essay](const robofy_request_fields& f) {
    return f.query == "essay please" ? essay : "Echo: " + f.query;
  }));
  const std::string customer = "919800000020";
  BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.e1", "essay please")}).status ==
             200u);
  BOOST_REQUIRE(bridge.graph().wait_for_requests(4, wait_limit));
  // The next question's answer comes after every part of the essay was sent.
  BOOST_TEST(post_messages(bridge, {message_from(customer, "wamid.e2", "thanks")}).status == 200u);
  BOOST_REQUIRE(bridge.graph().wait_until(
      [](const auto& graph) {
        return !graph.empty() && parse_graph_request(graph.back().body).text == "Echo: thanks";
      },
      wait_limit));
  const auto sent = replies_to(bridge.graph().requests(), customer);
  BOOST_REQUIRE_EQUAL(sent.size(), 5u);
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(sent[i].starts_with("Part " + std::to_string(i) + "."));
    BOOST_TEST(bridge::webhook::util::utf16_length(sent[i]) <=
               bridge::webhook::format::max_text_units);
  }
  BOOST_TEST(sent[3].ends_with("\n\n[cut here]"));
  BOOST_TEST(metric(bridge, "answers_cut_total") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
