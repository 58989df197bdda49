// The HTTP listener on its own: the connection cap, and requests however they are cut into reads.
#include "webhook/http/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "tests/support/test_client.hpp"
#include "webhook/http/errors.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

class ok_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   "ok", req.keep_alive());
  }
};

// Answers with what it received, so a test sees the body was put together whole.
class echo_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   std::string(req.target()) + " " + req.body(),
                                                   req.keep_alive());
  }
};

// Holds every request until the test lets it go (as a journal's fsync on a stalled disk would),
// then answers 200; counts the requests that ran to their end. Used on the server's thread only.
class held_handler final : public bridge::webhook::http::request_handler {
 public:
  asio::awaitable<bridge::webhook::http::response> handle(
      bridge::webhook::http::request& req) override {
    if (!gate_) {
      gate_.emplace(co_await asio::this_coro::executor);
      gate_->expires_at(asio::steady_timer::time_point::max());
    }
    co_await gate_->async_wait(asio::as_tuple(asio::use_awaitable));
    ++finished;
    co_return bridge::webhook::http::make_response(bridge::webhook::http::status::ok, "text/plain",
                                                   "stored " + req.body(), req.keep_alive());
  }
  // Lets every held request go.
  void release() {
    if (gate_) gate_->cancel();
  }
  int finished = 0;

 private:
  std::optional<asio::steady_timer> gate_;
};

// A listener on an ephemeral loopback port, served on its own thread.
struct running_listener {
  asio::io_context io;
  bridge::webhook::http::http_listener listener;
  std::thread loop;

  running_listener(std::shared_ptr<bridge::webhook::http::request_handler> handler,
                   bridge::webhook::http::listener_limits limits = {})
      : listener(io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                 std::move(handler), limits) {
    listener.start();
    loop = std::thread([this] { io.run(); });
  }
  ~running_listener() {
    io.stop();
    loop.join();
  }
  // Runs `f` on the server's thread and returns what it returned.
  template <class F>
  auto on_loop(F f) {
    std::promise<decltype(f())> result;
    asio::post(io, [&] { result.set_value(f()); });
    return result.get_future().get();
  }
};

// Reads from `socket` until `count` answers ending in `last_body` arrived or the peer closed.
std::string read_answers(asio::ip::tcp::socket& socket, std::string_view last_body) {
  std::string received;
  char chunk[4096];
  boost::system::error_code ec;
  while (!received.ends_with(last_body)) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) break;
    received.append(chunk, n);
  }
  return received;
}

// Writes `bytes` one byte per write, with Nagle's algorithm off so that each byte leaves in a
// segment of its own and the server's reads see the request in as many pieces as it lets them.
void write_byte_by_byte(asio::ip::tcp::socket& socket, std::string_view bytes) {
  socket.set_option(asio::ip::tcp::no_delay(true));
  for (const char& byte : bytes)
    asio::write(socket, asio::buffer(&byte, 1));
}

std::string post(std::string_view target, std::string_view body) {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listener)

BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_closed_at_once_and_served_again_later) {
  asio::io_context server_io;
  bridge::webhook::http::listener_limits limits;
  limits.max_connections = 3;
  bridge::webhook::http::http_listener listener(
      server_io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
      std::make_shared<ok_handler>(), limits);
  listener.start();
  std::thread loop([&] { server_io.run(); });
  const auto endpoint = listener.local_endpoint();

  // Three idle connections fill the cap. Each was answered 200 once, so it is trusted and may
  // not be shed to make room (idle connections that never earned trust are: see below).
  asio::io_context client_io;
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(client_io);
    idle.back().connect(endpoint);
    asio::write(idle.back(), asio::buffer(std::string("GET / HTTP/1.1\r\nHost: t\r\n\r\n")));
    BOOST_TEST(read_answers(idle.back(), "ok").starts_with("HTTP/1.1 200 "));
  }
  // The server counts a connection once it accepted it; a served request proves the three are in.
  bridge::test::client_request probe;
  probe.target = "/";
  BOOST_TEST(bridge::test::send_request(endpoint, probe).status == 0u);  // a fourth: refused

  // Once one of them goes away, a new connection is served again.
  idle.front().close();
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    served = bridge::test::send_request(endpoint, probe).status == 200u;
  }
  BOOST_TEST(served);
  server_io.stop();
  loop.join();
}

