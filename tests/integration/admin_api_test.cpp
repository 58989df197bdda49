// The admin listener behind admin.token (DESIGN.md §9), over real sockets: closed while no token
// is configured, 401 for a missing or wrong one, health and readiness always open, /metrics behind
// the token with protect_metrics, and a token changed by SIGHUP on the real executable.
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/support/bridge_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/control_client.hpp"
#include "tests/support/running_bridge.hpp"
#include "tests/support/self_signed.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr auto wait_limit = 20s;

std::string error_code_of(const client_response& res) {
  boost::system::error_code ec;
  const json::value body = json::parse(res.body, ec);
  if (ec || !body.is_object()) return "(not JSON: " + res.body + ")";
  const json::value* code = body.as_object().if_contains("error");
  if (code == nullptr || !code->is_object() || !code->as_object().contains("code")) return {};
  return std::string(code->as_object().at("code").as_string());
}

// Every control path, as an operator would call them.
const std::pair<const char*, const char*> control_paths[] = {
    {"GET", "/v1/conversations/paused"},
    {"POST", "/v1/conversations/106540352242922/919800000001/pause"},
    {"POST", "/v1/conversations/106540352242922/919800000001/resume"},
    {"GET", "/v1/dead-letters"},
    {"GET", "/v1/dead-letters/wamid.x"},
    {"POST", "/v1/dead-letters/wamid.x/replay"},
    {"DELETE", "/v1/dead-letters/wamid.x"},
};

// The number of times `text` occurs in the child's output so far.
std::size_t occurrences(const child_process& child, const std::string& text) {
  const std::string out = child.output();
  std::size_t n = 0;
  for (std::size_t at = out.find(text); at != std::string::npos; at = out.find(text, at + 1))
    ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_api)

BOOST_AUTO_TEST_CASE(without_a_token_the_control_paths_answer_403_and_health_stays_open) {
  running_bridge bridge;  // admin.token not set
  for (const auto& [method, target] : control_paths) {
    for (const std::string& token : {std::string(), std::string(test_admin_token)}) {
      const client_response res = admin_request(bridge.admin(), method, target, token);
      BOOST_TEST(res.status == 403u, method << " " << target);
      BOOST_TEST(res.header("content-type") == "application/json");
      BOOST_TEST(error_code_of(res) == "admin_token_not_set");
      BOOST_TEST(res.body.find("admin.token is not set") != std::string::npos, res.body);
    }
  }
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/healthz", "").status == 200u);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/readyz", "").status == 200u);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/metrics", "").status == 200u);
  // Every refusal is counted.
  const std::string metrics = fetch_metrics(bridge.admin());
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_admin_refused_total") ==
             2.0 * std::size(control_paths));
}

BOOST_AUTO_TEST_CASE(a_missing_wrong_or_one_character_short_token_is_401_the_right_one_200) {
  running_bridge bridge([](bridge::config::settings& s) { s.admin.token = test_admin_token; });
  const std::string right = test_admin_token;
  const std::string wrong_tokens[] = {"", "wrong", right.substr(0, right.size() - 1), right + "x",
                                      right.substr(1)};
  for (const std::string& token : wrong_tokens) {
    const client_response res =
        admin_request(bridge.admin(), "GET", "/v1/conversations/paused", token);
    BOOST_TEST(res.status == 401u, "token '" << token << "'");
    BOOST_TEST(res.header("www-authenticate").starts_with("Bearer"), "token '" << token << "'");
    BOOST_TEST(error_code_of(res) == "unauthorized");
  }
  // Another scheme, or the token alone, is not a bearer token.
  client_request basic;
  basic.target = "/v1/dead-letters";
  basic.headers = {{"Authorization", "Basic " + right}};
  BOOST_TEST(send_request(bridge.admin(), basic).status == 401u);
  basic.headers = {{"Authorization", right}};
  BOOST_TEST(send_request(bridge.admin(), basic).status == 401u);

  const client_response paused =
      admin_request(bridge.admin(), "GET", "/v1/conversations/paused", right);
  BOOST_TEST(paused.status == 200u);
  BOOST_TEST(paused.body == R"({"paused":[]})");
  const client_response letters = admin_request(bridge.admin(), "GET", "/v1/dead-letters", right);
  BOOST_TEST(letters.status == 200u);
  BOOST_TEST(json::parse(letters.body).at("dead_letters").as_array().empty());
  // With the token, unknown things are 404 (without it, a caller learns nothing).
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.none", right).status ==
             404u);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/v1/dead-letters/wamid.none", "").status ==
             401u);

  // Health, readiness and (without protect_metrics) metrics never need it.
  for (const char* open : {"/healthz", "/readyz", "/metrics"}) {
    BOOST_TEST(admin_request(bridge.admin(), "GET", open, "").status == 200u, open);
    BOOST_TEST(admin_request(bridge.admin(), "GET", open, "wrong").status == 200u, open);
  }
}

