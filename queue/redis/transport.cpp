#include "queue/redis/transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include "queue/redis/errc.hpp"

namespace bridge::queue::redis {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::string where(const url& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + server.host + "]" : server.host) + ":" + std::to_string(server.port);
}

setup_error failure(errc code, std::string detail) {
  return setup_error{make_error_code(code), std::move(detail)};
}

// Resolves nothing: cancels the resolver when the deadline passes (it takes no cancellation slot).
awaitable<void> cancel_at_deadline(asio::steady_timer& deadline, tcp::resolver& resolver) {
  auto [ec] = co_await deadline.async_wait(use_tuple);
  if (!ec) resolver.cancel();
}

}  // namespace

transport::transport(const asio::any_io_executor& executor, asio::ssl::context* tls)
    : resolver_(executor), resolve_deadline_(executor) {
  if (tls != nullptr) {
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, *tls);
  } else {
    plain_ = std::make_unique<beast::tcp_stream>(executor);
  }
}

beast::tcp_stream& transport::lowest() noexcept {
  return plain_ ? *plain_ : beast::get_lowest_layer(*tls_);
}

awaitable<std::optional<setup_error>> transport::resolve(const url& server,
                                                         clock_type::time_point deadline,
                                                         tcp::resolver::results_type& out) {
  const std::string port = std::to_string(server.port);
  error_code not_address;
  const asio::ip::address address = asio::ip::make_address(server.host, not_address);
  if (!not_address) {
    out =
        tcp::resolver::results_type::create(tcp::endpoint(address, server.port), server.host, port);
    co_return std::nullopt;
  }
  using namespace asio::experimental::awaitable_operators;
  resolve_deadline_.expires_at(deadline);
  auto outcome = co_await (resolver_.async_resolve(server.host, port, use_tuple) ||
                           cancel_at_deadline(resolve_deadline_, resolver_));
  if (outcome.index() == 1) {
    co_return failure(errc::timeout, "resolving " + server.host + " took too long");
  }
  auto& [ec, results] = std::get<0>(outcome);
  if (ec)
    co_return failure(errc::connection_refused, "resolving " + server.host + ": " + ec.message());
  out = std::move(results);
  co_return std::nullopt;
}

awaitable<std::optional<setup_error>> transport::connect(const url& server,
                                                         clock_type::time_point deadline) {
  tcp::resolver::results_type endpoints;
  if (auto failed = co_await resolve(server, deadline, endpoints)) co_return failed;
  // close() during the lookup: connecting would open a fresh socket.
  if (closed_) co_return failure(errc::closed, "closed while connecting");

  beast::tcp_stream& low = lowest();
  low.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await low.async_connect(endpoints, use_tuple);
  (void)endpoint;
  if (connect_ec == beast::error::timeout) {
    co_return failure(errc::timeout, "connecting to " + where(server) + " took too long");
  }
  if (connect_ec) {
    co_return failure(errc::connection_refused,
                      "connecting to " + where(server) + ": " + connect_ec.message());
  }
  error_code ignored;
  low.socket().set_option(tcp::no_delay(true), ignored);
  low.socket().set_option(asio::socket_base::keep_alive(true), ignored);
  if (!tls_) co_return std::nullopt;

  SSL* ssl = tls_->native_handle();
  // SNI carries names only (RFC 6066); an address is verified against the certificate's IP SANs.
  error_code is_name;
  asio::ip::make_address(server.host, is_name);
  if (is_name && !SSL_set_tlsext_host_name(ssl, server.host.c_str())) {
    co_return failure(errc::tls_failed, "cannot set SNI for " + server.host);
  }
  tls_->set_verify_callback(asio::ssl::host_name_verification(server.host));
  low.expires_at(deadline);
  auto [handshake_ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (handshake_ec == beast::error::timeout) {
    co_return failure(errc::timeout, "TLS handshake with " + where(server) + " took too long");
  }
  if (handshake_ec) {
    std::string detail = "TLS handshake with " + where(server) + ": " + handshake_ec.message();
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
      detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    co_return failure(errc::tls_failed, std::move(detail));
  }
  co_return std::nullopt;
}

void transport::expires_at(clock_type::time_point deadline) {
  lowest().expires_at(deadline);
}

void transport::expires_never() {
  lowest().expires_never();
}

awaitable<std::tuple<error_code, std::size_t>> transport::write(
    const std::vector<asio::const_buffer>& buffers) {
  if (plain_) co_return co_await asio::async_write(*plain_, buffers, use_tuple);
  co_return co_await asio::async_write(*tls_, buffers, use_tuple);
}

awaitable<std::tuple<error_code, std::size_t>> transport::read_some(asio::mutable_buffer buffer) {
  if (plain_) co_return co_await plain_->async_read_some(buffer, use_tuple);
  co_return co_await tls_->async_read_some(buffer, use_tuple);
}

bool transport::is_open() const noexcept {
  const beast::tcp_stream& low = plain_ ? *plain_ : beast::get_lowest_layer(*tls_);
  return !closed_ && low.socket().is_open();
}

void transport::close() noexcept {
  closed_ = true;
  resolver_.cancel();
  resolve_deadline_.cancel();
  lowest().close();
}

}  // namespace bridge::queue::redis
