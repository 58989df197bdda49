// The real robofy-wa-bridge executable, run as a child process: command line, exit codes,
// configuration errors, a round trip through fakes, SIGTERM, and what its logs may not contain.
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/bridge_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_services.hpp"
#include "tests/support/meta_payloads.hpp"
#include "tests/support/self_signed.hpp"
#include "tests/support/test_client.hpp"

using namespace bridge::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

const std::string binary = BRIDGE_BINARY_PATH;

// A configuration whose secrets are distinctive strings, so a test can prove they never leak.
std::string config_text(const std::string& robofy_url, const std::string& graph_url) {
  return "server:\n"
         "  listen: \"127.0.0.1:0\"\n"
         "admin:\n"
         "  listen: \"127.0.0.1:0\"\n"
         "meta:\n"
         "  app_secret: ${TEST_APP_SECRET}\n"
         "  verify_token: verify-SECRET-7f3a\n"
         "  access_token: graph-SECRET-91bc\n"
         "  graph_base_url: " +
         graph_url +
         "\n"
         "robofy:\n"
         "  base_url: " +
         robofy_url +
         "\n"
         "  api_key_file: ${KEY_FILE}\n"
         "routes:\n"
         "  - phone_number_id: \"106540352242922\"\n"
         "    pid: pid-exe\n"
         "    chatbot_id: bot-exe\n"
         "logging:\n"
         "  level: debug\n"
         "  format: json\n";
}

// The lines of `log` that contain `text`.
std::vector<std::string> lines_with(const std::string& log, const std::string& text) {
  std::vector<std::string> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(text) != std::string::npos) found.push_back(line);
  }
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(executable)

