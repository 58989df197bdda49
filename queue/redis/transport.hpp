#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "queue/redis/url.hpp"

namespace bridge::queue::redis {

// Why a connection could not be set up: an errc for the callers, the cause in words for the log.
struct setup_error {
  boost::system::error_code code;
  std::string detail;
};

// The byte stream to one server: TCP, or TLS over TCP for rediss://. One per connection; a read
// and a write may be in flight at the same time. Internal to the client.
class transport {
 public:
  // tls is null for plain TCP; it must outlive the transport.
  transport(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls);

  // Resolves the host (an address is used as is), connects, and for TLS shakes hands with SNI
  // (for names) and verifies the server's certificate and host name; all before deadline. Errors:
  // errc::connection_refused, errc::timeout, errc::tls_failed.
  boost::asio::awaitable<std::optional<setup_error>> connect(
      const url& server, std::chrono::steady_clock::time_point deadline);

  // Reads and writes after this fail with a timeout at `deadline` (connection set-up) ...
  void expires_at(std::chrono::steady_clock::time_point deadline);
  // ... or never (a ready connection: the client's commands keep their own deadlines).
  void expires_never();

  // Writes all of buffers.
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write(
      const std::vector<boost::asio::const_buffer>& buffers);
  // Reads what is there, at most buffer's size.
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
      boost::asio::mutable_buffer buffer);

  // False once closed.
  bool is_open() const noexcept;
  // True once close() was called (by the owner), as opposed to a connection that failed.
  bool closed_by_owner() const noexcept { return closed_; }
  // Closes the socket: what is in flight completes with an error at once. Idempotent.
  void close() noexcept;

 private:
  boost::beast::tcp_stream& lowest() noexcept;
  boost::asio::awaitable<std::optional<setup_error>> resolve(
      const url& server, std::chrono::steady_clock::time_point deadline,
      boost::asio::ip::tcp::resolver::results_type& out);

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer resolve_deadline_;
  std::unique_ptr<boost::beast::tcp_stream> plain_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  bool closed_ = false;
};

}  // namespace bridge::queue::redis