BOOST_AUTO_TEST_CASE(protect_metrics_puts_metrics_behind_the_token_and_health_stays_open) {
  running_bridge bridge([](bridge::config::settings& s) {
    s.admin.token = test_admin_token;
    s.admin.protect_metrics = true;
  });
  const client_response refused = admin_request(bridge.admin(), "GET", "/metrics", "");
  BOOST_TEST(refused.status == 401u);
  BOOST_TEST(refused.header("www-authenticate").starts_with("Bearer"));
  BOOST_TEST(refused.body.find("robofy_wa_bridge_") == std::string::npos);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/metrics", "wrong").status == 401u);
  const client_response metrics = admin_request(bridge.admin(), "GET", "/metrics");
  BOOST_TEST(metrics.status == 200u);
  BOOST_TEST(metrics.body.find("robofy_wa_bridge_ready 1") != std::string::npos);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/healthz", "").status == 200u);
  BOOST_TEST(admin_request(bridge.admin(), "GET", "/readyz", "").status == 200u);
}

BOOST_AUTO_TEST_CASE(the_token_changes_with_its_file_or_the_configuration_on_sighup) {
  upstream_fakes fakes;
  temp_dir dir;
  const std::string token_file = dir.write("admin-token", "first-token-a81f\n");
  auto config_with = [&](const std::string& admin_extra) {
    return "server:\n  listen: \"127.0.0.1:0\"\n"
           "admin:\n  listen: \"127.0.0.1:0\"\n" +
           admin_extra +
           "meta:\n  app_secret: s\n  verify_token: v\n  access_token: t\n"
           "  graph_base_url: " +
           fakes.graph().base_url() + "\nrobofy:\n  base_url: " + fakes.robofy().base_url() +
           "\n  api_key: k\n"
           "routes:\n  - phone_number_id: \"*\"\n    pid: p\n    chatbot_id: c\n"
           "logging:\n  level: info\n  format: text\n";
  };
  const std::string config =
      dir.write("bridge.yaml", config_with("  token_file: " + token_file + "\n"));
  auto started = start_bridge_process(config);
  child_process& bridge = *started.process;
  const auto admin = started.admin;
  const std::string paused = "/v1/conversations/paused";

  BOOST_TEST(admin_request(admin, "GET", paused, "first-token-a81f").status == 200u);
  BOOST_TEST(admin_request(admin, "GET", paused, "second-token-5c2e").status == 401u);
  BOOST_TEST(admin_request(admin, "GET", "/metrics", "").status == 200u);

  // A mounted secret rotated in place: the file's new content, then SIGHUP.
  dir.write("admin-token", "second-token-5c2e\n");
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(
      eventually([&] { return occurrences(bridge, "configuration reloaded") >= 1; }, wait_limit));
  const client_response old_token = admin_request(admin, "GET", paused, "first-token-a81f");
  BOOST_TEST(old_token.status == 401u);
  BOOST_TEST(old_token.header("www-authenticate").starts_with("Bearer"));
  BOOST_TEST(admin_request(admin, "GET", paused, "second-token-5c2e").status == 200u);

  // The token written into the configuration instead, and metrics put behind it.
  dir.write("bridge.yaml", config_with("  token: third-token-90dd\n  protect_metrics: true\n"));
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(
      eventually([&] { return occurrences(bridge, "configuration reloaded") >= 2; }, wait_limit));
  BOOST_TEST(admin_request(admin, "GET", paused, "second-token-5c2e").status == 401u);
  BOOST_TEST(admin_request(admin, "GET", paused, "third-token-90dd").status == 200u);
  BOOST_TEST(admin_request(admin, "GET", "/metrics", "").status == 401u);
  BOOST_TEST(admin_request(admin, "GET", "/metrics", "third-token-90dd").status == 200u);
  BOOST_TEST(admin_request(admin, "GET", "/healthz", "").status == 200u);
  BOOST_TEST(admin_request(admin, "GET", "/readyz", "").status == 200u);

  // A broken file keeps the token in force.
  dir.write("bridge.yaml", config_with("  token: fourth\n  no_such_key: 1\n"));
  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(bridge.wait_for_output("reload rejected", wait_limit));
  BOOST_TEST(admin_request(admin, "GET", paused, "third-token-90dd").status == 200u);
  BOOST_TEST(admin_request(admin, "GET", paused, "fourth").status == 401u);

  bridge.send_signal(SIGTERM);
  BOOST_TEST(bridge.wait_for_exit(wait_limit).value_or(-1) == 0);
  // The tokens are secrets: never in the log.
  const std::string log = bridge.output();
  for (const char* secret : {"first-token-a81f", "second-token-5c2e", "third-token-90dd"}) {
    BOOST_TEST(log.find(secret) == std::string::npos, secret);
  }
}

BOOST_AUTO_TEST_SUITE_END()
