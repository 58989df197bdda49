#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "webhook/http_types.hpp"

namespace bridge::webhook {

// Every size and time a connection may use. Anything over a limit is refused early.
struct listener_limits {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;  // request line (URL) and all header fields together
  std::chrono::milliseconds read_timeout{10'000};  // one whole request, first byte to last
  // Waiting for the next request on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_connections = 10'000;
  std::size_t max_target_bytes = 8 * 1024;  // the URL (414 beyond)
  std::size_t max_header_fields = 100;      // header fields (431 beyond)
};

// Requests and connections the listener refused itself, before any handler saw them.
struct listener_counters {
  std::uint64_t too_large = 0;            // 413
  std::uint64_t headers_too_large = 0;    // 431
  std::uint64_t uri_too_long = 0;         // 414
  std::uint64_t malformed = 0;            // 400: not HTTP
  std::uint64_t connections_refused = 0;  // over max_connections
};

// An HTTP/1.1 server on one address: plain TCP, or TLS when given a context. Each connection runs
// one coroutine that reads a request within the limits, asks the handler, writes the answer, and
// keeps the connection alive while both sides want it.
class http_listener {
 public:
  // Binds and listens at once so the port is known before start(); throws
  // boost::system::system_error when the address cannot be bound. tls may be null for plain HTTP.
  http_listener(boost::asio::any_io_executor executor,
                const boost::asio::ip::tcp::endpoint& endpoint,
                std::shared_ptr<request_handler> handler, listener_limits limits,
                std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~http_listener();
  http_listener(const http_listener&) = delete;
  http_listener& operator=(const http_listener&) = delete;

  // The bound address (the real port when 0 was asked for).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Starts accepting connections.
  void start();
  // Stops accepting; connections already open finish their current request and close.
  void stop();
  // New limits and TLS context for connections accepted from now on (configuration reload).
  void update(listener_limits limits, std::shared_ptr<boost::asio::ssl::context> tls);
  // Connections open now.
  std::size_t open_connections() const;
  const listener_counters& counters() const;

  struct state;  // shared with the connection coroutines, which may outlive the listener

 private:
  std::shared_ptr<state> state_;
};

}  // namespace bridge::webhook
