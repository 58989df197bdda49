// Finding the primary through Redis Sentinel, against real redis-server and redis-sentinel
// processes (tests/support/redis_sentinel): three sentinels, one of them down, with a password,
// none reachable. Failovers are in tests/failover/ (slow: label failover).
#include <boost/test/unit_test.hpp>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"
#include "tests/queue/redis/through_sentinels.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/self_signed.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::result;
using bridge::test::failover_group;
using bridge::test::failover_group_options;
using clock_type = std::chrono::steady_clock;

BOOST_AUTO_TEST_SUITE(sentinel_discovery_suite, *boost::unit_test::timeout(120))

BOOST_AUTO_TEST_CASE(the_primary_is_found_through_three_sentinels) {
  failover_group group;
  asio::io_context io;
  log_capture log;
  auto redis = make_client(io.get_executor(), through_sentinels(group));
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
  BOOST_TEST(answered(run(io, redis->command("SET", "found", "yes"))) == reply::make_status("OK"));
  // The write went to the primary: its replica has it.
  BOOST_TEST(answered(run(io, redis->command("WAIT", "1", "1000"))) == reply::make_integer(1));
  const auto copy = bridge::test::sync_command(group.server(1).port(), {"GET", "found"});
  BOOST_REQUIRE(copy.has_value());
  BOOST_TEST(copy->text == "yes");

  const client_stats stats = redis->stats();
  BOOST_TEST(stats.primary == address_of(group.server(0)));
  BOOST_TEST(stats.endpoint.find("master mymaster via sentinel 127.0.0.1:") == 0u, stats.endpoint);
  BOOST_TEST(stats.failovers == 0u);
  BOOST_TEST(!stats.without_primary);
  // The +switch-master listener subscribed on a sentinel of its own.
  BOOST_TEST(run_until(
      io,
      [&] {
        return log.text().find("listening for +switch-master of mymaster") != std::string::npos;
      },
      5s));
  BOOST_TEST(log.text().find("the primary of mymaster") != std::string::npos, log.text());
}

BOOST_AUTO_TEST_CASE(one_sentinel_down_before_the_start_is_skipped) {
  failover_group group;
  group.sentinel(0).kill();  // the first one the client asks
  asio::io_context io;
  log_capture log;
  const auto started = clock_type::now();
  auto redis = make_client(io.get_executor(), through_sentinels(group));
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
  // The dead sentinel refused at once: the next one answered on the first attempt.
  BOOST_TEST(millis(clock_type::now() - started) < 1000);
  BOOST_TEST(redis->stats().primary == address_of(group.server(0)));
  BOOST_TEST(redis->stats().connect_failures == 0u);
  BOOST_TEST(answered(run(io, redis->command("INCR", "n"))) == reply::make_integer(1));
  // Its listener moved on to a live sentinel too.
  BOOST_TEST(run_until(
                 io,
                 [&] {
                   return log.text().find("listening for +switch-master of mymaster on sentinel " +
                                          address_of(group.sentinel(1))) != std::string::npos ||
                          log.text().find("listening for +switch-master of mymaster on sentinel " +
                                          address_of(group.sentinel(2))) != std::string::npos;
                 },
                 5s),
             log.text());
}

BOOST_AUTO_TEST_CASE(sentinels_with_a_password_are_asked_with_it) {
  failover_group_options options;
  options.sentinel_password = "sentinel-secret";
  failover_group group(options);
  asio::io_context io;
  {
    log_capture log;
    auto redis = make_client(io.get_executor(), through_sentinels(group, "sentinel-secret"));
    BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
    BOOST_TEST(redis->stats().primary == address_of(group.server(0)));
    BOOST_TEST(log.text().find("sentinel-secret") == std::string::npos);
  }
  // Without it every sentinel refuses: the command fails as a value, within its deadline.
  log_capture log;
  auto refused = make_client(io.get_executor(), through_sentinels(group));
  const auto started = clock_type::now();
  const result<reply> r = run(io, refused->command("PING"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::no_primary), r.error().message());
  BOOST_TEST(millis(clock_type::now() - started) < 1300);
  BOOST_TEST(run_until(
                 io, [&] { return log.text().find("NOAUTH") != std::string::npos; }, 5s),
             log.text());
}

BOOST_AUTO_TEST_CASE(no_sentinel_reachable_fails_fast_as_a_value) {
  std::vector<std::uint16_t> ports;
  {
    // Ports a server had a moment ago: nothing listens there now.
    bridge::test::redis_server a, b;
    ports = {a.port(), b.port()};
  }
  client_options options;
  options.sentinel = sentinel_options{
      "mymaster",
      {server_address{"127.0.0.1", ports[0]}, server_address{"127.0.0.1", ports[1]}},
      ""};
  options.timeout = 500ms;
  asio::io_context io;
  log_capture log;
  auto redis = make_client(io.get_executor(), options);
  for (int i = 0; i < 5; ++i) {
    const auto started = clock_type::now();
    const result<reply> r = run(io, redis->command("PING"));
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error() == errc::no_primary || r.error() == errc::not_connected),
               r.error().message());
    BOOST_TEST(millis(clock_type::now() - started) < 800);
  }
  const client_stats stats = redis->stats();
  BOOST_TEST(stats.without_primary);
  BOOST_TEST(stats.primary.empty());
  BOOST_TEST(stats.connect_failures >= 1u);
  BOOST_TEST(log.text().find("connecting to the sentinels of mymaster failed") != std::string::npos,
             log.text());
}

BOOST_AUTO_TEST_CASE(a_master_name_the_sentinels_do_not_know_is_no_primary) {
  failover_group group;
  client_options options = through_sentinels(group);
  options.sentinel->master_name = "othermaster";
  asio::io_context io;
  log_capture log;
  auto redis = make_client(io.get_executor(), options);
  const result<reply> r = run(io, redis->command("PING"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::no_primary), r.error().message());
  BOOST_TEST(run_until(
                 io,
                 [&] {
                   return log.text().find("it does not know master othermaster") !=
                          std::string::npos;
                 },
                 5s),
             log.text());
}

BOOST_AUTO_TEST_CASE(with_rediss_the_sentinels_are_asked_over_tls_too) {
  bridge::test::temp_dir certs;
  const bridge::test::pem_files pem = bridge::test::write_self_signed(certs.path());
  failover_group_options tls;
  tls.tls = pem;
  failover_group group(tls);
  client_options options = through_sentinels(group);
  options.server = parse_url("rediss://ignored:1/0").value();
  options.tls_ca_file = pem.cert_file;
  asio::io_context io;
  log_capture log;
  auto redis = make_client(io.get_executor(), options);
  BOOST_REQUIRE_MESSAGE(run(io, wait_until_answers(*redis, 10s)), log.text());
  BOOST_TEST(redis->stats().primary == address_of(group.server(0)));  // its TLS port
  BOOST_TEST(answered(run(io, redis->command("SET", "over", "tls"))) == reply::make_status("OK"));
  BOOST_TEST(run_until(
      io,
      [&] {
        return log.text().find("listening for +switch-master of mymaster") != std::string::npos;
      },
      5s));

  // The same sentinel ports in plain TCP (redis://) get no answer they can read: no primary.
  client_options plain = through_sentinels(group);
  plain.timeout = 300ms;
  auto refused = make_client(io.get_executor(), plain);
  const result<reply> r = run(io, refused->command("PING"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == make_error_code(errc::no_primary), r.error().message());
}

BOOST_AUTO_TEST_SUITE_END()
