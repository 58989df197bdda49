#include "webhook/http/listener.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "webhook/http/buffered_parse.hpp"
#include "webhook/http/deadline_socket.hpp"
#include "webhook/http/errors.hpp"
#include "webhook/http/handler_watch.hpp"
#include "webhook/http/idle_connections.hpp"
#include "webhook/http/request_checks.hpp"
#include "webhook/http/wire.hpp"
#include "webhook/util/log_throttle.hpp"

namespace bridge::webhook::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

namespace {
// Out of file descriptors with nothing to shed: wait this long before accepting again, instead
// of spinning on an accept that fails at once.
constexpr std::chrono::milliseconds accept_pause_when_exhausted{100};
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
// The most one read of a request body takes at once.
constexpr std::size_t max_body_read = 64 * 1024;
// Spare capacity reserved after a body of known length: a parser that reads past the end (simdjson
// wants 64 padding bytes) appends them without moving the body. Without it, every delivery's
// body was copied once more into a larger block (~4 % of the ingress path's CPU).
constexpr std::size_t body_spare_bytes = 64;
// A connection keeps its last request body's memory for the next request, up to this capacity:
// a delivery's body (1-3 KB) is then neither allocated nor freed per request (blocks over 1 KB
// miss malloc's per-thread cache and cost it a search of its bins). A larger body's block is
// freed, so an idle connection pins no more than this.
constexpr std::size_t kept_body_capacity = 4096;
}  // namespace

struct http_listener::state {
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;
  std::shared_ptr<request_handler> handler;
  listener_limits limits;
  std::shared_ptr<asio::ssl::context> tls;
  std::size_t connections = 0;
  bool stopped = false;
  listener_counters counters;
  idle_connections idle;
  util::log_throttle accept_errors;
  util::log_throttle handler_timeouts;

  state(asio::any_io_executor executor, std::shared_ptr<request_handler> h, listener_limits l,
        std::shared_ptr<asio::ssl::context> t)
      : acceptor(executor),
        accept_pause(executor),
        handler(std::move(h)),
        limits(l),
        tls(std::move(t)) {}
};

namespace {

using listener_state = http_listener::state;

// Counts a connection from its accept to the end of its coroutine, also when the coroutine is
// destroyed unfinished. Taken in the accept loop, so the cap holds however the loop is scheduled.
class connection_slot {
 public:
  explicit connection_slot(std::shared_ptr<listener_state> s) : state_(std::move(s)) {
    ++state_->connections;
  }
  ~connection_slot() {
    if (state_) --state_->connections;
  }
  connection_slot(connection_slot&&) = default;
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

 private:
  std::shared_ptr<listener_state> state_;
};

// Body bytes counted against max_inflight_body_bytes from a request's header until it has been
// answered (its body is held that long).
class body_reservation {
 public:
  explicit body_reservation(listener_state& st) : state_(st) {}
  ~body_reservation() { state_.counters.inflight_body_bytes -= bytes_; }
  body_reservation(const body_reservation&) = delete;
  body_reservation& operator=(const body_reservation&) = delete;

  // Reserves `bytes` more; false, and nothing reserved, when the budget would be exceeded.
  bool take(std::uint64_t bytes) {
    const std::uint64_t in_use = state_.counters.inflight_body_bytes;
    if (bytes > state_.limits.max_inflight_body_bytes -
                    std::min<std::uint64_t>(in_use, state_.limits.max_inflight_body_bytes)) {
      return false;
    }
    state_.counters.inflight_body_bytes += bytes;
    bytes_ += bytes;
    return true;
  }

