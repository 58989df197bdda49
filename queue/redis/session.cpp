#include "queue/redis/session.hpp"

#include <boost/beast/core/error.hpp>

#include "queue/redis/errc.hpp"

namespace bridge::queue::redis {

namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {

setup_error io_failure(const std::string& what, const error_code& ec) {
  const bool late = ec == boost::beast::error::timeout;
  return setup_error{make_error_code(late ? errc::timeout : errc::connection_lost),
                     what + (late ? " took too long" : ": " + ec.message())};
}

}  // namespace

awaitable<std::optional<setup_error>> session::open(
    const url& server, const std::string& password,
    std::chrono::steady_clock::time_point deadline) {
  if (auto failed = co_await stream.connect(server, deadline)) co_return failed;

  request hello;
  const bool sends_auth = !server.user.empty() || !password.empty();
  if (!server.user.empty()) {
    hello.push({"AUTH", server.user, password});
  } else if (sends_auth) {
    hello.push({"AUTH", password});
  }
  const std::string db = std::to_string(server.db);
  if (server.db != 0) hello.push({"SELECT", db});
  // Without either, PING: a connection is ready only once the server has answered on it.
  if (hello.empty()) hello.push({"PING"});

  std::vector<reply> answers;
  if (auto failed = co_await round_trip(hello, deadline, answers, "the set-up commands")) {
    co_return failed;
  }
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const reply& r = answers[i];
    if (!r.is_error()) continue;
    // AUTH refused, or a password the server wants and we lack (NOAUTH on PING or SELECT).
    const bool auth = (sends_auth && i == 0) || r.error_kind() == server_error::auth;
    co_return setup_error{make_error_code(auth ? errc::auth_failed : errc::setup_failed),
                          std::string(r.error_message())};
  }
  co_return std::nullopt;
}

awaitable<std::optional<setup_error>> session::round_trip(
    const request& req, std::chrono::steady_clock::time_point deadline,
    std::vector<reply>& replies_out, const std::string& what) {
  stream.expires_at(deadline);
  const std::vector<asio::const_buffer> wire{asio::buffer(req.wire())};
  if (auto [ec, n] = co_await stream.write(wire); ec) {
    co_return io_failure("sending " + what, ec);
  }
  replies_out.clear();
  while (replies_out.size() < req.size()) {
    reply r;
    if (auto failed = co_await next_reply(deadline, r, what)) co_return failed;
    replies_out.push_back(std::move(r));
  }
  stream.expires_never();
  co_return std::nullopt;
}

awaitable<std::optional<setup_error>> session::next_reply(
    std::chrono::steady_clock::time_point deadline, reply& out, const std::string& what) {
  // time_point::max(): a subscriber waiting for news, for as long as it takes.
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    stream.expires_never();
  } else {
    stream.expires_at(deadline);
  }
  for (;;) {
    auto next = replies.next();
    if (!next) co_return setup_error{next.error(), what + ": " + replies.error_text()};
    if (*next) {
      out = std::move(**next);
      stream.expires_never();
      co_return std::nullopt;
    }
    auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
    if (ec) co_return io_failure("reading the reply to " + what, ec);
    if (!replies.feed(buffer.data(), n)) {
      co_return setup_error{make_error_code(errc::protocol_error),
                            what + ": " + replies.error_text()};
    }
  }
}

}  // namespace bridge::queue::redis
