#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "queue/redis/errc.hpp"
#include "queue/redis/reply.hpp"
#include "queue/redis/request.hpp"
#include "queue/redis/script.hpp"
#include "queue/redis/sentinel.hpp"
#include "queue/redis/url.hpp"

namespace bridge::queue::redis {

// How to reach the server and how long to wait for it (the redis: block of §8).
struct client_options {
  url server;  // host, port, db, user, TLS (parse_url); with sentinel, its host and
               // port are not used: the sentinels name the primary
  std::optional<sentinel_options> sentinel;  // find the primary through Redis Sentinel
  std::string password;                      // AUTH [user] password when not empty; never logged
  std::string tls_ca_file;  // rediss:// trusts this PEM file instead of the system store
  std::chrono::milliseconds timeout{2000};         // every round trip, and each connection set-up
  std::chrono::milliseconds reconnect_first{100};  // backoff after a failure, doubling ...
  std::chrono::milliseconds reconnect_cap{5000};   // ... up to this, with jitter
};

// What the client did since it was made, for /metrics. A round trip is one execute() (one or
// more commands), counted once by its outcome.
struct client_stats {
  std::uint64_t round_trips_ok = 0;                // answered, no error reply among the replies
  std::uint64_t round_trips_server_error = 0;      // answered, with at least one error reply
  std::uint64_t round_trips_timeout = 0;           // no answer within timeout
  std::uint64_t round_trips_connection_error = 0;  // failed by the link: not connected, lost,
                                                   // refused, TLS, auth, closed
  std::uint64_t latency_count = 0;                 // answered round trips ...
  std::chrono::microseconds latency_sum{0};        // ... and their summed time, submit to reply
  std::uint64_t connects = 0;                      // connections set up, the first included
  std::uint64_t reconnects = 0;                    // connections set up after the first
  std::uint64_t connect_failures = 0;              // attempts that did not get as far as ready
  std::uint64_t disconnects = 0;                   // ready connections lost or dropped
  std::uint64_t writes = 0;                        // socket writes of commands ...
  std::uint64_t commands_written = 0;              // ... and the commands in them (pipelining)
  bool connected = false;                          // a connection is ready now
  std::string endpoint;  // url::to_string() of the server, or the sentinels and master name
  std::string primary;   // "host:port" of the server the ready connection is to; empty when none
  std::uint64_t failovers = 0;       // times the primary moved to another address (Sentinel)
  std::uint64_t switch_notices = 0;  // +switch-master messages about our master
  std::chrono::milliseconds without_primary_total{0};  // time with no ready connection, since
                                                       // the client was made (now included)
  bool without_primary = true;                         // no ready connection now
};

// A Redis client: one connection, multiplexed. Concurrent callers' commands are written in order,
// those queued while a write is in flight go out together in the next write, and replies are
// matched first in, first out. Every round trip has a deadline (client_options::timeout); a server
// that misses it is taken for unhealthy: the connection is dropped (commands in flight fail with
// errc::connection_lost) and set up again with exponential backoff and jitter. Commands issued
// while a connection is being set up wait for it (within their own deadline); commands issued
// while backing off between attempts fail at once with errc::not_connected.
//
// On every connection: TCP (and TLS for rediss://, with SNI, peer and host name verification),
// then AUTH and SELECT (or PING), all within timeout; only then is it ready. RESP2 throughout.
//
// With client_options::sentinel, every connection (the first, and each after a loss) starts by
// asking the sentinels in turn for the primary (SENTINEL GET-MASTER-ADDR-BY-NAME; TLS as for the
// primary, AUTH with the sentinel password), then connects to the server named and checks that
// ROLE says master; otherwise the attempt fails (errc::no_primary) and is tried again with
// backoff. A READONLY error reply (the primary was demoted) and a +switch-master message (heard
// by a subscriber connection of its own, on one sentinel at a time) drop the connection and
// rediscover at once. Commands in flight then fail with errc::connection_lost, as for any loss.
// A command that may block on the server (BLPOP, WAIT) must block for less than the timeout, or
// it is taken for an unresponsive server. After errc::timeout or errc::connection_lost a command
// may or may not have run: make writes idempotent or check.
//
// Not thread-safe: call it, and await it, only on the executor given to make_client (the bridge
// runs one io_context on one thread). Failures on the data path are values, never exceptions
// (std::bad_alloc aside). Tests and fakes derive from it and implement the four virtuals.
class client {
 public:
  virtual ~client() = default;

  // Writes every command of req in one go and returns their replies in order, all within the
  // timeout. Error replies are values in the vector; the result's error is an errc (or
  // asio::error::operation_aborted when the awaiting coroutine was cancelled). An empty request
  // completes at once with no replies.
  virtual boost::asio::awaitable<boost::system::result<std::vector<reply>>> execute(
      request req) = 0;
  // True while a connection is ready (set up and not known to be lost).
  virtual bool connected() const noexcept = 0;
  // A snapshot of the counters.
  virtual client_stats stats() const = 0;
  // Fails every waiting command with errc::closed and stops reconnecting; every later command
  // fails with errc::closed. Idempotent; also done by the destructor.
  virtual void close() noexcept = 0;

  // One command (encoded before this returns: the arguments need not outlive the call); its reply,
  // an error reply included, or why there was none.
  boost::asio::awaitable<boost::system::result<reply>> command(
      std::initializer_list<std::string_view> args);
  boost::asio::awaitable<boost::system::result<reply>> command(
      std::span<const std::string_view> args);
  boost::asio::awaitable<boost::system::result<reply>> command(std::span<const std::string> args);
  // The same with the arguments in line: co_await redis.command("SET", key, value). Inside a
  // coroutine this is the form to use: GCC 12 rejects co_await redis.command({...}) ("array used
  // as initializer").
  template <class... Args>
  requires(sizeof...(Args) > 0 && (std::is_convertible_v<const Args&, std::string_view> && ...))
      boost::asio::awaitable<boost::system::result<reply>> command(const Args&... args) {
    const std::array<std::string_view, sizeof...(Args)> views{std::string_view(args)...};
    return command(std::span<const std::string_view>(views));  // encoded before views go
  }

  // Runs s by EVALSHA with its keys and arguments. On NOSCRIPT (a restarted or flushed server) it
  // sends SCRIPT LOAD and EVALSHA again in one round trip, once. Keys and arguments are encoded
  // before this returns.
  boost::asio::awaitable<boost::system::result<reply>> run_script(
      script s, std::initializer_list<std::string_view> keys,
      std::initializer_list<std::string_view> args);
  boost::asio::awaitable<boost::system::result<reply>> run_script(
      script s, std::span<const std::string> keys, std::span<const std::string> args);
  boost::asio::awaitable<boost::system::result<reply>> run_script(
      script s, std::span<const std::string_view> keys, std::span<const std::string_view> args);
};

// A client for options.server whose connection runs on `executor`; it starts connecting at once.
// Throws when the TLS context cannot be set up (an unreadable tls_ca_file, no system store): a
// start-up error.
std::shared_ptr<client> make_client(boost::asio::any_io_executor executor, client_options options);

}  // namespace bridge::queue::redis