// A request is parsed from what is buffered and read further only for what is missing: several
// requests in one write, or cut anywhere (inside the request line, a field, the body) by feeding
// what follows a first write byte by byte, every request is answered whole and in order.
BOOST_AUTO_TEST_CASE(requests_cut_anywhere_or_pipelined_are_answered_whole_and_in_order) {
  running_listener server(std::make_shared<echo_handler>());
  std::string first_body(3000, 'a');
  first_body += "end-of-first";  // a statement: GCC 12 misjudges `std::string(n, c) + "..."`
  const std::string first = post("/first", first_body);
  const std::string second = post("/second", "second-body");
  const std::string stream = first + second + post("/third", "third-body");
  // 0: every byte alone; stream.size(): all three requests in one write.
  for (const std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{30}, std::size_t{60},
                                first.size() - 5, first.size(), first.size() + 10, stream.size()}) {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect(server.listener.local_endpoint());
    asio::write(socket, asio::buffer(stream.substr(0, cut)));
    write_byte_by_byte(socket, std::string_view(stream).substr(cut));
    const std::string answers = read_answers(socket, "/third third-body");
    const auto at_first = answers.find("/first " + std::string(3000, 'a') + "end-of-first");
    const auto at_second = answers.find("/second second-body");
    const auto at_third = answers.find("/third third-body");
    BOOST_TEST(at_first != std::string::npos, "cut at " << cut);
    BOOST_TEST(at_second != std::string::npos, "cut at " << cut);
    BOOST_TEST(at_third != std::string::npos, "cut at " << cut);
    BOOST_TEST((at_first < at_second && at_second < at_third), "cut at " << cut);
  }
}

// The limits hold for a request that arrived whole in the first read, before any handler runs.
BOOST_AUTO_TEST_CASE(limits_hold_for_a_request_that_arrived_in_one_piece) {
  bridge::webhook::http::listener_limits limits;
  limits.max_body_bytes = 100;
  limits.max_target_bytes = 50;
  running_listener server(std::make_shared<echo_handler>(), limits);
  const std::pair<std::string, std::string> cases[] = {
      {post("/big", std::string(101, 'x')), "HTTP/1.1 413 "},
      {post("/" + std::string(60, 'u'), "x"), "HTTP/1.1 414 "},
      {"NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400 "},
  };
  for (const auto& [request, status_line] : cases) {
    asio::io_context client_io;
    asio::ip::tcp::socket socket(client_io);
    socket.connect(server.listener.local_endpoint());
    asio::write(socket, asio::buffer(request));
    const std::string answer = read_answers(socket, "\x01never");  // until the server closes
    BOOST_TEST(answer.starts_with(status_line), request.substr(0, 20) << " -> " << answer);
  }
}

// A handler stuck past handler_timeout (a stalled disk or Redis): the client gets 503 with
// Retry-After and the connection closes, but the handler is not cancelled half-way: once it can go
// on it runs to its end (what it stored stays stored; the client's retry is then a duplicate).
BOOST_AUTO_TEST_CASE(a_handler_past_its_deadline_gets_503_and_still_runs_to_its_end) {
  bridge::webhook::http::listener_limits limits;
  limits.handler_timeout = 50ms;
  auto handler = std::make_shared<held_handler>();
  running_listener server(handler, limits);

  asio::io_context client_io;
  asio::ip::tcp::socket socket(client_io);
  socket.connect(server.listener.local_endpoint());
  asio::write(socket, asio::buffer(post("/webhook", "m1")));
  const std::string answer = read_answers(socket, "\x01never");  // until the server closes
  BOOST_TEST(answer.starts_with("HTTP/1.1 503 "), answer);
  BOOST_TEST(answer.find("handler_timeout") != std::string::npos, answer);
  BOOST_TEST(answer.find("Retry-After: 1") != std::string::npos, answer);
  BOOST_TEST(server.on_loop([&] { return handler->finished; }) == 0);
  BOOST_TEST(server.on_loop([&] { return server.listener.counters().handler_timeouts; }) == 1u);

  server.on_loop([&] {
    handler->release();
    return 0;
  });
  // The handler ends on the server's loop; wait for it there (bounded) without sleeping here.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.on_loop([&] { return handler->finished; }) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  BOOST_TEST(server.on_loop([&] { return handler->finished; }) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
