#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "webhook/http/types.hpp"

namespace bridge::webhook::http {

// Every size and time a connection may use. Anything over a limit is refused early.
struct listener_limits {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;  // request line (URL) and all header fields together
  std::chrono::milliseconds read_timeout{10'000};  // one whole request, first byte to last
  // The handler's work on one request (a journal's fsync, a Redis round trip). Past it the
  // client gets 503 and the connection closes; the handler runs on to its end, so what it
  // stored stays stored and the client's retry is then a duplicate.
  std::chrono::milliseconds handler_timeout{10'000};
  // Waiting for the next request on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_connections = 10'000;
  std::size_t max_target_bytes = 8 * 1024;  // the URL (414 beyond)
  std::size_t max_header_fields = 100;      // header fields (431 beyond)
  // Body bytes all connections together may be reading at once. Bodies are buffered whole before
  // their signature can be judged, so without this bound unsigned bodies could take memory
  // without limit; a body that would go over it is refused (503) before it is read.
  std::size_t max_inflight_body_bytes = 256 * 1024 * 1024;
  // How long a connection that has not earned trust may wait for its next request (first
  // request included). Trusted connections wait idle_timeout.
  std::chrono::milliseconds untrusted_idle_timeout{5'000};
  // A connection becomes trusted once one of its requests is answered 2xx (on the public
  // listener only a signed delivery or a handshake with the verify token can be). Untrusted idle
  // connections are closed first to make room. False: no connection is ever trusted.
  bool trust_after_success = true;
};

// Requests and connections the listener refused itself, before any handler saw them.
struct listener_counters {
  std::uint64_t too_large = 0;              // 413
  std::uint64_t headers_too_large = 0;      // 431
  std::uint64_t uri_too_long = 0;           // 414
  std::uint64_t malformed = 0;              // 400: not HTTP, or unsafe framing
  std::uint64_t connections_refused = 0;    // over max_connections, nothing to shed
  std::uint64_t connections_shed = 0;       // idle untrusted connections closed to make room
  std::uint64_t descriptors_exhausted = 0;  // accepts that failed for want of file descriptors
  std::uint64_t bodies_over_budget = 0;     // 503: max_inflight_body_bytes would be exceeded
  std::uint64_t handler_timeouts = 0;       // 503: the handler took longer than handler_timeout
  std::uint64_t inflight_body_bytes = 0;    // body bytes reserved by requests being read now
};

// An HTTP/1.1 server on one address: plain TCP, or TLS when given a context. Each connection runs
// one coroutine that reads a request within the limits, asks the handler, writes the answer, and
// keeps the connection alive while both sides want it. A request answered 4xx closes its
// connection. At the connection cap, or out of file descriptors, the idle untrusted connection
// that waited longest is closed to make room before a newcomer is refused.
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

}  // namespace bridge::webhook::http
