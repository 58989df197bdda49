#include "queue/redis/session.hpp"

#include <boost/beast/core/error.hpp>
#include <vector>

#include "queue/redis/errc.hpp"
#include "queue/redis/request.hpp"

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

  stream.expires_at(deadline);
  const std::vector<asio::const_buffer> wire{asio::buffer(hello.wire())};
  if (auto [ec, n] = co_await stream.write(wire); ec) {
    co_return io_failure("sending the set-up commands", ec);
  }
  for (std::size_t answered = 0; answered < hello.size();) {
    auto next = replies.next();
    if (!next) co_return setup_error{next.error(), "set-up reply: " + replies.error_text()};
    if (!*next) {
      auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
      if (ec) co_return io_failure("reading the set-up replies", ec);
      replies.feed(buffer.data(), n);
      continue;
    }
    ++answered;
    const reply& r = **next;
    if (!r.is_error()) continue;
    // AUTH refused, or a password the server wants and we lack (NOAUTH on PING or SELECT).
    const bool auth = (sends_auth && answered == 1) || r.error_kind() == server_error::auth;
    co_return setup_error{make_error_code(auth ? errc::auth_failed : errc::setup_failed),
                          std::string(r.error_message())};
  }
  stream.expires_never();
  co_return std::nullopt;
}

}  // namespace bridge::queue::redis
