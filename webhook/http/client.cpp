#include "webhook/http/client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <unordered_map>
#include <vector>

#include "webhook/http/buffered_parse.hpp"
#include "webhook/http/deadline_socket.hpp"
#include "webhook/http/wire.hpp"

namespace bridge::webhook::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string upstream_origin::key() const {
  return (tls ? "https://" : "http://") + host + ":" + port;
}

boost::system::result<upstream_origin> parse_base_url(std::string_view url) {
  upstream_origin origin;
  if (url.starts_with("https://")) {
    url.remove_prefix(8);
    origin.tls = true;
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
    origin.tls = false;
  } else {
    return make_error_code(std::errc::invalid_argument);
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  origin.base_path = std::string(path);

  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return make_error_code(std::errc::invalid_argument);
    origin.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error_code(std::errc::invalid_argument);
      port = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    origin.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (origin.host.empty()) return make_error_code(std::errc::invalid_argument);
  if (port.empty()) {
    origin.port = origin.tls ? "443" : "80";
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return make_error_code(std::errc::invalid_argument);
    }
    origin.port = std::string(port);
  }
  return origin;
}

namespace {

// A connection's deadline is its call's, set before each step: with deadline_socket that is a
// store, where beast::tcp_stream arms and cancels a timer around every read and write (four per
// exchange; BENCHMARKS.md). Its one timer wakes at the deadline it was armed for and re-arms for a
// later one from there, at most this far ahead (any call's timeout is shorter).
constexpr std::chrono::hours longest_wake{1};

// One kept-alive connection to an origin, plain or TLS.
struct connection {
  std::unique_ptr<deadline_socket> plain;
  std::unique_ptr<beast::ssl_stream<deadline_socket>> tls;
  beast::flat_buffer buffer;
  std::string wire;  // the request being sent, laid out once (webhook/http_wire.hpp)
  clock_type::time_point idle_since;

  deadline_socket& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

// The first read of an answer asks for as much room as the connection's buffer already has, and
// at least this much: a Graph answer fits, a longer Robofy answer grows the buffer once. Each
// kept-alive connection holds its buffer, so a large fixed size would cost memory per connection
// (10,000 conversations in flight keep ~10,000 connections).
constexpr std::size_t first_read_bytes = 1024;

template <class Stream>
awaitable<error_code> exchange_on(Stream& stream, connection& conn, webhook::http::request& req,
                                  webhook::http::response& res, clock_type::time_point deadline,
                                  std::size_t max_response_bytes) {
  conn.lowest().expires_at(deadline);
  conn.wire.clear();
  webhook::http::append_wire_bytes(req, conn.wire);
  auto [write_ec, written] =
      co_await asio::async_write(stream, asio::buffer(conn.wire), as_tuple_awaitable);
  (void)written;
  if (write_ec) co_return write_ec;
  beast::http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  parser.eager(true);
  conn.lowest().expires_at(deadline);
  // One plain read, then the parser takes what came (usually the whole answer); Beast's composed
  // read only for the rest.
  if (conn.buffer.size() == 0) {
    const std::size_t room = std::max(conn.buffer.capacity(), first_read_bytes);
    auto [ec, n] = co_await stream.async_read_some(conn.buffer.prepare(room), as_tuple_awaitable);
    if (ec) co_return ec;
    conn.buffer.commit(n);
  }
  if (error_code ec = webhook::http::parse_buffered(parser, conn.buffer)) co_return ec;
  if (!parser.is_done()) {
    auto [read_ec, read] =
        co_await beast::http::async_read(stream, conn.buffer, parser, as_tuple_awaitable);
    (void)read;
    if (read_ec) co_return read_ec;
  }
  res = parser.release();
  co_return error_code{};
}

class pooled_http_client final : public http_client {
 public:
  pooled_http_client(asio::any_io_executor executor, http_client_options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        tls_context_(asio::ssl::context::tls_client) {
    if (!options_.extra_ca_file.empty()) tls_context_.load_verify_file(options_.extra_ca_file);
    tls_context_.set_verify_mode(asio::ssl::verify_peer);
    tls_context_.set_options(asio::ssl::context::default_workarounds |
                             asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                             asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  }

  awaitable<boost::system::result<webhook::http::response>> send(
      const upstream_origin& origin, webhook::http::request req,
      std::chrono::milliseconds timeout) override {
    const auto deadline = clock_type::now() + timeout;
    prepare(origin, req);
    const std::string key = origin.key();
    // A kept-alive connection may have been closed by the server while idle; that shows only
    // when it is used, so one failure on a reused connection earns one try on a fresh one.
    for (;;) {
      std::unique_ptr<connection> conn = take_idle(key);
      const bool reused = conn != nullptr;
      if (!conn) {
        auto made = co_await connect(origin, deadline);
        if (!made) co_return made.error();
        conn = std::move(*made);
      }
      webhook::http::response res;
      error_code ec = conn->plain ? co_await exchange_on(*conn->plain, *conn, req, res, deadline,
                                                         options_.max_response_bytes)
                                  : co_await exchange_on(*conn->tls, *conn, req, res, deadline,
                                                         options_.max_response_bytes);
      if (!ec) {
        if (conn->tls) remember_session(key, *conn->tls);
        if (res.keep_alive()) give_back(key, std::move(conn));
        co_return res;
      }
      if (reused && ec != beast::error::timeout && clock_type::now() < deadline) continue;
      co_return ec;
    }
  }

 private:
  void prepare(const upstream_origin& origin, webhook::http::request& req) const {
    req.target(origin.base_path + std::string(req.target()));
    const bool default_port = origin.port == (origin.tls ? "443" : "80");
    const bool ipv6 = origin.host.find(':') != std::string::npos;
    std::string host = ipv6 ? "[" + origin.host + "]" : origin.host;
    if (!default_port) host += ":" + origin.port;
    req.set(http::field::host, host);
    req.set(http::field::user_agent, options_.user_agent);
    req.keep_alive(true);
    req.prepare_payload();
  }

  awaitable<boost::system::result<std::unique_ptr<connection>>> connect(
      const upstream_origin& origin, clock_type::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    tcp::resolver resolver(executor_);
    asio::steady_timer timer(executor_, deadline);
    // The resolver has no deadline of its own; race it against the call's.
    auto resolved =
        co_await (resolver.async_resolve(origin.host, origin.port, as_tuple_awaitable) ||
                  timer.async_wait(as_tuple_awaitable));
    if (resolved.index() == 1) co_return make_error_code(beast::error::timeout);
    auto [resolve_ec, endpoints] = std::get<0>(resolved);
    if (resolve_ec) co_return resolve_ec;

    beast::tcp_stream stream(executor_);
    stream.expires_at(deadline);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, as_tuple_awaitable);
    (void)endpoint;
    if (connect_ec) co_return connect_ec;
    error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);

    auto conn = std::make_unique<connection>();
    deadline_socket socket(stream.release_socket(), longest_wake);
    if (!origin.tls) {
      conn->plain = std::make_unique<deadline_socket>(std::move(socket));
      co_return conn;
    }
    if (error_code roots_ec = load_system_roots_once()) co_return roots_ec;
    conn->tls =
        std::make_unique<beast::ssl_stream<deadline_socket>>(std::move(socket), tls_context_);
    SSL* ssl = conn->tls->native_handle();
    // SNI, so a host behind a shared address presents the right certificate.
    if (!SSL_set_tlsext_host_name(ssl, origin.host.c_str())) {
      co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    }
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(origin.host));
    if (auto it = sessions_.find(origin.key()); it != sessions_.end()) {
      SSL_set_session(ssl, it->second.get());
    }
    conn->lowest().expires_at(deadline);
    auto [handshake_ec] =
        co_await conn->tls->async_handshake(asio::ssl::stream_base::client, as_tuple_awaitable);
    if (handshake_ec) co_return handshake_ec;
    co_return conn;
  }

