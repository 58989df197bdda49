// The HTTP listener on its own: the connection cap.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/support/test_client.hpp"
#include "webhook/http_errors.hpp"
#include "webhook/http_listener.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

class ok_handler final : public bridge::webhook::request_handler {
 public:
  asio::awaitable<bridge::webhook::response> handle(bridge::webhook::request& req) override {
    co_return bridge::webhook::make_response(bridge::webhook::http::status::ok, "text/plain", "ok",
                                             req.keep_alive());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(listener)

BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_closed_at_once_and_served_again_later) {
  asio::io_context server_io;
  bridge::webhook::listener_limits limits;
  limits.max_connections = 3;
  bridge::webhook::http_listener listener(
      server_io.get_executor(), asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
      std::make_shared<ok_handler>(), limits);
  listener.start();
  std::thread loop([&] { server_io.run(); });
  const auto endpoint = listener.local_endpoint();

  // Three idle connections fill the cap.
  asio::io_context client_io;
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(client_io);
    idle.back().connect(endpoint);
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

BOOST_AUTO_TEST_SUITE_END()
