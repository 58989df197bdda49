#include "config/loader.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace cfg = bridge::config;
using namespace std::chrono_literals;

namespace {

const std::string fixtures = std::string(BRIDGE_FIXTURES_DIR) + "/config/";

cfg::environment fake_env(std::map<std::string, std::string, std::less<>> vars = {}) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A valid configuration in parts, so a test can replace one section. Line numbers: meta is lines
// 1-4, robofy 5-6, routes 7-10, extra starts at line 11.
struct doc {
  std::string meta =
      "meta:\n"
      "  app_secret: s3cr3t-app\n"
      "  verify_token: v3rify-tok\n"
      "  access_token: acc3ss-tok\n";
  std::string robofy =
      "robofy:\n"
      "  api_key: r0bofy-key\n";
  std::string routes =
      "routes:\n"
      "  - phone_number_id: \"106540352242922\"\n"
      "    pid: \"3\"\n"
      "    chatbot_id: bot\n";
  std::string extra;

  std::string text() const { return meta + robofy + routes + extra; }
};

cfg::settings load(const std::string& text, const cfg::environment& env = fake_env()) {
  return cfg::load_string(text, "test.yaml", env);
}

// The problems loading `text` reports; fails the test when it loads.
std::vector<cfg::problem> problems_of(const std::string& text,
                                      const cfg::environment& env = fake_env()) {
  try {
    load(text, env);
  } catch (const cfg::config_error& e) {
    BOOST_TEST(!e.problems.empty());
    return e.problems;
  }
  BOOST_FAIL("the configuration loaded but should not have");
  return {};
}

// The one problem loading `text` reports, checked to name the file.
cfg::problem only_problem(const std::string& text, const cfg::environment& env = fake_env()) {
  const auto found = problems_of(text, env);
  BOOST_TEST_REQUIRE(found.size() == 1u, "problems:\n" << cfg::config_error(found).what());
  BOOST_TEST(found[0].file == "test.yaml");
  return found[0];
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A fresh folder under the system temp directory, removed with everything in it.
struct temp_dir {
  std::filesystem::path path;

  temp_dir() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() /
           ("bridge-config-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string write(const std::string& name, std::string_view content) const {
    const auto file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
};

// The warnings naming `key` ("file:line: key: message" lines).
std::vector<std::string> warnings_about(const cfg::settings& s, const std::string& key) {
  std::vector<std::string> found;
  for (const std::string& warning : s.warnings) {
    if (contains(warning, ": " + key + ": ")) found.push_back(warning);
  }
  return found;
}

void set_mode(const std::string& path, std::filesystem::perms mode) {
  std::filesystem::permissions(path, mode, std::filesystem::perm_options::replace);
}

// The admin listener on loopback: without admin.token a public one is a warning of its own, which
// the tests of other warnings keep out of their counts this way.
const std::string loopback_admin = "admin:\n  listen: \"127.0.0.1:9090\"\n";

constexpr auto owner_only =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
constexpr auto world_readable =
    owner_only | std::filesystem::perms::group_read | std::filesystem::perms::others_read;

}  // namespace

BOOST_AUTO_TEST_SUITE(loader)

BOOST_AUTO_TEST_CASE(full_config_sets_every_key) {
  const cfg::settings s = cfg::load_file(fixtures + "full.yaml", fake_env());
  BOOST_TEST(s.source_file == fixtures + "full.yaml");
  BOOST_TEST(s.server.listen.host == "::1");
  BOOST_TEST(s.server.listen.port == 8443);
  BOOST_TEST(s.server.webhook_path == "/hooks/meta");
  BOOST_TEST_REQUIRE(s.server.tls.has_value());
  BOOST_TEST(s.server.tls->cert_file == "/etc/bridge/tls.crt");
  BOOST_TEST(s.server.tls->key_file == "/etc/bridge/tls.key");
  BOOST_TEST(s.server.max_body_bytes == 1048576u);
  BOOST_TEST(s.server.read_timeout.count() == 5000);
  BOOST_TEST(s.server.idle_timeout.count() == 120000);
  BOOST_TEST(s.admin.listen.host == "127.0.0.1");
  BOOST_TEST(s.admin.listen.port == 0);
  BOOST_TEST(s.meta.app_secret == "full-app-secret");
  BOOST_TEST(s.meta.verify_token == "full-verify-token");
  BOOST_TEST(s.meta.access_token == "full-access-token");
  BOOST_TEST(s.meta.graph_base_url == "http://127.0.0.1:8081");  // trailing "/" stripped
  BOOST_TEST(s.meta.graph_api_version == "v22.0");
  BOOST_TEST(s.robofy.base_url == "https://robofy.example.com:8443");
  BOOST_TEST(s.robofy.api_key == "full-robofy-key");
  BOOST_TEST((s.robofy.auth == cfg::auth_header::api_key));
  BOOST_TEST(s.robofy.timeout.count() == 90000);
  BOOST_TEST(s.robofy.max_attempts == 3);
  BOOST_TEST_REQUIRE(s.routes.size() == 2u);
  BOOST_TEST(s.routes[0].phone_number_id == "106540352242922");
  BOOST_TEST(s.routes[0].pid == "3001");
  BOOST_TEST(s.routes[0].chatbot_id == "DKDvwn01");
  BOOST_TEST(s.routes[0].access_token.value_or("") == "route-token");
  BOOST_TEST(s.routes[1].phone_number_id == "*");
  BOOST_TEST(!s.routes[1].access_token.has_value());
  BOOST_TEST(s.queue.capacity == 500u);
  BOOST_TEST(s.queue.workers == 16u);
  BOOST_TEST(s.queue.coalesce_window.count() == 750);
  BOOST_TEST(s.queue.max_message_age.count() == 2 * 3600 * 1000);
  BOOST_TEST(s.routes[0].messages_per_second == 250u);
  BOOST_TEST(s.routes[1].messages_per_second == 80u);
  BOOST_TEST(s.spool.dir.value_or("") == "/var/lib/bridge-test");
  BOOST_TEST(s.replies.fallback_text == "Back soon.");
  BOOST_TEST(s.replies.unsupported_text == "Text only, please.");
  BOOST_TEST(s.logging.level == "debug");
  BOOST_TEST((s.logging.format == cfg::log_format::text));
  BOOST_TEST(s.logging.redact_phone_numbers == false);
  BOOST_TEST(s.shutdown.grace.count() == 250);
}

BOOST_AUTO_TEST_CASE(minimal_config_takes_defaults) {
  const cfg::settings s = cfg::load_file(fixtures + "minimal.yaml", fake_env());
  const cfg::settings defaults;
  BOOST_TEST(s.server.listen.host == "0.0.0.0");
  BOOST_TEST(s.server.listen.port == 8443);
  BOOST_TEST(s.server.webhook_path == "/webhook");
  BOOST_TEST(!s.server.tls.has_value());
  BOOST_TEST(s.server.max_body_bytes == 4194304u);
  BOOST_TEST(s.server.read_timeout.count() == 10000);
  BOOST_TEST(s.server.idle_timeout.count() == 60000);
  BOOST_TEST(s.admin.listen.port == 9090);
  BOOST_TEST(s.meta.app_secret == "min-app-secret");
  BOOST_TEST(s.meta.graph_base_url == "https://graph.facebook.com");
  BOOST_TEST(s.meta.graph_api_version == "v21.0");
  BOOST_TEST(s.robofy.base_url == "https://agents.robofy.ai");
  BOOST_TEST((s.robofy.auth == cfg::auth_header::authorization));
  BOOST_TEST(s.robofy.timeout.count() == 30000);
  BOOST_TEST(s.robofy.max_attempts == 4);
  BOOST_TEST_REQUIRE(s.routes.size() == 1u);
  BOOST_TEST(s.routes[0].phone_number_id == "*");
  BOOST_TEST(s.queue.capacity == 10000u);
  BOOST_TEST(s.queue.workers == 256u);
  BOOST_TEST(s.queue.coalesce_window.count() == 0);
  BOOST_TEST(s.queue.max_message_age.count() == 24 * 3600 * 1000);
  BOOST_TEST(!s.spool.dir.has_value());
  BOOST_TEST(s.replies.fallback_text == defaults.replies.fallback_text);
  BOOST_TEST(s.replies.unsupported_text == defaults.replies.unsupported_text);
  BOOST_TEST(s.logging.level == "info");
  BOOST_TEST((s.logging.format == cfg::log_format::json));
  BOOST_TEST(s.logging.redact_phone_numbers == true);
  BOOST_TEST(s.shutdown.grace.count() == 25000);
}

BOOST_AUTO_TEST_CASE(empty_sections_take_defaults) {
  doc d;
  d.extra = "server:\nspool:\n  dir: ${SPOOL_DIR:-}\nlogging: {}\n";
  const cfg::settings s = load(d.text());
  BOOST_TEST(s.server.webhook_path == "/webhook");
  BOOST_TEST(!s.spool.dir.has_value());
}

BOOST_AUTO_TEST_CASE(example_config_loads) {
  const std::string path = std::string(BRIDGE_SOURCE_DIR) + "/deploy/config/example.yaml";
  auto env = fake_env({{"META_APP_SECRET", "a"},
                       {"META_VERIFY_TOKEN", "b"},
                       {"WHATSAPP_ACCESS_TOKEN", "c"},
                       {"ROBOFY_API_KEY", "d"},
                       {"ROBOFY_PID", "42"},
                       {"ROBOFY_CHATBOT_ID", "bot"}});
  const cfg::settings s = cfg::load_file(path, env);
  BOOST_TEST(s.meta.app_secret == "a");
  BOOST_TEST(s.meta.verify_token == "b");
  BOOST_TEST(s.meta.access_token == "c");
  BOOST_TEST(s.robofy.api_key == "d");
  BOOST_TEST_REQUIRE(s.routes.size() == 1u);
  BOOST_TEST(s.routes[0].phone_number_id == "*");
  BOOST_TEST(s.routes[0].pid == "42");
  BOOST_TEST(s.routes[0].chatbot_id == "bot");
  BOOST_TEST(s.server.tls.has_value());
  BOOST_TEST(s.spool.dir.has_value());

  auto with_number = fake_env({{"META_APP_SECRET", "a"},
                               {"META_VERIFY_TOKEN", "b"},
                               {"WHATSAPP_ACCESS_TOKEN", "c"},
                               {"ROBOFY_API_KEY", "d"},
                               {"ROBOFY_PID", "42"},
                               {"ROBOFY_CHATBOT_ID", "bot"},
                               {"WHATSAPP_PHONE_NUMBER_ID", "106540352242922"}});
  BOOST_TEST(cfg::load_file(path, with_number).routes.at(0).phone_number_id == "106540352242922");

  // Without its variables the example names each one that is missing.
  try {
    cfg::load_file(path, fake_env());
    BOOST_FAIL("loaded without variables");
  } catch (const cfg::config_error& e) {
    BOOST_TEST(e.problems.size() == 6u, e.what());
    BOOST_TEST(contains(e.what(), "environment variable ROBOFY_PID is not set"));
    BOOST_TEST(e.problems[0].file == path);
  }
}

BOOST_AUTO_TEST_CASE(expands_environment_in_every_scalar) {
  doc d;
  d.meta =
      "meta:\n"
      "  app_secret: ${APP}\n"
      "  verify_token: pre-${VT}-post\n"
      "  access_token: ${TOKEN:-default-token}\n";
  d.extra =
      "server:\n"
      "  listen: \"${HOST:-127.0.0.1}:${PORT}\"\n"
      "  max_body_bytes: ${BODY}\n"
      "logging:\n"
      "  redact_phone_numbers: ${REDACT}\n";
  const cfg::settings s = load(d.text(), fake_env({{"APP", "x"},
                                                   {"VT", "y"},
                                                   {"TOKEN", ""},
                                                   {"PORT", "1"},
                                                   {"BODY", "5"},
                                                   {"REDACT", "false"}}));
  BOOST_TEST(s.meta.app_secret == "x");
  BOOST_TEST(s.meta.verify_token == "pre-y-post");
  BOOST_TEST(s.meta.access_token == "default-token");  // empty but set: the default applies
  BOOST_TEST(s.server.listen.host == "127.0.0.1");
  BOOST_TEST(s.server.listen.port == 1);
  BOOST_TEST(s.server.max_body_bytes == 5u);
  BOOST_TEST(s.logging.redact_phone_numbers == false);
}

BOOST_AUTO_TEST_CASE(unset_variable_names_key_and_variable) {
  doc d;
  d.robofy = "robofy:\n  api_key: ${ROBOFY_API_KEY}\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "robofy.api_key");
  BOOST_TEST(p.line == 6);
  BOOST_TEST(p.to_string() ==
             "test.yaml:6: robofy.api_key: environment variable ROBOFY_API_KEY is not set");
}

BOOST_AUTO_TEST_CASE(malformed_reference_is_a_problem) {
  doc d;
  d.extra = "spool:\n  dir: /var/${lib\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "spool.dir");
  BOOST_TEST(p.line == 12);
  BOOST_TEST(contains(p.message, "unterminated"));
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key) {
  doc d;
  d.extra = "serverr:\n  listen: \"0.0.0.0:1\"\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "serverr");
  BOOST_TEST(p.line == 11);
  BOOST_TEST(p.message == "unknown key 'serverr' (did you mean 'server'?)");
  BOOST_TEST(p.to_string() ==
             "test.yaml:11: serverr: unknown key 'serverr' (did you mean 'server'?)");
}

BOOST_AUTO_TEST_CASE(unknown_nested_key_with_suggestion) {
  doc d;
  d.meta =
      "meta:\n"
      "  app_secret: s3cr3t-app\n"
      "  verfy_token: v3rify-tok\n"
      "  access_token: acc3ss-tok\n";
  const auto found = problems_of(d.text());
  // The typo itself, and so verify_token is missing too (reported at "meta:"); file order.
  BOOST_TEST_REQUIRE(found.size() == 2u);
  BOOST_TEST(found[0].key == "meta.verify_token");
  BOOST_TEST(found[0].line == 1);
  BOOST_TEST(contains(found[0].message, "is required"));
  BOOST_TEST(found[1].key == "meta.verfy_token");
  BOOST_TEST(found[1].line == 3);
  BOOST_TEST(found[1].message == "unknown key 'verfy_token' (did you mean 'verify_token'?)");
  BOOST_TEST(!contains(cfg::config_error(found).what(), "v3rify-tok"));
}

BOOST_AUTO_TEST_CASE(unknown_key_without_suggestion) {
  doc d;
  d.extra = "server:\n  tls:\n    cert_file: /c\n    key_file: /k\n    ciphers: all\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "server.tls.ciphers");
  BOOST_TEST(p.line == 15);
  BOOST_TEST(p.message == "unknown key 'ciphers'");
}

BOOST_AUTO_TEST_CASE(unknown_key_in_route) {
  doc d;
  d.routes += "    chatbotid: x\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "routes[0].chatbotid");
  BOOST_TEST(contains(p.message, "did you mean 'chatbot_id'?"));
}

BOOST_AUTO_TEST_CASE(duplicate_key) {
  doc d;
  d.extra = "queue:\n  workers: 1\n  workers: 2\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "queue.workers");
  BOOST_TEST(p.line == 13);
  BOOST_TEST(contains(p.message, "twice (first at line 12)"));
}

BOOST_AUTO_TEST_CASE(missing_required_keys) {
  const auto found = problems_of("logging:\n  level: info\n");
  std::map<std::string, std::string> by_key;
  for (const auto& p : found) {
    BOOST_TEST(p.file == "test.yaml");
    by_key[p.key] = p.message;
  }
  BOOST_TEST(found.size() == 4u, cfg::config_error(found).what());
  BOOST_TEST(contains(by_key["meta.app_secret"], "is required"));
  BOOST_TEST(contains(by_key["meta.app_secret"], "app_secret_file"));
  BOOST_TEST(contains(by_key["meta.verify_token"], "is required"));
  BOOST_TEST(contains(by_key["robofy.api_key"], "is required"));
  BOOST_TEST(contains(by_key["routes"], "at least one route"));
}

BOOST_AUTO_TEST_CASE(empty_file_lists_what_is_required) {
  BOOST_TEST(problems_of("").size() == 4u);
  BOOST_TEST(problems_of("# only a comment\n").size() == 4u);
}

BOOST_AUTO_TEST_CASE(empty_secret_counts_as_missing) {
  doc d;
  d.meta =
      "meta:\n"
      "  app_secret: ${APP_SECRET}\n"
      "  verify_token: \"\"\n"
      "  access_token: acc3ss-tok\n";
  const auto found = problems_of(d.text(), fake_env({{"APP_SECRET", ""}}));
  BOOST_TEST_REQUIRE(found.size() == 2u);
  BOOST_TEST(found[0].key == "meta.app_secret");
  BOOST_TEST(found[0].line == 2);
  BOOST_TEST(found[0].message == "must not be empty");
  BOOST_TEST(found[1].key == "meta.verify_token");
}

BOOST_AUTO_TEST_CASE(access_token_may_be_left_to_routes) {
  doc d;
  d.meta = "meta:\n  app_secret: a\n  verify_token: b\n\n";
  d.routes += "    access_token: route-tok\n";
  const cfg::settings s = load(d.text());
  BOOST_TEST(s.meta.access_token.empty());
  BOOST_TEST(s.routes.at(0).access_token.value_or("") == "route-tok");

  // A second route without its own token needs the default.
  d.routes += "  - phone_number_id: \"*\"\n    pid: \"4\"\n    chatbot_id: bot\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "meta.access_token");
  BOOST_TEST(contains(p.message, "routes[1] does not"));
}

BOOST_AUTO_TEST_CASE(route_needs_its_keys) {
  doc d;
  d.routes = "routes:\n  - phone_number_id: \"1\"\n    pid: \"\"\n";
  const auto found = problems_of(d.text());
  BOOST_TEST_REQUIRE(found.size() == 2u, cfg::config_error(found).what());
  BOOST_TEST(found[0].key == "routes[0].chatbot_id");
  BOOST_TEST(found[0].message == "is required");
  BOOST_TEST(found[0].line == 8);  // where the route starts
  BOOST_TEST(found[1].key == "routes[0].pid");
  BOOST_TEST(found[1].message == "must not be empty");
  BOOST_TEST(found[1].line == 9);
}

BOOST_AUTO_TEST_CASE(routes_must_be_a_list_of_mappings) {
  doc d;
  d.routes = "routes: \"106540352242922\"\n";
  auto p = only_problem(d.text());
  BOOST_TEST(p.key == "routes");
  BOOST_TEST(contains(p.message, "expected a list of routes"));

  d.routes = "routes: []\n";
  BOOST_TEST(only_problem(d.text()).key == "routes");

  d.routes = "routes:\n  - just-a-string\n";
  p = only_problem(d.text());
  BOOST_TEST(p.key == "routes[0]");
  BOOST_TEST(p.line == 8);
}

BOOST_AUTO_TEST_CASE(duplicate_route) {
  doc d;
  d.routes +=
      "  - phone_number_id: 106540352242922\n"
      "    pid: \"4\"\n"
      "    chatbot_id: other\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "routes[1].phone_number_id");
  BOOST_TEST(p.line == 11);
  BOOST_TEST(contains(p.message, "already routed by routes[0]"));
}

BOOST_AUTO_TEST_CASE(phone_number_id_must_be_an_id) {
  doc d;
  d.routes = "routes:\n  - phone_number_id: \"+1 555 0100\"\n    pid: \"3\"\n    chatbot_id: b\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(p.key == "routes[0].phone_number_id");
  BOOST_TEST(contains(p.message, "phone number ID"));
}

struct bad_value {
  std::string yaml;  // appended as extra, from line 11
  std::string key;
  std::string message_part;
};

BOOST_AUTO_TEST_CASE(bad_values_name_key_and_line) {
  const std::vector<bad_value> cases = {
      {"server:\n  listen: 0.0.0.0\n", "server.listen", "expected host:port"},
      {"server:\n  listen: \"0.0.0.0:70000\"\n", "server.listen", "port must be"},
      {"server:\n  listen: \"::1:80\"\n", "server.listen", "brackets"},
      {"server:\n  listen: \"example.com:80\"\n", "server.listen", "IP address"},
      {"admin:\n  listen: \"1.2.3.4:x\"\n", "admin.listen", "port must be"},
      {"server:\n  webhook_path: webhook\n", "server.webhook_path", "must start with '/'"},
      {"server:\n  tls:\n    cert_file: /c\n", "server.tls.key_file", "is required"},
      {"server:\n  tls:\n    cert_file: /c\n    key_file: \"\"\n", "server.tls.key_file",
       "must not be empty"},
      {"server:\n  max_body_bytes: 0\n", "server.max_body_bytes", "from 1 to 67108864"},
      {"server:\n  max_body_bytes: 67108865\n", "server.max_body_bytes", "from 1 to 67108864"},
      {"server:\n  max_body_bytes: 12abc\n", "server.max_body_bytes",
       "expected a whole number from 1 to 67108864, got '12abc'"},
      {"server:\n  max_body_bytes: -5\n", "server.max_body_bytes", "must not be negative"},
      {"server:\n  max_body_bytes: 1.5\n", "server.max_body_bytes", "whole number"},
      {"server:\n  max_body_bytes: 99999999999999999999999\n", "server.max_body_bytes",
       "must be from 1"},
      {"server:\n  max_body_bytes:\n", "server.max_body_bytes", "whole number"},
      {"server:\n  read_timeout: 10\n", "server.read_timeout", "expected a duration"},
      {"server:\n  idle_timeout: 0s\n", "server.idle_timeout", "must be greater than 0"},
      {"server:\n  read_timeout: 1d\n", "server.read_timeout", "got '1d'"},
      {"meta:\n", "meta", "twice"},
      {"robofy:\n", "robofy", "twice"},
      {"shutdown:\n  grace: 0ms\n", "shutdown.grace", "greater than 0"},
      {"queue:\n  capacity: 0\n", "queue.capacity", "from 1 to 10000000"},
      {"queue:\n  capacity: 10000001\n", "queue.capacity", "from 1 to 10000000"},
      {"queue:\n  workers: 100001\n", "queue.workers", "from 1 to 100000"},
      {"queue:\n  workers: -1\n", "queue.workers", "must not be negative"},
      {"replies:\n  fallback_text: \"\"\n", "replies.fallback_text", "must not be empty"},
      {"logging:\n  level: verbose\n", "logging.level",
       "expected one of trace, debug, info, warn, error, critical, off; got 'verbose'"},
      {"logging:\n  format: xml\n", "logging.format", "expected one of json, text"},
      {"logging:\n  redact_phone_numbers: maybe\n", "logging.redact_phone_numbers",
       "expected true or false"},
      {"spool:\n  dir: [a, b]\n", "spool.dir", "expected a single value, got a list"},
      {"logging:\n  level:\n    name: info\n", "logging.level", "got a mapping"},
      {"queue: 5\n", "queue", "expected a mapping of keys, got a single value"},
      {"server:\n  - listen\n", "server", "got a list"},
      {"server:\n  tls: yes\n", "server.tls", "expected a mapping"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("yaml:\n" << c.yaml) {
      doc d;
      d.extra = c.yaml;
      const auto p = only_problem(d.text());
      BOOST_TEST(p.key == c.key);
      BOOST_TEST(contains(p.message, c.message_part), p.message);
      BOOST_TEST(p.line >= 11);
      BOOST_TEST(contains(p.to_string(), "test.yaml:" + std::to_string(p.line) + ": " + c.key));
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_upstream_settings) {
  doc d;
  d.meta =
      "meta:\n"
      "  app_secret: a\n"
      "  verify_token: b\n"
      "  access_token: c\n"
      "  graph_base_url: https://graph.facebook.com/v21.0\n"
      "  graph_api_version: \"21\"\n";
  d.robofy =
      "robofy:\n"
      "  api_key: k\n"
      "  base_url: agents.robofy.ai\n"
      "  auth_header: bearer\n"
      "  timeout: 0s\n"
      "  max_attempts: 11\n";
  const auto found = problems_of(d.text());
  BOOST_TEST_REQUIRE(found.size() == 6u, cfg::config_error(found).what());
  BOOST_TEST(found[0].key == "meta.graph_base_url");
  BOOST_TEST(found[0].line == 5);
  BOOST_TEST(contains(found[0].message, "must not have a path"));
  BOOST_TEST(found[1].key == "meta.graph_api_version");
  BOOST_TEST(found[2].key == "robofy.base_url");
  BOOST_TEST(contains(found[2].message, "https://"));
  BOOST_TEST(found[3].key == "robofy.auth_header");
  BOOST_TEST(contains(found[3].message, "authorization, api-key"));
  BOOST_TEST(found[4].key == "robofy.timeout");
  BOOST_TEST(found[5].key == "robofy.max_attempts");
  BOOST_TEST(contains(found[5].message, "from 1 to 10"));
}

BOOST_AUTO_TEST_CASE(reports_every_problem_at_once) {
  doc d;
  d.extra =
      "server:\n"
      "  listen: nowhere\n"
      "  lisen: \"0.0.0.0:1\"\n"
      "queue:\n"
      "  capacity: lots\n"
      "logging:\n"
      "  level: loud\n"
      "shutdown:\n"
      "  grace: ${GRACE}\n";
  const auto found = problems_of(d.text());
  BOOST_TEST_REQUIRE(found.size() == 5u, cfg::config_error(found).what());
  std::vector<std::string> keys;
  for (const auto& p : found)
    keys.push_back(p.key);
  const std::vector<std::string> expected = {"server.listen", "server.lisen", "queue.capacity",
                                             "logging.level", "shutdown.grace"};
  BOOST_TEST(keys == expected, boost::test_tools::per_element());
  // what() holds one line per problem.
  const std::string what = cfg::config_error(found).what();
  BOOST_TEST(std::count(what.begin(), what.end(), '\n') == 4);
  BOOST_TEST(
      contains(what, "test.yaml:13: server.lisen: unknown key 'lisen' (did you mean 'listen'?)"));
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_has_line) {
  const auto p = only_problem("meta:\n  app_secret: a\n  verify_token: [unclosed\nrobofy:\n");
  BOOST_TEST(p.key.empty());
  BOOST_TEST(p.line >= 3);
  BOOST_TEST(contains(p.message, "YAML syntax error"));
  BOOST_TEST(
      contains(p.to_string(), "test.yaml:" + std::to_string(p.line) + ": YAML syntax error"));

  const auto bad_indent = only_problem("meta:\n  app_secret: a\n verify_token: b\n");
  BOOST_TEST(bad_indent.line == 3);
}

BOOST_AUTO_TEST_CASE(document_must_be_a_mapping) {
  const auto p = only_problem("- a\n- b\n");
  BOOST_TEST(p.key.empty());
  BOOST_TEST(contains(p.message, "expected a mapping of sections"));
}

BOOST_AUTO_TEST_CASE(several_documents_are_refused) {
  doc d;
  const std::string text = d.text();
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  const auto p = only_problem(text + "---\nqueue:\n  workers: 1\n");
  BOOST_TEST(contains(p.message, "more than one YAML document"));
  BOOST_TEST(p.line == lines + 1);  // the "---" that starts the second one
}

BOOST_AUTO_TEST_CASE(a_leading_document_marker_is_fine) {
  doc d;
  BOOST_CHECK_NO_THROW(load("# comment\n---\n" + d.text()));
}

// Inputs the fuzzer found (tests/fuzz/config_fuzz): each must end, promptly, in a config_error
// whose problems are single clean lines.
BOOST_AUTO_TEST_CASE(inputs_found_by_the_fuzzer_give_clean_problems) {
  for (const std::string& text :
       {std::string(",\n"), std::string("a: \"\\\x1b\"\n"), std::string("verfy\x1b_key: 1\n")}) {
    try {
      cfg::load_string(text, "fuzz.yaml", fake_env());
      BOOST_FAIL("no problem reported");
    } catch (const cfg::config_error& e) {
      for (const auto& problem : e.problems) {
        const std::string line = problem.to_string();
        BOOST_TEST(std::none_of(line.begin(), line.end(),
                                [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
                   line);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unquoted_wildcard_is_reported) {
  doc d;
  d.routes = "routes:\n  - phone_number_id: *\n    pid: \"3\"\n    chatbot_id: b\n";
  const auto p = only_problem(d.text());
  BOOST_TEST(contains(p.message, "YAML syntax error"));
  BOOST_TEST(p.line == 8);
}

BOOST_AUTO_TEST_CASE(secrets_from_files) {
  temp_dir dir;
  const auto app = dir.write("app", "file-app-secret\n");
  const auto verify = dir.write("verify", "file-verify\r\n");
  const auto access = dir.write("access", "file-access");
  const auto api = dir.write("api", "file-api\n\n");  // only one newline is stripped
  const auto route = dir.write("route", "file-route\n");
  doc d;
  d.meta = "meta:\n  app_secret_file: " + app + "\n  verify_token_file: ${VERIFY_PATH}\n" +
           "  access_token_file: " + access + "\n";
  d.robofy = "robofy:\n  api_key_file: " + api + "\n";
  d.routes += "    access_token_file: " + route + "\n";
  const cfg::settings s = load(d.text(), fake_env({{"VERIFY_PATH", verify}}));
  BOOST_TEST(s.meta.app_secret == "file-app-secret");
  BOOST_TEST(s.meta.verify_token == "file-verify");
  BOOST_TEST(s.meta.access_token == "file-access");
  BOOST_TEST(s.robofy.api_key == "file-api\n");
  BOOST_TEST(s.routes.at(0).access_token.value_or("") == "file-route");
}

BOOST_AUTO_TEST_CASE(secret_file_problems) {
  temp_dir dir;
  const auto empty = dir.write("empty", "\n");
  const std::string missing = (dir.path / "missing").string();
  doc d;
  d.meta =
      "meta:\n"
      "  app_secret_file: " +
      missing +
      "\n"
      "  verify_token_file: " +
      empty +
      "\n"
      "  access_token_file: " +
      dir.path.string() + "\n";
  d.robofy = "robofy:\n  api_key_file: \"\"\n";
  const auto found = problems_of(d.text());
  BOOST_TEST_REQUIRE(found.size() == 4u, cfg::config_error(found).what());
  BOOST_TEST(found[0].key == "meta.app_secret_file");
  BOOST_TEST(found[0].line == 2);
  BOOST_TEST(contains(found[0].message, "cannot read secret file '" + missing + "'"));
  BOOST_TEST(contains(found[0].message, "No such file"));
  BOOST_TEST(found[1].key == "meta.verify_token_file");
  BOOST_TEST(contains(found[1].message, "is empty"));
  BOOST_TEST(found[2].key == "meta.access_token_file");
  BOOST_TEST(contains(found[2].message, "not a regular file"));
  BOOST_TEST(found[3].key == "robofy.api_key_file");
}

BOOST_AUTO_TEST_CASE(both_secret_forms_are_refused) {
  temp_dir dir;
  const auto file = dir.write("secret", "from-file");
  doc d;
  d.robofy = "robofy:\n  api_key: inline-key\n  api_key_file: " + file + "\n";
  d.routes += "    access_token: a\n    access_token_file: " + file + "\n";
  const auto found = problems_of(d.text());
  BOOST_TEST_REQUIRE(found.size() == 2u, cfg::config_error(found).what());
  BOOST_TEST(found[0].key == "robofy.api_key");
  BOOST_TEST(found[0].line == 7);
  BOOST_TEST(found[0].message == "set either api_key or api_key_file, not both");
  BOOST_TEST(found[1].key == "routes[0].access_token");
  const std::string what = cfg::config_error(found).what();
  BOOST_TEST(!contains(what, "inline-key"));
  BOOST_TEST(!contains(what, "from-file"));
}

BOOST_AUTO_TEST_CASE(secrets_never_appear_in_messages) {
  // Every secret key given a wrong value of some kind; none of the values may be echoed.
  const std::string yaml =
      "meta:\n"
      "  app_secret: [Secr3tA]\n"
      "  verify_token: Secr3tB${\n"
      "  access_token: {Secr3tC: 1}\n"
      "robofy:\n"
      "  api_key: Secr3tD${NOT_SET}\n"
      "  base_url: https://user:Secr3tE@robofy.example\n"
      "routes:\n"
      "  - phone_number_id: \"1\"\n"
      "    pid: \"3\"\n"
      "    chatbot_id: b\n"
      "    access_token: Secr3tF\n"
      "    access_token_file: /nonexistent/Secr3tG-is-a-path-not-a-secret\n";
  const auto found = problems_of(yaml);
  BOOST_TEST(found.size() == 6u, cfg::config_error(found).what());
  const std::string what = cfg::config_error(found).what();
  for (const char* secret : {"Secr3tA", "Secr3tB", "Secr3tC", "Secr3tD", "Secr3tE", "Secr3tF"}) {
    BOOST_TEST(!contains(what, secret), secret << " leaked into:\n" << what);
  }
}

BOOST_AUTO_TEST_CASE(unreadable_file_names_the_file) {
  temp_dir dir;
  const std::string missing = (dir.path / "nope.yaml").string();
  for (const std::string& path : {missing, dir.path.string()}) {
    try {
      cfg::load_file(path, fake_env());
      BOOST_FAIL("loaded " << path);
    } catch (const cfg::config_error& e) {
      BOOST_TEST_REQUIRE(e.problems.size() == 1u);
      BOOST_TEST(e.problems[0].file == path);
      BOOST_TEST(e.problems[0].line == 0);
      BOOST_TEST(contains(e.what(), path + ": cannot read the configuration file"));
    }
  }
}

BOOST_AUTO_TEST_CASE(sentinel_addresses_may_be_dns_names) {
  doc d;
  d.extra =
      "redis:\n"
      "  url: redis://robofy-wa-bridge-redis:6379/0\n"
      "  sentinel:\n"
      "    master_name: robofy-wa-bridge\n"
      "    addresses:\n"
      "      - \"robofy-wa-bridge-redis-sentinel-0.robofy-wa-bridge-redis-sentinel:26379\"\n"
      "      - \"10.0.0.7:26379\"\n"
      "  min_replica_acks: 1\n";
  const cfg::settings s = load(d.text());
  BOOST_TEST_REQUIRE(s.redis.has_value());
  BOOST_TEST_REQUIRE(s.redis->sentinel.has_value());
  BOOST_TEST_REQUIRE(s.redis->sentinel->addresses.size() == 2u);
  BOOST_TEST(s.redis->sentinel->addresses[0].host ==
             "robofy-wa-bridge-redis-sentinel-0.robofy-wa-bridge-redis-sentinel");
  BOOST_TEST(s.redis->sentinel->addresses[0].port == 26379);
  BOOST_TEST(s.redis->sentinel->addresses[1].host == "10.0.0.7");
  BOOST_TEST(s.redis->min_replica_acks == 1);

  d.extra =
      "redis:\n"
      "  url: redis://127.0.0.1:6379/0\n"
      "  sentinel:\n"
      "    master_name: robofy-wa-bridge\n"
      "    addresses: [\"sentinel 0:26379\"]\n";
  const cfg::problem p = only_problem(d.text());
  BOOST_TEST(p.line == 15);
  BOOST_TEST(p.key == "redis.sentinel.addresses[0]");
  BOOST_TEST(contains(p.message, "DNS name"));
}

BOOST_AUTO_TEST_CASE(problem_to_string_forms) {
  BOOST_TEST((cfg::problem{"a.yaml", 3, "server.listen", "bad"}.to_string()) ==
             "a.yaml:3: server.listen: bad");
  BOOST_TEST((cfg::problem{"a.yaml", 0, "routes", "missing"}.to_string()) ==
             "a.yaml: routes: missing");
  BOOST_TEST((cfg::problem{"a.yaml", 0, "", "unreadable"}.to_string()) == "a.yaml: unreadable");
}

// Plain http:// to a host that is not loopback sends the API key and access token unencrypted:
// allowed (an internal proxy), but each such URL is a warning naming its key and line.
BOOST_AUTO_TEST_CASE(cleartext_urls_to_remote_hosts_are_warned_about) {
  doc d;
  d.meta += "  graph_base_url: http://10.1.2.3:8080\n";  // line 5
  d.robofy += "  base_url: http://robofy.internal\n";    // line 8
  d.extra = loopback_admin;
  const cfg::settings s = load(d.text());
  const auto graph = warnings_about(s, "meta.graph_base_url");
  BOOST_TEST_REQUIRE(graph.size() == 1u);
  BOOST_TEST(graph[0].starts_with("test.yaml:5: meta.graph_base_url: "));
  BOOST_TEST(contains(graph[0], "plain http://"));
  const auto robofy = warnings_about(s, "robofy.base_url");
  BOOST_TEST_REQUIRE(robofy.size() == 1u);
  BOOST_TEST(robofy[0].starts_with("test.yaml:8: robofy.base_url: "));
  BOOST_TEST(s.warnings.size() == 2u);

  // Loopback over http, and anything over https, is fine.
  for (const char* graph_url : {"http://127.0.0.1:8081", "http://localhost:9", "http://[::1]:8",
                                "http://127.8.9.10", "https://graph.example.com"}) {
    doc quiet;
    quiet.meta += std::string("  graph_base_url: ") + graph_url + "\n";
    quiet.robofy += "  base_url: https://agents.example.com\n";
    quiet.extra = loopback_admin;
    const cfg::settings loaded = load(quiet.text());
    BOOST_TEST(loaded.warnings.empty(), graph_url << ": " << loaded.warnings.front());
  }
  // A name that only looks like a loopback address may resolve anywhere.
  doc lookalike;
  lookalike.robofy += "  base_url: http://127.0.0.1.attacker.example\n";
  BOOST_TEST(warnings_about(load(lookalike.text()), "robofy.base_url").size() == 1u);
}

// A secret file or TLS key that group or others may read is a warning (naming the key and the
// mode); the same files at 0600 are not; a certificate is public and never warned about.
BOOST_AUTO_TEST_CASE(secret_files_and_tls_keys_readable_by_others_are_warned_about) {
  temp_dir dir;
  const auto api = dir.write("api", "file-api\n");
  const auto key = dir.write("tls.key", "not read by the loader");
  const auto cert = dir.write("tls.crt", "not read by the loader");
  set_mode(cert, world_readable);
  doc d;
  d.robofy = "robofy:\n  api_key_file: " + api + "\n";
  d.extra =
      "server:\n  tls:\n    cert_file: " + cert + "\n    key_file: " + key + "\n" + loopback_admin;

  set_mode(api, world_readable);
  set_mode(key, world_readable);
  const cfg::settings exposed = load(d.text());
  const auto api_warnings = warnings_about(exposed, "robofy.api_key_file");
  BOOST_TEST_REQUIRE(api_warnings.size() == 1u);
  BOOST_TEST(contains(api_warnings[0], "secret file"));
  BOOST_TEST(contains(api_warnings[0], "mode 0644"));
  BOOST_TEST(contains(api_warnings[0], "chmod 600"));
  BOOST_TEST(!contains(api_warnings[0], "file-api"));  // the secret itself never appears
  const auto key_warnings = warnings_about(exposed, "server.tls.key_file");
  BOOST_TEST_REQUIRE(key_warnings.size() == 1u);
  BOOST_TEST(contains(key_warnings[0], "TLS key"));
  BOOST_TEST(contains(key_warnings[0], "mode 0644"));
  BOOST_TEST(warnings_about(exposed, "server.tls.cert_file").empty());
  BOOST_TEST(exposed.warnings.size() == 2u);

  set_mode(api, owner_only);
  set_mode(key, owner_only);
  const cfg::settings private_files = load(d.text());
  BOOST_TEST(private_files.warnings.empty());
}

// A configuration file that holds a secret written into it must be private too; one whose
// secrets come from the environment or *_file may be readable by all.
BOOST_AUTO_TEST_CASE(a_config_file_with_literal_secrets_readable_by_others_is_warned_about) {
  temp_dir dir;
  doc literal_doc;
  literal_doc.extra = loopback_admin;
  const std::string literal = dir.write("literal.yaml", literal_doc.text());
  set_mode(literal, world_readable);
  const cfg::settings exposed = cfg::load_file(literal, fake_env());
  BOOST_TEST_REQUIRE(exposed.warnings.size() == 1u);
  BOOST_TEST(exposed.warnings[0].starts_with(literal + ": "));
  BOOST_TEST(contains(exposed.warnings[0], "holds secrets"));
  BOOST_TEST(contains(exposed.warnings[0], "mode 0644"));
  BOOST_TEST(!contains(exposed.warnings[0], "s3cr3t-app"));

  set_mode(literal, owner_only);
  BOOST_TEST(cfg::load_file(literal, fake_env()).warnings.empty());

  doc from_env;
  from_env.meta =
      "meta:\n  app_secret: ${APP}\n  verify_token: ${VERIFY}\n  access_token: ${ACCESS}\n";
  from_env.robofy = "robofy:\n  api_key: ${API}\n";
  from_env.extra = loopback_admin;
  const std::string expanded = dir.write("expanded.yaml", from_env.text());
  set_mode(expanded, world_readable);
  const auto env = fake_env({{"APP", "a"}, {"VERIFY", "v"}, {"ACCESS", "t"}, {"API", "k"}});
  BOOST_TEST(cfg::load_file(expanded, env).warnings.empty());
}

BOOST_AUTO_TEST_SUITE_END()
