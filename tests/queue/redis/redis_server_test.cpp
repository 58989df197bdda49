// The redis-server fixture itself (tests/support/redis_server): many tests lean on it.
#include "tests/support/redis_server.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

using bridge::test::redis_server;
using bridge::test::redis_server_options;

BOOST_AUTO_TEST_SUITE(redis_server_suite)

BOOST_AUTO_TEST_CASE(servers_get_their_own_ports_and_dirs) {
  redis_server a, b;
  BOOST_TEST(a.port() != b.port());
  BOOST_TEST(a.dir() != b.dir());
  BOOST_TEST(a.url(2) == "redis://127.0.0.1:" + std::to_string(a.port()) + "/2");
  BOOST_TEST(a.running());
  std::string dir = a.dir();
  BOOST_TEST(std::filesystem::exists(dir + "/redis.conf"));
}

BOOST_AUTO_TEST_CASE(kill_and_restart_keep_port_and_log) {
  redis_server server;
  const auto port = server.port();
  server.kill();
  BOOST_TEST(!server.running());
  server.restart();
  BOOST_TEST(server.running());
  BOOST_TEST(server.port() == port);
  const std::string log = server.log();
  // Two starts, both in the log.
  const auto first = log.find("Ready to accept connections");
  BOOST_TEST((first != std::string::npos &&
              log.find("Ready to accept connections", first + 1) != std::string::npos),
             log);
}

BOOST_AUTO_TEST_CASE(a_server_that_cannot_start_says_why) {
  redis_server_options broken;
  broken.config = {"no-such-directive yes"};
  try {
    redis_server server(broken);
    BOOST_FAIL("a bad configuration started");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("no-such-directive") != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