  // The system's CA roots are parsed on the first TLS connection, not at start: parsing the
  // bundle (~140 certificates) was 40% of start-up's instructions and most of the idle memory's
  // growth, and a bridge whose upstreams are all plain HTTP (the simulator, tests) never needs it.
  error_code load_system_roots_once() {
    error_code ec;
    if (system_roots_loaded_) return ec;
    tls_context_.set_default_verify_paths(ec);
    system_roots_loaded_ = !ec;
    return ec;
  }

  std::unique_ptr<connection> take_idle(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& pool = it->second;
    const auto now = clock_type::now();
    while (!pool.empty()) {
      std::unique_ptr<connection> conn = std::move(pool.back());
      pool.pop_back();
      if (now - conn->idle_since < options_.max_idle_time) return conn;
    }
    return nullptr;
  }

  void give_back(const std::string& key, std::unique_ptr<connection> conn) {
    auto& pool = idle_[key];
    if (pool.size() >= options_.max_idle_per_origin) return;
    conn->idle_since = clock_type::now();
    pool.push_back(std::move(conn));
  }

  void remember_session(const std::string& key, beast::ssl_stream<deadline_socket>& stream) {
    SSL_SESSION* session = SSL_get1_session(stream.native_handle());
    if (session == nullptr) return;
    if (!SSL_SESSION_is_resumable(session)) {
      SSL_SESSION_free(session);
      return;
    }
    sessions_[key] = std::shared_ptr<SSL_SESSION>(session, SSL_SESSION_free);
  }

  asio::any_io_executor executor_;
  http_client_options options_;
  asio::ssl::context tls_context_;
  bool system_roots_loaded_ = false;
  std::unordered_map<std::string, std::vector<std::unique_ptr<connection>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<SSL_SESSION>> sessions_;
};

}  // namespace

std::shared_ptr<http_client> make_http_client(asio::any_io_executor executor,
                                              http_client_options options) {
  return std::make_shared<pooled_http_client>(std::move(executor), std::move(options));
}

}  // namespace bridge::webhook::http
