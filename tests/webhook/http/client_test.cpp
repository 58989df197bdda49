// The upstream HTTP client against a scripted raw-socket server: answers cut into pieces,
// kept-alive reuse, a closed idle connection, and the response size limit.
#include "webhook/http/client.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
namespace http = bridge::webhook::http;

namespace {

std::string answer_with(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Reads one request head and its body (Content-Length) from a blocking socket; false at EOF.
bool read_request(tcp::socket& socket, std::string& pending) {
  char chunk[4096];
  boost::system::error_code ec;
  for (;;) {
    const auto head_end = pending.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      const auto at = pending.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(pending.substr(at + 16));
      if (pending.size() >= head_end + 4 + length) {
        pending.erase(0, head_end + 4 + length);
        return true;
      }
    }
    const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
    if (ec) return false;
    pending.append(chunk, n);
  }
}

// A server on 127.0.0.1 that, for each accepted connection, answers requests with `script`:
// called with the connection's request number, it writes the answer as it likes.
class scripted_server {
 public:
  using script = std::function<void(tcp::socket&, int connection, int request)>;
  explicit scripted_server(script s)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(s)) {
    thread_ = std::thread([this] { serve(); });
  }
  // The client's connections are closed by now (it is destroyed first); a blocking accept does
  // not notice a close from another thread, so one last connection wakes it.
  ~scripted_server() {
    stopping_ = true;
    tcp::socket wake(io_);
    boost::system::error_code ignored;
    wake.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }
  bridge::webhook::http::upstream_origin origin() const {
    return bridge::webhook::http::upstream_origin{
        false, "127.0.0.1", std::to_string(acceptor_.local_endpoint().port()), ""};
  }
  int connections() const { return connections_; }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      const int connection = ++connections_;
      std::string pending;
      for (int request = 1; read_request(socket, pending); ++request) {
        script_(socket, connection, request);
        if (!socket.is_open()) break;
      }
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  script script_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Sends one GET through `client` on `io` and waits for its result.
boost::system::result<bridge::webhook::http::response> call(
    asio::io_context& io, bridge::webhook::http::http_client& client,
    const bridge::webhook::http::upstream_origin& origin) {
  bridge::webhook::http::request req{http::verb::get, "/x", 11};
  auto future = asio::co_spawn(io, client.send(origin, std::move(req), 5s), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(answers_cut_into_pieces_are_read_whole_on_one_kept_alive_connection) {
  std::string body(20'000, 'b');
  body += "tail";  // a statement: GCC 12 misjudges `std::string(n, c) + "..."` (-Warray-bounds)
  scripted_server server([&](tcp::socket& socket, int, int request) {
    const std::string answer = answer_with(body + std::to_string(request));
    // Byte by byte: cut inside the status line, inside every field, and all through the body.
    socket.set_option(tcp::no_delay(true));
    for (const char& byte : answer)
      asio::write(socket, asio::buffer(&byte, 1));
  });
  asio::io_context io;
  auto client = bridge::webhook::http::make_http_client(io.get_executor());
  for (int i = 1; i <= 3; ++i) {
    const auto result = call(io, *client, server.origin());
    BOOST_TEST_REQUIRE(result.has_value(), result.error().message());
    BOOST_TEST(result->result_int() == 200u);
    BOOST_TEST(result->body() == body + std::to_string(i));
  }
  BOOST_TEST(server.connections() == 1);
}

BOOST_AUTO_TEST_CASE(an_idle_connection_the_server_closed_is_replaced_once) {
  scripted_server server([](tcp::socket& socket, int, int) {
    asio::write(socket, asio::buffer(answer_with("ok")));
    socket.close();  // after every answer, though it did not say Connection: close
  });
  asio::io_context io;
  auto client = bridge::webhook::http::make_http_client(io.get_executor());
  for (int i = 0; i < 3; ++i) {
    const auto result = call(io, *client, server.origin());
    BOOST_TEST_REQUIRE(result.has_value(), result.error().message());
    BOOST_TEST(result->body() == "ok");
  }
  BOOST_TEST(server.connections() == 3);
}

BOOST_AUTO_TEST_CASE(an_answer_over_the_size_limit_is_an_error) {
  scripted_server server([](tcp::socket& socket, int, int) {
    asio::write(socket, asio::buffer(answer_with(std::string(2000, 'x'))));
  });
  asio::io_context io;
  bridge::webhook::http::http_client_options options;
  options.max_response_bytes = 1000;
  auto client = bridge::webhook::http::make_http_client(io.get_executor(), options);
  const auto result = call(io, *client, server.origin());
  BOOST_TEST_REQUIRE(result.has_error());
  // The body limit itself, not just any failure (a refused connection would fail too).
  const boost::system::error_code body_limit = boost::beast::http::error::body_limit;
  BOOST_TEST(result.error() == body_limit, result.error().message());
}

BOOST_AUTO_TEST_SUITE_END()
