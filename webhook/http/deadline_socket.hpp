#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "webhook/http/lazy_deadline.hpp"

namespace bridge::webhook::http {

namespace detail {

// What a deadline_socket shares with its pending operations.
struct deadline_state {
  deadline_state(boost::asio::ip::tcp::socket s, std::chrono::steady_clock::duration every);
  // The deadline passed: what is pending ends now, what starts later fails.
  void on_deadline_passed();

  boost::asio::ip::tcp::socket socket;
  lazy_deadline deadline;  // calls on_deadline_passed (this state owns it: never after it went)
  unsigned pending = 0;    // reads and writes started and not completed
  bool timed_out = false;  // the deadline passed: the socket is (or will be) closed
};

// Completes one read or write: counts it done and reports a timeout as beast::tcp_stream does.
template <class Handler>
struct counted_handler {
  std::shared_ptr<deadline_state> state;
  Handler handler;

  void operator()(boost::system::error_code ec, std::size_t bytes) {
    --state->pending;
    if (ec && state->timed_out) ec = boost::beast::error::timeout;
    std::move(handler)(ec, bytes);
  }
};

}  // namespace detail

// A TCP stream whose reads and writes run under one deadline, as beast::tcp_stream's do: a read or
// write pending when the deadline passes, or started after it, ends with beast::error::timeout and
// the socket is closed; expires_after() sets a new deadline. Unlike beast::tcp_stream, it does not
// arm a timer around every read and write (a timer wait scheduled, then cancelled and completed as
// aborted: three trips through the timer queue and one through the scheduler per operation,
// twice per request; BENCHMARKS.md). Its deadline is a lazy_deadline: one timer per connection
// wakes at the deadline, or after `check_every` (the shortest timeout the connection will be
// given) when that is sooner, and re-arms itself for a deadline that has moved on; so setting a
// deadline is a store, not a timer operation, unless it is shorter than any set before. One
// executor, like any Asio socket.
class deadline_socket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using clock = std::chrono::steady_clock;
  // For asio::ssl::stream, which looks for the socket below it under this name.
  using lowest_layer_type = boost::asio::ip::tcp::socket;

  deadline_socket(boost::asio::ip::tcp::socket socket, clock::duration check_every);
  // Closes the socket (ending what is pending) and stops the timer.
  ~deadline_socket();
  deadline_socket(deadline_socket&&) noexcept = default;
  deadline_socket& operator=(deadline_socket&&) = delete;
  deadline_socket(const deadline_socket&) = delete;
  deadline_socket& operator=(const deadline_socket&) = delete;

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  boost::asio::ip::tcp::socket& socket() noexcept { return state_->socket; }
  lowest_layer_type& lowest_layer() noexcept { return state_->socket; }

  // Reads and writes pending or started from now fail with beast::error::timeout once `timeout`
  // has passed (and no later expires_after came first).
  void expires_after(clock::duration timeout);
  // The same with the deadline as a time (a call's deadline shared by its steps).
  void expires_at(clock::time_point deadline);

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        [](auto handler, const std::shared_ptr<detail::deadline_state>& s,
           const MutableBufferSequence& b) {
          if (s->timed_out) return fail(*s, std::move(handler));
          ++s->pending;
          s->socket.async_read_some(
              b, detail::counted_handler<std::decay_t<decltype(handler)>>{s, std::move(handler)});
        },
        token, state_, buffers);
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        [](auto handler, const std::shared_ptr<detail::deadline_state>& s,
           const ConstBufferSequence& b) {
          if (s->timed_out) return fail(*s, std::move(handler));
          ++s->pending;
          s->socket.async_write_some(
              b, detail::counted_handler<std::decay_t<decltype(handler)>>{s, std::move(handler)});
        },
        token, state_, buffers);
  }

 private:
  // An operation started after the deadline: closes the socket and completes with a timeout.
  template <class Handler>
  static void fail(detail::deadline_state& s, Handler handler) {
    boost::system::error_code ignored;
    s.socket.close(ignored);
    const auto executor = boost::asio::get_associated_executor(handler, s.socket.get_executor());
    boost::asio::post(
        executor,
        boost::asio::append(std::move(handler), make_error_code(boost::beast::error::timeout), 0));
  }

  std::shared_ptr<detail::deadline_state> state_;  // null only after a move
};

}  // namespace bridge::webhook::http

// A counted handler runs where, and allocates as, the handler it wraps.
template <template <typename, typename> class Associator, typename Handler,
          typename DefaultCandidate>
struct boost::asio::associator<Associator, bridge::webhook::http::detail::counted_handler<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const bridge::webhook::http::detail::counted_handler<Handler>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  static auto get(const bridge::webhook::http::detail::counted_handler<Handler>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};
