// The admin token check on its own: which Authorization headers open the control paths, and the
// refusals' shape.
#include "bridge/admin_auth.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

namespace http = bridge::webhook::http;
namespace json = boost::json;
using bridge::admin_access;
using bridge::check_admin_token;

namespace {

const std::string token = "s3cret-admin-token";

// A GET of a control path with the given Authorization header (none when nullopt).
http::request request_with(std::optional<std::string> authorization) {
  http::request req{http::verb::get, "/v1/conversations/paused", 11};
  if (authorization) req.set(http::field::authorization, *authorization);
  return req;
}

admin_access access_for(std::optional<std::string> authorization,
                        const std::string& configured = token) {
  return check_admin_token(request_with(std::move(authorization)), configured);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_auth)

BOOST_AUTO_TEST_CASE(without_a_configured_token_every_request_is_refused_as_not_configured) {
  for (const std::optional<std::string>& header :
       {std::optional<std::string>{}, std::optional<std::string>{"Bearer "},
        std::optional<std::string>{"Bearer " + token}, std::optional<std::string>{""}}) {
    BOOST_TEST((access_for(header, "") == admin_access::not_configured), header.value_or("(none)"));
  }
}

BOOST_AUTO_TEST_CASE(the_exact_token_is_allowed_and_the_scheme_is_case_insensitive) {
  BOOST_TEST((access_for("Bearer " + token) == admin_access::allowed));
  BOOST_TEST((access_for("bearer " + token) == admin_access::allowed));
  BOOST_TEST((access_for("BEARER " + token) == admin_access::allowed));
}

BOOST_AUTO_TEST_CASE(a_missing_wrong_short_or_long_token_is_unauthorized) {
  const std::string refused[] = {
      "",
      "Bearer",
      "Bearer ",
      "Bearer " + token.substr(0, token.size() - 1),  // one character short
      "Bearer " + token.substr(1),                    // the first character missing
      "Bearer " + token + "x",                        // one character too many
      "Bearer " + token + token,
      "Bearer S3cret-admin-token",  // tokens are case-sensitive
      "Bearer  " + token,           // two spaces: the token would start with one
      "Basic " + token,
      "Token " + token,
      token,  // no scheme
      "Bearer wrong",
  };
  BOOST_TEST((access_for(std::nullopt) == admin_access::unauthorized));
  for (const std::string& header : refused) {
    BOOST_TEST((access_for(header) == admin_access::unauthorized), "'" << header << "'");
  }
}

BOOST_AUTO_TEST_CASE(a_token_with_unusual_bytes_is_compared_whole) {
  const std::string odd = std::string("a\0b", 3) + "\xC3\xA9";
  BOOST_TEST((access_for("Bearer " + odd, odd) == admin_access::allowed));
  BOOST_TEST((access_for(std::string("Bearer a"), odd) == admin_access::unauthorized));
}

BOOST_AUTO_TEST_CASE(refusals_are_json_403_or_401_with_www_authenticate) {
  const http::response closed = bridge::refusal_for(admin_access::not_configured, true);
  BOOST_TEST(closed.result_int() == 403u);
  BOOST_TEST(closed[http::field::content_type] == "application/json");
  BOOST_TEST(closed[http::field::www_authenticate].empty());
  const json::value closed_body = json::parse(closed.body());
  BOOST_TEST(closed_body.at("error").at("code").as_string() == "admin_token_not_set");
  BOOST_TEST(std::string(closed_body.at("error").at("detail").as_string()).find("admin.token") !=
             std::string::npos);
  BOOST_TEST(closed.keep_alive());

  const http::response denied = bridge::refusal_for(admin_access::unauthorized, false);
  BOOST_TEST(denied.result_int() == 401u);
  BOOST_TEST(std::string(denied[http::field::www_authenticate]).starts_with("Bearer"));
  BOOST_TEST(json::parse(denied.body()).at("error").at("code").as_string() == "unauthorized");
  // The answer never echoes what was sent.
  BOOST_TEST(denied.body().find(token) == std::string::npos);
  BOOST_TEST(!denied.keep_alive());
}

BOOST_AUTO_TEST_SUITE_END()
