// robofy-wa-floor-server: what answering a webhook POST costs before the bridge does any work of
// its own, for the ingress floor in BENCHMARKS.md. It reads the same configuration file as the
// bridge (server.listen and admin.listen only), answers GET /readyz on the admin address, and
// answers every request on the public address with the bridge's 200 {"status":"accepted"}:
//   --mode beast     the least Beast and Asio allow: a coroutine per connection, Beast's parser
//                    reads the request (body included) and one write sends answer bytes made
//                    once. No deadlines, limits or handler: the shape's own floor.
//   --mode listener  the bridge's own listener (webhook/http) with every limit and deadline,
//                    in front of a handler that only answers: the listener's cost.
//   --mode verify    the listener and the bridge's webhook endpoint (webhook/meta: the signature
//                    checked as the body arrives, the delivery parsed) handing each delivery to
//                    a sink that accepts it and keeps nothing: all but the queue and the store.
//   --mode keep      verify, then what the promises need of a message at the least: its wamid
//                    remembered in the bridge's dedupe set (bounded as the bridge bounds it) and
//                    the message itself kept, moved into one growing vector. No mailboxes, no
//                    admission, no metrics: the bridge's memory store minus its own structure.
// The listener modes take their limits and the endpoint's settings from the configuration as the
// bridge does (bridge/listener_settings).
// Usage: robofy-wa-floor-server --config FILE [--mode beast|listener|verify|keep]
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/listener_settings.hpp"
#include "bridge/store/local_store.hpp"
#include "config/loader.hpp"
#include "queue/dedupe_set.hpp"
#include "webhook/http/errors.hpp"
#include "webhook/http/listener.hpp"
#include "webhook/meta/endpoint.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = bridge::webhook::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view accepted_body = R"({"status":"accepted"})";

// Answers every request with the same 200, as the bridge answers an accepted delivery.
class accepting_handler final : public http::request_handler {
 public:
  asio::awaitable<http::response> handle(http::request& req) override {
    co_return http::make_response(http::status::ok, "application/json", std::string(accepted_body),
                                  req.keep_alive());
  }
};

// Accepts every delivery and keeps nothing (the verify mode).
class forgetting_sink final : public bridge::webhook::meta::delivery_sink {
 public:
  asio::awaitable<bridge::webhook::meta::admission> admit(
      bridge::webhook::meta::delivery) override {
    co_return bridge::webhook::meta::admission::accepted;
  }
};

// Remembers each new wamid and keeps its message (the keep mode). A duplicate is accepted and
// dropped, as the bridge drops it.
class keeping_sink final : public bridge::webhook::meta::delivery_sink {
 public:
  asio::awaitable<bridge::webhook::meta::admission> admit(
      bridge::webhook::meta::delivery batch) override {
    for (auto& message : batch.messages) {
      if (seen_.insert(message.id)) kept_.push_back(std::move(message));
    }
    co_return bridge::webhook::meta::admission::accepted;
  }

 private:
  bridge::queue::dedupe_set seen_{bridge::store::local_store::dedupe_max_entries,
                                  bridge::store::local_store::dedupe_retention};
  std::vector<bridge::webhook::meta::inbound_message> kept_;
};

// One connection of the beast mode: read a request with Beast's parser, write the fixed answer.
asio::awaitable<void> serve_bare(tcp::socket socket) {
  static const std::string answer =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(accepted_body.size()) + "\r\n\r\n" + std::string(accepted_body);
  constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
  beast::flat_buffer buffer;
  for (;;) {
    beast::http::request_parser<beast::http::string_body> parser;
    parser.body_limit(4 * 1024 * 1024);
    auto [read_ec, n] = co_await beast::http::async_read(socket, buffer, parser, as_tuple);
    (void)n;
    if (read_ec) co_return;
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(answer), as_tuple);
    (void)written;
    if (write_ec || !parser.get().keep_alive()) co_return;
  }
}

asio::awaitable<void> accept_bare(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve_bare(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file;
  std::string mode = "beast";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--config") {
      config_file = argv[i + 1];
    } else if (flag == "--mode") {
      mode = argv[i + 1];
    }
  }
  if (config_file.empty() ||
      (mode != "beast" && mode != "listener" && mode != "verify" && mode != "keep")) {
    std::cerr
        << "usage: robofy-wa-floor-server --config FILE [--mode beast|listener|verify|keep]\n";
    return 2;
  }
  try {
    const auto config =
        bridge::config::load_file(config_file, bridge::config::process_environment());
    const auto public_at = bridge::endpoint_of(config.server.listen, "server.listen");
    const auto admin_at = bridge::endpoint_of(config.admin.listen, "admin.listen");
    asio::io_context io(1);
    // Readiness only: the bench scripts wait for /readyz before they load the server.
    http::http_listener admin(io.get_executor(), admin_at, std::make_shared<accepting_handler>(),
                              bridge::admin_limits());
    admin.start();
    std::unique_ptr<http::http_listener> listener;
    tcp::acceptor bare(io);
    if (mode != "beast") {
      std::shared_ptr<http::request_handler> handler = std::make_shared<accepting_handler>();
      if (mode != "listener") {
        handler = std::make_shared<bridge::webhook::meta::webhook_endpoint>(
            mode == "keep" ? std::shared_ptr<bridge::webhook::meta::delivery_sink>(
                                 std::make_shared<keeping_sink>())
                           : std::make_shared<forgetting_sink>(),
            bridge::endpoint_settings_of(config));
      }
      listener = std::make_unique<http::http_listener>(io.get_executor(), public_at, handler,
                                                       bridge::public_limits(config.server));
      listener->start();
    } else {
      bare.open(public_at.protocol());
      bare.set_option(tcp::acceptor::reuse_address(true));
      bare.bind(public_at);
      bare.listen();
      asio::co_spawn(io, accept_bare(bare), asio::detached);
    }
    asio::signal_set stop(io, SIGTERM, SIGINT);
    stop.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    std::printf("floor server (%s) ready\n", mode.c_str());
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "robofy-wa-floor-server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