 private:
  listener_state& state_;
  std::uint64_t bytes_ = 0;
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

response over_budget_answer() {
  auto res = make_error_response(http::status::service_unavailable, "busy",
                                 "too many request bodies are being received; retry later", false);
  res.set(http::field::retry_after, "1");
  return res;
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
    case http::status::service_unavailable:
      ++counters.bodies_over_budget;
      break;
    default:
      ++counters.malformed;
  }
}

// Writes `res` as one buffer laid out in `wire`, which the connection reuses for every answer;
// the answer to a HEAD request is the header alone (its Content-Length still tells the size).
template <class Stream>
awaitable<boost::system::error_code> write_response(Stream& stream, const response& res,
                                                    std::string& wire, bool header_only) {
  wire.clear();
  append_wire_bytes(res, wire);
  if (header_only) wire.resize(wire.size() - res.body().size());
  auto [ec, written] = co_await asio::async_write(stream, asio::buffer(wire), as_tuple_awaitable);
  (void)written;
  co_return ec;
}

// Closes a connection that is being shed to make room.
template <class Stream>
std::function<void()> closer_of(Stream& stream) {
  return [&stream] {
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
  };
}

// Waits for the first bytes of the next request. An untrusted connection waits briefly and may
// be shed meanwhile; a trusted one waits idle_timeout. False when the connection is over.
template <class Stream>
awaitable<bool> wait_for_request(Stream& stream, beast::flat_buffer& buffer, listener_state& st,
                                 bool first, bool trusted) {
  const listener_limits& limits = st.limits;
  const auto patience = first ? limits.read_timeout : limits.idle_timeout;
  beast::get_lowest_layer(stream).expires_after(
      trusted ? patience : std::min(patience, limits.untrusted_idle_timeout));
  std::optional<idle_connections::listing> listed;
  if (!trusted) listed.emplace(st.idle, closer_of(stream));
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_tuple_awaitable);
  if (ec) co_return false;
  buffer.commit(n);
  co_return true;
}

// A request read whole, or the answer refusing it (the connection closes after it), or neither
// when the peer went away or was too slow.
struct read_result {
  std::optional<request> req;
  std::unique_ptr<body_observer> observer;  // what saw the body arrive, if the handler asked
  std::optional<response> refusal;
};

// Reads the header, checks it, reserves the body's bytes, then reads the body (into `kept_body`'s
// memory, which it takes) while the handler's observer sees it arrive.
template <class Stream>
awaitable<read_result> read_request(Stream& stream, beast::flat_buffer& buffer, listener_state& st,
                                    body_reservation& reservation, std::string& kept_body) {
  const listener_limits limits = st.limits;
  read_result out;
  beast::http::request_parser<http::string_body> parser;
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  boost::system::error_code ec = parse_buffered(parser, buffer);
  if (!ec && !parser.is_header_done()) {
    auto [read_ec, n] =
        co_await beast::http::async_read_header(stream, buffer, parser, as_tuple_awaitable);
    (void)n;
    ec = read_ec;
  }
  if (ec) {
    out.refusal = answer_for_read_error(ec);
    co_return out;
  }
  out.refusal =
      refusal_for_header(parser.get(), {limits.max_target_bytes, limits.max_header_fields});
  if (out.refusal) co_return out;
  // A chunked body's size is unknown until its end: reserve the most it may be.
  if (!reservation.take(
          parser.content_length().value_or(parser.chunked() ? limits.max_body_bytes : 0))) {
    out.refusal = over_budget_answer();
    co_return out;
  }
  // Reserved before Beast sizes the body to exactly its length (a larger capacity is kept).
  parser.get().body().swap(kept_body);  // empty, with the memory of an earlier body
  if (const auto length = parser.content_length()) {
    parser.get().body().reserve(*length + body_spare_bytes);
  }
  out.observer = st.handler->observe_body(parser.get());
  if (expects_continue(parser.get()) && !parser.is_done()) {
    auto [write_ec, n] =
        co_await asio::async_write(stream, asio::buffer(continue_line), as_tuple_awaitable);
    (void)n;
    if (write_ec) co_return out;
  }

  parser.eager(true);
  std::size_t observed = 0;
  const auto show_new_bytes = [&] {
    const std::string& body = parser.get().body();
    if (out.observer && body.size() > observed) {
      out.observer->on_body(std::string_view(body).substr(observed));
    }
    observed = body.size();
  };
  ec = parse_buffered(parser, buffer);
  show_new_bytes();
  while (!ec && !parser.is_done()) {
    // Read and parse by hand: Beast's composed read keeps reading while the parser wants more,
    // which a chunked body does after every chunk, so its observer would see it only at its end.
    auto [read_ec, n] = co_await stream.async_read_some(
        buffer.prepare(beast::read_size(buffer, max_body_read)), as_tuple_awaitable);
    if (read_ec) {
      ec = read_ec;
      break;
    }
    buffer.commit(n);
    ec = parse_buffered(parser, buffer);
    show_new_bytes();
  }
  if (ec) {
    out.refusal = answer_for_read_error(ec);
    co_return out;
  }
  out.req = parser.release();
  co_return out;
}

