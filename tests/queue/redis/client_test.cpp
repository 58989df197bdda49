// The client against a real redis-server: round trips, pipelining and coalesced writes, server
// errors as values, SELECT, scripts and NOSCRIPT, close().
#include "queue/redis/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "tests/queue/redis/test_io.hpp"
#include "tests/support/redis_server.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::result;
using bridge::test::redis_server;
using bridge::test::redis_server_options;

namespace {

// One server and one ready client on it.
struct connected_client {
  explicit connected_client(redis_server_options options = {}, int db = 0)
      : server(std::move(options)),
        redis(make_client(io.get_executor(), options_for(server.url(db)))) {
    BOOST_REQUIRE_MESSAGE(run(io, wait_until_answers(*redis, 5s)), "redis never answered");
  }

  asio::io_context io;
  redis_server server;
  std::shared_ptr<client> redis;

  reply call(std::initializer_list<std::string_view> args) {
    return answered(run(io, redis->command(args)));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_suite, *boost::unit_test::timeout(60))

BOOST_AUTO_TEST_CASE(set_and_get_binary_safe_values) {
  connected_client c;
  const std::string value("a\0b\r\n$3\r\nc", 11);
  BOOST_TEST(c.call({"SET", "k", value}) == reply::make_status("OK"));
  BOOST_TEST(c.call({"GET", "k"}) == reply::make_string(value));
  BOOST_TEST(c.call({"GET", "missing"}).is_nil());
  BOOST_TEST(c.call({"DEL", "k"}) == reply::make_integer(1));
  BOOST_TEST(c.redis->connected());
  BOOST_TEST(c.redis->stats().endpoint == c.server.url(0));
}

BOOST_AUTO_TEST_CASE(a_pipeline_is_one_write_and_replies_in_order) {
  connected_client c;
  const client_stats before = c.redis->stats();
  request req;
  req.push({"SET", "p", "1"})
      .push({"INCR", "p"})
      .push({"GET", "p"})
      .push({"NO-SUCH-COMMAND"})
      .push({"LPUSH", "p", "x"})
      .push({"MGET", "p", "nothing"});
  const auto replies = run(c.io, c.redis->execute(req));
  BOOST_REQUIRE(replies.has_value());
  BOOST_REQUIRE(replies->size() == 6u);
  BOOST_TEST((*replies)[0] == reply::make_status("OK"));
  BOOST_TEST((*replies)[1] == reply::make_integer(2));
  BOOST_TEST((*replies)[2] == reply::make_string("2"));
  BOOST_TEST((*replies)[3].error_kind() == server_error::other);
  BOOST_TEST((*replies)[4].error_kind() == server_error::wrongtype);
  BOOST_TEST((*replies)[5] == reply::make_array({reply::make_string("2"), reply{}}));

  const client_stats after = c.redis->stats();
  BOOST_TEST(after.writes - before.writes == 1u);
  BOOST_TEST(after.commands_written - before.commands_written == 6u);
  BOOST_TEST(after.round_trips_server_error - before.round_trips_server_error == 1u);
  BOOST_TEST(run(c.io, c.redis->execute(request{})).value().empty());
}

BOOST_AUTO_TEST_CASE(concurrent_callers_get_their_own_replies_and_share_writes) {
  connected_client c;
  const client_stats before = c.redis->stats();
  constexpr int callers = 500;
  std::vector<std::optional<result<reply>>> got(callers);
  int finished = 0;
  for (int i = 0; i < callers; ++i) {
    // Half echo their number, half count: every caller must see its own answer.
    auto work = i % 2 == 0 ? c.redis->command({"ECHO", "caller " + std::to_string(i)})
                           : c.redis->command({"INCR", "counter"});
    asio::co_spawn(c.io, std::move(work), [&, i](std::exception_ptr e, result<reply> r) {
      BOOST_REQUIRE(!e);
      got[i] = std::move(r);
      ++finished;
    });
  }
  BOOST_REQUIRE(run_until(
      c.io, [&] { return finished == callers; }, 10s));

  std::vector<long long> counts;
  for (int i = 0; i < callers; ++i) {
    const reply r = answered(*got[i]);
    if (i % 2 == 0) {
      BOOST_TEST(r == reply::make_string("caller " + std::to_string(i)));
    } else {
      counts.push_back(r.integer().value());
    }
  }
  // Written in call order, so the counter's values come back in call order too.
  for (std::size_t i = 0; i < counts.size(); ++i)
    BOOST_TEST(counts[i] == static_cast<long long>(i + 1));

  const client_stats after = c.redis->stats();
  BOOST_TEST(after.commands_written - before.commands_written == std::uint64_t{callers});
  // Commands queued while a write is in flight go out together: far fewer writes than commands.
  BOOST_TEST(after.writes - before.writes < std::uint64_t{callers / 10});
  BOOST_TEST(after.round_trips_ok - before.round_trips_ok == std::uint64_t{callers});
  BOOST_TEST(after.latency_count - before.latency_count == std::uint64_t{callers});
}

BOOST_AUTO_TEST_CASE(large_values_cross_many_reads) {
  connected_client c;
  std::string big(3 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  BOOST_TEST(c.call({"SET", "big", big}) == reply::make_status("OK"));
  BOOST_TEST(c.call({"GET", "big"}) == reply::make_string(big));
}

BOOST_AUTO_TEST_CASE(server_errors_are_classified_values) {
  connected_client c;
  c.call({"LPUSH", "list", "x"});
  BOOST_TEST(c.call({"GET", "list"}).error_kind() == server_error::wrongtype);
  BOOST_TEST(c.call({"EVALSHA", std::string(40, 'f'), "0"}).error_kind() == server_error::noscript);

  BOOST_TEST(c.call({"CONFIG", "SET", "min-replicas-to-write", "1"}) == reply::make_status("OK"));
  BOOST_TEST(c.call({"SET", "k", "v"}).error_kind() == server_error::noreplicas);
  c.call({"CONFIG", "SET", "min-replicas-to-write", "0"});

  // maxmemory 1 byte under noeviction (Redis 7's default policy): every write is refused.
  c.call({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  c.call({"CONFIG", "SET", "maxmemory", "1"});
  const reply oom = c.call({"SET", "k", "v"});
  BOOST_TEST(oom.error_kind() == server_error::oom, oom);
  BOOST_TEST(is_transient(oom.error_kind()));
  c.call({"CONFIG", "SET", "maxmemory", "0"});

  // The connection survives error replies.
  BOOST_TEST(c.call({"SET", "k", "v"}) == reply::make_status("OK"));
  BOOST_TEST(c.redis->stats().disconnects == 0u);
}

BOOST_AUTO_TEST_CASE(a_replica_answers_readonly_and_masterdown) {
  connected_client c;
  redis_server nothing;  // a port where no master will answer
  const std::string dead_port = std::to_string(nothing.port());
  nothing.kill();
  BOOST_TEST(c.call({"REPLICAOF", "127.0.0.1", dead_port}) == reply::make_status("OK"));
  const reply readonly = c.call({"SET", "k", "v"});
  BOOST_TEST(readonly.error_kind() == server_error::readonly, readonly);
  // READONLY means the primary was demoted: the client drops the connection and connects again
  // (behind a managed endpoint that reaches the new primary; here the same, demoted, server).
  BOOST_TEST(!c.redis->connected());
  BOOST_REQUIRE(run(c.io, wait_until_answers(*c.redis, 5s)));
  c.call({"CONFIG", "SET", "replica-serve-stale-data", "no"});
  const reply masterdown = c.call({"GET", "k"});
  BOOST_TEST(masterdown.error_kind() == server_error::masterdown, masterdown);
  c.call({"REPLICAOF", "NO", "ONE"});
  BOOST_TEST(c.call({"SET", "k", "v"}) == reply::make_status("OK"));
}

BOOST_AUTO_TEST_CASE(a_long_script_makes_others_busy) {
  redis_server_options busy_soon;
  busy_soon.config = {"busy-reply-threshold 100"};
  connected_client c(busy_soon);
  auto options = options_for(c.server.url());
  options.timeout = 10s;
  auto runner = make_client(c.io.get_executor(), options);
  std::optional<result<reply>> stuck;
  asio::co_spawn(c.io, runner->command({"EVAL", "while true do end", "0"}),
                 [&](std::exception_ptr, result<reply> r) { stuck = std::move(r); });

  // The other connection sees BUSY once the script has run past the threshold.
  auto wait_for_busy = [](client& redis) -> asio::awaitable<reply> {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (int i = 0; i < 250; ++i) {
      auto r = co_await redis.command("GET", "k");
      if (r && r->error_kind() == server_error::busy) co_return *r;
      pause.expires_after(20ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
    co_return reply{};
  };
  const reply busy = run(c.io, wait_for_busy(*c.redis));
  BOOST_TEST(busy.error_kind() == server_error::busy, busy);
  BOOST_TEST(c.call({"SCRIPT", "KILL"}) == reply::make_status("OK"));
  BOOST_REQUIRE(run_until(
      c.io, [&] { return stuck.has_value(); }, 5s));
  BOOST_TEST(answered(*stuck).is_error());
}

BOOST_AUTO_TEST_CASE(select_puts_keys_in_the_configured_database) {
  connected_client c;
  auto db3 = make_client(c.io.get_executor(), options_for(c.server.url(3)));
  BOOST_TEST(answered(run(c.io, db3->command({"SET", "where", "three"}))) ==
             reply::make_status("OK"));
  BOOST_TEST(c.call({"GET", "where"}).is_nil());
  BOOST_TEST(answered(run(c.io, db3->command({"GET", "where"}))) == reply::make_string("three"));
  c.call({"SELECT", "3"});  // this connection only
  BOOST_TEST(c.call({"GET", "where"}) == reply::make_string("three"));

  // A database the server does not have: a set-up failure, not a ready connection.
  auto db99 = make_client(c.io.get_executor(), options_for(c.server.url(99)));
  const auto refused = run(c.io, db99->command({"PING"}));
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error() == make_error_code(errc::setup_failed));
  BOOST_TEST(!db99->connected());
}

BOOST_AUTO_TEST_CASE(scripts_run_by_sha_and_reload_after_noscript) {
  connected_client c;
  const script incr("return redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])");
  // The server has never seen it: NOSCRIPT, then SCRIPT LOAD + EVALSHA in one round trip.
  BOOST_TEST(answered(run(c.io, c.redis->run_script(incr, {"n"}, {"100"}))) ==
             reply::make_integer(101));
  BOOST_TEST(c.call({"SCRIPT", "EXISTS", incr.sha1()}) ==
             reply::make_array({reply::make_integer(1)}));
  const client_stats loaded = c.redis->stats();
  BOOST_TEST(answered(run(c.io, c.redis->run_script(incr, {"n"}, {"0"}))) ==
             reply::make_integer(2));
  BOOST_TEST(c.redis->stats().commands_written - loaded.commands_written == 1u);  // EVALSHA only

  c.call({"SCRIPT", "FLUSH"});
  const std::vector<std::string> keys{"n"}, args{"10"};
  BOOST_TEST(answered(run(c.io, c.redis->run_script(incr, keys, args))) == reply::make_integer(13));
  // The SHA-1 we compute is the one Redis computes.
  BOOST_TEST(c.call({"SCRIPT", "LOAD", incr.source()}) == reply::make_string(incr.sha1()));

  const script broken("this is not lua");
  const reply error = answered(run(c.io, c.redis->run_script(broken, {}, {})));
  BOOST_TEST(error.is_error());
  BOOST_TEST(error.error_message().find("compil") != std::string_view::npos, error);
}

BOOST_AUTO_TEST_CASE(close_fails_waiting_commands_and_refuses_new_ones) {
  connected_client c;
  std::optional<result<reply>> blocked;
  asio::co_spawn(c.io, c.redis->command({"BLPOP", "never", "30"}),
                 [&](std::exception_ptr, result<reply> r) { blocked = std::move(r); });
  const auto written = c.redis->stats().commands_written + 1;
  BOOST_REQUIRE(run_until(
      c.io, [&] { return c.redis->stats().commands_written == written; }, 5s));
  c.redis->close();
  BOOST_REQUIRE(run_until(
      c.io, [&] { return blocked.has_value(); }, 1s));
  BOOST_REQUIRE(!blocked->has_value());
  BOOST_TEST(blocked->error() == make_error_code(errc::closed));
  const auto after = run(c.io, c.redis->command({"PING"}));
  BOOST_TEST(after.error() == make_error_code(errc::closed));
  BOOST_TEST(!c.redis->connected());
}

BOOST_AUTO_TEST_CASE(a_dropped_client_ends_its_connection) {
  connected_client c;
  const auto clients = [&] {
    const reply list = c.call({"CLIENT", "LIST"});
    const std::string_view text = list.text().value();
    return std::count(text.begin(), text.end(), '\n');
  };
  auto other = make_client(c.io.get_executor(), options_for(c.server.url()));
  BOOST_REQUIRE(run(c.io, wait_until_answers(*other, 5s)));
  BOOST_TEST(clients() == 2);
  other.reset();
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i)
    gone = clients() == 1;
  BOOST_TEST(gone);
}

BOOST_AUTO_TEST_SUITE_END()
