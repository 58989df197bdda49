// A server that stops answering, dies, or is not there: every caller hears back within the
// timeout, new commands fail fast while the client backs off, and it reconnects by itself.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::error_code;
using boost::system::result;
using bridge::test::redis_server;
using clock_type = std::chrono::steady_clock;

namespace {

// How much later than its deadline a caller may hear back: scheduling, not waiting.
constexpr auto slack = 300ms;

struct timed_outcome {
  result<reply> outcome = make_error_code(errc::closed);
  clock_type::duration took{};
};

// Runs one command and times it.
asio::awaitable<timed_outcome> timed(client& redis, std::string command) {
  const auto started = clock_type::now();
  timed_outcome out;
  out.outcome = co_await redis.command(command);
  out.took = clock_type::now() - started;
  co_return out;
}

// PINGs, each failing within `bound`, until a connection attempt has failed; false if none did
// within 50 PINGs.
asio::awaitable<bool> ping_until_an_attempt_fails(client& redis, clock_type::duration bound) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (int i = 0; i < 50; ++i) {
    if (redis.stats().connect_failures > 0) co_return true;
    const timed_outcome t = co_await timed(redis, "PING");
    BOOST_TEST(!t.outcome.has_value());
    BOOST_TEST(millis(t.took) < millis(bound));
    pause.expires_after(20ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_failure_suite, *boost::unit_test::timeout(120))

BOOST_AUTO_TEST_CASE(a_stopped_server_times_out_every_caller_then_recovers) {
  redis_server server;
  asio::io_context io;
  log_capture log;
  client_options options = options_for(server.url());
  options.timeout = 500ms;
  auto redis = make_client(io.get_executor(), options);
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 5s)));

  server.pause();
  constexpr int callers = 20;
  std::vector<std::optional<timed_outcome>> got(callers);
  int finished = 0;
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(io, timed(*redis, "PING"), [&, i](std::exception_ptr e, timed_outcome o) {
      BOOST_REQUIRE(!e);
      got[i] = std::move(o);
      ++finished;
    });
  }
  BOOST_REQUIRE(run_until(
      io, [&] { return finished == callers; }, 5s));
  int timeouts = 0;
  for (const auto& o : got) {
    BOOST_REQUIRE(!o->outcome.has_value());
    const error_code ec = o->outcome.error();
    BOOST_TEST((ec == errc::timeout || ec == errc::connection_lost), ec.message());
    timeouts += ec == errc::timeout;
    BOOST_TEST(millis(o->took) < millis(options.timeout + slack));
  }
  BOOST_TEST(timeouts >= 1);
  BOOST_TEST(!redis->connected());  // dropped as unhealthy

  // While it stays stopped, no caller waits past its own deadline either: not while the client
  // backs off (at once: not_connected), nor while it tries again (TCP connects to the stopped
  // server's backlog, set-up gets no answer and times out).
  BOOST_TEST(run(io, ping_until_an_attempt_fails(*redis, options.timeout + slack), 20s));

  server.resume();
  BOOST_TEST(run(io, wait_until_answers(*redis, 15s)));
  const client_stats stats = redis->stats();
  BOOST_TEST(stats.connected);
  BOOST_TEST(stats.disconnects >= 1u);
  BOOST_TEST(stats.reconnects >= 1u);
  BOOST_TEST(stats.round_trips_timeout >= 1u);
  BOOST_TEST(log.text().find("dropping the connection") != std::string::npos, log.text());
  BOOST_TEST(log.text().find("reconnecting in") != std::string::npos, log.text());
}

