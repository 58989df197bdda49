#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "queue/redis/reply.hpp"
#include "queue/redis/reply_reader.hpp"
#include "queue/redis/request.hpp"
#include "queue/redis/transport.hpp"
#include "queue/redis/url.hpp"

namespace bridge::queue::redis {

// One connection to a server: its stream, its reply parser and its read buffer, made fresh for
// each attempt. Set up the same way for every use: the client's commands, a question to a
// sentinel, a +switch-master subscriber. Internal to the client.
struct session {
  // tls is null for redis://; it must outlive the session.
  session(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls)
      : stream(executor, tls) {}

  // Connects (TLS for rediss://), then sends AUTH [user] password (when either is set) and
  // SELECT db (when not 0), or else PING, in one write and reads their replies; all before
  // deadline. Ready for commands when it returns nothing. Errors: errc::connection_refused,
  // timeout, tls_failed, connection_lost, auth_failed (AUTH refused, or NOAUTH), setup_failed
  // (SELECT refused), protocol_error; the detail holds the server's words, never the password.
  boost::asio::awaitable<std::optional<setup_error>> open(
      const url& server, const std::string& password,
      std::chrono::steady_clock::time_point deadline);

  // On a connection nobody else uses yet (set-up checks, a question to a sentinel): writes req
  // and reads its replies into `replies_out` (error replies included), all before deadline.
  // Errors: errc::timeout, connection_lost, protocol_error, with `what` in the detail.
  boost::asio::awaitable<std::optional<setup_error>> round_trip(
      const request& req, std::chrono::steady_clock::time_point deadline,
      std::vector<reply>& replies_out, const std::string& what);

  // Reads the next reply (a subscriber's next push) into `out`, before deadline
  // (time_point::max(): no deadline). Errors as round_trip's.
  boost::asio::awaitable<std::optional<setup_error>> next_reply(
      std::chrono::steady_clock::time_point deadline, reply& out, const std::string& what);

  transport stream;
  reply_reader replies;
  std::array<char, 16 * 1024> buffer{};
};

}  // namespace bridge::queue::redis
