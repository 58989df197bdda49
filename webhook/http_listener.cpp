#include "webhook/http_listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "webhook/buffered_parse.hpp"
#include "webhook/http_errors.hpp"
#include "webhook/http_wire.hpp"

namespace bridge::webhook {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

struct http_listener::state {
  tcp::acceptor acceptor;
  std::shared_ptr<request_handler> handler;
  listener_limits limits;
  std::shared_ptr<asio::ssl::context> tls;
  std::size_t connections = 0;
  bool stopped = false;
  listener_counters counters;

  state(asio::any_io_executor executor, std::shared_ptr<request_handler> h, listener_limits l,
        std::shared_ptr<asio::ssl::context> t)
      : acceptor(executor), handler(std::move(h)), limits(l), tls(std::move(t)) {}
};

namespace {

// Counts a connection from its accept to the end of its coroutine, also when the coroutine is
// destroyed unfinished. Taken in the accept loop, so the cap holds however the loop is scheduled.
class connection_slot {
 public:
  explicit connection_slot(std::shared_ptr<http_listener::state> s) : state_(std::move(s)) {
    ++state_->connections;
  }
  ~connection_slot() {
    if (state_) --state_->connections;
  }
  connection_slot(connection_slot&&) = default;
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

 private:
  std::shared_ptr<http_listener::state> state_;
};

// Maps a failed request read to the answer it deserves; none for a timeout or a vanished peer.
std::optional<response> answer_for_read_error(const boost::system::error_code& ec) {
  if (ec == beast::http::error::body_limit) {
    return make_error_response(http::status::payload_too_large, "too_large",
                               "request body exceeds server.max_body_bytes", false);
  }
  if (ec == beast::http::error::header_limit) {
    return make_error_response(http::status::request_header_fields_too_large, "headers_too_large",
                               "request line and headers exceed the limit", false);
  }
  if (ec.category() == make_error_code(beast::http::error::bad_target).category()) {
    if (ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message) {
      return std::nullopt;
    }
    return make_error_response(http::status::bad_request, "bad_request", "malformed HTTP request",
                               false);
  }
  return std::nullopt;
}

// Checks what only the parsed header shows: the URL's length and the number of fields.
std::optional<response> answer_for_header(const request& req, const listener_limits& limits) {
  if (req.target().size() > limits.max_target_bytes) {
    return make_error_response(http::status::uri_too_long, "uri_too_long",
                               "request target exceeds the limit", false);
  }
  const auto fields = static_cast<std::size_t>(std::distance(req.begin(), req.end()));
  if (fields > limits.max_header_fields) {
    return make_error_response(http::status::request_header_fields_too_large, "too_many_headers",
                               "too many header fields", false);
  }
  return std::nullopt;
}

void count_refusal(listener_counters& counters, http::status status) {
  switch (status) {
    case http::status::payload_too_large:
      ++counters.too_large;
      break;
    case http::status::request_header_fields_too_large:
      ++counters.headers_too_large;
      break;
    case http::status::uri_too_long:
      ++counters.uri_too_long;
      break;
    default:
      ++counters.malformed;
  }
}

// Writes `res` as one buffer laid out in `wire`, which the connection reuses for every answer.
template <class Stream>
awaitable<boost::system::error_code> write_response(Stream& stream, const response& res,
                                                    std::string& wire) {
  wire.clear();
  append_wire_bytes(res, wire);
  auto [ec, written] = co_await asio::async_write(stream, asio::buffer(wire), as_tuple_awaitable);
  (void)written;
  co_return ec;
}

template <class Stream>
awaitable<void> serve_requests(Stream& stream, std::shared_ptr<http_listener::state> st) {
  beast::flat_buffer buffer;
  std::string wire;
  bool first = true;
  for (;;) {
    const listener_limits limits = st->limits;
    // Waiting for a request to begin may take idle_timeout between requests; once it has begun,
    // the whole request must arrive within read_timeout (a slow sender is cut off).
    if (buffer.size() == 0) {
      beast::get_lowest_layer(stream).expires_after(first ? limits.read_timeout
                                                          : limits.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_tuple_awaitable);
      if (ec) co_return;
      buffer.commit(n);
    }
    first = false;
    beast::get_lowest_layer(stream).expires_after(limits.read_timeout);

    http::request_parser<http::string_body> parser;
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // The header first: a request whose URL or header count is out of bounds is refused before
    // its body is read.
    boost::system::error_code header_ec = parse_buffered(parser, buffer);
    if (!header_ec && !parser.is_header_done()) {
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
      (void)n;
      header_ec = ec;
    }
    std::optional<response> refusal;
    if (header_ec) {
      refusal = answer_for_read_error(header_ec);
    } else {
      refusal = answer_for_header(parser.get(), limits);
    }
    if (!refusal && !header_ec) {
      parser.eager(true);
      boost::system::error_code read_ec = parse_buffered(parser, buffer);
      if (!read_ec && !parser.is_done()) {
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
        (void)n;
        read_ec = ec;
      }
      if (read_ec) {
        refusal = answer_for_read_error(read_ec);
        if (!refusal) co_return;
      }
    }
    if (refusal || header_ec) {
      if (refusal) {
        count_refusal(st->counters, refusal->result());
        co_await write_response(stream, *refusal, wire);
      }
      co_return;
    }

    request req = parser.release();
    response res;
    try {
      res = co_await st->handler->handle(req);
    } catch (const std::exception& e) {
      spdlog::error("request handler failed: {}", e.what());
      res = make_error_response(http::status::internal_server_error, "internal_error",
                                "the request could not be handled", false);
    }
    const bool keep_alive = req.keep_alive() && res.keep_alive() && !st->stopped;
    res.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(limits.read_timeout);
    const auto write_ec = co_await write_response(stream, res, wire);
    if (write_ec || !keep_alive) co_return;
  }
}

awaitable<void> run_plain(tcp::socket socket, std::shared_ptr<http_listener::state> st,
                          connection_slot /* held while the connection lives */) {
  beast::tcp_stream stream(std::move(socket));
  co_await serve_requests(stream, st);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> run_tls(tcp::socket socket, std::shared_ptr<http_listener::state> st,
                        std::shared_ptr<asio::ssl::context> tls,
                        connection_slot /* held while the connection lives */) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  beast::get_lowest_layer(stream).expires_after(st->limits.read_timeout);
  auto [hs_ec] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
  if (hs_ec) {
    spdlog::debug("TLS handshake failed: {}", hs_ec.message());
    co_return;
  }
  co_await serve_requests(stream, st);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  // A peer that vanishes without close_notify is routine; the connection is over either way.
  co_await stream.async_shutdown(as_tuple_awaitable);
}

awaitable<void> accept_loop(std::shared_ptr<http_listener::state> st) {
  for (;;) {
    auto [ec, socket] = co_await st->acceptor.async_accept(as_tuple_awaitable);
    if (st->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or a connection reset before accept: keep serving the others.
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    if (st->connections >= st->limits.max_connections) {
      ++st->counters.connections_refused;
      // Refusing costs one close; the peer retries later.
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto on_done = [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("connection ended by an error: {}", ex.what());
      }
    };
    if (st->tls) {
      asio::co_spawn(socket.get_executor(),
                     run_tls(std::move(socket), st, st->tls, connection_slot(st)), on_done);
    } else {
      asio::co_spawn(socket.get_executor(), run_plain(std::move(socket), st, connection_slot(st)),
                     on_done);
    }
  }
}

}  // namespace

http_listener::http_listener(asio::any_io_executor executor, const tcp::endpoint& endpoint,
                             std::shared_ptr<request_handler> handler, listener_limits limits,
                             std::shared_ptr<asio::ssl::context> tls)
    : state_(std::make_shared<state>(executor, std::move(handler), limits, std::move(tls))) {
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen(asio::socket_base::max_listen_connections);
}

http_listener::~http_listener() {
  stop();
}

tcp::endpoint http_listener::local_endpoint() const {
  return state_->acceptor.local_endpoint();
}

void http_listener::start() {
  asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_), asio::detached);
}

void http_listener::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

void http_listener::update(listener_limits limits, std::shared_ptr<asio::ssl::context> tls) {
  state_->limits = limits;
  if (tls) state_->tls = std::move(tls);
}

std::size_t http_listener::open_connections() const {
  return state_->connections;
}
const listener_counters& http_listener::counters() const {
  return state_->counters;
}

}  // namespace bridge::webhook