BOOST_AUTO_TEST_CASE(a_killed_server_restarted_on_its_port_is_reconnected_with_its_data) {
  redis_server server;
  asio::io_context io;
  auto redis = make_client(io.get_executor(), options_for(server.url()));
  BOOST_TEST(answered(run(io, redis->command({"SET", "durable", "yes"}))) ==
             reply::make_status("OK"));

  server.kill();
  // The loss is noticed (EOF) and reported, not waited out.
  const timed_outcome lost = run(io, timed(*redis, "PING"));
  BOOST_REQUIRE(!lost.outcome.has_value());
  BOOST_TEST(millis(lost.took) < millis(2s + slack));
  // While it is down, commands fail fast: not connected (backing off) or refused (an attempt).
  for (int i = 0; i < 5; ++i) {
    const timed_outcome down = run(io, timed(*redis, "PING"));
    BOOST_REQUIRE(!down.outcome.has_value());
    const error_code ec = down.outcome.error();
    BOOST_TEST((ec == errc::not_connected || ec == errc::connection_refused), ec.message());
    BOOST_TEST(millis(down.took) < 200);
  }
  BOOST_TEST(!redis->connected());

  server.restart();
  BOOST_TEST(run(io, wait_until_answers(*redis, 15s)));
  // appendfsync always: what was acknowledged survived kill -9.
  BOOST_TEST(answered(run(io, redis->command({"GET", "durable"}))) == reply::make_string("yes"));
  BOOST_TEST(redis->stats().reconnects >= 1u);
}

BOOST_AUTO_TEST_CASE(commands_in_flight_when_the_server_dies_fail_with_connection_lost) {
  redis_server server;
  asio::io_context io;
  auto redis = make_client(io.get_executor(), options_for(server.url()));
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 5s)));
  std::optional<result<reply>> blocked;
  asio::co_spawn(io, redis->command({"BLPOP", "never", "0"}),
                 [&](std::exception_ptr, result<reply> r) { blocked = std::move(r); });
  const auto written = redis->stats().commands_written + 1;
  BOOST_REQUIRE(run_until(
      io, [&] { return redis->stats().commands_written == written; }, 5s));
  server.kill();
  BOOST_REQUIRE(run_until(
      io, [&] { return blocked.has_value(); }, 3s));
  BOOST_REQUIRE(!blocked->has_value());
  BOOST_TEST(blocked->error() == make_error_code(errc::connection_lost));
}

BOOST_AUTO_TEST_CASE(nothing_listening_is_connection_refused) {
  redis_server server;
  const std::string url = server.url();
  server.kill();
  asio::io_context io;
  auto redis = make_client(io.get_executor(), options_for(url));
  const timed_outcome first = run(io, timed(*redis, "PING"));
  BOOST_REQUIRE(!first.outcome.has_value());
  BOOST_TEST(first.outcome.error() == make_error_code(errc::connection_refused));
  BOOST_TEST(millis(first.took) < 1000);
  BOOST_TEST(redis->stats().connect_failures >= 1u);
  BOOST_TEST(redis->stats().round_trips_connection_error >= 1u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_caller_does_not_disturb_the_others) {
  redis_server server;
  asio::io_context io;
  auto redis = make_client(io.get_executor(), options_for(server.url()));
  BOOST_REQUIRE(run(io, wait_until_answers(*redis, 5s)));
  // A caller that gives up on its own (its coroutine is cancelled) leaves its reply to be read and
  // dropped; the next caller still gets its own reply.
  asio::cancellation_signal cancel;
  std::optional<result<reply>> gave_up;
  asio::co_spawn(
      io, redis->command({"BLPOP", "list", "5"}),
      asio::bind_cancellation_slot(
          cancel.slot(), [&](std::exception_ptr, result<reply> r) { gave_up = std::move(r); }));
  const auto written = redis->stats().commands_written + 1;
  BOOST_REQUIRE(run_until(
      io, [&] { return redis->stats().commands_written == written; }, 5s));
  cancel.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until(
      io, [&] { return gave_up.has_value(); }, 1s));
  BOOST_TEST(gave_up->error() == asio::error::operation_aborted);
  // Another connection feeds the list: the BLPOP's reply arrives and must be dropped unread.
  auto feeder = make_client(io.get_executor(), options_for(server.url()));
  BOOST_TEST(answered(run(io, feeder->command({"RPUSH", "list", "x"}))) == reply::make_integer(1));
  BOOST_TEST(answered(run(io, redis->command({"ECHO", "mine"}))) == reply::make_string("mine"));
  BOOST_TEST(redis->connected());
}

BOOST_AUTO_TEST_SUITE_END()
