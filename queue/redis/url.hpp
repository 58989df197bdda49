#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace bridge::queue::redis {

// Where a Redis server is and how to talk to it, from redis.url (§8): never a password.
struct url {
  bool tls = false;  // rediss://
  std::string user;  // ACL user name; empty means the default user
  std::string host;  // name or address; an IPv6 address without its brackets
  std::uint16_t port = 6379;
  int db = 0;  // SELECTed after connecting when not 0

  // "redis[s]://[user@]host:port/db", IPv6 in brackets: for logs and metrics. Never throws
  // beyond allocation.
  std::string to_string() const;
};

// Why a URL was refused, in words that name the problem.
struct url_error {
  std::string message;
};

// Lets result<url, url_error>::value() throw: a std::invalid_argument with the message.
[[noreturn]] void throw_exception_from_error(const url_error& e, const boost::source_location& loc);

// Parses redis://[user@]host[:port][/db] or rediss://...; IPv6 as [::1]:6379. A password in the
// URL (user:password@), a query string, a fragment, a bad port or database is refused with a
// message saying which. Never throws beyond allocation.
boost::system::result<url, url_error> parse_url(std::string_view text);

}  // namespace bridge::queue::redis