BOOST_AUTO_TEST_CASE(version_and_help_exit_zero) {
  auto [code, out] = run_to_end(binary, {"--version"});
  BOOST_TEST(code == 0);
  BOOST_TEST(out.starts_with("robofy-wa-bridge "));
  auto [help_code, help] = run_to_end(binary, {"--help"});
  BOOST_TEST(help_code == 0);
  BOOST_TEST(help.find("--check-config") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_two) {
  auto [code, out] = run_to_end(binary, {"--no-such-flag"});
  BOOST_TEST(code == 2);
  BOOST_TEST(out.find("unknown argument '--no-such-flag'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_config_accepts_a_valid_file) {
  temp_dir dir;
  const std::string key_file = dir.write("robofy.key", "robofy-SECRET-55de\n");
  const std::string config =
      dir.write("ok.yaml", config_text("http://127.0.0.1:1", "http://127.0.0.1:2"));
  auto [code, out] = run_to_end(binary, {"--config", config, "--check-config"},
                                {{"TEST_APP_SECRET", "app-SECRET-0c1d"}, {"KEY_FILE", key_file}});
  BOOST_TEST(code == 0, out);
  BOOST_TEST(out.find("is valid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_config_lists_every_problem_with_key_and_file_and_exits_two) {
  temp_dir dir;
  const std::string config = dir.write("bad.yaml",
                                       "server:\n"
                                       "  listen: \"127.0.0.1:99999\"\n"
                                       "  read_timout: 5s\n"
                                       "meta:\n"
                                       "  app_secret: app-SECRET-0c1d\n"
                                       "routes: []\n");
  auto [code, out] = run_to_end(binary, {"--config", config, "--check-config"});
  BOOST_TEST(code == 2);
  BOOST_TEST(out.find(config + ":2: server.listen") != std::string::npos, out);
  BOOST_TEST(out.find("server.read_timout") != std::string::npos, out);
  BOOST_TEST(out.find("read_timeout") != std::string::npos, out);  // the suggestion
  BOOST_TEST(out.find("meta.verify_token") != std::string::npos, out);
  BOOST_TEST(out.find("robofy.api_key") != std::string::npos, out);
  BOOST_TEST(out.find("routes") != std::string::npos, out);
  BOOST_TEST(out.find("app-SECRET-0c1d") == std::string::npos, out);

  // Running (not only checking) refuses the same file the same way.
  auto [run_code, run_out] = run_to_end(binary, {"--config", config});
  BOOST_TEST(run_code == 2);
  auto [missing_code, missing_out] = run_to_end(binary, {"--config", dir.path() + "/none.yaml"});
  BOOST_TEST(missing_code == 2);
  BOOST_TEST(missing_out.find(dir.path() + "/none.yaml") != std::string::npos, missing_out);
}

BOOST_AUTO_TEST_CASE(unreadable_tls_certificate_is_a_configuration_error) {
  temp_dir dir;
  const std::string key_file = dir.write("robofy.key", "robofy-SECRET-55de");
  // The tls block goes at the end of the server section, just before admin:.
  std::string text = config_text("http://127.0.0.1:1", "http://127.0.0.1:2");
  text.replace(text.find("admin:"), 0,
               "  tls:\n    cert_file: " + dir.path() +
                   "/missing.crt\n    key_file: " + dir.path() + "/missing.key\n");
  const std::string tls_config = dir.write("tls.yaml", text);
  auto [code, out] = run_to_end(binary, {"--config", tls_config, "--check-config"},
                                {{"TEST_APP_SECRET", "x"}, {"KEY_FILE", key_file}});
  BOOST_TEST(code == 2);
  BOOST_TEST(out.find("server.tls.cert_file") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(round_trip_and_sigterm_with_no_secret_or_phone_number_in_the_logs) {
  upstream_fakes fakes;
  fake_upstream& robofy = fakes.robofy();
  fake_upstream& graph = fakes.graph();

  temp_dir dir;
  const std::string key_file = dir.write("robofy.key", "robofy-SECRET-55de\n");
  const std::string config =
      dir.write("run.yaml", config_text(robofy.base_url(), graph.base_url()));
  auto started = start_bridge_process(
      config, {{"TEST_APP_SECRET", "app-SECRET-0c1d"}, {"KEY_FILE", key_file}});
  child_process& bridge = *started.process;
  const auto webhook = started.webhook;
  const auto admin = started.admin;
  BOOST_REQUIRE(webhook.port() != 0);
  BOOST_REQUIRE(admin.port() != 0);

  client_request readyz;
  readyz.target = "/readyz";
  BOOST_TEST(send_request(admin, readyz).status == 200u);

  const std::string body = fixture("payloads/text.json");
  BOOST_TEST(post_signed(webhook, "/webhook", body, "app-SECRET-0c1d").status == 200u);
  // The reply (read receipts are on by default, so it is not necessarily the first Graph call).
  BOOST_REQUIRE(graph.wait_until([](const auto& g) { return !text_sends(g).empty(); }, 10s));
  BOOST_REQUIRE_EQUAL(robofy.request_count(), 1u);
  BOOST_TEST(robofy.requests().front().header("authorization") == "Bearer robofy-SECRET-55de");
  BOOST_TEST(text_sends(graph.requests()).front().header("authorization") ==
             "Bearer graph-SECRET-91bc");
  BOOST_TEST(post_signed(webhook, "/webhook", body, "wrong").status == 401u);

  bridge.send_signal(SIGTERM);
  const auto code = bridge.wait_for_exit(20s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);

  const std::string log = bridge.output();
  BOOST_TEST(log.find("wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EwQjU2RjE4NzY1QTJCRkE4QkEA") !=
             std::string::npos);
  for (const char* secret :
       {"app-SECRET-0c1d", "verify-SECRET-7f3a", "graph-SECRET-91bc", "robofy-SECRET-55de"}) {
    BOOST_TEST(log.find(secret) == std::string::npos, secret);
  }
  // Phone numbers are redacted by default, even in the debug lines.
  BOOST_TEST(log.find("919876543210") == std::string::npos);
  // Every line is one JSON object.
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    BOOST_TEST((line.starts_with("{\"ts\":") && line.ends_with("}")), line);
  }
}

// A flood of refusals is one warning per 10 s, not one per request: 50 unsigned POSTs and 50
// messages for an unrouted business number make one line each; the next refusal after the
// interval logs a second line carrying the count held back meanwhile. (The test waits out the
// throttle's real 10 s interval: that interval is what it shows.)
BOOST_AUTO_TEST_CASE(
    refused_posts_and_unrouted_messages_are_logged_once_per_interval_with_a_count) {
  upstream_fakes fakes;
  temp_dir dir;
  const std::string key_file = dir.write("robofy.key", "robofy-SECRET-55de\n");
  std::string text = config_text(fakes.robofy().base_url(), fakes.graph().base_url());
  text.replace(text.find("level: debug"), 12, "level: info");
  auto started =
      start_bridge_process(dir.write("run.yaml", text),
                           {{"TEST_APP_SECRET", "app-SECRET-0c1d"}, {"KEY_FILE", key_file}});
  child_process& bridge = *started.process;
  const auto send_both = [&](int i) {
    client_request forged;
    forged.method = "POST";
    forged.target = "/webhook";
    forged.body = delivery_body({{"106540352242922", "919700000001", "wamid.x", "forged"}});
    BOOST_TEST(send_request(started.webhook, forged).status == 401u);
    const auto unrouted = delivery_body(
        {{"999000999000999", "919700000002", "wamid.unrouted." + std::to_string(i), "hello?"}});
    BOOST_TEST(post_signed(started.webhook, "/webhook", unrouted, "app-SECRET-0c1d").status ==
               200u);
  };
  send_both(0);
  // Both first lines were logged before their answers came back.
  const auto first_lines_logged = std::chrono::steady_clock::now();
  for (int i = 1; i < 50; ++i)
    send_both(i);
  BOOST_TEST(lines_with(bridge.output(), "webhook POST refused").size() == 1u);
  BOOST_TEST(lines_with(bridge.output(), "not forwarded: no route").size() == 1u);

  std::this_thread::sleep_until(first_lines_logged + 10s + 50ms);  // the throttle's interval
  send_both(50);
  BOOST_REQUIRE(bridge.wait_for_output("49 more since the last report", 10s));
  const auto refused = lines_with(bridge.output(), "webhook POST refused");
  BOOST_REQUIRE_EQUAL(refused.size(), 2u);
  BOOST_TEST(refused[1].find("(49 more refused since the last report)") != std::string::npos,
             refused[1]);
  const auto unrouted = lines_with(bridge.output(), "not forwarded: no route");
  BOOST_REQUIRE_EQUAL(unrouted.size(), 2u);
  BOOST_TEST(unrouted[1].find("(49 more since the last report)") != std::string::npos, unrouted[1]);
  // Nothing is lost from the counts.
  const std::string metrics = scrape_metrics(started.admin);
  BOOST_TEST(
      metric_sample(metrics, "robofy_wa_bridge_webhook_requests_total{result=\"bad_signature\"}") ==
      51);
  BOOST_TEST(metric_sample(metrics, "robofy_wa_bridge_messages_unrouted_total") == 51);
}

// Settings that are allowed but unwise (here a secret file and the configuration file, holding
// a literal secret, both readable by others) are logged as "configuration:" warnings at start,
// and again on every SIGHUP reload.
BOOST_AUTO_TEST_CASE(configuration_warnings_are_logged_at_start_and_on_reload) {
  upstream_fakes fakes;
  temp_dir dir;
  const std::string key_file = dir.write("robofy.key", "robofy-SECRET-55de\n");
  const std::string config =
      dir.write("run.yaml", config_text(fakes.robofy().base_url(), fakes.graph().base_url()));
  const auto readable = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                        std::filesystem::perms::group_read | std::filesystem::perms::others_read;
  std::filesystem::permissions(key_file, readable);
  std::filesystem::permissions(config, readable);
  auto started = start_bridge_process(
      config, {{"TEST_APP_SECRET", "app-SECRET-0c1d"}, {"KEY_FILE", key_file}});
  child_process& bridge = *started.process;
  const auto at_start = lines_with(bridge.output(), "configuration: ");
  BOOST_REQUIRE_EQUAL(at_start.size(), 2u);
  BOOST_TEST(at_start[0].find("robofy.api_key_file") != std::string::npos, at_start[0]);
  BOOST_TEST(at_start[0].find("mode 0644") != std::string::npos, at_start[0]);
  BOOST_TEST(at_start[1].find(config + ": the file holds secrets") != std::string::npos,
             at_start[1]);

  bridge.send_signal(SIGHUP);
  BOOST_REQUIRE(bridge.wait_for_output("configuration reloaded", 10s));
  BOOST_TEST(lines_with(bridge.output(), "configuration: ").size() == 4u);
  // The warnings never carry the secrets themselves.
  BOOST_TEST(bridge.output().find("robofy-SECRET-55de") == std::string::npos);
  BOOST_TEST(bridge.output().find("verify-SECRET-7f3a") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