// Ends a connection politely: plain TCP sends FIN, TLS sends close_notify (and waits briefly
// for the peer's, as a peer that vanishes without one is routine).
awaitable<void> close_politely(deadline_socket& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  co_return;
}
awaitable<void> close_politely(beast::ssl_stream<deadline_socket>& stream) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(as_tuple_awaitable);
}

// A connection whose request was answered 2xx (its sender knows the app secret or the verify
// token) keeps OpenSSL's record buffers between requests. Asio asks OpenSSL to free them once a
// record is done (SSL_MODE_RELEASE_BUFFERS), so every request of a kept-alive TLS connection
// allocated and freed them again (~17 KB each way; malloc was 11 % of the CPU of a TLS request).
// Untrusted connections keep Asio's setting: up to max_connections of them may be open at once.
void keep_record_buffers(deadline_socket&) {}
void keep_record_buffers(beast::ssl_stream<deadline_socket>& stream) {
  SSL_clear_mode(stream.native_handle(), SSL_MODE_RELEASE_BUFFERS);
}

// The answer to a request whose handler outlived handler_timeout (a stalled disk or Redis),
// written while the handler runs on in the connection's coroutine: 503 with Retry-After, then the
// connection is closed. The handler is never cancelled half-way (it may be between a journal
// write and its commit); the connection waits for it to end before it ends itself.
template <class Stream>
awaitable<void> write_late_answer(Stream& stream, std::shared_ptr<listener_state> st,
                                  handler_watch& watch) {
  const auto limit = st->limits.handler_timeout;
  ++st->counters.handler_timeouts;
  if (const auto held_back = st->handler_timeouts.admit()) {
    spdlog::warn(
        "a request took longer than {} ms to handle: answered 503 ({} more since the "
        "last such line)",
        limit.count(), *held_back);
  }
  auto res = make_error_response(http::status::service_unavailable, "handler_timeout",
                                 "the request could not be handled in time; retry", false);
  res.set(http::field::retry_after, "1");
  beast::get_lowest_layer(stream).expires_after(st->limits.read_timeout);
  std::string wire;
  if (!co_await write_response(stream, res, wire, false)) co_await close_politely(stream);
  watch.late_answer_done();
}

// Starts the late answer of a connection's watch (write_late_answer) in a coroutine of its own.
template <class Stream>
std::function<void()> late_answer_starter(Stream& stream, const std::shared_ptr<listener_state>& st,
                                          handler_watch& watch) {
  return [&stream, weak = std::weak_ptr<listener_state>(st), &watch] {
    auto state = weak.lock();
    if (!state) return watch.late_answer_done();
    // Only a writer that threw has not said it is done; one that returned has, and the
    // connection (and its watch) may be gone by the time this completion runs.
    asio::co_spawn(stream.get_executor(), write_late_answer(stream, std::move(state), watch),
                   [&watch](std::exception_ptr e) {
                     if (e) watch.late_answer_done();
                   });
  };
}

// One connection: wait for a request, read it, answer it, until either side is done. True when
// the connection was already closed politely (after a late answer).
template <class Stream>
awaitable<bool> serve_requests(Stream& stream, std::shared_ptr<listener_state> st,
                               handler_watch& watch) {
  beast::flat_buffer buffer;
  std::string wire;
  std::string kept_body;  // the memory of the last request's body, for the next one
  bool first = true;
  bool trusted = false;
  for (;;) {
    if (buffer.size() == 0 && !co_await wait_for_request(stream, buffer, *st, first, trusted)) {
      co_return false;
    }
    first = false;
    beast::get_lowest_layer(stream).expires_after(st->limits.read_timeout);
    body_reservation reservation(*st);
    read_result in = co_await read_request(stream, buffer, *st, reservation, kept_body);
    if (!in.req) {
      if (in.refusal) {
        count_refusal(st->counters, in.refusal->result());
        co_await write_response(stream, *in.refusal, wire, false);
      }
      co_return false;
    }

    const bool client_keeps_alive = in.req->keep_alive();
    const bool head = in.req->method() == http::verb::head;
    watch.begin(st->limits.handler_timeout);
    response res;
    try {  // in place: a coroutine of its own would cost a frame per request
      res = co_await st->handler->handle_observed(*in.req, std::move(in.observer));
    } catch (const std::exception& e) {
      spdlog::error("request handler failed: {}", e.what());
      res = make_error_response(http::status::internal_server_error, "internal_error",
                                "the request could not be handled", false);
    }
    if (watch.end()) {  // a 503 went out instead
      co_await watch.late_answer_written();
      co_return true;
    }
    const unsigned status = res.result_int();
    if (status >= 200 && status < 300 && st->limits.trust_after_success && !trusted) {
      trusted = true;
      keep_record_buffers(stream);
    }
    // A refused request (wrong signature, unknown path, bad JSON) ends its connection, so a
    // client cannot hold a connection by sending one refused request per idle timeout.
    const bool refused = status >= 400 && status < 500;
    const bool keep_alive = client_keeps_alive && res.keep_alive() && !refused && !st->stopped;
    res.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(st->limits.read_timeout);
    const auto write_ec = co_await write_response(stream, res, wire, head);
    if (write_ec || !keep_alive) co_return false;
    if (std::string& body = in.req->body(); body.capacity() <= kept_body_capacity) {
      body.clear();
      kept_body.swap(body);
    }
  }
}

