#include "bridge/cli.hpp"

#include <boost/test/unit_test.hpp>

using bridge::command_line;
using bridge::parse_command_line;
using bridge::usage_error;

namespace {
std::variant<command_line, usage_error> parse(std::vector<std::string_view> args) {
  return parse_command_line(args);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(config_path_in_both_spellings) {
  auto a = std::get<command_line>(parse({"--config", "/tmp/a.yaml"}));
  BOOST_TEST(a.config_path == "/tmp/a.yaml");
  BOOST_TEST((a.what == command_line::action::run));
  auto b = std::get<command_line>(parse({"--config=/tmp/b.yaml", "--check-config"}));
  BOOST_TEST(b.config_path == "/tmp/b.yaml");
  BOOST_TEST((b.what == command_line::action::check_config));
}

BOOST_AUTO_TEST_CASE(default_config_path) {
  auto a = std::get<command_line>(parse({}));
  BOOST_TEST(a.config_path == "/etc/robofy-wa-bridge/config.yaml");
}

BOOST_AUTO_TEST_CASE(help_and_version) {
  BOOST_TEST((std::get<command_line>(parse({"--help"})).what == command_line::action::help));
  BOOST_TEST((std::get<command_line>(parse({"--version"})).what == command_line::action::version));
  BOOST_TEST(bridge::usage_text().find("--check-config") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_usage_says_what_is_wrong) {
  BOOST_TEST(std::get<usage_error>(parse({"--config"})).message == "--config needs a path");
  BOOST_TEST(std::get<usage_error>(parse({"--config="})).message == "--config needs a path");
  BOOST_TEST(std::get<usage_error>(parse({"--frobnicate"})).message ==
             "unknown argument '--frobnicate'");
}

BOOST_AUTO_TEST_SUITE_END()
