// The real executable's JSON logs, read as a log store would: every line is one JSON object, and
// the lines about a message carry its wamid, what happened (event) and its conversation (customer
// redacted) as fields of their own; with Redis, every line also names the replica.
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/bridge_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/control_client.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/self_signed.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto wait_limit = 20s;
const std::string secret = "logs-secret";

std::string config_text(upstream_fakes& fakes, const std::string& more) {
  return "server:\n  listen: \"127.0.0.1:0\"\n"
         "admin:\n  listen: \"127.0.0.1:0\"\n  token: " +
         std::string(test_admin_token) + "\nmeta:\n  app_secret: " + secret +
         "\n  verify_token: v\n  access_token: t\n  graph_base_url: " + fakes.graph().base_url() +
         "\nrobofy:\n  base_url: " + fakes.robofy().base_url() +
         "\n  api_key: k\n  max_attempts: 1\n"
         "routes:\n  - phone_number_id: \"*\"\n    pid: p\n    chatbot_id: c\n"
         "replies:\n  typing_indicator: false\n"
         "logging:\n  level: info\n  format: json\n  redact_phone_numbers: true\n" +
         more;
}

// Robofy down for queries starting with "down", echoing the rest.
upstream_fakes make_fakes() {
  return upstream_fakes([](const recorded_request& req) {
    if (parse_robofy_request(req.body).query.starts_with("down")) {
      return canned_reply{503, R"({"message":"down"})"};
    }
    return robofy_echo()(req);
  });
}

// Every line of the output as JSON; a line that is not one JSON object fails the test.
std::vector<json::object> records_of(const std::string& output) {
  std::vector<json::object> records;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    const json::value parsed = json::parse(line, ec);
    BOOST_TEST((!ec && parsed.is_object()), "not a JSON object: " << line);
    if (!ec && parsed.is_object()) records.push_back(parsed.as_object());
  }
  return records;
}

std::string field(const json::object& record, const char* name) {
  const json::value* v = record.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

// The events logged about `wamid`, in order; each of those lines must name `conversation`.
std::vector<std::string> events_of(const std::vector<json::object>& records,
                                   const std::string& wamid, const std::string& conversation) {
  std::vector<std::string> events;
  for (const auto& r : records) {
    if (field(r, "wamid") != wamid) continue;
    events.push_back(field(r, "event"));
    BOOST_TEST(field(r, "conversation") == conversation, wamid << " " << field(r, "event"));
    BOOST_TEST(field(r, "msg").find(wamid) != std::string::npos, field(r, "msg"));
  }
  return events;
}

bool contains(const std::vector<std::string>& events, const std::string& event) {
  return std::find(events.begin(), events.end(), event) != events.end();
}

bool count_in_output(const child_process& child, const std::string& text, std::size_t n) {
  return eventually(
      [&] {
        const std::string out = child.output();
        std::size_t seen = 0;
        for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1))
          ++seen;
        return seen >= n;
      },
      wait_limit);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(structured_logs)

