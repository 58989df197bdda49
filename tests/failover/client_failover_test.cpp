// The Redis client across failovers, against real redis-server and redis-sentinel processes: it
// follows a new primary after kill -9 of the old one (hearing +switch-master even when the
// sentinel it listened on died first), and a READONLY answer sends it back to the sentinels, whose
// answer it checks with ROLE. Commands during the switch fail as values within their deadline.
#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>
#include <map>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"
#include "tests/queue/redis/through_sentinels.hpp"
#include "tests/support/redis_sentinel.hpp"
#include "tests/support/round_robin_proxy.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::error_code;
using boost::system::result;
using bridge::test::failover_group;
using bridge::test::sync_command;
using clock_type = std::chrono::steady_clock;

namespace {

// How much later than its deadline a caller may hear back: scheduling, not waiting.
constexpr auto slack = 300ms;

// What a stream of writes saw while the primary changed.
struct write_log {
  int ok = 0;
  std::map<std::string, int> failures;  // error message (or error reply) -> count
  long long longest_ms = 0;             // the slowest answer, failures included
  bool all_errc = true;                 // every failure was a redis errc value
};

// INCRs `counter` every 50 ms until `done()` holds after a success, or `limit` passes; records
// every outcome and how long each took.
asio::awaitable<write_log> write_until(client& redis, std::function<bool()> done,
                                       std::chrono::milliseconds limit) {
  write_log out;
  const auto deadline = clock_type::now() + limit;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (clock_type::now() < deadline) {
    const auto started = clock_type::now();
    const result<reply> r = co_await redis.command("INCR", "counter");
    out.longest_ms = std::max(out.longest_ms, millis(clock_type::now() - started));
    if (r && !r->is_error()) {
      ++out.ok;
      if (done()) co_return out;
    } else if (r) {
      ++out.failures[std::string(r->error_message().substr(0, r->error_message().find(' ')))];
    } else {
      ++out.failures[r.error().message()];
      out.all_errc = out.all_errc && r.error().category() == redis_category();
    }
    pause.expires_after(50ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return out;
}

std::string describe(const write_log& w) {
  std::string out = std::to_string(w.ok) + " ok";
  for (const auto& [what, n] : w.failures)
    out += ", " + std::to_string(n) + " × " + what;
  return out + ", slowest " + std::to_string(w.longest_ms) + " ms";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_failover_suite, *boost::unit_test::timeout(180))

BOOST_AUTO_TEST_CASE(after_kill_9_of_the_primary_the_client_follows_the_promoted_replica) {
  failover_group group;
  asio::io_context io;
  log_capture log;
  const client_options options = through_sentinels(group, {}, 500ms);
  auto redis = make_client(io.get_executor(), options);
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
  BOOST_REQUIRE(answered(run(io, redis->command("SET", "before", "kept"))).is_error() == false);
  BOOST_REQUIRE(answered(run(io, redis->command("WAIT", "1", "1000"))) == reply::make_integer(1));
  BOOST_REQUIRE(redis->stats().primary == address_of(group.server(0)));

  // First the sentinel the +switch-master listener is on (it starts with the first): it has to
  // subscribe on another one to hear the switch.
  BOOST_REQUIRE(run_until(
      io, [&] { return log.text().find("listening for +switch-master") != std::string::npos; },
      5s));
  group.sentinel(0).kill();
  BOOST_REQUIRE_MESSAGE(
      run_until(
          io,
          [&] {
            const std::string t = log.text();
            return t.find("on sentinel " + address_of(group.sentinel(1))) != std::string::npos ||
                   t.find("on sentinel " + address_of(group.sentinel(2))) != std::string::npos;
          },
          10s),
      log.text());

  const std::uint16_t old_port = group.server(0).port();
  const auto killed = clock_type::now();
  group.server(0).kill();  // SIGKILL

  const std::string promoted = address_of(group.server(1));
  const write_log writes = run(io,
                               write_until(
                                   *redis, [&] { return redis->stats().primary == promoted; }, 30s),
                               40s);
  const auto followed_after = clock_type::now() - killed;
  BOOST_TEST_MESSAGE("kill -9 of the primary: the client wrote to the promoted replica "
                     << millis(followed_after)
                     << " ms later; writes meanwhile: " << describe(writes));
  const client_stats stats = redis->stats();
  BOOST_TEST(stats.primary == promoted, describe(writes) << "\n" << log.text());
  // down-after-milliseconds (1 s) + election and promotion (about 1-2 s) + a few seconds.
  BOOST_TEST(millis(followed_after) < 1000 + 3000 + 4000);
  // Commands during the switch failed as values, none waited past its deadline.
  BOOST_TEST(writes.all_errc, describe(writes));
  BOOST_TEST(writes.longest_ms < millis(options.timeout + slack), describe(writes));
  BOOST_TEST(!writes.failures.empty());
  // The switch was heard, and counted once.
  BOOST_TEST(stats.switch_notices >= 1u, log.text());
  BOOST_TEST(stats.failovers == 1u);
  BOOST_TEST(log.text().find("+switch-master: the primary of mymaster moved from 127.0.0.1:" +
                             std::to_string(old_port)) != std::string::npos,
             log.text());
  BOOST_TEST(stats.without_primary_total.count() > 0);
  BOOST_TEST(!stats.without_primary);
  // What was replicated before the kill is on the new primary.
  BOOST_TEST(answered(run(io, redis->command("GET", "before"))) == reply::make_string("kept"));
  const auto sentinels_say = group.named_primary();
  BOOST_TEST((sentinels_say && *sentinels_say == group.server(1).port()));
}

BOOST_AUTO_TEST_CASE(readonly_sends_the_client_back_to_the_sentinels_which_it_checks_with_role) {
  failover_group group;
  asio::io_context io;
  log_capture log;
  auto redis = make_client(io.get_executor(), through_sentinels(group, {}, 500ms));
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
  BOOST_REQUIRE(redis->stats().primary == address_of(group.server(0)));

  // An operator swaps the roles behind the sentinels' back: the old primary keeps its clients
  // (REPLICAOF drops only blocked ones) and answers writes with READONLY.
  const std::string new_port = std::to_string(group.server(1).port());
  BOOST_REQUIRE(sync_command(group.server(1).port(), {"REPLICAOF", "NO", "ONE"}).has_value());
  BOOST_REQUIRE(
      sync_command(group.server(0).port(), {"REPLICAOF", "127.0.0.1", new_port}).has_value());
  group.wait_for_replica(0, 10s);

  const result<reply> refused = run(io, redis->command("SET", "k", "v"));
  BOOST_REQUIRE(refused.has_value());  // an error reply is a value for its caller
  BOOST_TEST(refused->error_kind() == server_error::readonly, refused->describe());
  // ... and sends the client back to the sentinels, which still name the old primary: ROLE says
  // it is a replica, so the client does not settle there.
  BOOST_REQUIRE_MESSAGE(run_until(
                            io,
                            [&] {
                              return log.text().find("it is not the primary: ROLE says slave") !=
                                     std::string::npos;
                            },
                            10s),
                        log.text());
  BOOST_TEST(log.text().find("it answered READONLY") != std::string::npos, log.text());
  BOOST_TEST(!redis->connected());
  const result<reply> meanwhile = run(io, redis->command("PING"));
  BOOST_REQUIRE(!meanwhile.has_value());
  BOOST_TEST((meanwhile.error().category() == redis_category()), meanwhile.error().message());

  // The sentinels learn the new primary (as after an operator's reconfiguration): the client
  // finds it.
  for (std::size_t i = 0; i < group.sentinels(); ++i) {
    const auto port = group.sentinel(i).port();
    BOOST_REQUIRE(sync_command(port, {"SENTINEL", "REMOVE", "mymaster"}).has_value());
    const auto monitored =
        sync_command(port, {"SENTINEL", "MONITOR", "mymaster", "127.0.0.1", new_port, "2"});
    BOOST_REQUIRE(monitored.has_value());
    BOOST_REQUIRE(monitored->text == "OK");
  }
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 15s)));
  BOOST_TEST(answered(run(io, redis->command("SET", "k", "v"))) == reply::make_status("OK"));
  const client_stats stats = redis->stats();
  BOOST_TEST(stats.primary == address_of(group.server(1)));
  BOOST_TEST(stats.failovers == 1u);
  BOOST_TEST(stats.switch_notices == 0u);  // no failover by the sentinels: no +switch-master
  BOOST_TEST(stats.connect_failures >= 1u);
}

