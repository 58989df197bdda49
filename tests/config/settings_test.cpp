#include "config/settings.hpp"

#include <boost/test/unit_test.hpp>

namespace cfg = bridge::config;

BOOST_AUTO_TEST_SUITE(settings)

BOOST_AUTO_TEST_CASE(exact_match_beats_wildcard) {
  cfg::settings s;
  s.routes = {cfg::route{"*", "p-any", "c-any", {}, 80},
              cfg::route{"111", "p-111", "c-111", {}, 80},
              cfg::route{"222", "p-222", "c-222", std::string("t"), 80}};
  BOOST_TEST_REQUIRE(cfg::find_route(s, "111") != nullptr);
  BOOST_TEST(cfg::find_route(s, "111")->pid == "p-111");
  BOOST_TEST(cfg::find_route(s, "222")->pid == "p-222");
  BOOST_TEST(cfg::find_route(s, "333")->pid == "p-any");
  BOOST_TEST(cfg::find_route(s, "")->pid == "p-any");
}

BOOST_AUTO_TEST_CASE(no_route_without_wildcard) {
  cfg::settings s;
  BOOST_TEST(cfg::find_route(s, "111") == nullptr);
  s.routes = {cfg::route{"111", "p-111", "c-111", {}, 80}};
  BOOST_TEST(cfg::find_route(s, "112") == nullptr);
  BOOST_TEST(cfg::find_route(s, "*") == nullptr);
  BOOST_TEST(cfg::find_route(s, "111") == &s.routes[0]);
}

BOOST_AUTO_TEST_SUITE_END()
