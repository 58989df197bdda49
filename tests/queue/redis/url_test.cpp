// redis:// and rediss:// URLs (§8): what is accepted, and a refusal that names the problem.
#include "queue/redis/url.hpp"

#include <boost/test/unit_test.hpp>

using namespace bridge::queue::redis;

namespace {

url parsed(std::string_view text) {
  auto r = parse_url(text);
  BOOST_REQUIRE_MESSAGE(r.has_value(), text << " refused: " << r.error().message);
  return *r;
}

std::string refusal(std::string_view text) {
  auto r = parse_url(text);
  BOOST_REQUIRE_MESSAGE(!r.has_value(), text << " was accepted");
  return r.error().message;
}

bool mentions(const std::string& message, const std::string& word) {
  return message.find(word) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(url_suite)

BOOST_AUTO_TEST_CASE(host_port_and_database) {
  const url u = parsed("redis://127.0.0.1:6380/2");
  BOOST_TEST(!u.tls);
  BOOST_TEST(u.user.empty());
  BOOST_TEST(u.host == "127.0.0.1");
  BOOST_TEST(u.port == 6380);
  BOOST_TEST(u.db == 2);
  BOOST_TEST(u.to_string() == "redis://127.0.0.1:6380/2");
}

BOOST_AUTO_TEST_CASE(defaults_are_port_6379_and_database_0) {
  for (std::string_view text : {"redis://cache", "redis://cache/", "redis://cache:6379/0"}) {
    const url u = parsed(text);
    BOOST_TEST(u.host == "cache");
    BOOST_TEST(u.port == 6379);
    BOOST_TEST(u.db == 0);
  }
}

BOOST_AUTO_TEST_CASE(rediss_means_tls) {
  const url u = parsed("rediss://redis.example.com:6390/1");
  BOOST_TEST(u.tls);
  BOOST_TEST(u.host == "redis.example.com");
  BOOST_TEST(u.to_string() == "rediss://redis.example.com:6390/1");
}

BOOST_AUTO_TEST_CASE(acl_user_without_password) {
  const url u = parsed("redis://bridge@10.0.0.5:6379/3");
  BOOST_TEST(u.user == "bridge");
  BOOST_TEST(u.host == "10.0.0.5");
  BOOST_TEST(u.db == 3);
  BOOST_TEST(u.to_string() == "redis://bridge@10.0.0.5:6379/3");
}

BOOST_AUTO_TEST_CASE(ipv6_in_brackets) {
  url u = parsed("redis://[::1]:6379/0");
  BOOST_TEST(u.host == "::1");
  BOOST_TEST(u.port == 6379);
  BOOST_TEST(u.to_string() == "redis://[::1]:6379/0");
  u = parsed("rediss://user@[fd00::1:2]");
  BOOST_TEST(u.host == "fd00::1:2");
  BOOST_TEST(u.user == "user");
  BOOST_TEST(u.port == 6379);
}

BOOST_AUTO_TEST_CASE(a_password_in_the_url_is_refused) {
  BOOST_TEST(mentions(refusal("redis://user:secret@host:6379"), "password"));
  BOOST_TEST(mentions(refusal("redis://:secret@host"), "password"));
  // The refusal names the problem, never the password itself.
  BOOST_TEST(!mentions(refusal("redis://user:secret@host:6379"), "secret"));
}

BOOST_AUTO_TEST_CASE(other_schemes_are_refused) {
  BOOST_TEST(mentions(refusal("http://host:6379"), "redis://"));
  BOOST_TEST(mentions(refusal("host:6379"), "redis://"));
  BOOST_TEST(mentions(refusal("REDIS://host"), "redis://"));
  BOOST_TEST(mentions(refusal(""), "redis://"));
}

BOOST_AUTO_TEST_CASE(bad_ports_are_refused) {
  for (std::string_view text : {"redis://host:0", "redis://host:65536", "redis://host:port",
                                "redis://host:", "redis://[::1]:", "redis://host:-1"}) {
    BOOST_TEST(mentions(refusal(text), "port"), text);
  }
}

BOOST_AUTO_TEST_CASE(bad_databases_are_refused) {
  for (std::string_view text :
       {"redis://host/x", "redis://host/-1", "redis://host/1/2", "redis://host/99999999999"}) {
    BOOST_TEST(mentions(refusal(text), "database"), text);
  }
}

BOOST_AUTO_TEST_CASE(malformed_hosts_are_refused) {
  BOOST_TEST(mentions(refusal("redis://"), "host"));
  BOOST_TEST(mentions(refusal("redis://:6379"), "host"));
  BOOST_TEST(mentions(refusal("redis://::1:6379"), "brackets"));
  BOOST_TEST(mentions(refusal("redis://[::1"), "IPv6"));
  BOOST_TEST(mentions(refusal("redis://[::1]6379"), "port"));
  BOOST_TEST(mentions(refusal("redis://[host]:1"), "IPv6"));
  BOOST_TEST(mentions(refusal("redis://ho st:1"), "host"));
  BOOST_TEST(mentions(refusal("redis://@host"), "user"));
}

BOOST_AUTO_TEST_CASE(query_strings_and_fragments_are_refused) {
  BOOST_TEST(mentions(refusal("redis://host/0?timeout=1"), "query"));
  BOOST_TEST(mentions(refusal("redis://host#x"), "fragment"));
}

BOOST_AUTO_TEST_CASE(value_throws_the_message) {
  BOOST_CHECK_THROW(parse_url("redis://u:p@h").value(), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
