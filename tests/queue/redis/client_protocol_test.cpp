// Bytes a real server would not send, from a one-connection fake on loopback: the client reports
// a protocol error or a lost connection as a value, drops the connection, and never crashes.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "queue/redis/client.hpp"
#include "tests/queue/redis/test_io.hpp"

namespace asio = boost::asio;
using namespace bridge::queue::redis;
using namespace bridge::queue::redis::test;
using boost::system::result;
using tcp = asio::ip::tcp;

namespace {

// Accepts one connection, answers the set-up PING with +PONG, then answers the next command with
// `answer` and, when close_after, closes; otherwise it waits for the client to go.
asio::awaitable<void> serve_once(tcp::acceptor& acceptor, std::string answer, bool close_after) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
  char scratch[512];
  co_await socket.async_read_some(asio::buffer(scratch), asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(std::string_view("+PONG\r\n")),
                             asio::use_awaitable);
  co_await socket.async_read_some(asio::buffer(scratch), asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(answer), asio::use_awaitable);
  if (close_after) co_return;
  co_await socket.async_read_some(asio::buffer(scratch), use_tuple);
}

// A client of a fake that answers one command with `answer`; the command's outcome.
struct fake_exchange {
  fake_exchange(std::string answer, bool close_after)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve_once(acceptor, std::move(answer), close_after),
                   [this](std::exception_ptr) { served = true; });
    client_options options =
        options_for("redis://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
    options.timeout = 1s;
    redis = make_client(io.get_executor(), options);
    outcome = run(io, redis->command("GET", "k"));
  }

  asio::io_context io;
  tcp::acceptor acceptor;
  bool served = false;
  std::shared_ptr<client> redis;
  result<reply> outcome = make_error_code(errc::closed);
};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_protocol_suite, *boost::unit_test::timeout(60))

BOOST_AUTO_TEST_CASE(bytes_that_are_not_resp_are_a_protocol_error) {
  log_capture log;
  fake_exchange fake("HTTP/1.1 400 Bad Request\r\n\r\n", false);
  BOOST_REQUIRE(!fake.outcome.has_value());
  BOOST_TEST(fake.outcome.error() == make_error_code(errc::protocol_error));
  BOOST_TEST(!fake.redis->connected());
  BOOST_TEST(log.text().find("protocol error") != std::string::npos, log.text());
}

BOOST_AUTO_TEST_CASE(a_reply_nobody_asked_for_drops_the_connection) {
  log_capture log;
  fake_exchange fake("$1\r\nv\r\n+EXTRA\r\n", false);
  BOOST_TEST(answered(fake.outcome) == reply::make_string("v"));  // its own reply came first
  BOOST_REQUIRE(run_until(
      fake.io, [&] { return fake.redis->stats().disconnects == 1; }, 2s));
  BOOST_TEST(log.text().find("nobody asked for") != std::string::npos, log.text());
}

BOOST_AUTO_TEST_CASE(a_reply_cut_short_is_a_lost_connection) {
  fake_exchange fake("$10\r\nabc", true);
  BOOST_REQUIRE(!fake.outcome.has_value());
  BOOST_TEST(fake.outcome.error() == make_error_code(errc::connection_lost));
}

BOOST_AUTO_TEST_CASE(a_silent_server_is_a_timeout) {
  fake_exchange fake("", false);  // answers the set-up, then nothing
  BOOST_REQUIRE(!fake.outcome.has_value());
  BOOST_TEST(fake.outcome.error() == make_error_code(errc::timeout));
}

BOOST_AUTO_TEST_SUITE_END()
