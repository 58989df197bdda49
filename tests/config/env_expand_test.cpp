#include "config/env_expand.hpp"

#include <boost/test/unit_test.hpp>
#include <map>

using bridge::config::environment;
using bridge::config::expand_env;

namespace {

environment fake_env(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const environment env =
    fake_env({{"HOST", "example.com"}, {"PORT", "8443"}, {"EMPTY", ""}, {"RAW", "${HOST}"}});

}  // namespace

BOOST_AUTO_TEST_SUITE(env_expand)

BOOST_AUTO_TEST_CASE(plain_text_is_unchanged) {
  const auto e = expand_env("no variables here", env);
  BOOST_TEST(e.ok());
  BOOST_TEST(e.value == "no variables here");
  BOOST_TEST(expand_env("", env).value == "");
}

BOOST_AUTO_TEST_CASE(expands_every_reference) {
  const auto e = expand_env("https://${HOST}:${PORT}/${HOST}", env);
  BOOST_TEST(e.ok());
  BOOST_TEST(e.value == "https://example.com:8443/example.com");
}

BOOST_AUTO_TEST_CASE(set_variable_wins_over_default) {
  BOOST_TEST(expand_env("${PORT:-80}", env).value == "8443");
}

BOOST_AUTO_TEST_CASE(default_used_when_unset_or_empty) {
  BOOST_TEST(expand_env("${MISSING:-*}", env).value == "*");
  BOOST_TEST(expand_env("${EMPTY:-fallback}", env).value == "fallback");
  BOOST_TEST(expand_env("x${MISSING:-}y", env).value == "xy");
  // The default is literal text, including a ":-" of its own.
  BOOST_TEST(expand_env("${MISSING:-a:-b}", env).value == "a:-b");
}

BOOST_AUTO_TEST_CASE(empty_variable_without_default_is_empty) {
  const auto e = expand_env("[${EMPTY}]", env);
  BOOST_TEST(e.ok());
  BOOST_TEST(e.value == "[]");
}

BOOST_AUTO_TEST_CASE(dollar_escapes) {
  BOOST_TEST(expand_env("$$", env).value == "$");
  BOOST_TEST(expand_env("$${HOST}", env).value == "${HOST}");
  BOOST_TEST(expand_env("pa$s$", env).value == "pa$s$");  // a lone "$" is literal
  BOOST_TEST(expand_env("$$$${PORT}", env).value == "$${PORT}");
}

BOOST_AUTO_TEST_CASE(values_are_not_expanded_again) {
  BOOST_TEST(expand_env("${RAW}", env).value == "${HOST}");
}

BOOST_AUTO_TEST_CASE(unset_variable_is_an_error) {
  const auto e = expand_env("token-${NOPE}", env);
  BOOST_TEST(!e.ok());
  BOOST_TEST(e.value.empty());
  BOOST_TEST_REQUIRE(e.errors.size() == 1u);
  BOOST_TEST(e.errors[0] == "environment variable NOPE is not set");
}

BOOST_AUTO_TEST_CASE(every_error_is_reported) {
  const auto e = expand_env("${A}-${HOST}-${B}-${1BAD}", env);
  BOOST_TEST_REQUIRE(e.errors.size() == 3u);
  BOOST_TEST(e.errors[0] == "environment variable A is not set");
  BOOST_TEST(e.errors[1] == "environment variable B is not set");
  BOOST_TEST(e.errors[2].find("invalid variable reference") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_references_are_errors) {
  for (const char* text :
       {"${", "abc${HOST", "${}", "${1X}", "${A B}", "${A-b}", "${:-x}", "${A.B}", "${${HOST}}"}) {
    BOOST_TEST_INFO("text: '" << text << "'");
    const auto e = expand_env(text, env);
    BOOST_TEST(!e.ok());
    BOOST_TEST(e.value.empty());
  }
  BOOST_TEST(expand_env("abc${HOST", env).errors.at(0).find("unterminated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_do_not_repeat_the_text) {
  // The scalar may be an inline secret: messages hold positions, not text.
  const auto e = expand_env("Sup3rS3cret${oops", env);
  BOOST_TEST_REQUIRE(e.errors.size() == 1u);
  BOOST_TEST(e.errors[0].find("Sup3rS3cret") == std::string::npos);
  BOOST_TEST(e.errors[0].find("oops") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(process_environment_reads_getenv) {
  const environment process = bridge::config::process_environment();
  BOOST_TEST(process("PATH").has_value());
  BOOST_TEST(!process("BRIDGE_CONFIG_TEST_SURELY_UNSET_VARIABLE").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