// How often a connection's timer may wake to re-check a deadline that moved on: the shortest
// timeout it is given, so setting a deadline (twice per request) rarely touches the timer.
std::chrono::steady_clock::duration check_every(const listener_limits& limits) {
  return std::min({limits.read_timeout, limits.idle_timeout, limits.untrusted_idle_timeout});
}

awaitable<void> run_plain(tcp::socket socket, std::shared_ptr<listener_state> st,
                          connection_slot /* held while the connection lives */) {
  deadline_socket stream(std::move(socket), check_every(st->limits));
  handler_watch watch(stream.get_executor(), late_answer_starter(stream, st, watch));
  if (!co_await serve_requests(stream, st, watch)) co_await close_politely(stream);
}

awaitable<void> run_tls(tcp::socket socket, std::shared_ptr<listener_state> st,
                        std::shared_ptr<asio::ssl::context> tls,
                        connection_slot /* held while the connection lives */) {
  beast::ssl_stream<deadline_socket> stream(
      deadline_socket(std::move(socket), check_every(st->limits)), *tls);
  beast::get_lowest_layer(stream).expires_after(
      std::min(st->limits.read_timeout, st->limits.untrusted_idle_timeout));
  {
    // Nothing is known of a peer in its handshake: it may be shed to make room.
    idle_connections::listing listed(st->idle, closer_of(stream));
    auto [hs_ec] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, as_tuple_awaitable);
    if (hs_ec) {
      spdlog::debug("TLS handshake failed: {}", hs_ec.message());
      co_return;
    }
  }
  handler_watch watch(stream.get_executor(), late_answer_starter(stream, st, watch));
  if (!co_await serve_requests(stream, st, watch)) co_await close_politely(stream);
}

// Closes the idle untrusted connection that waited longest; false when there is none.
bool make_room(listener_state& st) {
  if (!st.idle.close_oldest()) return false;
  ++st.counters.connections_shed;
  return true;
}

// After a failed accept: out of file descriptors, shed an idle untrusted connection (its
// descriptor is free at once) or pause briefly, and report once per interval with a count;
// anything else (a peer that reset before accept) is only reported.
awaitable<void> recover_from_accept_error(listener_state& st, const boost::system::error_code& ec) {
  const bool out_of_descriptors =
      ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system;
  if (out_of_descriptors) ++st.counters.descriptors_exhausted;
  if (const auto held_back = st.accept_errors.admit()) {
    spdlog::error(
        "accept failed: {} ({} more since the last report){}", ec.message(), *held_back,
        out_of_descriptors ? "; closing idle untrusted connections, pausing accepts" : "");
  }
  if (!out_of_descriptors || make_room(st)) co_return;
  st.accept_pause.expires_after(accept_pause_when_exhausted);
  co_await st.accept_pause.async_wait(as_tuple_awaitable);
}

void log_failure(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{} ended by an error: {}", what, ex.what());
  }
}

awaitable<void> accept_loop(std::shared_ptr<listener_state> st) {
  for (;;) {
    auto [ec, socket] = co_await st->acceptor.async_accept(as_tuple_awaitable);
    if (st->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      co_await recover_from_accept_error(*st, ec);
      continue;
    }
    if (st->connections >= st->limits.max_connections && !make_room(*st)) {
      ++st->counters.connections_refused;
      // Refusing costs one close; the peer retries later.
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    const auto on_done = [](std::exception_ptr e) { log_failure("connection", e); };
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
  asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                 [](std::exception_ptr e) { log_failure("accept loop", e); });
}

void http_listener::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  state_->accept_pause.cancel();
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

}  // namespace bridge::webhook::http
