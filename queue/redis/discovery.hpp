#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "queue/redis/sentinel.hpp"
#include "queue/redis/session.hpp"
#include "queue/redis/transport.hpp"
#include "queue/redis/url.hpp"

// Finding the primary through Redis Sentinel, and checking that the server found is one. Internal
// to the client: the run loop asks before every connection, and so after every loss.
namespace bridge::queue::redis {

// What the sentinels said.
struct discovery {
  std::optional<server_address> primary;  // set when a sentinel named one
  std::size_t answered_by = 0;            // the index of the sentinel that named it
  setup_error failure;  // when none did: errc::no_primary, and each sentinel's reason in words
};

// The URL of a sentinel: `where`, with primary's scheme (TLS applies to the sentinels too), the
// default user and database 0.
url sentinel_url(const url& primary, const server_address& where);

// The URL of the primary a sentinel named: `where`, with everything else (scheme, user, database)
// from `primary`.
url primary_url(const url& primary, const server_address& where);

// Asks the sentinels in turn, starting with sentinels.addresses[first], for the address of
// sentinels.master_name with SENTINEL GET-MASTER-ADDR-BY-NAME, each over a fresh connection set
// up like any other (TLS when tls is not null, AUTH with the sentinel password when set) and
// within `timeout`. The first address named wins. `current` holds the connection in use, so that
// the owner can close it to end the wait at once. Never throws beyond allocation.
boost::asio::awaitable<discovery> ask_sentinels(const boost::asio::any_io_executor& executor,
                                                boost::asio::ssl::context* tls, const url& primary,
                                                const sentinel_options& sentinels,
                                                std::size_t first,
                                                std::chrono::milliseconds timeout,
                                                std::unique_ptr<session>& current);

// Asks a freshly set-up connection for its ROLE, before deadline: nothing when it says "master";
// errc::no_primary when it is a replica (or anything else), or the error of the round trip.
boost::asio::awaitable<std::optional<setup_error>> check_primary(
    session& s, std::chrono::steady_clock::time_point deadline);

}  // namespace bridge::queue::redis