// A managed service's endpoint (one address the provider moves to the new primary), played by a
// TCP proxy: after the old primary is demoted, its READONLY answer makes the client connect
// again, and through the moved endpoint it reaches the new primary. Without sentinels.
BOOST_AUTO_TEST_CASE(behind_a_managed_endpoint_readonly_makes_the_client_connect_again) {
  bridge::test::redis_server old_primary;
  bridge::test::redis_server new_primary;
  const auto at = [](const bridge::test::redis_server& server) {
    return asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  };
  bridge::test::round_robin_proxy endpoint({at(old_primary)});
  asio::io_context io;
  log_capture log;
  client_options options =
      options_for("redis://127.0.0.1:" + std::to_string(endpoint.endpoint().port()));
  options.timeout = 500ms;
  auto redis = make_client(io.get_executor(), options);
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 10s)));
  BOOST_REQUIRE(answered(run(io, redis->command("SET", "k", "old"))) == reply::make_status("OK"));

  // The provider fails over: the endpoint moves, the old primary becomes a replica and keeps
  // the client's connection open.
  endpoint.set_backends({at(new_primary)});
  BOOST_REQUIRE(sync_command(old_primary.port(),
                             {"REPLICAOF", "127.0.0.1", std::to_string(new_primary.port())})
                    .has_value());
  const result<reply> refused = run(io, redis->command("SET", "k", "refused"));
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->error_kind() == server_error::readonly, refused->describe());

  const auto deadline = clock_type::now() + 10s;
  bool written = false;
  while (!written && clock_type::now() < deadline) {
    const result<reply> r = run(io, redis->command("SET", "k", "new"));
    written = r && r->text() == std::optional<std::string_view>("OK");
    if (!written)
      run_until(
          io, [] { return false; }, 50ms);
  }
  BOOST_TEST(written, log.text());
  BOOST_TEST(log.text().find("it answered READONLY") != std::string::npos, log.text());
  BOOST_TEST(redis->stats().reconnects >= 1u);
  const auto stored = sync_command(new_primary.port(), {"GET", "k"});
  BOOST_REQUIRE(stored.has_value());
  BOOST_TEST(stored->text == "new");
}

BOOST_AUTO_TEST_SUITE_END()
