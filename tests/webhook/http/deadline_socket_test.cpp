// The deadline socket over a loopback connection: reads and writes pass through, a read pending at
// the deadline ends with a timeout and a closed socket, an operation started after the deadline
// fails at once, a deadline that moved on is honoured, and so is a shorter one set later.
#include "webhook/http/deadline_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;
using bridge::webhook::http::deadline_socket;
using namespace std::chrono_literals;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// Two ends of one loopback TCP connection.
struct connected_pair {
  explicit connected_pair(asio::io_context& io) : near(io), far(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    near.connect(acceptor.local_endpoint());
    far = acceptor.accept();
  }
  tcp::socket near;
  tcp::socket far;
};

struct read_outcome {
  boost::system::error_code ec;
  std::string data;
  std::chrono::steady_clock::duration took{};
};

// Reads once from `stream` (after `before`, if set); the outcome lands in `out`.
void start_read(asio::io_context& io, deadline_socket& stream, std::optional<read_outcome>& out) {
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto start = std::chrono::steady_clock::now();
        char buffer[64];
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), as_tuple_awaitable);
        out = read_outcome{ec, std::string(buffer, n), std::chrono::steady_clock::now() - start};
      },
      asio::detached);
}

// Runs io until `out` is set, at most 5 s.
void run_until_set(asio::io_context& io, const std::optional<read_outcome>& out) {
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (!out && std::chrono::steady_clock::now() < give_up)
    io.run_one_for(50ms);
  BOOST_TEST_REQUIRE(out.has_value());
}

// Writes `text` from the far end after `delay`.
void write_later(asio::io_context& io, tcp::socket& far, std::chrono::milliseconds delay,
                 std::string text) {
  asio::co_spawn(
      io,
      [&far, delay, text]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        co_await timer.async_wait(as_tuple_awaitable);
        co_await asio::async_write(far, asio::buffer(text), as_tuple_awaitable);
      },
      asio::detached);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadline_socket_suite)

BOOST_AUTO_TEST_CASE(reads_and_writes_pass_through_before_the_deadline) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 1s);
  stream.expires_after(5s);
  std::optional<read_outcome> got;
  start_read(io, stream, got);
  write_later(io, pair.far, 0ms, "hello");
  run_until_set(io, got);
  BOOST_TEST(!got->ec);
  BOOST_TEST(got->data == "hello");
  // And the other way.
  const std::string back = "back";
  std::optional<boost::system::error_code> wrote;
  asio::async_write(stream, asio::buffer(back),
                    [&](boost::system::error_code ec, std::size_t) { wrote = ec; });
  io.restart();
  while (!wrote && io.run_one_for(1s) > 0) {
  }
  BOOST_TEST_REQUIRE(wrote.has_value());
  BOOST_TEST(!*wrote);
  char buffer[4];
  asio::read(pair.far, asio::buffer(buffer));
  BOOST_TEST(std::string(buffer, 4) == "back");
}

BOOST_AUTO_TEST_CASE(a_read_pending_at_the_deadline_times_out_and_the_socket_closes) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 20ms);
  stream.expires_after(60ms);
  std::optional<read_outcome> got;
  start_read(io, stream, got);
  run_until_set(io, got);
  BOOST_TEST((got->ec == boost::beast::error::timeout));
  BOOST_TEST(got->took >= 60ms);
  BOOST_TEST(!stream.socket().is_open());
}

// The timer wakes every 20 ms, finds the deadline moved on, and waits again.
BOOST_AUTO_TEST_CASE(a_deadline_that_moved_on_is_honoured) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 20ms);
  stream.expires_after(50ms);
  stream.expires_after(400ms);
  std::optional<read_outcome> got;
  start_read(io, stream, got);
  write_later(io, pair.far, 150ms, "late but in time");
  run_until_set(io, got);
  BOOST_TEST(!got->ec);
  BOOST_TEST(got->data == "late but in time");
}

// A deadline shorter than the timer's next wake re-arms the timer.
BOOST_AUTO_TEST_CASE(a_shorter_deadline_set_later_is_honoured) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 10s);
  stream.expires_after(10s);
  stream.expires_after(50ms);
  std::optional<read_outcome> got;
  start_read(io, stream, got);
  run_until_set(io, got);
  BOOST_TEST((got->ec == boost::beast::error::timeout));
  BOOST_TEST(got->took < 5s);
}

// The deadline passed while nothing was pending (a handler was running): the next operation fails
// at once, unless a new deadline was set first.
BOOST_AUTO_TEST_CASE(an_operation_started_after_the_deadline_fails_at_once) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 10ms);
  stream.expires_after(30ms);
  io.run_for(150ms);  // the timer wakes past the deadline with nothing pending
  io.restart();
  BOOST_TEST(stream.socket().is_open());
  std::optional<read_outcome> late;
  start_read(io, stream, late);
  run_until_set(io, late);
  BOOST_TEST((late->ec == boost::beast::error::timeout));
  BOOST_TEST(!stream.socket().is_open());
}

BOOST_AUTO_TEST_CASE(a_new_deadline_after_an_idle_expiry_lets_operations_run) {
  asio::io_context io;
  connected_pair pair(io);
  deadline_socket stream(std::move(pair.near), 10ms);
  stream.expires_after(30ms);
  io.run_for(150ms);
  io.restart();
  stream.expires_after(5s);
  std::optional<read_outcome> got;
  start_read(io, stream, got);
  write_later(io, pair.far, 0ms, "again");
  run_until_set(io, got);
  BOOST_TEST(!got->ec);
  BOOST_TEST(got->data == "again");
}

BOOST_AUTO_TEST_SUITE_END()
