// What sentinels and primaries answer, read without I/O (queue/redis/sentinel).
#include "queue/redis/sentinel.hpp"

#include <boost/test/unit_test.hpp>

using namespace bridge::queue::redis;

namespace {

reply strings(std::initializer_list<std::string> items) {
  std::vector<reply> elements;
  for (const auto& s : items)
    elements.push_back(reply::make_string(s));
  return reply::make_array(std::move(elements));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sentinel_suite)

BOOST_AUTO_TEST_CASE(a_master_address_is_host_and_port) {
  const auto named = parse_master_address(strings({"10.0.0.7", "6380"}));
  BOOST_REQUIRE(named.has_value());
  BOOST_TEST(named->host == "10.0.0.7");
  BOOST_TEST(named->port == 6380);
  BOOST_TEST(named->to_string() == "10.0.0.7:6380");
  BOOST_TEST((server_address{"::1", 26379}.to_string() == "[::1]:26379"));
}

BOOST_AUTO_TEST_CASE(anything_else_names_no_master) {
  BOOST_TEST(!parse_master_address(reply{}).has_value());  // nil: unknown master name
  BOOST_TEST(!parse_master_address(reply::make_error("ERR No such master")).has_value());
  BOOST_TEST(!parse_master_address(strings({"10.0.0.7"})).has_value());
  BOOST_TEST(!parse_master_address(strings({"10.0.0.7", "0"})).has_value());
  BOOST_TEST(!parse_master_address(strings({"10.0.0.7", "65536"})).has_value());
  BOOST_TEST(!parse_master_address(strings({"10.0.0.7", "63x"})).has_value());
  BOOST_TEST(!parse_master_address(strings({"", "6379"})).has_value());
  BOOST_TEST(
      !parse_master_address(reply::make_array({reply::make_string("h"), reply::make_integer(6379)}))
           .has_value());
}

BOOST_AUTO_TEST_CASE(role_is_the_first_element) {
  BOOST_TEST(role_of(reply::make_array({reply::make_string("master"), reply::make_integer(0),
                                        reply::make_array({})})) == "master");
  BOOST_TEST(role_of(strings({"slave", "127.0.0.1", "6379", "connected"})) == "slave");
  BOOST_TEST(role_of(reply::make_error("NOPERM")).empty());
  BOOST_TEST(role_of(reply::make_array({})).empty());
}

BOOST_AUTO_TEST_CASE(a_switch_master_message_names_both_addresses) {
  const auto notice = parse_switch_notice(
      strings({"message", "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380"}));
  BOOST_REQUIRE(notice.has_value());
  BOOST_TEST(notice->master_name == "mymaster");
  BOOST_TEST((notice->from == server_address{"127.0.0.1", 6379}));
  BOOST_TEST((notice->to == server_address{"127.0.0.1", 6380}));
}

BOOST_AUTO_TEST_CASE(other_pushes_are_no_switch) {
  BOOST_TEST(!parse_switch_notice(
                  reply::make_array({reply::make_string("subscribe"),
                                     reply::make_string("+switch-master"), reply::make_integer(1)}))
                  .has_value());
  BOOST_TEST(!parse_switch_notice(strings({"pong", ""})).has_value());
  BOOST_TEST(
      !parse_switch_notice(strings({"message", "+sdown", "master mymaster 1 2"})).has_value());
  BOOST_TEST(
      !parse_switch_notice(strings({"message", "+switch-master", "mymaster 1 2 3"})).has_value());
  BOOST_TEST(!parse_switch_notice(
                  strings({"message", "+switch-master", "m 127.0.0.1 6379 127.0.0.1 6380 x"}))
                  .has_value());
  BOOST_TEST(!parse_switch_notice(
                  strings({"message", "+switch-master", "m 127.0.0.1 6379 127.0.0.1 port"}))
                  .has_value());
}

BOOST_AUTO_TEST_CASE(pongs_in_both_forms) {
  BOOST_TEST(is_pong(strings({"pong", ""})));
  BOOST_TEST(is_pong(reply::make_status("PONG")));
  BOOST_TEST(!is_pong(reply::make_string("PONG")));
  BOOST_TEST(!is_pong(strings({"message", "+switch-master", "x"})));
}

BOOST_AUTO_TEST_SUITE_END()