BOOST_AUTO_TEST_CASE(lines_about_a_message_carry_wamid_event_and_redacted_conversation) {
  upstream_fakes fakes = make_fakes();
  temp_dir dir;
  const std::string config = dir.write("bridge.yaml", config_text(fakes, ""));
  auto started = start_bridge_process(config);
  child_process& bridge = *started.process;
  auto post = [&](const std::string& body) {
    return post_signed(started.webhook, "/webhook", body, secret).status;
  };
  const std::string answered = "919811500001";
  const std::string failed = "919811500002";
  const std::string handed_over = "919811500003";

  BOOST_REQUIRE_EQUAL(post(delivery_body({{test_number, answered, "wamid.log.1", "hello"}})), 200u);
  BOOST_REQUIRE_EQUAL(post(delivery_body({{test_number, answered, "wamid.log.1", "hello"}})), 200u);
  BOOST_REQUIRE_EQUAL(post(delivery_body({{test_number, failed, "wamid.log.2", "down now"}})),
                      200u);
  BOOST_REQUIRE_EQUAL(post(echo_body(test_number, handed_over, "wamid.log.echo")), 200u);
  BOOST_REQUIRE_EQUAL(post(delivery_body({{test_number, handed_over, "wamid.log.3", "hi"}})), 200u);
  BOOST_REQUIRE(fakes.graph().wait_for_requests(2, wait_limit));
  BOOST_REQUIRE(count_in_output(bridge, "kept as a dead letter", 1));
  BOOST_REQUIRE(count_in_output(bridge, "\"event\":\"answered\"", 1));
  bridge.send_signal(SIGTERM);
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);

  const std::string output = bridge.output();
  const auto records = records_of(output);
  BOOST_TEST(records.size() > 5u);
  for (const auto& r : records) {
    BOOST_TEST(!field(r, "ts").empty());
    BOOST_TEST(!field(r, "level").empty());
    BOOST_TEST(r.contains("msg"));
    BOOST_TEST(!r.contains("replica"));  // one process: no replica name
    // The fields never travel inside the text.
    BOOST_TEST(field(r, "msg").find('\x1e') == std::string::npos);
    BOOST_TEST(field(r, "msg").find("\\u001e") == std::string::npos);
  }
  const std::string prefix = std::string(test_number) + "/";
  const auto first = events_of(records, "wamid.log.1", prefix + "9198******01");
  BOOST_TEST(contains(first, "queued"));
  BOOST_TEST(contains(first, "duplicate"));
  BOOST_TEST(contains(first, "asking_robofy"));
  BOOST_TEST(contains(first, "answered"));
  const auto second = events_of(records, "wamid.log.2", prefix + "9198******02");
  BOOST_TEST(contains(second, "queued"));
  BOOST_TEST(contains(second, "asking_robofy"));
  BOOST_TEST(contains(second, "fallback"));
  BOOST_TEST(contains(second, "dead_letter"));
  const auto third = events_of(records, "wamid.log.3", prefix + "9198******03");
  BOOST_TEST(third == std::vector<std::string>{"paused"});

  // Lines about no message carry no message fields.
  const auto ready = std::find_if(records.begin(), records.end(), [](const json::object& r) {
    return field(r, "msg").find(" ready (") != std::string::npos;
  });
  BOOST_TEST_REQUIRE((ready != records.end()));
  BOOST_TEST(!ready->contains("wamid"));
  BOOST_TEST(!ready->contains("event"));
  // Redaction holds in every field of every line.
  for (const std::string& number : {answered, failed, handed_over}) {
    BOOST_TEST(output.find(number) == std::string::npos, number);
  }
}

BOOST_AUTO_TEST_CASE(with_redis_every_line_names_the_replica) {
  redis_server redis;
  upstream_fakes fakes = make_fakes();
  temp_dir dir;
  const std::string config = dir.write(
      "bridge.yaml",
      config_text(fakes, "redis:\n  url: " + redis.url() + "\n  key_prefix: logs-test\n"));
  auto started = start_bridge_process(config, {{"POD_NAME", "bridge-7f9c-0"}});
  child_process& bridge = *started.process;
  BOOST_REQUIRE_EQUAL(
      post_signed(started.webhook, "/webhook",
                  delivery_body({{test_number, "919811500004", "wamid.log.r", "hello redis"}}),
                  secret)
          .status,
      200u);
  BOOST_REQUIRE(fakes.graph().wait_for_requests(1, wait_limit));
  BOOST_REQUIRE(count_in_output(bridge, "\"event\":\"answered\"", 1));
  bridge.send_signal(SIGTERM);
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);

  const auto records = records_of(bridge.output());
  std::set<std::string> replicas;
  for (const auto& r : records)
    replicas.insert(field(r, "replica"));
  BOOST_TEST(replicas.size() == 1u);
  BOOST_TEST(!replicas.begin()->empty());
  BOOST_TEST(replicas.begin()->find("bridge-7f9c-0") != std::string::npos, *replicas.begin());
  const auto events = events_of(records, "wamid.log.r", std::string(test_number) + "/9198******04");
  BOOST_TEST(contains(events, "queued"));
  BOOST_TEST(contains(events, "asking_robofy"));
  BOOST_TEST(contains(events, "answered"));
}

BOOST_AUTO_TEST_SUITE_END()
